//! Telegram's part of `config.toml`: the `[telegram]` section and the
//! keys of `platform = "telegram"` targets.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer};
use url::Url;

use crate::config::values::{Dur, HttpUrl, IntOrText, Secret};
use crate::format::LinkPreview;

/// `[telegram]`: the bot's credentials, API address, limits and command
/// roles.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramConfig {
    /// Bot token (use `${TELEGRAM_TOKEN}`); required when a telegram target exists.
    #[serde(default)]
    pub token: Option<Secret>,
    #[serde(default = "default_telegram_api")]
    pub api_url: HttpUrl,
    /// User ids.
    #[serde(default)]
    pub admins: Vec<i64>,
    #[serde(default)]
    pub editors: Vec<i64>,
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
    /// `[telegram.telegraph]`: the Telegraph account long articles are
    /// published with (targets with `telegraph = true`).
    #[serde(default)]
    pub telegraph: TelegraphConfig,
}

/// `[telegram.telegraph]`: where the Telegraph API is and the account
/// Crier creates there (once; its token is kept in the database).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelegraphConfig {
    /// The Telegraph API (default `https://api.telegra.ph`).
    #[serde(default = "default_telegraph_api")]
    pub api_url: HttpUrl,
    /// The account's name (`createAccount` `short_name`, 1–32
    /// characters; default `"Crier"`).
    #[serde(default = "default_telegraph_short_name")]
    pub short_name: String,
    /// The pages' author line; default: the article's author, else the
    /// source's title.
    #[serde(default)]
    pub author_name: Option<String>,
}

impl Default for TelegraphConfig {
    fn default() -> Self {
        TelegraphConfig {
            api_url: default_telegraph_api(),
            short_name: default_telegraph_short_name(),
            author_name: None,
        }
    }
}

fn default_telegraph_api() -> HttpUrl {
    HttpUrl(Url::parse("https://api.telegra.ph").expect("static URL"))
}

fn default_telegraph_short_name() -> String {
    "Crier".into()
}

impl TelegramConfig {
    pub fn commands_enabled(&self) -> bool {
        self.commands
            .unwrap_or(!self.admins.is_empty() || !self.editors.is_empty())
    }

    /// The token, when set and not blank.
    pub fn token(&self) -> Option<&str> {
        self.token
            .as_ref()
            .map(Secret::expose)
            .filter(|t| !t.trim().is_empty())
    }
}

/// How the Telegram command front-end receives updates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TelegramUpdates {
    /// Long polling with `getUpdates`.
    #[default]
    Polling,
    /// Telegram POSTs updates to `[http] public_url` + a secret path.
    Webhook,
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

/// How a post looks on Telegram (the console shows this view too).
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramLook {
    /// Send articles with an image as a photo with caption when they fit
    /// (default true).
    #[serde(default)]
    pub photo: Option<bool>,
    /// `image` (large preview of the article image above the text;
    /// default), `article` (preview of the link), `none`.
    #[serde(default)]
    pub link_preview: Option<LinkPreview>,
    /// An article with 2 or more pictures is sent as a media group of up
    /// to 10 photos, the caption on the first (default false).
    #[serde(default)]
    pub gallery: Option<bool>,
    /// Full mode: an article too long for one message becomes a Telegraph
    /// page, posted as its summary with the page's link (Instant View);
    /// when Telegraph fails, the split messages (default false).
    #[serde(default)]
    pub telegraph: Option<bool>,
}

/// `platform = "telegram"`: where and how a target posts.
#[derive(Debug, Clone)]
pub struct TelegramTargetConfig {
    pub chat: TelegramChat,
    /// A forum topic (message thread) id.
    pub thread: Option<i32>,
    /// Protect the content from forwarding and saving.
    pub protect_content: bool,
    pub look: TelegramLook,
}

/// The target keys apart from the look (read on their own).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TelegramPlace {
    pub chat: TelegramChat,
    #[serde(default, deserialize_with = "topic_id")]
    pub thread: Option<i32>,
    #[serde(default)]
    pub protect_content: bool,
}

/// A Telegram forum topic id: a positive 32-bit number.
fn topic_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i32>, D::Error> {
    let n = i64::deserialize(d)?;
    match i32::try_from(n) {
        Ok(t) if t > 0 => Ok(Some(t)),
        _ => Err(de::Error::custom(format!(
            "{n} is not a forum topic id (a positive number: the id in the topic's t.me/c/…/<id> link)"
        ))),
    }
}

/// A Telegram chat: a numeric id (`-100…` for channels and supergroups)
/// or a public `@username`, written as an integer, a string, `@name` or
/// a `t.me` link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TelegramChat {
    Id(i64),
    Username(String),
}

impl TelegramChat {
    /// What the Bot API takes as `chat_id`.
    pub fn as_api(&self) -> String {
        match self {
            TelegramChat::Id(n) => n.to_string(),
            TelegramChat::Username(u) => format!("@{u}"),
        }
    }

    /// A warning for an id that is probably a channel's without its
    /// `-100` prefix (a positive id is one user's private chat).
    pub fn warning(&self) -> Option<String> {
        match self {
            TelegramChat::Id(n) if *n > 0 => Some(format!(
                "{n} is one user's private chat; a channel or supergroup id starts with -100 (did you mean -100{n}?)"
            )),
            _ => None,
        }
    }
}

impl fmt::Display for TelegramChat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_api())
    }
}

fn is_username(u: &str) -> bool {
    // Telegram: 5–32 characters, letters, digits and underscores; the
    // lower bound is not checked (old and bot usernames are shorter).
    !u.is_empty() && u.len() <= 32 && u.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl std::str::FromStr for TelegramChat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        if let Ok(n) = t.parse::<i64>() {
            return if n == 0 {
                Err("0 is not a Telegram chat id".into())
            } else {
                Ok(TelegramChat::Id(n))
            };
        }
        if let Some(u) = t.strip_prefix('@')
            && is_username(u)
        {
            return Ok(TelegramChat::Username(u.to_string()));
        }
        // https://t.me/name, t.me/name, telegram.me/name (a public link).
        let link = t
            .trim_start_matches("https://")
            .trim_start_matches("http://");
        for host in ["t.me/", "telegram.me/", "www.t.me/"] {
            if let Some(rest) = link.strip_prefix(host) {
                let u = rest.trim_end_matches('/');
                if is_username(u) {
                    return Ok(TelegramChat::Username(u.to_string()));
                }
                return Err(format!(
                    "{s:?} is not a public channel link (an invite link cannot be posted to: use the chat's numeric id)"
                ));
            }
        }
        Err(format!(
            "{s:?} is neither a numeric chat id nor an @username (or a t.me/name link)"
        ))
    }
}

impl<'de> Deserialize<'de> for TelegramChat {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text =
            d.deserialize_any(IntOrText("a chat: a number, \"@username\" or a t.me link"))?;
        text.parse().map_err(de::Error::custom)
    }
}
