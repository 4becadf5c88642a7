//! Read-only figures for the status page, the metrics and `crier status`:
//! per-target queues, deliveries per hour, and the change counter other
//! processes use to wake an idle daemon.

use rusqlite::params;

use crate::{Millis, Result, Store};

/// One target's queue as the log shows it now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueStats {
    pub target: String,
    /// Rows `pending` or `sending`.
    pub depth: u64,
    /// When the oldest of them was queued.
    pub oldest_at: Option<Millis>,
    /// Rows `failed`.
    pub failed: u64,
    /// When the target last delivered something.
    pub last_sent_at: Option<Millis>,
}

impl Store {
    /// The queue of every target that has delivery rows.
    pub fn queue_stats(&self) -> Result<Vec<QueueStats>> {
        let mut st = self.conn.prepare_cached(
            "SELECT target,
                    SUM(state IN ('pending','sending')),
                    MIN(CASE WHEN state IN ('pending','sending') THEN created_at END),
                    SUM(state = 'failed'),
                    MAX(sent_at)
             FROM deliveries GROUP BY target ORDER BY target",
        )?;
        let rows = st.query_map([], |r| {
            Ok(QueueStats {
                target: r.get(0)?,
                depth: r.get::<_, Option<i64>>(1)?.unwrap_or(0).max(0) as u64,
                oldest_at: r.get(2)?,
                failed: r.get::<_, Option<i64>>(3)?.unwrap_or(0).max(0) as u64,
                last_sent_at: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<std::result::Result<Vec<_>, _>>()?)
    }

    /// Rows sent per hour, oldest hour first: `hours` buckets ending with
    /// the hour that contains `now`.
    pub fn sent_per_hour(&self, now: Millis, hours: usize) -> Result<Vec<u64>> {
        const HOUR: i64 = 3_600_000;
        let hours = hours.max(1);
        let end = (now / HOUR + 1) * HOUR;
        let start = end - hours as i64 * HOUR;
        let mut st = self.conn.prepare_cached(
            "SELECT (sent_at - ?1) / 3600000, COUNT(*) FROM deliveries
             WHERE state = 'sent' AND sent_at >= ?1 AND sent_at < ?2 GROUP BY 1",
        )?;
        let mut out = vec![0u64; hours];
        let rows = st.query_map(params![start, end], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
        })?;
        for row in rows {
            let (i, n) = row?;
            if let Some(slot) = usize::try_from(i).ok().and_then(|i| out.get_mut(i)) {
                *slot = n.max(0) as u64;
            }
        }
        Ok(out)
    }

    /// SQLite's `PRAGMA data_version`: it changes when another connection
    /// (another process: `crier retry`, `crier retract`) commits.
    pub fn data_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))?)
    }
}
