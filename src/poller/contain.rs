//! Panics in the feed watcher: a panic while polling a feed counts as a
//! failed poll (the feed is polled again after the usual backoff, never in
//! a hot loop), and a panic on one item drops that item, not the feed.

use crier_bots::panics;
use crier_storage::FeedState;

use super::{PollReport, Poller};
use crate::config::FeedConfig;
use crate::db::StoreError;
use crate::sources::{self, SourceItem};

impl Poller {
    /// [`Poller::poll_once`] under a panic guard.
    pub(super) async fn poll_guarded(&self, feed: &FeedConfig) -> Result<PollReport, StoreError> {
        let msg = match panics::catch(self.poll_with(feed, true)).await {
            Ok(r) => return r,
            Err(msg) => msg,
        };
        let reason = format!("internal error: {msg}");
        tracing::error!(feed = %feed.name, panic = %msg, "polling the feed panicked; will poll again after a backoff");
        crate::supervise::raise_once(
            &self.alerts,
            &format!("panic:poll:{}", feed.name),
            &format!(
                "Polling feed {} panicked ({msg}); it is polled again with backoff.",
                feed.name
            ),
        );
        let name = feed.name.0.clone();
        let mut st = self
            .db
            .call(move |s| s.feed_state(&name))
            .await?
            .unwrap_or_else(|| FeedState {
                feed: feed.name.0.clone(),
                fetch_state: "{}".into(),
                ..FeedState::default()
            });
        let now = self.db.now_ms();
        st.consecutive_failures += 1;
        st.last_error = Some(reason.clone());
        st.last_poll_at = Some(now);
        let backoff = sources::schedule::backoff(
            st.consecutive_failures,
            self.cfg.sources.backoff_base.0,
            self.cfg.sources.backoff_max.0,
            &mut rand::rng(),
        );
        st.next_poll_at = Some(now + backoff.as_millis() as i64);
        let due_next = st.next_poll_at;
        self.db.call(move |s| s.put_feed_state(&st, now)).await?;
        Ok(PollReport {
            error: Some(reason),
            due_next,
            ..PollReport::default()
        })
    }

    /// The per-item step `f` under a panic guard (with the test fault hook
    /// `parse:<link>`): a panic drops that item.
    pub(super) fn contained_item<'a, T>(
        &'a self,
        feed: &'a FeedConfig,
        mut f: impl FnMut((usize, SourceItem)) -> Option<T> + 'a,
    ) -> impl FnMut((usize, SourceItem)) -> Option<T> + 'a {
        move |(i, it)| {
            let key = it.key().to_string();
            panics::catch_sync(|| {
                crate::faults::check("parse", it.post.link.as_deref().unwrap_or_default());
                f((i, it))
            })
            .unwrap_or_else(|msg| {
                self.item_panicked(feed, &key, &msg);
                None
            })
        }
    }

    /// One item's processing panicked: it is dropped from this poll (it is
    /// read again when the feed changes), logged and alerted once.
    fn item_panicked(&self, feed: &FeedConfig, key: &str, msg: &str) {
        tracing::error!(feed = %feed.name, item = %key, panic = %msg, "processing a feed item panicked; item skipped, the feed goes on");
        crate::supervise::raise_once(
            &self.alerts,
            &format!("panic:item:{}:{key}", feed.name),
            &format!(
                "Feed {}: an item ({key}) could not be processed (internal error: {msg}); skipped.",
                feed.name
            ),
        );
    }
}
