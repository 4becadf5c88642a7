//! Instant delivery: the WebSub subscriber (W3C WebSub recommendation)
//! and the WordPress publish hook.
//!
//! - [`discover`]: the hub and topic of a feed (`Link` header, the feed's
//!   own `<link rel="hub">`).
//! - [`subscribe`]: subscription requests (callback URL unique per feed,
//!   unguessable; a hub.secret; a lease).
//! - [`callback`]: the hub's verification of intent and its pushes:
//!   signatures checked ([`signature`]), fat pings recorded through the
//!   poller's own path (`Poller::ingest_pushed`), thin pings → a poll now.
//! - [`hooks`]: `/hooks/wordpress/<feed>/<secret>` → a poll now.
//! - this file: [`Push`], the manager that keeps one subscription per
//!   pushed feed (subscribe, renew before the lease ends, unsubscribe
//!   removed feeds, fall back to polling when a hub denies or fails).
//!
//! A hub can only touch its own feed: the feed comes from the callback id
//! (looked up in `websub_subs`), never from what the hub sends.

pub mod callback;
pub mod discover;
pub mod hooks;
pub(crate) mod limit;
pub mod signature;
pub mod subscribe;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crier_storage::{SubState, Subscription};
use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, FeedConfig, PushMode};
use crate::db::Db;
use crate::http::Mount;
use crate::poller::Poller;
use crate::sources::Fetcher;
use crate::telemetry::Telemetry;

/// Pushes accepted per feed per minute; more are answered but turned into
/// one poll.
pub const PUSHES_PER_MINUTE: u32 = 60;
/// WordPress hook calls per feed per minute.
pub const HOOKS_PER_MINUTE: u32 = 12;

/// How often the manager looks at the subscriptions.
const TICK: Duration = Duration::from_secs(1);
/// After a failed or denied subscription, try again this much later.
const RETRY_AFTER: Duration = Duration::from_secs(3600);
/// A feed that names no hub is looked at again this much later.
const NO_HUB_RECHECK: Duration = Duration::from_secs(6 * 3600);
/// New feeds looked at per tick, and at once.
const FRESH_PER_TICK: usize = 64;
const FRESH_CONCURRENCY: usize = 8;
/// A hub that has not verified a request by then has failed.
const VERIFY_TIMEOUT_MS: i64 = 5 * 60 * 1000;

/// The feeds a hub currently pushes (shared with the poller, which polls
/// them at their safety interval).
#[derive(Debug, Clone, Default)]
pub struct Pushed(Arc<Mutex<BTreeSet<String>>>);

impl Pushed {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn contains(&self, feed: &str) -> bool {
        self.lock().contains(feed)
    }

    pub fn insert(&self, feed: &str) {
        self.lock().insert(feed.to_string());
    }

    pub fn remove(&self, feed: &str) -> bool {
        self.lock().remove(feed)
    }

    fn replace(&self, now: BTreeSet<String>) -> BTreeSet<String> {
        std::mem::replace(&mut *self.lock(), now)
    }
}

/// The WebSub subscriber and the WordPress hook of one daemon.
pub struct Push {
    pub(crate) db: Db,
    pub(crate) poller: Arc<Poller>,
    fetcher: Arc<Fetcher>,
    pub(crate) cfg: Arc<Config>,
    pub(crate) telemetry: Telemetry,
    pub(crate) limiter: limit::PerMinute,
    /// When a feed may be tried again (no hub, a failure, a denial).
    retry_at: Mutex<HashMap<String, Instant>>,
}

/// Whether `feed` is to be pushed under `cfg`: `push = "auto"`, an http(s)
/// feed, and a listener the hub can reach (`[http] listen` and
/// `public_url`).
pub fn wanted(cfg: &Config, feed: &FeedConfig) -> bool {
    feed.push == PushMode::Auto
        && cfg.http.public_url.is_some()
        && cfg.http.listen_addr().is_some_and(|a| a.is_ok())
        && cfg
            .feed_location(feed)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
}

