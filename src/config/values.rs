//! The core's own value types; the shared ones (`${VAR}` strings,
//! durations, URLs, secrets, timezones, colours) are
//! `crier_bots::config`'s, re-exported here.

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};

pub use crier_bots::config::values::{
    Color, Dur, EnvString, HttpUrl, Secret, Tz, expand_env, parse_color,
};

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
