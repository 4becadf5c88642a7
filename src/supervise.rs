//! The supervisor: every long-lived task (feed watchers, target workers,
//! the alert dispatcher, the chat front-ends) runs under [`supervise`]. A
//! panic is caught, logged at error level with the task it concerned,
//! counted ([`panics_since_start`]), raised to the admins once per incident,
//! and the task restarts after a capped exponential backoff.
//!
//! Command handlers run behind [`GuardedHandler`]: a panicking command
//! answers "internal error" instead of silence.
//!
//! The catching itself lives in `crier_bots::panics` (the front-ends use it
//! too); containment depends on `panic = "unwind"` (see ARCHITECTURE.md).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crier_bots::commands::{Caller, Cmd, FollowUp, Handler, Reply, Role};
use crier_bots::panics;
use tokio_util::sync::CancellationToken;

use crate::alerts::Alerts;

/// First wait before a restart; doubled after each panic, up to the cap.
const RESTART_FIRST: Duration = Duration::from_secs(1);
const RESTART_MAX: Duration = Duration::from_secs(60);
/// A task that ran this long before it panicked starts the backoff afresh.
const STABLE: Duration = Duration::from_secs(300);
/// A panic with the same key after this long quiet is a new incident.
const INCIDENT_QUIET: Duration = Duration::from_secs(600);

/// Panics caught since the process started (every kind: tasks, deliveries,
/// feed items, commands). For `/status` and the metrics.
pub fn panics_since_start() -> u64 {
    panics::count()
}

/// The restart delay after `n` consecutive panics (n ≥ 1).
pub fn restart_delay(n: u32) -> Duration {
    RESTART_FIRST
        .saturating_mul(1u32 << n.saturating_sub(1).min(16))
        .min(RESTART_MAX)
}

/// Tell the admins once per incident: the first panic under `key` in this
/// run, or the first after [`INCIDENT_QUIET`], opens a new incident; a
/// panic loop in between does not repeat the alert.
pub fn raise_once(alerts: &Alerts, key: &str, text: &str) {
    static LAST: Mutex<Option<HashMap<String, Instant>>> = Mutex::new(None);
    let mut last = LAST.lock().unwrap_or_else(|p| p.into_inner());
    let map = last.get_or_insert_with(HashMap::new);
    let now = Instant::now();
    let fresh = map
        .get(key)
        .is_none_or(|t| now.duration_since(*t) >= INCIDENT_QUIET);
    map.insert(key.to_string(), now);
    if fresh {
        // A stored incident from an earlier run or an earlier burst is over.
        alerts.close(key);
        alerts.open(key, text);
    }
}

/// Run the task `make()` builds until it returns or `shutdown` is
/// cancelled; rebuild and restart it after each panic. `kind` and `name`
/// say which task it is ("watcher", the feed's name).
pub async fn supervise<F, Fut>(
    kind: &'static str,
    name: String,
    alerts: Alerts,
    shutdown: CancellationToken,
    mut make: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let mut streak = 0u32;
    loop {
        let started = Instant::now();
        let msg = match panics::catch(make()).await {
            Ok(()) => return,
            Err(msg) => msg,
        };
        if started.elapsed() >= STABLE {
            streak = 0;
        }
        streak += 1;
        let delay = restart_delay(streak);
        tracing::error!(task = kind, name = %name, panic = %msg, restart_in = ?delay, panics = streak, "a task panicked; restarting it");
        raise_once(
            &alerts,
            &format!("panic:{kind}:{name}"),
            &format!(
                "The {kind} {name} panicked ({msg}); restarting it with backoff. See the log."
            ),
        );
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = shutdown.cancelled() => return,
        }
    }
}

/// The command layer behind a panic guard: a command that panics is
/// logged, counted, alerted once and answered with a short
/// "internal error" instead of silence.
pub struct GuardedHandler {
    inner: Arc<dyn Handler>,
    alerts: Alerts,
}

impl GuardedHandler {
    pub fn new(inner: Arc<dyn Handler>, alerts: Alerts) -> Arc<GuardedHandler> {
        Arc::new(GuardedHandler { inner, alerts })
    }

