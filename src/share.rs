//! Several instances on one PostgreSQL database share the work through
//! leases (storage's `leases.rs`): the lease keeper of each instance
//! renews what it holds every third of the lease time, takes its fair
//! share of what is free, hands back what is over its share, and starts
//! or stops the matching tasks:
//! - a **feed** lease → that feed's watcher (`Poller::watch`);
//! - a **sender**'s target leases, claimed together → the workers of those
//!   targets (one bot's targets are delivered by one instance, so its
//!   global and per-chat limits are kept by one process); rows the
//!   previous holder left `sending` are resolved first, by the crash
//!   policy;
//! - a **front-end** lease → that chat front-end (one `getUpdates` poller,
//!   one gateway session per bot), held by the instance that holds its
//!   bot's targets when it has some, so one process sends everything
//!   through one bot.
//!
//! Writes of leased work are fenced in storage: once another instance
//! took a lease over, the old holder's writes for it are refused, and its
//! task stops. Lease times are compared across machines: they come from
//! the system clock, like the instances' heartbeats.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crier_bots::platform::Task;
use crier_storage::{SCOPE_FEED, SCOPE_TARGET};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::alerts::Alerts;
use crate::clock::Clock;
use crate::db::{Db, StoreError};
use crate::engine::Engine;
use crate::poller::Poller;

/// The scope of a chat front-end's lease.
pub const SCOPE_FRONTEND: &str = "frontend";

/// A task that must run on one instance only: a chat front-end, or the
/// WebSub subscription manager.
pub struct SharedFrontend {
    pub name: String,
    pub run: Arc<dyn Fn(CancellationToken) -> Task + Send + Sync>,
}

mod balance;
pub use balance::{Balance, balance};

