//! Deliveries whose processing panicked ("poison inputs"): the attempt is
//! counted in the row, so a restart does not reset it, and after a few the
//! row is `failed` with its reason instead of blocking the queue.

use crate::{Millis, Result, Store, params};

impl Store {
    /// Record that processing row `id` panicked with `reason`. `bump`
    /// counts an attempt (planning does not pass through `mark_sending`,
    /// which counts its own). With `max` attempts reached the row becomes
    /// `failed`, else `pending` again at `next_at`. Returns true when it
    /// failed (the reason is stored as given; the row's `attempts` says how
    /// many). A row that is no longer pending or sending (already sent) is
    /// left as it is.
    pub fn note_internal_error(
        &mut self,
        id: i64,
        reason: &str,
        bump: bool,
        max: u32,
        next_at: Millis,
        now: Millis,
    ) -> Result<bool> {
        let tx = self.write()?;
        if bump {
            tx.execute(
                "UPDATE deliveries SET attempts = attempts + 1 WHERE id = ?1 AND state IN ('pending','sending')",
                params![id],
            )?;
        }
        let (state, attempts): (String, u32) = tx.query_one(
            "SELECT state, attempts FROM deliveries WHERE id = ?1",
            params![id],
            |r| Ok((r.get("state")?, r.get("attempts")?)),
        )?;
        if state != "pending" && state != "sending" {
            return Ok(false);
        }
        let failed = attempts >= max.max(1);
        if failed {
            tx.execute(
                "UPDATE deliveries SET state = 'failed', last_error = ?2, updated_at = ?3 WHERE id = ?1",
                params![id, reason, now],
            )?;
        } else {
            tx.execute(
                // A panic mid-send leaves the outcome unknown: the resend is
                // flagged like any other ambiguous one.
                "UPDATE deliveries SET state = 'pending', last_error = ?2, next_attempt_at = ?3, updated_at = ?4, ambiguous = CASE WHEN ?5 <> 0 THEN 1 ELSE ambiguous END WHERE id = ?1",
                params![id, reason, next_at, now, state == "sending"],
            )?;
        }
        tx.commit()?;
        Ok(failed)
    }
}

#[cfg(test)]
mod tests {
    use crate::{FeedState, IncomingArticle, Route, State, Store};

    #[test]
    fn attempts_are_counted_in_the_row_then_it_fails_with_the_reason() {
        crate::testdb::each(|mut s| {
            let st = FeedState {
                feed: "f".into(),
                fetch_state: "{}".into(),
                ..FeedState::default()
            };
            let art = IncomingArticle {
                keys: vec!["guid:1".into()],
                content_hash: "h".into(),
                title: "t".into(),
                link: None,
                published_at: None,
                payload: "{}".into(),
                refresh_only: false,
            };
            let out = s
                .ingest(&st, &[(art, vec![Route::pending("tg")])], 1)
                .expect("ingest");
            let id = s.deliveries_for_article(out[0].article_id()).expect("rows")[0].id;
            let why = "internal error: boom";
            assert!(!s.note_internal_error(id, why, true, 3, 50, 2).expect("1"));
            let rows = |s: &Store| s.deliveries_for_article(out[0].article_id()).expect("rows");
            assert!(!rows(&s)[0].ambiguous, "planning sent nothing");
            // A panic mid-send: mark_sending counted the attempt; the resend is
            // ambiguous.
            assert_eq!(s.mark_sending(id, 3).expect("sending"), 2);
            assert!(!s.note_internal_error(id, why, false, 3, 50, 3).expect("2"));
            assert_eq!(
                (rows(&s)[0].state, rows(&s)[0].ambiguous),
                (State::Pending, true)
            );
            assert!(s.note_internal_error(id, why, true, 3, 50, 4).expect("3"));
            let d = s.deliveries_for_article(out[0].article_id()).expect("rows")[0].clone();
            assert_eq!((d.state, d.attempts), (State::Failed, 3));
            assert_eq!(d.last_error.as_deref(), Some(why));
            // A failed (or sent) row is left alone.
            assert!(!s.note_internal_error(id, why, true, 3, 50, 5).expect("4"));
            assert!(s.note_internal_error(999, why, true, 3, 0, 0).is_err());
        });
    }
}