/// A line for people about a feed's subscription: `/feeds`, the status
/// page.
pub fn describe(sub: &Subscription, now: i64) -> String {
    let hub = url::Url::parse(&sub.hub)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "the hub".into());
    match sub.state {
        SubState::Active => match sub.expires_at {
            Some(t) if t > now => format!(
                "pushed by {hub} (lease ends in {})",
                humantime::format_duration(Duration::from_secs(((t - now) / 1000) as u64))
            ),
            _ => format!("pushed by {hub} (lease ended)"),
        },
        SubState::Requested => format!("push requested from {hub}; polling"),
        SubState::Unsubscribing => format!("unsubscribing from {hub}"),
        other => format!(
            "push {other} ({}); polling",
            crate::redact::redact_text(sub.reason.as_deref().unwrap_or("no reason given"))
        ),
    }
}

impl Push {
    pub fn new(
        db: Db,
        poller: Arc<Poller>,
        fetcher: Arc<Fetcher>,
        cfg: Arc<Config>,
        telemetry: Telemetry,
    ) -> Arc<Push> {
        Arc::new(Push {
            db,
            poller,
            fetcher,
            cfg,
            telemetry,
            limiter: limit::PerMinute::default(),
            retry_at: Mutex::new(HashMap::new()),
        })
    }

    /// The routes hubs and WordPress sites call (they check their own
    /// secrets).
    pub fn mounts(self: &Arc<Self>) -> Vec<Mount> {
        vec![
            Mount::own(callback::routes(self.clone())),
            Mount::own(hooks::routes(self.clone())),
        ]
    }

