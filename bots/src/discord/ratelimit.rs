//! Discord rate limiting, owned by Crier (see ARCHITECTURE.md for why not
//! serenity's): per-route buckets learned from `X-RateLimit-*` headers, the
//! global limit, 429 `retry_after`, and a guard that stops sending long
//! before Discord's invalid-request ban (10,000 401/403/429 in 10 minutes).
//!
//! The same code runs in tests (against the fake) and in production.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use reqwest::header::HeaderMap;
use tokio::time::Instant;

/// A rate-limit route: the endpoint template plus its major parameter
/// (channel id or webhook id), e.g. `POST /channels/{}/messages` + `123`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RouteKey {
    pub template: &'static str,
    pub major: String,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// Requests per second for the whole bot (bot-token requests), and
    /// separately for requests without a token (webhooks), which Discord
    /// limits per IP address.
    pub global_per_second: u32,
    /// Invalid requests (401/403/429) per 10 minutes at which sending
    /// stops. Discord bans at 10,000; the default stops at a tenth of that.
    pub invalid_request_guard: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            global_per_second: 50,
            invalid_request_guard: 1_000,
        }
    }
}

#[derive(Debug, Clone)]
struct Bucket {
    remaining: u32,
    reset_at: Instant,
}

#[derive(Default)]
struct State {
    route_bucket: HashMap<RouteKey, String>,
    buckets: HashMap<(String, String), Bucket>,
    /// Routes blocked by a 429 before their bucket was known.
    route_blocked: HashMap<RouteKey, Instant>,
    global_until: Option<Instant>,
    /// Recent request times per global pool (see [`pool`]).
    second: [VecDeque<Instant>; 2],
    invalid: VecDeque<Instant>,
    guard_reported: bool,
}

/// Why a request may not go out now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blocked {
    /// The invalid-request guard tripped: wait this long.
    Guard { count: u32, wait: Duration },
}

pub struct RateLimiter {
    settings: Settings,
    state: Mutex<State>,
}

const WINDOW: Duration = Duration::from_secs(600);

/// Added to a bucket's reset: `X-RateLimit-Reset-After` is rounded to the
/// millisecond and the answer takes time to arrive, so a request sent the
/// instant the bucket resets can reach Discord just before it did (a 429).
/// Other clients use a similar offset (discord.js: 50 ms).
pub const RESET_MARGIN: Duration = Duration::from_millis(25);

/// The global limit a route counts against: 0 for bot-token requests
/// (50/s per bot), 1 for webhook requests, which carry no token (Discord
/// applies the global limit per IP address to those).
fn pool(route: &RouteKey) -> usize {
    usize::from(route.template.contains("/webhooks/"))
}

fn header_f64(h: &HeaderMap, name: &str) -> Option<f64> {
    h.get(name)?.to_str().ok()?.trim().parse().ok()
}

fn header_str(h: &HeaderMap, name: &str) -> Option<String> {
    Some(h.get(name)?.to_str().ok()?.trim().to_string())
}

fn secs(f: f64) -> Duration {
    if f.is_finite() && f > 0.0 {
        Duration::from_secs_f64(f.min(86_400.0))
    } else {
        Duration::ZERO
    }
}

