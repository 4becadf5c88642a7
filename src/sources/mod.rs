//! Sources: fetching and parsing feeds, WordPress REST and single pages,
//! and article identity.
//!
//! The core calls [`Fetcher::poll`] per feed with the [`FetchState`] it
//! stored after the previous poll (an opaque JSON blob), gets back either
//! [`PollOutcome::NotModified`] or the document's [`SourceItem`]s, each with
//! its identity keys and content hash, and stores the new state. Dedupe,
//! storage, baselines and routing are the core's.
//!
//! # What the core does with these types
//!
//! 1. Keep one [`Fetcher`] (it pools connections and limits requests per
//!    host) and, per feed, the [`FetchState`] blob (`serde_json`), starting
//!    from `FetchState::default()`.
//! 2. `poll(spec, &state)`:
//!    - `NotModified { state }`: store `state`; nothing else to do.
//!    - `Items { items, meta, state }`: call [`sort_oldest_first`], then per
//!      item look the article up by **any** of `item.keys`: unknown → new
//!      article (record every key); known with a different
//!      `content_hash` → an update, unless `meta.route_changed` (the feed
//!      switched between RSS and the WordPress API, whose hashes differ:
//!      refresh the stored hash silently); known and same hash → nothing
//!      (re-dated or re-ordered items land here). Also record keys the
//!      article did not have yet (a feed that starts sending GUIDs).
//!      Store the new `state` only together with (or after) the items, so
//!      that a crash cannot turn unrecorded articles into "not modified".
//!    - `Err(e)`: keep the old state; count consecutive failures; wait
//!      [`schedule::backoff_delay_for`]`(n, e.retry_after())`; pause the feed
//!      with `e.to_string()` as the reason when
//!      [`schedule::should_pause`]`(n, e.is_permanent())`.
//! 3. Next poll after [`schedule::next_poll_delay`]`(interval,
//!    state.ttl_hint(), floor, rng)`.
//!
//! Module map: [`parse_document`] (pure parsing), [`identity`] (keys and
//! hashes), [`fetch`] (HTTP/file fetching), [`poll`] (polling: feed or
//! REST API, discovery), [`wordpress`] (REST API), [`page`] (single
//! pages), [`schedule`] (intervals and backoff), [`inspect`] (what `crier
//! inspect` prints).

#![warn(missing_docs)]

mod cap;
pub mod dates;
pub mod encoding;
mod error;
mod extras;
pub mod fetch;
pub mod guard;
pub mod html;
pub mod identity;
pub mod inspect;
mod jsonfeed;
mod lenient;
mod location;
mod media;
pub mod page;
mod parse;
pub mod poll;
mod quirks;
pub mod schedule;
mod sniff;
pub mod text;
pub mod wordpress;

#[cfg(test)]
mod tests;

use std::time::Duration;

use crier_bots::Post;
use serde::{Deserialize, Serialize};
use url::Url;

pub use error::SourceError;
pub use fetch::{Fetcher, FetcherConfig};
pub use identity::{KeyType, content_hash, feed_identity, normalize_link};
pub use location::resolve_location;
pub use parse::{parse_document, parse_document_capped};
pub use poll::{FetchState, WpStatus};

/// Default cap of items read per document.
pub const DEFAULT_MAX_ITEMS: usize = 1_000;

/// Default body cap: 10 MiB.
pub const DEFAULT_BODY_CAP: u64 = 10 * 1024 * 1024;

/// How a feed is read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedKind {
    /// Read the URL as a feed; if it turns out to be a WordPress site (its
    /// `Link: <…>; rel="https://api.w.org/"` header, its HTML `<link
    /// rel="https://api.w.org/">`, or a WordPress feed generator), switch to
    /// the REST API. An HTML page that advertises a feed with `<link
    /// rel="alternate" type="application/rss+xml">` is followed to its feed.
    #[default]
    Auto,
    /// Read the URL as a feed, never the REST API.
    Feed,
    /// Read through the WordPress REST API (`/wp-json/wp/v2/posts?_embed`),
    /// falling back to the RSS feed when the API is disabled.
    #[serde(rename = "wordpress")]
    WordPress,
}

/// One configured source, as the core hands it over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedSpec {
    /// The feed's configured name; copied into [`Post::feed`].
    pub name: String,
    /// `http(s)://` URL, `file://` URL (use [`resolve_location`] to
    /// accept plain paths too).
    pub url: Url,
    /// How to read it.
    pub kind: FeedKind,
    /// User-Agent for this feed (default: the fetcher's).
    pub user_agent: Option<String>,
    /// Extra request headers for this feed.
    pub headers: Vec<(String, String)>,
    /// Maximum body size in bytes after content decoding; larger is an error.
    pub body_cap: u64,
    /// Fetch through the SSRF guard at every request, redirect and
    /// discovery step (feeds added from chat): public addresses only.
    pub guarded: bool,
}

