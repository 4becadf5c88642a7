//! The feed watcher: polls each configured feed on its schedule, records
//! what it finds in the delivery log (new articles with their delivery rows,
//! updates with their edit jobs, the feed's state) in one transaction per
//! poll, and wakes the delivery workers concerned.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use crier_storage::{FeedState, IncomingArticle, Ingested};
use tokio_util::sync::CancellationToken;

use crate::config::{Config, FeedConfig, FeedKind};
use crate::db::{Db, StoreError, now_ms};
use crate::engine::Engine;
use crate::pipeline::{Admission, Router};
use crate::sources::{self, FeedSpec, FetchState, Fetcher, PollOutcome, SourceItem};

/// What one poll did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollReport {
    pub new: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub not_modified: bool,
    /// The baseline poll of a new feed (backlog recorded, not posted).
    pub baseline: bool,
    pub error: Option<String>,
    pub paused: bool,
}

pub struct Poller {
    db: Db,
    fetcher: Arc<Fetcher>,
    engine: Arc<Engine>,
    cfg: Arc<Config>,
    router: Router,
}

/// The sources layer's description of a configured feed.
pub fn spec_for(cfg: &Config, feed: &FeedConfig) -> Result<FeedSpec, String> {
    Ok(FeedSpec {
        name: feed.name.0.clone(),
        url: cfg.feed_location(feed)?,
        kind: match feed.kind {
            FeedKind::Auto => sources::FeedKind::Auto,
            FeedKind::Feed => sources::FeedKind::Feed,
            FeedKind::Wordpress => sources::FeedKind::WordPress,
        },
        user_agent: feed.user_agent.as_ref().map(|s| s.0.clone()),
        headers: feed
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.0.clone()))
            .collect(),
        body_cap: feed.body_cap.unwrap_or(cfg.sources.body_cap),
    })
}

impl Poller {
    pub fn new(
        db: Db,
        fetcher: Arc<Fetcher>,
        engine: Arc<Engine>,
        cfg: Arc<Config>,
    ) -> Arc<Poller> {
        let router = Router::new(&cfg);
        Arc::new(Poller {
            db,
            fetcher,
            engine,
            cfg,
            router,
        })
    }

    /// Resume feeds paused by a previous run: starting with a config is a
    /// config reload.
    pub async fn resume_paused(&self) -> Result<(), StoreError> {
        for f in &self.cfg.feeds {
            let name = f.name.0.clone();
            let resumed = self
                .db
                .call(move |s| {
                    let Some(mut st) = s.feed_state(&name)? else {
                        return Ok(None);
                    };
                    let Some(reason) = st.paused_reason.take() else {
                        return Ok(None);
                    };
                    st.consecutive_failures = 0;
                    st.next_poll_at = None;
                    s.put_feed_state(&st, now_ms())?;
                    Ok(Some(reason))
                })
                .await?;
            if let Some(reason) = resumed {
                tracing::info!(feed = %f.name, was = %reason, "resuming a paused feed (config reloaded)");
            }
        }
        Ok(())
    }

    /// One watcher task per feed.
    pub fn spawn(self: &Arc<Self>, shutdown: CancellationToken) -> tokio::task::JoinSet<()> {
        let mut set = tokio::task::JoinSet::new();
        for i in 0..self.cfg.feeds.len() {
            let me = self.clone();
            let shutdown = shutdown.clone();
            set.spawn(async move { me.feed_loop(i, shutdown).await });
        }
        set
    }

