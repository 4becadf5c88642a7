//! Target state: disabled with a reason, a migrated address.

use rusqlite::{OptionalExtension, params};

use crate::*;

impl Store {
    pub fn target_state(&self, target: &str) -> Result<Option<TargetState>> {
        Ok(row(&self.conn,
                "SELECT target, disabled_reason, disabled_at, address_override, paused_reason FROM targets_state WHERE target = ?1",
                [target],
                |r| {
                    Ok(TargetState {
                        target: r.get(0)?,
                        disabled_reason: r.get(1)?,
                        disabled_at: r.get(2)?,
                        address_override: r.get(3)?,
                        paused_reason: r.get(4)?,
                    })
                },
            )
            .optional()?)
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
        let before: Option<Option<String>> = row(
            &tx,
            "SELECT disabled_reason FROM targets_state WHERE target = ?1",
            [target],
            |r| r.get(0),
        )
        .optional()?;
        let was_disabled = matches!(before, Some(Some(_)));
        tx.execute(
            "INSERT INTO targets_state (target, disabled_reason, disabled_at, updated_at) VALUES (?1, ?2, CASE WHEN ?2 IS NULL THEN NULL ELSE ?3 END, ?3)
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
