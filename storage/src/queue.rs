//! Each target's queue: its head, planning a job into parts, and the
//! delivery states (`sending`, `sent`, retry, deferred, failed, skipped).

use crate::*;

impl Store {
    /// The head of a target's queue: the lowest-`seq` row (then lowest
    /// part) that is `pending` or `sending` and not scheduled for later.
    /// With `hold_on_failure`, a `failed` row ahead of it blocks the queue.
    pub fn queue_head(
        &self,
        target: &str,
        now: Millis,
        hold_on_failure: bool,
    ) -> Result<QueueHead> {
        let head = self.conn.query_opt(
            &format!(
                "SELECT {DELIVERY_COLS} FROM deliveries d
                     WHERE d.target = ?1 AND d.state IN ('pending','sending')
                       AND (d.not_before IS NULL OR d.not_before <= ?2)
                     ORDER BY d.seq, d.part LIMIT 1"
            ),
            params![target, now],
            delivery_from_row,
        )?;
        if hold_on_failure {
            let blocker = self.conn.query_opt(
                &format!(
                    "SELECT {DELIVERY_COLS} FROM deliveries d
                         WHERE d.target = ?1 AND d.state = 'failed' AND d.seq <= ?2
                         ORDER BY d.seq, d.part LIMIT 1"
                ),
                params![target, head.as_ref().map(|h| h.seq).unwrap_or(i64::MAX)],
                delivery_from_row,
            )?;
            if let Some(b) = blocker {
                return Ok(QueueHead::Blocked(b));
            }
        }
        match head {
            Some(h) => Ok(QueueHead::Ready(h)),
            None => {
                let next_due: Option<Millis> = self.conn.query_one(
                    "SELECT MIN(not_before) AS due FROM deliveries WHERE target = ?1 AND state = 'pending' AND not_before > ?2",
                    params![target, now],
                    |r| r.get("due"),
                )?;
                Ok(QueueHead::Empty { next_due })
            }
        }
    }

    /// Later rows of a target's queue that are unrendered posts (digest
    /// candidates), in queue order, after `after_seq`.
    pub fn pending_posts_after(
        &self,
        target: &str,
        after_seq: i64,
        now: Millis,
        limit: usize,
    ) -> Result<Vec<Delivery>> {
        self.conn.query_all(
            &format!(
                "SELECT {DELIVERY_COLS} FROM deliveries d
                 WHERE d.target = ?1 AND d.state = 'pending' AND d.action = 'post' AND d.part = 0
                   AND d.payload IS NULL AND d.seq > ?2 AND (d.not_before IS NULL OR d.not_before <= ?3)
                 ORDER BY d.seq LIMIT ?4"
            ),
            params![target, after_seq, now, limit as i64],
            delivery_from_row,
        )
    }

    pub fn delivery(&self, id: i64) -> Result<Option<Delivery>> {
        self.conn.query_opt(
            &format!("SELECT {DELIVERY_COLS} FROM deliveries d WHERE d.id = ?1"),
            params![id],
            delivery_from_row,
        )
    }

    /// Turn an unplanned job row into its parts: the row itself becomes the
    /// first part and the rest are inserted after it with the same `seq`.
    /// An empty plan marks the row `skipped` with `empty_reason`.
    pub fn plan_job(
        &mut self,
        delivery_id: i64,
        parts: &[PlannedPart],
        empty_reason: &str,
        now: Millis,
    ) -> Result<()> {
        let tx = self.conn.begin(true)?;
        self.fences.check_delivery(&tx, delivery_id)?;
        plan_job(&tx, delivery_id, parts, empty_reason, now)?;
        tx.commit()?;
        Ok(())
    }

