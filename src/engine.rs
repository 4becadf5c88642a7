//! The delivery engine: one worker per target works through the target's
//! queue in the delivery log, in order, one row at a time.
//!
//! For every row: plan it if needed (render the post into parts, or work out
//! which messages an edit or a retraction touches), mark it `sending`, call
//! the target, record the outcome. Nothing is sent without a row marked
//! `sending` first, and a row marked `sent` is never picked again.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use crier_bots::format::FeedRenderOptions;
use crier_bots::{DeliveryError, MessageRef, Part, Post, SendCtx, Sent, Target};
use crier_storage::{Action, Delivery, Op, PlannedPart, QueueHead};
use rand::Rng;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::config::{AmbiguousPolicy, DeliveryConfig, OnFailure};
use crate::db::{Db, StoreError, now_ms};

mod poison;

/// How fast a target may receive new posts (edits and deletions are not
/// paced here; the platform limiters pace every request).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pacing {
    pub max_posts_per_hour: Option<u32>,
    pub min_gap: Option<Duration>,
    /// Combine a burst beyond `max_posts_per_hour` into one digest post.
    pub digest: bool,
}

/// Most articles one digest post lists.
const DIGEST_MAX_ITEMS: usize = 50;
const HOUR_MS: i64 = 3_600_000;

/// A configured target and its delivery policy.
pub struct TargetRuntime {
    pub target: Arc<dyn Target>,
    pub on_failure: OnFailure,
    pub pacing: Pacing,
    notify: Notify,
}

impl TargetRuntime {
    pub fn new(target: Arc<dyn Target>, on_failure: OnFailure) -> TargetRuntime {
        TargetRuntime {
            target,
            on_failure,
            pacing: Pacing::default(),
            notify: Notify::new(),
        }
    }

    pub fn with_pacing(mut self, pacing: Pacing) -> TargetRuntime {
        self.pacing = pacing;
        self
    }
}

/// What pacing allows for the post at the head of a queue.
enum Paced {
    Go,
    Wait(Duration),
    /// Send it as a digest with these later rows.
    Digest(Vec<Delivery>),
}

/// Pause after a storage error before trying again.
const STORAGE_RETRY: Duration = Duration::from_secs(5);
/// Storage errors in a row after which a worker's trouble is alerted.
const STORAGE_ALERT_AFTER: u32 = 3;
/// Recording a send's outcome is retried from this delay, doubling…
const RECORD_RETRY_FIRST: Duration = Duration::from_millis(100);
/// …up to this one, for as long as it takes.
const RECORD_RETRY_MAX: Duration = Duration::from_secs(30);
/// Admins hear of it once the delay has grown this long.
const RECORD_RETRY_ALERT: Duration = Duration::from_secs(3);

pub struct Engine {
    db: Db,
    alerts: crate::alerts::Alerts,
    targets: BTreeMap<String, TargetRuntime>,
    feed_render_options: HashMap<String, FeedRenderOptions>,
    policy: DeliveryConfig,
    telemetry: crate::telemetry::Telemetry,
    /// Workers whose storage errors passed the alert threshold: the one
    /// storage incident is open while this is above zero (one alert for a
    /// failing database, not one per target).
    storage_failing: std::sync::atomic::AtomicUsize,
}

/// The one incident of a delivery log that answers errors.
const STORAGE_INCIDENT: &str = "storage:delivery-log";

enum Step {
    /// Look at the queue again now.
    Again,
    /// Nothing to do until this long has passed (or a wake-up).
    Sleep(Duration),
}

impl Engine {
    pub fn new(
        db: Db,
        targets: BTreeMap<String, TargetRuntime>,
        feed_render_options: HashMap<String, FeedRenderOptions>,
        policy: DeliveryConfig,
    ) -> Arc<Engine> {
        Engine::with_alerts(
            db,
            targets,
            feed_render_options,
            policy,
            crate::alerts::Alerts::log_only(),
        )
    }

