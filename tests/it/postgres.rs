//! The delivery log in PostgreSQL: the real binary against a real server
//! (`CRIER_TEST_POSTGRES_URL`, default postgres://postgres@127.0.0.1:5432/test),
//! each test in a schema of its own. Without a server these tests say they
//! skipped; with `CRIER_REQUIRE_POSTGRES=1` (CI, when `pg_isready` answers)
//! a missing server fails them.

use std::time::{Duration, Instant};

use crier_storage::{LogQuery, Store};
use rand::Rng;

use crate::daemon::{numbered, rss};
use crate::proof::{Fakes, check_complete_and_ordered, duplicates, story};
use crate::support::{Running, Workspace, stderr_of, stdout_of, unsettled, wait_until};
use crier_fakes::feed::Route;

/// A schema of its own on the test server, dropped at the end.
pub(crate) struct PgSchema {
    admin: postgres::Client,
    pub(crate) name: String,
    /// The URL Crier gets: the server's, with `search_path` set to the schema.
    pub(crate) url: String,
}

impl PgSchema {
    /// `None` (after saying so) when no server answers and none is required.
    pub(crate) fn create(test: &str) -> Option<PgSchema> {
        let base = std::env::var("CRIER_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let mut admin = match postgres::Client::connect(&base, postgres::NoTls) {
            Ok(c) => c,
            Err(e) => {
                if std::env::var("CRIER_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
                    panic!("{test}: CRIER_REQUIRE_POSTGRES=1 but PostgreSQL does not answer: {e}");
                }
                eprintln!(
                    "CRIER_PG_SKIPPED {test}: skipped: no PostgreSQL answers ({e}); set CRIER_TEST_POSTGRES_URL"
                );
                return None;
            }
        };
        let name = format!(
            "crier_it_{}_{:08x}",
            std::process::id(),
            rand::rng().random::<u32>()
        );
        admin
            .batch_execute(&format!("CREATE SCHEMA {name}"))
            .expect("create schema");
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-c%20search_path%3D{name}");
        Some(PgSchema { admin, name, url })
    }

    pub(crate) fn store(&self) -> Store {
        Store::open_url(&self.url).expect("open the daemon's database")
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let _ = self
            .admin
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
    }
}

pub(crate) fn storage_section(url: &str) -> String {
    format!("[storage]\nurl = \"{url}\"\n")
}

/// Titles whose delivery row to `target` records an ambiguous send.
pub(crate) fn ambiguous_titles(store: &Store, target: &str) -> Vec<String> {
    store
        .log(&LogQuery {
            limit: 1_000_000,
            target: Some(target.into()),
            ..LogQuery::default()
        })
        .expect("log")
        .into_iter()
        .filter(|e| e.delivery.ambiguous)
        .map(|e| e.title)
        .collect()
}

pub(crate) fn check_once_in_order(f: &Fakes, store: &Store, n: usize) {
    let shown = f.shown();
    for (target, v) in &shown {
        check_complete_and_ordered(target, v, n);
    }
    assert_eq!(
        duplicates(&shown["dc"]),
        Vec::<String>::new(),
        "no duplicate on a Discord bot target (nonce)"
    );
    for target in ["tg", "hook"] {
        let ambiguous = ambiguous_titles(store, target);
        for d in duplicates(&shown[target]) {
            assert!(
                ambiguous.contains(&d),
                "{target}: {d:?} is duplicated but no ambiguous send was recorded"
            );
        }
    }
}

pub(crate) fn all_shown(f: &Fakes, n: usize) -> bool {
    f.shown()
        .values()
        .all(|v| (1..=n).all(|i| v.contains(&story(i))))
}

/// Requests a fake platform answered 429 without an injected fault: a
/// real limit overrun.
pub(crate) fn limit_violations(f: &Fakes) -> usize {
    let tg = f.tg.requests();
    let dc = f.dc.requests();
    tg.iter()
        .chain(dc.iter())
        .filter(|r| r.status == 429 && r.fault.is_none())
        .count()
}

