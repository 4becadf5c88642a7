//! Crier's delivery log and feed state, in SQLite or PostgreSQL.
//!
//! The API is small and typed: no SQL leaves this crate, and no type of
//! rusqlite or postgres appears in a signature. Each operation's SQL is
//! written once, in the dialect both backends speak (`backend.rs`). Every state change is one transaction. Times are Unix
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
mod backend;
mod copy;
mod feeds;
mod import;
mod instances;
mod leases;
mod log;
mod notify;
mod platform_state;
mod poison;
mod queue;
mod rows;
mod schema;
mod stats;
mod targets;
mod types;
mod websub;

pub use admin::{AuditEntry, DynamicFeed, Scheduled};
pub use backend::{Backend, Value};
pub(crate) use backend::{Conn, Row, Tx, params};
pub use copy::CopyReport;
pub(crate) use feeds::put_feed_state;
pub use instances::InstanceRow;
pub(crate) use leases::Fences;
pub use leases::{Held, LeaseRow, SCOPE_FEED, SCOPE_TARGET};
pub use notify::{Change, ChangeListener};
pub(crate) use rows::*;
pub use stats::QueueStats;
pub use types::*;
pub use websub::{SubState, Subscription};

use std::path::Path;
use std::time::Duration;

use std::cell::RefCell;

use rusqlite::Connection;

/// Unix time in milliseconds.
pub type Millis = i64;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}", errors::describe(.0))]
    Sqlite(#[from] rusqlite::Error),
    #[error("{}", errors::describe_pg(.0))]
    Postgres(#[from] postgres::Error),
    /// PostgreSQL could not be reached (`at` is `host:port/db`, never the
    /// password).
    #[error("cannot connect to PostgreSQL at {at}: {reason}")]
    Connect { at: String, reason: String },
    /// The connection holding this instance's lock was lost and another
    /// instance took the lock meanwhile: this one must not write.
    #[error(
        "the PostgreSQL connection was lost and another crier took over the database: this instance stands down"
    )]
    LostInstanceLock,
    /// A lease this instance held was taken over by another instance
    /// (it ended while this one was slow or cut off): the write is
    /// refused, the new holder does the work.
    #[error(
        "another crier instance took over the {0} (this instance's lease ended): the write was refused"
    )]
    LeaseLost(String),
    #[error("invalid PostgreSQL URL: {0}")]
    BadUrl(String),
    /// A stored value is not what the schema says (a damaged database).
    #[error("database error: {0}")]
    Decode(String),
    #[error("database error: the query returned no rows")]
    NoRows,
    /// `copy_to` only fills an empty database.
    #[error("the destination database is not empty (table {0} has rows): copy into a new database")]
    NotEmpty(String),
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
    /// True for errors worth retrying later: the database is busy or
    /// locked; on PostgreSQL also a lost connection (the next call
    /// reconnects), a serialization failure or a deadlock.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Postgres(e) => errors::pg_transient(e),
            Error::Connect { .. } => true,
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

/// The store: one connection to SQLite or PostgreSQL; callers serialise
/// access (the core runs it on a blocking thread).
pub struct Store {
    pub(crate) conn: Conn,
    /// The fencing tokens of the leases this store claimed (`leases.rs`).
    pub(crate) fences: Fences,
}

impl Store {
    /// Open (creating if needed) the SQLite database at `path`, in WAL
    /// mode, and apply pending migrations.
    pub fn open(path: &Path) -> Result<Store> {
        let conn = Connection::open(path)?;
        Store::init(conn)
    }

    /// A private in-memory SQLite database (tests, `crier inspect`).
    pub fn open_in_memory() -> Result<Store> {
        Store::init(Connection::open_in_memory()?)
    }

    /// Open a database by URL: `postgres://…` or `postgresql://…` is
    /// PostgreSQL (libpq URL syntax; `?options=-c%20search_path%3Dcrier`
    /// picks a schema), `sqlite:PATH` or a plain path is SQLite. Pending
    /// migrations are applied.
    pub fn open_url(url: &str) -> Result<Store> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let config: postgres::Config = url
                .parse()
                .map_err(|e: postgres::Error| Error::BadUrl(e.to_string()))?;
            return Store::open_pg(config);
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        Store::open(Path::new(path))
    }

    /// Open a PostgreSQL database and apply pending migrations.
    pub(crate) fn open_pg(config: postgres::Config) -> Result<Store> {
        let conn = Conn::Pg(Box::new(RefCell::new(backend::Pg::connect(config)?)));
        schema::migrate_pg(&conn)?;
        Ok(Store {
            conn,
            fences: Fences::default(),
        })
    }

    fn init(conn: Connection) -> Result<Store> {
        conn.busy_timeout(Duration::from_secs(5))?;
        // Statements are prepared once and reused (the delivery path runs
        // the same few queries all day).
        conn.set_prepared_statement_cache_capacity(128);
        // journal_mode returns a row; "memory" for in-memory databases.
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let mut conn = conn;
        schema::migrate(&mut conn)?;
        Ok(Store {
            conn: Conn::Sqlite(conn),
            fences: Fences::default(),
        })
    }

    /// Take the database's single-instance lock, held by this store's
    /// session for as long as it lives (PostgreSQL: a session advisory
    /// lock, taken again after a reconnect — if another instance has it by
    /// then, every call fails with [`Error::LostInstanceLock`]). False when
    /// another session holds it. SQLite: always true (the caller locks
    /// the file).
    pub fn try_instance_lock(&mut self) -> Result<bool> {
        self.conn.try_instance_lock()
    }

    /// Which database this store uses.
    pub fn backend(&self) -> Backend {
        self.conn.backend()
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64> {
        match &self.conn {
            Conn::Sqlite(c) => Ok(c.query_row("PRAGMA user_version", [], |r| r.get(0))?),
            Conn::Pg(_) => {
                self.conn
                    .query_one("SELECT version FROM schema_version", params![], |r| {
                        r.get("version")
                    })
            }
        }
    }

    /// The latest schema version this build knows.
    pub fn latest_schema_version() -> i64 {
        schema::MIGRATIONS.len() as i64
    }

    /// A write transaction (SQLite: `BEGIN IMMEDIATE`).
    pub(crate) fn write(&mut self) -> Result<Tx<'_>> {
        self.conn.begin(true)
    }
}

#[cfg(test)]
mod conformance;
#[cfg(test)]
mod lease_tests;
#[cfg(test)]
pub(crate) mod testdb;
#[cfg(test)]
mod tests;
