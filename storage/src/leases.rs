//! Leases: how several instances on one PostgreSQL database share the
//! work. A lease row names a piece of work (`scope`: `feed`, `target`,
//! `frontend`; `name`), its holder (an instance id), a fencing token and
//! when it ends. An instance renews what it holds; anyone may claim a
//! lease that ended. Every claim of a lease by a new holder (or after it
//! ended) raises its token, and rows are never deleted (a release only
//! ends the lease), so a token is never given out twice.
//!
//! **Fencing.** The store remembers the token of every lease it claimed
//! ([`Fences`]). The writes of the owner's work check, in their own
//! transaction, that the lease row still names this holder with that
//! token (PostgreSQL: `FOR SHARE` on the lease row, so a takeover waits
//! for the write to commit or sees it): a poll's results (`ingest`,
//! `put_feed_state`) against the feed's lease, a worker's writes to a
//! delivery row (`mark_*`, `defer`, `plan_*`, `resend_ambiguous`) against
//! its target's lease. A write whose lease was taken over fails with
//! [`Error::LeaseLost`] and changes nothing. Writes for work this store
//! never leased (commands, pushes received by a non-owner, the command
//! line) are not fenced.

use std::collections::HashMap;

use crate::*;

/// One lease row (`crier status`, tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseRow {
    pub scope: String,
    pub name: String,
    pub holder: String,
    pub token: i64,
    pub expires_at: Millis,
}

/// A lease this store holds: its name and fencing token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub name: String,
    pub token: i64,
}

/// The tokens of the leases this store claimed, by (scope, name). Entries
/// stay after a lease is lost (so a write still under way fails) and go
/// only when the lease is released by this store or claimed again.
#[derive(Debug, Default)]
pub(crate) struct Fences {
    holder: Option<String>,
    tokens: HashMap<(String, String), i64>,
}

impl Fences {
    fn token(&self, scope: &str, name: &str) -> Option<i64> {
        self.tokens
            .get(&(scope.to_string(), name.to_string()))
            .copied()
    }

    fn has_scope(&self, scope: &str) -> bool {
        self.tokens.keys().any(|(s, _)| s == scope)
    }

    /// Inside a write transaction: the lease `scope`/`name`, if this store
    /// claimed it, still names this holder with the same token.
    pub(crate) fn check(&self, tx: &Conn, scope: &str, name: &str) -> Result<()> {
        let (Some(holder), Some(token)) = (self.holder.as_deref(), self.token(scope, name)) else {
            return Ok(());
        };
        let sql = match tx.backend() {
            Backend::Postgres => {
                "SELECT holder, token FROM leases WHERE scope = ?1 AND name = ?2 FOR SHARE"
            }
            Backend::Sqlite => "SELECT holder, token FROM leases WHERE scope = ?1 AND name = ?2",
        };
        let now: Option<(String, i64)> = tx.query_opt(sql, params![scope, name], |r| {
            Ok((r.get("holder")?, r.get("token")?))
        })?;
        match now {
            Some((h, t)) if h == holder && t == token => Ok(()),
            _ => Err(Error::LeaseLost(format!("{scope} {name}"))),
        }
    }

    /// The same check for the target of delivery row `id`: one query on
    /// the delivery path (the row's target and its lease together).
    pub(crate) fn check_delivery(&self, tx: &Conn, id: i64) -> Result<()> {
        let Some(holder) = self.holder.as_deref() else {
            return Ok(());
        };
        if !self.has_scope(SCOPE_TARGET) {
            return Ok(());
        }
        let sql = match tx.backend() {
            Backend::Postgres => {
                "SELECT d.target AS target, l.holder AS holder, l.token AS token FROM deliveries d
                 JOIN leases l ON l.scope = 'target' AND l.name = d.target WHERE d.id = ?1 FOR SHARE OF l"
            }
            Backend::Sqlite => {
                "SELECT d.target AS target, l.holder AS holder, l.token AS token FROM deliveries d
                 JOIN leases l ON l.scope = 'target' AND l.name = d.target WHERE d.id = ?1"
            }
        };
        let row: Option<(String, String, i64)> = tx.query_opt(sql, params![id], |r| {
            Ok((r.get("target")?, r.get("holder")?, r.get("token")?))
        })?;
        let target = match row {
            Some((target, h, t)) => match self.token(SCOPE_TARGET, &target) {
                Some(mine) if h != holder || t != mine => {
                    return Err(Error::LeaseLost(format!("{SCOPE_TARGET} {target}")));
                }
                _ => return Ok(()),
            },
            // No lease row for the row's target (or no such row).
            None => tx.query_opt(
                "SELECT target FROM deliveries WHERE id = ?1",
                params![id],
                |r| r.get::<String>("target"),
            )?,
        };
        match target {
            Some(t) if self.token(SCOPE_TARGET, &t).is_some() => {
                Err(Error::LeaseLost(format!("{SCOPE_TARGET} {t}")))
            }
            _ => Ok(()),
        }
    }
}

