//! Crier's delivery log and feed state, in SQLite.
//!
//! The API is small and typed: no SQL leaves this crate, and no type of
//! rusqlite appears in a signature, so a second backend can implement the
//! same operations. Every state change is one transaction. Times are Unix
//! milliseconds (UTC).
//!
//! The promise this crate keeps for the core:
//! - an article is recorded once per feed, under every identity key it was
//!   ever seen with, together with its delivery rows (one transaction);
//! - a delivery row exists before anything is sent; a `sent` row never goes
//!   back to `pending` by itself;
//! - a target's queue is FIFO by `seq` (the order articles were enqueued),
//!   the parts of one job in part order.

mod admin;
mod articles;
mod feeds;
mod import;
mod log;
mod poison;
mod queue;
mod rows;
mod schema;
mod stats;
mod targets;
mod types;
mod websub;

pub use admin::{AuditEntry, DynamicFeed, Scheduled};
pub(crate) use feeds::put_feed_state;
pub(crate) use rows::*;
pub use stats::QueueStats;
pub use types::*;
pub use websub::{SubState, Subscription};

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, Row, TransactionBehavior};

/// Unix time in milliseconds.
pub type Millis = i64;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}", errors::describe(.0))]
    Sqlite(#[from] rusqlite::Error),
    #[error(
        "the database was written by a newer Crier (schema version {found}; this build supports up to {supported})"
    )]
    SchemaTooNew { found: i64, supported: i64 },
    #[error("no delivery with id {0}")]
    NoSuchDelivery(i64),
    #[error("no article with id {0}")]
    NoSuchArticle(i64),
    /// The task running a storage call failed (a panic in the caller's closure).
    #[error("storage task failed: {0}")]
    Internal(String),
}

impl Error {
    /// True for errors worth retrying later (the database is busy or locked).
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => matches!(
                e.code,
                rusqlite::ErrorCode::DatabaseBusy
                    | rusqlite::ErrorCode::DatabaseLocked
                    | rusqlite::ErrorCode::DiskFull
                    | rusqlite::ErrorCode::SystemIoFailure
            ),
            _ => false,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

mod errors;

/// The SQLite store. One connection; callers serialise access (the core
/// runs it on a dedicated blocking thread).
pub struct Store {
    pub(crate) conn: Connection,
}

impl Store {
    /// Open (creating if needed) the database at `path`, in WAL mode, and
    /// apply pending migrations.
    pub fn open(path: &Path) -> Result<Store> {
        let conn = Connection::open(path)?;
        Store::init(conn)
    }

    /// A private in-memory database (tests, `crier inspect`).
    pub fn open_in_memory() -> Result<Store> {
        Store::init(Connection::open_in_memory()?)
    }

    fn init(mut conn: Connection) -> Result<Store> {
        conn.busy_timeout(Duration::from_secs(5))?;
        // Statements are prepared once and reused (the delivery path runs
        // the same few queries all day).
        conn.set_prepared_statement_cache_capacity(64);
        // journal_mode returns a row; "memory" for in-memory databases.
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        schema::migrate(&mut conn)?;
        Ok(Store { conn })
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64> {
        Ok(row(&self.conn, "PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// The latest schema version this build knows.
    pub fn latest_schema_version() -> i64 {
        schema::MIGRATIONS.len() as i64
    }

    pub(crate) fn write(&mut self) -> Result<rusqlite::Transaction<'_>> {
        Ok(self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?)
    }
}

#[cfg(test)]
mod tests;
