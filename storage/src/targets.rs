//! Target state: disabled or paused with a reason, a migrated address.

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
        self.set_target_reason(Switch::Disabled, target, reason, now)
    }

    /// Pause a target (`Some(reason)`) or resume it (`None`). True when
    /// the state changed.
    pub fn set_target_paused(
        &mut self,
        target: &str,
        reason: Option<&str>,
        now: Millis,
    ) -> Result<bool> {
        self.set_target_reason(Switch::Paused, target, reason, now)
    }

    /// Set (`Some`) or clear (`None`) the reason column of one switch in
    /// one transaction; true when the switch changed (on ↔ off).
    fn set_target_reason(
        &mut self,
        switch: Switch,
        target: &str,
        reason: Option<&str>,
        now: Millis,
    ) -> Result<bool> {
        let (column, select, upsert) = switch.sql();
        let tx = self.write()?;
        let before: Option<Option<String>> =
            tx.query_opt(select, params![target], |r| r.get(column))?;
        tx.execute(upsert, params![target, reason, now])?;
        tx.commit()?;
        Ok(matches!(before, Some(Some(_))) != reason.is_some())
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

/// A target's on/off switches that carry a reason.
#[derive(Clone, Copy)]
enum Switch {
    /// Disabled for a delivery error (`disabled_reason`, `disabled_at`).
    Disabled,
    /// Paused by an admin (`paused_reason`).
    Paused,
}

impl Switch {
    /// The reason column, the statement reading it and the upsert writing
    /// it (`?1` target, `?2` reason, `?3` now).
    fn sql(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Switch::Disabled => (
                "disabled_reason",
                "SELECT disabled_reason FROM targets_state WHERE target = ?1",
                "INSERT INTO targets_state (target, disabled_reason, disabled_at, updated_at) VALUES (?1, ?2, CASE WHEN CAST(?2 AS TEXT) IS NULL THEN NULL ELSE CAST(?3 AS BIGINT) END, ?3)
             ON CONFLICT(target) DO UPDATE SET disabled_reason = excluded.disabled_reason, disabled_at = excluded.disabled_at, updated_at = excluded.updated_at",
            ),
            Switch::Paused => (
                "paused_reason",
                "SELECT paused_reason FROM targets_state WHERE target = ?1",
                "INSERT INTO targets_state (target, paused_reason, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(target) DO UPDATE SET paused_reason = excluded.paused_reason, updated_at = excluded.updated_at",
            ),
        }
    }
}
