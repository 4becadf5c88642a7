//! Poll orchestration on top of the transport (`fetch.rs`): the state kept
//! between polls, conditional GET and body hashes, the choice between a
//! feed and the WordPress REST API (detection, fallback, recheck), feed
//! discovery from an HTML page, and `fetch_document` for `inspect`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use url::Url;

use super::fetch::{FEED_ACCEPT, Fetcher, JSON_ACCEPT, RawResponse, Validators};
use super::wordpress;
use super::{
    FeedKind, FeedSpec, KeyType, ParsedDocument, PollOutcome, SourceError, Via,
    parse_document_capped, set_feed_name,
};

/// What is known of a site's WordPress REST API.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WpStatus {
    /// Not known (not a WordPress site as far as seen, or never checked).
    #[default]
    Unknown,
    /// The API answered with posts: it is the route used.
    Available,
    /// The API is disabled or failed: the RSS feed is used until
    /// [`super::FetcherConfig::wordpress_recheck`] has passed.
    Unavailable,
}

/// Everything remembered between polls of one feed. The core stores it as
/// an opaque JSON blob and hands it back; unknown/missing fields default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FetchState {
    /// Validators of the last document fetched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validators: Option<Validators>,
    /// What is known of the WordPress REST API.
    pub wordpress: WpStatus,
    /// WordPress API root (`https://site/wp-json/`), detected or derived.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wp_api_root: Option<String>,
    /// When the API was last found unavailable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wp_checked_at: Option<DateTime<Utc>>,
    /// A feed URL discovered from the HTML page the feed URL pointed at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discovered_feed: Option<String>,
    /// The most common key type of the feed's items at the last parse.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_type: Option<KeyType>,
    /// The feed's `ttl`/`sy:updatePeriod` hint, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl_hint_secs: Option<u64>,
    /// Route of the last successful poll.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<Via>,
    /// The feed's title, kept for REST posts (which lack it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The feed's language, kept for REST posts (which lack it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

impl FetchState {
    /// The ttl hint as a duration.
    pub fn ttl_hint(&self) -> Option<Duration> {
        self.ttl_hint_secs.map(Duration::from_secs)
    }

    pub(super) fn validators_for(&self, url: &Url) -> Option<&Validators> {
        self.validators.as_ref().filter(|v| v.url == url.as_str())
    }
}

impl Fetcher {
    /// Polls one feed: fetches it (conditionally), parses it, and returns
    /// its items or `NotModified`, with the state to store. Errors are per
    /// feed and one line; `state` is not changed on error (the core keeps
    /// the old one).
    pub async fn poll(
        &self,
        spec: &FeedSpec,
        state: &FetchState,
    ) -> Result<PollOutcome, SourceError> {
        let mut st = state.clone();
        let previous_via = state.via;
        let result = match spec.kind {
            FeedKind::Feed => self.poll_feed(spec, &mut st, false).await,
            FeedKind::Auto => {
                if st.wordpress == WpStatus::Available && st.wp_api_root.is_some() {
                    self.poll_wordpress_or_fallback(spec, &mut st).await
                } else {
                    self.poll_feed(spec, &mut st, true).await
                }
            }
            FeedKind::WordPress => {
                if st.wp_api_root.is_none() {
                    st.wp_api_root = Some(wordpress::derive_api_root(&spec.url).to_string());
                }
                self.poll_wordpress_or_fallback(spec, &mut st).await
            }
        };
        let mut outcome = result?;
        if let PollOutcome::Items { items, meta, state } = &mut outcome {
            set_feed_name(items, &spec.name);
            meta.route_changed = previous_via.is_some() && previous_via != meta.via;
            state.via = meta.via;
            if meta.key_type.is_some() {
                state.key_type = meta.key_type;
            }
            if meta.format != Some(super::DocumentFormat::WordPressApi) {
                state.ttl_hint_secs = meta.ttl_hint.map(|d| d.as_secs());
                if meta.title.is_some() {
                    state.title = meta.title.clone();
                }
                if meta.language.is_some() {
                    state.language = meta.language.clone();
                }
            }
        }
        Ok(outcome)
    }

    fn wp_recheck_due(&self, st: &FetchState) -> bool {
        match st.wordpress {
            WpStatus::Unavailable => st.wp_checked_at.is_none_or(|at| {
                (Utc::now() - at).to_std().unwrap_or_default() >= self.config().wordpress_recheck
            }),
            _ => true,
        }
    }

