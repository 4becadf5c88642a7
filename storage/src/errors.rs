//! Clear texts for SQLite's failures: a full disk is not "storage busy".

use rusqlite::ErrorCode;

use crate::Error;

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
    pub fn check_writable(&mut self) -> crate::Result<()> {
        self.conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS crier_write_probe (at INTEGER NOT NULL);
             INSERT INTO crier_write_probe (at) VALUES (0);
             DROP TABLE crier_write_probe;",
        )?;
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
        let mut ro = crate::Store { conn };
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
