//! The core's wall clock, injected: every timestamp the core writes to
//! the delivery log or compares with one (due times, pacing windows,
//! backoff, schedules, leases) is read from the [`Clock`] the [`Db`]
//! handle carries, never from `Utc::now()` directly.
//!
//! Production uses [`Clock::System`]. In-process tests use
//! [`Clock::tokio`], a wall clock that moves with tokio's clock: under
//! `#[tokio::test(start_paused = true)]` it stands still until tokio's
//! clock is advanced (by hand, or automatically when every task waits),
//! so an hour of pacing or a backoff schedule runs in microseconds and
//! the wall clock and the timers can never disagree. The durations the
//! core sleeps are tokio timers already, so nothing else changes.
//!
//! On the system clock on purpose: instance heartbeats (other processes
//! compare them), the fetcher's HTTP dates and WordPress rechecks, and
//! the one-shot command-line tools (`Clock::System` there).
//!
//! [`Db`]: crate::db::Db

use chrono::{DateTime, TimeZone, Utc};

#[derive(Debug, Clone, Copy, Default)]
pub enum Clock {
    /// The system's wall clock.
    #[default]
    System,
    /// `anchor_ms` at `anchor`, moving with tokio's clock from there.
    Tokio {
        anchor_ms: i64,
        anchor: tokio::time::Instant,
    },
}

impl Clock {
    /// A wall clock that follows tokio's clock, anchored at the system's
    /// time now. Call it inside the runtime whose clock it should follow.
    pub fn tokio() -> Clock {
        Clock::Tokio {
            anchor_ms: Utc::now().timestamp_millis(),
            anchor: tokio::time::Instant::now(),
        }
    }

    /// Unix milliseconds now.
    pub fn now_ms(&self) -> i64 {
        match *self {
            Clock::System => Utc::now().timestamp_millis(),
            Clock::Tokio { anchor_ms, anchor } => {
                let elapsed = tokio::time::Instant::now().saturating_duration_since(anchor);
                anchor_ms.saturating_add(i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
            }
        }
    }

    /// Now as a date and time.
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Tokio { .. } => Utc
                .timestamp_millis_opt(self.now_ms())
                .single()
                .unwrap_or_else(Utc::now),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn a_tokio_clock_moves_only_with_tokio_time() {
        let clock = Clock::tokio();
        let t0 = clock.now_ms();
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(clock.now_ms(), t0, "paused: real time does not move it");
        tokio::time::advance(Duration::from_secs(3600)).await;
        assert_eq!(clock.now_ms(), t0 + 3_600_000);
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert_eq!(clock.now_ms(), t0 + 3_660_000);
        assert_eq!(clock.now().timestamp_millis(), t0 + 3_660_000);
    }

    #[test]
    fn the_system_clock_is_the_wall_clock() {
        let before = Utc::now().timestamp_millis();
        let now = Clock::System.now_ms();
        assert!(now >= before && now - before < 5_000);
    }
}
