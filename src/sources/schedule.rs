//! Poll intervals and failure backoff, jittered.

use rand::Rng;
use std::time::Duration;

/// First backoff step: 5 minutes.
pub const BACKOFF_BASE: Duration = Duration::from_secs(5 * 60);
/// Backoff ceiling: 24 hours.
pub const BACKOFF_CAP: Duration = Duration::from_secs(24 * 3600);
/// The longest a feed's `ttl`/`sy:updatePeriod` may stretch the interval.
pub const TTL_HINT_CAP: Duration = Duration::from_secs(6 * 3600);
/// Suggested: pause a feed after this many consecutive failures.
pub const PAUSE_AFTER_FAILURES: u32 = 10;
/// Suggested: pause sooner when the failures are all permanent
/// ([`super::SourceError::is_permanent`]: 404, not a feed, over cap…).
pub const PAUSE_AFTER_PERMANENT_FAILURES: u32 = 5;
/// Jitter: ± this fraction of the delay.
pub const JITTER: f64 = 0.1;

fn jitter(d: Duration, rng: &mut impl Rng) -> Duration {
    let factor = rng.random_range((1.0 - JITTER)..=(1.0 + JITTER));
    d.mul_f64(factor)
}

/// Delay until the next poll of a healthy feed: the configured `interval`,
/// never below `floor`, lengthened (never shortened) by the feed's own
/// `ttl_hint` up to [`TTL_HINT_CAP`], then jittered down by up to 10%
/// (never below `floor`) so that feeds configured alike do not poll in
/// lockstep — down only, so that a new article is always seen within the
/// configured interval.
pub fn next_poll_delay(
    interval: Duration,
    ttl_hint: Option<Duration>,
    floor: Duration,
    rng: &mut impl Rng,
) -> Duration {
    let mut base = interval.max(floor);
    if let Some(ttl) = ttl_hint {
        base = base.max(ttl.min(TTL_HINT_CAP.max(interval)));
    }
    base.mul_f64(rng.random_range((1.0 - JITTER)..=1.0))
        .max(floor)
}

/// Delay before retrying a feed after `consecutive_failures` (≥ 1) failures:
/// 5 min × 2^(n−1), capped at 24 h, jittered ±10% (the cap still holds).
/// `0` failures gives zero.
pub fn backoff_delay(consecutive_failures: u32) -> Duration {
    backoff_delay_with(consecutive_failures, &mut rand::rng())
}

/// [`backoff_delay`] with a caller-supplied random source.
pub fn backoff_delay_with(consecutive_failures: u32, rng: &mut impl Rng) -> Duration {
    backoff(consecutive_failures, BACKOFF_BASE, BACKOFF_CAP, rng)
}

/// `base` × 2^(n−1), capped at `cap`, jittered ±10% (the cap still holds);
/// zero for `n = 0`.
pub fn backoff(
    consecutive_failures: u32,
    base: Duration,
    cap: Duration,
    rng: &mut impl Rng,
) -> Duration {
    if consecutive_failures == 0 {
        return Duration::ZERO;
    }
    let exp = (consecutive_failures - 1).min(20);
    let d = base.checked_mul(1u32 << exp).unwrap_or(cap).min(cap);
    jitter(d, rng).min(cap)
}

/// Backoff that also honours a server's `Retry-After` (never shorter).
pub fn backoff_delay_for(consecutive_failures: u32, retry_after: Option<Duration>) -> Duration {
    let d = backoff_delay(consecutive_failures);
    match retry_after {
        Some(r) => d.max(r.min(BACKOFF_CAP)),
        None => d,
    }
}

/// Whether the core should pause a feed, by the suggested thresholds.
pub fn should_pause(consecutive_failures: u32, last_error_permanent: bool) -> bool {
    consecutive_failures >= PAUSE_AFTER_FAILURES
        || (last_error_permanent && consecutive_failures >= PAUSE_AFTER_PERMANENT_FAILURES)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    const MIN: Duration = Duration::from_secs(60);

    #[test]
    fn poll_delay_bounds() {
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..1000 {
            let d = next_poll_delay(10 * MIN, None, 2 * MIN, &mut rng);
            assert!(d >= 9 * MIN && d <= 10 * MIN, "{d:?}");
            // ttl shorter than the interval never shortens it
            let d = next_poll_delay(10 * MIN, Some(MIN), 2 * MIN, &mut rng);
            assert!(d >= 9 * MIN, "{d:?}");
            // ttl longer lengthens it
            let d = next_poll_delay(10 * MIN, Some(60 * MIN), 2 * MIN, &mut rng);
            assert!(d >= 54 * MIN && d <= 60 * MIN, "{d:?}");
            // but not beyond the cap
            let d = next_poll_delay(
                10 * MIN,
                Some(Duration::from_secs(86_400 * 7)),
                2 * MIN,
                &mut rng,
            );
            assert!(d <= TTL_HINT_CAP, "{d:?}");
            // floor holds
            let d = next_poll_delay(Duration::from_secs(5), None, 2 * MIN, &mut rng);
            assert!(d >= 2 * MIN, "{d:?}");
        }
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let mut rng = StdRng::seed_from_u64(1);
        assert_eq!(backoff_delay_with(0, &mut rng), Duration::ZERO);
        let d1 = backoff_delay_with(1, &mut rng);
        assert!(
            d1 >= Duration::from_secs(270) && d1 <= Duration::from_secs(330),
            "{d1:?}"
        );
        let d3 = backoff_delay_with(3, &mut rng);
        assert!(
            d3 >= Duration::from_secs(1080) && d3 <= Duration::from_secs(1320),
            "{d3:?}"
        );
        for n in [10, 20, 40, u32::MAX] {
            let d = backoff_delay_with(n, &mut rng);
            assert!(
                d <= BACKOFF_CAP && d >= BACKOFF_CAP.mul_f64(0.89),
                "{n}: {d:?}"
            );
        }
        assert!(backoff_delay_for(1, Some(Duration::from_secs(3600))) >= Duration::from_secs(3600));
        assert!(should_pause(10, false));
        assert!(should_pause(5, true));
        assert!(!should_pause(4, true));
    }
}
