//! `[[feeds]]`: what to watch, how often, where it goes, and which
//! articles each target gets (filters and routes).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::push::{self, PushMode};
use super::values::{Color, Dur, EnvString, Pattern, Secret};

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
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// One of the feed's `targets`.
    pub target: EnvString,
    #[serde(flatten)]
    pub filter: FilterConfig,
}

/// How a feed is read (`kind = "auto" | "feed" | "wordpress"`): the
/// sources layer's own type, so the config needs no translation.
pub use crate::sources::FeedKind;

#[derive(Debug, Clone, Deserialize)]
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
    pub color: Option<Color>,
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
    #[serde(default)]
    pub wordpress_hook_secret: Option<Secret>,
}

fn yes() -> bool {
    true
}

fn default_interval() -> Dur {
    Dur(Duration::from_secs(600))
}