    /// The manager: keeps the subscriptions in line with the feeds until
    /// `shutdown`.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        loop {
            self.tick().await;
            tokio::select! {
                _ = tokio::time::sleep(TICK) => {}
                _ = shutdown.cancelled() => return,
            }
        }
    }

    fn due(&self, feed: &str) -> bool {
        let r = self.retry_at.lock().unwrap_or_else(|p| p.into_inner());
        r.get(feed).is_none_or(|t| Instant::now() >= *t)
    }

    fn retry_later(&self, feed: &str, after: Duration) {
        self.retry_at
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(feed.to_string(), Instant::now() + after);
    }

    async fn subs(&self) -> Option<Vec<Subscription>> {
        match self.db.call(|s| s.subscriptions()).await {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::warn!(error = %e, "WebSub: cannot read the subscriptions");
                None
            }
        }
    }

    async fn set_state(&self, feed: &str, state: SubState, reason: Option<String>) {
        let f = feed.to_string();
        let now = self.db.now_ms();
        let r = self
            .db
            .call(move |s| s.set_subscription_state(&f, state, reason.as_deref(), now))
            .await;
        if let Err(e) = r {
            tracing::warn!(feed = %feed, error = %e, "WebSub: cannot record a subscription's state");
        }
    }

    /// One look at every subscription.
    async fn tick(&self) {
        let feeds: BTreeMap<String, Arc<FeedConfig>> = self
            .poller
            .feeds()
            .into_iter()
            .filter(|f| wanted(&self.cfg, &f.feed))
            .map(|f| (f.feed.name.0.clone(), f.feed))
            .collect();
        let Some(subs) = self.subs().await else {
            return;
        };
        let now = self.db.now_ms();
        let mut have = BTreeSet::new();
        for sub in subs {
            have.insert(sub.feed.clone());
            match (feeds.get(&sub.feed), sub.state) {
                (None, SubState::Unsubscribing) => {
                    if now - sub.requested_at > VERIFY_TIMEOUT_MS {
                        self.delete(&sub.feed).await;
                    }
                }
                (None, SubState::Active | SubState::Requested) => self.unsubscribe(sub).await,
                (None, _) => self.delete(&sub.feed).await,
                (Some(f), SubState::Active) => {
                    let expires = sub.expires_at.unwrap_or(i64::MAX);
                    let lease_ms = sub.lease_seconds.unwrap_or(0).max(0) * 1000;
                    let margin = (lease_ms / 4).clamp(2_000, 24 * 3600 * 1000);
                    if expires <= now {
                        tracing::warn!(feed = %sub.feed, "WebSub: the lease ended without a renewal; polling the feed");
                        self.set_state(
                            &sub.feed,
                            SubState::Expired,
                            Some("the lease ended".into()),
                        )
                        .await;
                    } else if expires - now < margin && now - sub.requested_at > margin {
                        self.subscribe(f, Some(sub)).await;
                    }
                }
                (Some(_), SubState::Requested) => {
                    if now - sub.requested_at > VERIFY_TIMEOUT_MS {
                        let why = "the hub did not verify the subscription in time";
                        tracing::warn!(feed = %sub.feed, "WebSub: {why}; polling the feed");
                        self.set_state(&sub.feed, SubState::Failed, Some(why.into()))
                            .await;
                        self.retry_later(&sub.feed, RETRY_AFTER);
                    }
                }
                (Some(f), _) => {
                    if self.due(&sub.feed) {
                        self.subscribe(f, None).await;
                    }
                }
            }
        }
        // New feeds: discovery and subscription, a few at a time and a
        // bounded number per tick (renewals are not held up behind a
        // thousand discoveries at start).
        let fresh: Vec<&Arc<FeedConfig>> = feeds
            .iter()
            .filter(|(name, _)| !have.contains(*name) && self.due(name))
            .map(|(_, f)| f)
            .take(FRESH_PER_TICK)
            .collect();
        futures::stream::iter(fresh)
            .for_each_concurrent(FRESH_CONCURRENCY, |f| self.subscribe(f, None))
            .await;
        self.refresh_pushed().await;
    }

    /// The pushed set from the table: active subscriptions within their
    /// lease. A feed that leaves it is polled at once (its next poll may
    /// be a safety interval away).
    async fn refresh_pushed(&self) {
        let Some(subs) = self.subs().await else {
            return;
        };
        let now = self.db.now_ms();
        let active: BTreeSet<String> = subs
            .into_iter()
            .filter(|s| s.state == SubState::Active && s.expires_at.is_none_or(|t| t > now))
            .map(|s| s.feed)
            .collect();
        let before = self.poller.pushed().replace(active.clone());
        for gone in before.difference(&active) {
            tracing::info!(feed = %gone, "WebSub: no longer pushed; polling the feed at its interval");
            self.poller.poll_now(gone);
        }
    }

    async fn delete(&self, feed: &str) {
        let f = feed.to_string();
        if let Err(e) = self.db.call(move |s| s.delete_subscription(&f)).await {
            tracing::warn!(feed = %feed, error = %e, "WebSub: cannot delete a subscription");
        }
    }

    fn spec(&self, f: &FeedConfig) -> Result<crate::sources::FeedSpec, String> {
        let guarded = self.poller.feed(&f.name.0).is_none_or(|i| i.dynamic);
        crate::poller::spec_for(&self.cfg, f).map(|s| crate::sources::FeedSpec { guarded, ..s })
    }

    /// Subscribe `f` (discovering its hub), or renew `existing`.
    async fn subscribe(&self, f: &FeedConfig, existing: Option<Subscription>) {
        let name = f.name.0.clone();
        let Some(public) = self.cfg.http.public_url.as_ref() else {
            return;
        };
        let spec = match self.spec(f) {
            Ok(s) => s,
            Err(e) => {
                tracing::debug!(feed = %name, error = %e, "WebSub: no subscription");
                self.retry_later(&name, NO_HUB_RECHECK);
                return;
            }
        };
        let now = self.db.now_ms();
        let sub = match existing {
            Some(mut s) => {
                s.requested_at = now;
                s
            }
            None => match discover::discover(&self.fetcher, &spec).await {
                Ok(Some(d)) => Subscription {
                    feed: name.clone(),
                    hub: d.hub.to_string(),
                    topic: d.topic.to_string(),
                    secret: subscribe::random_token(),
                    callback_id: subscribe::random_token(),
                    state: SubState::Requested,
                    lease_seconds: None,
                    expires_at: None,
                    requested_at: now,
                    verified_at: None,
                    last_push_at: None,
                    pushes: 0,
                    reason: None,
                },
                Ok(None) => {
                    tracing::debug!(feed = %name, "WebSub: the feed names no hub; polling");
                    self.retry_later(&name, NO_HUB_RECHECK);
                    return;
                }
                Err(e) => {
                    tracing::debug!(feed = %name, error = %e, "WebSub: discovery failed; polling");
                    self.retry_later(&name, RETRY_AFTER);
                    return;
                }
            },
        };
        let renewal = sub.state == SubState::Active;
        // Recorded before the request: a hub may verify before it answers.
        let row = sub.clone();
        let now = self.db.now_ms();
        if let Err(e) = self.db.call(move |s| s.put_subscription(&row, now)).await {
            tracing::warn!(feed = %name, error = %e, "WebSub: cannot record the subscription");
            self.retry_later(&name, RETRY_AFTER);
            return;
        }
        let hub = match url::Url::parse(&sub.hub) {
            Ok(u) => u,
            Err(e) => {
                self.failed(&name, format!("the hub's URL is invalid: {e}"))
                    .await;
                return;
            }
        };
        let client = match self.fetcher.client_for(&hub, &spec) {
            Ok(c) => c,
            Err(e) => {
                self.failed(&name, crate::redact::redact_text(&e.to_string()))
                    .await;
                return;
            }
        };
        let callback = subscribe::callback_url(&public.0, &sub.callback_id);
        let res = subscribe::request(
            client,
            &hub,
            subscribe::Mode::Subscribe,
            &sub.topic,
            &callback,
            &sub.secret,
        )
        .await;
        match res {
            Ok(()) => tracing::info!(
                feed = %name,
                hub = %crate::redact::redact_url(&sub.hub),
                renewal,
                "WebSub: subscription requested; waiting for the hub's verification"
            ),
            Err(e) if renewal => {
                tracing::warn!(feed = %name, error = %e, "WebSub: renewing the subscription failed; will try again before the lease ends");
            }
            Err(e) => self.failed(&name, e).await,
        }
    }

    async fn failed(&self, feed: &str, why: String) {
        tracing::warn!(feed = %feed, reason = %why, "WebSub: subscription failed; the feed is polled (tried again in an hour)");
        self.set_state(feed, SubState::Failed, Some(why)).await;
        self.retry_later(feed, RETRY_AFTER);
    }

    /// Ask the hub to stop pushing a feed Crier no longer watches.
    async fn unsubscribe(&self, mut sub: Subscription) {
        let feed = sub.feed.clone();
        self.poller.pushed().remove(&feed);
        sub.state = SubState::Unsubscribing;
        sub.requested_at = self.db.now_ms();
        let row = sub.clone();
        let now = self.db.now_ms();
        if let Err(e) = self.db.call(move |s| s.put_subscription(&row, now)).await {
            tracing::warn!(feed = %feed, error = %e, "WebSub: cannot record the unsubscription");
            return;
        }
        let Some(public) = self.cfg.http.public_url.as_ref() else {
            self.delete(&feed).await;
            return;
        };
        let hub = url::Url::parse(&sub.hub);
        // A feed that is not in the config came from chat: its hub is asked
        // through the SSRF guard, as its requests always were.
        let guarded = self.cfg.feed(&feed).is_none();
        let client = hub.as_ref().ok().and_then(|h| {
            let spec = crate::sources::FeedSpec {
                guarded,
                ..crate::sources::FeedSpec::new(feed.clone(), h.clone())
            };
            self.fetcher.client_for(h, &spec).ok()
        });
        let res = match (hub.as_ref(), client) {
            (Ok(h), Some(c)) => {
                subscribe::request(
                    c,
                    h,
                    subscribe::Mode::Unsubscribe,
                    &sub.topic,
                    &subscribe::callback_url(&public.0, &sub.callback_id),
                    &sub.secret,
                )
                .await
            }
            _ => Err("the hub's URL is invalid".into()),
        };
        match res {
            Ok(()) => tracing::info!(feed = %feed, "WebSub: unsubscription requested"),
            Err(e) => {
                tracing::info!(feed = %feed, error = %e, "WebSub: the hub did not take the unsubscription; forgetting it");
                self.delete(&feed).await;
            }
        }
    }
}
