//! A clock that runs with real time but can be skewed forward (or back), so
//! that age-based rules (Telegram's 48 h delete window, Discord's nonce
//! window, the hourly crosspost limit, rate-limit windows) can be tested
//! without sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A skewable clock shared by a fake and its test.
#[derive(Clone, Debug)]
pub struct Clock {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    base_system: SystemTime,
    base_instant: Instant,
    offset_ms: AtomicI64,
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock {
    pub fn new() -> Clock {
        Clock {
            inner: Arc::new(Inner {
                base_system: SystemTime::now(),
                base_instant: Instant::now(),
                offset_ms: AtomicI64::new(0),
            }),
        }
    }

    /// The fake's "now": real elapsed time plus the skew.
    pub fn now(&self) -> SystemTime {
        let real = self.inner.base_system + self.inner.base_instant.elapsed();
        let off = self.inner.offset_ms.load(Ordering::SeqCst);
        if off >= 0 {
            real + Duration::from_millis(off as u64)
        } else {
            real.checked_sub(Duration::from_millis(off.unsigned_abs()))
                .unwrap_or(real)
        }
    }

    /// Move the clock forward by `d` (all age- and window-based rules see it).
    pub fn advance(&self, d: Duration) {
        let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        self.inner.offset_ms.fetch_add(ms, Ordering::SeqCst);
    }

    /// Move the clock back by `d`.
    pub fn rewind(&self, d: Duration) {
        let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        self.inner.offset_ms.fetch_sub(ms, Ordering::SeqCst);
    }

    /// The current skew in milliseconds.
    pub fn skew_ms(&self) -> i64 {
        self.inner.offset_ms.load(Ordering::SeqCst)
    }

    /// Seconds since the Unix epoch (what Telegram's `date` fields carry).
    pub fn unix(&self) -> i64 {
        unix_secs(self.now())
    }

    /// Seconds since the Unix epoch with millisecond precision.
    pub fn unix_f64(&self) -> f64 {
        unix_f64(self.now())
    }
}

pub(crate) fn unix_secs(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    }
}

pub(crate) fn unix_f64(t: SystemTime) -> f64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    }
}

/// `a - b`, or zero when `b` is later.
pub(crate) fn since(a: SystemTime, b: SystemTime) -> Duration {
    a.duration_since(b).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_moves_now() {
        let c = Clock::new();
        let t0 = c.now();
        c.advance(Duration::from_secs(3600));
        assert!(since(c.now(), t0) >= Duration::from_secs(3600));
        c.rewind(Duration::from_secs(3600));
        assert!(since(c.now(), t0) < Duration::from_secs(60));
    }
}