    /// Plan a digest: `delivery_id` carries the digest's parts and the
    /// `folded` post rows are marked as included in it, in one transaction.
    pub fn plan_digest(
        &mut self,
        delivery_id: i64,
        parts: &[PlannedPart],
        folded: &[i64],
        now: Millis,
    ) -> Result<()> {
        let tx = self.conn.begin(true)?;
        self.fences.check_delivery(&tx, delivery_id)?;
        plan_job(
            &tx,
            delivery_id,
            parts,
            "the digest rendered to nothing",
            now,
        )?;
        let reason = format!("included in digest delivery #{delivery_id}");
        for id in folded {
            tx.execute(
                "UPDATE deliveries SET state = 'skipped', reason = ?2, updated_at = ?3 WHERE id = ?1 AND state = 'pending'",
                params![id, reason, now],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// When the posts (first parts of post jobs) sent to a target since
    /// `since` were sent, oldest first.
    pub fn post_times_since(&self, target: &str, since: Millis) -> Result<Vec<Millis>> {
        self.conn.query_all(
            "SELECT sent_at FROM deliveries WHERE target = ?1 AND action = 'post' AND part = 0 AND state = 'sent' AND sent_at >= ?2 ORDER BY sent_at",
            params![target, since],
            |r| r.get("sent_at"),
        )
    }

    /// The row is about to be sent: `sending`, one more attempt. Returns
    /// the attempt number.
    pub fn mark_sending(&mut self, id: i64, now: Millis) -> Result<u32> {
        let tx = self.conn.begin(true)?;
        self.fences.check_delivery(&tx, id)?;
        let n = tx.execute(
            "UPDATE deliveries SET state = 'sending', attempts = attempts + 1, updated_at = ?2 WHERE id = ?1 AND state IN ('pending','sending')",
            params![id, now],
        )?;
        if n == 0 {
            return Err(Error::NoSuchDelivery(id));
        }
        let attempts: u32 = tx.query_one(
            "SELECT attempts FROM deliveries WHERE id = ?1",
            params![id],
            |r| r.get("attempts"),
        )?;
        tx.commit()?;
        Ok(attempts)
    }

    /// The row's operation succeeded. Records the platform message (if
    /// any) and updates what the article shows on the target.
    pub fn mark_sent(
        &mut self,
        id: i64,
        message_id: Option<&str>,
        message_url: Option<&str>,
        note: Option<&str>,
        now: Millis,
    ) -> Result<()> {
        let tx = self.conn.begin(true)?;
        self.fences.check_delivery(&tx, id)?;
        let d = tx
            .query_opt(
                &format!("SELECT {DELIVERY_COLS} FROM deliveries d WHERE d.id = ?1"),
                params![id],
                delivery_from_row,
            )?
            .ok_or(Error::NoSuchDelivery(id))?;
        tx.execute(
            "UPDATE deliveries SET state = 'sent', message_id = COALESCE(?2, message_id), message_url = COALESCE(?3, message_url), reason = COALESCE(?4, reason), sent_at = ?5, updated_at = ?5 WHERE id = ?1",
            params![id, message_id, message_url, note, now],
        )?;
        match d.op {
            Op::Send | Op::Edit => {
                if let Some(mid) = message_id.or(d.ref_message.as_deref()) {
                    tx.execute(
                        "INSERT INTO posted_messages (article_id, target, part, message_id, message_url, sent_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                         ON CONFLICT(article_id, target, part) DO UPDATE SET message_id = excluded.message_id,
                           message_url = COALESCE(excluded.message_url, posted_messages.message_url),
                           sent_at = CASE WHEN posted_messages.message_id = excluded.message_id THEN posted_messages.sent_at ELSE excluded.sent_at END",
                        params![d.article_id, d.target, d.part, mid, message_url, now],
                    )?;
                }
            }
            Op::Delete => {
                if let Some(mid) = d.ref_message.as_deref() {
                    tx.execute(
                        "DELETE FROM posted_messages WHERE article_id = ?1 AND target = ?2 AND message_id = ?3",
                        params![d.article_id, d.target, mid],
                    )?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The attempt failed but will be retried at `next_at`.
    pub fn mark_retry(
        &mut self,
        id: i64,
        error: &str,
        next_at: Millis,
        ambiguous: bool,
        now: Millis,
    ) -> Result<()> {
        self.update_row(
            "UPDATE deliveries SET state = 'pending', last_error = ?2, next_attempt_at = ?3, ambiguous = CASE WHEN ?4 <> 0 THEN 1 ELSE ambiguous END, updated_at = ?5 WHERE id = ?1",
            params![id, error, next_at, ambiguous, now],
            id,
        )
    }

    /// Put a row back to `pending` without counting an attempt (a rate
    /// limit, a target paused mid-send).
    pub fn defer(&mut self, id: i64, next_at: Millis, note: &str, now: Millis) -> Result<()> {
        self.update_row(
            "UPDATE deliveries SET state = 'pending', attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, last_error = ?2, next_attempt_at = ?3, updated_at = ?4 WHERE id = ?1",
            params![id, note, next_at, now],
            id,
        )
    }

    /// The delivery failed for good (until re-queued).
    pub fn mark_failed(&mut self, id: i64, error: &str, now: Millis) -> Result<()> {
        self.update_row(
            "UPDATE deliveries SET state = 'failed', last_error = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, error, now],
            id,
        )
    }

    /// The delivery will not be attempted (nothing to edit, retracted…).
    pub fn mark_skipped(&mut self, id: i64, reason: &str, now: Millis) -> Result<()> {
        self.update_row(
            "UPDATE deliveries SET state = 'skipped', reason = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, reason, now],
            id,
        )
    }

    /// Mark a row whose previous send had an unknown outcome as ambiguous
    /// and pending again (resend policy after a crash).
    pub fn resend_ambiguous(&mut self, id: i64, note: &str, now: Millis) -> Result<()> {
        self.update_row(
            "UPDATE deliveries SET state = 'pending', ambiguous = 1, last_error = ?2, next_attempt_at = ?3, updated_at = ?3 WHERE id = ?1",
            params![id, note, now],
            id,
        )
    }

    fn update_row(&mut self, sql: &str, p: &[&dyn backend::Param], id: i64) -> Result<()> {
        let tx = self.conn.begin(true)?;
        self.fences.check_delivery(&tx, id)?;
        let n = tx.execute(sql, p)?;
        if n == 0 {
            return Err(Error::NoSuchDelivery(id));
        }
        tx.commit()?;
        Ok(())
    }

    /// Rows left `sending` (by a crash), oldest first.
    pub fn stale_sending(&self) -> Result<Vec<Delivery>> {
        self.conn.query_all(
            &format!(
                "SELECT {DELIVERY_COLS} FROM deliveries d WHERE d.state = 'sending' ORDER BY d.seq, d.part"
            ),
            params![],
            delivery_from_row,
        )
    }

    /// Put failed rows back in the queue: one row, or a target's, or all.
    /// Returns the number re-queued and the targets concerned.
    pub fn requeue_failed(
        &mut self,
        delivery: Option<i64>,
        target: Option<&str>,
        now: Millis,
    ) -> Result<(usize, Vec<String>)> {
        let tx = self.write()?;
        let targets: Vec<String> = tx.query_all(
            "SELECT DISTINCT target FROM deliveries WHERE state = 'failed'
             AND (CAST(?1 AS BIGINT) IS NULL OR id = ?1) AND (CAST(?2 AS TEXT) IS NULL OR target = ?2) ORDER BY target",
            params![delivery, target],
            |r| r.get("target"),
        )?;
        let n = tx.execute(
            "UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?3, updated_at = ?3
             WHERE state = 'failed' AND (CAST(?1 AS BIGINT) IS NULL OR id = ?1) AND (CAST(?2 AS TEXT) IS NULL OR target = ?2)",
            params![delivery, target, now],
        )?;
        tx.commit()?;
        Ok((n, targets))
    }

    /// What an article currently shows on a target, by part.
    pub fn posted_messages(&self, article_id: i64, target: &str) -> Result<Vec<PostedMessage>> {
        self.conn.query_all(
            "SELECT part, message_id, message_url, sent_at FROM posted_messages WHERE article_id = ?1 AND target = ?2 ORDER BY part",
            params![article_id, target],
            |r| {
                Ok(PostedMessage {
                    part: r.get("part")?,
                    message_id: r.get("message_id")?,
                    message_url: r.get("message_url")?,
                    sent_at: r.get("sent_at")?,
                })
            },
        )
    }

    /// Posts (first parts of post jobs) sent to a target since `since`.
    pub fn posts_sent_since(&self, target: &str, since: Millis) -> Result<u64> {
        let n: i64 = self.conn.query_one(
            "SELECT COUNT(*) AS n FROM deliveries WHERE target = ?1 AND action = 'post' AND part = 0 AND state = 'sent' AND sent_at >= ?2",
            params![target, since],
            |r| r.get("n"),
        )?;
        Ok(n as u64)
    }

    /// Send time of the most recent post sent to a target.
    pub fn last_post_sent_at(&self, target: &str) -> Result<Option<Millis>> {
        self.conn.query_one(
            "SELECT MAX(sent_at) AS last FROM deliveries WHERE target = ?1 AND action = 'post' AND part = 0 AND state = 'sent'",
            params![target],
            |r| r.get("last"),
        )
    }
}

pub(crate) fn plan_job(
    tx: &Conn,
    delivery_id: i64,
    parts: &[PlannedPart],
    empty_reason: &str,
    now: Millis,
) -> Result<()> {
    let head = tx
        .query_opt(
            &format!("SELECT {DELIVERY_COLS} FROM deliveries d WHERE d.id = ?1"),
            params![delivery_id],
            delivery_from_row,
        )?
        .ok_or(Error::NoSuchDelivery(delivery_id))?;
    if parts.is_empty() {
        tx.execute(
            "UPDATE deliveries SET state = 'skipped', reason = ?2, updated_at = ?3 WHERE id = ?1",
            params![delivery_id, empty_reason, now],
        )?;
    }
    for (i, p) in parts.iter().enumerate() {
        if i == 0 {
            tx.execute(
                "UPDATE deliveries SET op = ?2, payload = ?3, summary = ?4, ref_message = ?5, updated_at = ?6 WHERE id = ?1",
                params![delivery_id, p.op.as_str(), p.payload, p.summary, p.ref_message, now],
            )?;
        } else {
            tx.execute(
                "INSERT INTO deliveries (seq, article_id, target, action, revision, part, op, ref_message, state, next_attempt_at, not_before, payload, summary, reason, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending', ?9, ?10, ?11, ?12, ?13, ?9, ?9)",
                params![
                    head.seq,
                    head.article_id,
                    head.target,
                    head.action.as_str(),
                    head.revision,
                    head.part + i as i64,
                    p.op.as_str(),
                    p.ref_message,
                    now,
                    head.not_before,
                    p.payload,
                    p.summary,
                    head.reason,
                ],
            )?;
        }
    }
    Ok(())
}
