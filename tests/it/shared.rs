//! Several `crier run` instances sharing one PostgreSQL database through
//! leases: the work is split, a killed instance's work is taken over
//! within the lease time plus a few seconds, a stalled one's late writes
//! are refused (fencing), and nothing is lost or posted twice.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crier_storage::Store;
use rand::{Rng, SeedableRng};

use crate::daemon::{numbered, rss};
use crate::postgres::{
    PgSchema, all_shown, check_once_in_order, limit_violations, storage_section,
};
use crate::proof::Fakes;
use crate::support::{Running, Workspace, stderr_of, stdout_of, unsettled, wait_until};
use crier_fakes::feed::Route;

/// The lease time the tests run with (`[storage] lease`).
const LEASE: Duration = Duration::from_secs(3);

fn shared_section(url: &str) -> String {
    format!("{}lease = \"{}s\"\n", storage_section(url), LEASE.as_secs())
}

/// Unexpired leases now: (scope, name) → holder.
fn holders(store: &Store) -> Vec<(String, String, String)> {
    let now = chrono::Utc::now().timestamp_millis();
    store
        .leases()
        .expect("leases")
        .into_iter()
        .filter(|l| l.expires_at > now)
        .map(|l| (l.scope, l.name, l.holder))
        .collect()
}

/// Poll `cond` until it holds; on timeout, panic with the leases and the
/// instances' logs.
fn wait_shared(
    what: &str,
    timeout: Duration,
    store: &Store,
    runs: &[&Running],
    mut cond: impl FnMut() -> bool,
) {
    let start = Instant::now();
    while !cond() {
        if start.elapsed() > timeout {
            let logs: Vec<String> = runs
                .iter()
                .map(|r| format!("pid {}:\n{}", r.child.id(), r.stderr()))
                .collect();
            panic!(
                "timed out after {timeout:?} waiting for {what}\nleases: {:?}\n{}",
                holders(store),
                logs.join("\n----\n")
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The pid part of a holder id (`host:pid:started`).
fn pid_of(holder: &str) -> Option<u32> {
    holder.split(':').nth(1)?.parse().ok()
}

/// Every piece of work (the feed, the three targets) has a live lease,
/// none held by `dead`.
fn all_held_without(store: &Store, dead: Option<u32>) -> bool {
    let h = holders(store);
    let names: BTreeSet<(&str, &str)> =
        h.iter().map(|(s, n, _)| (s.as_str(), n.as_str())).collect();
    let want = [
        ("feed", "news"),
        ("target", "tg"),
        ("target", "dc"),
        ("target", "hook"),
    ];
    want.iter().all(|w| names.contains(w)) && h.iter().all(|(_, _, holder)| pid_of(holder) != dead)
}

/// Three instances share one database: the feed and the three targets
/// (three senders: the Telegram bot, the Discord bot, a webhook) are split
/// between them. Random instances are killed (SIGKILL) at random moments
/// and restarted; each time, the killed one's leases are taken over by
/// the others within the lease time plus a few seconds (measured). In the
/// end every article reached every target once, in order (duplicates only
/// where an ambiguous send was recorded), and the fakes saw no rate-limit
/// overrun.
#[test]
fn three_instances_share_the_work_and_survive_random_kills() {
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
        &format!("{}{}", shared_section(&pg.url), f.config("")),
    );
    let seed: u64 = std::env::var("CRIER_TEST_SEED")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    eprintln!("three-instance test seed: {seed} (replay with CRIER_TEST_SEED={seed})");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let start = || {
        let mut r = Running::start(ws.dir.path(), &ws.config(), &[]);
        r.wait_for("an instance to start", Duration::from_secs(20), |_, e| {
            e.contains("starting; the work is shared")
        });
        r
    };
    let mut all: Vec<Running> = (0..3).map(|_| start()).collect();
    let store = pg.store();
    // The work spreads: the three senders end up on three instances.
    let runs: Vec<&Running> = all.iter().collect();
    wait_shared(
        "the targets spread over the three instances",
        Duration::from_secs(30),
        &store,
        &runs,
        || {
            let h = holders(&store);
            let target_holders: BTreeSet<&String> = h
                .iter()
                .filter(|(s, ..)| s == "target")
                .map(|(_, _, holder)| holder)
                .collect();
            target_holders.len() == 3 && all_held_without(&store, None)
        },
    );
    let status = stdout_of(&ws.crier(&["status"]));
    assert!(status.contains("Instances (3):"), "{status}");
    // Each instance says what it holds: the three targets, one each.
    assert_eq!(status.matches("holds ").count(), 3, "{status}");
    for t in ["target tg", "target dc", "target hook"] {
        assert!(status.contains(t), "{t}: {status}");
    }
    for r in &all {
        let pid = format!("pid {}", r.child.id());
        assert!(
            status
                .lines()
                .any(|l| l.contains(&pid) && l.trim_start().starts_with("shared ")),
            "{pid} as shared: {status}"
        );
    }

    let mut failovers = Vec::new();
    for round in 0..ROUNDS {
        std::thread::sleep(Duration::from_millis(rng.random_range(200..1500)));
        let victim = rng.random_range(0..all.len());
        let pid = all[victim].child.id();
        let had: Vec<String> = holders(&store)
            .into_iter()
            .filter(|(.., h)| pid_of(h) == Some(pid))
            .map(|(s, n, _)| format!("{s} {n}"))
            .collect();
        let killed_at = Instant::now();
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
        let _ = all[victim].child.wait();
        // Its work is taken over by the others.
        let runs: Vec<&Running> = all.iter().collect();
        wait_shared(
            "the killed instance's work taken over",
            LEASE + Duration::from_secs(15),
            &store,
            &runs,
            || all_held_without(&store, Some(pid)),
        );
        let took = killed_at.elapsed();
        eprintln!("round {round}: killed pid {pid} holding {had:?}; taken over after {took:?}");
        if !had.is_empty() {
            failovers.push(took);
        }
        all[victim] = start();
    }
    let deadline = Instant::now() + Duration::from_secs(180);
    while !all_shown(&f, N) {
        assert!(
            Instant::now() < deadline,
            "not everything was delivered in time\n{}",
            all.iter()
                .map(|r| r.stderr())
                .collect::<Vec<_>>()
                .join("\n----\n")
        );
        for r in &mut all {
            if let Ok(Some(status)) = r.child.try_wait() {
                panic!("crier exited: {status}\n{}", r.stderr());
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
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
    // A clean stop hands the leases back at once.
    assert!(holders(&store).is_empty(), "{:?}", holders(&store));
    let worst = failovers.iter().max().copied().unwrap_or_default();
    eprintln!("failover times: {failovers:?} (worst {worst:?}, lease {LEASE:?})");
    assert!(
        worst < LEASE + Duration::from_secs(5),
        "failover took {worst:?}"
    );
    drop(f.rt);
}

/// An instance that stalls (SIGSTOP) longer than its leases loses its
/// work to the other; when it wakes up, whatever it was doing is refused
/// by the fencing check (it does not post beside the new holder, its late
/// writes change nothing), it stops those tasks and goes on as a member of
/// the group. Nothing is lost or doubled.
#[test]
fn a_stalled_instance_loses_its_work_and_its_late_writes_are_refused() {
    let Some(pg) = PgSchema::create("stalled") else {
        return;
    };
    const N: usize = 60;
    let f = Fakes::start();
    f.fast_limits();
    f.feeds
        .set("/feed.xml", Route::feed(rss(&numbered("s", N))));
    let ws = Workspace::new();
    ws.write(
        "config.toml",
        &format!("{}{}", shared_section(&pg.url), f.config("")),
    );
    let start = || {
        let mut r = Running::start(ws.dir.path(), &ws.config(), &[]);
        r.wait_for("an instance to start", Duration::from_secs(20), |_, e| {
            e.contains("starting; the work is shared")
        });
        r
    };
    let mut a = start();
    let store = pg.store();
    wait_until("A holds everything", Duration::from_secs(20), || {
        all_held_without(&store, None)
    });
    let mut b = start();
    a.wait_for("a first delivery", Duration::from_secs(30), |_, _| {
        f.shown().values().any(|v| !v.is_empty())
    });
    let a_pid = a.child.id();
    let _ = std::process::Command::new("kill")
        .args(["-STOP", &a_pid.to_string()])
        .status();
    wait_shared(
        "B to take A's work while A is stalled",
        LEASE + Duration::from_secs(15),
        &store,
        &[&b],
        || all_held_without(&store, Some(a_pid)),
    );
    let _ = std::process::Command::new("kill")
        .args(["-CONT", &a_pid.to_string()])
        .status();
    a.wait_for(
        "A to notice its leases were taken",
        Duration::from_secs(15),
        |_, e| e.contains("another took") || e.contains("another instance took over"),
    );
    b.wait_for("every delivery", Duration::from_secs(90), |_, _| {
        all_shown(&f, N)
    });
    wait_until("every delivery recorded", Duration::from_secs(30), || {
        unsettled(&store) == 0
    });
    assert!(
        a.child.try_wait().ok().flatten().is_none(),
        "A goes on (it stops only the work it lost)\n{}",
        a.stderr()
    );
    let (sa, _, ea) = a.terminate();
    let (sb, _, eb) = b.terminate();
    assert!(sa.success(), "{ea}");
    assert!(sb.success(), "{eb}");
    check_once_in_order(&f, &store, N);
    assert_eq!(limit_violations(&f), 0);
    drop(f.rt);
}

/// The Telegram front-end (a `getUpdates` long poll: Telegram answers 409
/// to a second poller) runs on one instance only; when that instance is
/// killed, another takes the front-end over and answers the admins.
#[test]
fn one_instance_runs_the_chat_front_end_and_another_takes_it_over() {
    let Some(pg) = PgSchema::create("frontend") else {
        return;
    };
    const ADMIN: i64 = 4242;
    let admin = crier_fakes::telegram::TgUser::new(ADMIN, "Ada");
    let f = Fakes::start();
    f.tg.add_private(&admin);
    f.feeds
        .set("/feed.xml", Route::feed(rss(&numbered("c", 3))));
    let ws = Workspace::new();
    let config = f.config("").replacen(
        "[telegram]\n",
        &format!("[telegram]\nadmins = [{ADMIN}]\n"),
        1,
    );
    ws.write(
        "config.toml",
        &format!("{}{config}", shared_section(&pg.url)),
    );
    let start = || {
        let mut r = Running::start(ws.dir.path(), &ws.config(), &[]);
        r.wait_for("an instance to start", Duration::from_secs(20), |_, e| {
            e.contains("starting; the work is shared")
        });
        r
    };
    let mut all = vec![start(), start()];
    let store = pg.store();
    let front_end = |store: &Store| {
        holders(store)
            .into_iter()
            .find(|(s, n, _)| s == "frontend" && n == "telegram")
            .and_then(|(.., h)| pid_of(&h))
    };
    let ask = |text: &str, expect: &str| {
        let before = f.tg.bot_posts(ADMIN).len();
        f.tg.user_says(ADMIN, &admin, text);
        let start = Instant::now();
        while !f
            .tg
            .bot_posts(ADMIN)
            .iter()
            .skip(before)
            .any(|m| m.shown.contains(expect))
        {
            let names: Vec<String> =
                f.tg.requests()
                    .iter()
                    .map(|r| format!("{} {}", r.name, r.status))
                    .collect();
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "no answer to {text:?} containing {expect:?}: {:?}\nrequests: {names:?}",
                f.tg.bot_posts(ADMIN)
                    .iter()
                    .map(|m| m.shown.clone())
                    .collect::<Vec<_>>()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    wait_until("a front-end holder", Duration::from_secs(20), || {
        front_end(&store).is_some()
    });
    ask("/status", "Instances (2)");
    let holder = front_end(&store).expect("held");
    // It runs beside the bot's targets: one process sends through the bot.
    let tg_holder = holders(&store)
        .into_iter()
        .find(|(s, n, _)| s == "target" && n == "tg")
        .and_then(|(.., h)| pid_of(&h));
    assert_eq!(tg_holder, Some(holder));
    // Copying a database the instances are using is refused.
    let out = ws.crier(&["migrate", "--from", &pg.url, "--to", "copy.db"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("2 crier instance(s) are running"),
        "{}",
        stderr_of(&out)
    );
    let victim = all
        .iter()
        .position(|r| r.child.id() == holder)
        .expect("one of ours");
    let _ = std::process::Command::new("kill")
        .args(["-KILL", &holder.to_string()])
        .status();
    let _ = all[victim].child.wait();
    all.remove(victim);
    let runs: Vec<&Running> = all.iter().collect();
    wait_shared(
        "the other instance to take the front-end over",
        LEASE + Duration::from_secs(15),
        &store,
        &runs,
        || front_end(&store).is_some_and(|p| p != holder),
    );
    ask("/status", "Crier");
    let conflicts =
        f.tg.requests_to("GetUpdates")
            .iter()
            .filter(|r| r.status == 409)
            .count();
    assert_eq!(conflicts, 0, "two instances polled getUpdates at once");
    for r in all {
        let (status, _, err) = r.terminate();
        assert!(status.success(), "{err}");
    }
    drop(f.rt);
}

/// A WordPress publish hook that reaches an instance which does not watch
/// the feed (a load balancer picks any): that instance asks the holder
/// through the database, and the holder polls at once. The feed's
/// interval is an hour, so only the hook explains the new article.
#[test]
fn a_hook_received_by_another_instance_makes_the_holder_poll_at_once() {
    let Some(pg) = PgSchema::create("hook") else {
        return;
    };
    const SECRET: &str = "wp-hook-0123456789abcdef";
    let f = Fakes::start();
    f.feeds
        .set("/feed.xml", Route::feed(rss(&numbered("h", 2))));
    let ws = Workspace::new();
    let config = f.config("").replacen(
        "interval = \"1s\"\n",
        &format!("interval = \"1h\"\npush = \"off\"\nwordpress_hook_secret = \"{SECRET}\"\n"),
        1,
    );
    let ports = [crate::http::free_port(), crate::http::free_port()];
    let runs: Vec<Running> = ports
        .iter()
        .enumerate()
        .map(|(i, port)| {
            let file = format!("i{i}.toml");
            ws.write(
                &file,
                &format!(
                    "{}\n[http]\nlisten = \"127.0.0.1:{port}\"\n{config}",
                    shared_section(&pg.url)
                ),
            );
            let mut r = Running::start(ws.dir.path(), &ws.dir.path().join(&file), &[]);
            r.wait_for("an instance to start", Duration::from_secs(20), |_, e| {
                e.contains("starting; the work is shared")
            });
            r
        })
        .collect();
    let store = pg.store();
    let refs: Vec<&Running> = runs.iter().collect();
    wait_shared(
        "the baseline poll",
        Duration::from_secs(30),
        &store,
        &refs,
        || {
            store
                .feed_state("news")
                .ok()
                .flatten()
                .is_some_and(|s| s.baseline_done)
        },
    );
    let holder = holders(&store)
        .into_iter()
        .find(|(s, n, _)| s == "feed" && n == "news")
        .and_then(|(.., h)| pid_of(&h))
        .expect("the feed is held");
    let other = runs
        .iter()
        .position(|r| r.child.id() != holder)
        .expect("two instances");
    let hits = f.feeds.hits("/feed.xml");
    f.feeds
        .set("/feed.xml", Route::feed(rss(&numbered("h", 3))));
    // The hook, on the instance that does not watch the feed.
    let mut conn = std::net::TcpStream::connect(("127.0.0.1", ports[other])).expect("connect");
    use std::io::{Read, Write};
    write!(
        conn,
        "POST /hooks/wordpress/news/{SECRET} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut answer = String::new();
    let _ = conn.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 2"), "{answer}");
    wait_shared(
        "the holder to poll the feed",
        Duration::from_secs(5),
        &store,
        &refs,
        || store.article_count("news").unwrap_or(0) == 3,
    );
    assert_eq!(
        f.feeds.hits("/feed.xml"),
        hits + 1,
        "one poll, by the holder"
    );
    for r in runs {
        let (status, _, err) = r.terminate();
        assert!(status.success(), "{err}");
    }
    drop(f.rt);
}
