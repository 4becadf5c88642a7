//! Telegram flood limits, honoured by design rather than discovered by
//! 429s: a minimum gap per chat, a per-minute cap per group or channel and
//! a per-second cap for the whole bot. State lives in memory; after a
//! restart the first sends are still paced because the caps are small.
//!
//! A 429 for one chat (`penalize`) blocks only that chat.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// The limits (Telegram does not publish exact numbers; these are the
/// documented approximations, configurable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Minimum gap between two messages to the same chat.
    pub per_chat_gap: Duration,
    /// Messages per minute to one group or channel.
    pub per_group_per_minute: u32,
    /// Messages per second for the whole bot.
    pub global_per_second: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            per_chat_gap: Duration::from_secs(1),
            per_group_per_minute: 20,
            global_per_second: 30,
        }
    }
}

#[derive(Default)]
struct ChatState {
    /// When the chat is free again: the last send plus one gap per message
    /// it carried (a media group of n pictures is n messages).
    free_at: Option<Instant>,
    minute: VecDeque<Instant>,
    blocked_until: Option<Instant>,
}

#[derive(Default)]
struct State {
    second: VecDeque<Instant>,
    chats: HashMap<String, ChatState>,
}

pub struct RateLimiter {
    limits: Limits,
    state: Mutex<State>,
}

/// The windows are counted a little longer than Telegram's, so that
/// network jitter between our clock and Telegram's never turns an allowed
/// burst into a 429.
const MINUTE: Duration = Duration::from_millis(61_000);
const SECOND: Duration = Duration::from_millis(1_050);

/// When `n` more hits fit into a window of `cap` per `span` holding
/// `hits` (oldest first); `None` if they fit now. More than `cap` at once
/// wait for an empty window.
fn window_ready(hits: &VecDeque<Instant>, cap: u32, n: usize, span: Duration) -> Option<Instant> {
    let cap = cap.max(1) as usize;
    let n = n.clamp(1, cap);
    if hits.len() + n <= cap {
        return None;
    }
    // The hit that must leave the window before `n` more fit.
    hits.get(hits.len() + n - cap - 1).map(|t| *t + span)
}