impl RateLimiter {
    pub fn new(settings: Settings) -> RateLimiter {
        RateLimiter {
            settings,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Either `Ok(None)`: go (the request is counted), `Ok(Some(t))`: wait
    /// until `t` and ask again, or `Err`: the guard tripped.
    fn try_take(&self, route: &RouteKey, now: Instant) -> Result<Option<Instant>, Blocked> {
        let mut st = self.lock();
        while st
            .invalid
            .front()
            .is_some_and(|t| now.duration_since(*t) >= WINDOW)
        {
            st.invalid.pop_front();
        }
        let invalid = st.invalid.len() as u32;
        if invalid >= self.settings.invalid_request_guard.max(1) {
            let oldest = st.invalid.front().copied().unwrap_or(now);
            return Err(Blocked::Guard {
                count: invalid,
                wait: (oldest + WINDOW).saturating_duration_since(now),
            });
        }
        st.guard_reported = false;
        let mut ready = now;
        if let Some(g) = st.global_until {
            ready = ready.max(g);
        }
        let second = &mut st.second[pool(route)];
        while second
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
        {
            second.pop_front();
        }
        if second.len() as u32 >= self.settings.global_per_second.max(1)
            && let Some(first) = second.front()
        {
            ready = ready.max(*first + Duration::from_secs(1));
        }
        if let Some(b) = st.route_blocked.get(route) {
            ready = ready.max(*b);
        }
        let key = st
            .route_bucket
            .get(route)
            .map(|hash| (hash.clone(), route.major.clone()));
        if let Some(key) = &key
            && let Some(b) = st.buckets.get(key)
            && b.remaining == 0
            && b.reset_at > now
        {
            ready = ready.max(b.reset_at);
        }
        if ready > now {
            return Ok(Some(ready));
        }
        st.second[pool(route)].push_back(now);
        if let Some(key) = key
            && let Some(b) = st.buckets.get_mut(&key)
        {
            if b.reset_at <= now {
                // The window passed; the response will tell the truth.
                b.remaining = b.remaining.max(1);
            }
            b.remaining = b.remaining.saturating_sub(1);
        }
        Ok(None)
    }

    /// Take a request slot on `route` only if one is free now: `Ok(None)`
    /// when taken, `Ok(Some(wait))` when the request would have to wait
    /// that long (nothing is taken).
    pub fn try_acquire(&self, route: &RouteKey) -> Result<Option<Duration>, Blocked> {
        let now = Instant::now();
        Ok(self
            .try_take(route, now)?
            .map(|at| at.saturating_duration_since(now)))
    }

    /// Wait until a request on `route` may go out.
    pub async fn acquire(&self, route: &RouteKey) -> Result<(), Blocked> {
        loop {
            match self.try_take(route, Instant::now())? {
                None => return Ok(()),
                Some(at) => crate::pacing::sleep_until(crate::pacing::Limiter::Discord, at).await,
            }
        }
    }

    /// Learn from a response's status and headers. For a 429, `retry_after`
    /// and `global` come from the body (more precise than the header).
    pub fn update(
        &self,
        route: &RouteKey,
        status: u16,
        headers: &HeaderMap,
        retry_after: Option<f64>,
        global: bool,
    ) {
        let now = Instant::now();
        let mut st = self.lock();
        if matches!(status, 401 | 403 | 429) {
            // Shared-resource 429s do not count towards the ban.
            let shared = header_str(headers, "x-ratelimit-scope").as_deref() == Some("shared");
            if !(status == 429 && shared) {
                st.invalid.push_back(now);
            }
        }
        let bucket = header_str(headers, "x-ratelimit-bucket");
        if let Some(hash) = &bucket {
            st.route_bucket.insert(route.clone(), hash.clone());
        }
        let remaining = header_f64(headers, "x-ratelimit-remaining");
        let reset_after = header_f64(headers, "x-ratelimit-reset-after");
        if let (Some(hash), Some(rem), Some(after)) = (&bucket, remaining, reset_after) {
            st.buckets.insert(
                (hash.clone(), route.major.clone()),
                Bucket {
                    remaining: rem.max(0.0) as u32,
                    reset_at: now + secs(after) + RESET_MARGIN,
                },
            );
        }
        if status == 429 {
            let wait = secs(
                retry_after
                    .or_else(|| header_f64(headers, "retry-after"))
                    .unwrap_or(1.0),
            );
            let is_global = global
                || header_str(headers, "x-ratelimit-global").as_deref() == Some("true")
                || header_str(headers, "x-ratelimit-scope").as_deref() == Some("global");
            if is_global {
                st.global_until = Some(now + wait);
            } else if let Some(hash) = &bucket {
                let b = st
                    .buckets
                    .entry((hash.clone(), route.major.clone()))
                    .or_insert(Bucket {
                        remaining: 0,
                        reset_at: now,
                    });
                b.remaining = 0;
                b.reset_at = b.reset_at.max(now + wait);
            } else {
                st.route_blocked.insert(route.clone(), now + wait);
            }
        }
    }

    /// Invalid requests counted in the last 10 minutes.
    pub fn invalid_requests(&self) -> u32 {
        let now = Instant::now();
        let mut st = self.lock();
        while st
            .invalid
            .front()
            .is_some_and(|t| now.duration_since(*t) >= WINDOW)
        {
            st.invalid.pop_front();
        }
        st.invalid.len() as u32
    }

    /// True once per trip of the guard (for a single alert per incident).
    pub fn take_guard_report(&self) -> bool {
        let mut st = self.lock();
        if st.guard_reported {
            false
        } else {
            st.guard_reported = true;
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                HeaderName::from_bytes(k.as_bytes()).expect("name"),
                HeaderValue::from_str(v).expect("value"),
            );
        }
        h
    }

    fn route(major: &str) -> RouteKey {
        RouteKey {
            template: "POST /channels/{}/messages",
            major: major.into(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_exhausted_bucket_waits_for_its_reset_and_only_its_route() {
        let l = RateLimiter::new(Settings::default());
        let a = route("1");
        l.acquire(&a).await.expect("go");
        l.update(
            &a,
            200,
            &headers(&[
                ("x-ratelimit-bucket", "abc"),
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset-after", "2.5"),
            ]),
            None,
            false,
        );
        let start = Instant::now();
        l.acquire(&route("2")).await.expect("other channel");
        assert_eq!(start.elapsed(), Duration::ZERO);
        l.acquire(&a).await.expect("after reset");
        assert_eq!(start.elapsed(), Duration::from_millis(2500) + RESET_MARGIN);
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_blocks_the_bucket_for_retry_after() {
        let l = RateLimiter::new(Settings::default());
        let a = route("1");
        l.acquire(&a).await.expect("go");
        l.update(
            &a,
            429,
            &headers(&[("x-ratelimit-bucket", "abc"), ("x-ratelimit-scope", "user")]),
            Some(3.0),
            false,
        );
        let start = Instant::now();
        l.acquire(&a).await.expect("after");
        assert_eq!(start.elapsed(), Duration::from_secs(3));
        assert_eq!(l.invalid_requests(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_global_429_blocks_every_route() {
        let l = RateLimiter::new(Settings::default());
        l.update(
            &route("1"),
            429,
            &headers(&[("x-ratelimit-global", "true")]),
            Some(1.5),
            true,
        );
        let start = Instant::now();
        l.acquire(&route("9")).await.expect("after");
        assert_eq!(start.elapsed(), Duration::from_millis(1500));
    }

    #[tokio::test(start_paused = true)]
    async fn the_global_rate_is_paced() {
        let l = RateLimiter::new(Settings {
            global_per_second: 5,
            ..Settings::default()
        });
        let start = Instant::now();
        for i in 0..6 {
            l.acquire(&route(&i.to_string())).await.expect("go");
        }
        assert_eq!(start.elapsed(), Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_in_the_limiter_is_recorded_for_discord() {
        use crate::pacing::{Limiter, waited};
        let l = RateLimiter::new(Settings {
            global_per_second: 2,
            ..Settings::default()
        });
        let before = waited(Limiter::Discord);
        for i in 0..3 {
            l.acquire(&route(&i.to_string())).await.expect("go");
        }
        // The count is process-wide: other tests may add to it meanwhile.
        let d = waited(Limiter::Discord) - before;
        assert!(d >= Duration::from_secs(1), "{d:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn try_acquire_says_how_long_without_taking() {
        let l = RateLimiter::new(Settings::default());
        let a = route("1");
        assert_eq!(l.try_acquire(&a), Ok(None));
        l.update(
            &a,
            429,
            &headers(&[("x-ratelimit-bucket", "abc"), ("x-ratelimit-scope", "user")]),
            Some(2.0),
            false,
        );
        assert_eq!(l.try_acquire(&a), Ok(Some(Duration::from_secs(2))));
        assert_eq!(l.try_acquire(&route("2")), Ok(None), "other routes go");
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(l.try_acquire(&a), Ok(None));
    }

    #[tokio::test(start_paused = true)]
    async fn webhooks_and_bot_requests_are_paced_apart() {
        let l = RateLimiter::new(Settings {
            global_per_second: 5,
            ..Settings::default()
        });
        let start = Instant::now();
        for i in 0..5 {
            l.acquire(&route(&i.to_string())).await.expect("go");
            l.acquire(&RouteKey {
                template: "POST /webhooks/{}/{}",
                major: i.to_string(),
            })
            .await
            .expect("go");
        }
        assert_eq!(start.elapsed(), Duration::ZERO, "two pools of 5");
        l.acquire(&route("9")).await.expect("go");
        assert_eq!(start.elapsed(), Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn the_invalid_request_guard_stops_sending() {
        let l = RateLimiter::new(Settings {
            invalid_request_guard: 3,
            ..Settings::default()
        });
        for _ in 0..3 {
            l.update(&route("1"), 403, &HeaderMap::new(), None, false);
        }
        match l.acquire(&route("2")).await {
            Err(Blocked::Guard { count: 3, wait }) => assert!(wait <= WINDOW),
            other => panic!("expected the guard, got {other:?}"),
        }
        assert!(l.take_guard_report());
        assert!(!l.take_guard_report(), "reported once per incident");
        tokio::time::advance(WINDOW).await;
        l.acquire(&route("2")).await.expect("the window passed");
    }
}
