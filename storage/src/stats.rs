//! Read-only figures for the status page, the metrics and `crier status`:
//! per-target queues, deliveries per hour, and the change counter other
//! processes use to wake an idle daemon.

use crate::{Conn, Millis, Result, Store, params};

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
        self.conn.query_all(
            "SELECT target,
                    SUM(CASE WHEN state IN ('pending','sending') THEN 1 ELSE 0 END) AS depth,
                    MIN(CASE WHEN state IN ('pending','sending') THEN created_at END) AS oldest_at,
                    SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END) AS failed,
                    MAX(sent_at) AS last_sent_at
             FROM deliveries GROUP BY target ORDER BY target",
            params![],
            |r| {
                Ok(QueueStats {
                    target: r.get("target")?,
                    depth: r.get::<Option<i64>>("depth")?.unwrap_or(0).max(0) as u64,
                    oldest_at: r.get("oldest_at")?,
                    failed: r.get::<Option<i64>>("failed")?.unwrap_or(0).max(0) as u64,
                    last_sent_at: r.get("last_sent_at")?,
                })
            },
        )
    }

    /// Rows sent per hour, oldest hour first: `hours` buckets ending with
    /// the hour that contains `now`.
    pub fn sent_per_hour(&self, now: Millis, hours: usize) -> Result<Vec<u64>> {
        const HOUR: i64 = 3_600_000;
        let hours = hours.max(1);
        let end = (now / HOUR + 1) * HOUR;
        let start = end - hours as i64 * HOUR;
        let rows = self.conn.query_all(
            "SELECT (sent_at - ?1) / 3600000 AS hour, COUNT(*) AS n FROM deliveries
             WHERE state = 'sent' AND sent_at >= ?1 AND sent_at < ?2 GROUP BY 1",
            params![start, end],
            |r| Ok((r.get::<i64>("hour")?, r.get::<i64>("n")?)),
        )?;
        let mut out = vec![0u64; hours];
        for (i, n) in rows {
            if let Some(slot) = usize::try_from(i).ok().and_then(|i| out.get_mut(i)) {
                *slot = n.max(0) as u64;
            }
        }
        Ok(out)
    }

    /// A number that changes when another connection (another process:
    /// `crier retry`, `crier retract`) commits. SQLite: `PRAGMA
    /// data_version`. PostgreSQL: the next transaction id of the cluster,
    /// which moves with every write anywhere (this store's own writes too:
    /// a spurious wake-up, never a missed one).
    pub fn data_version(&self) -> Result<i64> {
        match &self.conn {
            Conn::Sqlite(c) => Ok(c.query_row("PRAGMA data_version", [], |r| r.get(0))?),
            Conn::Pg(_) => self.conn.query_one(
                "SELECT CAST(CAST(pg_snapshot_xmax(pg_current_snapshot()) AS TEXT) AS BIGINT) AS v",
                params![],
                |r| r.get("v"),
            ),
        }
    }
}
