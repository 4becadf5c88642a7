//! Reading the delivery log: posted messages, counts, `crier log`.

use rusqlite::params;

use crate::*;

impl Store {
    /// Recent delivery rows, newest first, with their article.
    pub fn log(&self, q: &LogQuery) -> Result<Vec<LogEntry>> {
        let limit = if q.limit == 0 { 50 } else { q.limit } as i64;
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {DELIVERY_COLS}, a.feed, a.title, a.link FROM deliveries d JOIN articles a ON a.id = d.article_id
             WHERE (?1 IS NULL OR d.target = ?1) AND (?2 IS NULL OR d.state = ?2) AND (?3 IS NULL OR d.article_id = ?3)
             ORDER BY d.updated_at DESC, d.id DESC LIMIT ?4"
        ))?;
        let rows = st.query_map(
            params![q.target, q.state.map(State::as_str), q.article_id, limit],
            |r| {
                Ok(LogEntry {
                    delivery: delivery_from_row(r)?,
                    feed: r.get(23)?,
                    title: r.get(24)?,
                    link: r.get(25)?,
                })
            },
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every delivery row of an article, in queue order.
    pub fn deliveries_for_article(&self, article_id: i64) -> Result<Vec<Delivery>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {DELIVERY_COLS} FROM deliveries d WHERE d.article_id = ?1 ORDER BY d.target, d.seq, d.part"
        ))?;
        let rows = st.query_map([article_id], delivery_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Row counts by state for a target (or all), updated since `since`
    /// (queued counts ignore `since`).
    pub fn counts(&self, target: Option<&str>, since: Millis) -> Result<Counts> {
        let mut c = Counts::default();
        let mut st = self.conn.prepare_cached(
            "SELECT state, COUNT(*) FROM deliveries WHERE (?1 IS NULL OR target = ?1)
             AND (state IN ('pending','sending') OR updated_at >= ?2) GROUP BY state",
        )?;
        let rows = st.query_map(params![target, since], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
        })?;
        for row in rows {
            let (s, n) = row?;
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
