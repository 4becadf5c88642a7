//! Reading the delivery log: posted messages, counts, `crier log`.

use crate::*;

impl Store {
    /// Recent delivery rows, newest first, with their article.
    pub fn log(&self, q: &LogQuery) -> Result<Vec<LogEntry>> {
        let limit = if q.limit == 0 { 50 } else { q.limit } as i64;
        self.conn.query_all(
            &format!(
                "SELECT {DELIVERY_COLS}, a.feed, a.title, a.link FROM deliveries d JOIN articles a ON a.id = d.article_id
                 WHERE (CAST(?1 AS TEXT) IS NULL OR d.target = ?1) AND (CAST(?2 AS TEXT) IS NULL OR d.state = ?2) AND (CAST(?3 AS BIGINT) IS NULL OR d.article_id = ?3)
                 ORDER BY d.updated_at DESC, d.id DESC LIMIT ?4"
            ),
            params![q.target, q.state.map(State::as_str), q.article_id, limit],
            |r| {
                Ok(LogEntry {
                    delivery: delivery_from_row(r)?,
                    feed: r.get("feed")?,
                    title: r.get("title")?,
                    link: r.get("link")?,
                })
            },
        )
    }

    /// Every delivery row of an article, in queue order.
    pub fn deliveries_for_article(&self, article_id: i64) -> Result<Vec<Delivery>> {
        self.conn.query_all(
            &format!(
                "SELECT {DELIVERY_COLS} FROM deliveries d WHERE d.article_id = ?1 ORDER BY d.target, d.seq, d.part"
            ),
            params![article_id],
            delivery_from_row,
        )
    }

    /// Row counts by state for a target (or all), updated since `since`
    /// (queued counts ignore `since`).
    pub fn counts(&self, target: Option<&str>, since: Millis) -> Result<Counts> {
        let mut c = Counts::default();
        let rows = self.conn.query_all(
            "SELECT state, COUNT(*) AS n FROM deliveries WHERE (CAST(?1 AS TEXT) IS NULL OR target = ?1)
             AND (state IN ('pending','sending') OR updated_at >= ?2) GROUP BY state",
            params![target, since],
            |r| Ok((r.get::<String>("state")?, r.get::<i64>("n")?.max(0) as u64)),
        )?;
        for (s, n) in rows {
            match State::parse(&s) {
                Some(State::Pending | State::Sending) => c.queued += n,
                Some(State::Sent) => c.sent += n,
                Some(State::Failed) => c.failed += n,
                Some(State::Filtered) => c.filtered += n,
                Some(State::Skipped) => c.skipped += n,
                None => {}
            }
        }
        Ok(c)
    }
}
