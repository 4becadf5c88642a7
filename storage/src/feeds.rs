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

    pub fn put_feed_state(&mut self, s: &FeedState, now: Millis) -> Result<()> {
        let tx = self.write()?;
        put_feed_state(&tx, s, now)?;
        tx.commit()?;
        Ok(())
    }
}

pub(crate) fn put_feed_state(tx: &Conn, s: &FeedState, now: Millis) -> Result<()> {
    tx.execute(
        "INSERT INTO feeds_state (feed, url, fetch_state, baseline_done, last_poll_at, last_success_at, last_error, consecutive_failures, next_poll_at, paused_reason, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT(feed) DO UPDATE SET url = excluded.url, fetch_state = excluded.fetch_state, baseline_done = excluded.baseline_done,
           last_poll_at = excluded.last_poll_at, last_success_at = excluded.last_success_at, last_error = excluded.last_error,
           consecutive_failures = excluded.consecutive_failures, next_poll_at = excluded.next_poll_at,
           paused_reason = excluded.paused_reason, updated_at = excluded.updated_at",
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