impl RateLimiter {
    pub fn new(limits: Limits) -> RateLimiter {
        RateLimiter {
            limits,
            state: Mutex::new(State::default()),
        }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// When `n` messages sent at once to `chat` (a media group) may go, or
    /// `None` if they may go now (in which case they are recorded). A
    /// group waits as if its messages had been spaced a gap apart, and
    /// holds the chat for one gap per message.
    fn try_take(
        &self,
        chat: &str,
        group_or_channel: bool,
        n: usize,
        now: Instant,
    ) -> Option<Instant> {
        let n = n.max(1);
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let st = &mut *guard;
        while st
            .second
            .front()
            .is_some_and(|t| now.duration_since(*t) >= SECOND)
        {
            st.second.pop_front();
        }
        let mut ready = now;
        if let Some(at) = window_ready(&st.second, self.limits.global_per_second, n, SECOND) {
            ready = ready.max(at);
        }
        let gap = self.limits.per_chat_gap;
        let c = st.chats.entry(chat.to_string()).or_default();
        while c
            .minute
            .front()
            .is_some_and(|t| now.duration_since(*t) >= MINUTE)
        {
            c.minute.pop_front();
        }
        if let Some(b) = c.blocked_until {
            ready = ready.max(b);
        }
        if let Some(free) = c.free_at {
            ready = ready.max(free + gap * (n as u32 - 1).min(u32::MAX / 2));
        }
        if group_or_channel
            && let Some(at) = window_ready(&c.minute, self.limits.per_group_per_minute, n, MINUTE)
        {
            ready = ready.max(at);
        }
        if ready > now {
            return Some(ready);
        }
        c.free_at = Some(now + gap * (n as u32).min(u32::MAX / 2));
        c.blocked_until = None;
        for _ in 0..n {
            c.minute.push_back(now);
            st.second.push_back(now);
        }
        None
    }

    /// Count messages another process sent to `chat` through this bot
    /// `ago` ago (the instance that delivered the chat before this one,
    /// when several share a database): the windows start where that one's
    /// ended.
    pub fn seed(&self, chat: &str, group_or_channel: bool, ago: &[Duration]) {
        self.seed_at(chat, group_or_channel, ago, Instant::now());
    }

    fn seed_at(&self, chat: &str, group_or_channel: bool, ago: &[Duration], now: Instant) {
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let st = &mut *guard;
        let gap = self.limits.per_chat_gap;
        let c = st.chats.entry(chat.to_string()).or_default();
        for a in ago {
            let Some(at) = now.checked_sub(*a) else {
                continue;
            };
            if *a < MINUTE && group_or_channel {
                c.minute.push_back(at);
            }
            if *a < SECOND {
                st.second.push_back(at);
            }
            c.free_at = Some(c.free_at.map_or(at + gap, |f| f.max(at + gap)));
        }
        c.minute.make_contiguous().sort();
        st.second.make_contiguous().sort();
    }

    /// Wait until a message to `chat` may be sent, and count it.
    pub async fn acquire(&self, chat: &str, group_or_channel: bool) {
        self.acquire_n(chat, group_or_channel, 1).await;
    }

    /// Wait until `n` messages sent at once to `chat` (a media group of
    /// `n` pictures) may be sent, and count them all.
    pub async fn acquire_n(&self, chat: &str, group_or_channel: bool, n: usize) {
        loop {
            match self.try_take(chat, group_or_channel, n, Instant::now()) {
                None => return,
                Some(at) => crate::pacing::sleep_until(crate::pacing::Limiter::Telegram, at).await,
            }
        }
    }

    /// Telegram answered 429 for `chat`: nothing goes to it for `retry_after`.
    pub fn penalize(&self, chat: &str, retry_after: Duration) {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let until = Instant::now() + retry_after;
        let c = st.chats.entry(chat.to_string()).or_default();
        c.blocked_until = Some(c.blocked_until.map_or(until, |b| b.max(until)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter() -> RateLimiter {
        RateLimiter::new(Limits::default())
    }

    #[tokio::test(start_paused = true)]
    async fn one_message_per_second_per_chat() {
        let l = limiter();
        let start = Instant::now();
        for _ in 0..3 {
            l.acquire("-1001", true).await;
        }
        assert_eq!(start.elapsed(), Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn twenty_per_minute_per_channel() {
        let l = limiter();
        let start = Instant::now();
        for _ in 0..21 {
            l.acquire("@news", true).await;
        }
        // 20 spaced a second apart, then the 21st waits for the first to
        // age out (with the safety margin).
        assert_eq!(start.elapsed(), MINUTE);
    }

    #[tokio::test(start_paused = true)]
    async fn private_chats_have_no_minute_cap() {
        let l = limiter();
        let start = Instant::now();
        for _ in 0..21 {
            l.acquire("42", false).await;
        }
        assert_eq!(start.elapsed(), Duration::from_secs(20));
    }

    #[tokio::test(start_paused = true)]
    async fn thirty_per_second_for_the_bot() {
        let l = limiter();
        let start = Instant::now();
        for i in 0..31 {
            l.acquire(&format!("-100{i}"), true).await;
        }
        assert_eq!(start.elapsed(), SECOND);
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_in_the_limiter_is_recorded_for_telegram() {
        use crate::pacing::{Limiter, waited};
        let l = limiter();
        let before = waited(Limiter::Telegram);
        for _ in 0..3 {
            l.acquire("-1009", true).await;
        }
        // Two one-second gaps; the count is process-wide, so other tests
        // may add to it meanwhile.
        let d = waited(Limiter::Telegram) - before;
        assert!(d >= Duration::from_secs(2), "{d:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_media_group_counts_as_one_message_per_picture() {
        let l = limiter();
        let start = Instant::now();
        l.acquire("-1001", true).await;
        // Three pictures wait as if spaced a second apart...
        l.acquire_n("-1001", true, 3).await;
        assert_eq!(start.elapsed(), Duration::from_secs(3));
        // ...and hold the chat for three seconds.
        l.acquire("-1001", true).await;
        assert_eq!(start.elapsed(), Duration::from_secs(6));
        // A channel takes 20 a minute: two albums of 10, then a wait.
        let other = Instant::now();
        l.acquire_n("-1002", true, 10).await;
        l.acquire_n("-1002", true, 10).await;
        assert!(
            other.elapsed() >= Duration::from_secs(10),
            "{:?}",
            other.elapsed()
        );
        l.acquire("-1002", true).await;
        assert!(other.elapsed() >= MINUTE, "{:?}", other.elapsed());
    }

    #[tokio::test(start_paused = true)]
    async fn a_media_group_counts_against_the_bots_second() {
        let l = limiter();
        let start = Instant::now();
        for i in 0..3 {
            l.acquire_n(&format!("-100{i}"), true, 10).await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO, "30 in the first second");
        l.acquire("-1009", true).await;
        assert_eq!(start.elapsed(), SECOND);
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_blocks_only_its_chat() {
        let l = limiter();
        l.penalize("-1001", Duration::from_secs(30));
        let start = Instant::now();
        l.acquire("-1002", true).await;
        assert_eq!(start.elapsed(), Duration::ZERO, "other chats go on");
        l.acquire("-1001", true).await;
        assert_eq!(start.elapsed(), Duration::from_secs(30));
    }

    #[tokio::test(start_paused = true)]
    async fn what_another_process_sent_counts() {
        let l = RateLimiter::new(Limits {
            per_chat_gap: Duration::from_millis(10),
            per_group_per_minute: 3,
            global_per_second: 1000,
        });
        // Another instance sent 3 messages to the channel 30 s, 20 s and
        // 10 s ago: the minute is full until the first is 61 s old.
        let ago = [30, 20, 10].map(Duration::from_secs);
        l.seed("-1001", true, &ago);
        let start = Instant::now();
        l.acquire("-1001", true).await;
        assert_eq!(start.elapsed(), MINUTE - Duration::from_secs(30));
        // A private chat has no minute window: only the gap.
        l.seed("42", false, &[Duration::from_millis(1)]);
        let start = Instant::now();
        l.acquire("42", false).await;
        assert_eq!(start.elapsed(), Duration::from_millis(9));
    }
}
