//! `config.toml`: loading, `${VAR}` substitution and validation.
//!
//! Every error names the file, the key (as a path such as
//! `feeds[1].targets[0]`) and, where TOML gives it, the line. Unknown keys
//! are errors. Loading never panics.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crier_bots::format::{
    DiscordImage, DiscordStyle, FeedRenderOptions, LinkPreview, Mode, TargetFormat,
};
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::dblocation::DbLocation;

mod http;
mod push;
pub use http::{HttpConfig, TelegramUpdates};
pub use push::{PushMode, Secret};

/// A configuration error, ready to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    /// The key path, e.g. `feeds[0].interval`; empty for file-level errors.
    pub key: String,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if !self.key.is_empty() {
            write!(f, ": {}", self.key)?;
        }
        // No credentials of a URL, no platform token, whatever the message.
        write!(f, ": {}", crate::redact::redact_text(&self.message))
    }
}

impl std::error::Error for ConfigError {}

/// Several errors found in one pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

// ------------------------------------------------------------ value types

/// A string with `${VAR}` replaced from the environment at load time.
/// `$${` is a literal `${`.
#[derive(Clone, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct EnvString(pub String);

impl fmt::Debug for EnvString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for EnvString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::ops::Deref for EnvString {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl Serialize for EnvString {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// Expand `${VAR}` from `lookup`. Errors name the first missing variable.
pub fn expand_env(raw: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos..];
        if let Some(lit) = after.strip_prefix("$${") {
            out.push_str("${");
            rest = lit;
        } else if let Some(body) = after.strip_prefix("${") {
            let end = body
                .find('}')
                .ok_or_else(|| format!("unterminated `${{` in {raw:?}"))?;
            let name = &body[..end];
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!(
                    "`${{{name}}}` is not a valid environment variable name"
                ));
            }
            match lookup(name) {
                Some(v) => out.push_str(&v),
                None => return Err(format!("environment variable `{name}` is not set")),
            }
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = &after[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

impl<'de> Deserialize<'de> for EnvString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        expand_env(&raw, |k| std::env::var(k).ok())
            .map(EnvString)
            .map_err(de::Error::custom)
    }
}

/// A duration written as `"90s"`, `"5m"`, `"1h 30m"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Dur(pub Duration);

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = EnvString::deserialize(d)?;
        humantime::parse_duration(s.trim()).map(Dur).map_err(|e| {
            de::Error::custom(format!(
                "invalid duration {:?} ({e}); write it like \"90s\", \"5m\" or \"1h 30m\"",
                s.0
            ))
        })
    }
}

impl Serialize for Dur {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(self.0).to_string())
    }
}

/// An absolute http(s) URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl(pub Url);

impl<'de> Deserialize<'de> for HttpUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Errors show the value as written in the file (before `${VAR}`).
        let raw = String::deserialize(d)?;
        let s = expand_env(&raw, |k| std::env::var(k).ok()).map_err(de::Error::custom)?;
        let url = Url::parse(s.trim()).map_err(|e| {
            de::Error::custom(format!(
                "invalid URL {:?}: {e}",
                crate::redact::redact_text(&raw)
            ))
        })?;
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(de::Error::custom(format!(
                "invalid URL {:?}: only http and https are supported",
                crate::redact::redact_text(&raw)
            )));
        }
        Ok(HttpUrl(url))
    }
}

impl Serialize for HttpUrl {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.as_str())
    }
}

/// A regular expression (the linear-time `regex` crate, with size limits so
/// that no pattern can hang the bot), compiled at load time.
#[derive(Debug, Clone)]
pub struct Pattern(pub regex::Regex);

/// Compiled-size limit for patterns from the config.
pub const PATTERN_SIZE_LIMIT: usize = 1 << 20;

impl Pattern {
    pub fn new(src: &str) -> Result<Pattern, String> {
        regex::RegexBuilder::new(src)
            .size_limit(PATTERN_SIZE_LIMIT)
            .dfa_size_limit(PATTERN_SIZE_LIMIT)
            .build()
            .map(Pattern)
            .map_err(|e| format!("invalid regular expression {src:?}: {e}"))
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Pattern) -> bool {
        self.0.as_str() == other.0.as_str()
    }
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = EnvString::deserialize(d)?;
        Pattern::new(&s).map_err(de::Error::custom)
    }
}

impl Serialize for Pattern {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.as_str())
    }
}

