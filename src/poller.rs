//! The feed watcher: polls each configured feed on its schedule, records
//! what it finds in the delivery log (new articles with their delivery rows,
//! updates with their edit jobs, the feed's state) in one transaction per
//! poll, and wakes the delivery workers concerned.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::alerts::Alerts;
use crate::config::{Config, FeedConfig};
use crate::db::{Db, StoreError};

/// After a storage error a feed waits this long before polling again…
const STORAGE_WAIT_FIRST: Duration = Duration::from_secs(5);
/// …doubling up to this.
const STORAGE_WAIT_MAX: Duration = Duration::from_secs(10 * 60);
use crate::engine::Engine;
use crate::pipeline::Router;
use crate::sources::{FeedSpec, Fetcher};

mod contain;
mod poll;
mod push;
mod ramp;

pub use push::PushOutcome;

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
    /// After an error: `transient` or `permanent`.
    pub error_kind: Option<&'static str>,
    /// When the feed is polled next (set after an error).
    pub next_poll_at: Option<i64>,
    /// A scheduled poll of a feed found paused: nothing was fetched.
    pub skipped: bool,
    /// When the next scheduled poll is due, as recorded (None: paused, or
    /// not known: the watcher reads the feed's state).
    pub due_next: Option<i64>,
}

/// A watched feed.
struct Watched {
    feed: Arc<FeedConfig>,
    /// Added from chat (`/subscribe`), not from the config file.
    dynamic: bool,
    stop: CancellationToken,
    wake: Arc<Notify>,
    /// Poll at once at the next wake-up (a thin ping, a WordPress hook).
    now: Arc<AtomicBool>,
    /// Polls and pushes of this feed take turns (`push.rs`).
    turn: Arc<tokio::sync::Mutex<()>>,
}

impl Watched {
    fn new(feed: Arc<FeedConfig>, dynamic: bool) -> Watched {
        Watched {
            feed,
            dynamic,
            stop: CancellationToken::new(),
            wake: Arc::new(Notify::new()),
            now: Arc::new(AtomicBool::new(false)),
            turn: Arc::new(tokio::sync::Mutex::new(())),
        }
    }
}

pub struct Poller {
    db: Db,
    fetcher: Arc<Fetcher>,
    engine: Arc<Engine>,
    cfg: Arc<Config>,
    router: Router,
    alerts: Alerts,
    feeds: Mutex<BTreeMap<String, Watched>>,
    tasks: Mutex<Option<(JoinSet<()>, CancellationToken)>>,
    telemetry: crate::telemetry::Telemetry,
    /// Feeds their WebSub hub pushes: polled at the safety interval.
    pushed: crate::websub::Pushed,
    /// Several instances share the database (`share.rs`): a feed is
    /// watched only while this instance holds its lease
    /// ([`Poller::watch`] / [`Poller::unwatch`]), not from `spawn`.
    shared: AtomicBool,
    /// Feeds due at once when their watcher starts are spread out.
    ramp: ramp::Ramp,
    /// Each feed's schedule read in one query by `resume_paused` at
    /// start-up (`Some(due)`, or `None` when paused), taken by its
    /// watcher's first round.
    preloaded: Mutex<std::collections::HashMap<String, Option<i64>>>,
    /// Polls in flight at once (`[sources] concurrency`).
    in_flight: Arc<tokio::sync::Semaphore>,
}

/// What a watcher knows of its feed's next due time: `Some(Some(t))` due
/// at `t`, `Some(None)` paused, `None` not known (read the database).
type Known = Option<Option<i64>>;

/// A watched feed, for status displays.
#[derive(Debug, Clone)]
pub struct FeedInfo {
    pub feed: Arc<FeedConfig>,
    pub dynamic: bool,
}

/// The sources layer's description of a configured feed.
pub fn spec_for(cfg: &Config, feed: &FeedConfig) -> Result<FeedSpec, String> {
    Ok(FeedSpec {
        name: feed.name.0.clone(),
        url: cfg.feed_location(feed)?,
        kind: feed.kind,
        user_agent: feed.user_agent.as_ref().map(|s| s.0.clone()),
        headers: feed
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.0.clone()))
            .collect(),
        body_cap: feed.body_cap.unwrap_or(cfg.sources.body_cap),
        guarded: false,
    })
}