/// The scope of a target's queue lease (the fencing of delivery writes).
pub const SCOPE_TARGET: &str = "target";
/// The scope of a feed's polling lease.
pub const SCOPE_FEED: &str = "feed";

impl Store {
    /// A write transaction for lease rows. PostgreSQL: a lease row locked
    /// by a stalled session (a fencing check of a process that stopped
    /// mid-write) is waited for 2 s at most, then the round is retried.
    fn lease_tx(&self) -> Result<Tx<'_>> {
        let tx = self.conn.begin(true)?;
        if tx.backend() == Backend::Postgres {
            tx.batch("SET LOCAL lock_timeout = '2s'")?;
        }
        Ok(tx)
    }

    /// Renew every lease `holder` holds in `scope` until `until`; the
    /// leases still held (a lease another instance claimed after it ended
    /// is not among them).
    pub fn renew_leases(&mut self, scope: &str, holder: &str, until: Millis) -> Result<Vec<Held>> {
        let tx = self.lease_tx()?;
        let held = tx.query_all(
            "UPDATE leases SET expires_at = ?3 WHERE scope = ?1 AND holder = ?2 RETURNING name, token",
            params![scope, holder, until],
            |r| {
                Ok(Held {
                    name: r.get("name")?,
                    token: r.get("token")?,
                })
            },
        )?;
        tx.commit()?;
        Ok(held)
    }

    /// Claim the leases `names` of `scope` together, all or none: each
    /// must be new, ended (`expires_at <= now`) or already this holder's.
    /// Returns the new tokens (`None` when one of them is held by another
    /// instance). A claim always raises the token, even of a lease this
    /// holder had before: whatever it left in flight is no longer its own.
    pub fn claim_leases(
        &mut self,
        scope: &str,
        names: &[String],
        holder: &str,
        until: Millis,
        now: Millis,
    ) -> Result<Option<Vec<Held>>> {
        let mut sorted: Vec<&String> = names.iter().collect();
        sorted.sort();
        sorted.dedup();
        let tx = self.lease_tx()?;
        let mut out = Vec::with_capacity(sorted.len());
        for name in sorted {
            let token: Option<i64> = tx.query_opt(
                "INSERT INTO leases (scope, name, holder, token, expires_at) VALUES (?1, ?2, ?3, 1, ?4)
                 ON CONFLICT (scope, name) DO UPDATE SET holder = excluded.holder, token = leases.token + 1, expires_at = excluded.expires_at
                 WHERE leases.expires_at <= ?5 OR leases.holder = excluded.holder
                 RETURNING token",
                params![scope, name, holder, until, now],
                |r| r.get("token"),
            )?;
            match token {
                Some(token) => out.push(Held {
                    name: name.clone(),
                    token,
                }),
                // Dropped: rolled back.
                None => return Ok(None),
            }
        }
        tx.commit()?;
        self.remember(scope, holder, &out);
        Ok(Some(out))
    }

    /// Claim, one by one, leases of `scope` among `names` that are new or
    /// ended, until `max` are claimed; the ones claimed. Those held by
    /// another instance are passed over.
    pub fn claim_each(
        &mut self,
        scope: &str,
        names: &[String],
        holder: &str,
        until: Millis,
        now: Millis,
        max: usize,
    ) -> Result<Vec<Held>> {
        let tx = self.lease_tx()?;
        let mut out = Vec::new();
        for name in names {
            if out.len() >= max {
                break;
            }
            let token: Option<i64> = tx.query_opt(
                "INSERT INTO leases (scope, name, holder, token, expires_at) VALUES (?1, ?2, ?3, 1, ?4)
                 ON CONFLICT (scope, name) DO UPDATE SET holder = excluded.holder, token = leases.token + 1, expires_at = excluded.expires_at
                 WHERE leases.expires_at <= ?5
                 RETURNING token",
                params![scope, name, holder, until, now],
                |r| r.get("token"),
            )?;
            if let Some(token) = token {
                out.push(Held {
                    name: name.clone(),
                    token,
                });
            }
        }
        tx.commit()?;
        self.remember(scope, holder, &out);
        Ok(out)
    }

    fn remember(&mut self, scope: &str, holder: &str, held: &[Held]) {
        self.fences.holder = Some(holder.to_string());
        for h in held {
            self.fences
                .tokens
                .insert((scope.to_string(), h.name.clone()), h.token);
        }
    }

    /// How many unexpired leases of `scope` each holder has.
    pub fn lease_counts(&self, scope: &str, now: Millis) -> Result<Vec<(String, u64)>> {
        self.conn.query_all(
            "SELECT holder, COUNT(*) AS n FROM leases WHERE scope = ?1 AND expires_at > ?2 GROUP BY holder ORDER BY holder",
            params![scope, now],
            |r| Ok((r.get("holder")?, r.get::<i64>("n")?.max(0) as u64)),
        )
    }

    /// Names of `scope` another holder than `holder` has a lease on now.
    pub fn leased_by_others(
        &self,
        scope: &str,
        holder: &str,
        now: Millis,
    ) -> Result<std::collections::HashSet<String>> {
        Ok(self
            .conn
            .query_all(
                "SELECT name FROM leases WHERE scope = ?1 AND expires_at > ?2 AND holder <> ?3",
                params![scope, now, holder],
                |r| r.get("name"),
            )?
            .into_iter()
            .collect())
    }

    /// End the leases `names` of `scope` that `holder` holds (a clean
    /// hand-over: the work they cover is stopped). The rows stay, so the
    /// next claim raises their token.
    pub fn release_leases(&mut self, scope: &str, names: &[String], holder: &str) -> Result<()> {
        let tx = self.lease_tx()?;
        for name in names {
            tx.execute(
                "UPDATE leases SET expires_at = 0 WHERE scope = ?1 AND name = ?2 AND holder = ?3",
                params![scope, name, holder],
            )?;
        }
        tx.commit()?;
        for name in names {
            self.fences
                .tokens
                .remove(&(scope.to_string(), name.clone()));
        }
        Ok(())
    }

    /// End every lease `holder` holds (a clean stop).
    pub fn release_all_leases(&mut self, holder: &str) -> Result<()> {
        let tx = self.lease_tx()?;
        tx.execute(
            "UPDATE leases SET expires_at = 0 WHERE holder = ?1",
            params![holder],
        )?;
        tx.commit()?;
        self.fences.tokens.clear();
        Ok(())
    }

    /// Every lease row, by scope and name.
    pub fn leases(&self) -> Result<Vec<LeaseRow>> {
        self.conn.query_all(
            "SELECT scope, name, holder, token, expires_at FROM leases ORDER BY scope, name",
            params![],
            |r| {
                Ok(LeaseRow {
                    scope: r.get("scope")?,
                    name: r.get("name")?,
                    holder: r.get("holder")?,
                    token: r.get("token")?,
                    expires_at: r.get("expires_at")?,
                })
            },
        )
    }

    /// When the rows of `target` sent since `since` were sent (every
    /// operation: each was a request to the platform), oldest first.
    pub fn sent_times_of(&self, target: &str, since: Millis) -> Result<Vec<Millis>> {
        self.conn.query_all(
            "SELECT sent_at FROM deliveries WHERE target = ?1 AND state = 'sent' AND sent_at >= ?2 ORDER BY sent_at",
            params![target, since],
            |r| r.get("sent_at"),
        )
    }

    /// Rows of `target` left `sending`, oldest first: what a new owner of
    /// the target's lease resolves before its worker starts.
    pub fn stale_sending_of(&self, target: &str) -> Result<Vec<Delivery>> {
        self.conn.query_all(
            &format!(
                "SELECT {DELIVERY_COLS} FROM deliveries d WHERE d.state = 'sending' AND d.target = ?1 ORDER BY d.seq, d.part"
            ),
            params![target],
            delivery_from_row,
        )
    }
}
