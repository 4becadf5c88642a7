//! The Prometheus metrics of one daemon (`prometheus-client`; the text
//! format is the crate's, not ours). Label values are feed and target
//! names from the config, platform names and fixed outcome words: nothing
//! from article text, so the number of series is bounded.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use crier_bots::DeliveryError;
use crier_storage::QueueStats;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

/// Feeds watched above which the per-feed series become one
/// (`Metrics::set_feed_count`).
pub const FEED_SERIES_MAX: usize = 1_000;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FeedOutcome {
    feed: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FeedLabel {
    feed: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TargetState {
    target: String,
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TargetLabel {
    target: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PlatformLabel {
    platform: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PlatformStatus {
    platform: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Build {
    version: String,
}

type HistFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 0.5 s … about 2.3 h.
    Histogram::new(exponential_buckets(0.5, 2.0, 15))
}

/// How a poll ended, for `crier_polls_total{outcome}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollOutcome {
    /// New or updated articles.
    New,
    /// 304 Not Modified.
    NotModified,
    /// Fetched, nothing new.
    Unchanged,
    /// The poll failed (`kind`: `transient`, `permanent`, `storage`).
    Error(&'static str),
}

impl PollOutcome {
    fn label(self) -> String {
        match self {
            PollOutcome::New => "new".into(),
            PollOutcome::NotModified => "not_modified".into(),
            PollOutcome::Unchanged => "unchanged".into(),
            PollOutcome::Error(kind) => format!("error_{kind}"),
        }
    }
}

/// Samples of the total queue depth kept for the status page's chart.
const TREND_SAMPLES: usize = 144;

pub struct Metrics {
    registry: Registry,
    polls: Family<FeedOutcome, Counter>,
    poll_duration: Histogram,
    poll_lag: Histogram,
    ingested: Family<FeedLabel, Counter>,
    deliveries: Family<TargetState, Counter>,
    retries: Family<TargetLabel, Counter>,
    queue_depth: Family<TargetLabel, Gauge>,
    queue_oldest: Family<TargetLabel, Gauge<f64, AtomicU64>>,
    latency: HistFamily<PlatformLabel>,
    answers: Family<PlatformStatus, Counter>,
    rate_wait: Family<PlatformLabel, Counter<f64, AtomicU64>>,
    limiter_wait: Family<PlatformLabel, Counter<f64, AtomicU64>>,
    /// What `limiter_wait` shows of `crier_bots::pacing`, per platform.
    limiter_shown: Mutex<[Duration; 2]>,
    open_alerts: Gauge,
    /// Per-feed series, or one `feed="*"` series past [`FEED_SERIES_MAX`].
    per_feed: std::sync::atomic::AtomicBool,
    paused_feeds: Gauge,
    disabled_targets: Gauge,
    paused_targets: Gauge,
    panics: Counter,
    websub: Family<FeedOutcome, Counter>,
    trend: Mutex<VecDeque<(i64, u64)>>,
    platforms: Mutex<HashMap<String, &'static str>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut r = Registry::with_prefix("crier");
        let m = Metrics {
            registry: Registry::default(),
            polls: Family::default(),
            poll_duration: Histogram::new(exponential_buckets(0.005, 2.0, 14)),
            poll_lag: Histogram::new([0.1, 0.5, 1.0, 5.0, 30.0, 300.0]),
            ingested: Family::default(),
            deliveries: Family::default(),
            retries: Family::default(),
            queue_depth: Family::default(),
            queue_oldest: Family::default(),
            latency: Family::new_with_constructor(latency_histogram as fn() -> Histogram),
            answers: Family::default(),
            rate_wait: Family::default(),
            limiter_wait: Family::default(),
            limiter_shown: Mutex::new([Duration::ZERO; 2]),
            open_alerts: Gauge::default(),
            per_feed: std::sync::atomic::AtomicBool::new(true),
            paused_feeds: Gauge::default(),
            disabled_targets: Gauge::default(),
            paused_targets: Gauge::default(),
            panics: Counter::default(),
            websub: Family::default(),
            trend: Mutex::new(VecDeque::new()),
            platforms: Mutex::new(HashMap::new()),
        };
        r.register(
            "polls",
            "Feed polls by feed and outcome (new, not_modified, unchanged, error_<kind>)",
            m.polls.clone(),
        );
        r.register(
            "poll_duration_seconds",
            "Time one poll took (fetch, parse, record)",
            m.poll_duration.clone(),
        );
        r.register(
            "poll_lag_seconds",
            "How late a scheduled poll started after the time it was due (over 5 s: the watcher falls behind)",
            m.poll_lag.clone(),
        );
        r.register(
            "articles_ingested",
            "New articles recorded, by feed",
            m.ingested.clone(),
        );
        r.register(
            "deliveries",
            "Delivery attempts by target and result (sent, retry, deferred, failed, skipped)",
            m.deliveries.clone(),
        );
        r.register(
            "delivery_retries",
            "Deliveries scheduled for another attempt, by target",
            m.retries.clone(),
        );
        r.register(
            "queue_depth",
            "Deliveries waiting (pending or sending), by target",
            m.queue_depth.clone(),
        );
        r.register(
            "queue_oldest_age_seconds",
            "Age of the oldest waiting delivery, by target (0 when none)",
            m.queue_oldest.clone(),
        );
        r.register(
            "delivery_latency_seconds",
            "From an article's appearance (queued) to its first message delivered, by platform",
            m.latency.clone(),
        );
        r.register(
            "platform_answers",
            "Platform answers to delivery requests by status class (2xx, 429, 4xx, 5xx, none)",
            m.answers.clone(),
        );
        r.register(
            "rate_limit_wait_seconds",
            "Time deliveries were told to wait by a platform's rate limit (429 retry_after)",
            m.rate_wait.clone(),
        );
        r.register(
            "rate_limiter_wait_seconds",
            "Time spent waiting in Crier's own rate limiters before sending, by platform",
            m.limiter_wait.clone(),
        );
        r.register("open_alerts", "Open alert incidents", m.open_alerts.clone());
        r.register("paused_feeds", "Feeds paused", m.paused_feeds.clone());
        r.register(
            "disabled_targets",
            "Targets disabled (unusable)",
            m.disabled_targets.clone(),
        );
        r.register(
            "paused_targets",
            "Targets paused by an admin",
            m.paused_targets.clone(),
        );
        r.register(
            "panics",
            "Long-lived tasks that panicked (and were restarted)",
            m.panics.clone(),
        );
        r.register(
            "websub_pushes",
            "WebSub pushes by feed and outcome (fat, thin, fat_polled, unsigned, bad_signature, rate_limited, too_large, unparsable, gone)",
            m.websub.clone(),
        );
        r.register(
            "build",
            "Build information",
            Info::new(Build {
                version: env!("CARGO_PKG_VERSION").to_string(),
            }),
        );
        Metrics { registry: r, ..m }
    }

    /// Tell the metrics which platform each target is on (for the
    /// per-platform series).
    pub fn set_platform(&self, target: &str, platform: &'static str) {
        self.platforms
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(target.to_string(), platform);
    }

    /// How many feeds are watched: past [`FEED_SERIES_MAX`] the per-feed
    /// series (polls, articles, pushes) are kept under `feed="*"` (all
    /// feeds) instead — 100,000 feeds would otherwise be several hundred
    /// thousand series, tens of megabytes in the process and a /metrics
    /// page no Prometheus should scrape. The status page and `/status`
    /// still show every feed (from the delivery log).
    pub fn set_feed_count(&self, feeds: usize) {
        self.per_feed.store(
            feeds <= FEED_SERIES_MAX,
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    /// The `feed` label value for `feed`.
    fn feed_label(&self, feed: &str) -> String {
        if self.per_feed.load(std::sync::atomic::Ordering::Relaxed) {
            feed.to_string()
        } else {
            "*".to_string()
        }
    }

    /// One poll ended.
    pub fn polled(&self, feed: &str, outcome: PollOutcome, new: usize, took: Duration) {
        self.polls
            .get_or_create(&FeedOutcome {
                feed: self.feed_label(feed),
                outcome: outcome.label(),
            })
            .inc();
        self.poll_duration.observe(took.as_secs_f64());
        self.ingested(feed, new);
    }

    /// A scheduled poll started `lag` after it was due.
    pub fn poll_started(&self, lag: Duration) {
        self.poll_lag.observe(lag.as_secs_f64());
    }

    /// `new` articles of `feed` recorded (by a poll or a push).
    pub fn ingested(&self, feed: &str, new: usize) {
        if new > 0 {
            self.ingested
                .get_or_create(&FeedLabel {
                    feed: self.feed_label(feed),
                })
                .inc_by(new as u64);
        }
    }

    /// A WebSub push for `feed` was handled (`outcome`: a fixed word).
    pub fn pushed(&self, feed: &str, outcome: &'static str) {
        self.websub
            .get_or_create(&FeedOutcome {
                feed: self.feed_label(feed),
                outcome: outcome.to_string(),
            })
            .inc();
    }

    /// One delivery attempt ended. `queued_for_ms`: for the job's first
    /// message, how long ago its row was created (the article's
    /// appearance).
    pub fn delivered(
        &self,
        target: &str,
        platform: &str,
        result: Result<(), &DeliveryError>,
        last_attempt: bool,
        queued_for_ms: Option<i64>,
    ) {
        let (state, status) = match result {
            Ok(()) => ("sent", "2xx"),
            Err(DeliveryError::RateLimited { retry_after }) => {
                self.rate_wait
                    .get_or_create(&PlatformLabel {
                        platform: platform.to_string(),
                    })
                    .inc_by(retry_after.as_secs_f64());
                ("deferred", "429")
            }
            Err(DeliveryError::Transient(_)) if last_attempt => ("failed", "5xx"),
            Err(DeliveryError::Transient(_)) => ("retry", "5xx"),
            Err(DeliveryError::Ambiguous(_)) => ("retry", "none"),
            Err(DeliveryError::TargetGone(_) | DeliveryError::TargetMoved(_)) => {
                ("deferred", "4xx")
            }
            Err(DeliveryError::Rejected(_)) => ("failed", "4xx"),
            Err(DeliveryError::MessageGone(_) | DeliveryError::NotDeletable(_)) => {
                ("skipped", "4xx")
            }
        };
        self.deliveries
            .get_or_create(&TargetState {
                target: target.to_string(),
                state: state.to_string(),
            })
            .inc();
        if state == "retry" {
            self.retries
                .get_or_create(&TargetLabel {
                    target: target.to_string(),
                })
                .inc();
        }
        self.answers
            .get_or_create(&PlatformStatus {
                platform: platform.to_string(),
                status: status.to_string(),
            })
            .inc();
        if let (Ok(()), Some(ms)) = (result, queued_for_ms) {
            let secs = ms.max(0) as f64 / 1000.0;
            self.latency
                .get_or_create(&PlatformLabel {
                    platform: platform.to_string(),
                })
                .observe(secs);
        }
    }

    /// Catch up with the process-wide panic count kept by the supervisor
    /// and every panic guard (`crier_bots::panics`).
    fn sync_panics(&self) {
        let seen = crier_bots::panics::count();
        let shown = self.panics.get();
        if seen > shown {
            self.panics.inc_by(seen - shown);
        }
    }

    /// Catch up with the waits the adapters' limiters recorded
    /// (`crier_bots::pacing`); both platforms' series always show.
    fn sync_limiter_waits(&self) {
        let mut shown = self.limiter_shown.lock().unwrap_or_else(|p| p.into_inner());
        for (i, p) in crier_bots::pacing::Limiter::ALL.into_iter().enumerate() {
            let seen = crier_bots::pacing::waited(p);
            let c = self.limiter_wait.get_or_create(&PlatformLabel {
                platform: p.name().to_string(),
            });
            if seen > shown[i] {
                c.inc_by((seen - shown[i]).as_secs_f64());
                shown[i] = seen;
            }
        }
    }

    pub fn panics(&self) -> u64 {
        self.sync_panics();
        self.panics.get()
    }

    /// Set the gauges read from the delivery log (at each scrape).
    pub fn refresh(
        &self,
        queues: &[QueueStats],
        open_alerts: usize,
        paused_feeds: usize,
        disabled_targets: usize,
        paused_targets: usize,
        now: i64,
    ) {
        self.queue_depth.clear();
        self.queue_oldest.clear();
        let mut total = 0;
        for q in queues {
            let l = TargetLabel {
                target: q.target.clone(),
            };
            total += q.depth;
            self.queue_depth.get_or_create(&l).set(q.depth as i64);
            let age = q.oldest_at.map(|t| (now - t).max(0) as f64 / 1000.0);
            self.queue_oldest.get_or_create(&l).set(age.unwrap_or(0.0));
        }
        self.open_alerts.set(open_alerts as i64);
        self.paused_feeds.set(paused_feeds as i64);
        self.disabled_targets.set(disabled_targets as i64);
        self.paused_targets.set(paused_targets as i64);
        self.sample_queue(now, total);
    }

    /// Record one sample of the total queue depth (the page's trend).
    pub fn sample_queue(&self, now: i64, depth: u64) {
        let mut t = self.trend.lock().unwrap_or_else(|p| p.into_inner());
        // At most one sample a minute: scrapes and page loads both sample.
        if let Some(last) = t.back_mut()
            && now - last.0 < 60_000
        {
            last.1 = depth;
            return;
        }
        t.push_back((now, depth));
        while t.len() > TREND_SAMPLES {
            t.pop_front();
        }
    }

    /// The queue depth samples, oldest first.
    pub fn queue_trend(&self) -> Vec<u64> {
        self.trend
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(_, d)| *d)
            .collect()
    }

    /// The platform of a target, as told by [`Metrics::set_platform`].
    pub fn platform_of(&self, target: &str) -> &'static str {
        self.platforms
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(target)
            .copied()
            .unwrap_or("unknown")
    }

    /// The Prometheus text exposition.
    pub fn encode(&self) -> String {
        self.sync_panics();
        self.sync_limiter_waits();
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "cannot encode the metrics");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_the_limit_of_feeds_the_feed_series_are_one() {
        let m = Metrics::new();
        m.set_feed_count(FEED_SERIES_MAX);
        m.polled("a", PollOutcome::NotModified, 0, Duration::from_millis(1));
        assert!(m.encode().contains("feed=\"a\""));
        let m = Metrics::new();
        m.set_feed_count(FEED_SERIES_MAX + 1);
        m.polled("a", PollOutcome::NotModified, 0, Duration::from_millis(1));
        m.polled("b", PollOutcome::New, 2, Duration::from_millis(1));
        let text = m.encode();
        assert!(!text.contains("feed=\"a\""), "{text}");
        assert!(text.contains("feed=\"*\""), "{text}");
    }

    #[test]
    fn counters_and_gauges_show_in_the_text_format() {
        let m = Metrics::new();
        m.polled("news", PollOutcome::New, 3, Duration::from_millis(20));
        m.polled(
            "news",
            PollOutcome::Error("transient"),
            0,
            Duration::from_millis(20),
        );
        m.delivered("tg", "telegram", Ok(()), false, Some(1500));
        let e = DeliveryError::RateLimited {
            retry_after: Duration::from_secs(3),
        };
        m.delivered("tg", "telegram", Err(&e), false, None);
        m.refresh(
            &[QueueStats {
                target: "tg".into(),
                depth: 4,
                oldest_at: Some(0),
                ..QueueStats::default()
            }],
            2,
            1,
            0,
            0,
            10_000,
        );
        let text = m.encode();
        for needle in [
            "crier_polls_total{feed=\"news\",outcome=\"new\"} 1",
            "crier_polls_total{feed=\"news\",outcome=\"error_transient\"} 1",
            "crier_articles_ingested_total{feed=\"news\"} 3",
            "crier_deliveries_total{target=\"tg\",state=\"sent\"} 1",
            "crier_deliveries_total{target=\"tg\",state=\"deferred\"} 1",
            "crier_platform_answers_total{platform=\"telegram\",status=\"429\"} 1",
            "crier_rate_limit_wait_seconds_total{platform=\"telegram\"} 3",
            "crier_queue_depth{target=\"tg\"} 4",
            "crier_queue_oldest_age_seconds{target=\"tg\"} 10",
            "crier_open_alerts 2",
            "crier_paused_feeds 1",
            "crier_delivery_latency_seconds_count{platform=\"telegram\"} 1",
            "crier_build_info{version=",
            "crier_rate_limiter_wait_seconds_total{platform=\"discord\"}",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in\n{text}");
        }
        // The panic count is process-wide (other tests in this process
        // catch panics): the metric shows at least what the guard counted.
        let panics = crier_bots::panics::count();
        let shown = text
            .lines()
            .find_map(|l| l.strip_prefix("crier_panics_total "))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or_else(|| panic!("no crier_panics_total in\n{text}"));
        assert!(shown >= panics, "{shown} < {panics}");
        assert_eq!(m.queue_trend(), vec![4]);
    }

    #[test]
    fn limiter_waits_follow_the_adapters_count() {
        use crier_bots::pacing::{Limiter, record};
        let m = Metrics::new();
        let shown = |m: &Metrics| {
            let text = m.encode();
            text.lines()
                .find_map(|l| {
                    l.strip_prefix("crier_rate_limiter_wait_seconds_total{platform=\"telegram\"}")?
                        .trim()
                        .parse::<f64>()
                        .ok()
                })
                .unwrap_or_else(|| panic!("no telegram series in\n{text}"))
        };
        let before = shown(&m);
        record(Limiter::Telegram, Duration::from_millis(1500));
        // The count is process-wide: other tests may add to it meanwhile.
        assert!(shown(&m) - before >= 1.5);
        let again = shown(&m);
        assert!(again >= before + 1.5, "a scrape never loses what was shown");
    }
}
