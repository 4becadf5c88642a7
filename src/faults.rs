//! Test-only fault injection: makes chosen steps panic so the integration
//! tests can prove that panics are contained (see `tests/it/supervise.rs`).
//!
//! Read once from `CRIER_TEST_FAULTS` — a comma-separated list of
//! `kind:subject` — and only in debug builds (the test build of the
//! binary): a release build never reads it. Unset, a check is one load of
//! an empty list. Kinds:
//! - `parse:<article link>` — the poller's per-item step panics on that item;
//! - `render:<article link>` — the engine panics as it renders that article;
//! - `send:<article link>` — the adapter call panics for that article;
//! - `watcher:<feed name>`, `worker:<target name>` — that task panics once,
//!   when it first starts (to prove it is restarted);
//! - `command:<name>` — that chat command panics once (e.g. `command:status`);
//! - `inspect:<source>` — `crier inspect`/`preview` panics on that source.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

pub const ENV: &str = "CRIER_TEST_FAULTS";

fn faults() -> &'static [(String, String)] {
    static FAULTS: OnceLock<Vec<(String, String)>> = OnceLock::new();
    FAULTS.get_or_init(|| {
        if !cfg!(debug_assertions) {
            return Vec::new();
        }
        std::env::var(ENV).map(|v| parse(&v)).unwrap_or_default()
    })
}

fn parse(spec: &str) -> Vec<(String, String)> {
    spec.split(',')
        .filter_map(|f| f.trim().split_once(':'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Whether any fault is configured (to skip work that only feeds a check).
pub fn active() -> bool {
    !faults().is_empty()
}

/// Panic when `kind:subject` is configured.
pub fn check(kind: &str, subject: &str) {
    if faults().iter().any(|(k, v)| k == kind && v == subject) {
        panic!("injected fault: {kind} {subject}");
    }
}

/// Panic the first time `kind:subject` is checked, if it is configured.
pub fn once(kind: &str, subject: &str) {
    static FIRED: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    if !faults().iter().any(|(k, v)| k == kind && v == subject) {
        return;
    }
    let first = FIRED
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get_or_insert_with(HashSet::new)
        .insert(format!("{kind}:{subject}"));
    if first {
        panic!("injected fault: {kind} {subject} (once)");
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_kinds_and_links() {
        let f = super::parse("render:https://x.test/a?b=1, worker:tg,junk");
        assert_eq!(
            f,
            vec![
                ("render".to_string(), "https://x.test/a?b=1".to_string()),
                ("worker".to_string(), "tg".to_string())
            ]
        );
    }
}
