//! Telegram flood limits, honoured by design rather than discovered by
//! 429s: a minimum gap per chat, a per-minute cap per group or channel and
//! a per-second cap for the whole bot. State lives in memory; after a
//! restart the first sends are still paced because the caps are small.
//!
//! A 429 for one chat (`penalize`) blocks only that chat.
//!
//! The windows are paced by Telegram's answers: a message counts in a
//! window from the latest moment Telegram can have counted it. Once its
//! answer is back that is the answer's arrival (Telegram had the request
//! by then); until then, its send plus a margin for network jitter (the
//! margin the windows used to be stretched by). So a fast answer frees its
//! slot a second after it arrived, whatever the jitter, and a slow one is
//! no worse off than before. A [`Slot`] is the caller's message: dropping
//! it once the answer (or an error) is back records the answer.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Notify;
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

/// One message in a window.
#[derive(Debug, Clone, Copy)]
struct Hit {
    /// The acquisition that sent it (0: seeded, already answered).
    id: u64,
    /// The latest moment Telegram can have counted it.
    at: Instant,
}

#[derive(Default)]
struct ChatState {
    /// When the chat is free again: the last send plus one gap per message
    /// it carried (a media group of n pictures is n messages).
    free_at: Option<Instant>,
    minute: Vec<Hit>,
    blocked_until: Option<Instant>,
    /// Its messages so far, counted from the least any waiting chat had
    /// when it took its last ones (fair queuing's virtual time): the
    /// waiting chat with the fewest goes first.
    served: u64,
}

#[derive(Default)]
struct State {
    second: Vec<Hit>,
    chats: HashMap<String, ChatState>,
    /// Acquisitions waiting, in arrival order.
    waiting: Vec<Waiter>,
    next_id: u64,
}

pub struct RateLimiter {
    limits: Limits,
    state: Mutex<State>,
    /// Woken when a slot may be free sooner: an answer moved a hit
    /// earlier, or the queue moved.
    changed: Notify,
}

/// Telegram's windows, counted a hair longer: the server's clock and ours
/// may tick at slightly different rates (0.1 %: 1 ms a second, 60 ms a
/// minute, well above the drift of a disciplined clock).
const SECOND: Duration = Duration::from_millis(1_001);
const MINUTE: Duration = Duration::from_millis(60_060);
/// Until its answer arrives, a message counts from its send plus this
/// (network jitter between our clock and Telegram's; the 5 % margin the
/// windows used to be stretched by).
const SECOND_MARGIN: Duration = Duration::from_millis(50);
const MINUTE_MARGIN: Duration = Duration::from_millis(1_000);

/// The hits still in a window of `span` at `now` (oldest first), and
/// forget the others.
fn live(hits: &mut Vec<Hit>, span: Duration, now: Instant) -> Vec<Instant> {
    hits.retain(|h| now.saturating_duration_since(h.at) < span);
    let mut at: Vec<Instant> = hits.iter().map(|h| h.at).collect();
    at.sort_unstable();
    at
}

/// When `need` more hits fit into a window of `cap` per `span` holding
/// `live` (oldest first): `Ok` if now, `Err(Some(t))` at `t` at the
/// earliest, `Err(None)` not before hits still to be sent have left it.
fn window_ready(
    live: &[Instant],
    cap: usize,
    need: usize,
    span: Duration,
) -> Result<(), Option<Instant>> {
    if live.len() + need <= cap {
        return Ok(());
    }
    // The hit that must leave the window before `need` more fit.
    Err(live.get(live.len() + need - cap - 1).map(|t| *t + span))
}

/// One acquisition waiting for its turn.
struct Waiter {
    ticket: u64,
    chat: String,
    group_or_channel: bool,
    n: usize,
}

/// Messages counted by the limiter, until their answer: drop it once the
/// request is answered (or failed). Dropping it earlier would count the
/// message from before Telegram saw it.
#[must_use = "hold the slot until the request is answered"]
pub struct Slot<'a> {
    limiter: &'a RateLimiter,
    chat: String,
    id: u64,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.limiter.answer(&self.chat, self.id, Instant::now());
    }
}

