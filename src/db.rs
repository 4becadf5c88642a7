//! The async face of the storage crate: every call runs on tokio's blocking
//! pool behind one mutex (SQLite likes one writer), and busy/locked errors
//! are retried a few times before they surface.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crier_storage::Store;

use crate::clock::Clock;
use tokio_util::sync::CancellationToken;

pub use crier_storage::Error as StoreError;

/// Shared handle to the store.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Mutex<Store>>,
    /// SQLite: small calls may run in place ([`Db::quick`]).
    in_place: bool,
    /// Cancelled when the store reports that another instance took the
    /// database over (PostgreSQL, after a lost connection): `crier run`
    /// then stops and exits with an error instead of failing every call.
    stood_down: CancellationToken,
    /// The core's wall clock (see [`crate::clock`]).
    clock: Clock,
}

impl Db {
    pub fn new(store: Store) -> Db {
        Db::with_clock(store, Clock::System)
    }

    /// A handle whose timestamps come from `clock` (tests: a clock that
    /// follows tokio's paused time).
    pub fn with_clock(store: Store, clock: Clock) -> Db {
        Db {
            in_place: store.backend() == crier_storage::Backend::Sqlite,
            inner: Arc::new(Mutex::new(store)),
            stood_down: CancellationToken::new(),
            clock,
        }
    }

    /// The clock every timestamp of the core is read from.
    pub fn clock(&self) -> Clock {
        self.clock
    }

    /// Unix milliseconds now, by this handle's clock.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Run `f` against the store on the blocking pool. Transient errors
    /// (database busy or locked, disk full, I/O) are retried with a short
    /// backoff, then returned: the caller decides, nothing is dropped here.
    pub async fn call<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Fn(&mut Store) -> Result<T, StoreError> + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        let mut delay = Duration::from_millis(50);
        let mut attempt = 0;
        loop {
            let inner = self.inner.clone();
            let f = f.clone();
            let res = tokio::task::spawn_blocking(move || {
                let mut store = inner.lock().unwrap_or_else(|p| p.into_inner());
                // A panic in a storage call is contained and counted: the
                // caller gets an error, the blocking thread lives on.
                crier_bots::panics::catch_sync(|| f(&mut store)).unwrap_or_else(|msg| {
                    tracing::error!(panic = %msg, "a storage call panicked");
                    Err(StoreError::Internal(format!("internal error: {msg}")))
                })
            })
            .await
            .unwrap_or_else(|e| Err(StoreError::Internal(e.to_string())));
            match res {
                Err(StoreError::LostInstanceLock) => {
                    if !self.stood_down.is_cancelled() {
                        tracing::error!("{}", StoreError::LostInstanceLock);
                        self.stood_down.cancel();
                    }
                    return Err(StoreError::LostInstanceLock);
                }
                Err(e) if e.is_transient() && attempt < 4 => {
                    attempt += 1;
                    tracing::warn!(error = %e, attempt, "storage error; retrying");
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
                other => return other,
            }
        }
    }

    /// [`Db::call`] for a small call on the hot path (one row read, one
    /// poll's or one delivery's write): on SQLite, when no other call
    /// holds the store, it runs in place on this thread instead of being
    /// handed to the blocking pool and back. Such a call takes tens of
    /// microseconds, the same order as the two thread hand-offs it saves
    /// (in the profile of a 304 poll they were the largest single cost:
    /// BENCHMARKS.md). On
    /// PostgreSQL (network round trips; its synchronous client must not
    /// run on a runtime thread), or when the store is busy, it is
    /// [`Db::call`].
    pub async fn quick<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Fn(&mut Store) -> Result<T, StoreError> + Send + Sync + 'static,
    {
        if self.in_place {
            let done = match self.inner.try_lock() {
                Ok(mut store) => Some(
                    crier_bots::panics::catch_sync(|| f(&mut store)).unwrap_or_else(|msg| {
                        tracing::error!(panic = %msg, "a storage call panicked");
                        Err(StoreError::Internal(format!("internal error: {msg}")))
                    }),
                ),
                Err(_) => None,
            };
            match done {
                Some(Ok(v)) => return Ok(v),
                // A panic, contained and logged once.
                Some(Err(e @ StoreError::Internal(_))) => return Err(e),
                // Other errors take `call`'s road (a failed write was
                // rolled back, so it is run again there): retries with
                // backoff, a lost instance lock stands the process down.
                _ => {}
            }
        }
        self.call(f).await
    }

    /// Cancelled once another instance has taken the database over.
    pub fn stood_down(&self) -> CancellationToken {
        self.stood_down.clone()
    }

    /// Run `f` synchronously (CLI commands outside the runtime).
    pub fn blocking<T>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut store = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut store)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_storage_call_is_an_error_and_the_store_lives_on() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Db::new(Store::open(&dir.path().join("t.db")).expect("open"));
        let r: Result<(), StoreError> = db.call(|_| panic!("storage boom")).await;
        let e = r.expect_err("a panic is an error");
        assert!(e.to_string().contains("storage boom"), "{e}");
        assert!(db.call(|s| s.feed_states()).await.is_ok());
    }

    #[tokio::test]
    async fn a_quick_call_runs_in_place_when_the_store_is_free_and_waits_when_it_is_not() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Db::new(Store::open(&dir.path().join("t.db")).expect("open"));
        let here = std::thread::current().id();
        let ran_on = db
            .quick(move |_| Ok(std::thread::current().id()))
            .await
            .expect("quick");
        assert_eq!(ran_on, here, "SQLite and a free store: in place");
        // The store held by someone else (a thread, for 200 ms): the call
        // goes to the pool and runs once the store is free.
        let (held_tx, held_rx) = std::sync::mpsc::channel();
        let inner = db.inner.clone();
        let holder = std::thread::spawn(move || {
            let _guard = inner.lock().expect("lock");
            let _ = held_tx.send(());
            std::thread::sleep(std::time::Duration::from_millis(200));
        });
        held_rx.recv().expect("held");
        let t0 = std::time::Instant::now();
        let ran_on = db
            .quick(move |_| Ok(std::thread::current().id()))
            .await
            .expect("quick");
        assert!(
            t0.elapsed() >= std::time::Duration::from_millis(100),
            "it waited for the store"
        );
        assert_ne!(ran_on, here, "a busy store: the blocking pool");
        holder.join().expect("holder");
        let r: Result<(), StoreError> = db.quick(|_| panic!("quick boom")).await;
        assert!(r.expect_err("an error").to_string().contains("quick boom"));
        assert!(db.quick(|s| s.feed_states()).await.is_ok());
    }
}
