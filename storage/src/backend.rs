//! The two backends behind [`Store`](crate::Store): SQLite (rusqlite) and
//! PostgreSQL (the synchronous `postgres` client). Every operation's SQL is
//! written once, in the dialect both understand (see ARCHITECTURE.md,
//! "portable SQL"); this module runs it on either: `?N` placeholders are
//! rewritten to `$N` for PostgreSQL (once per statement: prepared
//! statements are cached on both backends), parameters are [`Param`]s and
//! result columns are read by name ([`Row::get`]).

use std::cell::RefCell;
use std::collections::HashMap;

use postgres::fallible_iterator::FallibleIterator;
use postgres::types::ToSql;

use crate::{Error, Result};

mod pg;
mod values;

pub(crate) use pg::label;
pub use values::Value;
pub(crate) use values::{Param, Row, params};
use values::{PgParam, SqliteParam};

/// Which SQL dialect a connection speaks (for the few per-dialect steps:
/// migrations, advisory locks, sequences, `PRAGMA`s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// One open database.
pub(crate) enum Conn {
    Sqlite(rusqlite::Connection),
    /// `&self` methods run statements: the client is behind a `RefCell`
    /// (the store is used by one thread at a time, like the SQLite one).
    Pg(Box<RefCell<Pg>>),
}

/// A PostgreSQL session: the client (reconnected when found closed outside
/// a transaction), the statement cache, and what is needed to reconnect.
pub(crate) struct Pg {
    client: Option<postgres::Client>,
    config: postgres::Config,
    /// `host:port/db`, for messages (never the password).
    label: String,
    stmts: HashMap<String, postgres::Statement>,
    in_tx: bool,
    /// This session holds the instance lock ([`INSTANCE_LOCK_SQL`]): a new
    /// session after a lost connection must take it again before anything
    /// else, or fail.
    instance_lock: bool,
    /// The server process of the current session (what `NOTIFY` names as
    /// the sender), asked at each connect.
    pid: Option<i32>,
}

/// The session advisory lock one active Crier holds per database (schema).
pub(crate) const INSTANCE_LOCK_SQL: &str =
    "SELECT pg_try_advisory_lock(hashtext(COALESCE(current_schema(), '') || '/crier-instance'))";

impl Conn {
    pub(crate) fn backend(&self) -> Backend {
        match self {
            Conn::Sqlite(_) => Backend::Sqlite,
            Conn::Pg(_) => Backend::Postgres,
        }
    }

    /// The SQLite connection (SQLite-only tests).
    #[cfg(test)]
    pub(crate) fn sqlite(&self) -> Option<&rusqlite::Connection> {
        match self {
            Conn::Sqlite(c) => Some(c),
            Conn::Pg(_) => None,
        }
    }

    /// Run a statement; the number of rows it changed.
    pub(crate) fn execute(&self, sql: &str, params: &[&dyn Param]) -> Result<usize> {
        match self {
            Conn::Sqlite(c) => {
                let mut st = c.prepare_cached(sql)?;
                Ok(st.execute(rusqlite::params_from_iter(
                    params.iter().map(|p| SqliteParam(p.v())),
                ))?)
            }
            Conn::Pg(pg) => {
                let mut pg = pg.borrow_mut();
                let st = pg.statement(sql)?;
                let ps: Vec<PgParam<'_>> = params.iter().map(|p| PgParam(p.v())).collect();
                let refs: Vec<&(dyn ToSql + Sync)> =
                    ps.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
                Ok(pg.client()?.execute(&st, &refs)? as usize)
            }
        }
    }

