//! Feed state: fetch validators, poll times, failures, pauses.

use crate::*;

impl Store {
    pub fn feed_state(&self, feed: &str) -> Result<Option<FeedState>> {
        self.conn.query_opt(
            &format!("SELECT {FEED_COLS} FROM feeds_state WHERE feed = ?1"),
            params![feed],
            feed_state_from_row,
        )
    }

    pub fn feed_states(&self) -> Result<Vec<FeedState>> {
        self.conn.query_all(
            &format!("SELECT {FEED_COLS} FROM feeds_state ORDER BY feed"),
            params![],
            feed_state_from_row,
        )
    }

    /// Every feed's schedule (when it is due, whether it is paused),
    /// without the rest of its state: what the watchers need at start-up,
    /// in one query however many feeds there are.
    pub fn feed_schedule(&self) -> Result<Vec<FeedDue>> {
        self.conn.query_all(
            "SELECT feed, next_poll_at, paused_reason FROM feeds_state",
            params![],
            |r| {
                let paused: Option<String> = r.get("paused_reason")?;
                Ok(FeedDue {
                    feed: r.get("feed")?,
                    next_poll_at: r.get("next_poll_at")?,
                    paused: paused.is_some(),
                })
            },
        )
    }

    /// Write a poll's view of the feed. It may pause the feed (a
    /// permanent failure) but never un-pauses it: a poll that read the row
    /// before an admin paused the feed must not undo the pause when it
    /// writes its result (a lost update). [`Store::set_feed_paused`] is
    /// the one way to clear a pause.
    pub fn put_feed_state(&mut self, s: &FeedState, now: Millis) -> Result<()> {
        let tx = self.conn.begin(true)?;
        self.fences.check(&tx, SCOPE_FEED, &s.feed)?;
        put_feed_state(&tx, s, now)?;
        tx.commit()?;
        Ok(())
    }

    /// Pause the feed with `reason`, or resume it (`None`: failures
    /// forgotten, due at once). Returns whether it was paused before.
    pub fn set_feed_paused(
        &mut self,
        feed: &str,
        reason: Option<&str>,
        now: Millis,
    ) -> Result<bool> {
        let tx = self.write()?;
        let was: Option<Option<String>> = tx.query_opt(
            "SELECT paused_reason FROM feeds_state WHERE feed = ?1",
            params![feed],
            |r| r.get("paused_reason"),
        )?;
        let was = was.flatten().is_some();
        tx.execute(
            "INSERT INTO feeds_state (feed, next_poll_at, paused_reason, updated_at)
             VALUES (?1, ?3, ?2, ?3)
             ON CONFLICT(feed) DO UPDATE SET paused_reason = excluded.paused_reason, updated_at = excluded.updated_at,
               consecutive_failures = CASE WHEN excluded.paused_reason IS NULL THEN 0 ELSE feeds_state.consecutive_failures END,
               next_poll_at = CASE WHEN excluded.paused_reason IS NULL THEN excluded.next_poll_at ELSE feeds_state.next_poll_at END",
            params![feed, reason, now],
        )?;
        tx.commit()?;
        Ok(was)
    }
}

pub(crate) fn put_feed_state(tx: &Conn, s: &FeedState, now: Millis) -> Result<()> {
    tx.execute(
        "INSERT INTO feeds_state (feed, url, fetch_state, baseline_done, last_poll_at, last_success_at, last_error, consecutive_failures, next_poll_at, paused_reason, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT(feed) DO UPDATE SET url = excluded.url, fetch_state = excluded.fetch_state, baseline_done = excluded.baseline_done,
           last_poll_at = excluded.last_poll_at, last_success_at = excluded.last_success_at, last_error = excluded.last_error,
           consecutive_failures = excluded.consecutive_failures, next_poll_at = excluded.next_poll_at,
           paused_reason = COALESCE(excluded.paused_reason, feeds_state.paused_reason), updated_at = excluded.updated_at",
        params![
            s.feed,
            s.url,
            s.fetch_state,
            s.baseline_done,
            s.last_poll_at,
            s.last_success_at,
            s.last_error,
            s.consecutive_failures,
            s.next_poll_at,
            s.paused_reason,
            now
        ],
    )?;
    Ok(())
}
