//! The delivery log in PostgreSQL: the real binary against a real server
//! (`CRIER_TEST_POSTGRES_URL`, default postgres://postgres@127.0.0.1:5432/test),
//! each test in a schema of its own. Without a server these tests say they
//! skipped; with `CRIER_REQUIRE_POSTGRES=1` (CI, when `pg_isready` answers)
//! a missing server fails them.

use std::time::{Duration, Instant};

use crier_storage::{LogQuery, Store};
use rand::{Rng, SeedableRng};

use crate::daemon::{numbered, rss};
use crate::proof::{Fakes, check_complete_and_ordered, duplicates, story};
use crate::support::{Running, Workspace, stderr_of, stdout_of, unsettled, wait_until};
use crier_fakes::feed::Route;

/// A schema of its own on the test server, dropped at the end.
struct PgSchema {
    admin: postgres::Client,
    name: String,
    /// The URL Crier gets: the server's, with `search_path` set to the schema.
    url: String,
}

impl PgSchema {
    /// `None` (after saying so) when no server answers and none is required.
    fn create(test: &str) -> Option<PgSchema> {
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

    fn store(&self) -> Store {
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

fn storage_section(url: &str) -> String {
    format!("[storage]\nurl = \"{url}\"\n")
}

/// Titles whose delivery row to `target` records an ambiguous send.
fn ambiguous_titles(store: &Store, target: &str) -> Vec<String> {
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

fn check_once_in_order(f: &Fakes, store: &Store, n: usize) {
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

fn all_shown(f: &Fakes, n: usize) -> bool {
    f.shown()
        .values()
        .all(|v| (1..=n).all(|i| v.contains(&story(i))))
}

const STANDBY: &str = "waiting as a standby";
const TAKES_OVER: &str = "this standby takes over";

/// Requests a fake platform answered 429 without an injected fault: a
/// real limit overrun.
fn limit_violations(f: &Fakes) -> usize {
    let tg = f.tg.requests();
    let dc = f.dc.requests();
    tg.iter()
        .chain(dc.iter())
        .filter(|r| r.status == 429 && r.fault.is_none())
        .count()
}

/// Three instances on one database: one active, two standbys. Random
/// instances are killed (SIGKILL) at random moments — the active one every
/// other round — and restarted; a standby takes over each time the active
/// one dies, within the lock's retry time. In the end every article reached
/// every target once, in order (duplicates only where an ambiguous send was
/// recorded), the fakes saw no rate-limit overrun, and `crier status`
/// listed the instances with their roles throughout.
#[test]
fn three_instances_survive_random_kills_and_nothing_is_lost_or_doubled() {
    let Some(pg) = PgSchema::create("three_instances") else {
        return;
    };
    const N: usize = 300;
    const ROUNDS: usize = 6;
    let f = Fakes::start();
    f.fast_limits();
    f.feeds
        .set("/feed.xml", Route::feed(rss(&numbered("p", N))));
    let ws = Workspace::new();
    ws.write(
        "config.toml",
        &format!("{}{}", storage_section(&pg.url), f.config("")),
    );
    let seed: u64 = std::env::var("CRIER_TEST_SEED")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    eprintln!("three-instance test seed: {seed} (replay with CRIER_TEST_SEED={seed})");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let start = || Running::start(ws.dir.path(), &ws.config(), &[]);
    let standby = |r: &mut Running| {
        r.wait_for("a standby to wait", Duration::from_secs(20), |_, e| {
            e.contains(STANDBY)
        })
    };

    let mut first = start();
    first.wait_for(
        "the first instance to start",
        Duration::from_secs(20),
        |_, e| e.contains("starting"),
    );
    let mut all = vec![first];
    for _ in 0..2 {
        let mut r = start();
        standby(&mut r);
        all.push(r);
    }
    let mut active = 0usize;
    for r in &all[1..] {
        assert!(
            !r.stderr().contains("resolved deliveries"),
            "a standby does nothing"
        );
    }
    let status = stdout_of(&ws.crier(&["status"]));
    assert!(status.contains("Instances (3):"), "{status}");
    for (i, r) in all.iter().enumerate() {
        let pid = format!("pid {}", r.child.id());
        let role = if i == active { "active " } else { "standby " };
        assert!(
            status
                .lines()
                .any(|l| l.contains(&pid) && l.trim_start().starts_with(role)),
            "{pid} as {role}: {status}"
        );
    }

    let mut takeovers = Vec::new();
    for round in 0..ROUNDS {
        std::thread::sleep(Duration::from_millis(rng.random_range(200..1500)));
        let victim = if round % 2 == 0 {
            active
        } else {
            rng.random_range(0..all.len())
        };
        let killed_at = Instant::now();
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &all[victim].child.id().to_string()])
            .status();
        let _ = all[victim].child.wait();
        if victim == active {
            // One of the standbys takes over.
            let deadline = Instant::now() + Duration::from_secs(15);
            let next = loop {
                if let Some(i) =
                    (0..all.len()).find(|&i| i != victim && all[i].stderr().contains(TAKES_OVER))
                {
                    break i;
                }
                assert!(
                    Instant::now() < deadline,
                    "no standby took over (round {round})"
                );
                std::thread::sleep(Duration::from_millis(20));
            };
            let took = killed_at.elapsed();
            eprintln!("round {round}: killed the active instance; takeover after {took:?}");
            takeovers.push(took);
            active = next;
        } else {
            eprintln!("round {round}: killed a standby");
        }
        // The killed one comes back, as a standby.
        all[victim] = start();
        standby(&mut all[victim]);
    }
    let deadline = Instant::now() + Duration::from_secs(180);
    while !all_shown(&f, N) {
        assert!(
            Instant::now() < deadline,
            "not everything was delivered in time\n{}",
            all[active].stderr()
        );
        if let Ok(Some(status)) = all[active].child.try_wait() {
            panic!("crier exited: {status}\n{}", all[active].stderr());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    // Every row recorded: nothing is left to send twice.
    let store = pg.store();
    wait_until("every delivery recorded", Duration::from_secs(30), || {
        unsettled(&store) == 0
    });
    for (i, r) in all.into_iter().enumerate() {
        let (status, _, err) = r.terminate();
        assert!(status.success(), "instance {i} stops on SIGTERM\n{err}");
    }
    check_once_in_order(&f, &store, N);
    assert_eq!(
        limit_violations(&f),
        0,
        "N instances together overran a platform limit"
    );
    // Those killed while active are listed as such; the stopped ones left.
    let status = stdout_of(&ws.crier(&["status"]));
    assert_eq!(
        status.matches("died while active").count(),
        takeovers.len(),
        "{status}"
    );
    // The standbys retry every 2 s; the lock is free as soon as the
    // killed process's connection closes.
    let worst = takeovers.iter().max().copied().unwrap_or_default();
    eprintln!("takeover times: {takeovers:?} (worst {worst:?})");
    assert!(worst < Duration::from_secs(5), "takeover took {worst:?}");
    drop(f.rt);
}

/// The active instance loses its connection and, before it reconnects,
/// another session takes the database's instance lock: the old active
/// instance must not go on (it would post beside the new one) and must not
/// limp on failing every call either — it stops with a clear error (exit 1)
/// so a supervisor restarts it as a standby, and the standby delivers the
/// rest, nothing lost or doubled.
#[test]
fn an_instance_that_lost_the_database_to_another_stands_down() {
    let Some(pg) = PgSchema::create("stand_down") else {
        return;
    };
    const N: usize = 30;
    let f = Fakes::start();
    f.fast_limits();
    f.feeds
        .set("/feed.xml", Route::feed(rss(&numbered("s", N))));
    let ws = Workspace::new();
    // Each instance names its connection, so the test can cut A's alone.
    for who in ["a", "b"] {
        let url = format!("{}&application_name=crier_{who}_{}", pg.url, pg.name);
        ws.write(
            &format!("{who}.toml"),
            &format!("{}{}", storage_section(&url), f.config("")),
        );
    }
    let conf = |who: &str| ws.dir.path().join(format!("{who}.toml"));
    let mut a = Running::start(ws.dir.path(), &conf("a"), &[]);
    a.wait_for("A to start", Duration::from_secs(20), |_, e| {
        e.contains("starting")
    });
    let mut b = Running::start(ws.dir.path(), &conf("b"), &[]);
    b.wait_for("B to wait", Duration::from_secs(20), |_, e| {
        e.contains(STANDBY)
    });
    a.wait_for("a first delivery", Duration::from_secs(30), |_, _| {
        f.shown().values().any(|v| !v.is_empty())
    });

    // Cut A's session and take the lock in its place.
    let key = format!("{}/crier-instance", pg.name);
    let mut holder = postgres::Client::connect(&pg.url, postgres::NoTls).expect("connect");
    let app = format!("crier_a_{}", pg.name);
    let start = Instant::now();
    let held_by_test = loop {
        holder
            .execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
                &[&app],
            )
            .expect("terminate");
        let got: bool = holder
            .query_one("SELECT pg_try_advisory_lock(hashtext($1))", &[&key])
            .expect("try lock")
            .get(0);
        if got {
            break true;
        }
        if b.stderr().contains(TAKES_OVER) {
            break false; // B was quicker: as good.
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "A's lock never came free"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let status = loop {
        if let Ok(Some(s)) = a.child.try_wait() {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "A goes on without the lock\n{}",
            a.stderr()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    a.drain();
    let err = a.stderr();
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("this instance stands down"), "{err}");
    if held_by_test {
        let _: bool = holder
            .query_one("SELECT pg_advisory_unlock(hashtext($1))", &[&key])
            .expect("unlock")
            .get(0);
    }
    b.wait_for("B to take over", Duration::from_secs(15), |_, e| {
        e.contains(TAKES_OVER)
    });
    b.wait_for("every delivery", Duration::from_secs(60), |_, _| {
        all_shown(&f, N)
    });
    // Every row recorded: nothing is left to send twice.
    let recorded = pg.store();
    wait_until("every delivery recorded", Duration::from_secs(30), || {
        unsettled(&recorded) == 0
    });
    let (status, _, err) = b.terminate();
    assert!(status.success(), "{err}");
    check_once_in_order(&f, &pg.store(), N);
    drop(f.rt);
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