impl FeedSpec {
    /// A spec with defaults: `Auto`, no extra headers, 10 MiB cap.
    pub fn new(name: impl Into<String>, url: Url) -> Self {
        FeedSpec {
            name: name.into(),
            url,
            kind: FeedKind::Auto,
            user_agent: None,
            headers: Vec::new(),
            body_cap: DEFAULT_BODY_CAP,
            guarded: false,
        }
    }
}

/// The syntax a document was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentFormat {
    /// RSS 0.90 / 0.91 / 0.92.
    Rss0,
    /// RSS 1.0 (RDF), also RSS 0.90.
    Rss1,
    /// RSS 2.0 (and versionless/0.93/0.94 RSS).
    Rss2,
    /// Atom 0.3 / 1.0.
    Atom,
    /// JSON Feed 1.0 / 1.1.
    JsonFeed,
    /// WordPress REST API (`wp/v2/posts?_embed`).
    WordPressApi,
}

/// Which route a poll took.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// A feed document (RSS/Atom/JSON Feed, HTTP or file).
    Feed,
    /// The WordPress REST API.
    WordPressApi,
}

/// Which reader produced a document's items (`crier inspect` shows it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reader {
    /// The strict parser (feed-rs), or the WordPress REST API reader.
    Strict,
    /// The lenient reader, after the strict parser gave up.
    Lenient,
    /// Single-page extraction (an HTML page, never a feed).
    Page,
}

impl Reader {
    /// `strict`, `lenient` or `page`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reader::Strict => "strict",
            Reader::Lenient => "lenient",
            Reader::Page => "page",
        }
    }
}

/// What a document says about itself.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FeedMeta {
    /// Syntax read.
    pub format: Option<DocumentFormat>,
    /// The feed's or site's title (plain text).
    pub title: Option<String>,
    /// The site's home link.
    pub link: Option<String>,
    /// The feed's language.
    pub language: Option<String>,
    /// `ttl` or `sy:updatePeriod`/`sy:updateFrequency` as an interval hint;
    /// feed it to [`schedule::next_poll_delay`].
    pub ttl_hint: Option<Duration>,
    /// The `<generator>`, if any.
    pub generator: Option<String>,
    /// The most common key type among the items.
    pub key_type: Option<KeyType>,
    /// Encoding the document was decoded from.
    pub encoding: String,
    /// The URL that was finally read (after redirects / discovery / REST).
    pub fetched_url: Option<String>,
    /// Route taken by this poll.
    pub via: Option<Via>,
    /// Which reader produced the items: the strict parser, the lenient
    /// reader (the strict one gave up on the document), or page extraction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reader: Option<Reader>,
    /// True when this poll took a different route than the previous one
    /// (feed ↔ REST API): content hashes of the two routes differ for the
    /// same article, so the core should refresh stored hashes without
    /// treating the differences as updates.
    pub route_changed: bool,
}

/// One article read from a source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceItem {
    /// Every identity key of this item that is unique within the document,
    /// most preferred first, prefixed by type: `guid:…`, `link:…`, `hash:…`.
    /// Stable across polls. The core matches an article by ANY key.
    pub keys: Vec<String>,
    /// The type of the first key.
    pub key_type: KeyType,
    /// Hash of title, summary, content and main image: a known article
    /// whose hash changed is an update (dates are not part of it).
    pub content_hash: String,
    /// The article.
    pub post: Post,
}

impl SourceItem {
    /// The preferred key (the first one).
    pub fn key(&self) -> &str {
        self.keys.first().map(String::as_str).unwrap_or("")
    }
}

/// A parsed document: its metadata and items in document order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ParsedDocument {
    /// What the document says about itself.
    pub meta: FeedMeta,
    /// Articles, in the document's order.
    pub items: Vec<SourceItem>,
}

/// What one poll produced.
#[derive(Debug, Clone, PartialEq)]
pub enum PollOutcome {
    /// 304, or a body byte-identical to the previous one: nothing parsed.
    NotModified {
        /// State to store for the next poll.
        state: FetchState,
    },
    /// The document's items, in document order (see [`sort_oldest_first`]).
    Items {
        /// Articles in document order.
        items: Vec<SourceItem>,
        /// What the document says about itself.
        meta: FeedMeta,
        /// State to store for the next poll.
        state: FetchState,
    },
}

impl PollOutcome {
    /// The state to store, whatever the outcome.
    pub fn state(&self) -> &FetchState {
        match self {
            PollOutcome::NotModified { state } | PollOutcome::Items { state, .. } => state,
        }
    }
}

/// Sorts items oldest first, for enqueueing in published order. When every
/// item has a date (published, else updated), by that date (ties keep
/// reversed document order); otherwise the document order reversed, as
/// feeds list newest first.
pub fn sort_oldest_first(items: &mut [SourceItem]) {
    items.reverse();
    if items
        .iter()
        .all(|i| i.post.published.or(i.post.updated).is_some())
    {
        items.sort_by_key(|i| i.post.published.or(i.post.updated));
    }
}

/// Copies the feed name into every post (parsers leave it empty).
pub(crate) fn set_feed_name(items: &mut [SourceItem], name: &str) {
    for item in items {
        item.post.feed = name.to_owned();
    }
}
