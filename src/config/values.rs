//! The config's value types. Each parses once, at load time, and says
//! what is wrong in words an operator understands: `${VAR}` strings,
//! durations, http(s) URLs, regular expressions, secrets, Discord ids,
//! Telegram chats, timezones and colours.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};
use url::Url;

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

impl Serialize for EnvString {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
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

impl Serialize for Pattern {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.as_str())
    }
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = EnvString::deserialize(d)?;
        Pattern::new(&s).map_err(de::Error::custom)
    }
}

pub type Id = i64;

// --------------------------------------------------------------- sections

/// A secret from the config (a token, a webhook URL, a hook secret):
/// `Debug` and `Display` never show it.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(pub EnvString);

impl Secret {
    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<hidden>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<hidden>")
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

/// An integer or a string (`${VAR}` expanded), as text: ids may be
/// written either way.
struct IntOrText(&'static str);

impl de::Visitor<'_> for IntOrText {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<String, E> {
        Ok(n.to_string())
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<String, E> {
        Ok(n.to_string())
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<String, E> {
        expand_env(s, |k| std::env::var(k).ok()).map_err(E::custom)
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

/// An IANA timezone (`"Europe/Paris"`), checked at load time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tz(pub chrono_tz::Tz);

impl Default for Tz {
    fn default() -> Self {
        Tz(chrono_tz::UTC)
    }
}

impl<'de> Deserialize<'de> for Tz {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = EnvString::deserialize(d)?;
        s.trim().parse::<chrono_tz::Tz>().map(Tz).map_err(|_| {
            let names = chrono_tz::TZ_VARIANTS.iter().map(|t| t.name());
            de::Error::custom(format!(
                "unknown timezone {:?}{}",
                s.0,
                super::errors::did_you_mean(s.trim(), names)
            ))
        })
    }
}

/// A colour `"#RRGGBB"` (or `"RRGGBB"`), checked at load time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Color(pub u32);

impl<'de> Deserialize<'de> for Color {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = EnvString::deserialize(d)?;
        parse_color(&s)
            .map(Color)
            .ok_or_else(|| de::Error::custom(format!("{:?} is not a colour like \"#1d9bf0\"", s.0)))
    }
}

/// `"#1d9bf0"` or `"1d9bf0"` → 0x1d9bf0.
pub fn parse_color(s: &str) -> Option<u32> {
    let h = s.trim().trim_start_matches('#');
    if h.len() != 6 {
        return None;
    }
    u32::from_str_radix(h, 16).ok()
}