    pub fn with_alerts(
        db: Db,
        targets: BTreeMap<String, TargetRuntime>,
        feed_render_options: HashMap<String, FeedRenderOptions>,
        policy: DeliveryConfig,
        alerts: crate::alerts::Alerts,
    ) -> Arc<Engine> {
        Arc::new(Engine {
            db,
            alerts,
            targets,
            feed_render_options,
            policy,
            telemetry: Default::default(),
            storage_failing: std::sync::atomic::AtomicUsize::new(0),
        })
    }

    /// The metrics and heartbeats the workers update.
    pub fn telemetry(&self) -> &crate::telemetry::Telemetry {
        &self.telemetry
    }

    pub fn target_names(&self) -> impl Iterator<Item = &str> {
        self.targets.keys().map(String::as_str)
    }

    pub fn target(&self, name: &str) -> Option<&TargetRuntime> {
        self.targets.get(name)
    }

    pub fn alerts(&self) -> &crate::alerts::Alerts {
        &self.alerts
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The feed formatting settings of `feed` (defaults when unknown).
    pub fn feed_render_options(&self, feed: &str) -> FeedRenderOptions {
        self.feed_render_options
            .get(feed)
            .cloned()
            .unwrap_or_default()
    }

    /// Wake a target's worker (new rows were queued).
    pub fn wake(&self, target: &str) {
        if let Some(t) = self.targets.get(target) {
            t.notify.notify_one();
        }
    }

    pub fn wake_all(&self) {
        for t in self.targets.values() {
            t.notify.notify_one();
        }
    }

    /// Resolve rows a previous run left `sending` (it crashed or was
    /// killed mid-send). Returns how many were resolved. The lock proves
    /// no other process holds the database: its in-flight rows are not
    /// leftovers.
    pub async fn recover(&self, _lock: &crate::lock::InstanceLock) -> Result<usize, StoreError> {
        let stale = self.db.call(|s| s.stale_sending()).await?;
        let mut resolved = 0;
        for d in stale {
            let Some(rt) = self.targets.get(&d.target) else {
                tracing::warn!(delivery = d.id, target = %d.target, "delivery left sending for a target no longer configured");
                continue;
            };
            let now = now_ms();
            let id = d.id;
            if d.op != Op::Send || rt.target.idempotent_send() {
                let note = if d.op == Op::Send {
                    "interrupted mid-send; resent with the same idempotency key"
                } else {
                    "interrupted mid-operation; repeated"
                };
                self.db
                    .call(move |s| s.resend_ambiguous(id, note, now))
                    .await?;
            } else {
                match self.policy.ambiguous {
                    AmbiguousPolicy::Resend => {
                        self.db
                            .call(move |s| {
                                s.resend_ambiguous(
                                    id,
                                    "interrupted mid-send; outcome unknown, resent (a duplicate is possible)",
                                    now,
                                )
                            })
                            .await?
                    }
                    AmbiguousPolicy::AssumeSent => {
                        self.db
                            .call(move |s| {
                                s.mark_sent(
                                    id,
                                    None,
                                    None,
                                    Some("interrupted mid-send; outcome unknown, assumed sent"),
                                    now,
                                )
                            })
                            .await?
                    }
                }
            }
            resolved += 1;
        }
        if resolved > 0 {
            tracing::warn!(
                resolved,
                "resolved deliveries left in flight by an interrupted run"
            );
        }
        Ok(resolved)
    }

    /// Start one worker per target. They stop taking new work when
    /// `shutdown` is cancelled; a send in progress is finished first.
    pub fn spawn_workers(
        self: &Arc<Self>,
        shutdown: CancellationToken,
    ) -> tokio::task::JoinSet<()> {
        let mut set = tokio::task::JoinSet::new();
        for name in self.targets.keys() {
            let me = self.clone();
            let (alerts, sd) = (self.alerts.clone(), shutdown.clone());
            let n = name.clone();
            let shutdown = shutdown.clone();
            set.spawn(crate::supervise::supervise(
                "worker",
                name.clone(),
                alerts,
                sd,
                move || me.clone().worker(n.clone(), shutdown.clone()),
            ));
        }
        set
    }

    async fn worker(self: Arc<Self>, name: String, shutdown: CancellationToken) {
        let Some(rt) = self.targets.get(&name) else {
            return;
        };
        crate::faults::once("worker", &name);
        let _watch = (self.telemetry.health).watch(crate::telemetry::Kind::Worker, &name);
        let mut errors_in_a_row = 0u32;
        loop {
            if shutdown.is_cancelled() {
                break;
            }
            let busy = self
                .telemetry
                .health
                .busy(crate::telemetry::Kind::Worker, &name);
            let step = match self.step(&name, rt).await {
                Ok(s) => {
                    if errors_in_a_row >= STORAGE_ALERT_AFTER {
                        tracing::info!(target_name = %name, "the delivery log answers again; deliveries resume");
                        let was = self
                            .storage_failing
                            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                        if was == 1 {
                            self.alerts.close(STORAGE_INCIDENT);
                        }
                    }
                    errors_in_a_row = 0;
                    s
                }
                Err(e) => {
                    errors_in_a_row = errors_in_a_row.saturating_add(1);
                    tracing::error!(target_name = %name, error = %e, errors_in_a_row, "storage error in the delivery worker; deliveries paused, will retry");
                    // Deliveries pause (nothing is dropped: the rows stay
                    // queued); the admins hear of it once per incident.
                    if errors_in_a_row == STORAGE_ALERT_AFTER {
                        let was = self
                            .storage_failing
                            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        if was == 0 {
                            self.alerts.open(
                                STORAGE_INCIDENT,
                                &format!("Deliveries are paused: the delivery log answers errors ({e}; first seen delivering to {name}). Crier retries every {}s; nothing is dropped.", STORAGE_RETRY.as_secs()),
                            );
                        }
                    }
                    Step::Sleep(STORAGE_RETRY)
                }
            };
            drop(busy);
            if let Step::Sleep(d) = step {
                tokio::select! {
                    _ = rt.notify.notified() => {}
                    _ = tokio::time::sleep(d.min(self.policy.recheck.0)) => {}
                    _ = shutdown.cancelled() => break,
                }
            }
        }
        tracing::debug!(target_name = %name, "delivery worker stopped");
    }

    async fn step(&self, name: &str, rt: &TargetRuntime) -> Result<Step, StoreError> {
        let n = name.to_string();
        let state = self.db.call(move |s| s.target_state(&n)).await?;
        if state
            .as_ref()
            .is_some_and(|s| s.disabled_reason.is_some() || s.paused_reason.is_some())
        {
            return Ok(Step::Sleep(self.policy.recheck.0));
        }
        let now = now_ms();
        let hold = rt.on_failure == OnFailure::Hold;
        let n = name.to_string();
        let head = self.db.call(move |s| s.queue_head(&n, now, hold)).await?;
        let d = match head {
            QueueHead::Empty { next_due } => {
                return Ok(Step::Sleep(
                    next_due
                        .map(|t| ms_to_duration(t - now))
                        .unwrap_or(self.policy.recheck.0),
                ));
            }
            QueueHead::Blocked(_) => return Ok(Step::Sleep(self.policy.recheck.0)),
            QueueHead::Ready(d) => d,
        };
        if d.next_attempt_at > now {
            return Ok(Step::Sleep(ms_to_duration(d.next_attempt_at - now)));
        }
        if d.needs_plan() {
            if d.action == Action::Post {
                match self.pace(rt, &d, now).await? {
                    Paced::Go => {}
                    Paced::Wait(w) => return Ok(Step::Sleep(w)),
                    Paced::Digest(rest) => {
                        self.plan_guarded(rt, &d, Some(rest)).await?;
                        return Ok(Step::Again);
                    }
                }
            }
            self.plan_guarded(rt, &d, None).await?;
            return Ok(Step::Again);
        }
        self.execute_guarded(rt, &d).await?;
        Ok(Step::Again)
    }

    /// Apply the target's pacing to the post at the head of its queue.
    async fn pace(&self, rt: &TargetRuntime, d: &Delivery, now: i64) -> Result<Paced, StoreError> {
        let p = rt.pacing;
        if p.max_posts_per_hour.is_none() && p.min_gap.is_none() {
            return Ok(Paced::Go);
        }
        let target = d.target.clone();
        let times = self
            .db
            .call(move |s| s.post_times_since(&target, now - HOUR_MS))
            .await?;
        if let (Some(gap), Some(last)) = (p.min_gap, times.last()) {
            let ready = last + gap.as_millis() as i64;
            if ready > now {
                return Ok(Paced::Wait(ms_to_duration(ready - now)));
            }
        }
        let Some(max) = p.max_posts_per_hour.map(|m| m.max(1) as usize) else {
            return Ok(Paced::Go);
        };
        if times.len() >= max {
            // Wait for the oldest post that keeps the budget full to age out.
            let ready = times[times.len() - max] + HOUR_MS;
            return Ok(Paced::Wait(ms_to_duration(ready - now)));
        }
        let remaining = max - times.len();
        if p.digest && remaining == 1 {
            let target = d.target.clone();
            let seq = d.seq;
            let rest = self
                .db
                .call(move |s| s.pending_posts_after(&target, seq, now, DIGEST_MAX_ITEMS - 1))
                .await?;
            if !rest.is_empty() {
                return Ok(Paced::Digest(rest));
            }
        }
        Ok(Paced::Go)
    }

    /// Render the head post and the `rest` as one digest post.
    async fn plan_digest(
        &self,
        rt: &TargetRuntime,
        head: &Delivery,
        rest: Vec<Delivery>,
    ) -> Result<(), StoreError> {
        let ids: Vec<i64> = std::iter::once(head.article_id)
            .chain(rest.iter().map(|d| d.article_id))
            .collect();
        let articles = self
            .db
            .call(move |s| {
                ids.iter()
                    .map(|id| s.article(*id))
                    .collect::<Result<Vec<_>, _>>()
            })
            .await?;
        let mut items = Vec::new();
        let mut feed = String::new();
        let mut source_title = None;
        for a in articles.into_iter().flatten() {
            let post: Option<Post> = serde_json::from_str(&a.payload).ok();
            if feed.is_empty() {
                feed = a.feed.clone();
                source_title = post.as_ref().and_then(|p| p.source_title.clone());
            }
            items.push(crier_bots::DigestItem {
                title: post.as_ref().map(|p| p.title.clone()).unwrap_or(a.title),
                link: post.and_then(|p| p.link).or(a.link),
            });
        }
        let digest = Post {
            feed: feed.clone(),
            source_title,
            title: format!("{} new articles", items.len()),
            digest: items,
            ..Post::default()
        };
        let default_format = FeedRenderOptions::default();
        let ff = self
            .feed_render_options
            .get(&feed)
            .unwrap_or(&default_format);
        let id = head.id;
        match rt.target.render(&digest, ff) {
            Ok(parts) => {
                let planned: Vec<PlannedPart> = parts
                    .into_iter()
                    .map(|p| PlannedPart {
                        op: Op::Send,
                        payload: Some(p.payload.to_string()),
                        summary: p.summary,
                        ref_message: None,
                    })
                    .collect();
                let folded: Vec<i64> = rest.iter().map(|d| d.id).collect();
                tracing::info!(target_name = %head.target, articles = folded.len() + 1, "burst beyond max_posts_per_hour: sending a digest");
                self.db
                    .call(move |s| s.plan_digest(id, &planned, &folded, now_ms()))
                    .await
            }
            Err(e) => {
                let msg = format!("cannot render the digest: {e}");
                self.db
                    .call(move |s| s.mark_failed(id, &msg, now_ms()))
                    .await
            }
        }
    }

    /// Turn a job row into the parts to send / edit / delete.
    async fn plan(&self, rt: &TargetRuntime, d: &Delivery) -> Result<(), StoreError> {
        let id = d.id;
        let article_id = d.article_id;
        let Some(article) = self.db.call(move |s| s.article(article_id)).await? else {
            return self
                .db
                .call(move |s| s.mark_failed(id, "the article is missing from the log", now_ms()))
                .await;
        };
        let post: Post = match serde_json::from_str(&article.payload) {
            Ok(p) => p,
            Err(e) => {
                let msg = format!("stored article cannot be read: {e}");
                return self
                    .db
                    .call(move |s| s.mark_failed(id, &msg, now_ms()))
                    .await;
            }
        };
        let default_format = FeedRenderOptions::default();
        let ff = self
            .feed_render_options
            .get(&article.feed)
            .unwrap_or(&default_format);
        let target = d.target.clone();
        let posted = self
            .db
            .call(move |s| s.posted_messages(article_id, &target))
            .await?;

        let render = || -> Result<Vec<PlannedPart>, String> {
            crate::faults::check("render", article.link.as_deref().unwrap_or_default());
            let parts = rt
                .target
                .render(&post, ff)
                .map_err(|e| format!("cannot render the post: {e}"))?;
            parts
                .into_iter()
                .map(|p| {
                    Ok(PlannedPart {
                        op: Op::Send,
                        payload: Some(p.payload.to_string()),
                        summary: p.summary,
                        ref_message: None,
                    })
                })
                .collect()
        };
        let planned = match d.action {
            Action::Post => render(),
            Action::Edit => render().map(|new| {
                let mut plan = Vec::new();
                for i in 0..new.len().max(posted.len()) {
                    match (new.get(i), posted.get(i)) {
                        (Some(n), Some(old)) => plan.push(PlannedPart {
                            op: Op::Edit,
                            ref_message: Some(old.message_id.clone()),
                            ..n.clone()
                        }),
                        (Some(n), None) => plan.push(n.clone()),
                        (None, Some(old)) => plan.push(PlannedPart {
                            op: Op::Delete,
                            payload: None,
                            summary: format!("delete surplus part {}", old.part),
                            ref_message: Some(old.message_id.clone()),
                        }),
                        (None, None) => {}
                    }
                }
                if posted.is_empty() { Vec::new() } else { plan }
            }),
            Action::Delete => Ok(posted
                .iter()
                .map(|m| PlannedPart {
                    op: Op::Delete,
                    payload: None,
                    summary: format!("delete part {}", m.part),
                    ref_message: Some(m.message_id.clone()),
                })
                .collect()),
        };
        match planned {
            Ok(parts) => {
                let empty = match d.action {
                    Action::Post => "the post rendered to nothing",
                    Action::Edit => "nothing was delivered to edit",
                    Action::Delete => "nothing was delivered to delete",
                };
                self.db
                    .call(move |s| s.plan_job(id, &parts, empty, now_ms()))
                    .await
            }
            Err(msg) => {
                tracing::error!(delivery = id, target_name = %d.target, error = %msg, "render failed");
                self.db
                    .call(move |s| s.mark_failed(id, &msg, now_ms()))
                    .await
            }
        }
    }

    async fn execute(&self, rt: &TargetRuntime, d: &Delivery) -> Result<(), StoreError> {
        let id = d.id;
        let attempt = self
            .db
            .call(move |s| {
                crate::store_faults::check("store.mark_sending")?;
                s.mark_sending(id, now_ms())
            })
            .await?;
        let article_id = d.article_id;
        let target = d.target.clone();
        let posted = if d.op == Op::Send {
            Vec::new()
        } else {
            self.db
                .call(move |s| s.posted_messages(article_id, &target))
                .await?
        };
        let reference = d.ref_message.as_ref().map(|mid| {
            let known = posted.iter().find(|m| &m.message_id == mid);
            (
                MessageRef {
                    id: mid.clone(),
                    url: known.and_then(|m| m.message_url.clone()),
                },
                known.map(|m| m.sent_at),
            )
        });
        let ctx = SendCtx {
            delivery_id: d.id,
            attempt,
            article: format!("article #{}", d.article_id),
            sent_at: reference
                .as_ref()
                .and_then(|(_, t)| *t)
                .and_then(chrono::DateTime::from_timestamp_millis),
        };
        let part = match &d.payload {
            Some(raw) => match serde_json::from_str(raw) {
                Ok(payload) => Some(Part {
                    payload,
                    summary: d.summary.clone().unwrap_or_default(),
                }),
                Err(e) => {
                    let msg = format!("stored payload cannot be read: {e}");
                    return self
                        .db
                        .call(move |s| s.mark_failed(id, &msg, now_ms()))
                        .await;
                }
            },
            None => None,
        };
        self.fault_point("send", d.article_id).await;
        let result: Result<Sent, DeliveryError> = match (d.op, &part, &reference) {
            (Op::Send, Some(p), _) => rt.target.send(p, &ctx).await,
            (Op::Edit, Some(p), Some((m, _))) => rt.target.edit(m, p, &ctx).await,
            (Op::Delete, _, Some((m, _))) => {
                rt.target.delete(m, &ctx).await.map(|()| Sent::default())
            }
            _ => Err(DeliveryError::Rejected(format!(
                "malformed {} row (payload or message reference missing)",
                d.op
            ))),
        };
        let last = attempt >= self.policy.max_attempts.max(1);
        let first_part = (d.op == Op::Send && d.part == 0).then_some(d.created_at);
        (self.telemetry.metrics).delivered(
            &d.target,
            rt.target.platform(),
            result.as_ref().map(|_| ()),
            last,
            first_part,
        );
        // The outcome is kept: recording it is retried until it succeeds,
        // so a row this process marked `sending` is never sent again by it
        // (ARCHITECTURE.md: a send is recorded before its row can be picked
        // again). If the process stops first, the row stays `sending` and
        // the next start resolves it by the ambiguous-send policy.
        let mut wait = RECORD_RETRY_FIRST;
        loop {
            match self.record(rt, d, attempt, result.clone()).await {
                // The row itself is gone: nothing to record, nothing to retry.
                Err(e @ (StoreError::NoSuchDelivery(_) | StoreError::NoSuchArticle(_))) => {
                    return Err(e);
                }
                Ok(()) => {
                    if wait >= RECORD_RETRY_ALERT {
                        self.alerts.close("storage-record");
                    }
                    return Ok(());
                }
                Err(e) => {
                    tracing::error!(delivery = id, target_name = %d.target, error = %e, retry_in = ?wait, "cannot record the outcome of a send; retrying (it is not sent again)");
                    if wait >= RECORD_RETRY_ALERT {
                        self.alerts.open(
                            "storage-record",
                            &format!("Crier cannot record deliveries: {e}. Delivery paused until the database accepts writes again."),
                        );
                    }
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(RECORD_RETRY_MAX);
                }
            }
        }
    }

    /// Record the outcome of an attempt (`sent`, a retry, a failure…).
    async fn record(
        &self,
        rt: &TargetRuntime,
        d: &Delivery,
        attempt: u32,
        result: Result<Sent, DeliveryError>,
    ) -> Result<(), StoreError> {
        let id = d.id;
        match result {
            Ok(sent) => {
                let (mid, url) = sent
                    .message
                    .map(|m| (Some(m.id), m.url))
                    .unwrap_or((None, None));
                if let Some(note) = &sent.note {
                    tracing::warn!(delivery = id, target_name = %d.target, note = %note, "delivered with a fallback");
                }
                tracing::info!(delivery = id, target_name = %d.target, op = %d.op, part = d.part, "delivered");
                self.db
                    .call(move |s| {
                        crate::store_faults::check("store.mark_sent")?;
                        s.mark_sent(
                            id,
                            mid.as_deref(),
                            url.as_deref(),
                            sent.note.as_deref(),
                            now_ms(),
                        )
                    })
                    .await
            }
            Err(e) => self.failed(rt, d, attempt, e.scrubbed()).await,
        }
    }

    fn retry_delay(&self, attempt: u32) -> Duration {
        let base = self.policy.retry_base.0.as_millis() as f64;
        let max = self.policy.retry_max.0.as_millis() as f64;
        let exp = base * 2f64.powi(attempt.saturating_sub(1).min(30) as i32);
        let jitter = rand::rng().random_range(0.75..1.25);
        Duration::from_millis((exp.min(max) * jitter) as u64)
    }

    async fn failed(
        &self,
        rt: &TargetRuntime,
        d: &Delivery,
        attempt: u32,
        e: DeliveryError,
    ) -> Result<(), StoreError> {
        let id = d.id;
        let name = d.target.clone();
        let now = now_ms();
        let msg = e.to_string();
        let max = self.policy.max_attempts.max(1);
        let retry_or_fail = |ambiguous: bool| {
            let msg = msg.clone();
            let next = now + self.retry_delay(attempt).as_millis() as i64;
            move |s: &mut crier_storage::Store| {
                if attempt >= max {
                    s.mark_failed(id, &format!("{msg} (after {attempt} attempts)"), now)
                } else {
                    s.mark_retry(id, &msg, next, ambiguous, now)
                }
            }
        };
        match e {
            DeliveryError::RateLimited { retry_after } => {
                tracing::warn!(target_name = %name, ?retry_after, "rate limited by the platform; waiting");
                if let Some((key, text)) = rt.target.take_alert() {
                    self.alerts.open(&key, &text);
                }
                let next = now + retry_after.as_millis() as i64;
                self.db.call(move |s| s.defer(id, next, &msg, now)).await
            }
            DeliveryError::Transient(_) => {
                tracing::warn!(delivery = id, target_name = %name, attempt, error = %msg, "delivery failed; will retry");
                if attempt >= max {
                    tracing::error!(delivery = id, target_name = %name, error = %msg, "delivery failed for good");
                    self.alerts.open(
                        &format!("delivery-failed:{id}"),
                        &format!(
                            "Delivery #{id} to {name} failed after {attempt} attempts: {msg} (/retry {id})"
                        ),
                    );
                }
                self.db.call(retry_or_fail(false)).await
            }
            DeliveryError::Ambiguous(_) => {
                let idempotent = d.op != Op::Send || rt.target.idempotent_send();
                if idempotent || self.policy.ambiguous == AmbiguousPolicy::Resend {
                    tracing::warn!(delivery = id, target_name = %name, error = %msg, "send outcome unknown; will resend");
                    self.db.call(retry_or_fail(!idempotent)).await
                } else {
                    tracing::warn!(delivery = id, target_name = %name, error = %msg, "send outcome unknown; assumed sent (policy)");
                    let note = format!("{msg}; outcome unknown, assumed sent");
                    self.db
                        .call(move |s| s.mark_sent(id, None, None, Some(&note), now))
                        .await
                }
            }
            DeliveryError::TargetGone(reason) => {
                // The frequent causes carry their fix (log, alert, `crier log`).
                let reason = crier_bots::check::with_hint(&reason, &name);
                let msg = crier_bots::check::with_hint(&msg, &name);
                let n = name.clone();
                let r = reason.clone();
                let changed = self
                    .db
                    .call(move |s| s.set_target_disabled(&n, Some(&r), now))
                    .await?;
                if changed {
                    tracing::error!(target_name = %name, reason = %reason, "target disabled; its deliveries wait until it is re-enabled (crier retry --target)");
                    self.alerts.open(
                        &format!("target-disabled:{name}"),
                        &format!(
                            "Target {name} disabled: {reason}. Its posts wait; /resume {name} once fixed."
                        ),
                    );
                }
                self.db.call(move |s| s.defer(id, now, &msg, now)).await
            }
            DeliveryError::TargetMoved(addr) => {
                tracing::warn!(target_name = %name, new_address = %addr, "target moved; updating its address");
                rt.target.set_address(&addr);
                let n = name.clone();
                let a = addr.clone();
                self.db
                    .call(move |s| s.set_target_address(&n, &a, now))
                    .await?;
                self.db.call(move |s| s.defer(id, now, &msg, now)).await
            }
            DeliveryError::Rejected(_) => {
                tracing::error!(delivery = id, target_name = %name, error = %msg, "delivery rejected by the platform");
                self.alerts.open(
                    &format!("delivery-failed:{id}"),
                    &format!("Delivery #{id} to {name} was rejected: {msg}"),
                );
                self.db.call(move |s| s.mark_failed(id, &msg, now)).await
            }
            DeliveryError::MessageGone(_) => {
                if d.op == Op::Delete {
                    let note = format!("already gone: {msg}");
                    self.db
                        .call(move |s| s.mark_sent(id, None, None, Some(&note), now))
                        .await
                } else {
                    self.db.call(move |s| s.mark_skipped(id, &msg, now)).await
                }
            }
            DeliveryError::NotDeletable(_) => {
                tracing::warn!(delivery = id, target_name = %name, error = %msg, "message could not be deleted");
                self.db.call(move |s| s.mark_skipped(id, &msg, now)).await
            }
        }
    }
}

fn ms_to_duration(ms: i64) -> Duration {
    Duration::from_millis(ms.max(0) as u64)
}