/// A place in the queue; leaves it when dropped (taken or given up).
struct Ticket<'a> {
    limiter: &'a RateLimiter,
    ticket: u64,
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        let left = {
            let mut st = self.limiter.lock();
            let before = st.waiting.len();
            st.waiting.retain(|w| w.ticket != self.ticket);
            st.waiting.len() != before
        };
        if left {
            // Given up: the ones behind may go sooner.
            self.limiter.changed.notify_waiters();
        }
    }
}

impl RateLimiter {
    pub fn new(limits: Limits) -> RateLimiter {
        RateLimiter {
            limits,
            state: Mutex::new(State::default()),
            changed: Notify::new(),
        }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Join the queue of the messages waiting for the bot's second.
    fn enqueue(&self, chat: &str, group_or_channel: bool, n: usize) -> Ticket<'_> {
        let mut st = self.lock();
        st.next_id += 1;
        let ticket = st.next_id;
        st.waiting.push(Waiter {
            ticket,
            chat: chat.to_string(),
            group_or_channel,
            n,
        });
        Ticket {
            limiter: self,
            ticket,
        }
    }

    /// When the chat's own limits let `n` messages go (the bot's second
    /// aside).
    fn chat_ready(
        &self,
        c: &mut ChatState,
        group_or_channel: bool,
        n: usize,
        now: Instant,
    ) -> Result<(), Instant> {
        let gap = self.limits.per_chat_gap;
        let mut ready = now;
        if let Some(b) = c.blocked_until {
            ready = ready.max(b);
        }
        if let Some(free) = c.free_at {
            ready = ready.max(free + gap * (n as u32 - 1).min(u32::MAX / 2));
        }
        if group_or_channel {
            let cap = self.limits.per_group_per_minute.max(1) as usize;
            // More than the window holds at once wait for an empty window.
            let minute = live(&mut c.minute, MINUTE, now);
            if let Err(at) = window_ready(&minute, cap, n.clamp(1, cap), MINUTE) {
                ready = ready.max(at.unwrap_or(now + MINUTE));
            }
        }
        if ready > now { Err(ready) } else { Ok(()) }
    }

    /// Take `n` messages sent at once to `chat` (a media group) for the
    /// holder of `ticket` if they may go now: `Ok(id)`, recorded under
    /// `id`. Else `Err(Some(t))`: not before `t`; `Err(None)`: not before
    /// the messages ahead in the queue have gone. A group waits as if its
    /// messages had been spaced a gap apart, and holds the chat for one gap
    /// per message.
    fn try_take(
        &self,
        ticket: u64,
        chat: &str,
        group_or_channel: bool,
        n: usize,
        now: Instant,
    ) -> Result<u64, Option<Instant>> {
        let n = n.max(1);
        let mut guard = self.lock();
        let st = &mut *guard;
        let cap = self.limits.global_per_second.max(1) as usize;
        let c = st.chats.entry(chat.to_string()).or_default();
        let chat_wait = self.chat_ready(c, group_or_channel, n, now).err();
        // The messages ahead in the queue that their chats let go now go
        // first: those to the chats served least (then the earlier
        // arrivals), so that the bot's second goes round the chats in turn.
        let key = |chats: &HashMap<String, ChatState>, chat: &str, t: u64| {
            (chats.get(chat).map_or(0, |c| c.served), t)
        };
        let mine = key(&st.chats, chat, ticket);
        let mut ahead = 0;
        for w in &st.waiting {
            if w.chat == chat || key(&st.chats, &w.chat, w.ticket) >= mine {
                continue;
            }
            let c = st.chats.entry(w.chat.clone()).or_default();
            if self
                .chat_ready(c, w.group_or_channel, w.n.max(1), now)
                .is_ok()
            {
                ahead += w.n.clamp(1, cap);
            }
        }
        let second = live(&mut st.second, SECOND, now);
        let global = window_ready(&second, cap, n.clamp(1, cap) + ahead, SECOND).err();
        match (chat_wait, global) {
            (None, None) => {}
            (Some(t), None) => return Err(Some(t)),
            (c, Some(g)) => return Err(g.map(|g| c.map_or(g, |c| c.max(g)))),
        }
        st.next_id += 1;
        let id = st.next_id;
        let gap = self.limits.per_chat_gap;
        // A chat back from idle starts level with the least served waiting
        // one rather than with a credit for its idle time.
        let level = st
            .waiting
            .iter()
            .filter_map(|w| st.chats.get(&w.chat).map(|c| c.served))
            .min()
            .unwrap_or(0);
        let c = st.chats.entry(chat.to_string()).or_default();
        c.served = c.served.max(level) + n as u64;
        c.free_at = Some(now + gap * (n as u32).min(u32::MAX / 2));
        c.blocked_until = None;
        for _ in 0..n {
            if group_or_channel {
                c.minute.push(Hit {
                    id,
                    at: now + MINUTE_MARGIN,
                });
            }
            st.second.push(Hit {
                id,
                at: now + SECOND_MARGIN,
            });
        }
        st.waiting.retain(|w| w.ticket != ticket);
        Ok(id)
    }

