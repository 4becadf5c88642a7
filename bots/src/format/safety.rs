//! The formatter's safety net: a rendered message that fails the
//! formatter's own validation (a formatter bug) is replaced by its fallback
//! form; this counts those and remembers the last violation.

static SAFETY_NET: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many rendered messages failed the formatter's own validation (a
/// formatter bug) and were replaced by their fallback form since the
/// process started. Always 0 unless there is a bug; exposed for tests and
/// metrics.
pub fn safety_net_count() -> u64 {
    SAFETY_NET.load(std::sync::atomic::Ordering::Relaxed)
}

static SAFETY_NET_LAST: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());

/// The violation the safety net caught last, with the start of the message
/// (for tests' failure messages; empty when it was never used).
pub fn safety_net_last() -> String {
    SAFETY_NET_LAST
        .lock()
        .map(|s| s.clone())
        .unwrap_or_default()
}

pub(crate) fn safety_net_used(violation: &str, body: &str) {
    SAFETY_NET.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    if let Ok(mut last) = SAFETY_NET_LAST.lock() {
        let head: String = body.chars().take(300).collect();
        *last = format!("{violation} in: {head}");
    }
}
