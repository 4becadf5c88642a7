//! Tests of what the backends must agree on beyond single operations:
//! copying a store, several handles on one database (concurrent ingest,
//! FIFO per target), lost connections, connection errors.

use std::sync::{Arc, Barrier};

use crate::testdb::{PgSchema, each_reopenable};
use crate::*;

fn feed(name: &str) -> FeedState {
    FeedState {
        feed: name.into(),
        url: format!("https://example.com/{name}.xml"),
        fetch_state: "{}".into(),
        ..FeedState::default()
    }
}

fn item(keys: &[&str], hash: &str) -> IncomingArticle {
    IncomingArticle {
        keys: keys.iter().map(|k| k.to_string()).collect(),
        content_hash: hash.into(),
        title: format!("title {hash} — ünïcode"),
        link: Some(format!("https://example.com/{}", keys[0])),
        published_at: Some(1_000),
        payload: format!("{{\"title\":\"{hash}\"}}"),
        refresh_only: false,
    }
}

/// A store with rows in every table: articles under several keys, planned
/// multi-part jobs, sent, retried, failed and retracted rows, target state,
/// audit, alerts, dynamic feeds, a WebSub subscription; enough articles for
/// several copy batches.
fn populate(s: &mut Store) {
    let items: Vec<(IncomingArticle, Vec<Route>)> = (0..620)
        .map(|i| {
            (
                item(
                    &[&format!("guid:{i}"), &format!("link:{i}")],
                    &format!("h{i}"),
                ),
                vec![
                    Route::pending("tg"),
                    Route::with_state("dc", State::Filtered, "rule"),
                ],
            )
        })
        .collect();
    let mut st = feed("f");
    st.baseline_done = true;
    st.last_error = Some("boom".into());
    st.consecutive_failures = 2;
    s.ingest(&st, &items, 10).expect("ingest");
    // Plan the head into two parts and send them.
    let QueueHead::Ready(h) = s.queue_head("tg", 100, false).expect("head") else {
        panic!("no head")
    };
    let part = |p: &str| PlannedPart {
        op: Op::Send,
        payload: Some(p.into()),
        summary: p.into(),
        ref_message: None,
    };
    s.plan_job(h.id, &[part("a"), part("b")], "empty", 11)
        .expect("plan");
    for d in s.deliveries_for_article(h.article_id).expect("rows") {
        if d.target == "tg" {
            s.mark_sending(d.id, 12).expect("sending");
            s.mark_sent(
                d.id,
                Some(&format!("m{}", d.part)),
                Some("https://t.me/x/1"),
                None,
                13,
            )
            .expect("sent");
        }
    }
    let QueueHead::Ready(h2) = s.queue_head("tg", 100, false).expect("head") else {
        panic!("no head")
    };
    s.mark_sending(h2.id, 14).expect("sending");
    s.mark_retry(h2.id, "timeout", 500, true, 15)
        .expect("retry");
    s.mark_failed(h2.id, "gone", 16).expect("failed");
    s.retract(h.article_id, 17).expect("retract");
    s.set_target_disabled("dc", Some("kicked"), 18)
        .expect("disable");
    s.set_target_address("tg", "-100", 19).expect("address");
    s.set_target_paused("tg", Some("by ann"), 20)
        .expect("pause");
    for at in 0..3 {
        s.audit(&AuditEntry {
            id: 0,
            at,
            platform: "telegram".into(),
            user_id: "42".into(),
            user_name: Some("ann".into()),
            command: format!("/status {at}"),
            outcome: "ok".into(),
        })
        .expect("audit");
    }
    s.open_alert("target:dc", "bot kicked", 21).expect("alert");
    s.put_platform_value("telegraph:token", "tok", 22)
        .expect("platform value");
    s.add_dynamic_feed(&DynamicFeed {
        name: "blog".into(),
        url: "https://blog.example/feed".into(),
        targets: vec!["tg".into(), "dc".into()],
        interval_ms: 60_000,
        added_by: "telegram:42".into(),
        added_at: 22,
    })
    .expect("dynamic feed");
    s.put_subscription(
        &Subscription {
            feed: "f".into(),
            hub: "http://hub.example/".into(),
            topic: "https://example.com/f.xml".into(),
            secret: "s3cret".into(),
            callback_id: "cb".into(),
            state: SubState::Active,
            lease_seconds: Some(60),
            expires_at: Some(60_000),
            requested_at: 1,
            verified_at: Some(2),
            last_push_at: None,
            pushes: 3,
            reason: None,
        },
        23,
    )
    .expect("subscription");
}