    /// The answer to acquisition `id` arrived at `now`: its messages count
    /// from then if that is earlier than their margin.
    fn answer(&self, chat: &str, id: u64, now: Instant) {
        let mut moved = false;
        {
            let mut guard = self.lock();
            let st = &mut *guard;
            let mut settle = |hits: &mut Vec<Hit>| {
                for h in hits.iter_mut().filter(|h| h.id == id && now < h.at) {
                    h.at = now;
                    moved = true;
                }
            };
            settle(&mut st.second);
            if let Some(c) = st.chats.get_mut(chat) {
                settle(&mut c.minute);
            }
        }
        if moved {
            self.changed.notify_waiters();
        }
    }

    /// Count messages another process sent to `chat` through this bot
    /// `ago` ago (the instance that delivered the chat before this one,
    /// when several share a database): the windows start where that one's
    /// ended.
    pub fn seed(&self, chat: &str, group_or_channel: bool, ago: &[Duration]) {
        self.seed_at(chat, group_or_channel, ago, Instant::now());
    }

    fn seed_at(&self, chat: &str, group_or_channel: bool, ago: &[Duration], now: Instant) {
        let mut guard = self.lock();
        let st = &mut *guard;
        let gap = self.limits.per_chat_gap;
        let c = st.chats.entry(chat.to_string()).or_default();
        for a in ago {
            let Some(at) = now.checked_sub(*a) else {
                continue;
            };
            // Recorded once sent, so answered: counted from then.
            if *a < MINUTE && group_or_channel {
                c.minute.push(Hit { id: 0, at });
            }
            if *a < SECOND {
                st.second.push(Hit { id: 0, at });
            }
            c.free_at = Some(c.free_at.map_or(at + gap, |f| f.max(at + gap)));
        }
    }