    fn contained(&self, what: &str, msg: &str) -> Reply {
        tracing::error!(command = %what, panic = %msg, "a command panicked; contained");
        raise_once(
            &self.alerts,
            &format!("panic:command:{what}"),
            &format!("The command {what} panicked ({msg}). See the log."),
        );
        Reply::text(INTERNAL_ERROR)
    }
}

/// The reply to a command that panicked.
pub const INTERNAL_ERROR: &str =
    "Internal error: this command failed unexpectedly. The admins were told.";

/// The command's name only (its arguments are the user's text).
fn cmd_name(cmd: &Cmd) -> String {
    let dbg = format!("{cmd:?}");
    dbg.split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or_default()
        .to_lowercase()
}

#[async_trait::async_trait]
impl Handler for GuardedHandler {
    fn role(&self, caller: &Caller) -> Role {
        panics::catch_sync(|| self.inner.role(caller)).unwrap_or_else(|msg| {
            tracing::error!(panic = %msg, "deciding a caller's role panicked; treated as a stranger");
            Role::Stranger
        })
    }

    fn timezone(&self) -> chrono_tz::Tz {
        panics::catch_sync(|| self.inner.timezone()).unwrap_or(chrono_tz::UTC)
    }

    async fn handle(&self, caller: &Caller, cmd: Cmd) -> Option<Reply> {
        let what = cmd_name(&cmd);
        let run = async {
            crate::faults::once("command", &what);
            self.inner.handle(caller, cmd).await
        };
        match panics::catch(run).await {
            Ok(r) => r,
            Err(msg) => Some(self.contained(&what, &msg)),
        }
    }

    async fn button(&self, caller: &Caller, data: &str) -> Reply {
        match panics::catch(self.inner.button(caller, data)).await {
            Ok(r) => r,
            Err(msg) => self.contained("button", &msg),
        }
    }

    async fn follow_up(&self, f: FollowUp) -> Reply {
        match panics::catch(self.inner.follow_up(f)).await {
            Ok(r) => r,
            Err(msg) => self.contained("follow-up", &msg),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn backoff_is_capped_exponential() {
        assert_eq!(restart_delay(1), Duration::from_secs(1));
        assert_eq!(restart_delay(2), Duration::from_secs(2));
        assert_eq!(restart_delay(4), Duration::from_secs(8));
        assert_eq!(restart_delay(50), RESTART_MAX);
    }

    #[tokio::test]
    async fn a_panicking_task_is_restarted_and_alerted_once() {
        let (alerts, mut rx) = Alerts::channel();
        let runs = Arc::new(AtomicU32::new(0));
        let before = panics_since_start();
        let r = runs.clone();
        supervise(
            "test-task",
            "t1".into(),
            alerts,
            CancellationToken::new(),
            move || {
                let r = r.clone();
                async move {
                    if r.fetch_add(1, Ordering::SeqCst) < 1 {
                        panic!("injected");
                    }
                }
            },
        )
        .await;
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        assert!(panics_since_start() > before);
        let mut opens = 0;
        while let Ok(m) = rx.try_recv() {
            if matches!(m, crate::alerts::AlertMsg::Open { .. }) {
                opens += 1;
            }
        }
        assert_eq!(opens, 1);
    }

    #[test]
    fn a_panic_loop_alerts_once() {
        let (alerts, mut rx) = Alerts::channel();
        for _ in 0..5 {
            raise_once(&alerts, "panic:test:loop", "boom");
        }
        let mut opens = 0;
        while let Ok(m) = rx.try_recv() {
            if matches!(m, crate::alerts::AlertMsg::Open { .. }) {
                opens += 1;
            }
        }
        assert_eq!(opens, 1);
    }

    #[test]
    fn command_names_carry_no_arguments() {
        assert_eq!(cmd_name(&Cmd::Status), "status");
        assert_eq!(cmd_name(&Cmd::Pause("secret-ish".into())), "pause");
    }
}
