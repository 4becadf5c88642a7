//! The common formatter: article HTML → sanitised rich text → per-platform
//! output within each platform's limits.
//!
//! (Spine stub: replaced by the full formatter.)

pub mod validate;

use serde::{Deserialize, Serialize};

/// Per-feed formatting settings (from the feed's config section).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FeedFormat {
    /// Extra CSS selectors whose elements are dropped from article bodies.
    #[serde(default)]
    pub drop_selectors: Vec<String>,
    /// Extra text patterns (regular expressions): blocks whose text matches are dropped.
    #[serde(default)]
    pub drop_patterns: Vec<String>,
    /// Discord embed colour for this feed (0xRRGGBB).
    #[serde(default)]
    pub color: Option<u32>,
}