/// A group of targets held together, with their workers.
struct Running {
    targets: Vec<String>,
    stop: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

#[derive(Default)]
struct State {
    feeds: BTreeSet<String>,
    senders: BTreeMap<String, Running>,
    frontends: BTreeMap<String, (CancellationToken, JoinHandle<()>)>,
}

/// The lease keeper of one instance.
pub struct Keeper {
    db: Db,
    me: String,
    /// This instance's heartbeat row: written every round, so "live" means
    /// "its keeper runs".
    who: crate::instances::Me,
    lease: Duration,
    poller: Arc<Poller>,
    engine: Arc<Engine>,
    frontends: Vec<SharedFrontend>,
    alerts: Alerts,
    /// Kept across restarts of the keeper's task (after a panic).
    state: Mutex<State>,
    /// Live instances: heartbeats younger than this.
    live_within_ms: i64,
}

impl Keeper {
    pub fn new(
        db: Db,
        who: crate::instances::Me,
        lease: Duration,
        poller: Arc<Poller>,
        engine: Arc<Engine>,
        frontends: Vec<SharedFrontend>,
        alerts: Alerts,
    ) -> Arc<Keeper> {
        poller.set_shared();
        Arc::new(Keeper {
            db,
            me: who.id().to_string(),
            who,
            lease,
            poller,
            engine,
            frontends,
            alerts,
            state: Mutex::new(State::default()),
            // A round may come late by up to one round.
            live_within_ms: (lease.as_millis() as i64) * 4 / 3,
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Renew, balance and start or stop tasks every third of the lease,
    /// until `shutdown`; then stop every task and hand every lease back
    /// (others take the work at once, not after the lease time).
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        let every = self.lease / 3;
        let mut failing = false;
        loop {
            match self.round(&shutdown).await {
                Ok(()) if failing => {
                    tracing::info!("the lease keeper reaches the database again");
                    failing = false;
                }
                Ok(()) => {}
                // Once per incident: it retries every round.
                Err(e) if !failing => {
                    tracing::warn!(error = %e, "the lease keeper cannot reach the database; it retries every round (leases it cannot renew end, and other instances take that work over)");
                    failing = true;
                }
                Err(e) => {
                    tracing::debug!(error = %e, "the lease keeper still cannot reach the database")
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = shutdown.cancelled() => break,
            }
        }
    }

    /// Stop every leased task (workers finish their step) and end this
    /// instance's leases. Called once the run is over.
    pub async fn hand_back(&self) {
        let (senders, frontends, feeds) = {
            let mut st = self.state();
            (
                std::mem::take(&mut st.senders),
                std::mem::take(&mut st.frontends),
                std::mem::take(&mut st.feeds),
            )
        };
        for f in &feeds {
            self.poller.unwatch(f);
        }
        for (_, (stop, task)) in frontends {
            stop.cancel();
            let _ = task.await;
        }
        for (_, r) in senders {
            r.stop.cancel();
            for t in r.tasks {
                let _ = t.await;
            }
        }
        let me = self.me.clone();
        if let Err(e) = self.db.call(move |s| s.release_all_leases(&me)).await {
            tracing::warn!(error = %e, "cannot hand the leases back; others take the work when they end");
        }
    }

    async fn round(&self, shutdown: &CancellationToken) -> Result<(), StoreError> {
        if shutdown.is_cancelled() {
            return Ok(());
        }
        let who = self.who.clone();
        self.db.call(move |s| who.beat(s, "shared")).await?;
        self.sync_dynamic_feeds().await?;
        let now = Clock::System.now_ms();
        let until = now + self.lease.as_millis() as i64;
        let live = self.live_instances(now).await?;
        self.keep_feeds(now, until, live).await?;
        self.keep_senders(now, until, live, shutdown).await?;
        self.keep_frontends(now, until, shutdown).await?;
        Ok(())
    }

    /// Feeds another instance added or removed from chat.
    async fn sync_dynamic_feeds(&self) -> Result<(), StoreError> {
        let stored = self.db.call(|s| s.dynamic_feeds()).await?;
        let known_targets: BTreeSet<String> =
            self.engine.target_names().map(str::to_string).collect();
        let mut names = BTreeSet::new();
        for mut f in stored {
            f.targets.retain(|t| known_targets.contains(t));
            if f.targets.is_empty() {
                continue;
            }
            names.insert(f.name.clone());
            if self.poller.feed(&f.name).is_none() {
                self.poller
                    .add_feed(crate::commands::dynamic_feed_config(&f));
            }
        }
        for info in self.poller.feeds() {
            if info.dynamic && !names.contains(&info.feed.name.0) {
                let _ = self.poller.remove_feed(&info.feed.name.0);
                self.state().feeds.remove(&info.feed.name.0);
            }
        }
        Ok(())
    }

    async fn live_instances(&self, now: i64) -> Result<usize, StoreError> {
        let within = self.live_within_ms;
        let rows = self.db.call(|s| s.instances()).await?;
        let live = rows
            .iter()
            .filter(|r| r.role != "gone" && now - r.seen_at < within)
            .count();
        Ok(live.max(1))
    }

    async fn counts(&self, scope: &'static str, now: i64) -> Result<Vec<usize>, StoreError> {
        let me = self.me.clone();
        let rows = self.db.call(move |s| s.lease_counts(scope, now)).await?;
        Ok(rows
            .into_iter()
            .filter(|(h, _)| *h != me)
            .map(|(_, n)| n as usize)
            .collect())
    }

    /// Renew this instance's leases of `scope`; the names still held.
    async fn renew(&self, scope: &'static str, until: i64) -> Result<BTreeSet<String>, StoreError> {
        let me = self.me.clone();
        Ok(self
            .db
            .call(move |s| s.renew_leases(scope, &me, until))
            .await?
            .into_iter()
            .map(|h| h.name)
            .collect())
    }

    async fn keep_feeds(&self, now: i64, until: i64, live: usize) -> Result<(), StoreError> {
        let renewed = self.renew(SCOPE_FEED, until).await?;
        let known = self.poller.feed_names();
        let lost: Vec<String> = {
            let mut st = self.state();
            let lost: Vec<String> = st.feeds.difference(&renewed).cloned().collect();
            for f in &lost {
                st.feeds.remove(f);
            }
            lost
        };
        for f in &lost {
            tracing::warn!(feed = %f, "this instance's lease on the feed ended and another took it: no longer watched here");
            self.poller.unwatch(f);
        }
        // Leases of feeds no longer known (removed from chat) go back.
        let stale: Vec<String> = renewed
            .iter()
            .filter(|f| !known.contains(f))
            .cloned()
            .collect();
        if !stale.is_empty() {
            let me = self.me.clone();
            self.db
                .call(move |s| s.release_leases(SCOPE_FEED, &stale, &me))
                .await?;
        }
        let others = self.counts(SCOPE_FEED, now).await?;
        let mine = self.state().feeds.len();
        let b = balance(mine, &others, known.len(), live);
        let held_by_others = if b.claim > 0 {
            let me = self.me.clone();
            self.db
                .call(move |s| s.leased_by_others(SCOPE_FEED, &me, now))
                .await?
        } else {
            Default::default()
        };
        let free: Vec<String> = {
            let st = self.state();
            known
                .iter()
                .filter(|f| !st.feeds.contains(*f) && !held_by_others.contains(*f))
                .cloned()
                .collect()
        };
        if b.claim > 0 {
            let (me, max) = (self.me.clone(), b.claim);
            let got = self
                .db
                .call(move |s| s.claim_each(SCOPE_FEED, &free, &me, until, now, max))
                .await?;
            if !got.is_empty() {
                tracing::info!(feeds = got.len(), "took feeds to watch");
            }
            for h in got {
                self.state().feeds.insert(h.name.clone());
                self.poller.watch(&h.name);
            }
        } else if b.release > 0 {
            let give: Vec<String> = self
                .state()
                .feeds
                .iter()
                .rev()
                .take(b.release)
                .cloned()
                .collect();
            for f in &give {
                self.poller.unwatch(f);
                self.state().feeds.remove(f);
            }
            tracing::info!(feeds = give.len(), "handing feeds over to other instances");
            let me = self.me.clone();
            self.db
                .call(move |s| s.release_leases(SCOPE_FEED, &give, &me))
                .await?;
        }
        Ok(())
    }

    /// Targets by sender, from the engine's targets.
    fn senders(&self) -> BTreeMap<String, Vec<String>> {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for t in self.engine.target_names() {
            if let Some(s) = self.engine.sender_of(t) {
                out.entry(s).or_default().push(t.to_string());
            }
        }
        out
    }

    async fn keep_senders(
        &self,
        now: i64,
        until: i64,
        live: usize,
        shutdown: &CancellationToken,
    ) -> Result<(), StoreError> {
        let renewed = self.renew(SCOPE_TARGET, until).await?;
        // A sender with any target lease lost is stopped whole.
        let lost = take_where(&mut self.state().senders, |_, r| {
            r.targets.iter().any(|t| !renewed.contains(t))
        });
        for (sender, r) in lost {
            tracing::warn!(sender = %sender, "this instance's lease on the targets ended and another took them: no longer delivering to them here");
            r.stop.cancel();
        }
        let senders = self.senders();
        // Count senders, not targets: other instances hold whole senders.
        let target_counts = self.counts(SCOPE_TARGET, now).await?;
        let per_target = senders.values().map(Vec::len).sum::<usize>().max(1) as f64
            / senders.len().max(1) as f64;
        let others: Vec<usize> = target_counts
            .iter()
            .map(|&n| (n as f64 / per_target).round() as usize)
            .collect();
        let mine = self.state().senders.len();
        let b = balance(mine, &others, senders.len(), live);
        let held_by_others = {
            let me = self.me.clone();
            self.db
                .call(move |s| s.leased_by_others(SCOPE_TARGET, &me, now))
                .await?
        };
        let free: Vec<(String, Vec<String>)> = {
            let st = self.state();
            senders
                .into_iter()
                .filter(|(n, ts)| {
                    !st.senders.contains_key(n) && !ts.iter().any(|t| held_by_others.contains(t))
                })
                .collect()
        };
        let mut claimed = 0;
        for (sender, targets) in free {
            if claimed >= b.claim || shutdown.is_cancelled() {
                break;
            }
            let (me, ts) = (self.me.clone(), targets.clone());
            let got = self
                .db
                .call(move |s| s.claim_leases(SCOPE_TARGET, &ts, &me, until, now))
                .await?;
            if got.is_none() {
                continue;
            }
            claimed += 1;
            tracing::info!(sender = %sender, targets = targets.len(), "took the targets of a sender to deliver");
            for t in &targets {
                match self.engine.recover_target(t).await {
                    Ok(0) => {}
                    Ok(n) => {
                        tracing::warn!(target_name = %t, resolved = n, "resolved deliveries the previous holder left in flight")
                    }
                    Err(e) => {
                        tracing::error!(target_name = %t, error = %e, "cannot resolve the previous holder's deliveries; the target is left to another round");
                        let (me, ts) = (self.me.clone(), targets.clone());
                        self.db
                            .call(move |s| s.release_leases(SCOPE_TARGET, &ts, &me))
                            .await?;
                        return Err(e);
                    }
                }
            }
            for t in &targets {
                if let Err(e) = self.engine.seed_limits(t).await {
                    tracing::warn!(target_name = %t, error = %e, "cannot read what the previous holder sent; the rate limiter starts empty");
                }
            }
            let stop = shutdown.child_token();
            let tasks = targets
                .iter()
                .map(|t| self.engine.spawn_worker(t, stop.clone()))
                .collect();
            self.state().senders.insert(
                sender,
                Running {
                    targets,
                    stop,
                    tasks,
                },
            );
        }
        if b.release > 0 {
            let give = {
                let mut st = self.state();
                let names: BTreeSet<String> =
                    st.senders.keys().rev().take(b.release).cloned().collect();
                take_where(&mut st.senders, |n, _| names.contains(n))
            };
            for (sender, r) in give {
                tracing::info!(sender = %sender, "handing a sender's targets over to another instance");
                r.stop.cancel();
                // Their rows must not be left `sending`: wait for the step.
                for t in r.tasks {
                    let _ = t.await;
                }
                let me = self.me.clone();
                let ts = r.targets;
                self.db
                    .call(move |s| s.release_leases(SCOPE_TARGET, &ts, &me))
                    .await?;
            }
        }
        Ok(())
    }

    async fn keep_frontends(
        &self,
        now: i64,
        until: i64,
        shutdown: &CancellationToken,
    ) -> Result<(), StoreError> {
        if self.frontends.is_empty() {
            return Ok(());
        }
        let renewed = self.renew(SCOPE_FRONTEND, until).await?;
        let lost = take_where(&mut self.state().frontends, |n, _| !renewed.contains(n));
        for (name, (stop, _)) in lost {
            tracing::warn!(frontend = %name, "another instance took over the chat front-end");
            stop.cancel();
        }
        // A front-end goes with its bot's targets when it has some (the
        // sender of the same name): one process sends everything through
        // one bot, replies included, within the bot's limits.
        let senders = self.senders();
        let follows = |name: &str| senders.contains_key(name);
        let mine = |st: &State, name: &str| st.senders.contains_key(name);
        let astray = {
            let mut st = self.state();
            let held: BTreeSet<String> = st.senders.keys().cloned().collect();
            take_where(&mut st.frontends, |n, _| follows(n) && !held.contains(n))
        };
        for (name, (stop, _)) in astray {
            tracing::info!(frontend = %name, "handing the chat front-end over with its bot's targets");
            stop.cancel();
            let (me, n) = (self.me.clone(), vec![name]);
            self.db
                .call(move |s| s.release_leases(SCOPE_FRONTEND, &n, &me))
                .await?;
        }
        for fe in &self.frontends {
            let skip = {
                let st = self.state();
                st.frontends.contains_key(&fe.name) || (follows(&fe.name) && !mine(&st, &fe.name))
            };
            if skip || shutdown.is_cancelled() {
                continue;
            }
            let (me, n) = (self.me.clone(), vec![fe.name.clone()]);
            let got = self
                .db
                .call(move |s| s.claim_leases(SCOPE_FRONTEND, &n, &me, until, now))
                .await?;
            if got.is_none() {
                continue;
            }
            tracing::info!(frontend = %fe.name, "this instance runs the chat front-end");
            let stop = shutdown.child_token();
            let run = fe.run.clone();
            let sd = stop.clone();
            let task = tokio::spawn(crate::supervise::supervise(
                "front-end",
                fe.name.clone(),
                self.alerts.clone(),
                stop.clone(),
                move || run(sd.clone()),
            ));
            self.state().frontends.insert(fe.name.clone(), (stop, task));
        }
        Ok(())
    }
}

/// Remove and return the entries of `map` that `pred` picks.
fn take_where<V>(
    map: &mut BTreeMap<String, V>,
    pred: impl Fn(&String, &V) -> bool,
) -> Vec<(String, V)> {
    let names: Vec<String> = map
        .iter()
        .filter(|(n, v)| pred(n, v))
        .map(|(n, _)| n.clone())
        .collect();
    names
        .into_iter()
        .filter_map(|n| map.remove(&n).map(|v| (n, v)))
        .collect()
}
