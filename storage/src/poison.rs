//! Deliveries whose processing panicked ("poison inputs"): the attempt is
//! counted in the row, so a restart does not reset it, and after a few the
//! row is `failed` with its reason instead of blocking the queue.

use rusqlite::params;

use crate::{Millis, Result, Store, row};

impl Store {
    /// Record that processing row `id` panicked with `reason`. `bump`
    /// counts an attempt (planning does not pass through `mark_sending`,
    /// which counts its own). With `max` attempts reached the row becomes
    /// `failed`, else `pending` again at `next_at`. Returns true when it
    /// failed. A row that is no longer pending or sending (already sent) is
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
        let (state, attempts): (String, u32) = row(
            &tx,
            "SELECT state, attempts FROM deliveries WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        if state != "pending" && state != "sending" {
            return Ok(false);
        }
        let failed = attempts >= max.max(1);
        if failed {
            tx.execute(
                "UPDATE deliveries SET state = 'failed', last_error = ?2, updated_at = ?3 WHERE id = ?1",
                params![id, format!("{reason} (after {attempts} attempts)"), now],
            )?;
        } else {
            tx.execute(
                "UPDATE deliveries SET state = 'pending', last_error = ?2, next_attempt_at = ?3, updated_at = ?4 WHERE id = ?1",
                params![id, reason, next_at, now],
            )?;
        }
        tx.commit()?;
        Ok(failed)
    }
}
