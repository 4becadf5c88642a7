//! Rate-limit windows, on the fake's (skewable) clock.

use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

use crate::clock::since;

/// `count` requests per `per`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub count: u32,
    pub per: Duration,
}

impl Window {
    pub const fn new(count: u32, per: Duration) -> Window {
        Window { count, per }
    }
}

/// A sliding log of accepted hits (Telegram's flood control behaves like a
/// sliding window: a burst is refused until the oldest hit leaves it).
#[derive(Debug, Default, Clone)]
pub(crate) struct SlidingLog {
    hits: VecDeque<SystemTime>,
}

impl SlidingLog {
    /// How long until one more hit fits into `w`; `None` if it fits now.
    #[cfg(test)]
    fn wait(&mut self, w: Window, now: SystemTime) -> Option<Duration> {
        self.wait_n(w, now, 1)
    }

    /// How long until `n` more hits (a media group's messages) fit into
    /// `w`; `None` if they fit now. More than the window holds wait for an
    /// empty window.
    pub(crate) fn wait_n(&mut self, w: Window, now: SystemTime, n: usize) -> Option<Duration> {
        while let Some(&first) = self.hits.front() {
            if since(now, first) >= w.per {
                self.hits.pop_front();
            } else {
                break;
            }
        }
        let count = (w.count as usize).max(1);
        let n = n.clamp(1, count);
        if self.hits.len() + n <= count {
            return None;
        }
        // The hit that must leave the window before `n` more fit.
        let idx = self.hits.len() + n - count - 1;
        let oldest = self.hits.get(idx).copied().unwrap_or(now);
        Some(w.per.saturating_sub(since(now, oldest)))
    }

    pub(crate) fn record(&mut self, now: SystemTime) {
        self.hits.push_back(now);
    }
}

/// A fixed window bucket as Discord describes it: `limit` requests, then
/// none until `reset_at`; the window starts at the first request after a
/// reset.
#[derive(Debug, Clone)]
pub(crate) struct FixedBucket {
    pub(crate) limit: u32,
    pub(crate) remaining: u32,
    pub(crate) reset_at: SystemTime,
    pub(crate) per: Duration,
}

/// What a bucket says about one request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BucketState {
    pub(crate) limit: u32,
    pub(crate) remaining: u32,
    pub(crate) reset_at: SystemTime,
    pub(crate) reset_after: Duration,
}

impl FixedBucket {
    pub(crate) fn new(w: Window, now: SystemTime) -> FixedBucket {
        FixedBucket {
            limit: w.count,
            remaining: w.count,
            reset_at: now,
            per: w.per,
        }
    }

    fn refresh(&mut self, now: SystemTime) {
        if now >= self.reset_at {
            self.remaining = self.limit;
            self.reset_at = now + self.per;
        }
    }

    /// Take one request: `Ok` with the state after it, `Err` if exhausted.
    pub(crate) fn hit(&mut self, now: SystemTime) -> Result<BucketState, BucketState> {
        self.refresh(now);
        if self.remaining == 0 {
            return Err(self.state(now));
        }
        self.remaining -= 1;
        Ok(self.state(now))
    }

    pub(crate) fn state(&self, now: SystemTime) -> BucketState {
        BucketState {
            limit: self.limit,
            remaining: self.remaining,
            reset_at: self.reset_at,
            reset_after: since(self.reset_at, now),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliding_window_refuses_then_frees() {
        let w = Window::new(2, Duration::from_secs(10));
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        let mut log = SlidingLog::default();
        assert_eq!(log.wait(w, t0), None);
        log.record(t0);
        log.record(t0 + Duration::from_secs(1));
        assert_eq!(
            log.wait(w, t0 + Duration::from_secs(2)),
            Some(Duration::from_secs(8))
        );
        assert_eq!(log.wait(w, t0 + Duration::from_secs(10)), None);
    }

    #[test]
    fn fixed_bucket_counts_down_and_resets() {
        let w = Window::new(2, Duration::from_secs(5));
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        let mut b = FixedBucket::new(w, t0);
        assert_eq!(b.hit(t0).map(|s| s.remaining).ok(), Some(1));
        assert_eq!(b.hit(t0).map(|s| s.remaining).ok(), Some(0));
        let e = b.hit(t0 + Duration::from_secs(1)).err();
        assert_eq!(e.map(|s| s.reset_after), Some(Duration::from_secs(4)));
        assert!(b.hit(t0 + Duration::from_secs(5)).is_ok());
    }
}