/// The database connection is cut again and again under a running
/// instance (a server restart, a proxy dropping idle sessions): each call
/// that meets the cut is retried on a new session, the instance keeps its
/// lock (nobody else wants it) and goes on, and every article still
/// reaches every target once, in order.
#[test]
fn cut_connections_pause_deliveries_and_lose_nothing() {
    let Some(pg) = PgSchema::create("cut_connections") else {
        return;
    };
    const N: usize = 60;
    let f = Fakes::start();
    f.fast_limits();
    f.feeds
        .set("/feed.xml", Route::feed(rss(&numbered("c", N))));
    let ws = Workspace::new();
    let app = format!("crier_{}", pg.name);
    let url = format!("{}&application_name={app}", pg.url);
    ws.write(
        "config.toml",
        &format!("{}{}", storage_section(&url), f.config("")),
    );
    let mut run = Running::start(ws.dir.path(), &ws.config(), &[]);
    run.wait_for("a first delivery", Duration::from_secs(30), |_, _| {
        f.shown().values().any(|v| !v.is_empty())
    });
    let mut admin = postgres::Client::connect(&pg.url, postgres::NoTls).expect("connect");
    let mut cuts = 0;
    let deadline = Instant::now() + Duration::from_secs(90);
    while !all_shown(&f, N) {
        assert!(
            Instant::now() < deadline,
            "not everything was delivered\n{}",
            run.stderr()
        );
        if let Ok(Some(status)) = run.child.try_wait() {
            panic!("crier exited: {status}\n{}", run.stderr());
        }
        if cuts < 6 {
            let n = admin
                .execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
                    &[&app],
                )
                .expect("terminate");
            cuts += usize::from(n > 0);
        }
        std::thread::sleep(Duration::from_millis(150));
    }
    assert!(cuts >= 3, "the test cut the connection only {cuts} times");
    // Every row recorded: nothing is left to send twice.
    let recorded = pg.store();
    wait_until("every delivery recorded", Duration::from_secs(30), || {
        unsettled(&recorded) == 0
    });

    let (status, _, err) = run.terminate();
    assert!(status.success(), "{err}");
    assert!(!err.contains("stands down"), "{err}");
    check_once_in_order(&f, &pg.store(), N);
    drop(f.rt);
}