    /// Reads the feed URL (or the feed discovered from it). With
    /// `detect`, a WordPress site switches to the REST API and an HTML page
    /// is followed to its advertised feed.
    async fn poll_feed(
        &self,
        spec: &FeedSpec,
        st: &mut FetchState,
        detect: bool,
    ) -> Result<PollOutcome, SourceError> {
        let url = match st.discovered_feed.as_deref().map(Url::parse) {
            Some(Ok(u)) => u,
            _ => spec.url.clone(),
        };
        let raw = self
            .get(&url, spec, st.validators_for(&url), FEED_ACCEPT)
            .await?;
        if raw.not_modified {
            refresh_validators(st, &raw, None);
            return Ok(PollOutcome::NotModified { state: st.clone() });
        }
        let body_hash = hash_bytes(&raw.body);
        let unchanged = st.validators_for(&url).and_then(|v| v.body_hash.as_deref())
            == Some(body_hash.as_str())
            && st.via == Some(Via::Feed);

        // WordPress detection from the Link header.
        let mut wp_root = None;
        if detect && self.wp_recheck_due(st) {
            wp_root = raw
                .link
                .as_deref()
                .and_then(wordpress::api_root_from_link_header);
        }
        if unchanged && wp_root.is_none() {
            refresh_validators(st, &raw, Some(body_hash));
            return Ok(PollOutcome::NotModified { state: st.clone() });
        }

        let parsed = parse_document_capped(
            &raw.body,
            raw.content_type.as_deref(),
            &raw.url,
            self.config().max_items,
        );
        let doc = match parsed {
            Ok(doc) => doc,
            Err(SourceError::NotAFeed { got }) if detect && got == "HTML" => {
                let (text, _) = super::encoding::decode(&raw.body, None, true);
                if let Some(root) =
                    wp_root.or_else(|| wordpress::api_root_from_html(&text, &raw.url))
                    && self.wp_recheck_due(st)
                {
                    st.wp_api_root = Some(root);
                    let feed_link = wordpress::feed_link_from_html(&text, &raw.url);
                    if st.discovered_feed.is_none() {
                        st.discovered_feed = feed_link;
                    }
                    return Box::pin(self.poll_wordpress_or_fallback(spec, st)).await;
                }
                if st.discovered_feed.is_none()
                    && let Some(feed) = wordpress::feed_link_from_html(&text, &raw.url)
                {
                    st.discovered_feed = Some(feed);
                    return Box::pin(self.poll_feed(spec, st, false)).await;
                }
                return Err(SourceError::NotAFeed { got });
            }
            Err(e) => return Err(e),
        };
        refresh_validators(st, &raw, Some(body_hash));

        if detect && self.wp_recheck_due(st) {
            let root = wp_root.or_else(|| {
                doc.meta
                    .generator
                    .as_deref()
                    .filter(|g| g.to_ascii_lowercase().contains("wordpress"))
                    .map(|_| wordpress::derive_api_root(&raw.url))
                    .filter(|r| wordpress::is_main_feed(&raw.url, r))
                    .map(|r| r.to_string())
            });
            if let Some(root) = root {
                let mut trial = st.clone();
                trial.wp_api_root = Some(root);
                trial.title = doc.meta.title.clone().or(trial.title);
                trial.language = doc.meta.language.clone().or(trial.language);
                match self.poll_wordpress(spec, &mut trial).await {
                    Ok(outcome) => {
                        *st = trial;
                        return Ok(outcome);
                    }
                    // Try again at the next poll; the feed serves this one.
                    Err(WpError::Transient(_)) => {}
                    Err(WpError::Unavailable(_)) => {
                        st.wordpress = WpStatus::Unavailable;
                        st.wp_checked_at = Some(Utc::now());
                    }
                }
            }
        }
        Ok(feed_outcome(doc, &raw, st))
    }

    /// The REST route, falling back to the feed when the API is disabled.
    async fn poll_wordpress_or_fallback(
        &self,
        spec: &FeedSpec,
        st: &mut FetchState,
    ) -> Result<PollOutcome, SourceError> {
        if self.wp_recheck_due(st) {
            match self.poll_wordpress(spec, st).await {
                Ok(outcome) => return Ok(outcome),
                Err(WpError::Transient(e)) => return Err(e),
                Err(WpError::Unavailable(_)) => {
                    st.wordpress = WpStatus::Unavailable;
                    st.wp_checked_at = Some(Utc::now());
                }
            }
        }
        if st.discovered_feed.is_none() {
            let root = st.wp_api_root.as_deref().and_then(|r| Url::parse(r).ok());
            let feed = wordpress::fallback_feed_url(&spec.url, root.as_ref());
            if feed != spec.url {
                st.discovered_feed = Some(feed.to_string());
            }
        }
        Box::pin(self.poll_feed(spec, st, false)).await
    }

