//! The operator's summary — feeds, targets, recent deliveries, open
//! alerts, deliveries per hour — read from the delivery log and the
//! config. The status page and `crier status` both show it; it needs no
//! running daemon.

use crier_storage::{LogEntry, LogQuery, State, Store};

use crate::config::Config;
use crate::db::StoreError;

/// How many recent deliveries the summary lists.
pub const RECENT: usize = 25;

#[derive(Debug, Clone)]
pub struct FeedRow {
    pub name: String,
    /// The feed's address, credentials redacted.
    pub url: String,
    pub dynamic: bool,
    /// `ok`, `failing`, `paused` or `new` (not polled yet).
    pub health: &'static str,
    pub last_poll_at: Option<i64>,
    pub next_poll_at: Option<i64>,
    pub last_error: Option<String>,
    pub paused_reason: Option<String>,
    pub failures: u32,
    /// The WebSub subscription, for people (`websub::describe`).
    pub push: Option<String>,
}

#[derive(Debug, Clone)]
pub struct TargetRow {
    pub name: String,
    pub platform: String,
    /// `ok`, `disabled` or `paused`.
    pub state: &'static str,
    pub reason: Option<String>,
    pub queue_depth: u64,
    pub oldest_at: Option<i64>,
    pub failed: u64,
    pub last_sent_at: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct Summary {
    pub feeds: Vec<FeedRow>,
    pub targets: Vec<TargetRow>,
    pub recent: Vec<LogEntry>,
    /// `(key, opened_at, message)`.
    pub alerts: Vec<(String, i64, String)>,
    /// Deliveries sent per hour, the last 24 hours, oldest first.
    pub sent_per_hour: Vec<u64>,
    /// The instances on this database (the active one first).
    pub instances: Vec<crier_storage::InstanceRow>,
    /// The leases of instances sharing the database (what each holds).
    pub leases: Vec<crier_storage::LeaseRow>,
}

/// Why a delivery is where it is (what `/why` says): the filter or skip
/// reason, else the last error.
pub fn reason(d: &crier_storage::Delivery) -> Option<&str> {
    match d.state {
        State::Filtered | State::Skipped => d.reason.as_deref().or(d.last_error.as_deref()),
        State::Failed | State::Pending => d.last_error.as_deref().or(d.reason.as_deref()),
        _ => d.reason.as_deref(),
    }
}

impl Summary {
    /// Read the summary from the store. `recent`: how many deliveries.
    pub fn read(store: &Store, cfg: &Config, now: i64) -> Result<Summary, StoreError> {
        let feeds: Vec<(String, String)> = cfg
            .feeds
            .iter()
            .map(|f| (f.name.0.clone(), f.url.0.clone()))
            .collect();
        let targets: Vec<(String, String)> = cfg
            .targets
            .iter()
            .map(|t| (t.name.0.clone(), t.kind.to_string()))
            .collect();
        Summary::read_for(store, &feeds, &targets, now)
    }

    /// [`Summary::read`] from the configured feeds' `(name, url)` and
    /// targets' `(name, platform)` only: `crier status` reads them without
    /// the platforms' tokens.
    pub fn read_for(
        store: &Store,
        cfg_feeds: &[(String, String)],
        cfg_targets: &[(String, String)],
        now: i64,
    ) -> Result<Summary, StoreError> {
        let states = store.feed_states()?;
        let subs = store.subscriptions()?;
        let mut names: Vec<(String, String, bool)> = cfg_feeds
            .iter()
            .map(|(n, u)| (n.clone(), u.clone(), false))
            .collect();
        for d in store.dynamic_feeds()? {
            if !names.iter().any(|(n, _, _)| n == &d.name) {
                names.push((d.name, d.url, true));
            }
        }
        let feeds = names
            .into_iter()
            .map(|(name, url, dynamic)| {
                let st = states.iter().find(|s| s.feed == name);
                let push = subs
                    .iter()
                    .find(|s| s.feed == name)
                    .map(|s| crate::websub::describe(s, now));
                let health = match st {
                    None => "new",
                    Some(s) if s.paused_reason.is_some() => "paused",
                    Some(s) if s.consecutive_failures > 0 => "failing",
                    Some(_) => "ok",
                };
                FeedRow {
                    url: crate::redact::redact_url(&url),
                    name,
                    dynamic,
                    health,
                    last_poll_at: st.and_then(|s| s.last_poll_at),
                    next_poll_at: st
                        .filter(|s| s.paused_reason.is_none())
                        .and_then(|s| s.next_poll_at),
                    last_error: st.and_then(|s| s.last_error.clone()),
                    paused_reason: st.and_then(|s| s.paused_reason.clone()),
                    failures: st.map_or(0, |s| s.consecutive_failures),
                    push,
                }
            })
            .collect();
        let queues = store.queue_stats()?;
        let mut targets = Vec::new();
        for (name, platform) in cfg_targets {
            let st = store.target_state(name)?.unwrap_or_default();
            let q = queues.iter().find(|q| &q.target == name);
            let (state, reason) = match (&st.disabled_reason, &st.paused_reason) {
                (Some(r), _) => ("disabled", Some(r.clone())),
                (None, Some(r)) => ("paused", Some(r.clone())),
                _ => ("ok", None),
            };
            targets.push(TargetRow {
                name: name.clone(),
                platform: platform.clone(),
                state,
                reason,
                queue_depth: q.map_or(0, |q| q.depth),
                oldest_at: q.and_then(|q| q.oldest_at),
                failed: q.map_or(0, |q| q.failed),
                last_sent_at: q.and_then(|q| q.last_sent_at),
            });
        }
        Ok(Summary {
            feeds,
            targets,
            recent: store.log(&LogQuery {
                limit: RECENT,
                ..LogQuery::default()
            })?,
            alerts: store.open_alerts()?,
            sent_per_hour: store.sent_per_hour(now, 24)?,
            instances: store.instances()?,
            leases: store.leases()?,
        })
    }