    /// Wait until a message to `chat` may be sent, and count it; hold the
    /// slot until the request is answered.
    pub async fn acquire(&self, chat: &str, group_or_channel: bool) -> Slot<'_> {
        self.acquire_n(chat, group_or_channel, 1).await
    }

    /// Wait until `n` messages sent at once to `chat` (a media group of
    /// `n` pictures) may be sent, and count them all; hold the slot until
    /// the request is answered.
    pub async fn acquire_n(&self, chat: &str, group_or_channel: bool, n: usize) -> Slot<'_> {
        let ticket = self.enqueue(chat, group_or_channel, n);
        loop {
            // Listen before looking, so that a change in between wakes us.
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let now = Instant::now();
            match self.try_take(ticket.ticket, chat, group_or_channel, n, now) {
                Ok(id) => {
                    drop(ticket);
                    // The ones behind in the queue move up.
                    self.changed.notify_waiters();
                    return Slot {
                        limiter: self,
                        chat: chat.to_string(),
                        id,
                    };
                }
                Err(at) => {
                    // Not known (messages ahead go first): a window from
                    // now at the earliest, or when the queue moves.
                    let at = at.unwrap_or(now + SECOND);
                    tokio::select! {
                        _ = crate::pacing::sleep_until(crate::pacing::Limiter::Telegram, at) => {}
                        _ = changed => {}
                    }
                }
            }
        }
    }

    /// Telegram answered 429 for `chat`: nothing goes to it for `retry_after`.
    pub fn penalize(&self, chat: &str, retry_after: Duration) {
        let mut st = self.lock();
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
            drop(l.acquire("-1001", true).await);
        }
        assert_eq!(start.elapsed(), Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn twenty_per_minute_per_channel() {
        let l = limiter();
        let start = Instant::now();
        for _ in 0..21 {
            drop(l.acquire("@news", true).await);
        }
        // 20 spaced a second apart (each answered at once), then the 21st
        // waits for the first to age out (with the clock slack).
        assert_eq!(start.elapsed(), MINUTE);
    }

    #[tokio::test(start_paused = true)]
    async fn private_chats_have_no_minute_cap() {
        let l = limiter();
        let start = Instant::now();
        for _ in 0..21 {
            drop(l.acquire("42", false).await);
        }
        assert_eq!(start.elapsed(), Duration::from_secs(20));
    }

    #[tokio::test(start_paused = true)]
    async fn thirty_per_second_for_the_bot() {
        let l = limiter();
        let start = Instant::now();
        for i in 0..31 {
            drop(l.acquire(&format!("-100{i}"), true).await);
        }
        assert_eq!(start.elapsed(), SECOND);
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_in_the_limiter_is_recorded_for_telegram() {
        use crate::pacing::{Limiter, waited};
        let l = limiter();
        let before = waited(Limiter::Telegram);
        for _ in 0..3 {
            drop(l.acquire("-1009", true).await);
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
        drop(l.acquire("-1001", true).await);
        // Three pictures wait as if spaced a second apart...
        drop(l.acquire_n("-1001", true, 3).await);
        assert_eq!(start.elapsed(), Duration::from_secs(3));
        // ...and hold the chat for three seconds.
        drop(l.acquire("-1001", true).await);
        assert_eq!(start.elapsed(), Duration::from_secs(6));
        // A channel takes 20 a minute: two albums of 10, then a wait.
        let other = Instant::now();
        drop(l.acquire_n("-1002", true, 10).await);
        drop(l.acquire_n("-1002", true, 10).await);
        assert!(
            other.elapsed() >= Duration::from_secs(10),
            "{:?}",
            other.elapsed()
        );
        drop(l.acquire("-1002", true).await);
        assert!(other.elapsed() >= MINUTE, "{:?}", other.elapsed());
    }

    #[tokio::test(start_paused = true)]
    async fn a_media_group_counts_against_the_bots_second() {
        let l = limiter();
        let start = Instant::now();
        for i in 0..3 {
            drop(l.acquire_n(&format!("-100{i}"), true, 10).await);
        }
        assert_eq!(start.elapsed(), Duration::ZERO, "30 in the first second");
        drop(l.acquire("-1009", true).await);
        assert_eq!(start.elapsed(), SECOND);
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_blocks_only_its_chat() {
        let l = limiter();
        l.penalize("-1001", Duration::from_secs(30));
        let start = Instant::now();
        drop(l.acquire("-1002", true).await);
        assert_eq!(start.elapsed(), Duration::ZERO, "other chats go on");
        drop(l.acquire("-1001", true).await);
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
        // 10 s ago: the minute is full until the first has left it.
        let ago = [30, 20, 10].map(Duration::from_secs);
        l.seed("-1001", true, &ago);
        let start = Instant::now();
        drop(l.acquire("-1001", true).await);
        assert_eq!(start.elapsed(), MINUTE - Duration::from_secs(30));
        // A private chat has no minute window: only the gap.
        l.seed("42", false, &[Duration::from_millis(1)]);
        let start = Instant::now();
        drop(l.acquire("42", false).await);
        assert_eq!(start.elapsed(), Duration::from_millis(9));
    }

    #[tokio::test(start_paused = true)]
    async fn an_unanswered_message_counts_from_its_send_plus_the_margin() {
        let l = limiter();
        let start = Instant::now();
        // 30 requests still in flight: nothing known of when Telegram saw
        // them but that it was after their send.
        let mut held = Vec::new();
        for i in 0..30 {
            held.push(l.acquire(&format!("-100{i}"), true).await);
        }
        drop(l.acquire("-1099", true).await);
        assert_eq!(start.elapsed(), SECOND_MARGIN + SECOND);
        drop(held);
    }

    #[tokio::test(start_paused = true)]
    async fn an_answer_frees_the_slot_a_window_after_it_and_wakes_the_waiter() {
        let l = std::sync::Arc::new(limiter());
        let start = Instant::now();
        let mut held = Vec::new();
        for i in 0..30 {
            held.push(l.acquire(&format!("-100{i}"), true).await);
        }
        let waiter = {
            let l = l.clone();
            tokio::spawn(async move {
                drop(l.acquire("-1099", true).await);
                Instant::now()
            })
        };
        // The answers arrive 3 ms after the sends: the waiter, asleep
        // until send + margin + window, goes at answer + window.
        tokio::time::sleep(Duration::from_millis(3)).await;
        drop(held);
        let went = waiter.await.expect("waiter");
        assert_eq!(went - start, Duration::from_millis(3) + SECOND);
    }

    #[tokio::test(start_paused = true)]
    async fn a_late_answer_counts_no_later_than_the_margin() {
        let l = limiter();
        let start = Instant::now();
        let mut held = Vec::new();
        for i in 0..30 {
            held.push(l.acquire(&format!("-100{i}"), true).await);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        drop(held);
        drop(l.acquire("-1099", true).await);
        assert_eq!(start.elapsed(), SECOND_MARGIN + SECOND);
    }

    #[tokio::test(start_paused = true)]
    async fn an_answer_settles_the_channels_minute_too() {
        let l = RateLimiter::new(Limits {
            per_chat_gap: Duration::from_millis(10),
            per_group_per_minute: 2,
            global_per_second: 1000,
        });
        let start = Instant::now();
        let a = l.acquire("-1001", true).await;
        // Answered after 5 ms; the second message is still in flight.
        tokio::time::sleep(Duration::from_millis(5)).await;
        drop(a);
        tokio::time::sleep(Duration::from_millis(15)).await;
        let b = l.acquire("-1001", true).await;
        // The minute is full until the first has left it, a minute after
        // its answer (not its send plus the minute's margin).
        drop(l.acquire("-1001", true).await);
        assert_eq!(start.elapsed(), Duration::from_millis(5) + MINUTE);
        drop(b);
    }

    #[tokio::test(start_paused = true)]
    async fn the_bots_second_goes_round_the_waiting_chats_in_turn() {
        use std::sync::Arc;
        let l = Arc::new(RateLimiter::new(Limits {
            per_chat_gap: Duration::from_millis(1),
            per_group_per_minute: 1000,
            global_per_second: 3,
        }));
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..5usize {
            let (l, order) = (l.clone(), order.clone());
            tasks.spawn(async move {
                for _ in 0..6 {
                    let slot = l.acquire(&format!("{i}"), false).await;
                    order.lock().unwrap().push(i);
                    drop(slot);
                    tokio::task::yield_now().await;
                }
            });
        }
        while tasks.join_next().await.is_some() {}
        // 5 chats, 3 a second: the chats served longest ago go first, so
        // after each second no chat is more than one message ahead of
        // another (in which order a second's three go is a race).
        let order = order.lock().unwrap().clone();
        let mut sent = [0usize; 5];
        for (k, i) in order.iter().enumerate() {
            sent[*i] += 1;
            if (k + 1) % 3 != 0 {
                continue;
            }
            let (lo, hi) = (sent.iter().min().unwrap(), sent.iter().max().unwrap());
            assert!(hi - lo <= 1, "after {} sends: {sent:?} ({order:?})", k + 1);
        }
    }
}