/// A change made by another process (`crier retract` here) reaches the
/// running instance through PostgreSQL's `NOTIFY` at once, not at the
/// workers' next recheck.
#[test]
fn a_retraction_from_the_command_line_is_carried_out_at_once() {
    let Some(pg) = PgSchema::create("notify") else {
        return;
    };
    const N: usize = 3;
    let f = Fakes::start();
    f.fast_limits();
    f.feeds
        .set("/feed.xml", Route::feed(rss(&numbered("n", N))));
    let ws = Workspace::new();
    // Idle workers look at their queue again only every 30 s.
    let config = f
        .config("")
        .replace("recheck = \"500ms\"", "recheck = \"30s\"");
    assert!(config.contains("recheck = \"30s\""));
    ws.write(
        "config.toml",
        &format!("{}{config}", storage_section(&pg.url)),
    );
    // The engine at debug level says when a worker is done and waits.
    let mut run = Running::start(
        ws.dir.path(),
        &ws.config(),
        &[("RUST_LOG", "info,crier::engine=debug")],
    );
    run.wait_for("every delivery", Duration::from_secs(60), |_, _| {
        all_shown(&f, N)
    });
    // The workers go idle: after the last delivery, each target's worker
    // says it waits (with a 30 s recheck, only a NOTIFY wakes it then).
    let recorded = pg.store();
    wait_until("every delivery recorded", Duration::from_secs(30), || {
        unsettled(&recorded) == 0
    });
    run.wait_for("every worker idle", Duration::from_secs(20), |_, err| {
        let lines: Vec<&str> = err.lines().collect();
        ["tg", "dc", "hook"].iter().all(|t| {
            let of = |l: &&str| {
                l.split_whitespace()
                    .any(|w| w == format!("target_name={t}"))
            };
            let last = lines
                .iter()
                .rposition(|l| of(l) && l.contains(" delivered "))
                .unwrap_or(0);
            lines[last..]
                .iter()
                .any(|l| of(l) && l.contains("delivery worker waits"))
        })
    });
    let out = ws.crier(&["retract", "https://news.example/n-2"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let asked = Instant::now();
    run.wait_for("the retraction", Duration::from_secs(20), |_, _| {
        !f.shown()["dc"].contains(&story(2))
    });
    let took = asked.elapsed();
    eprintln!("retraction carried out {took:?} after the command");
    assert!(
        took < Duration::from_secs(4),
        "took {took:?}: not woken by NOTIFY"
    );
    let (status, _, err) = run.terminate();
    assert!(status.success(), "{err}");
    drop(f.rt);
}

/// An SQLite log moved to PostgreSQL with `crier migrate` carries on where
/// it stopped: nothing is posted again, new articles follow in order.
#[test]
fn a_migrated_log_posts_nothing_twice() {
    let Some(pg) = PgSchema::create("migrate") else {
        return;
    };
    let f = Fakes::start();
    f.fast_limits();
    f.feeds
        .set("/feed.xml", Route::feed(rss(&numbered("m", 20))));
    let ws = Workspace::new();
    ws.write("config.toml", &f.config(""));
    let mut run = Running::start(ws.dir.path(), &ws.config(), &[]);
    run.wait_for("20 deliveries", Duration::from_secs(60), |_, _| {
        all_shown(&f, 20)
    });
    let (status, _, err) = run.terminate();
    assert!(status.success(), "{err}");

    let out = ws.crier(&["migrate", "--from", "crier.db", "--to", &pg.url]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(stdout_of(&out).contains("copied"), "{}", stdout_of(&out));
    assert!(
        stderr_of(&out).contains("deliveries: "),
        "{}",
        stderr_of(&out)
    );
    // A second copy into the now non-empty database is refused.
    let again = ws.crier(&["migrate", "--from", "crier.db", "--to", &pg.url]);
    assert_eq!(again.status.code(), Some(1), "{}", stderr_of(&again));
    assert!(
        stderr_of(&again).contains("error: "),
        "{}",
        stderr_of(&again)
    );

    // Now on PostgreSQL, with two new articles.
    ws.write(
        "config.toml",
        &format!("{}{}", storage_section(&pg.url), f.config("")),
    );
    f.feeds
        .set("/feed.xml", Route::feed(rss(&numbered("m", 22))));
    let mut run = Running::start(ws.dir.path(), &ws.config(), &[]);
    run.wait_for("the two new articles", Duration::from_secs(60), |_, _| {
        all_shown(&f, 22)
    });
    // Every row recorded: nothing is left to send twice.
    let recorded = pg.store();
    wait_until("every delivery recorded", Duration::from_secs(30), || {
        unsettled(&recorded) == 0
    });

    let (status, _, err) = run.terminate();
    assert!(status.success(), "{err}");
    for (target, v) in f.shown() {
        assert_eq!(duplicates(&v), Vec::<String>::new(), "{target}");
        check_complete_and_ordered(target, &v, 22);
    }
    drop(f.rt);
}

/// A server that does not answer at start: a clear error, exit 1, and the
/// password nowhere in the output. Needs no server.
#[test]
fn an_unreachable_database_is_a_clear_error_without_the_password() {
    let ws = Workspace::new();
    ws.write(
        "config.toml",
        "[storage]\nurl = \"postgres://crier:hunter2secret@127.0.0.1:1/crier\"\n",
    );
    let check = ws.crier(&["check"]);
    assert!(check.status.success(), "{}", stderr_of(&check));
    let text = stdout_of(&check);
    assert!(
        text.contains("database: postgres://crier:***@127.0.0.1:1/crier"),
        "{text}"
    );
    assert!(!text.contains("hunter2secret"));

    let mut run = Running::start(ws.dir.path(), &ws.config(), &[]);
    let start = Instant::now();
    let status = loop {
        if let Ok(Some(s)) = run.child.try_wait() {
            break s;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "still running");
        std::thread::sleep(Duration::from_millis(50));
    };
    run.drain();
    let err = run.stderr();
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(
        err.contains("error: cannot open the PostgreSQL database"),
        "{err}"
    );
    assert!(!err.contains("hunter2secret"), "{err}");

    // Both `path` and `url`: a config error at the key.
    ws.write(
        "config.toml",
        "[storage]\npath = \"a.db\"\nurl = \"postgres://u@h/d\"\n",
    );
    let bad = ws.crier(&["check"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr_of(&bad).contains("storage.url"),
        "{}",
        stderr_of(&bad)
    );
}