fn copy_and_compare(src: &Store, mut dst: Store) {
    let mut calls: Vec<(String, u64, u64)> = Vec::new();
    let report = src
        .copy_to(&mut dst, &mut |t, done, total| {
            calls.push((t.to_string(), done, total))
        })
        .expect("copy");
    let before = src.dump().expect("dump source");
    for (table, rows) in &before {
        assert!(!rows.is_empty(), "the test data fills {table}");
    }
    assert_eq!(dst.dump().expect("dump destination"), before);
    assert_eq!(
        report.tables,
        before
            .iter()
            .map(|(t, r)| (t.clone(), r.len() as u64))
            .collect::<Vec<_>>()
    );
    // Batches: the deliveries are reported in steps, ending at the total.
    let steps: Vec<&(String, u64, u64)> = calls.iter().filter(|c| c.0 == "deliveries").collect();
    assert!(steps.len() >= 3, "{steps:?}");
    let total = before
        .iter()
        .find(|t| t.0 == "deliveries")
        .map_or(0, |t| t.1.len() as u64);
    assert!(total > 1240, "{total}");
    assert!(steps.iter().all(|c| c.2 == total));
    assert_eq!(steps.last().map(|c| c.1), Some(total));
    // The queues read the same.
    for t in ["tg", "dc"] {
        assert_eq!(
            format!("{:?}", src.queue_head(t, 100, true).expect("head")),
            format!("{:?}", dst.queue_head(t, 100, true).expect("head")),
        );
        assert_eq!(
            src.pending_posts_after(t, 0, 100, 1000).expect("src"),
            dst.pending_posts_after(t, 0, 100, 1000).expect("dst")
        );
    }
    assert_eq!(src.scheduled(0).expect("s"), dst.scheduled(0).expect("d"));
    assert_eq!(
        src.counts(None, 0).expect("c"),
        dst.counts(None, 0).expect("c")
    );
    // New ids continue after the copied ones.
    let max_delivery = src.log(&LogQuery::default()).expect("log")[0].delivery.id;
    let out = dst
        .ingest_one(
            "f",
            &item(&["guid:new"], "new"),
            &[Route::pending("tg")],
            30,
        )
        .expect("ingest after copy");
    assert!(out.article_id() > 620, "{out:?}");
    let rows = dst.deliveries_for_article(out.article_id()).expect("rows");
    assert!(rows[0].id > max_delivery && rows[0].seq > max_delivery);
    dst.audit(&AuditEntry {
        id: 0,
        at: 9,
        platform: "cli".into(),
        user_id: "-".into(),
        user_name: None,
        command: "after".into(),
        outcome: "ok".into(),
    })
    .expect("audit after copy");
    assert_eq!(dst.audit_log(1).expect("audit")[0].id, 4);
    // A second copy into a store with rows is refused.
    match src.copy_to(&mut dst, &mut |_, _, _| {}) {
        Err(Error::NotEmpty(t)) => assert_eq!(t, "feeds_state"),
        other => panic!("expected NotEmpty, got {other:?}"),
    }
}

#[test]
fn a_store_copies_into_an_empty_one_with_every_row_and_id() {
    let mut src = Store::open_in_memory().expect("source");
    populate(&mut src);
    copy_and_compare(&src, Store::open_in_memory().expect("SQLite destination"));
    if let Some(db) = PgSchema::create() {
        copy_and_compare(&src, db.open());
    }
}

#[test]
fn a_failed_copy_leaves_the_destination_empty() {
    let mut src = Store::open_in_memory().expect("source");
    populate(&mut src);
    // A value PostgreSQL refuses (text in an integer column, which SQLite
    // keeps): the copy fails and nothing stays behind.
    src.conn
        .sqlite()
        .expect("sqlite")
        .execute("UPDATE audit SET at = 'not a number' WHERE id = 3", [])
        .expect("damage");
    if let Some(db) = PgSchema::create() {
        let mut dst = db.open();
        assert!(src.copy_to(&mut dst, &mut |_, _, _| {}).is_err());
        for (table, rows) in dst.dump().expect("dump") {
            assert!(rows.is_empty(), "{table} has rows after a failed copy");
        }
    }
}