/// Which articles a route lets through. Every condition that is set must
/// hold; text matching is case-insensitive.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FilterConfig {
    /// Deliver only articles with at least one of these categories/tags.
    #[serde(default)]
    pub include_categories: Vec<EnvString>,
    /// Never deliver articles with any of these categories/tags.
    #[serde(default)]
    pub exclude_categories: Vec<EnvString>,
    /// Deliver only articles whose title, summary or author contains one of
    /// these words or phrases.
    #[serde(default)]
    pub include_keywords: Vec<EnvString>,
    /// Never deliver articles whose title, summary or author contains one
    /// of these words or phrases.
    #[serde(default)]
    pub exclude_keywords: Vec<EnvString>,
    /// Deliver only articles whose title, summary or author matches.
    #[serde(default)]
    pub include_regex: Option<Pattern>,
    /// Never deliver articles whose title, summary or author matches.
    #[serde(default)]
    pub exclude_regex: Option<Pattern>,
    /// Deliver only articles in these languages (`"en"` matches `en-US`).
    /// Articles whose language is unknown pass.
    #[serde(default)]
    pub languages: Vec<EnvString>,
}

impl FilterConfig {
    pub fn is_empty(&self) -> bool {
        self == &FilterConfig::default()
    }
}

/// A per-target filter of a feed.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// One of the feed's `targets`.
    pub target: EnvString,
    #[serde(flatten)]
    pub filter: FilterConfig,
}

/// A Telegram or Discord numeric id (user, role, chat, channel).
pub type Id = i64;

// --------------------------------------------------------------- sections

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// Path of the SQLite database, relative to the config file's folder
    /// (default `crier.db`).
    #[serde(default)]
    pub path: Option<EnvString>,
    /// A PostgreSQL database instead (`postgres://user:${PASSWORD}@host/db`).
    #[serde(default)]
    pub url: Option<EnvString>,
}

const DEFAULT_DB_PATH: &str = "crier.db";