    async fn feed_loop(self: Arc<Self>, idx: usize, shutdown: CancellationToken) {
        let feed = &self.cfg.feeds[idx];
        loop {
            let name = feed.name.0.clone();
            let due = match self.db.call(move |s| s.feed_state(&name)).await {
                Ok(Some(st)) if st.paused_reason.is_some() => None,
                Ok(st) => Some(st.and_then(|s| s.next_poll_at).unwrap_or(0)),
                Err(e) => {
                    tracing::error!(feed = %feed.name, error = %e, "cannot read the feed's state");
                    Some(now_ms() + 5_000)
                }
            };
            let wait = match due {
                Some(t) => Duration::from_millis((t - now_ms()).max(0) as u64),
                // Paused: look again now and then (a command may resume it).
                None => Duration::from_secs(60),
            };
            if !wait.is_zero() {
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = shutdown.cancelled() => return,
                }
                if due.is_none() {
                    continue;
                }
            }
            if shutdown.is_cancelled() {
                return;
            }
            match self.poll_once(feed).await {
                Ok(r) => {
                    if let Some(e) = &r.error {
                        tracing::warn!(feed = %feed.name, error = %e, paused = r.paused, "poll failed");
                    } else if r.new + r.updated > 0 || r.baseline {
                        tracing::info!(feed = %feed.name, new = r.new, updated = r.updated, baseline = r.baseline, "polled");
                    } else {
                        tracing::debug!(feed = %feed.name, not_modified = r.not_modified, "polled; nothing new");
                    }
                }
                Err(e) => {
                    tracing::error!(feed = %feed.name, error = %e, "cannot record the poll; will poll again");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                        _ = shutdown.cancelled() => return,
                    }
                }
            }
        }
    }

    /// Poll one feed now and record the result.
    pub async fn poll_once(&self, feed: &FeedConfig) -> Result<PollReport, StoreError> {
        let name = feed.name.0.clone();
        let url_now = self
            .cfg
            .feed_location(feed)
            .map(|u| u.to_string())
            .unwrap_or_default();
        let mut state = self
            .db
            .call(move |s| s.feed_state(&name))
            .await?
            .unwrap_or_else(|| FeedState {
                feed: feed.name.0.clone(),
                fetch_state: "{}".into(),
                ..FeedState::default()
            });
        state.url = url_now;
        let fetch_state: FetchState = serde_json::from_str(&state.fetch_state).unwrap_or_default();
        let now = now_ms();
        state.last_poll_at = Some(now);
        let mut report = PollReport::default();

        let outcome = match spec_for(&self.cfg, feed) {
            Ok(spec) => self
                .fetcher
                .poll(&spec, &fetch_state)
                .await
                .map_err(|e| (e.to_string(), e.is_permanent(), e.retry_after())),
            Err(e) => Err((e, true, None)),
        };
        let (items, meta, new_fetch_state) = match outcome {
            Ok(PollOutcome::NotModified { state: fs }) => {
                report.not_modified = true;
                (Vec::new(), None, fs)
            }
            Ok(PollOutcome::Items {
                items,
                meta,
                state: fs,
            }) => (items, Some(meta), fs),
            Err((e, permanent, retry_after)) => {
                state.consecutive_failures += 1;
                state.last_error = Some(e.clone());
                let n = state.consecutive_failures;
                let threshold = self.cfg.sources.pause_after_failures.max(1);
                let permanent_threshold =
                    sources::schedule::PAUSE_AFTER_PERMANENT_FAILURES.min(threshold);
                if n >= threshold || (permanent && n >= permanent_threshold) {
                    let reason = format!("paused after {n} consecutive failures; last: {e}");
                    tracing::error!(feed = %feed.name, reason = %reason, "feed paused");
                    state.paused_reason = Some(reason);
                    report.paused = true;
                }
                let mut backoff = sources::schedule::backoff(
                    n,
                    self.cfg.sources.backoff_base.0,
                    self.cfg.sources.backoff_max.0,
                    &mut rand::rng(),
                );
                if let Some(r) = retry_after {
                    backoff = backoff.max(r.min(self.cfg.sources.backoff_max.0));
                }
                state.next_poll_at = Some(now + backoff.as_millis() as i64);
                report.error = Some(e);
                let st = state.clone();
                self.db
                    .call(move |s| s.put_feed_state(&st, now_ms()))
                    .await?;
                return Ok(report);
            }
        };
        let ttl_hint = new_fetch_state.ttl_hint();
        let route_changed = meta.as_ref().is_some_and(|m| m.route_changed);
        state.fetch_state = serde_json::to_string(&new_fetch_state).unwrap_or_else(|_| "{}".into());
        state.consecutive_failures = 0;
        state.last_error = None;
        state.last_success_at = Some(now);
        state.next_poll_at = Some(
            now + sources::schedule::next_poll_delay(
                feed.interval.0,
                ttl_hint,
                self.cfg.sources.min_interval.0,
                &mut rand::rng(),
            )
            .as_millis() as i64,
        );

        let baseline = !state.baseline_done;
        state.baseline_done = true;
        report.baseline = baseline && !items.is_empty();
        let batch = self.batch(feed, items, baseline, route_changed);
        let st = state.clone();
        let outcomes = self
            .db
            .call(move |s| s.ingest(&st, &batch, now_ms()))
            .await?;

        let mut wake = BTreeSet::new();
        for o in &outcomes {
            match o {
                Ingested::New { .. } => {
                    report.new += 1;
                    if !baseline || feed.backfill > 0 {
                        wake.extend(feed.targets.iter().map(|t| t.0.clone()));
                    }
                }
                Ingested::Updated { edit_targets, .. } => {
                    report.updated += 1;
                    wake.extend(edit_targets.iter().cloned());
                }
                Ingested::Unchanged { .. } => report.unchanged += 1,
            }
        }
        for t in wake {
            self.engine.wake(&t);
        }
        Ok(report)
    }

    /// Items oldest first, with their routes. On the baseline poll only the
    /// newest `backfill` items are delivered.
    fn batch(
        &self,
        feed: &FeedConfig,
        mut items: Vec<SourceItem>,
        baseline: bool,
        route_changed: bool,
    ) -> Vec<(IncomingArticle, Vec<crier_storage::Route>)> {
        sources::sort_oldest_first(&mut items);
        let n = items.len();
        items
            .into_iter()
            .enumerate()
            .filter_map(|(i, it)| {
                let admission = if baseline && i + feed.backfill < n {
                    Admission::Baseline
                } else {
                    Admission::Deliver
                };
                let routes = self.router.routes(feed, &it.post, admission);
                let payload = serde_json::to_string(&it.post).ok()?;
                Some((
                    IncomingArticle {
                        keys: it.keys,
                        content_hash: it.content_hash,
                        title: it.post.title.clone(),
                        link: it.post.link.clone(),
                        published_at: it
                            .post
                            .published
                            .or(it.post.updated)
                            .map(|t| t.timestamp_millis()),
                        payload,
                        refresh_only: route_changed,
                    },
                    routes,
                ))
            })
            .collect()
    }
}
