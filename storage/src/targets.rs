//! Target state: disabled with a reason, a migrated address.

use crate::*;

impl Store {
    pub fn target_state(&self, target: &str) -> Result<Option<TargetState>> {
        self.conn.query_opt(
            "SELECT target, disabled_reason, disabled_at, address_override, paused_reason FROM targets_state WHERE target = ?1",
            params![target],
            |r| {
                Ok(TargetState {
                    target: r.get("target")?,
                    disabled_reason: r.get("disabled_reason")?,
                    disabled_at: r.get("disabled_at")?,
                    address_override: r.get("address_override")?,
                    paused_reason: r.get("paused_reason")?,
                })
            },
        )
    }

    /// Disable a target with a reason (`Some`), or enable it (`None`).
    /// Returns true when the state changed.
    pub fn set_target_disabled(
        &mut self,
        target: &str,
        reason: Option<&str>,
        now: Millis,
    ) -> Result<bool> {
        let tx = self.write()?;
        let before: Option<Option<String>> = tx.query_opt(
            "SELECT disabled_reason FROM targets_state WHERE target = ?1",
            params![target],
            |r| r.get("disabled_reason"),
        )?;
        let was_disabled = matches!(before, Some(Some(_)));
        tx.execute(
            "INSERT INTO targets_state (target, disabled_reason, disabled_at, updated_at) VALUES (?1, ?2, CASE WHEN CAST(?2 AS TEXT) IS NULL THEN NULL ELSE CAST(?3 AS BIGINT) END, ?3)
             ON CONFLICT(target) DO UPDATE SET disabled_reason = excluded.disabled_reason, disabled_at = excluded.disabled_at, updated_at = excluded.updated_at",
            params![target, reason, now],
        )?;
        tx.commit()?;
        Ok(was_disabled != reason.is_some())
    }

    /// Remember a new address for a target (a migrated Telegram group).
    pub fn set_target_address(&mut self, target: &str, address: &str, now: Millis) -> Result<()> {
        let tx = self.write()?;
        tx.execute(
            "INSERT INTO targets_state (target, address_override, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(target) DO UPDATE SET address_override = excluded.address_override, updated_at = excluded.updated_at",
            params![target, address, now],
        )?;
        tx.commit()?;
        Ok(())
    }
}