impl StorageConfig {
    /// Where the delivery log is, or what is wrong with `[storage]`:
    /// `(key, message)`.
    pub fn location(&self, base_dir: &Path) -> Result<DbLocation, (&'static str, String)> {
        match (&self.path, &self.url) {
            (Some(_), Some(_)) => Err((
                "url",
                "set either `path` (SQLite) or `url` (PostgreSQL), not both".into(),
            )),
            (_, Some(url)) => {
                if !crate::dblocation::is_postgres_url(url) {
                    return Err((
                        "url",
                        "expected a postgres:// or postgresql:// URL (an SQLite file goes in `path`)"
                            .into(),
                    ));
                }
                DbLocation::parse(url, base_dir).map_err(|e| ("url", e))
            }
            (path, None) => {
                let p = path
                    .as_ref()
                    .map(|p| p.0.as_str())
                    .unwrap_or(DEFAULT_DB_PATH);
                if crate::dblocation::is_postgres_url(p) {
                    return Err(("path", "a PostgreSQL URL goes in `url`, not `path`".into()));
                }
                DbLocation::parse(p, base_dir).map_err(|e| ("path", e))
            }
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramConfig {
    /// Bot token (use `${TELEGRAM_TOKEN}`); required when a telegram target exists.
    #[serde(default, skip_serializing)]
    pub token: Option<EnvString>,
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
    pub alerts_chat: Option<EnvString>,
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

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DiscordConfig {
    /// Bot token (use `${DISCORD_TOKEN}`); required when a discord (bot) target exists.
    #[serde(default, skip_serializing)]
    pub token: Option<EnvString>,
    #[serde(default = "default_discord_api")]
    pub api_url: HttpUrl,
    #[serde(default)]
    pub application_id: Option<Id>,
    #[serde(default)]
    pub admins: Vec<Id>,
    #[serde(default)]
    pub editors: Vec<Id>,
    /// Role ids whose members are admins / editors.
    #[serde(default)]
    pub admin_roles: Vec<Id>,
    #[serde(default)]
    pub editor_roles: Vec<Id>,
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
    pub guild_id: Option<Id>,
    /// A channel id for alerts; default: each admin's direct messages.
    #[serde(default)]
    pub alerts_channel: Option<Id>,
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

/// The chat command layer.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct CommandsConfig {
    /// Let editors' URLs reach loopback, private and link-local addresses
    /// (off: the SSRF guard refuses them).
    pub allow_private_urls: bool,
    /// `ip:port` address literals the SSRF guard lets through although
    /// they are not public (narrower than `allow_private_urls`).
    pub allow_hosts: Vec<String>,
    /// Timezone of times in `/schedule` and in replies (IANA name).
    pub timezone: EnvString,
    /// Poll interval of feeds added with `/subscribe`.
    pub subscribe_interval: Dur,
    /// Audit entries older than this are pruned.
    pub audit_max_age: Dur,
    /// At most this many audit entries are kept (the newest).
    pub audit_max_rows: u32,
}

impl Default for CommandsConfig {
    fn default() -> Self {
        CommandsConfig {
            allow_private_urls: false,
            allow_hosts: Vec::new(),
            timezone: EnvString("UTC".into()),
            subscribe_interval: Dur(Duration::from_secs(600)),
            audit_max_age: Dur(Duration::from_secs(90 * 24 * 3600)),
            audit_max_rows: 10_000,
        }
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

/// What to do with a send whose outcome is unknown (a timeout after the
/// request left, a crash while sending) on targets that cannot de-duplicate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AmbiguousPolicy {
    /// Send again: never lose a post, at the risk of a duplicate (recorded).
    #[default]
    Resend,
    /// Assume it arrived: never duplicate, at the risk of a lost post (recorded).
    AssumeSent,
}

/// What a target does after a delivery failed for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OnFailure {
    /// Go on with the next articles.
    #[default]
    Continue,
    /// Hold the line until the failed delivery is retried (strict order).
    Hold,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeliveryConfig {
    /// Attempts before a delivery becomes `failed`.
    pub max_attempts: u32,
    /// First retry delay; doubled each attempt (with jitter).
    pub retry_base: Dur,
    /// Longest retry delay.
    pub retry_max: Dur,
    pub ambiguous: AmbiguousPolicy,
    /// Default for targets' `on_failure`.
    pub on_failure: OnFailure,
    /// How long a graceful shutdown waits for in-flight sends.
    pub shutdown_grace: Dur,
    /// How often an idle delivery worker looks at its queue for work
    /// another process queued (`crier retry`, `crier retract`).
    pub recheck: Dur,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            max_attempts: 8,
            retry_base: Dur(Duration::from_secs(5)),
            retry_max: Dur(Duration::from_secs(30 * 60)),
            ambiguous: AmbiguousPolicy::Resend,
            on_failure: OnFailure::Continue,
            shutdown_grace: Dur(Duration::from_secs(10)),
            recheck: Dur(Duration::from_secs(10)),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SourcesConfig {
    /// Default User-Agent for fetching feeds and pages.
    pub user_agent: EnvString,
    pub connect_timeout: Dur,
    pub timeout: Dur,
    /// Largest body accepted, in bytes.
    pub body_cap: u64,
    /// Concurrent requests to one host.
    pub per_host_concurrency: usize,
    /// Concurrent polls in total.
    pub concurrency: usize,
    /// Consecutive failures after which a feed is paused.
    pub pause_after_failures: u32,
    /// Shortest poll interval (a feed's `ttl` cannot push below it).
    pub min_interval: Dur,
    /// First retry delay of a failing feed; doubled per failure.
    pub backoff_base: Dur,
    /// Longest retry delay of a failing feed.
    pub backoff_max: Dur,
    /// Items read per feed document (the first ones: feeds list newest
    /// first); the rest are not parsed.
    pub max_items: usize,
    /// New articles queued per poll of one feed; more are recorded
    /// `skipped` (with the reason) and admins get one alert.
    pub max_new_per_poll: usize,
}

impl Default for SourcesConfig {
    fn default() -> Self {
        SourcesConfig {
            user_agent: EnvString(format!(
                "Crier/{} (+https://github.com/crier-bot/crier)",
                env!("CARGO_PKG_VERSION")
            )),
            connect_timeout: Dur(Duration::from_secs(10)),
            timeout: Dur(Duration::from_secs(30)),
            body_cap: 10 * 1024 * 1024,
            per_host_concurrency: 4,
            concurrency: 64,
            pause_after_failures: 10,
            min_interval: Dur(Duration::from_secs(1)),
            backoff_base: Dur(Duration::from_secs(5 * 60)),
            backoff_max: Dur(Duration::from_secs(24 * 3600)),
            max_items: 1_000,
            max_new_per_poll: 100,
        }
    }
}

/// How a feed is read (`kind = "auto" | "feed" | "wordpress"`): the
/// sources layer's own type, so the config needs no translation.
pub use crate::sources::FeedKind;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FeedConfig {
    pub name: EnvString,
    /// An http(s) URL, a `file://` URL, or a path relative to the config file.
    pub url: EnvString,
    #[serde(default = "default_interval")]
    pub interval: Dur,
    pub targets: Vec<EnvString>,
    #[serde(default)]
    pub kind: FeedKind,
    /// How many existing items to post when the feed is first seen (0: none).
    #[serde(default)]
    pub backfill: usize,
    #[serde(default)]
    pub user_agent: Option<EnvString>,
    #[serde(default)]
    pub headers: BTreeMap<String, EnvString>,
    /// Body cap override, in bytes.
    #[serde(default)]
    pub body_cap: Option<u64>,
    /// Extra CSS selectors dropped from this feed's articles.
    #[serde(default)]
    pub drop_selectors: Vec<EnvString>,
    /// Extra text patterns (regular expressions): paragraphs matching are dropped.
    #[serde(default)]
    pub drop_patterns: Vec<EnvString>,
    /// Discord embed colour, `"#RRGGBB"`.
    #[serde(default)]
    pub color: Option<EnvString>,
    /// CSS selector of the article body when the source hands whole pages.
    #[serde(default)]
    pub content_selector: Option<EnvString>,
    /// Apply the built-in boilerplate rules (share boxes, "Also read",
    /// subscribe prompts…). Default true.
    #[serde(default = "yes")]
    pub default_rules: bool,
    /// Filter for every target of this feed.
    #[serde(default)]
    pub filter: FilterConfig,
    /// Extra filters for single targets (combined with `filter`).
    #[serde(default)]
    pub routes: Vec<RouteConfig>,
    /// WebSub push: `"auto"` (when the feed names a hub and `[http]
    /// public_url` is set) or `"off"`.
    #[serde(default)]
    pub push: PushMode,
    /// While pushed, the feed is still polled this often.
    #[serde(default = "push::default_safety_interval")]
    pub push_safety_interval: Dur,
    /// The WordPress publish hook's secret (`/hooks/wordpress/<feed>/<secret>`).
    #[serde(default, skip_serializing)]
    pub wordpress_hook_secret: Option<Secret>,
}

fn yes() -> bool {
    true
}

fn default_interval() -> Dur {
    Dur(Duration::from_secs(600))
}

/// Where a target posts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    Telegram,
    Discord,
    DiscordWebhook,
    Console,
}

impl Platform {
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Telegram => "telegram",
            Platform::Discord => "discord",
            Platform::DiscordWebhook => "discord_webhook",
            Platform::Console => "console",
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TargetConfig {
    pub name: EnvString,
    pub platform: Platform,
    /// Telegram: chat id (`-100…`) or `@username`.
    #[serde(default)]
    pub chat: Option<EnvString>,
    /// Telegram: forum topic id.
    #[serde(default)]
    pub thread: Option<i64>,
    /// Discord: channel id.
    #[serde(default)]
    pub channel: Option<Id>,
    /// Discord webhook URL.
    #[serde(default, skip_serializing)]
    pub webhook_url: Option<HttpUrl>,
    /// Post without notification.
    #[serde(default)]
    pub silent: bool,
    /// Message template (see docs/config.md, "Templates").
    #[serde(default)]
    pub template: Option<EnvString>,
    /// Template of digest posts.
    #[serde(default)]
    pub digest_template: Option<EnvString>,
    /// Discord embed style: template of the message text above the embed.
    #[serde(default)]
    pub content_template: Option<EnvString>,
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
    pub timezone: Option<EnvString>,
    /// Add a "Read more" link button.
    #[serde(default)]
    pub read_more: Option<bool>,
    /// The button's label (default "Read more").
    #[serde(default)]
    pub read_more_label: Option<EnvString>,
    /// Telegram: send articles with an image as a photo with caption when
    /// they fit (default true).
    #[serde(default)]
    pub photo: Option<bool>,
    /// Telegram: `image` (large preview of the article image above the
    /// text; default), `article` (preview of the link), `none`.
    #[serde(default)]
    pub link_preview: Option<LinkPreview>,
    /// Telegram: protect the content from forwarding and saving.
    #[serde(default)]
    pub protect_content: bool,
    /// Discord: `embed` (default) or `plain` text.
    #[serde(default)]
    pub style: Option<DiscordStyle>,
    /// Discord: the article image `large` (default), as a `thumbnail`, or `none`.
    #[serde(default)]
    pub image: Option<DiscordImage>,
    /// Discord embed colour `"#RRGGBB"` (overrides the feed's).
    #[serde(default)]
    pub color: Option<EnvString>,
    /// Full mode and digests: at most this many messages per post (default 10).
    #[serde(default)]
    pub max_parts: Option<usize>,
    /// At most this many hashtags from the categories (default 5; 0: none).
    #[serde(default)]
    pub hashtags: Option<usize>,
    /// Discord: hide link previews of URLs in the message text.
    #[serde(default)]
    pub suppress_embeds: bool,
    /// Discord: a role id to ping with each post (the only mention ever
    /// allowed).
    #[serde(default)]
    pub ping_role: Option<Id>,
    /// Discord bot targets in announcement channels: publish (crosspost)
    /// each post to following servers.
    #[serde(default)]
    pub crosspost: bool,
    /// Discord webhook: the name shown as author.
    #[serde(default)]
    pub username: Option<EnvString>,
    /// Discord webhook: the avatar shown.
    #[serde(default)]
    pub avatar_url: Option<HttpUrl>,
    /// Discord webhook: post into this thread.
    #[serde(default)]
    pub thread_id: Option<Id>,
    /// Discord webhook to a forum channel: each post opens a thread named
    /// after the article title.
    #[serde(default)]
    pub forum: bool,
    /// Discord forum: tag ids applied to each new thread.
    #[serde(default)]
    pub applied_tags: Vec<Id>,
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

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub storage: StorageConfig,
    #[serde(default)]
    pub telegram: Option<TelegramConfig>,
    #[serde(default)]
    pub discord: Option<DiscordConfig>,
    #[serde(default)]
    pub delivery: DeliveryConfig,
    #[serde(default)]
    pub sources: SourcesConfig,
    #[serde(default)]
    pub commands: CommandsConfig,
    #[serde(default)]
    pub http: HttpConfig,
    #[serde(default)]
    pub feeds: Vec<FeedConfig>,
    #[serde(default)]
    pub targets: Vec<TargetConfig>,
    /// The folder relative paths are resolved against (the config file's).
    #[serde(skip)]
    pub base_dir: PathBuf,
    #[serde(skip)]
    pub file: PathBuf,
}

// --------------------------------------------------------------- loading

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Where a key path's value sits in the text (best effort, for semantic
/// errors that serde did not raise): the line of `key = ` inside the n-th
/// `[[section]]`.
/// Config errors echo values (a mistyped URL, an unknown platform name):
/// whatever follows `/webhooks/<id>/` or `/interactions/<id>/` anywhere
/// in the file is a token, hidden from every message however the message
/// quotes it (percent-encoded, cut, run into other text). Tokens of 8+
/// characters of the token alphabet; the scrub rules apply as well.
fn hide_webhook_tokens(text: &str, errors: &mut [ConfigError]) {
    let mut tokens: Vec<&str> = Vec::new();
    let lower = text.to_ascii_lowercase(); // same byte offsets
    for pat in ["/webhooks/", "/interactions/"] {
        for (at, _) in lower.match_indices(pat) {
            let rest = &text[at + pat.len()..];
            let Some((_, after_id)) = rest.split_once('/') else {
                continue;
            };
            let end = after_id
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                .unwrap_or(after_id.len());
            let token = &after_id[..end];
            if token.len() >= 8 && !tokens.contains(&token) {
                tokens.push(token);
            }
        }
    }
    // Longest first: a token that holds another is hidden whole.
    tokens.sort_by_key(|t| std::cmp::Reverse(t.len()));
    let hide = |s: &str| {
        let mut m = crier_bots::scrub::scrubbed(s);
        for t in &tokens {
            if m.contains(t) {
                m = m.replace(t, crier_bots::scrub::HIDDEN);
            }
        }
        m
    };
    for e in errors.iter_mut() {
        e.message = hide(&e.message);
        // A key path can hold one too (a key named after the token).
        e.key = hide(&e.key);
    }
}

fn locate(text: &str, section: &str, index: usize, key: &str) -> Option<usize> {
    let header = format!("[[{section}]]");
    let mut seen = 0usize;
    let mut inside = false;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.starts_with('[') {
            if line == header {
                inside = seen == index;
                seen += 1;
                if inside && key.is_empty() {
                    return Some(i + 1);
                }
            } else {
                inside = false;
            }
            continue;
        }
        if inside
            && !key.is_empty()
            && let Some(rest) = line.strip_prefix(key)
            && rest.trim_start().starts_with('=')
        {
            return Some(i + 1);
        }
    }
    None
}

/// The line of `key = ` inside the single `[table]` (best effort).
fn locate_key(text: &str, table: &str, key: &str) -> Option<usize> {
    let header = format!("[{table}]");
    let mut inside = false;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.starts_with('[') {
            inside = line == header;
            continue;
        }
        if inside
            && let Some(rest) = line.strip_prefix(key)
            && rest.trim_start().starts_with('=')
        {
            return Some(i + 1);
        }
    }
    None
}

impl Config {
    /// Read, parse and validate a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigErrors(vec![ConfigError {
                file: path.to_path_buf(),
                key: String::new(),
                line: None,
                message: format!("cannot read the file: {e}"),
            }])
        })?;
        Config::from_str(&text, path)
    }

    /// Parse and validate config text; `path` is used in messages and to
    /// resolve relative paths.
    pub fn from_str(text: &str, path: &Path) -> Result<Config, ConfigErrors> {
        Config::parse_text(text, path).map_err(|mut errs| {
            hide_webhook_tokens(text, &mut errs.0);
            errs
        })
    }

    fn parse_text(text: &str, path: &Path) -> Result<Config, ConfigErrors> {
        let err = |key: String, line: Option<usize>, message: String| ConfigError {
            file: path.to_path_buf(),
            key,
            line,
            message,
        };
        let de = toml::Deserializer::parse(text).map_err(|e| {
            ConfigErrors(vec![err(
                String::new(),
                e.span().map(|s| line_of(text, s.start)),
                e.message().trim().to_string(),
            )])
        })?;
        let mut cfg: Config = serde_path_to_error::deserialize(de).map_err(|e| {
            let key = e.path().to_string();
            let inner = e.into_inner();
            ConfigErrors(vec![err(
                if key == "." { String::new() } else { key },
                inner.span().map(|s| line_of(text, s.start)),
                inner.message().trim().to_string(),
            )])
        })?;
        cfg.file = path.to_path_buf();
        cfg.base_dir = path
            .parent()
            .map(Path::to_path_buf)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("."));
        let errors = cfg.validate(text);
        if errors.is_empty() {
            Ok(cfg)
        } else {
            Err(ConfigErrors(errors))
        }
    }

    fn validate(&self, text: &str) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        if let Err((key, message)) = self.storage.location(&self.base_dir) {
            errors.push(ConfigError {
                file: self.file.clone(),
                key: format!("storage.{key}"),
                line: locate_key(text, "storage", key),
                message,
            });
        }
        let webhook = self.telegram.as_ref().map(|t| t.updates) == Some(TelegramUpdates::Webhook);
        for (key, message) in self.http.errors(webhook) {
            errors.push(ConfigError {
                file: self.file.clone(),
                key,
                line: None,
                message,
            });
        }
        if self
            .commands
            .timezone
            .trim()
            .parse::<chrono_tz::Tz>()
            .is_err()
        {
            errors.push(ConfigError {
                file: self.file.clone(),
                key: "commands.timezone".into(),
                line: None,
                message: format!("unknown timezone {:?}", self.commands.timezone.0),
            });
        }

        let mut push = |section: &str, i: usize, key: &str, message: String| {
            let path = if key.is_empty() {
                format!("{section}[{i}]")
            } else {
                format!("{section}[{i}].{key}")
            };
            let bare = key.split('[').next().unwrap_or(key);
            errors.push(ConfigError {
                file: self.file.clone(),
                key: path,
                line: locate(text, section, i, bare).or_else(|| locate(text, section, i, "")),
                message,
            });
        };

        let listener = self.http.listen_addr().is_some();
        for (i, f) in self.feeds.iter().enumerate() {
            for (key, message) in f.push_errors(listener) {
                push("feeds", i, key, message);
            }
        }

        let mut target_names = HashSet::new();
        for (i, t) in self.targets.iter().enumerate() {
            if t.name.trim().is_empty() {
                push(
                    "targets",
                    i,
                    "name",
                    "a target needs a non-empty name".into(),
                );
            } else if !target_names.insert(t.name.0.clone()) {
                push(
                    "targets",
                    i,
                    "name",
                    format!("another target is already named {:?}", t.name.0),
                );
            }
            let needs: &[&str] = match t.platform {
                Platform::Telegram => &["chat"],
                Platform::Discord => &["channel"],
                Platform::DiscordWebhook => &["webhook_url"],
                Platform::Console => &[],
            };
            let has = |k: &str| match k {
                "chat" => t.chat.is_some(),
                "thread" => t.thread.is_some(),
                "channel" => t.channel.is_some(),
                "webhook_url" => t.webhook_url.is_some(),
                "photo" => t.photo.is_some(),
                "link_preview" => t.link_preview.is_some(),
                "protect_content" => t.protect_content,
                "style" => t.style.is_some(),
                "image" => t.image.is_some(),
                "content_template" => t.content_template.is_some(),
                "suppress_embeds" => t.suppress_embeds,
                "ping_role" => t.ping_role.is_some(),
                "crosspost" => t.crosspost,
                "username" => t.username.is_some(),
                "avatar_url" => t.avatar_url.is_some(),
                "thread_id" => t.thread_id.is_some(),
                "forum" => t.forum,
                "applied_tags" => !t.applied_tags.is_empty(),
                _ => false,
            };
            for k in needs {
                if !has(k) {
                    push(
                        "targets",
                        i,
                        "",
                        format!(
                            "target {:?} (platform {}) needs `{k}`",
                            t.name.0,
                            t.platform.as_str()
                        ),
                    );
                }
            }
            const DISCORD_LOOK: [&str; 5] = [
                "style",
                "image",
                "content_template",
                "suppress_embeds",
                "ping_role",
            ];
            let allowed: Vec<&str> = match t.platform {
                Platform::Telegram => {
                    vec!["chat", "thread", "photo", "link_preview", "protect_content"]
                }
                Platform::Discord => [&["channel", "crosspost"][..], &DISCORD_LOOK].concat(),
                Platform::DiscordWebhook => [
                    &[
                        "webhook_url",
                        "username",
                        "avatar_url",
                        "thread_id",
                        "forum",
                        "applied_tags",
                    ][..],
                    &DISCORD_LOOK,
                ]
                .concat(),
                // The console shows both platforms' views.
                Platform::Console => vec![
                    "photo",
                    "link_preview",
                    "style",
                    "image",
                    "content_template",
                ],
            };
            for k in [
                "chat",
                "thread",
                "channel",
                "webhook_url",
                "photo",
                "link_preview",
                "protect_content",
                "style",
                "image",
                "content_template",
                "suppress_embeds",
                "ping_role",
                "crosspost",
                "username",
                "avatar_url",
                "thread_id",
                "forum",
                "applied_tags",
            ] {
                if has(k) && !allowed.contains(&k) {
                    push(
                        "targets",
                        i,
                        k,
                        format!(
                            "`{k}` is not used by platform {} (target {:?})",
                            t.platform.as_str(),
                            t.name.0
                        ),
                    );
                }
            }
            if let Some(chat) = &t.chat {
                let c = chat.trim();
                let ok = c.parse::<i64>().is_ok()
                    || (c.starts_with('@')
                        && c.len() > 1
                        && c[1..]
                            .chars()
                            .all(|ch| ch.is_ascii_alphanumeric() || ch == '_'));
                if !ok {
                    push(
                        "targets",
                        i,
                        "chat",
                        format!("{:?} is neither a numeric chat id nor an @username", chat.0),
                    );
                }
            }
            if let Some(c) = &t.color
                && parse_color(c).is_none()
            {
                push(
                    "targets",
                    i,
                    "color",
                    format!("{:?} is not a colour like \"#1d9bf0\"", c.0),
                );
            }
            if let Some(u) = &t.webhook_url
                && let Err(e) = crier_bots::discord::rest::Webhook::parse(&u.0)
            {
                push(
                    "targets",
                    i,
                    "webhook_url",
                    format!("not a Discord webhook URL: {e}"),
                );
            }
            if t.thread_id.is_some() && t.forum {
                push(
                    "targets",
                    i,
                    "forum",
                    "`forum` opens a new thread per post; it cannot be combined with `thread_id`"
                        .into(),
                );
            }
            let fmt = self.target_format(t);
            let platforms: &[crier_bots::format::Platform] = match t.platform {
                Platform::Telegram => &[crier_bots::format::Platform::Telegram],
                Platform::Discord | Platform::DiscordWebhook => {
                    &[crier_bots::format::Platform::Discord]
                }
                Platform::Console => &[
                    crier_bots::format::Platform::Telegram,
                    crier_bots::format::Platform::Discord,
                ],
            };
            for p in platforms {
                if let Err(e) = fmt.check(*p) {
                    push("targets", i, "", format!("target {:?}: {e}", t.name.0));
                    break;
                }
            }
            if t.digest && t.max_posts_per_hour.is_none() {
                push(
                    "targets",
                    i,
                    "digest",
                    "`digest = true` needs `max_posts_per_hour` (the digest combines a burst beyond it)"
                        .into(),
                );
            }
            if t.max_posts_per_hour == Some(0) {
                push(
                    "targets",
                    i,
                    "max_posts_per_hour",
                    "must be at least 1".into(),
                );
            }
            match t.platform {
                Platform::Telegram if self.telegram_token().is_none() => push(
                    "targets",
                    i,
                    "platform",
                    format!(
                        "target {:?} posts to Telegram but [telegram] has no `token`",
                        t.name.0
                    ),
                ),
                Platform::Discord if self.discord_token().is_none() => push(
                    "targets",
                    i,
                    "platform",
                    format!(
                        "target {:?} posts to Discord as a bot but [discord] has no `token`",
                        t.name.0
                    ),
                ),
                _ => {}
            }
        }

        let mut feed_names = HashSet::new();
        let mut feed_urls: HashMap<String, usize> = HashMap::new();
        for (i, f) in self.feeds.iter().enumerate() {
            if f.name.trim().is_empty() {
                push("feeds", i, "name", "a feed needs a non-empty name".into());
            } else if !feed_names.insert(f.name.0.clone()) {
                push(
                    "feeds",
                    i,
                    "name",
                    format!("another feed is already named {:?}", f.name.0),
                );
            }
            match self.feed_location(f) {
                Err(e) => push("feeds", i, "url", e),
                Ok(url) => {
                    let id = crate::sources::feed_identity(&url);
                    if let Some(j) = feed_urls.get(&id) {
                        push(
                            "feeds",
                            i,
                            "url",
                            format!(
                                "the same feed as feeds[{j}].url: every article would be posted twice (one feed can list several targets)"
                            ),
                        );
                    } else {
                        feed_urls.insert(id, i);
                    }
                }
            }
            if f.interval.0 < self.sources.min_interval.0 {
                push(
                    "feeds",
                    i,
                    "interval",
                    format!(
                        "{} is shorter than the minimum poll interval ({})",
                        humantime::format_duration(f.interval.0),
                        humantime::format_duration(self.sources.min_interval.0)
                    ),
                );
            }
            if f.targets.is_empty() {
                push(
                    "feeds",
                    i,
                    "targets",
                    "a feed needs at least one target".into(),
                );
            }
            for (j, t) in f.targets.iter().enumerate() {
                if !self.targets.iter().any(|x| x.name == *t) {
                    let known: Vec<&str> = self.targets.iter().map(|x| x.name.0.as_str()).collect();
                    push(
                        "feeds",
                        i,
                        &format!("targets[{j}]"),
                        format!(
                            "no target named {:?} (targets: {})",
                            t.0,
                            if known.is_empty() {
                                "none defined".to_string()
                            } else {
                                known.join(", ")
                            }
                        ),
                    );
                }
            }
            if let Some(c) = &f.color
                && parse_color(c).is_none()
            {
                push(
                    "feeds",
                    i,
                    "color",
                    format!("{:?} is not a colour like \"#1d9bf0\"", c.0),
                );
            }
            for (j, p) in f.drop_patterns.iter().enumerate() {
                if let Err(e) = Pattern::new(p) {
                    push("feeds", i, &format!("drop_patterns[{j}]"), e);
                }
            }
            if let Err(e) = self.feed_render_options(f).check() {
                push("feeds", i, "", format!("feed {:?}: {e}", f.name.0));
            }
            for (j, r) in f.routes.iter().enumerate() {
                if !f.targets.iter().any(|t| t == &r.target) {
                    push(
                        "feeds",
                        i,
                        &format!("routes[{j}].target"),
                        format!(
                            "{:?} is not one of this feed's targets ({})",
                            r.target.0,
                            f.targets
                                .iter()
                                .map(|t| t.0.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    );
                }
            }
        }
        errors
    }

    pub fn telegram_token(&self) -> Option<&str> {
        self.telegram
            .as_ref()
            .and_then(|t| t.token.as_deref())
            .filter(|t| !t.trim().is_empty())
    }

    pub fn discord_token(&self) -> Option<&str> {
        self.discord
            .as_ref()
            .and_then(|t| t.token.as_deref())
            .filter(|t| !t.trim().is_empty())
    }

    /// A feed's URL: http(s) as given, `file://` as given, or a path
    /// resolved against the config file's folder.
    pub fn feed_location(&self, f: &FeedConfig) -> Result<Url, String> {
        resolve_location(&f.url, &self.base_dir)
    }

    /// Where the delivery log is (checked when the config was loaded).
    pub fn db_location(&self) -> DbLocation {
        self.storage
            .location(&self.base_dir)
            .unwrap_or_else(|_| DbLocation::Sqlite(self.base_dir.join(DEFAULT_DB_PATH)))
    }

    /// The SQLite database path, resolved against the config file's
    /// folder (the default path when the log is in PostgreSQL).
    pub fn db_path(&self) -> PathBuf {
        match self.db_location() {
            DbLocation::Sqlite(p) => p,
            DbLocation::Postgres(_) => self.base_dir.join(DEFAULT_DB_PATH),
        }
    }

    /// The formatter's settings for a target.
    pub fn target_format(&self, t: &TargetConfig) -> TargetFormat {
        let d = TargetFormat::default();
        TargetFormat {
            template: t.template.as_ref().map(|s| s.0.clone()),
            digest_template: t.digest_template.as_ref().map(|s| s.0.clone()),
            content_template: t.content_template.as_ref().map(|s| s.0.clone()),
            mode: t.mode.unwrap_or(d.mode),
            summary_length: t.summary_length.unwrap_or(d.summary_length),
            date_format: t
                .date_format
                .as_ref()
                .map(|s| s.0.clone())
                .unwrap_or(d.date_format),
            timezone: t
                .timezone
                .as_ref()
                .map(|s| s.0.clone())
                .unwrap_or(d.timezone),
            read_more: t.read_more.unwrap_or(d.read_more),
            read_more_label: t
                .read_more_label
                .as_ref()
                .map(|s| s.0.clone())
                .unwrap_or(d.read_more_label),
            photo: t.photo.unwrap_or(d.photo),
            link_preview: t.link_preview.unwrap_or(d.link_preview),
            discord_style: t.style.unwrap_or(d.discord_style),
            discord_image: t.image.unwrap_or(d.discord_image),
            color: t.color.as_deref().and_then(parse_color).or(d.color),
            max_parts: t.max_parts.unwrap_or(d.max_parts),
            hashtags: t.hashtags.unwrap_or(d.hashtags),
        }
    }

    /// The formatter's settings for a feed.
    pub fn feed_render_options(&self, f: &FeedConfig) -> FeedRenderOptions {
        FeedRenderOptions {
            drop_selectors: f.drop_selectors.iter().map(|s| s.0.clone()).collect(),
            drop_patterns: f.drop_patterns.iter().map(|s| s.0.clone()).collect(),
            color: f.color.as_deref().and_then(parse_color),
            content_selector: f.content_selector.as_ref().map(|s| s.0.clone()),
            default_rules: f.default_rules,
        }
    }

    pub fn target(&self, name: &str) -> Option<&TargetConfig> {
        self.targets.iter().find(|t| t.name.0 == name)
    }

    pub fn feed(&self, name: &str) -> Option<&FeedConfig> {
        self.feeds.iter().find(|f| f.name.0 == name)
    }
}

/// Resolve a feed location against a folder (the one resolver: see
/// `sources/location.rs`).
pub use crate::sources::resolve_location;

/// `"#1d9bf0"` or `"1d9bf0"` → 0x1d9bf0.
pub fn parse_color(s: &str) -> Option<u32> {
    let h = s.trim().trim_start_matches('#');
    if h.len() != 6 {
        return None;
    }
    u32::from_str_radix(h, 16).ok()
}

#[cfg(test)]
mod tests;