#[test]
fn another_handles_commit_changes_data_version() {
    each_reopenable(|open| {
        let a = open();
        let mut b = open();
        let v1 = a.data_version().expect("v1");
        b.put_feed_state(&feed("x"), 1).expect("write");
        assert_ne!(a.data_version().expect("v2"), v1);
    });
}

/// Two stores on one PostgreSQL schema ingest into one target at once
/// (some articles both see) while a third consumes the queue like the
/// engine: one article per key, unique `seq`s, and the consumer never sees
/// a lower `seq` after a higher one (an enqueue that committed late would
/// be skipped by a queue that had moved on).
#[test]
fn concurrent_ingests_keep_the_queue_fifo_and_articles_unique() {
    let Some(db) = PgSchema::create() else { return };
    const N: usize = 60;
    let writers = 3;
    let start = Arc::new(Barrier::new(writers + 1));
    let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    std::thread::scope(|scope| {
        for w in 0..writers {
            let mut s = db.open();
            let start = start.clone();
            let done = done.clone();
            scope.spawn(move || {
                start.wait();
                for i in 0..N {
                    let own = item(&[&format!("w{w}:{i}")], &format!("w{w}-{i}"));
                    let shared = item(&[&format!("shared:{i}")], &format!("s{i}"));
                    // Its own feed (only the target's lock orders these)
                    // and the shared one (two polls of one feed).
                    // The shared one goes to another target per writer, so
                    // only the feed's lock keeps it one article.
                    for (f, it, t) in [
                        (format!("own{w}"), &own, "t".to_string()),
                        ("f".to_string(), &shared, format!("s{w}")),
                    ] {
                        let mut attempt = 0;
                        loop {
                            match s.ingest(
                                &feed(&f),
                                &[(it.clone(), vec![Route::pending(t.clone())])],
                                i as i64,
                            ) {
                                Ok(_) => break,
                                Err(e) if e.is_transient() && attempt < 5 => attempt += 1,
                                Err(e) => panic!("ingest: {e}"),
                            }
                        }
                    }
                }
                done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            });
        }
        let mut reader = db.open();
        start.wait();
        let mut last = 0;
        let mut consumed = 0;
        loop {
            let finished = done.load(std::sync::atomic::Ordering::SeqCst) == writers;
            match reader.queue_head("t", 1_000_000, false).expect("head") {
                QueueHead::Ready(d) => {
                    assert!(d.seq > last, "seq {} after {last}: FIFO broken", d.seq);
                    last = d.seq;
                    reader.mark_sending(d.id, 1).expect("sending");
                    reader
                        .mark_sent(d.id, Some("m"), None, None, 2)
                        .expect("sent");
                    consumed += 1;
                }
                _ if finished => break,
                _ => std::thread::yield_now(),
            }
        }
        assert_eq!(consumed, N * writers, "every article posted once");
    });
    let s = db.open();
    assert_eq!(
        s.article_count("f").expect("count"),
        N as u64,
        "one article per shared key"
    );
    for w in 0..writers {
        assert_eq!(
            s.article_count(&format!("own{w}")).expect("count"),
            N as u64
        );
    }
    let dump = s.dump().expect("dump");
    let deliveries = &dump.iter().find(|t| t.0 == "deliveries").expect("table").1;
    let mut seqs: Vec<i64> = deliveries
        .iter()
        .map(|r| match r[1] {
            Value::Int(i) => i,
            ref v => panic!("seq {v:?}"),
        })
        .collect();
    let n = seqs.len();
    seqs.sort();
    seqs.dedup();
    assert_eq!(seqs.len(), n, "seqs are unique");
}

