//! Time spent waiting inside the adapters' own rate limiters (Telegram's
//! flood limiter, Discord's buckets, global rate and guard), accumulated
//! per platform for the whole process. The limiters sleep through
//! [`sleep_until`]; the core's metrics read [`waited`] at each scrape
//! (`crier_rate_limiter_wait_seconds_total{platform}`). The waits platforms
//! ask for in 429 answers are counted elsewhere (by the engine).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

/// The platforms whose limiters report here (a fixed set: the metric's
/// label values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limiter {
    Telegram,
    Discord,
}

impl Limiter {
    pub const ALL: [Limiter; 2] = [Limiter::Telegram, Limiter::Discord];

    /// The label value (the same words the targets' `platform` uses).
    pub fn name(self) -> &'static str {
        match self {
            Limiter::Telegram => "telegram",
            Limiter::Discord => "discord",
        }
    }
}

/// Nanoseconds waited, per platform (index: `Limiter as usize`).
static WAITED_NS: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];

/// Add one wait of `platform`'s limiter.
pub fn record(platform: Limiter, waited: Duration) {
    let ns = u64::try_from(waited.as_nanos()).unwrap_or(u64::MAX);
    WAITED_NS[platform as usize].fetch_add(ns, Ordering::Relaxed);
}

/// The time `platform`'s limiters have waited since the process started.
pub fn waited(platform: Limiter) -> Duration {
    Duration::from_nanos(WAITED_NS[platform as usize].load(Ordering::Relaxed))
}

/// Records the time since `since` when dropped: a wait cut short (the
/// sending task stopped or timed out) is counted for as long as it lasted.
struct Waiting {
    platform: Limiter,
    since: Instant,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        record(self.platform, self.since.elapsed());
    }
}

/// `tokio::time::sleep_until(at)`, counted as a wait of `platform`'s limiter.
pub async fn sleep_until(platform: Limiter, at: Instant) {
    let _w = Waiting {
        platform,
        since: Instant::now(),
    };
    tokio::time::sleep_until(at).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_sleep_is_recorded_for_its_platform_even_when_cut_short() {
        let before = waited(Limiter::Discord);
        sleep_until(Limiter::Discord, Instant::now() + Duration::from_secs(3)).await;
        // Other tests may wait concurrently (the count is process-wide).
        assert!(waited(Limiter::Discord) - before >= Duration::from_secs(3));

        let before = waited(Limiter::Discord);
        let cut = tokio::time::timeout(
            Duration::from_secs(1),
            sleep_until(Limiter::Discord, Instant::now() + Duration::from_secs(60)),
        )
        .await;
        assert!(cut.is_err());
        let d = waited(Limiter::Discord) - before;
        assert!(d >= Duration::from_secs(1), "{d:?}");
    }
}
