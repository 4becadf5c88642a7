//! A per-key limit of events per minute (pushes per feed, hooks per
//! feed): a fixed one-minute window per key, in memory.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);

#[derive(Debug, Default)]
pub struct PerMinute {
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl PerMinute {
    /// Count one event for `key`; false when it is over `max` this minute.
    pub fn allow(&self, key: &str, max: u32) -> bool {
        let now = Instant::now();
        let mut w = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        // Keys are feed names (bounded by the config); old windows go.
        w.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        let e = w.entry(key.to_string()).or_insert((now, 0));
        e.1 += 1;
        e.1 <= max
    }

    /// Events counted for `key` in its current window (not counting one).
    pub fn count(&self, key: &str) -> u32 {
        let now = Instant::now();
        let w = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        w.get(key)
            .filter(|(start, _)| now.duration_since(*start) < WINDOW)
            .map_or(0, |(_, n)| *n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_limited_apart() {
        let l = PerMinute::default();
        assert!(l.allow("a", 2));
        assert!(l.allow("a", 2));
        assert!(!l.allow("a", 2));
        assert!(l.allow("b", 2));
    }
}