#[test]
fn an_unreachable_server_is_named_without_the_password() {
    let e = match Store::open_url("postgres://ann:hunter2@127.0.0.1:1/crier") {
        Err(e) => e,
        Ok(_) => panic!("nothing listens on port 1"),
    };
    let text = e.to_string();
    assert!(
        text.starts_with("cannot connect to PostgreSQL at 127.0.0.1:1/crier: "),
        "{text}"
    );
    assert!(!text.contains("hunter2") && !format!("{e:?}").contains("hunter2"));
    assert!(e.is_transient());
    assert!(matches!(
        Store::open_url("postgres://x@h:notaport/db"),
        Err(Error::BadUrl(_))
    ));
}

#[test]
fn sqlite_urls_open_files() {
    let dir = tempfile::tempdir().expect("dir");
    for url in [
        dir.path().join("a.db").display().to_string(),
        format!("sqlite:{}", dir.path().join("b.db").display()),
    ] {
        let s = Store::open_url(&url).expect("open");
        assert_eq!(s.backend(), Backend::Sqlite);
    }
}

#[test]
fn a_lost_connection_is_transient_and_the_next_call_reconnects() {
    let Some(db) = PgSchema::create() else { return };
    let mut s = db.open();
    assert_eq!(s.backend(), Backend::Postgres);
    s.put_feed_state(&feed("a"), 1).expect("write");
    let pid: i64 = s
        .conn
        .query_one("SELECT pg_backend_pid() AS pid", params![], |r| {
            r.get("pid")
        })
        .expect("pid");
    let killer = db.open();
    killer
        .conn
        .execute("SELECT pg_terminate_backend(?1)", params![pid])
        .expect("terminate");
    std::thread::sleep(std::time::Duration::from_millis(200));
    let mut ok = false;
    for _ in 0..2 {
        match s.feed_states() {
            Ok(v) => {
                assert_eq!(v.len(), 1);
                ok = true;
                break;
            }
            Err(e) => assert!(e.is_transient(), "{e}"),
        }
    }
    assert!(ok, "the store reconnected");
    s.check_writable()
        .expect("the probe passes and leaves nothing");
    assert_eq!(s.dump().expect("dump")[0].1.len(), 1);
    s.put_feed_state(&feed("b"), 2)
        .expect("write after reconnect");
}

fn backend_pid(s: &Store) -> i64 {
    s.conn
        .query_one("SELECT pg_backend_pid() AS pid", params![], |r| {
            r.get("pid")
        })
        .expect("pid")
}

fn terminate(db: &PgSchema, pid: i64) {
    db.open()
        .conn
        .execute("SELECT pg_terminate_backend(?1)", params![pid])
        .expect("terminate");
    std::thread::sleep(std::time::Duration::from_millis(200));
}

