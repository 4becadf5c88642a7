//! The start-up ramp: feeds that are due at once when their watcher starts
//! (never polled, or overdue after a stop) are not all polled in the same
//! second. Each gets the next free slot of a steady pace, [`RAMP_PER_SEC`]
//! first polls a second; when there are more such feeds than the pace
//! fits in the feed's interval, the slots wrap around the interval, so
//! every feed is still first polled within its interval. A handful of
//! feeds (a small install, a test) are all polled within a fraction of a
//! second; 100,000 feeds at a 10-minute interval are spread over about
//! eight minutes instead of hitting the network, the database and the
//! feeds' hosts at once.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// First polls started per second at most, while feeds are due at once.
pub const RAMP_PER_SEC: u32 = 200;

#[derive(Default)]
pub struct Ramp {
    /// Start of the current burst and slots handed out in it.
    burst: Mutex<Option<(Instant, u64)>>,
}

impl Ramp {
    /// The delay before a feed that is due now may poll: its slot in the
    /// current burst, wrapped around `interval`.
    pub fn slot(&self, interval: Duration) -> Duration {
        self.slot_at(Instant::now(), interval)
    }

    fn slot_at(&self, now: Instant, interval: Duration) -> Duration {
        let mut burst = self.burst.lock().unwrap_or_else(|p| p.into_inner());
        let pace = Duration::from_secs(1) / RAMP_PER_SEC;
        let (start, n) = match *burst {
            // The burst is over once its slots are all in the past: start
            // a new one now.
            Some((start, n)) if start + pace * (n.min(u32::MAX as u64) as u32) > now => (start, n),
            _ => (now, 0),
        };
        *burst = Some((start, n + 1));
        let at = pace * (n.min(u32::MAX as u64) as u32);
        let at = if interval.is_zero() {
            Duration::ZERO
        } else {
            Duration::from_nanos((at.as_nanos() % interval.as_nanos()) as u64)
        };
        // Relative to now (the burst may have started earlier).
        (start + at).saturating_duration_since(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_few_feeds_poll_at_once_many_are_spread_over_the_interval() {
        let ramp = Ramp::default();
        let t0 = Instant::now();
        let hour = Duration::from_secs(3600);
        let first: Vec<Duration> = (0..5).map(|_| ramp.slot_at(t0, hour)).collect();
        assert_eq!(first[0], Duration::ZERO);
        assert!(first[4] <= Duration::from_millis(25), "{first:?}");
        // 100,000 feeds at a 10-minute interval: spread, never past it.
        let ramp = Ramp::default();
        let ten = Duration::from_secs(600);
        let slots: Vec<Duration> = (0..100_000).map(|_| ramp.slot_at(t0, ten)).collect();
        assert!(slots.iter().all(|d| *d < ten));
        let per_second = |s: u64| slots.iter().filter(|d| d.as_secs() == s).count();
        assert_eq!(per_second(0), RAMP_PER_SEC as usize);
        assert_eq!(per_second(100), RAMP_PER_SEC as usize);
        // More feeds than the pace fits in a 1-minute interval: wrapped,
        // so about n / 60 per second, all within the minute.
        let ramp = Ramp::default();
        let minute = Duration::from_secs(60);
        let slots: Vec<Duration> = (0..30_000).map(|_| ramp.slot_at(t0, minute)).collect();
        assert!(slots.iter().all(|d| *d < minute));
        let in_first = slots.iter().filter(|d| d.as_secs() == 0).count();
        assert!((400..=600).contains(&in_first), "{in_first}");
    }

    #[test]
    fn a_new_burst_starts_once_the_last_one_is_over() {
        let ramp = Ramp::default();
        let t0 = Instant::now();
        let hour = Duration::from_secs(3600);
        for _ in 0..10 {
            ramp.slot_at(t0, hour);
        }
        // Later, after those slots passed: a feed added from chat polls at
        // once.
        assert_eq!(
            ramp.slot_at(t0 + Duration::from_secs(2), hour),
            Duration::ZERO
        );
        // While a burst runs, a newcomer queues behind it.
        let ramp = Ramp::default();
        for _ in 0..400 {
            ramp.slot_at(t0, hour);
        }
        let d = ramp.slot_at(t0 + Duration::from_millis(500), hour);
        assert_eq!(d, Duration::from_millis(1500));
    }
}
