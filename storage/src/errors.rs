//! Clear texts for the databases' failures: a full disk is not "storage
//! busy"; which PostgreSQL failures are worth a retry.

use postgres::error::SqlState;
use rusqlite::ErrorCode;

use crate::{Conn, Error};

/// PostgreSQL's failure in words: the server's message (severity, code,
/// text), or the client's (connection lost, I/O).
pub(crate) fn describe_pg(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let cause = match *db.code() {
            SqlState::DISK_FULL => "the disk is full: ",
            SqlState::READ_ONLY_SQL_TRANSACTION => "the database is read-only: ",
            SqlState::INSUFFICIENT_PRIVILEGE => "permission denied: ",
            _ => "",
        };
        return format!(
            "{cause}PostgreSQL: {} {}: {}",
            db.severity(),
            db.code().code(),
            db.message()
        );
    }
    if e.is_closed() {
        return "PostgreSQL: the connection was lost".into();
    }
    match std::error::Error::source(e) {
        Some(src) => format!("PostgreSQL: {e}: {src}"),
        None => format!("PostgreSQL: {e}"),
    }
}

/// A lost connection (the next call reconnects), a serialization failure,
/// a deadlock, a server shutting down or full: retrying later may work.
pub(crate) fn pg_transient(e: &postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    match e.code() {
        Some(c) => {
            let class = c.code().get(..2).unwrap_or("");
            // 08: connection exception; 40: transaction rollback
            // (serialization failure, deadlock); 53: insufficient resources;
            // 57P0x: the server is going away; 55P03: lock not available.
            matches!(class, "08" | "40" | "53")
                || matches!(
                    c,
                    &SqlState::ADMIN_SHUTDOWN
                        | &SqlState::CRASH_SHUTDOWN
                        | &SqlState::CANNOT_CONNECT_NOW
                        | &SqlState::LOCK_NOT_AVAILABLE
                )
        }
        // No server code: an I/O error talking to the server is transient,
        // a conversion error is not.
        None => std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>()),
    }
}

/// What went wrong, in words an operator can act on, then SQLite's text.
pub(crate) fn describe(e: &rusqlite::Error) -> String {
    let cause = match e {
        rusqlite::Error::SqliteFailure(f, _) => match f.code {
            ErrorCode::DiskFull => "the disk is full",
            ErrorCode::ReadOnly => "the database is read-only",
            ErrorCode::SystemIoFailure => "disk I/O error",
            ErrorCode::CannotOpen => "the database file cannot be opened",
            ErrorCode::PermissionDenied => "permission denied",
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
                "the database is busy (locked by another connection)"
            }
            ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => {
                "the database file is damaged or not a database"
            }
            _ => "database error",
        },
        _ => "database error",
    };
    format!("{cause}: {e}")
}

impl crate::Store {
    /// Prove the database takes writes (committed writes that leave no
    /// trace):
    /// a read-only file or a full disk is found at start, not after the
    /// first send.
    /// On PostgreSQL (shared by several instances) the probe is a
    /// transaction that writes and rolls back: a read-only server or a
    /// missing privilege is found the same way.
    pub fn check_writable(&mut self) -> crate::Result<()> {
        match &self.conn {
            Conn::Sqlite(c) => c.execute_batch(
                "CREATE TABLE IF NOT EXISTS crier_write_probe (at INTEGER NOT NULL);
                 INSERT INTO crier_write_probe (at) VALUES (0);
                 DROP TABLE crier_write_probe;",
            )?,
            Conn::Pg(_) => {
                let tx = self.conn.begin(true)?;
                tx.batch(
                    "CREATE TABLE crier_write_probe (at BIGINT NOT NULL);
                     INSERT INTO crier_write_probe (at) VALUES (0);",
                )?;
                drop(tx);
            }
        }
        Ok(())
    }
}

impl Error {
    /// A "disk full" failure, for test fault hooks (`CRIER_TEST_FAULTS`).
    pub fn injected_disk_full(what: &str) -> Error {
        Error::Sqlite(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
            Some(format!("injected fault: {what}")),
        ))
    }

    /// The database cannot be written (full, read-only, I/O error): waiting
    /// a few milliseconds will not help, an operator has to act.
    pub fn needs_operator(&self) -> bool {
        if let Error::Postgres(e) = self {
            return matches!(
                e.code(),
                Some(
                    &SqlState::DISK_FULL
                        | &SqlState::READ_ONLY_SQL_TRANSACTION
                        | &SqlState::INSUFFICIENT_PRIVILEGE
                        | &SqlState::DATA_CORRUPTED
                        | &SqlState::INDEX_CORRUPTED
                )
            );
        }
        matches!(
            self,
            Error::Sqlite(rusqlite::Error::SqliteFailure(f, _)) if matches!(
                f.code,
                ErrorCode::DiskFull
                    | ErrorCode::ReadOnly
                    | ErrorCode::SystemIoFailure
                    | ErrorCode::PermissionDenied
                    | ErrorCode::CannotOpen
                    | ErrorCode::DatabaseCorrupt
                    | ErrorCode::NotADatabase
            )
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_only_database_is_found_by_the_probe() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("ro.db");
        crate::Store::open(&path)
            .expect("create")
            .check_writable()
            .expect("a writable database passes");
        let conn = rusqlite::Connection::open_with_flags(
            &path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .expect("open read-only");
        let mut ro = crate::Store {
            conn: Conn::Sqlite(conn),
            fences: Default::default(),
        };
        let e = ro.check_writable().expect_err("read-only");
        assert!(
            e.to_string().starts_with("the database is read-only"),
            "{e}"
        );
        assert!(e.needs_operator());
    }

    #[test]
    fn a_full_disk_is_named() {
        let e = Error::injected_disk_full("x");
        assert!(e.to_string().starts_with("the disk is full: "), "{e}");
        assert!(e.needs_operator());
        let ro = Error::Sqlite(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_READONLY),
            None,
        ));
        assert!(
            ro.to_string().starts_with("the database is read-only"),
            "{ro}"
        );
    }
}