#[test]
fn one_store_holds_the_instance_lock_until_it_is_dropped() {
    let Some(db) = PgSchema::create() else { return };
    let mut a = db.open();
    let mut b = db.open();
    assert!(a.try_instance_lock().expect("a"), "the first one gets it");
    assert!(
        a.try_instance_lock().expect("a again"),
        "held: asking again is true"
    );
    assert!(!b.try_instance_lock().expect("b"), "the second one waits");
    drop(a);
    let mut got = false;
    for _ in 0..50 {
        if b.try_instance_lock().expect("b") {
            got = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(got, "a closed session frees the lock");
    // Another schema is another database: its lock is its own.
    let Some(other) = PgSchema::create() else {
        return;
    };
    assert!(other.open().try_instance_lock().expect("other schema"));
}

#[test]
fn a_reconnect_takes_the_instance_lock_again_or_stands_down() {
    let Some(db) = PgSchema::create() else { return };
    let mut a = db.open();
    assert!(a.try_instance_lock().expect("lock"));
    a.put_feed_state(&feed("a"), 1).expect("write");
    // Lost connection, nobody else waiting: the next call reconnects and
    // holds the lock again (a third handle cannot take it).
    terminate(&db, backend_pid(&a));
    let mut ok = false;
    for _ in 0..2 {
        match a.feed_states() {
            Ok(_) => {
                ok = true;
                break;
            }
            Err(e) => assert!(e.is_transient(), "{e}"),
        }
    }
    assert!(ok, "reconnected");
    assert!(
        !db.open().try_instance_lock().expect("c"),
        "a holds it again"
    );
    // Lost connection while a standby takes the lock: a must not write.
    terminate(&db, backend_pid(&a));
    let mut standby = db.open();
    assert!(
        standby.try_instance_lock().expect("standby"),
        "the standby takes over"
    );
    let mut stood_down = false;
    for _ in 0..2 {
        match a.put_feed_state(&feed("late"), 9) {
            Err(crate::Error::LostInstanceLock) => {
                stood_down = true;
                break;
            }
            Err(e) => assert!(e.is_transient(), "{e}"),
            Ok(()) => panic!("wrote without the instance lock"),
        }
    }
    assert!(stood_down, "the old active stands down");
    let names: Vec<String> = standby
        .feed_states()
        .expect("states")
        .into_iter()
        .map(|f| f.feed)
        .collect();
    assert!(!names.contains(&"late".to_string()), "{names:?}");
}

#[test]
fn a_listener_hears_other_sessions_changes_but_not_its_own() {
    use crate::Change;
    let Some(db) = PgSchema::create() else { return };
    let mut daemon = db.open();
    let mut heard = daemon.change_listener().expect("PostgreSQL listens");
    let wait = std::time::Duration::from_millis(300);
    let own = daemon.session_pid();
    assert!(own.is_some());
    assert_eq!(heard.wait(wait, own).expect("connect"), Change::Reconnected);
    assert_eq!(heard.wait(wait, own).expect("quiet"), Change::Quiet);
    // The store's own writes are not news.
    daemon
        .set_target_paused("tg", Some("by the daemon"), 1)
        .expect("pause");
    assert_eq!(heard.wait(wait, own).expect("own"), Change::Quiet);
    // Another process's are, at once.
    let mut cli = db.open();
    cli.set_target_paused("tg", None, 2).expect("resume");
    let t = std::time::Instant::now();
    assert_eq!(
        heard
            .wait(std::time::Duration::from_secs(5), own)
            .expect("other"),
        Change::Changed
    );
    assert!(
        t.elapsed() < std::time::Duration::from_secs(2),
        "{:?}",
        t.elapsed()
    );
    // A cut listening session reconnects and says so.
    let pid: i64 = cli
        .conn
        .query_one(
            "SELECT CAST(pid AS BIGINT) AS pid FROM pg_stat_activity WHERE query = 'LISTEN \"crier_' || left(md5(current_schema()), 16) || '\"'",
            params![],
            |r| r.get("pid"),
        )
        .expect("the listener's session");
    terminate(&db, pid);
    let mut saw = Vec::new();
    for _ in 0..3 {
        match heard.wait(wait, own) {
            Ok(c) => saw.push(c),
            Err(e) => assert!(e.is_transient(), "{e}"),
        }
    }
    assert!(saw.contains(&Change::Reconnected), "{saw:?}");
    assert!(
        Store::open_in_memory()
            .expect("sqlite")
            .change_listener()
            .is_none()
    );
}

#[test]
fn instances_beat_change_role_and_are_forgotten() {
    crate::testdb::each(|mut s| {
        let row = |id: &str, role: &str, started: i64, seen: i64| crate::InstanceRow {
            id: id.into(),
            host: "h".into(),
            pid: 7,
            role: role.into(),
            version: "1".into(),
            started_at: started,
            seen_at: seen,
        };
        s.heartbeat(&row("a", "active", 1, 10)).expect("a");
        s.heartbeat(&row("b", "standby", 2, 10)).expect("b");
        s.heartbeat(&row("old", "standby", 0, 3)).expect("old");
        let ids = |s: &Store| -> Vec<(String, String)> {
            s.instances()
                .expect("instances")
                .into_iter()
                .map(|r| (r.id, r.role))
                .collect()
        };
        assert_eq!(ids(&s)[0], ("a".into(), "active".into()));
        // b takes over: its role changes, its start does not.
        s.heartbeat(&row("b", "active", 99, 20)).expect("b active");
        let b = s.instances().expect("i").into_iter().find(|r| r.id == "b");
        assert_eq!(
            b.map(|r| (r.role, r.started_at, r.seen_at)),
            Some(("active".into(), 2, 20))
        );
        s.claim_active("b").expect("claim");
        assert!(
            ids(&s).contains(&("a".into(), "gone".into())),
            "a died holding the lock"
        );
        s.forget_instance("a", 5).expect("forget");
        assert_eq!(ids(&s), vec![("b".into(), "active".into())]);
    });
}
