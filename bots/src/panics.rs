//! Panic containment, the one implementation shared by the core's
//! supervisor and the chat front-ends: catch a panic in a future, turn its
//! payload into a message, count it. The count is process-wide (since
//! start) so `/status` and the metrics can show it.
//!
//! Containment relies on `panic = "unwind"` (the release profile states it).

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::FutureExt;

static PANICS: AtomicU64 = AtomicU64::new(0);

/// Panics caught since the process started.
pub fn count() -> u64 {
    PANICS.load(Ordering::Relaxed)
}

/// The text of a panic payload (`panic!("…")` gives a `&str` or a `String`).
pub fn message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}

/// Run `f` to completion; a panic inside it is counted and returned as its
/// message instead of unwinding further.
pub async fn catch<F: Future>(f: F) -> Result<F::Output, String> {
    AssertUnwindSafe(f).catch_unwind().await.map_err(|p| {
        PANICS.fetch_add(1, Ordering::Relaxed);
        message(p.as_ref())
    })
}

/// The same for synchronous code.
pub fn catch_sync<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(AssertUnwindSafe(f)).map_err(|p| {
        PANICS.fetch_add(1, Ordering::Relaxed);
        message(p.as_ref())
    })
}

/// Spawn a short task (one chat update, one interaction); a panic in it is
/// logged at error level with `what` and counted instead of vanishing.
pub fn spawn_contained<F>(what: &'static str, f: F)
where
    F: Future<Output = ()> + Send + 'static,
{
    tokio::spawn(async move {
        if let Err(msg) = catch(f).await {
            tracing::error!(task = what, panic = %msg, "a task panicked; contained");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn catches_and_counts() {
        let before = count();
        let r = catch(async { panic!("boom {}", 1) }).await;
        assert_eq!(r, Err::<(), _>("boom 1".to_string()));
        assert!(count() > before);
        assert_eq!(catch(async { 5 }).await, Ok(5));
        assert_eq!(
            catch_sync(|| -> u8 { panic!("static") }),
            Err("static".into())
        );
    }
}
