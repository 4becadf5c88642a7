//! Idle workers learn at once about changes another process made to the
//! delivery log (`crier retry`, `crier retract`): SQLite's
//! `PRAGMA data_version` changes when another connection commits, so a
//! cheap check every second wakes every worker when it does. Works with or
//! without the HTTP listener.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::db::Db;
use crate::engine::Engine;

/// How often the database is asked.
pub const CHECK_EVERY: Duration = Duration::from_secs(1);

pub async fn watch(db: Db, engine: Arc<Engine>, shutdown: CancellationToken) {
    let mut last = None;
    loop {
        match db.call(|s| s.data_version()).await {
            Ok(v) => {
                if last.is_some_and(|l| l != v) {
                    tracing::debug!(
                        "the delivery log was changed by another process; waking the workers"
                    );
                    engine.wake_all();
                }
                last = Some(v);
            }
            Err(e) => tracing::warn!(error = %e, "cannot check the database for outside changes"),
        }
        tokio::select! {
            _ = tokio::time::sleep(CHECK_EVERY) => {}
            _ = shutdown.cancelled() => return,
        }
    }
}
