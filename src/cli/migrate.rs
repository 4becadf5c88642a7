//! `crier migrate --from LOCATION --to LOCATION`: copy a whole delivery log
//! into an empty database (SQLite → PostgreSQL, or back), with a progress
//! bar per table on a terminal and plain lines otherwise.
//!
//! Both ends are locked the way `crier run` locks them, so a running
//! daemon cannot write to the source behind the copy's back, and nothing
//! can start on the destination half-way through.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use crier_storage::Store;
use indicatif::{ProgressBar, ProgressStyle};

use super::{EXIT_CONFIG, EXIT_RUNTIME, dbonly};
use crate::config::expand_env;
use crate::dblocation::DbLocation;
use crate::lock::InstanceLock;

pub fn run(config: &Path, from: Option<String>, to: Option<String>) -> ExitCode {
    let (from, to) = match locations(config, from, to) {
        Ok(pair) => pair,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    match copy(&from, &to) {
        Ok(rows) => {
            println!(
                "copied {rows} rows from {from} to {to}; point `[storage]` at {to} and start crier"
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_RUNTIME)
        }
    }
}

/// The two ends: each given on the command line (relative paths from the
/// working directory, `${VAR}` expanded) or else the config's `[storage]`.
fn locations(
    config: &Path,
    from: Option<String>,
    to: Option<String>,
) -> Result<(DbLocation, DbLocation), String> {
    if from.is_none() && to.is_none() {
        return Err(
            "say where to copy from and to: crier migrate --from crier.db --to 'postgres://…' \
             (either one defaults to the config's [storage])"
                .into(),
        );
    }
    let mut configured = None;
    let mut resolve = |arg: Option<String>, flag: &str| -> Result<DbLocation, String> {
        match arg {
            Some(raw) => {
                let raw = expand_env(&raw, |k| std::env::var(k).ok())
                    .map_err(|e| format!("--{flag}: {e}"))?;
                DbLocation::parse(&raw, Path::new(".")).map_err(|e| format!("--{flag}: {e}"))
            }
            None => {
                if configured.is_none() {
                    if !config.exists() {
                        return Err(format!(
                            "--{flag} is not given and there is no config file {} to take `[storage]` from",
                            config.display()
                        ));
                    }
                    configured = Some(dbonly::load(config)?.db);
                }
                Ok(configured.clone().expect("set just above"))
            }
        }
    };
    let from = resolve(from, "from")?;
    let to = resolve(to, "to")?;
    if same_place(&from, &to) {
        return Err(format!("--from and --to are the same database ({from})"));
    }
    Ok((from, to))
}

fn same_place(a: &DbLocation, b: &DbLocation) -> bool {
    match (a, b) {
        (DbLocation::Sqlite(x), DbLocation::Sqlite(y)) => {
            x == y
                || matches!(
                    (std::fs::canonicalize(x), std::fs::canonicalize(y)),
                    (Ok(p), Ok(q)) if p == q
                )
        }
        _ => a == b,
    }
}

/// Lock a location like `crier run` does; the guard lives as long as the
/// store (PostgreSQL's lock is held by the store's connection).
fn open_locked(loc: &DbLocation, role: &str) -> anyhow::Result<(Store, Option<InstanceLock>)> {
    match loc {
        DbLocation::Sqlite(path) => {
            if role == "source" && !path.exists() {
                anyhow::bail!("the source database {} does not exist", path.display());
            }
            let lock = InstanceLock::acquire(path)
                .with_context(|| format!("the {role} is in use; stop crier first"))?;
            Ok((loc.open()?, Some(lock)))
        }
        DbLocation::Postgres(url) => {
            let mut store = loc.open()?;
            if !store
                .try_instance_lock()
                .with_context(|| format!("cannot take the instance lock in {url}"))?
            {
                anyhow::bail!("a crier is running on the {role} {url}; stop it first");
            }
            // Instances sharing the database hold leases, not that lock:
            // any heard from lately is running.
            let now = crate::clock::Clock::System.now_ms();
            let running = store
                .instances()?
                .into_iter()
                .filter(|i| i.role != "gone" && now - i.seen_at < crate::instances::GONE_AFTER_MS)
                .count();
            if running > 0 {
                anyhow::bail!(
                    "{running} crier instance(s) are running on the {role} {url} (crier status lists them); stop them first"
                );
            }
            Ok((store, None))
        }
    }
}

fn copy(from: &DbLocation, to: &DbLocation) -> anyhow::Result<u64> {
    let (src, _src_lock) = open_locked(from, "source")?;
    let (mut dst, _dst_lock) = open_locked(to, "destination")?;
    let mut shown = Shown::new();
    let started = Instant::now();
    src.copy_to(&mut dst, &mut |table, done, total| {
        shown.progress(table, done, total)
    })
    .with_context(|| format!("copying {from} to {to}"))?;
    shown.finish();
    let rows = shown.rows;
    eprintln!(
        "{} tables, {rows} rows in {:.1} s",
        shown.tables,
        started.elapsed().as_secs_f64()
    );
    Ok(rows)
}

/// Progress: one bar per table on a terminal, one line per table otherwise.
struct Shown {
    terminal: bool,
    bar: Option<ProgressBar>,
    table: String,
    last: u64,
    rows: u64,
    tables: u64,
}

impl Shown {
    fn new() -> Shown {
        Shown {
            terminal: std::io::stderr().is_terminal(),
            bar: None,
            table: String::new(),
            last: 0,
            rows: 0,
            tables: 0,
        }
    }

    fn progress(&mut self, table: &str, done: u64, total: u64) {
        if table != self.table {
            self.finish();
            self.table = table.to_string();
            self.tables += 1;
            self.last = 0;
            if self.terminal {
                let bar = ProgressBar::new(total);
                if let Ok(style) = ProgressStyle::with_template(
                    "{prefix:>16} [{bar:30}] {pos}/{len} rows {per_sec} eta {eta}",
                ) {
                    bar.set_style(style.progress_chars("=> "));
                }
                bar.set_prefix(table.to_string());
                self.bar = Some(bar);
            }
        }
        self.rows += done.saturating_sub(self.last);
        self.last = done;
        if let Some(bar) = &self.bar {
            bar.set_length(total);
            bar.set_position(done);
        }
    }

    fn finish(&mut self) {
        if self.table.is_empty() {
            return;
        }
        match self.bar.take() {
            Some(bar) => bar.finish(),
            None => eprintln!("{}: {} rows", self.table, self.last),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_ends_default_to_the_config_but_not_both() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config.toml");
        std::fs::write(&cfg, "[storage]\npath = \"state/crier.db\"\n").unwrap();
        let e = locations(&cfg, None, None).unwrap_err();
        assert!(e.contains("--from"), "{e}");
        let (from, to) = locations(
            &cfg,
            None,
            Some("postgres://crier:pw@127.0.0.1/crier".into()),
        )
        .unwrap();
        assert_eq!(from, DbLocation::Sqlite(dir.path().join("state/crier.db")));
        assert!(to.is_postgres());
        let e = locations(
            &cfg,
            Some(dir.path().join("state/crier.db").display().to_string()),
            None,
        )
        .unwrap_err();
        assert!(e.contains("same database"), "{e}");
    }

    #[test]
    fn the_destination_url_expands_variables_and_hides_the_password() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config.toml");
        // SAFETY: a variable only this test reads.
        unsafe { std::env::set_var("CRIER_MIGRATE_TEST_PW", "hunter2") };
        let (_, to) = locations(
            &cfg,
            Some("a.db".into()),
            Some("postgres://crier:${CRIER_MIGRATE_TEST_PW}@db.example/crier".into()),
        )
        .unwrap();
        match &to {
            DbLocation::Postgres(u) => assert!(u.expose().contains("hunter2")),
            other => panic!("{other:?}"),
        }
        assert!(!to.to_string().contains("hunter2"));
        let e = locations(
            &cfg,
            Some("a.db".into()),
            Some("${CRIER_MIGRATE_UNSET_X}".into()),
        )
        .unwrap_err();
        assert!(e.starts_with("--to"), "{e}");
    }
}