    async fn poll_wordpress(
        &self,
        spec: &FeedSpec,
        st: &mut FetchState,
    ) -> Result<PollOutcome, WpError> {
        let root = st
            .wp_api_root
            .as_deref()
            .and_then(|r| Url::parse(r).ok())
            .ok_or_else(|| WpError::Unavailable(SourceError::parse("no API root")))?;
        let endpoint = wordpress::posts_endpoint(&root, self.config().wordpress_per_page);
        let raw = self
            .get(&endpoint, spec, st.validators_for(&endpoint), JSON_ACCEPT)
            .await
            .map_err(WpError::classify)?;
        if raw.not_modified {
            refresh_validators(st, &raw, None);
            st.wordpress = WpStatus::Available;
            return Ok(PollOutcome::NotModified { state: st.clone() });
        }
        let body_hash = hash_bytes(&raw.body);
        let unchanged = st
            .validators_for(&endpoint)
            .and_then(|v| v.body_hash.as_deref())
            == Some(body_hash.as_str())
            && st.via == Some(Via::WordPressApi);
        if unchanged {
            refresh_validators(st, &raw, Some(body_hash));
            st.wordpress = WpStatus::Available;
            return Ok(PollOutcome::NotModified { state: st.clone() });
        }
        let mut doc = wordpress::parse_posts(&raw.body, &raw.url).map_err(WpError::Unavailable)?;
        refresh_validators(st, &raw, Some(body_hash));
        st.wordpress = WpStatus::Available;
        if st.title.is_none()
            && let Ok(index) = self.get(&root, spec, None, JSON_ACCEPT).await
        {
            st.title = super::media::wp_site_title(&index.body);
        }
        for item in &mut doc.items {
            if item.post.source_title.is_none() {
                item.post.source_title = st.title.clone();
            }
            if item.post.language.is_none() {
                item.post.language = st.language.clone();
            }
        }
        doc.meta.title = st.title.clone();
        doc.meta.language = st.language.clone();
        doc.meta.fetched_url = Some(raw.url.to_string());
        doc.meta.via = Some(Via::WordPressApi);
        Ok(PollOutcome::Items {
            items: doc.items,
            meta: doc.meta,
            state: st.clone(),
        })
    }

    /// Fetches and parses without polling logic (no WordPress switch, no
    /// conditional GET): what `inspect` uses for a URL.
    pub async fn fetch_document(
        &self,
        spec: &FeedSpec,
    ) -> Result<(RawResponse, Result<ParsedDocument, SourceError>), SourceError> {
        let raw = self.get(&spec.url, spec, None, FEED_ACCEPT).await?;
        let doc = parse_document_capped(
            &raw.body,
            raw.content_type.as_deref(),
            &raw.url,
            self.config().max_items,
        )
        .map(|mut d| {
            set_feed_name(&mut d.items, &spec.name);
            d.meta.fetched_url = Some(raw.url.to_string());
            d
        });
        Ok((raw, doc))
    }
}

/// Why the REST route failed: transient (retry later, no fallback) or the
/// API being unavailable (fall back to the feed).
enum WpError {
    Transient(SourceError),
    Unavailable(SourceError),
}

impl WpError {
    fn classify(e: SourceError) -> WpError {
        match &e {
            SourceError::Http { status, .. } if *status >= 500 || *status == 429 => {
                WpError::Transient(e)
            }
            SourceError::Timeout | SourceError::Connect { .. } | SourceError::Dns { .. } => {
                WpError::Transient(e)
            }
            _ => WpError::Unavailable(e),
        }
    }
}

impl From<WpError> for SourceError {
    fn from(e: WpError) -> Self {
        match e {
            WpError::Transient(e) | WpError::Unavailable(e) => e,
        }
    }
}

fn hash_bytes(body: &[u8]) -> String {
    hex::encode(&Sha256::digest(body)[..16])
}

fn refresh_validators(st: &mut FetchState, raw: &RawResponse, body_hash: Option<String>) {
    let url = raw.requested.to_string();
    let old = st.validators.take().filter(|v| v.url == url);
    let old_hash = old.as_ref().and_then(|v| v.body_hash.clone());
    st.validators = Some(Validators {
        url,
        etag: raw.etag.clone().or_else(|| {
            old.as_ref()
                .and_then(|v| v.etag.clone())
                .filter(|_| raw.not_modified)
        }),
        last_modified: raw.last_modified.clone().or_else(|| {
            old.as_ref()
                .and_then(|v| v.last_modified.clone())
                .filter(|_| raw.not_modified)
        }),
        body_hash: body_hash.or(old_hash),
    });
}

fn feed_outcome(mut doc: ParsedDocument, raw: &RawResponse, st: &mut FetchState) -> PollOutcome {
    doc.meta.fetched_url = Some(raw.url.to_string());
    doc.meta.via = Some(Via::Feed);
    PollOutcome::Items {
        items: doc.items,
        meta: doc.meta,
        state: st.clone(),
    }
}