impl Poller {
    pub fn new(
        db: Db,
        fetcher: Arc<Fetcher>,
        engine: Arc<Engine>,
        cfg: Arc<Config>,
    ) -> Arc<Poller> {
        Poller::with_alerts(db, fetcher, engine, cfg, Alerts::log_only())
    }

    pub fn with_alerts(
        db: Db,
        fetcher: Arc<Fetcher>,
        engine: Arc<Engine>,
        cfg: Arc<Config>,
        alerts: Alerts,
    ) -> Arc<Poller> {
        let router = Router::new(&cfg);
        let concurrency = cfg.sources.concurrency.max(1);
        let mut feeds = BTreeMap::new();
        for f in &cfg.feeds {
            feeds.insert(f.name.0.clone(), Watched::new(f.clone(), false));
        }
        Arc::new(Poller {
            db,
            fetcher,
            telemetry: engine.telemetry().clone(),
            engine,
            cfg,
            router,
            alerts,
            feeds: Mutex::new(feeds),
            tasks: Mutex::new(None),
            pushed: Default::default(),
            shared: AtomicBool::new(false),
            ramp: ramp::Ramp::default(),
            preloaded: Mutex::default(),
            in_flight: Arc::new(tokio::sync::Semaphore::new(concurrency)),
        })
    }

