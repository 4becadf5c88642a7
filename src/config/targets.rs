//! `[[targets]]`: where posts go. A target is the keys every target has
//! ([`TargetCommon`]: name, look, pacing) plus the keys of its `platform`
//! kind, read by the platform that serves that kind (see
//! `crate::platforms`) into its own type and kept here type-erased. A key
//! of another kind is an error that names the kind it belongs to (see
//! `load.rs`).

use std::fmt;
use std::sync::Arc;

use crier_bots::format::Mode;
use crier_bots::platform::{DynPlatform, Spec};
use serde::Deserialize;

use super::sections::OnFailure;
use super::values::{Color, Dur, EnvString, Tz};

/// A configured target.
#[derive(Clone)]
pub struct TargetConfig {
    pub common: TargetCommon,
    /// The platform that serves its kind.
    pub platform: Arc<dyn DynPlatform>,
    /// The value of `platform` (`"discord_webhook"`): the label of its
    /// metrics.
    pub kind: &'static str,
    /// Its platform keys, as the platform's type.
    pub spec: Arc<dyn Spec>,
}

impl std::ops::Deref for TargetConfig {
    type Target = TargetCommon;
    fn deref(&self) -> &TargetCommon {
        &self.common
    }
}

impl fmt::Debug for TargetConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TargetConfig")
            .field("common", &self.common)
            .field("kind", &self.kind)
            .field("spec", &self.spec)
            .finish()
    }
}

impl TargetConfig {
    /// The platform keys as the platform's type.
    pub fn spec<T: 'static>(&self) -> Option<&T> {
        (*self.spec).as_any().downcast_ref::<T>()
    }

    /// Where it posts, for `crier check` (never a secret).
    pub fn address(&self) -> String {
        self.platform.address(&*self.spec)
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
