//! Per-feed push settings: WebSub (`push`, `push_safety_interval`) and the
//! WordPress publish hook (`wordpress_hook_secret`). See `src/websub/`.

use std::time::Duration;

use serde::Deserialize;

use super::feeds::FeedConfig;
use super::values::Dur;
use super::values::Secret;

/// Whether a feed is pushed by its WebSub hub.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PushMode {
    /// Subscribe when the feed names a hub and `[http] public_url` is set.
    #[default]
    Auto,
    /// Poll only.
    Off,
}

/// The shortest hook secret accepted.
pub const MIN_HOOK_SECRET: usize = 16;

pub(super) fn default_safety_interval() -> Dur {
    Dur(Duration::from_secs(3600))
}

impl FeedConfig {
    /// The WordPress hook secret, when set and not blank.
    pub fn hook_secret(&self) -> Option<&str> {
        self.wordpress_hook_secret
            .as_ref()
            .map(Secret::expose)
            .filter(|s| !s.trim().is_empty())
    }

    /// Semantic errors of the push keys as `(key, message)`.
    pub(super) fn push_errors(&self, listener: bool) -> Vec<(&'static str, String)> {
        let mut e = Vec::new();
        if let Some(s) = self.hook_secret() {
            if s.trim().chars().count() < MIN_HOOK_SECRET {
                e.push((
                    "wordpress_hook_secret",
                    format!("the secret is too short: use at least {MIN_HOOK_SECRET} characters (it is part of the hook's URL)"),
                ));
            }
            if !s
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.~".contains(c))
            {
                e.push((
                    "wordpress_hook_secret",
                    "use letters, digits and - _ . ~ only (it is part of the hook's URL)".into(),
                ));
            }
            if !listener {
                e.push((
                    "wordpress_hook_secret",
                    "the WordPress hook needs the listener: set [http] listen".into(),
                ));
            }
        }
        if self.push_safety_interval.0 < Duration::from_secs(1) {
            e.push(("push_safety_interval", "must be at least 1s".into()));
        }
        e
    }
}