    fn lock_feeds(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Watched>> {
        self.feeds.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every watched feed, config feeds first.
    pub fn feeds(&self) -> Vec<FeedInfo> {
        let mut v: Vec<FeedInfo> = self
            .lock_feeds()
            .values()
            .map(|w| FeedInfo {
                feed: w.feed.clone(),
                dynamic: w.dynamic,
            })
            .collect();
        v.sort_by_key(|f| (f.dynamic, f.feed.name.0.clone()));
        v
    }

    pub fn feed(&self, name: &str) -> Option<FeedInfo> {
        self.lock_feeds().get(name).map(|w| FeedInfo {
            feed: w.feed.clone(),
            dynamic: w.dynamic,
        })
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Poll a feed now (after a resume).
    pub fn wake(&self, name: &str) {
        if let Some(w) = self.lock_feeds().get(name) {
            w.wake.notify_one();
            self.tell_the_holder(name);
        }
    }

    /// Poll a feed as soon as it may (not while paused): a thin WebSub
    /// ping or a WordPress publish hook.
    pub fn poll_now(&self, name: &str) -> bool {
        let known = self.poll_here(name);
        if known {
            self.tell_the_holder(name);
        }
        known
    }

    /// [`Poller::poll_now`] for this instance's watcher only (a request
    /// another instance sent: `wakeup.rs`).
    pub fn poll_here(&self, name: &str) -> bool {
        match self.lock_feeds().get(name) {
            Some(w) => {
                w.now.store(true, Ordering::SeqCst);
                w.wake.notify_one();
                true
            }
            None => false,
        }
    }

    /// Shared: the feed may be watched by another instance; ask it to
    /// poll too (through the database; it hears it at once).
    fn tell_the_holder(&self, name: &str) {
        if !self.is_shared() {
            return;
        }
        let (db, n) = (self.db.clone(), name.to_string());
        tokio::spawn(async move {
            if let Err(e) = db.call(move |s| s.request_poll(&n)).await {
                tracing::warn!(error = %e, "cannot ask the other instances to poll a feed; its next scheduled poll will see it");
            }
        });
    }

    /// The feeds pushed by their hub (shared with `websub`).
    pub fn pushed(&self) -> &crate::websub::Pushed {
        &self.pushed
    }

    /// Share the feeds with other instances: from now on a feed is
    /// watched only between [`Poller::watch`] and [`Poller::unwatch`].
    pub fn set_shared(&self) {
        self.shared.store(true, Ordering::SeqCst);
    }

    fn is_shared(&self) -> bool {
        self.shared.load(Ordering::SeqCst)
    }

    /// Names of every known feed (config and chat).
    pub fn feed_names(&self) -> Vec<String> {
        self.lock_feeds().keys().cloned().collect()
    }

    /// Start watching `name` (this instance got its lease). False when
    /// the feed is unknown.
    pub fn watch(self: &Arc<Self>, name: &str) -> bool {
        {
            let mut feeds = self.lock_feeds();
            let Some(w) = feeds.get_mut(name) else {
                return false;
            };
            // A fresh token: the one of an earlier watch is cancelled.
            w.stop.cancel();
            w.stop = CancellationToken::new();
        }
        self.start_watcher(name);
        true
    }

    /// Stop watching `name` (its lease is lost or handed over); a poll
    /// under way finishes (its writes are fenced).
    pub fn unwatch(&self, name: &str) {
        if let Some(w) = self.lock_feeds().get(name) {
            w.stop.cancel();
        }
    }

    /// Start watching a feed added from chat. False when the name is taken.
    /// Shared: only known until this instance holds its lease.
    pub fn add_feed(self: &Arc<Self>, feed: FeedConfig) -> bool {
        let name = feed.name.0.clone();
        let watched = Watched::new(Arc::new(feed), true);
        {
            let mut feeds = self.lock_feeds();
            if feeds.contains_key(&name) {
                return false;
            }
            feeds.insert(name.clone(), watched);
        }
        if !self.is_shared() {
            self.start_watcher(&name);
        }
        true
    }

    /// Stop watching a feed added from chat. Config feeds stay.
    pub fn remove_feed(&self, name: &str) -> Result<(), String> {
        let mut feeds = self.lock_feeds();
        match feeds.get(name) {
            None => Err(format!("no feed named {name:?}")),
            Some(w) if !w.dynamic => {
                Err(format!("{name:?} comes from config.toml; remove it there"))
            }
            Some(_) => {
                if let Some(w) = feeds.remove(name) {
                    w.stop.cancel();
                }
                Ok(())
            }
        }
    }

    fn start_watcher(self: &Arc<Self>, name: &str) {
        let Some(shutdown) = (self.tasks.lock().unwrap_or_else(|p| p.into_inner()))
            .as_ref()
            .map(|(_, sd)| sd.clone())
        else {
            return;
        };
        // The watcher's one stop signal: its own token (`unwatch`, a
        // removed feed), made a child of the shutdown so that it also
        // stops with the process.
        let Some((feed, stop, wake, now)) = self.lock_feeds().get_mut(name).map(|w| {
            if !w.stop.is_cancelled() {
                w.stop = shutdown.child_token();
            }
            (
                w.feed.clone(),
                w.stop.clone(),
                w.wake.clone(),
                w.now.clone(),
            )
        }) else {
            return;
        };
        let mut tasks = self.tasks.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((set, _)) = tasks.as_mut() {
            let me = self.clone();
            let alerts = self.alerts.clone();
            set.spawn(crate::supervise::supervise(
                "watcher",
                feed.name.0.clone(),
                alerts,
                shutdown,
                move || {
                    me.clone()
                        .feed_loop(feed.clone(), stop.clone(), (wake.clone(), now.clone()))
                },
            ));
        }
    }

    /// Resume feeds paused by a previous run: starting with a config is a
    /// config reload. Reads every feed's schedule in one query (100,000
    /// feeds must not cost 100,000 round trips at start-up) and keeps it
    /// for the watchers' first round.
    pub async fn resume_paused(&self) -> Result<(), StoreError> {
        let schedule = self.db.call(|s| s.feed_schedule()).await?;
        let names: std::collections::HashSet<String> = self.feed_names().into_iter().collect();
        let mut preloaded: std::collections::HashMap<String, Option<i64>> =
            names.iter().map(|n| (n.clone(), Some(0))).collect();
        for due in schedule {
            if !names.contains(&due.feed) {
                continue;
            }
            if !due.paused {
                preloaded.insert(due.feed, Some(due.next_poll_at.unwrap_or(0)));
                continue;
            }
            let name = due.feed.clone();
            let now = self.db.now_ms();
            let resumed = self
                .db
                .call(move |s| {
                    let Some(reason) = s.feed_state(&name)?.and_then(|st| st.paused_reason) else {
                        return Ok(None);
                    };
                    s.set_feed_paused(&name, None, now)?;
                    Ok(Some(reason))
                })
                .await?;
            if let Some(reason) = resumed {
                tracing::info!(feed = %due.feed, was = %reason, "resuming a paused feed (config reloaded)");
                self.alerts.close(&format!("feed-paused:{}", due.feed));
            }
        }
        if !self.is_shared() {
            *self.preloaded.lock().unwrap_or_else(|p| p.into_inner()) = preloaded;
        }
        Ok(())
    }

    /// When `feed` is due (`None`: paused): what `resume_paused` read at
    /// start-up for a watcher's first round, else the database.
    async fn due(&self, feed: &str) -> Option<i64> {
        let preloaded = {
            let mut map = self.preloaded.lock().unwrap_or_else(|p| p.into_inner());
            let due = map.remove(feed);
            if due.is_some() && map.is_empty() {
                // Every watcher has started: give the table back.
                map.shrink_to_fit();
            }
            due
        };
        if let Some(due) = preloaded {
            return due;
        }
        let name = feed.to_string();
        match self.db.call(move |s| s.feed_state(&name)).await {
            Ok(Some(st)) if st.paused_reason.is_some() => None,
            Ok(st) => Some(st.and_then(|s| s.next_poll_at).unwrap_or(0)),
            Err(e) => {
                tracing::error!(feed = %feed, error = %e, "cannot read the feed's state");
                Some(self.db.now_ms() + 5_000)
            }
        }
    }

    /// One watcher task per feed; feeds added later get theirs too. The
    /// set ends when `shutdown` is cancelled.
    pub fn spawn(self: &Arc<Self>, shutdown: CancellationToken) -> JoinSet<()> {
        *self.tasks.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((JoinSet::new(), shutdown.clone()));
        let names: Vec<String> = self.lock_feeds().keys().cloned().collect();
        tracing::info!(
            feeds = names.len(),
            "watching the feeds: new articles are logged as they come; a poll with nothing new is logged at debug level (RUST_LOG=crier=debug)"
        );
        if !self.is_shared() {
            for n in names {
                self.start_watcher(&n);
            }
        }
        // Hand the set to the caller; watchers added later go into a fresh
        // set that `stop` drains.
        let mut tasks = self.tasks.lock().unwrap_or_else(|p| p.into_inner());

        tasks
            .as_mut()
            .map(|(set, _)| std::mem::take(set))
            .unwrap_or_default()
    }

    /// Wait for watchers added after `spawn` (feeds from chat) to stop.
    pub async fn join_added(&self) {
        let set = self
            .tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_mut()
            .map(|(set, _)| std::mem::take(set));
        if let Some(mut set) = set {
            while set.join_next().await.is_some() {}
        }
    }

    async fn feed_loop(
        self: Arc<Self>,
        feed: Arc<FeedConfig>,
        stop: CancellationToken,
        (wake, now): (Arc<Notify>, Arc<AtomicBool>),
    ) {
        crate::faults::once("watcher", &feed.name.0);
        // Storage errors back off (a full or read-only disk does not heal in
        // 5 s: no hot loop re-downloading the feed), admins hear once.
        let mut storage_wait = STORAGE_WAIT_FIRST;
        let _watch = (self.telemetry.health).watch(crate::telemetry::Kind::Watcher, &feed.name.0);
        // When the feed is due, as last read or recorded (`None`: paused);
        // read again after a wake-up (a resume, a pause, a poll request).
        let mut known: Known = None;
        let mut first = true;
        loop {
            let due = match known {
                Some(due) => due,
                None => {
                    // Boxed, as the poll below: a watcher spends its life
                    // waiting, and its task is as big as its largest step.
                    let mut due = Box::pin(self.due(&feed.name.0)).await;
                    // Due at once when the watcher starts (never polled,
                    // or overdue after a stop): take a slot of the ramp.
                    if first && let Some(t) = due {
                        let now = self.db.now_ms();
                        if t <= now {
                            let slot = self.ramp.slot(feed.interval.0);
                            due = Some(now + slot.as_millis() as i64);
                        }
                    }
                    first = false;
                    known = Some(due);
                    due
                }
            };
            let wait = match due {
                Some(_) if now.swap(false, Ordering::SeqCst) => Duration::ZERO,
                Some(t) => Duration::from_millis((t - self.db.now_ms()).max(0) as u64),
                // Paused: wait for a resume (a wake-up), looking now and then.
                None => Duration::from_secs(60),
            };
            if !wait.is_zero() {
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {
                        if due.is_none() {
                            known = None;
                        }
                    }
                    _ = wake.notified() => known = None,
                    _ = stop.cancelled() => return,
                }
                continue;
            }
            if stop.is_cancelled() {
                return;
            }
            match Box::pin(self.round(&feed, due, &stop, &mut storage_wait)).await {
                Some(next) => known = next,
                None => return,
            }
        }
    }

    /// One due round of a watcher: poll (within `[sources] concurrency`),
    /// record, log, back off after a storage error. What the next round
    /// waits for (`Some(known)`), or `None` when the watcher stops. Kept
    /// out of `feed_loop` (and boxed there) so that an idle watcher's task
    /// holds only its wait.
    async fn round(
        &self,
        feed: &Arc<FeedConfig>,
        due: Option<i64>,
        stop: &CancellationToken,
        storage_wait: &mut Duration,
    ) -> Option<Known> {
        let Ok(_slot) = self.in_flight.clone().acquire_owned().await else {
            return None;
        };
        if let Some(t) = due {
            let late = self.db.now_ms() - t;
            self.telemetry
                .metrics
                .poll_started(Duration::from_millis(late.max(0) as u64));
        }
        let (busy, t0) = (
            self.telemetry
                .health
                .busy(crate::telemetry::Kind::Watcher, &feed.name.0),
            std::time::Instant::now(),
        );
        let polled = Box::pin(self.poll_guarded(feed)).await;
        drop(busy);
        drop(_slot);
        // The next round waits for what the poll recorded.
        let known = match &polled {
            Ok(r) if !r.paused && r.due_next.is_some() => Some(r.due_next),
            _ => None,
        };
        if polled.as_ref().is_ok_and(|r| r.skipped) {
            return Some(known);
        }
        self.telemetry.metrics.polled(
            &feed.name.0,
            crate::telemetry::poll_outcome(&polled),
            polled.as_ref().map_or(0, |r| r.new),
            t0.elapsed(),
        );
        match polled {
            Ok(r) => {
                if *storage_wait > STORAGE_WAIT_FIRST {
                    *storage_wait = STORAGE_WAIT_FIRST;
                    self.alerts.close("storage-poll");
                }
                if let Some(e) = &r.error {
                    let url = crate::redact::redact_url(&feed.url);
                    let next = r
                        .next_poll_at
                        .map(|t| when(t, self.db.now_ms()))
                        .unwrap_or_default();
                    tracing::warn!(feed = %feed.name, url = %url, error = %e, paused = r.paused, next_attempt = %next, "poll failed");
                } else if r.new + r.updated > 0 || r.baseline {
                    tracing::info!(feed = %feed.name, new = r.new, updated = r.updated, baseline = r.baseline, "polled");
                } else {
                    tracing::debug!(feed = %feed.name, not_modified = r.not_modified, "polled; nothing new");
                }
            }
            Err(StoreError::LeaseLost(what)) => {
                // Another instance took the feed over while this one
                // was slow: its poll was not recorded; the lease keeper
                // sees the lease gone.
                tracing::warn!(feed = %feed.name, "another instance took over the {what}: this one stops watching it");
                return None;
            }
            Err(e) => {
                tracing::error!(feed = %feed.name, error = %e, retry_in = ?*storage_wait, "cannot record the poll; will poll again");
                if *storage_wait > STORAGE_WAIT_FIRST || e.needs_operator() {
                    self.alerts.open(
                        "storage-poll",
                        &format!("Crier cannot record polls: {e}. Polling backs off until the database accepts writes again."),
                    );
                }
                tokio::select! {
                    _ = tokio::time::sleep(*storage_wait) => {}
                    _ = stop.cancelled() => return None,
                }
                *storage_wait = (*storage_wait * 2).min(STORAGE_WAIT_MAX);
            }
        }
        Some(known)
    }
}

/// A time for people: `2026-12-04T16:30:00Z (in 5m)`.
fn when(ms: i64, now: i64) -> String {
    let at = chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default();
    let secs = ((ms - now).max(0) + 999) / 1000;
    format!(
        "{at} (in {})",
        humantime::format_duration(std::time::Duration::from_secs(secs as u64))
    )
}
