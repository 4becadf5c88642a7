//! Running one input with the invariants "no panic" and "bounded time".

use std::sync::mpsc;
use std::time::Duration;

use crate::Target;

/// How long one input may take before it counts as a hang. Generous: the
/// in-suite run uses a debug build on a shared machine; a real hang (an
/// endless loop, exponential work) is far beyond it.
pub const TIME_LIMIT: Duration = Duration::from_secs(20);

/// The stack of the thread that runs an input: tokio's default for its
/// worker and blocking threads, where Crier parses and renders (a stack
/// overflow aborts the process: it is a crash too).
pub const STACK: usize = 2 << 20;

/// Why an input failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The target panicked (Crier did, or an invariant broke): the message.
    Panic(String),
    /// The input ran longer than the limit.
    Hang(Duration),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Panic(m) => write!(f, "panic: {m}"),
            Failure::Hang(d) => write!(f, "still running after {d:?}"),
        }
    }
}

fn message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(a panic without a message)".to_string()
    }
}

/// Run `data` through `target` on a thread of its own; a panic or a run
/// longer than `limit` is a [`Failure`].
pub fn run(target: Target, data: &[u8], limit: Duration) -> Result<(), Failure> {
    let input = data.to_vec();
    run_fn(target.name(), move || target.run(&input), limit)
}

/// Run `f` on a thread of its own (named `fuzz-<name>`, with [`STACK`]);
/// a panic or a run longer than `limit` is a [`Failure`]. (A hung thread
/// is left behind: the test that sees the failure fails anyway.)
pub fn run_fn(
    name: &str,
    f: impl FnOnce() + Send + 'static,
    limit: Duration,
) -> Result<(), Failure> {
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name(format!("fuzz-{name}"))
        .stack_size(STACK)
        .spawn(move || {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
            let _ = tx.send(r.map_err(|p| message(p.as_ref())));
        });
    if let Err(e) = spawned {
        return Err(Failure::Panic(format!("cannot start a thread: {e}")));
    }
    match rx.recv_timeout(limit) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(m)) => Err(Failure::Panic(m)),
        Err(mpsc::RecvTimeoutError::Timeout) => Err(Failure::Hang(limit)),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            Err(Failure::Panic("the target's thread died".into()))
        }
    }
}
