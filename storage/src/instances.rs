//! The instances running on this database (`/status` and the status page
//! list them): each `crier run` writes a heartbeat row with its role —
//! `active` (it holds the instance lock) or `standby` (it waits for it).

use crate::*;

/// One running (or recently seen) instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceRow {
    /// `host:pid:started` — unique per process.
    pub id: String,
    pub host: String,
    pub pid: i64,
    /// `active`, `standby`, or `gone` (died while active).
    pub role: String,
    pub version: String,
    pub started_at: Millis,
    pub seen_at: Millis,
}

impl Store {
    /// Record that `row.id` is alive (`seen_at`) in `row.role`.
    pub fn heartbeat(&mut self, row: &InstanceRow) -> Result<()> {
        let tx = self.write()?;
        tx.execute(
            "INSERT INTO instances (id, host, pid, role, version, started_at, seen_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT(id) DO UPDATE SET role = excluded.role, seen_at = excluded.seen_at",
            params![
                row.id,
                row.host,
                row.pid,
                row.role,
                row.version,
                row.started_at,
                row.seen_at
            ],
        )?;
        tx.commit()
    }

    /// `id` now holds the instance lock: any other row still saying
    /// `active` belongs to a process that died holding it (`gone`).
    pub fn claim_active(&mut self, id: &str) -> Result<()> {
        let tx = self.write()?;
        tx.execute(
            "UPDATE instances SET role = 'gone' WHERE role = 'active' AND id <> ?1",
            params![id],
        )?;
        tx.commit()
    }

    /// Forget an instance (a clean stop), and every row not seen since
    /// `stale_before` (processes that died long ago).
    pub fn forget_instance(&mut self, id: &str, stale_before: Millis) -> Result<()> {
        let tx = self.write()?;
        tx.execute(
            "DELETE FROM instances WHERE id = ?1 OR seen_at < ?2",
            params![id, stale_before],
        )?;
        tx.commit()
    }

    /// Every instance row, the active first, then by start.
    pub fn instances(&self) -> Result<Vec<InstanceRow>> {
        self.conn.query_all(
            "SELECT id, host, pid, role, version, started_at, seen_at FROM instances
             ORDER BY CASE WHEN role = 'active' THEN 0 ELSE 1 END, started_at, id",
            params![],
            |r| {
                Ok(InstanceRow {
                    id: r.get("id")?,
                    host: r.get("host")?,
                    pid: r.get("pid")?,
                    role: r.get("role")?,
                    version: r.get("version")?,
                    started_at: r.get("started_at")?,
                    seen_at: r.get("seen_at")?,
                })
            },
        )
    }
}
