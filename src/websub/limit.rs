//! A per-key limit of events per minute (pushes per feed, hooks per
//! feed): a fixed one-minute window per key, in memory.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);
/// Keys tracked at most in one window.
const MAX_KEYS: usize = 10_000;

#[derive(Debug, Default)]
pub struct PerMinute {
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl PerMinute {
    /// Count one event for `key`; false when it is over `max` this minute.
    pub fn allow(&self, key: &str, max: u32) -> bool {
        let now = Instant::now();
        let mut w = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        // Old windows go. Keys are feed names (bounded by the config) or
        // client addresses (bounded here: past MAX_KEYS new keys are not
        // tracked, so a flood from many addresses cannot grow the map).
        w.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        if w.len() >= MAX_KEYS && !w.contains_key(key) {
            return true;
        }
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