    /// Run a query, calling `f` for each row as it arrives.
    pub(crate) fn query_each(
        &self,
        sql: &str,
        params: &[&dyn Param],
        f: &mut dyn FnMut(&Row<'_>) -> Result<()>,
    ) -> Result<()> {
        match self {
            Conn::Sqlite(c) => {
                let mut st = c.prepare_cached(sql)?;
                let mut rows = st.query(rusqlite::params_from_iter(
                    params.iter().map(|p| SqliteParam(p.v())),
                ))?;
                while let Some(r) = rows.next()? {
                    f(&Row::Sqlite(r))?;
                }
                Ok(())
            }
            Conn::Pg(pg) => {
                let mut pg = pg.borrow_mut();
                let st = pg.statement(sql)?;
                let ps: Vec<PgParam<'_>> = params.iter().map(|p| PgParam(p.v())).collect();
                let refs = ps.iter().map(|p| p as &(dyn ToSql + Sync));
                let mut rows = pg.client()?.query_raw(&st, refs)?;
                while let Some(r) = rows.next()? {
                    f(&Row::Pg(&r))?;
                }
                Ok(())
            }
        }
    }

    /// Every row, mapped.
    pub(crate) fn query_all<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        mut f: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut out = Vec::new();
        self.query_each(sql, params, &mut |r| {
            out.push(f(r)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// The first row, if any.
    pub(crate) fn query_opt<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        f: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Result<Option<T>> {
        let mut f = Some(f);
        let mut out = None;
        self.query_each(sql, params, &mut |r| {
            if let Some(f) = f.take() {
                out = Some(f(r)?);
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// The first row; an error when there is none.
    pub(crate) fn query_one<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        f: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Result<T> {
        self.query_opt(sql, params, f)?.ok_or(Error::NoRows)
    }

    /// Several statements, no parameters (migrations, transaction control).
    pub(crate) fn batch(&self, sql: &str) -> Result<()> {
        match self {
            Conn::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Conn::Pg(pg) => Ok(pg.borrow_mut().client()?.batch_execute(sql)?),
        }
    }

    /// Start a transaction. `write`: SQLite takes the write lock at once
    /// (`BEGIN IMMEDIATE`), which serialises writers; PostgreSQL writers
    /// serialise where they must with [`Conn::lock`].
    pub(crate) fn begin(&self, write: bool) -> Result<Tx<'_>> {
        match self {
            // Prepared once and cached, like every other statement: a
            // poll or a delivery opens several transactions.
            Conn::Sqlite(c) => {
                c.prepare_cached(if write { "BEGIN IMMEDIATE" } else { "BEGIN" })?
                    .execute([])?;
            }
            Conn::Pg(pg) => {
                let mut pg = pg.borrow_mut();
                let sql = if write {
                    "BEGIN"
                } else {
                    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
                };
                pg.client()?.batch_execute(sql)?;
                pg.in_tx = true;
            }
        }
        Ok(Tx {
            conn: self,
            open: true,
        })
    }

    /// PostgreSQL: the server process of the current session, and the
    /// settings to open a listening session beside it.
    pub(crate) fn pg_session(&self) -> Option<(Option<i32>, postgres::Config)> {
        match self {
            Conn::Sqlite(_) => None,
            Conn::Pg(pg) => {
                let pg = pg.borrow();
                Some((pg.pid, pg.config.clone()))
            }
        }
    }

    /// Take this database's instance lock for the session (SQLite: the
    /// caller's file lock is the proof; always true). False when another
    /// session holds it.
    pub(crate) fn try_instance_lock(&self) -> Result<bool> {
        match self {
            Conn::Sqlite(_) => Ok(true),
            Conn::Pg(pg) => {
                let mut pg = pg.borrow_mut();
                if pg.instance_lock {
                    return Ok(true);
                }
                let got: bool = pg.client()?.query_one(INSTANCE_LOCK_SQL, &[])?.try_get(0)?;
                pg.instance_lock = got;
                Ok(got)
            }
        }
    }

    /// Serialise with every other transaction that takes the same lock
    /// until this one ends (PostgreSQL: a transaction-scoped advisory lock
    /// keyed by schema and `key`; SQLite: the write lock already does).
    pub(crate) fn lock(&self, key: &str) -> Result<()> {
        if let Conn::Pg(_) = self {
            self.execute(
                "SELECT pg_advisory_xact_lock(hashtext(COALESCE(current_schema(), '') || '/' || CAST(?1 AS TEXT)))",
                params![key],
            )?;
        }
        Ok(())
    }
}

/// An open transaction; rolled back when dropped without [`Tx::commit`].
pub(crate) struct Tx<'a> {
    conn: &'a Conn,
    open: bool,
}

impl std::ops::Deref for Tx<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        self.conn
    }
}

impl Tx<'_> {
    pub(crate) fn commit(mut self) -> Result<()> {
        match self.conn {
            Conn::Sqlite(c) => {
                c.prepare_cached("COMMIT")?.execute([])?;
            }
            Conn::Pg(pg) => {
                let mut pg = pg.borrow_mut();
                let r = pg.client().and_then(|c| Ok(c.batch_execute("COMMIT")?));
                // COMMIT ends the transaction even when it fails.
                pg.in_tx = false;
                self.open = false;
                r?;
            }
        }
        self.open = false;
        Ok(())
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if !self.open {
            return;
        }
        match self.conn {
            Conn::Sqlite(c) => {
                let _ = c.execute_batch("ROLLBACK");
            }
            Conn::Pg(pg) => {
                if let Ok(mut pg) = pg.try_borrow_mut() {
                    if let Some(c) = pg.client.as_mut().filter(|c| !c.is_closed()) {
                        let _ = c.batch_execute("ROLLBACK");
                    }
                    pg.in_tx = false;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
