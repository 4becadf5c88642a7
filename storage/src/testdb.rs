//! Conformance tests on both backends: [`each`] runs a test body on a
//! fresh SQLite store, then on a fresh PostgreSQL schema when the server
//! at `CRIER_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`) answers. Each PostgreSQL run
//! gets its own schema, dropped afterwards, so tests run in parallel.
//! Without a server the PostgreSQL half prints one line with
//! `CRIER_PG_SKIPPED` (written past the test harness's capture, so CI sees
//! it) and passes — unless `CRIER_REQUIRE_POSTGRES=1` (set by `.ci/run`
//! where `pg_isready` answers), which makes it fail instead.

use std::io::Write;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::Store;

pub(crate) const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

fn url() -> String {
    std::env::var("CRIER_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_URL.into())
}

fn base_config() -> Option<postgres::Config> {
    let mut c: postgres::Config = url().parse().ok()?;
    c.connect_timeout(Duration::from_secs(3));
    Some(c)
}

/// Whether the test server answers (asked once per test binary).
fn reachable() -> bool {
    static UP: OnceLock<bool> = OnceLock::new();
    *UP.get_or_init(|| base_config().is_some_and(|c| c.connect(postgres::NoTls).is_ok()))
}

fn skipped() {
    let test = std::thread::current()
        .name()
        .unwrap_or("storage test")
        .to_string();
    let at = base_config()
        .map(|c| crate::backend::label(&c))
        .unwrap_or_else(|| "an unparsable CRIER_TEST_POSTGRES_URL".into());
    // CI sets this where `pg_isready` says a server runs: a skip there
    // would hide that the PostgreSQL half never ran.
    if std::env::var_os("CRIER_REQUIRE_POSTGRES").is_some_and(|v| v == "1") {
        panic!("{test}: CRIER_REQUIRE_POSTGRES=1 but no PostgreSQL answers at {at}");
    }
    // Past libtest's capture: a skip must be visible in CI logs.
    let _ = writeln!(
        std::io::stderr(),
        "CRIER_PG_SKIPPED {test}: skipped: no PostgreSQL at {at} (set CRIER_TEST_POSTGRES_URL)"
    );
}

/// A schema of its own on the test server; dropped with the guard.
pub(crate) struct PgSchema {
    base: postgres::Config,
    pub(crate) name: String,
}

impl PgSchema {
    /// A new empty schema, or `None` (after printing the skip line) when
    /// no server answers.
    pub(crate) fn create() -> Option<PgSchema> {
        if !reachable() {
            skipped();
            return None;
        }
        static N: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!(
            "crier_t_{}_{}_{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let base = base_config().expect("parsed before");
        let mut c = base.connect(postgres::NoTls).expect("connect");
        c.batch_execute(&format!("CREATE SCHEMA {name}"))
            .expect("create schema");
        Some(PgSchema { base, name })
    }

    /// A store on this schema (another handle each call).
    pub(crate) fn open(&self) -> Store {
        Store::open_pg(self.config()).expect("open the PostgreSQL store")
    }

    pub(crate) fn config(&self) -> postgres::Config {
        let mut c = self.base.clone();
        c.options(&format!("-c search_path={}", self.name));
        c
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        if let Ok(mut c) = self.base.connect(postgres::NoTls) {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
        }
    }
}

/// Run `f` on a fresh SQLite store, then on a fresh PostgreSQL one (or
/// print that it was skipped).
pub(crate) fn each(f: impl Fn(Store)) {
    f(Store::open_in_memory().expect("open SQLite"));
    if let Some(db) = PgSchema::create() {
        let store = db.open();
        if let Err(e) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(store))) {
            panic!("on PostgreSQL (schema {}): {}", db.name, panic_text(&*e));
        }
    }
}

/// Run `f` with a way to open (again) one database: a SQLite file, then a
/// PostgreSQL schema (tests of what survives a restart, or of two handles
/// on one database).
pub(crate) fn each_reopenable(f: impl Fn(&dyn Fn() -> Store)) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("crier.db");
    f(&|| Store::open(&path).expect("open SQLite"));
    if let Some(db) = PgSchema::create() {
        let open = || db.open();
        if let Err(e) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&open))) {
            panic!("on PostgreSQL (schema {}): {}", db.name, panic_text(&*e));
        }
    }
}

fn panic_text(e: &(dyn std::any::Any + Send)) -> String {
    e.downcast_ref::<String>()
        .cloned()
        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}
