//! The platform sections `[telegram]` and `[discord]`: the bot's
//! credentials, API address, limits and command roles.

use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer};
use url::Url;

use super::http::TelegramUpdates;
use super::values::{DiscordId, Dur, HttpUrl, Id, Secret, TelegramChat};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramConfig {
    /// Bot token (use `${TELEGRAM_TOKEN}`); required when a telegram target exists.
    #[serde(default)]
    pub token: Option<Secret>,
    #[serde(default = "default_telegram_api")]
    pub api_url: HttpUrl,
    #[serde(default)]
    pub admins: Vec<Id>,
    #[serde(default)]
    pub editors: Vec<Id>,
    /// Minimum gap between two messages to one chat.
    #[serde(default = "default_tg_chat_gap")]
    pub per_chat_interval: Dur,
    /// Messages per minute to one group or channel.
    #[serde(default = "default_tg_group_rate")]
    pub group_messages_per_minute: u32,
    /// Messages per second for the whole bot.
    #[serde(default = "default_tg_global_rate")]
    pub messages_per_second: u32,
    /// Timeout of one Bot API request.
    #[serde(default = "default_request_timeout")]
    pub timeout: Dur,
    /// Answer commands (long polling `getUpdates`). Default: when `admins`
    /// or `editors` are set.
    #[serde(default)]
    pub commands: Option<bool>,
    /// Where alerts go (a chat id or `@channel`); default: each admin's
    /// private chat with the bot.
    #[serde(default)]
    pub alerts_chat: Option<TelegramChat>,
    /// How commands arrive: `"polling"` (getUpdates) or `"webhook"`.
    #[serde(default)]
    pub updates: TelegramUpdates,
}

impl TelegramConfig {
    pub fn commands_enabled(&self) -> bool {
        self.commands
            .unwrap_or(!self.admins.is_empty() || !self.editors.is_empty())
    }
}

fn default_tg_chat_gap() -> Dur {
    Dur(Duration::from_secs(1))
}

fn default_tg_group_rate() -> u32 {
    20
}

fn default_tg_global_rate() -> u32 {
    30
}

fn default_request_timeout() -> Dur {
    Dur(Duration::from_secs(30))
}

fn default_telegram_api() -> HttpUrl {
    HttpUrl(Url::parse("https://api.telegram.org").expect("static URL"))
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscordConfig {
    /// Bot token (use `${DISCORD_TOKEN}`); required when a discord (bot) target exists.
    #[serde(default)]
    pub token: Option<Secret>,
    #[serde(default = "default_discord_api")]
    pub api_url: HttpUrl,
    #[serde(default)]
    pub application_id: Option<DiscordId>,
    #[serde(default)]
    pub admins: Vec<DiscordId>,
    #[serde(default)]
    pub editors: Vec<DiscordId>,
    /// Role ids whose members are admins / editors.
    #[serde(default)]
    pub admin_roles: Vec<DiscordId>,
    #[serde(default)]
    pub editor_roles: Vec<DiscordId>,
    /// Requests per second as the bot, and apart through webhooks (no token:
    /// Discord limits those per IP); Discord's global limit is 50 for each.
    #[serde(
        default = "default_discord_global_rate",
        deserialize_with = "at_least_one"
    )]
    pub global_rate: u32,
    /// Invalid requests (401, 403, 429) within 10 minutes at which Crier
    /// stops sending to Discord until the window passes (Discord bans the
    /// IP at 10,000).
    #[serde(
        default = "default_discord_invalid_request_guard",
        deserialize_with = "at_least_one"
    )]
    pub invalid_request_guard: u32,
    /// Answer slash commands (gateway). Default: when admins or editors
    /// (users or roles) are set.
    #[serde(default)]
    pub commands: Option<bool>,
    /// Register the slash commands in this guild only (instant), instead
    /// of globally.
    #[serde(default)]
    pub guild_id: Option<DiscordId>,
    /// A channel id for alerts; default: each admin's direct messages.
    #[serde(default)]
    pub alerts_channel: Option<DiscordId>,
}

impl DiscordConfig {
    pub fn commands_enabled(&self) -> bool {
        self.commands.unwrap_or(
            !self.admins.is_empty()
                || !self.editors.is_empty()
                || !self.admin_roles.is_empty()
                || !self.editor_roles.is_empty(),
        )
    }
}

fn default_discord_api() -> HttpUrl {
    HttpUrl(Url::parse("https://discord.com/api").expect("static URL"))
}

fn default_discord_global_rate() -> u32 {
    50
}

fn default_discord_invalid_request_guard() -> u32 {
    1_000
}

fn at_least_one<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let n = u32::deserialize(d)?;
    if n == 0 {
        return Err(de::Error::custom("must be at least 1"));
    }
    Ok(n)
}