    /// Plain text for the terminal (`crier status`).
    pub fn to_text(&self, now: i64) -> String {
        let mut s = String::new();
        let ago = |t: Option<i64>| {
            t.map(|t| format!("{} ago", secs((now - t) / 1000)))
                .unwrap_or_else(|| "never".into())
        };
        s.push_str(&format!("Feeds ({}):\n", self.feeds.len()));
        for f in &self.feeds {
            s.push_str(&format!(
                "  {:<20} {:<8} last poll {}",
                f.name,
                f.health,
                ago(f.last_poll_at)
            ));
            if let Some(t) = f.next_poll_at {
                s.push_str(&format!(", next in {}", secs((t - now).max(0) / 1000)));
            }
            s.push('\n');
            if let Some(r) = f.paused_reason.as_deref().or(f.last_error.as_deref()) {
                s.push_str(&format!("      {}\n", one_line(r)));
            }
            if let Some(p) = &f.push {
                s.push_str(&format!("      {}\n", one_line(p)));
            }
        }
        s.push_str(&format!("Targets ({}):\n", self.targets.len()));
        for t in &self.targets {
            s.push_str(&format!(
                "  {:<20} {:<16} {:<8} queue {} (oldest {}), failed {}, last delivery {}\n",
                t.name,
                t.platform,
                t.state,
                t.queue_depth,
                t.oldest_at
                    .map(|o| secs((now - o) / 1000))
                    .unwrap_or_else(|| "-".into()),
                t.failed,
                ago(t.last_sent_at)
            ));
            if let Some(r) = &t.reason {
                s.push_str(&format!("      {}\n", one_line(r)));
            }
        }
        let total: u64 = self.sent_per_hour.iter().sum();
        s.push_str(&format!("Delivered in the last 24 h: {total}\n"));
        s.push_str(&format!("Instances ({}):\n", self.instances.len()));
        for i in &self.instances {
            s.push_str(&format!("  {}\n", crate::instances::describe(i, now)));
            let holds = crate::instances::holdings(
                &self.leases,
                &i.id,
                crate::clock::Clock::System.now_ms(),
            );
            if !holds.is_empty() {
                s.push_str(&format!("      {holds}\n"));
            }
        }
        s.push_str(&format!("Open alerts ({}):\n", self.alerts.len()));
        for (_, at, msg) in &self.alerts {
            s.push_str(&format!("  {}  {}\n", ago(Some(*at)), one_line(msg)));
        }
        s.push_str(&format!("Recent deliveries ({}):\n", self.recent.len()));
        for e in &self.recent {
            let d = &e.delivery;
            s.push_str(&format!(
                "  #{:<6} {:<12} {:<9} {}",
                d.id,
                clip(&d.target, 12),
                d.state.as_str(),
                clip(&e.title, 50)
            ));
            if let Some(r) = reason(d) {
                s.push_str(&format!(" — {}", clip(&one_line(r), 80)));
            }
            s.push('\n');
        }
        s
    }
}

fn secs(s: i64) -> String {
    humantime::format_duration(std::time::Duration::from_secs(s.max(0) as u64)).to_string()
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub use crate::text::clip;
