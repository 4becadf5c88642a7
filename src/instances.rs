//! This process in the database's list of instances: a heartbeat with its
//! role (`active`: holds the instance lock; `standby`: waits for it), so
//! `crier status`, `/status` and the status page show every instance of a
//! PostgreSQL deployment, and which one works.

use std::time::Duration;

use crier_storage::{InstanceRow, Store};
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::db::Db;

// Heartbeats are compared across processes (and machines): they are read
// from the system clock, not the Db's injectable one.

/// How often the active instance says it is alive.
pub const BEAT_EVERY: Duration = Duration::from_secs(5);
/// An instance not heard from for this long is shown as gone.
pub const GONE_AFTER_MS: i64 = 30_000;
/// Rows of instances gone for this long are deleted.
const FORGET_AFTER_MS: i64 = 24 * 3600 * 1000;

/// Who this process is.
#[derive(Debug, Clone)]
pub struct Me {
    row: InstanceRow,
}

impl Me {
    pub fn new() -> Me {
        let started_at = Clock::System.now_ms();
        let host = host_name();
        let pid = i64::from(std::process::id());
        Me {
            row: InstanceRow {
                id: format!("{host}:{pid}:{started_at}"),
                host,
                pid,
                role: String::new(),
                version: env!("CARGO_PKG_VERSION").into(),
                started_at,
                seen_at: started_at,
            },
        }
    }

    /// Write the heartbeat as `role` (blocking).
    pub fn beat(&self, store: &mut Store, role: &str) -> Result<(), crier_storage::Error> {
        let mut row = self.row.clone();
        row.role = role.into();
        row.seen_at = Clock::System.now_ms();
        store.heartbeat(&row)
    }

    /// This process holds the instance lock now: listed as `active`, and
    /// any other row still saying so marked `gone`.
    pub fn become_active(&self, store: &mut Store) -> Result<(), crier_storage::Error> {
        self.beat(store, "active")?;
        store.claim_active(&self.row.id)
    }

    /// Leave the list (a clean stop), pruning long-gone rows.
    pub fn forget(&self, store: &mut Store) -> Result<(), crier_storage::Error> {
        store.forget_instance(&self.row.id, Clock::System.now_ms() - FORGET_AFTER_MS)
    }

    /// This instance's id (`host:pid:started`): the holder of its leases.
    pub fn id(&self) -> &str {
        &self.row.id
    }

    /// The heartbeat as `role` (`active`, or `shared` when instances
    /// share the work through leases), until `shutdown` (`crier run` then
    /// calls [`Me::forget`]).
    pub async fn run_beats(self, db: Db, role: &'static str, shutdown: CancellationToken) {
        let mut failing = false;
        loop {
            let me = self.clone();
            match db.call(move |s| me.beat(s, role)).await {
                Ok(()) => failing = false,
                Err(e) if !failing => {
                    tracing::warn!(error = %e, "cannot record this instance's heartbeat");
                    failing = true;
                }
                Err(_) => {}
            }
            tokio::select! {
                _ = tokio::time::sleep(BEAT_EVERY) => {}
                _ = shutdown.cancelled() => return,
            }
        }
    }
}

impl Default for Me {
    fn default() -> Self {
        Me::new()
    }
}

fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// `host pid N` and the state of an instance row, for text listings.
pub fn describe(r: &InstanceRow, now: i64) -> String {
    let ago = |t: i64| {
        humantime::format_duration(Duration::from_secs(((now - t).max(0) / 1000) as u64))
            .to_string()
    };
    let state = if r.role == "gone" {
        format!("died while active, last seen {} ago", ago(r.seen_at))
    } else if now - r.seen_at > GONE_AFTER_MS {
        format!("not seen for {} (gone?)", ago(r.seen_at))
    } else {
        format!("up {}", ago(r.started_at))
    };
    format!(
        "{:<8} {} pid {} v{} — {state}",
        r.role, r.host, r.pid, r.version
    )
}

/// What an instance holds now (several instances sharing a database):
/// `holds feed news; targets dc, hook; front-end telegram`, or empty.
pub fn holdings(leases: &[crier_storage::LeaseRow], id: &str, now: i64) -> String {
    let mut parts = Vec::new();
    for (scope, one, many) in [
        ("feed", "feed", "feeds"),
        ("target", "target", "targets"),
        ("frontend", "front-end", "front-ends"),
    ] {
        let names: Vec<&str> = leases
            .iter()
            .filter(|l| l.holder == id && l.scope == scope && l.expires_at > now)
            .map(|l| l.name.as_str())
            .collect();
        match names.len() {
            0 => {}
            1 => parts.push(format!("{one} {}", names[0])),
            n if n <= 5 => parts.push(format!("{many} {}", names.join(", "))),
            n => parts.push(format!("{n} {many}")),
        }
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("holds {}", parts.join("; "))
    }
}
