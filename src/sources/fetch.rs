//! Fetching: one shared HTTP client, conditional GET, body cap enforced
//! while streaming, per-host concurrency limit, local files, and the poll
//! logic that picks between a feed and the WordPress REST API.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use serde::{Deserialize, Serialize};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::Url;

use super::parse::{Sniffed, sniff};
use super::wordpress;
use super::{
    FeedKind, FeedSpec, KeyType, ParsedDocument, PollOutcome, SourceError, Via,
    parse_document_capped, set_feed_name,
};
use sha2::{Digest, Sha256};

/// Settings of the shared [`Fetcher`].
#[derive(Debug, Clone)]
pub struct FetcherConfig {
    /// TCP/TLS connect timeout.
    pub connect_timeout: Duration,
    /// Timeout for a whole request, body included.
    pub total_timeout: Duration,
    /// Maximum redirects followed (more is [`SourceError::TooManyRedirects`]).
    pub max_redirects: usize,
    /// Maximum requests in flight to one host (host:port).
    pub per_host_concurrency: usize,
    /// User-Agent used when a feed does not set its own.
    pub default_user_agent: String,
    /// `per_page` asked of the WordPress REST API.
    pub wordpress_per_page: u32,
    /// How long a WordPress API found unavailable is not asked again.
    pub wordpress_recheck: Duration,
    /// Refuse non-public addresses and local files (the SSRF guard for
    /// URLs from editors) for every fetch, whatever the spec says.
    pub public_only: bool,
    /// What the guard lets through besides public addresses (used by
    /// guarded fetches: `public_only`, or a spec with `guarded`).
    pub guard: super::guard::GuardPolicy,
    /// Body cap of fetches that do not come with a configured feed
    /// (`inspect`, chat commands): `[sources] body_cap`.
    pub body_cap: u64,
    /// Items read per document (`[sources] max_items`).
    pub max_items: usize,
}

impl Default for FetcherConfig {
    fn default() -> Self {
        FetcherConfig {
            connect_timeout: Duration::from_secs(10),
            total_timeout: Duration::from_secs(30),
            max_redirects: 10,
            per_host_concurrency: 4,
            default_user_agent: format!(
                "Crier/{} (feed-to-chat publishing bot)",
                env!("CARGO_PKG_VERSION")
            ),
            wordpress_per_page: 20,
            wordpress_recheck: Duration::from_secs(24 * 3600),
            public_only: false,
            guard: super::guard::GuardPolicy::default(),
            body_cap: super::DEFAULT_BODY_CAP,
            max_items: super::DEFAULT_MAX_ITEMS,
        }
    }
}

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
    /// [`FetcherConfig::wordpress_recheck`] has passed.
    Unavailable,
}

/// Conditional-GET validators of the last document fetched, and its hash.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validators {
    /// The URL these belong to.
    pub url: String,
    /// `ETag` received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// `Last-Modified` received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// Hash of the body: an identical body is treated as not modified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_hash: Option<String>,
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

    fn validators_for(&self, url: &Url) -> Option<&Validators> {
        self.validators.as_ref().filter(|v| v.url == url.as_str())
    }
}

/// A fetched response (200 with a body, or 304).
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// The URL requested.
    pub requested: Url,
    /// The URL finally answered (after redirects).
    pub url: Url,
    /// 200 (or 2xx) with a body, or 304.
    pub not_modified: bool,
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `ETag`.
    pub etag: Option<String>,
    /// `Last-Modified`.
    pub last_modified: Option<String>,
    /// `Link` header(s), joined with `, `.
    pub link: Option<String>,
    /// The body, at most the cap.
    pub body: Vec<u8>,
}

const FEED_ACCEPT: &str = "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, text/html;q=0.5, */*;q=0.1";
const JSON_ACCEPT: &str = "application/json";

/// The shared fetcher: one reqwest client with a connection pool, and
/// per-host semaphores. Cheap to share behind an `Arc`.
pub struct Fetcher {
    client: reqwest::Client,
    /// The SSRF-guarded client: public addresses only (resolver and every
    /// redirect hop), no proxy.
    guarded: reqwest::Client,
    config: FetcherConfig,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher")
            .field("config", &self.config)
            .finish()
    }
}

fn header_str(headers: &HeaderMap, name: HeaderName) -> Option<String> {
    let joined: Vec<&str> = headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if joined.is_empty() {
        None
    } else {
        Some(joined.join(", "))
    }
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = DateTime::parse_from_rfc2822(value).ok()?;
    (when.with_timezone(&Utc) - Utc::now()).to_std().ok()
}

