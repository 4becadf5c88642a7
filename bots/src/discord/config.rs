//! Discord's part of `config.toml`: the `[discord]` section and the keys
//! of `platform = "discord"` and `"discord_webhook"` targets.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer};

use crate::config::values::IntOrText;

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
