//! One poll of one feed: fetch it (with its conditional-request state),
//! route the items, and record them with the feed's new state in one
//! transaction ([`Poller::poll_once`]); `record` is shared with pushed
//! articles.

use std::collections::BTreeSet;

use crier_storage::{FeedState, IncomingArticle, Ingested};

use super::{PollReport, Poller, spec_for};
use crate::config::FeedConfig;
use crate::db::StoreError;
use crate::pipeline::Admission;
use crate::sources::{self, FeedSpec, FetchState, PollOutcome, SourceItem};

impl Poller {
    /// Poll one feed now and record the result.
    pub async fn poll_once(&self, feed: &FeedConfig) -> Result<PollReport, StoreError> {
        self.poll_with(feed, false).await
    }

    /// [`Poller::poll_once`]; with `scheduled`, a feed paused since its
    /// watcher last looked is not polled (`skipped`).
    pub(super) async fn poll_with(
        &self,
        feed: &FeedConfig,
        scheduled: bool,
    ) -> Result<PollReport, StoreError> {
        let _turn = self.turn(&feed.name.0).await;
        let name = feed.name.0.clone();
        let url_now = self
            .cfg
            .feed_location(feed)
            .map(|u| u.to_string())
            .unwrap_or_default();
        let mut state = self
            .db
            .quick(move |s| s.feed_state(&name))
            .await?
            .unwrap_or_else(|| FeedState {
                feed: feed.name.0.clone(),
                fetch_state: "{}".into(),
                ..FeedState::default()
            });
        if scheduled && state.paused_reason.is_some() {
            return Ok(PollReport {
                paused: true,
                skipped: true,
                ..PollReport::default()
            });
        }
        state.url = url_now;
        let fetch_state: FetchState = serde_json::from_str(&state.fetch_state).unwrap_or_default();
        let now = self.db.now_ms();
        state.last_poll_at = Some(now);
        let mut report = PollReport::default();

        // Feeds added from chat stay behind the SSRF guard for good.
        let guarded = self
            .lock_feeds()
            .get(&feed.name.0)
            .is_none_or(|w| w.dynamic);
        let outcome = match spec_for(&self.cfg, feed).map(|s| FeedSpec { guarded, ..s }) {
            Ok(spec) => self.fetcher.poll(&spec, &fetch_state).await.map_err(|e| {
                let text = crate::redact::redact_text(&e.to_string());
                (text, e.is_permanent(), e.retry_after())
            }),
            Err(e) => Err((crate::redact::redact_text(&e), true, None)),
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
                    self.alerts.open(
                        &format!("feed-paused:{}", feed.name),
                        &format!("Feed {} paused: {reason}", feed.name),
                    );
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
                report.error_kind = Some(if permanent { "permanent" } else { "transient" });
                report.next_poll_at = state.next_poll_at.filter(|_| !report.paused);
                report.due_next = report.next_poll_at;
                let st = state.clone();
                let now = self.db.now_ms();
                self.db.call(move |s| s.put_feed_state(&st, now)).await?;
                return Ok(report);
            }
        };
        let ttl_hint = new_fetch_state.ttl_hint();
        let route_changed = meta.as_ref().is_some_and(|m| m.route_changed);
        state.fetch_state = serde_json::to_string(&new_fetch_state).unwrap_or_else(|_| "{}".into());
        state.consecutive_failures = 0;
        state.last_error = None;
        state.last_success_at = Some(now);
        // A pushed feed is polled at its safety interval.
        let interval = if self.pushed.contains(&feed.name.0) {
            feed.push_safety_interval.0
        } else {
            feed.interval.0
        };
        state.next_poll_at = Some(
            now + sources::schedule::next_poll_delay(
                interval,
                ttl_hint,
                self.cfg.sources.min_interval.0,
                &mut rand::rng(),
            )
            .as_millis() as i64,
        );

        report.due_next = state.next_poll_at;
        let baseline = !state.baseline_done;
        state.baseline_done = true;
        report.baseline = baseline && !items.is_empty();
        self.record(feed, state, items, baseline, route_changed, report)
            .await
    }

    /// Record a document's items (a poll's or a fat ping's) with the
    /// feed's new state, in one transaction; wake the workers concerned.
    pub(super) async fn record(
        &self,
        feed: &FeedConfig,
        state: FeedState,
        items: Vec<SourceItem>,
        baseline: bool,
        route_changed: bool,
        mut report: PollReport,
    ) -> Result<PollReport, StoreError> {
        let mut items = items;
        sources::sort_oldest_first(&mut items);
        let cap = self.cfg.sources.max_new_per_poll.max(1);
        let overflow = if baseline {
            crate::intake::Overflow::default()
        } else {
            crate::intake::overflow(&self.db, &feed.name.0, &items, cap).await?
        };
        if !overflow.skipped.is_empty() {
            let text = format!(
                "Feed {}: {} new articles in one poll; the newest {cap} are queued, {} older ones skipped ([sources] max_new_per_poll).",
                feed.name,
                overflow.new,
                overflow.skipped.len()
            );
            tracing::warn!(feed = %feed.name, new = overflow.new, skipped = overflow.skipped.len(), "too many new articles in one poll");
            self.alerts
                .open(&crate::intake::alert_key(&feed.name.0), &text);
        }
        let batch = self.batch(feed, items, baseline, route_changed, &overflow.skipped);
        let st = state.clone();
        let now = self.db.now_ms();
        // A poll with little to record (a 304, a few new items) is
        // recorded in place; a big batch goes to the blocking pool.
        let outcomes = if batch.len() <= 10 {
            self.db.quick(move |s| s.ingest(&st, &batch, now)).await?
        } else {
            self.db.call(move |s| s.ingest(&st, &batch, now)).await?
        };

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

    /// Items (oldest first) with their routes. On the baseline poll only the
    /// newest `backfill` items are delivered; new items past the cap
    /// (`over_cap`) are recorded skipped.
    fn batch(
        &self,
        feed: &FeedConfig,
        items: Vec<SourceItem>,
        baseline: bool,
        route_changed: bool,
        over_cap: &std::collections::HashSet<String>,
    ) -> Vec<(IncomingArticle, Vec<crier_storage::Route>)> {
        let n = items.len();
        items
            .into_iter()
            .enumerate()
            .filter_map(self.contained_item(feed, |(i, it)| {
                let admission = if baseline && i + feed.backfill < n {
                    Admission::Baseline
                } else {
                    Admission::Deliver
                };
                let mut routes = self.router.routes(feed, &it.post, admission);
                if over_cap.contains(it.key()) {
                    let cap = self.cfg.sources.max_new_per_poll.max(1);
                    routes = crate::intake::skip_routes(routes, cap);
                }
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
            }))
            .collect()
    }
}
