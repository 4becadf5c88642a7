//! Articles pushed by a WebSub hub (a fat ping) take the poll's own path:
//! identity keys from the parser, `record` (routing, the intake cap,
//! `ingest` in one transaction with the feed's state), workers woken. A
//! push and a poll of one feed take turns (the feed's `turn` lock), so
//! each sees what the other recorded and an article is posted once.

use crier_storage::FeedState;

use super::{PollReport, Poller};
use crate::db::StoreError;
use crate::sources::{FetchState, SourceItem, Via};

/// What became of a fat ping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    /// Recorded like a poll's items.
    Recorded(PollReport),
    /// Not recorded: poll the feed instead (the reason says why).
    PollInstead(&'static str),
    /// No such feed is watched.
    UnknownFeed,
}

impl Poller {
    /// Wait for a feed's turn (polls and pushes of one feed never overlap).
    pub(super) async fn turn(&self, feed: &str) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        let lock = self.lock_feeds().get(feed).map(|w| w.turn.clone())?;
        Some(lock.lock_owned().await)
    }

    /// Record the items of a fat ping for `feed` (its own feed only: the
    /// caller found the feed from the callback URL, never from the body).
    pub async fn ingest_pushed(
        &self,
        feed: &str,
        items: Vec<SourceItem>,
    ) -> Result<PushOutcome, StoreError> {
        let Some(info) = self.feed(feed) else {
            return Ok(PushOutcome::UnknownFeed);
        };
        let _turn = self.turn(feed).await;
        let name = feed.to_string();
        let state: Option<FeedState> = self.db.call(move |s| s.feed_state(&name)).await?;
        let Some(state) = state.filter(|s| s.baseline_done) else {
            // The first poll records the backlog; a push must not post it.
            return Ok(PushOutcome::PollInstead("the feed has no baseline yet"));
        };
        if state.paused_reason.is_some() {
            return Ok(PushOutcome::PollInstead("the feed is paused"));
        }
        let fetch: FetchState = serde_json::from_str(&state.fetch_state).unwrap_or_default();
        if fetch.via == Some(Via::WordPressApi) {
            // The REST route's content hashes differ from the feed's: the
            // pushed feed items would all look edited.
            return Ok(PushOutcome::PollInstead(
                "the feed is read through the WordPress REST API",
            ));
        }
        let mut items = items;
        crate::sources::set_feed_name(&mut items, feed);
        let report = self
            .record(
                &info.feed,
                state,
                items,
                false,
                false,
                PollReport::default(),
            )
            .await?;
        Ok(PushOutcome::Recorded(report))
    }
}
