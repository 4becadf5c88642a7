//! Discord's part of `config.toml`: the `[discord]` section and the keys
//! of `platform = "discord"` and `"discord_webhook"` targets.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer};
use url::Url;

use crate::config::values::{EnvString, HttpUrl, IntOrText, Secret};
use crate::format::{DiscordImage, DiscordStyle};

/// `[discord]`: the bot's credentials, API address, limits and command
/// roles.
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

    /// The token, when set and not blank.
    pub fn token(&self) -> Option<&str> {
        self.token
            .as_ref()
            .map(Secret::expose)
            .filter(|t| !t.trim().is_empty())
    }
}

pub(crate) fn default_discord_api() -> HttpUrl {
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

/// How a post looks on Discord (the console shows this view too).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscordLook {
    /// `embed` (default) or `plain` text.
    #[serde(default)]
    pub style: Option<DiscordStyle>,
    /// The article image `large` (default), as a `thumbnail`, or `none`.
    #[serde(default)]
    pub image: Option<DiscordImage>,
    /// Embed style: template of the message text above the embed.
    #[serde(default)]
    pub content_template: Option<EnvString>,
    /// Embed style with the large image: an article with 2 or more
    /// pictures shows up to 4 as a gallery.
    #[serde(default)]
    pub gallery: Option<bool>,
}

/// Keys Discord bot and webhook targets share.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscordPosting {
    /// Hide link previews of URLs in the message text.
    #[serde(default)]
    pub suppress_embeds: bool,
    /// A role to ping with each post (the only mention ever allowed).
    #[serde(default)]
    pub ping_role: Option<DiscordId>,
}

/// The keys of a Discord target: a bot channel or a webhook.
#[derive(Debug, Clone)]
pub struct DiscordTargetConfig {
    pub place: DiscordPlace,
    pub posting: DiscordPosting,
    pub look: DiscordLook,
}

/// Where a Discord target posts.
#[derive(Debug, Clone)]
pub enum DiscordPlace {
    /// `platform = "discord"`: a bot posting to a channel.
    Channel(DiscordChannel),
    /// `platform = "discord_webhook"`.
    Webhook(Box<DiscordWebhook>),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscordChannel {
    pub channel: DiscordId,
    /// In announcement channels: publish (crosspost) each post to
    /// following servers.
    #[serde(default)]
    pub crosspost: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscordWebhook {
    pub webhook_url: WebhookUrl,
    /// The name shown as author.
    #[serde(default)]
    pub username: Option<EnvString>,
    /// The avatar shown.
    #[serde(default)]
    pub avatar_url: Option<HttpUrl>,
    /// Post into this thread.
    #[serde(default)]
    pub thread_id: Option<DiscordId>,
    /// To a forum channel: each post opens a thread named after the
    /// article title.
    #[serde(default)]
    pub forum: bool,
    /// Forum: tag ids applied to each new thread.
    #[serde(default)]
    pub applied_tags: Vec<DiscordId>,
}

/// A Discord webhook URL, checked to be one at load time. Its token is a
/// secret: `Debug` shows the webhook id only.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookUrl(pub Url);

impl fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match super::rest::Webhook::parse(&self.0) {
            Ok(w) => write!(f, "{w:?}"),
            Err(_) => f.write_str("<webhook>"),
        }
    }
}

impl<'de> Deserialize<'de> for WebhookUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let url = HttpUrl::deserialize(d)?.0;
        super::rest::Webhook::parse(&url)
            .map_err(|e| de::Error::custom(format!("not a Discord webhook URL: {e}")))?;
        Ok(WebhookUrl(url))
    }
}

/// A Discord id (a snowflake: user, role, channel, guild, tag), written as
/// an integer or as a string of digits (what Discord's "Copy ID" gives).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DiscordId(pub u64);

impl DiscordId {
    pub fn get(self) -> u64 {
        self.0
    }

    /// As the signed integer the platform-neutral command layer uses
    /// (snowflakes stay below 2^63 until the year 2084).
    pub fn as_i64(self) -> i64 {
        i64::try_from(self.0).unwrap_or(i64::MAX)
    }
}

impl fmt::Display for DiscordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::str::FromStr for DiscordId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        match t.parse::<u64>() {
            Ok(n) if n > 0 => Ok(DiscordId(n)),
            _ => Err(format!(
                "{s:?} is not a Discord id (a positive number such as \"1234567890123456789\"; in Discord: Developer Mode, then right-click → Copy ID)"
            )),
        }
    }
}

impl<'de> Deserialize<'de> for DiscordId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = d.deserialize_any(IntOrText("a Discord id: a number or a string of digits"))?;
        text.parse().map_err(de::Error::custom)
    }
}
