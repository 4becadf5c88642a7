//! Refusals to strangers, rate-limited: one reply, one warning and one
//! audit row per stranger per window; the refusals swallowed in between
//! are counted and reported with the next one logged.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Strangers remembered at most (a flood of new ids cannot grow the map
/// without bound; the oldest are forgotten first).
const MAX_TRACKED: usize = 10_000;

pub struct RefusalLimiter {
    gap: Duration,
    /// Per caller: when the current window opened, refusals swallowed in it.
    seen: Mutex<HashMap<String, (Instant, u64)>>,
}

/// What to do with one refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A new window: reply, warn and audit; `swallowed` refusals of this
    /// caller went unlogged since the last one logged.
    Log { swallowed: u64 },
    /// Inside the window: stay silent, count it.
    Silent,
}

impl RefusalLimiter {
    pub fn new(gap: Duration) -> RefusalLimiter {
        RefusalLimiter {
            gap,
            seen: Mutex::new(HashMap::new()),
        }
    }

    pub fn check(&self, caller: &str) -> Refusal {
        self.check_at(caller, Instant::now())
    }

    fn check_at(&self, caller: &str, now: Instant) -> Refusal {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((opened, swallowed)) = seen.get_mut(caller) {
            if now.duration_since(*opened) < self.gap {
                *swallowed += 1;
                return Refusal::Silent;
            }
            let n = *swallowed;
            *opened = now;
            *swallowed = 0;
            return Refusal::Log { swallowed: n };
        }
        if seen.len() >= MAX_TRACKED {
            // Forget windows that are over (their counts were never
            // reported: the caller went quiet), then the oldest.
            seen.retain(|_, (t, _)| now.duration_since(*t) < self.gap);
            if seen.len() >= MAX_TRACKED
                && let Some(k) = seen
                    .iter()
                    .min_by_key(|(_, (t, _))| *t)
                    .map(|(k, _)| k.clone())
            {
                seen.remove(&k);
            }
        }
        seen.insert(caller.to_string(), (now, 0));
        Refusal::Log { swallowed: 0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_logged_refusal_per_window_with_a_count() {
        let l = RefusalLimiter::new(Duration::from_secs(60));
        let t0 = Instant::now();
        let at = |s| t0 + Duration::from_secs(s);
        assert_eq!(l.check_at("a", at(0)), Refusal::Log { swallowed: 0 });
        assert_eq!(l.check_at("a", at(1)), Refusal::Silent);
        assert_eq!(l.check_at("a", at(59)), Refusal::Silent);
        assert_eq!(l.check_at("b", at(2)), Refusal::Log { swallowed: 0 });
        assert_eq!(l.check_at("a", at(61)), Refusal::Log { swallowed: 2 });
        assert_eq!(l.check_at("a", at(62)), Refusal::Silent);
    }
}
