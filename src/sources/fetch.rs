//! Transport: one shared HTTP client (and its SSRF-guarded twin), the
//! checks every request of a spec passes, conditional GET, the body cap
//! enforced while streaming, redirects, the per-host concurrency limit and
//! local files. What to fetch and what a poll makes of it is `poll.rs`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use serde::{Deserialize, Serialize};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::Url;

use super::{FeedSpec, SourceError};

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

pub(super) const FEED_ACCEPT: &str = "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, text/html;q=0.5, */*;q=0.1";
pub(super) const JSON_ACCEPT: &str = "application/json";

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
