//! `[[targets]]`: where posts go. A target is the keys every target has
//! ([`TargetCommon`]: name, look, pacing) plus the keys of its platform
//! ([`TargetKind`], chosen by `platform`). Each part is its own struct
//! with `deny_unknown_fields`, so a key of another platform is an error
//! that names the platform it belongs to (see `load.rs`).

use std::fmt;

use crier_bots::format::{DiscordImage, DiscordStyle, LinkPreview, Mode};
use serde::Deserialize;
use serde::de::{self, Deserializer};
use url::Url;

use super::sections::OnFailure;
use super::values::{Color, DiscordId, Dur, EnvString, HttpUrl, TelegramChat, Tz};

/// Where a target posts (the value of `platform`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    Telegram,
    Discord,
    DiscordWebhook,
    Console,
}

impl Platform {
    pub const ALL: [Platform; 4] = [
        Platform::Telegram,
        Platform::Discord,
        Platform::DiscordWebhook,
        Platform::Console,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Telegram => "telegram",
            Platform::Discord => "discord",
            Platform::DiscordWebhook => "discord_webhook",
            Platform::Console => "console",
        }
    }

    pub fn parse(s: &str) -> Option<Platform> {
        Platform::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A configured target.
#[derive(Debug, Clone)]
pub struct TargetConfig {
    pub common: TargetCommon,
    pub kind: TargetKind,
}

impl std::ops::Deref for TargetConfig {
    type Target = TargetCommon;
    fn deref(&self) -> &TargetCommon {
        &self.common
    }
}

impl TargetConfig {
    pub fn platform(&self) -> Platform {
        match &self.kind {
            TargetKind::Telegram(_) => Platform::Telegram,
            TargetKind::Discord(_) => Platform::Discord,
            TargetKind::DiscordWebhook(_) => Platform::DiscordWebhook,
            TargetKind::Console(_) => Platform::Console,
        }
    }

    /// The Telegram look keys (the console shows the Telegram view too).
    pub fn telegram_look(&self) -> TelegramLook {
        match &self.kind {
            TargetKind::Telegram(t) => t.look,
            TargetKind::Console(c) => c.telegram,
            _ => TelegramLook::default(),
        }
    }

    /// The Discord look keys (the console shows the Discord view too).
    pub fn discord_look(&self) -> Option<&DiscordLook> {
        match &self.kind {
            TargetKind::Discord(d) => Some(&d.look),
            TargetKind::DiscordWebhook(w) => Some(&w.look),
            TargetKind::Console(c) => Some(&c.discord),
            TargetKind::Telegram(_) => None,
        }
    }
}

/// The keys every target has.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetCommon {
    pub name: EnvString,
    /// Post without notification.
    #[serde(default)]
    pub silent: bool,
    /// Message template (see docs/config.md, "Templates").
    #[serde(default)]
    pub template: Option<EnvString>,
    /// Template of digest posts.
    #[serde(default)]
    pub digest_template: Option<EnvString>,
    /// `summary` (default) or `full` text, split into several messages.
    #[serde(default)]
    pub mode: Option<Mode>,
    /// Length of the summary, in characters (default 500).
    #[serde(default)]
    pub summary_length: Option<usize>,
    /// `strftime` format of dates (default `"%Y-%m-%d %H:%M %Z"`).
    #[serde(default)]
    pub date_format: Option<EnvString>,
    /// IANA timezone of dates (default `"UTC"`).
    #[serde(default)]
    pub timezone: Option<Tz>,
    /// Add a "Read more" link button.
    #[serde(default)]
    pub read_more: Option<bool>,
    /// The button's label (default "Read more").
    #[serde(default)]
    pub read_more_label: Option<EnvString>,
    /// Discord embed colour `"#RRGGBB"` (overrides the feed's).
    #[serde(default)]
    pub color: Option<Color>,
    /// Full mode and digests: at most this many messages per post (default 10).
    #[serde(default)]
    pub max_parts: Option<usize>,
    /// At most this many hashtags from the categories (default 5; 0: none).
    #[serde(default)]
    pub hashtags: Option<usize>,
    /// Override of `[delivery] on_failure`.
    #[serde(default)]
    pub on_failure: Option<OnFailure>,
    /// At most this many posts per hour; a burst beyond it waits (or is
    /// combined into a digest with `digest = true`).
    #[serde(default)]
    pub max_posts_per_hour: Option<u32>,
    /// At least this long between two posts.
    #[serde(default)]
    pub min_gap: Option<Dur>,
    /// Combine the articles of a burst beyond `max_posts_per_hour` into
    /// one digest post (titles with links).
    #[serde(default)]
    pub digest: bool,
}

/// The keys of each platform.
#[derive(Debug, Clone)]
pub enum TargetKind {
    Telegram(TelegramTarget),
    Discord(DiscordBotTarget),
    DiscordWebhook(Box<DiscordWebhookTarget>),
    Console(ConsoleTarget),
}

/// How a post looks on Telegram.
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
}

/// How a post looks on Discord.
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
}

/// `platform = "telegram"`.
#[derive(Debug, Clone)]
pub struct TelegramTarget {
    pub chat: TelegramChat,
    /// A forum topic (message thread) id.
    pub thread: Option<i32>,
    /// Protect the content from forwarding and saving.
    pub protect_content: bool,
    pub look: TelegramLook,
}

/// The Telegram keys apart from the look (deserialized on their own).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TelegramPlace {
    pub chat: TelegramChat,
    #[serde(default, deserialize_with = "topic_id")]
    pub thread: Option<i32>,
    #[serde(default)]
    pub protect_content: bool,
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

/// `platform = "discord"` (a bot posting to a channel).
#[derive(Debug, Clone)]
pub struct DiscordBotTarget {
    pub place: DiscordChannel,
    pub posting: DiscordPosting,
    pub look: DiscordLook,
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

/// `platform = "discord_webhook"`.
#[derive(Debug, Clone)]
pub struct DiscordWebhookTarget {
    pub place: DiscordWebhook,
    pub posting: DiscordPosting,
    pub look: DiscordLook,
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

/// `platform = "console"`: shows both platforms' views.
#[derive(Debug, Clone, Default)]
pub struct ConsoleTarget {
    pub telegram: TelegramLook,
    pub discord: DiscordLook,
}

/// A Discord webhook URL, checked to be one at load time. Its token is a
/// secret: `Debug` shows the webhook id only.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookUrl(pub Url);

impl fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match crier_bots::discord::rest::Webhook::parse(&self.0) {
            Ok(w) => write!(f, "{w:?}"),
            Err(_) => f.write_str("<webhook>"),
        }
    }
}

impl<'de> Deserialize<'de> for WebhookUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let url = HttpUrl::deserialize(d)?.0;
        crier_bots::discord::rest::Webhook::parse(&url)
            .map_err(|e| de::Error::custom(format!("not a Discord webhook URL: {e}")))?;
        Ok(WebhookUrl(url))
    }
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