impl Fetcher {
    /// Builds the shared clients (plain and guarded).
    pub fn new(config: FetcherConfig) -> Result<Self, SourceError> {
        let client = build_client(&config, false)?;
        let guarded = build_client(&config, true)?;
        Ok(Fetcher {
            client,
            guarded,
            config,
            hosts: Mutex::new(HashMap::new()),
        })
    }

    /// Whether fetches for `spec` go through the SSRF guard.
    pub fn is_guarded(&self, spec: &FeedSpec) -> bool {
        self.config.public_only || spec.guarded
    }

    /// The checks every request of a spec passes, its first URL as well as
    /// any URL derived from a document (discovery, WordPress API): the
    /// guard for guarded specs; for every spec, no `file:` (or other
    /// non-HTTP) URL reached from an http(s) feed.
    fn check_hop(&self, url: &Url, spec: &FeedSpec) -> Result<(), SourceError> {
        if self.is_guarded(spec) {
            self.config
                .guard
                .check(url)
                .map_err(|m| SourceError::Refused {
                    message: format!("{}: {m}", crate::redact::redact_url(url.as_str())),
                })?;
        }
        let http = |u: &Url| matches!(u.scheme(), "http" | "https");
        if http(&spec.url) && !http(url) {
            return Err(SourceError::Refused {
                message: format!(
                    "{}: a {} URL is never read for an http(s) feed",
                    crate::redact::redact_url(url.as_str()),
                    url.scheme()
                ),
            });
        }
        Ok(())
    }

    /// The client for a request other than a fetch made on behalf of
    /// `spec` (a WebSub subscription request to the feed's hub), once `url`
    /// passed the spec's checks: guarded specs get the guarded client.
    pub fn client_for(&self, url: &Url, spec: &FeedSpec) -> Result<&reqwest::Client, SourceError> {
        self.check_hop(url, spec)?;
        Ok(if self.is_guarded(spec) {
            &self.guarded
        } else {
            &self.client
        })
    }

    /// The configuration.
    pub fn config(&self) -> &FetcherConfig {
        &self.config
    }

    async fn host_permit(&self, url: &Url) -> Option<OwnedSemaphorePermit> {
        let key = format!(
            "{}:{}",
            url.host_str().unwrap_or(""),
            url.port_or_known_default().unwrap_or(0)
        );
        let sem = {
            let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
            hosts
                .entry(key)
                .or_insert_with(|| {
                    Arc::new(Semaphore::new(self.config.per_host_concurrency.max(1)))
                })
                .clone()
        };
        sem.acquire_owned().await.ok()
    }

    /// GETs `url` (HTTP(S) or a local file) with the feed's headers and
    /// conditional validators, reading at most `spec.body_cap` bytes.
    pub async fn get(
        &self,
        url: &Url,
        spec: &FeedSpec,
        validators: Option<&Validators>,
        accept: &str,
    ) -> Result<RawResponse, SourceError> {
        self.check_hop(url, spec)?;
        match url.scheme() {
            "file" => return read_file(url, spec.body_cap).await,
            "http" | "https" => {}
            other => {
                return Err(SourceError::InvalidUrl {
                    message: format!("unsupported scheme {other}:"),
                });
            }
        }
        let _permit = self.host_permit(url).await;
        let client = if self.is_guarded(spec) {
            &self.guarded
        } else {
            &self.client
        };
        let mut req = client.get(url.clone()).header(header::ACCEPT, accept);
        if let Some(ua) = &spec.user_agent {
            req = req.header(header::USER_AGENT, ua);
        }
        for (name, value) in &spec.headers {
            let name =
                HeaderName::from_bytes(name.as_bytes()).map_err(|_| SourceError::InvalidUrl {
                    message: format!("invalid header name {name:?}"),
                })?;
            let value = HeaderValue::from_str(value).map_err(|_| SourceError::InvalidUrl {
                message: format!("invalid value for header {name}"),
            })?;
            req = req.header(name, value);
        }
        if let Some(v) = validators {
            if let Some(etag) = v
                .etag
                .as_deref()
                .and_then(|e| HeaderValue::from_str(e).ok())
            {
                req = req.header(header::IF_NONE_MATCH, etag);
            }
            if let Some(lm) = v
                .last_modified
                .as_deref()
                .and_then(|e| HeaderValue::from_str(e).ok())
            {
                req = req.header(header::IF_MODIFIED_SINCE, lm);
            }
        }
        let mut resp = req
            .send()
            .await
            .map_err(|e| SourceError::from_reqwest(&e, url))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let final_url = resp.url().clone();
        if status == reqwest::StatusCode::NOT_MODIFIED {
            return Ok(RawResponse {
                requested: url.clone(),
                url: final_url,
                not_modified: true,
                content_type: None,
                etag: header_str(&headers, header::ETAG),
                last_modified: header_str(&headers, header::LAST_MODIFIED),
                link: None,
                body: Vec::new(),
            });
        }
        if !status.is_success() {
            return Err(SourceError::Http {
                status: status.as_u16(),
                retry_after: retry_after(&headers),
            });
        }
        let cap = spec.body_cap;
        // Content-Length is of the encoded body: only a hint when compressed.
        if headers.get(header::CONTENT_ENCODING).is_none()
            && resp.content_length().is_some_and(|len| len > cap)
        {
            return Err(SourceError::BodyTooLarge { cap });
        }
        let mut body: Vec<u8> = Vec::with_capacity(
            resp.content_length()
                .unwrap_or(16 * 1024)
                .min(cap)
                .min(1 << 20) as usize,
        );
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() as u64 + chunk.len() as u64 > cap {
                        return Err(SourceError::BodyTooLarge { cap });
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => return Err(SourceError::from_reqwest(&e, url)),
            }
        }
        Ok(RawResponse {
            requested: url.clone(),
            url: final_url,
            not_modified: false,
            content_type: header_str(&headers, header::CONTENT_TYPE),
            etag: header_str(&headers, header::ETAG),
            last_modified: header_str(&headers, header::LAST_MODIFIED),
            link: header_str(&headers, header::LINK),
            body,
        })
    }

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
            if meta.format != Some(super::FeedFormat::WordPressApi) {
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
                (Utc::now() - at).to_std().unwrap_or_default() >= self.config.wordpress_recheck
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
            self.config.max_items,
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
        let endpoint = wordpress::posts_endpoint(&root, self.config.wordpress_per_page);
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
            self.config.max_items,
        )
        .map(|mut d| {
            set_feed_name(&mut d.items, &spec.name);
            d.meta.fetched_url = Some(raw.url.to_string());
            d
        });
        Ok((raw, doc))
    }
}

