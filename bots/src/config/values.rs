//! Value types of config files, each parsed once, when read, with an
//! error an operator understands: `${VAR}` strings, durations, http(s)
//! URLs, secrets, timezones, colours. Platform modules build their own
//! (a Telegram chat, a Discord id) on these.

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
        let url = Url::parse(s.trim())
            .map_err(|e| de::Error::custom(format!("invalid URL {:?}: {e}", raw)))?;
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(de::Error::custom(format!(
                "invalid URL {:?}: only http and https are supported",
                raw
            )));
        }
        Ok(HttpUrl(url))
    }
}

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

/// An integer or a string (`${VAR}` expanded), as text: ids may be
/// written either way.
pub struct IntOrText(pub &'static str);

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
                super::read::did_you_mean(s.trim(), names)
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
