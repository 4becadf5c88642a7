//! Idle workers learn at once about changes another process made to the
//! delivery log (`crier retry`, `crier retract`, another instance):
//! - PostgreSQL: the schema's triggers `NOTIFY` at every commit that
//!   changes deliveries or targets' state; a listening session hears it
//!   (the daemon's own commits are told apart by their session).
//! - SQLite: `PRAGMA data_version` changes when another connection
//!   commits, so a cheap check every second wakes every worker when it does.
//!
//! Works with or without the HTTP listener.

use std::sync::Arc;
use std::time::Duration;

use crier_storage::{Change, ChangeListener};
use tokio_util::sync::CancellationToken;

use crate::db::Db;
use crate::engine::Engine;

/// How often SQLite is asked; how long one PostgreSQL wait lasts (the
/// longest a shutdown waits for the listener).
pub const CHECK_EVERY: Duration = Duration::from_secs(1);

/// The longest pause after the listening session failed to (re)connect.
const LISTEN_BACKOFF_MAX: Duration = Duration::from_secs(30);

pub async fn watch(
    db: Db,
    engine: Arc<Engine>,
    poller: Arc<crate::poller::Poller>,
    shutdown: CancellationToken,
) {
    match db.call(|s| Ok(s.change_listener())).await {
        Ok(Some(listener)) => listen(db, engine, poller, listener, shutdown).await,
        Ok(None) => poll(db, engine, shutdown).await,
        Err(e) => {
            tracing::warn!(error = %e, "cannot set up the watch for outside changes; polling instead");
            poll(db, engine, shutdown).await
        }
    }
}

/// PostgreSQL: wait for notifications on a session of its own.
async fn listen(
    db: Db,
    engine: Arc<Engine>,
    poller: Arc<crate::poller::Poller>,
    listener: ChangeListener,
    shutdown: CancellationToken,
) {
    let listener = Arc::new(std::sync::Mutex::new(listener));
    let mut backoff = CHECK_EVERY;
    let mut failing = false;
    while !shutdown.is_cancelled() {
        // One cheap query on the store's own session too: a lost session
        // is replaced now rather than at the next delivery (and if another
        // instance took the database meanwhile, this one stands down now).
        // Its process id may have changed since the last wait.
        let own = db
            .call(|s| {
                s.data_version()?;
                Ok(s.session_pid())
            })
            .await
            .ok()
            .flatten();
        let l = listener.clone();
        let heard = tokio::task::spawn_blocking(move || {
            let mut l = l.lock().unwrap_or_else(|p| p.into_inner());
            l.wait(CHECK_EVERY, own).map(|c| (c, l.take_polls()))
        })
        .await;
        match heard {
            Ok(Ok((change, polls))) => {
                // Another instance was asked to poll a feed this one may
                // watch (a push, a hook, /poll received over there).
                for feed in polls {
                    poller.poll_here(&feed);
                }
                if failing {
                    tracing::info!("listening for outside changes again");
                    failing = false;
                }
                backoff = CHECK_EVERY;
                match change {
                    Change::Changed => {
                        tracing::debug!(
                            "another process changed the delivery log; waking the workers"
                        );
                        engine.wake_all();
                    }
                    // Whatever was committed while nobody listened.
                    Change::Reconnected => engine.wake_all(),
                    Change::Quiet => {}
                }
            }
            Ok(Err(e)) => {
                if !failing {
                    tracing::warn!(error = %e, "cannot listen for outside changes; workers still look every recheck period, retrying");
                    failing = true;
                }
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = shutdown.cancelled() => return,
                }
                backoff = (backoff * 2).min(LISTEN_BACKOFF_MAX);
            }
            Err(e) => {
                tracing::error!(error = %e, "the change listener failed");
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = shutdown.cancelled() => return,
                }
            }
        }
    }
}

/// SQLite: ask `data_version` every second.
async fn poll(db: Db, engine: Arc<Engine>, shutdown: CancellationToken) {
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
