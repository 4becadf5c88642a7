//! The service's own sections: `[storage]`, `[delivery]`, `[sources]`,
//! `[commands]`.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use super::values::{Dur, EnvString, Secret, Tz};
use crate::dblocation::DbLocation;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// Path of the SQLite database, relative to the config file's folder
    /// (default `crier.db`).
    #[serde(default)]
    pub path: Option<EnvString>,
    /// A PostgreSQL database instead (`postgres://user:${PASSWORD}@host/db`).
    #[serde(default)]
    pub url: Option<Secret>,
    /// PostgreSQL: how long an instance's lease on a feed, a target's
    /// queue or a front-end lasts without renewal (renewed every third of
    /// it). A dead instance's work is taken over after about this long.
    #[serde(default)]
    pub lease: Option<Dur>,
}

pub(super) const DEFAULT_DB_PATH: &str = "crier.db";
/// `[storage] lease` when unset.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(15);

impl StorageConfig {
    /// The lease time (`[storage] lease`, default 15 s).
    pub fn lease(&self) -> Duration {
        self.lease.as_ref().map_or(DEFAULT_LEASE, |d| d.0)
    }

    /// What is wrong with `lease`: `(key, message)`.
    pub fn lease_error(&self) -> Option<(&'static str, String)> {
        let d = self.lease.as_ref()?.0;
        if d < Duration::from_secs(2) || d > Duration::from_secs(600) {
            return Some((
                "lease",
                format!(
                    "{} is out of range: a lease lasts between 2s and 10m (renewed every third of it; a dead instance's work is taken over after about this long)",
                    humantime::format_duration(d)
                ),
            ));
        }
        if self.url.is_none() {
            return Some((
                "lease",
                "leases share a PostgreSQL database between instances: set `url`, or remove `lease` (an SQLite file has one instance)".into(),
            ));
        }
        None
    }
}

impl StorageConfig {
    /// Where the delivery log is, or what is wrong with `[storage]`:
    /// `(key, message)`.
    pub fn location(&self, base_dir: &Path) -> Result<DbLocation, (&'static str, String)> {
        match (&self.path, &self.url) {
            (Some(_), Some(_)) => Err((
                "url",
                "set either `path` (SQLite) or `url` (PostgreSQL), not both".into(),
            )),
            (_, Some(url)) => {
                let url = url.expose();
                if !crate::dblocation::is_postgres_url(url) {
                    return Err((
                        "url",
                        "expected a postgres:// or postgresql:// URL (an SQLite file goes in `path`)"
                            .into(),
                    ));
                }
                DbLocation::parse(url, base_dir).map_err(|e| ("url", e))
            }
            (path, None) => {
                let p = path
                    .as_ref()
                    .map(|p| p.0.as_str())
                    .unwrap_or(DEFAULT_DB_PATH);
                if crate::dblocation::is_postgres_url(p) {
                    return Err(("path", "a PostgreSQL URL goes in `url`, not `path`".into()));
                }
                DbLocation::parse(p, base_dir).map_err(|e| ("path", e))
            }
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CommandsConfig {
    /// Let editors' URLs reach loopback, private and link-local addresses
    /// (off: the SSRF guard refuses them).
    pub allow_private_urls: bool,
    /// `ip:port` address literals the SSRF guard lets through although
    /// they are not public (narrower than `allow_private_urls`).
    pub allow_hosts: Vec<String>,
    /// Timezone of times in `/schedule` and in replies (IANA name).
    pub timezone: Tz,
    /// Poll interval of feeds added with `/subscribe`.
    pub subscribe_interval: Dur,
    /// Audit entries older than this are pruned.
    pub audit_max_age: Dur,
    /// At most this many audit entries are kept (the newest).
    pub audit_max_rows: u32,
}

impl Default for CommandsConfig {
    fn default() -> Self {
        CommandsConfig {
            allow_private_urls: false,
            allow_hosts: Vec::new(),
            timezone: Tz::default(),
            subscribe_interval: Dur(Duration::from_secs(600)),
            audit_max_age: Dur(Duration::from_secs(90 * 24 * 3600)),
            audit_max_rows: 10_000,
        }
    }
}

/// What to do with a send whose outcome is unknown (a timeout after the
/// request left, a crash while sending) on targets that cannot de-duplicate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AmbiguousPolicy {
    /// Send again: never lose a post, at the risk of a duplicate (recorded).
    #[default]
    Resend,
    /// Assume it arrived: never duplicate, at the risk of a lost post (recorded).
    AssumeSent,
}

/// What a target does after a delivery failed for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OnFailure {
    /// Go on with the next articles.
    #[default]
    Continue,
    /// Hold the line until the failed delivery is retried (strict order).
    Hold,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeliveryConfig {
    /// Attempts before a delivery becomes `failed`.
    pub max_attempts: u32,
    /// First retry delay; doubled each attempt (with jitter).
    pub retry_base: Dur,
    /// Longest retry delay.
    pub retry_max: Dur,
    pub ambiguous: AmbiguousPolicy,
    /// Default for targets' `on_failure`.
    pub on_failure: OnFailure,
    /// How long a graceful shutdown waits for in-flight sends.
    pub shutdown_grace: Dur,
    /// How often an idle delivery worker looks at its queue for work
    /// another process queued (`crier retry`, `crier retract`).
    pub recheck: Dur,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            max_attempts: 8,
            retry_base: Dur(Duration::from_secs(5)),
            retry_max: Dur(Duration::from_secs(30 * 60)),
            ambiguous: AmbiguousPolicy::Resend,
            on_failure: OnFailure::Continue,
            shutdown_grace: Dur(Duration::from_secs(10)),
            recheck: Dur(Duration::from_secs(10)),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SourcesConfig {
    /// Default User-Agent for fetching feeds and pages.
    pub user_agent: EnvString,
    pub connect_timeout: Dur,
    pub timeout: Dur,
    /// Largest body accepted, in bytes.
    pub body_cap: u64,
    /// Concurrent requests to one host.
    pub per_host_concurrency: usize,
    /// Concurrent polls in total.
    pub concurrency: usize,
    /// Consecutive failures after which a feed is paused.
    pub pause_after_failures: u32,
    /// Shortest poll interval (a feed's `ttl` cannot push below it).
    pub min_interval: Dur,
    /// First retry delay of a failing feed; doubled per failure.
    pub backoff_base: Dur,
    /// Longest retry delay of a failing feed.
    pub backoff_max: Dur,
    /// Items read per feed document (the first ones: feeds list newest
    /// first); the rest are not parsed.
    pub max_items: usize,
    /// New articles queued per poll of one feed; more are recorded
    /// `skipped` (with the reason) and admins get one alert.
    pub max_new_per_poll: usize,
}

impl Default for SourcesConfig {
    fn default() -> Self {
        SourcesConfig {
            user_agent: EnvString(format!(
                "Crier/{} (+https://github.com/crier-bot/crier)",
                env!("CARGO_PKG_VERSION")
            )),
            connect_timeout: Dur(Duration::from_secs(10)),
            timeout: Dur(Duration::from_secs(30)),
            body_cap: 10 * 1024 * 1024,
            per_host_concurrency: 4,
            concurrency: 64,
            pause_after_failures: 10,
            min_interval: Dur(Duration::from_secs(1)),
            backoff_base: Dur(Duration::from_secs(5 * 60)),
            backoff_max: Dur(Duration::from_secs(24 * 3600)),
            max_items: 1_000,
            max_new_per_poll: 100,
        }
    }
}
