//! Sources (spine stub): reads RSS/Atom/JSON feeds from http(s) or local
//! files with feed-rs. Replaced by the full sources module.

use std::time::Duration;

use crier_bots::Post;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use url::Url;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FeedKind {
    #[default]
    Auto,
    Feed,
    WordPress,
}

#[derive(Debug, Clone)]
pub struct FeedSpec {
    pub name: String,
    pub url: Url,
    pub kind: FeedKind,
    pub user_agent: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body_cap: u64,
}

#[derive(Debug, Clone)]
pub struct FetcherConfig {
    pub connect_timeout: Duration,
    pub total_timeout: Duration,
    pub max_redirects: usize,
    pub per_host_concurrency: usize,
    pub default_user_agent: String,
}

impl Default for FetcherConfig {
    fn default() -> Self {
        FetcherConfig {
            connect_timeout: Duration::from_secs(10),
            total_timeout: Duration::from_secs(30),
            max_redirects: 10,
            per_host_concurrency: 4,
            default_user_agent: "Crier".into(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FetchState {
    #[serde(default)]
    pub etag: Option<String>,
    #[serde(default)]
    pub last_modified: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyType {
    Guid,
    Link,
    Hash,
}

#[derive(Debug, Clone)]
pub struct SourceItem {
    pub keys: Vec<String>,
    pub key_type: KeyType,
    pub content_hash: String,
    pub post: Post,
}

#[derive(Debug, Clone, Default)]
pub struct FeedMeta {
    pub title: Option<String>,
    pub ttl_hint: Option<Duration>,
}

#[derive(Debug)]
pub enum PollOutcome {
    NotModified {
        state: FetchState,
    },
    Items {
        items: Vec<SourceItem>,
        meta: FeedMeta,
        state: FetchState,
    },
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct SourceError {
    pub message: String,
}

pub struct Fetcher {
    client: reqwest::Client,
}

impl Fetcher {
    pub fn new(cfg: FetcherConfig) -> Result<Fetcher, SourceError> {
        let client = reqwest::Client::builder()
            .connect_timeout(cfg.connect_timeout)
            .timeout(cfg.total_timeout)
            .user_agent(cfg.default_user_agent)
            .build()
            .map_err(|e| SourceError {
                message: e.to_string(),
            })?;
        Ok(Fetcher { client })
    }

    pub async fn poll(
        &self,
        spec: &FeedSpec,
        state: &FetchState,
    ) -> Result<PollOutcome, SourceError> {
        let err = |m: String| SourceError { message: m };
        let bytes = if spec.url.scheme() == "file" {
            let path = spec
                .url
                .to_file_path()
                .map_err(|()| err("bad file URL".into()))?;
            tokio::fs::read(&path)
                .await
                .map_err(|e| err(format!("cannot read {}: {e}", path.display())))?
        } else {
            let resp = self
                .client
                .get(spec.url.clone())
                .send()
                .await
                .map_err(|e| err(e.to_string()))?;
            if !resp.status().is_success() {
                return Err(err(format!("HTTP {}", resp.status())));
            }
            resp.bytes().await.map_err(|e| err(e.to_string()))?.to_vec()
        };
        let feed = feed_rs::parser::parse(&bytes[..]).map_err(|e| err(e.to_string()))?;
        let mut items = Vec::new();
        for e in feed.entries {
            let link = e.links.first().map(|l| l.href.clone());
            let title = e.title.map(|t| t.content).unwrap_or_default();
            let mut keys = Vec::new();
            if !e.id.is_empty() {
                keys.push(format!("guid:{}", e.id));
            }
            if let Some(l) = &link {
                keys.push(format!("link:{l}"));
            }
            let post = Post {
                feed: spec.name.clone(),
                source_title: feed.title.as_ref().map(|t| t.content.clone()),
                title,
                link,
                summary_html: e.summary.map(|s| s.content),
                content_html: e.content.and_then(|c| c.body),
                authors: e.authors.into_iter().filter_map(|a| a.name).collect(),
                categories: e.categories.into_iter().map(|c| c.term).collect(),
                published: e.published,
                updated: e.updated,
                ..Post::default()
            };
            let mut h = Sha256::new();
            h.update(post.title.as_bytes());
            h.update(post.summary_html.as_deref().unwrap_or("").as_bytes());
            h.update(post.content_html.as_deref().unwrap_or("").as_bytes());
            items.push(SourceItem {
                keys,
                key_type: KeyType::Guid,
                content_hash: hex::encode(h.finalize()),
                post,
            });
        }
        Ok(PollOutcome::Items {
            items,
            meta: FeedMeta::default(),
            state: state.clone(),
        })
    }
}

pub mod schedule {
    use std::time::Duration;

    pub fn next_poll_delay(
        interval: Duration,
        _ttl: Option<Duration>,
        floor: Duration,
    ) -> Duration {
        interval.max(floor)
    }

    pub fn backoff_delay(failures: u32) -> Duration {
        let secs = 300u64.saturating_mul(1u64 << failures.min(10));
        Duration::from_secs(secs.min(24 * 3600))
    }
}