/// One client: the plain one follows http(s) redirects only; the guarded
/// one also checks every hop with the guard, resolves names to public
/// addresses only and ignores proxy variables (a proxy would resolve names
/// the guard never sees).
fn build_client(config: &FetcherConfig, guarded: bool) -> Result<reqwest::Client, SourceError> {
    let max = config.max_redirects;
    let policy = config.guard.clone();
    let redirect = reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() >= max {
            return attempt.error("too many redirects");
        }
        let url = attempt.url();
        let refusal = if guarded {
            policy.check(url).err()
        } else if !matches!(url.scheme(), "http" | "https") {
            Some(format!("{}: URLs are not followed", url.scheme()))
        } else {
            None
        };
        match refusal {
            Some(why) => {
                let msg = format!(
                    "redirect to {}: {why}",
                    crate::redact::redact_url(url.as_str())
                );
                attempt.error(super::guard::GuardRefusal(msg))
            }
            None => attempt.follow(),
        }
    });
    let mut builder = reqwest::Client::builder();
    if guarded {
        builder = builder.no_proxy();
        if !config.guard.allow_private {
            builder = builder.dns_resolver(Arc::new(super::guard::PublicResolver));
        }
    }
    builder
        .connect_timeout(config.connect_timeout)
        .timeout(config.total_timeout)
        .redirect(redirect)
        .user_agent(config.default_user_agent.clone())
        .gzip(true)
        .brotli(true)
        .tcp_nodelay(true)
        .pool_max_idle_per_host(config.per_host_concurrency.max(1))
        .pool_idle_timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| SourceError::Other {
            message: format!("cannot build HTTP client: {e}"),
            transient: false,
        })
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

async fn read_file(url: &Url, cap: u64) -> Result<RawResponse, SourceError> {
    use tokio::io::AsyncReadExt;
    let path = url.to_file_path().map_err(|()| SourceError::InvalidUrl {
        message: format!("{url} is not a local file path"),
    })?;
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|e| SourceError::File {
            message: format!("{}: {e}", path.display()),
        })?;
    let mut body = Vec::new();
    file.take(cap + 1)
        .read_to_end(&mut body)
        .await
        .map_err(|e| SourceError::File {
            message: format!("{}: {e}", path.display()),
        })?;
    if body.len() as u64 > cap {
        return Err(SourceError::BodyTooLarge { cap });
    }
    Ok(RawResponse {
        requested: url.clone(),
        url: url.clone(),
        not_modified: false,
        content_type: None,
        etag: None,
        last_modified: None,
        link: None,
        body,
    })
}

/// Whether decoded text looks like an HTML page (for `inspect`).
pub(crate) fn looks_like_html(body: &[u8], content_type: Option<&str>) -> bool {
    let (text, _) = super::encoding::decode(body, None, true);
    sniff(&text, content_type) == Sniffed::Html
}
