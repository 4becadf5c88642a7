//! One `crier run` per database file, whatever the path it is reached by.
//!
//! The lock is taken on the database file itself (an exclusive `flock`),
//! so a symlink, a relative path or a hard link to the same file meet the
//! same lock; SQLite's own locks are POSIX record locks, independent of
//! `flock` on Linux. `<real path>.lock` beside the real file holds the PID
//! of the process holding the lock, for humans and for the refusal message.
//! Crash recovery needs an [`InstanceLock`] (see `Engine::recover`): it
//! cannot run while another process holds the database.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

/// Held for as long as it lives: a second `crier run` on the same database
/// file refuses to start.
pub struct InstanceLock {
    _db: Option<File>,
    /// The PID file, `<real path>.lock`.
    pub path: PathBuf,
    /// The database's real path (symlinks and `..` resolved).
    pub real: PathBuf,
}

impl InstanceLock {
    pub fn acquire(db_path: &Path) -> anyhow::Result<InstanceLock> {
        if let Some(dir) = db_path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the folder {}", dir.display()))?;
        }
        // An empty file is a valid new SQLite database.
        let db = File::options()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(db_path)
            .with_context(|| format!("cannot open the database file {}", db_path.display()))?;
        let real = std::fs::canonicalize(db_path)
            .with_context(|| format!("cannot resolve the path {}", db_path.display()))?;
        let mut name = real.as_os_str().to_owned();
        name.push(".lock");
        let path = PathBuf::from(name);
        match db.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = holder_pid(&db)
                    .or_else(|| pid_in(&path))
                    .map(|p| format!("PID {p}"))
                    .unwrap_or_else(|| "another process".into());
                let via = if real.as_path() != db_path {
                    format!(" (reached as {})", db_path.display())
                } else {
                    String::new()
                };
                anyhow::bail!(
                    "another crier is already running ({holder}) on {}{via}; two instances would post twice",
                    real.display()
                );
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("cannot lock {}", real.display()));
            }
        }
        // Ours now: write our PID for the next one who asks.
        let mut f = File::options()
            .create(true)
            .truncate(true)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot write the lock file {}", path.display()))?;
        writeln!(f, "{}", std::process::id())
            .with_context(|| format!("cannot write the lock file {}", path.display()))?;
        Ok(InstanceLock {
            _db: Some(db),
            path,
            real,
        })
    }

    /// The proof for a PostgreSQL database: the store holds the
    /// database's instance lock (`Store::try_instance_lock`), taken by the
    /// caller before building this.
    pub fn in_database(described: String) -> InstanceLock {
        InstanceLock {
            _db: None,
            path: PathBuf::new(),
            real: PathBuf::from(described),
        }
    }

    /// The proof for an in-memory database (tests, `crier inspect`): no
    /// other process can reach it.
    pub fn in_memory() -> InstanceLock {
        InstanceLock {
            _db: None,
            path: PathBuf::new(),
            real: PathBuf::from(":memory:"),
        }
    }
}

/// The PID written in a lock file.
fn pid_in(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// The PID holding an `flock` on this file, from `/proc/locks` (Linux).
#[cfg(target_os = "linux")]
fn holder_pid(file: &File) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    let meta = file.metadata().ok()?;
    let dev = meta.dev();
    // The kernel's encoding of dev_t (glibc's major()/minor()).
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    let id = format!("{major:02x}:{minor:02x}:{}", meta.ino());
    let locks = std::fs::read_to_string("/proc/locks").ok()?;
    locks.lines().find_map(|line| {
        // `1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF`
        let f: Vec<&str> = line.split_whitespace().collect();
        let (kind, pid, file) = (f.get(1)?, f.get(4)?, f.get(5)?);
        (*kind == "FLOCK" && *file == id).then(|| pid.parse().ok())?
    })
}

#[cfg(not(target_os = "linux"))]
fn holder_pid(_file: &File) -> Option<u32> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_file_by_any_path_is_refused() {
        let dir = tempfile::tempdir().expect("dir");
        let db = dir.path().join("crier.db");
        let first = InstanceLock::acquire(&db).expect("first");
        assert_eq!(
            std::fs::read_to_string(&first.path)
                .expect("pid file")
                .trim(),
            std::process::id().to_string()
        );
        let link = dir.path().join("link.db");
        std::os::unix::fs::symlink(&db, &link).expect("symlink");
        let hard = dir.path().join("hard.db");
        std::fs::hard_link(&db, &hard).expect("hard link");
        let dotted = dir.path().join("sub/../crier.db");
        std::fs::create_dir_all(dir.path().join("sub")).expect("mkdir");
        for p in [&db, &link, &hard, &dotted] {
            let e = match InstanceLock::acquire(p) {
                Ok(_) => panic!("{} was locked twice", p.display()),
                Err(e) => e.to_string(),
            };
            assert!(
                e.contains(&format!("PID {}", std::process::id())),
                "{}: {e}",
                p.display()
            );
        }
        drop(first);
        InstanceLock::acquire(&hard).expect("free again");
    }
}
