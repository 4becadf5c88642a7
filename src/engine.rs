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

use crier_bots::Target;
use crier_bots::format::FeedRenderOptions;
use crier_storage::{Action, Delivery, Op, QueueHead};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::config::{AmbiguousPolicy, DeliveryConfig, OnFailure};
use crate::db::{Db, StoreError};

mod execute;
mod plan;
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
        self.resolve_stale(stale).await
    }

    /// Tell `target`'s rate limiter what was sent to it in the last
    /// minute (by the instance that held it before: its windows go on).
    /// Leases and sent times are compared across machines: the system
    /// clock.
    pub async fn seed_limits(&self, target: &str) -> Result<(), StoreError> {
        let Some(rt) = self.targets.get(target) else {
            return Ok(());
        };
        let now = crate::clock::Clock::System.now_ms();
        let t = target.to_string();
        let times = self
            .db
            .call(move |s| s.sent_times_of(&t, now - 61_000))
            .await?;
        let ago: Vec<Duration> = times.iter().map(|&at| ms_to_duration(now - at)).collect();
        if !ago.is_empty() {
            rt.target.sent_elsewhere(&ago);
        }
        Ok(())
    }

    /// Resolve `target`'s rows left `sending` by the instance that held
    /// its lease before this one (it died or stalled: its lease ended, and
    /// its writes to these rows are now refused). The same policy as
    /// after a crash.
    pub async fn recover_target(&self, target: &str) -> Result<usize, StoreError> {
        let t = target.to_string();
        let stale = self.db.call(move |s| s.stale_sending_of(&t)).await?;
        self.resolve_stale(stale).await
    }

    async fn resolve_stale(
        &self,
        stale: Vec<crier_storage::Delivery>,
    ) -> Result<usize, StoreError> {
        let mut resolved = 0;
        for d in stale {
            let Some(rt) = self.targets.get(&d.target) else {
                tracing::warn!(delivery = d.id, target = %d.target, "delivery left sending for a target no longer configured");
                continue;
            };
            let now = self.db.now_ms();
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

    /// What shares `target`'s platform rate budget (see
    /// `Target::sender`); `None` for an unknown target.
    pub fn sender_of(&self, target: &str) -> Option<String> {
        self.targets.get(target).map(|rt| rt.target.sender())
    }

    /// Start the worker of one target (this instance holds its lease); it
    /// stops at `stop` after the step under way.
    pub fn spawn_worker(
        self: &Arc<Self>,
        name: &str,
        stop: CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        let n = name.to_string();
        tokio::spawn(crate::supervise::supervise(
            "worker",
            name.to_string(),
            self.alerts.clone(),
            stop.clone(),
            move || me.clone().worker(n.clone(), stop.clone()),
        ))
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
                Err(StoreError::LeaseLost(what)) => {
                    // Another instance took the target over while this one
                    // was slow: it resolves the row in flight; the lease
                    // keeper sees the lease gone.
                    tracing::warn!(target_name = %name, "another instance took over the {what}: this one stops delivering to it");
                    if errors_in_a_row >= STORAGE_ALERT_AFTER {
                        let was = self
                            .storage_failing
                            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                        if was == 1 {
                            self.alerts.close(STORAGE_INCIDENT);
                        }
                    }
                    break;
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
                // The step is over and nothing is left to do now: tests
                // (and operators at debug level) see the worker idle.
                tracing::debug!(target_name = %name, wait_ms = d.as_millis() as u64, "delivery worker waits");
                tokio::select! {
                    _ = rt.notify.notified() => {}
                    // At least a millisecond: a wait computed as 0 (a due
                    // time that is now) must not become a hot loop.
                    _ = tokio::time::sleep(d.min(self.policy.recheck.0).max(Duration::from_millis(1))) => {}
                    _ = shutdown.cancelled() => break,
                }
            }
        }
        tracing::debug!(target_name = %name, "delivery worker stopped");
    }

    async fn step(&self, name: &str, rt: &TargetRuntime) -> Result<Step, StoreError> {
        let n = name.to_string();
        let now = self.db.now_ms();
        let hold = rt.on_failure == OnFailure::Hold;
        // The target's state and its queue head in one storage call (a
        // delivery's first): `None` when the target is disabled or paused.
        let head = self
            .db
            .quick(move |s| {
                let state = s.target_state(&n)?;
                if state
                    .as_ref()
                    .is_some_and(|s| s.disabled_reason.is_some() || s.paused_reason.is_some())
                {
                    return Ok(None);
                }
                s.queue_head(&n, now, hold).map(Some)
            })
            .await?;
        let Some(head) = head else {
            return Ok(Step::Sleep(self.policy.recheck.0));
        };
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
}

fn ms_to_duration(ms: i64) -> Duration {
    Duration::from_millis(ms.max(0) as u64)
}
