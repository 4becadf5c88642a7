//! Telegram's part of `config.toml`: the `[telegram]` section and the
//! keys of `platform = "telegram"` targets.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer};

use crate::config::values::IntOrText;

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
