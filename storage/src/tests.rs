use super::*;

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
        title: format!("title {hash}"),
        link: Some(format!("https://example.com/{}", keys[0])),
        published_at: Some(1_000),
        payload: format!("{{\"title\":\"{hash}\"}}"),
        refresh_only: false,
    }
}

fn head(s: &Store, target: &str) -> Delivery {
    match s.queue_head(target, 10_000, false).expect("head") {
        QueueHead::Ready(d) => d,
        other => panic!("expected a ready head, got {other:?}"),
    }
}

fn plan_one(s: &mut Store, d: &Delivery, payload: &str) {
    s.plan_job(
        d.id,
        &[PlannedPart {
            op: d.op,
            payload: Some(payload.into()),
            summary: payload.into(),
            ref_message: d.ref_message.clone(),
        }],
        "empty",
        2,
    )
    .expect("plan");
}

#[test]
fn migrations_are_versioned_and_idempotent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("crier.db");
    {
        let s = Store::open(&path).expect("open");
        assert_eq!(
            s.schema_version().expect("v"),
            Store::latest_schema_version()
        );
    }
    // Re-opening applies nothing and keeps data.
    let mut s = Store::open(&path).expect("reopen");
    s.put_feed_state(&feed("a"), 1).expect("put");
    drop(s);
    let s = Store::open(&path).expect("reopen 2");
    assert_eq!(
        s.schema_version().expect("v"),
        Store::latest_schema_version()
    );
    assert!(s.feed_state("a").expect("get").is_some());
    let mode: String = s
        .conn
        .sqlite()
        .expect("sqlite")
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .expect("mode");
    assert_eq!(mode, "wal");
}

#[test]
fn newer_schema_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("crier.db");
    {
        let s = Store::open(&path).expect("open");
        s.conn
            .sqlite()
            .expect("sqlite")
            .pragma_update(None, "user_version", 999)
            .expect("bump");
    }
    match Store::open(&path) {
        Err(Error::SchemaTooNew { found: 999, .. }) => {}
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("a newer schema must be refused"),
    }
}

#[test]
fn new_article_creates_rows_per_route_and_feed_state_atomically() {
    crate::testdb::each(|mut s| {
        let mut st = feed("f");
        st.fetch_state = r#"{"etag":"x"}"#.into();
        let out = s
            .ingest(
                &st,
                &[(
                    item(&["guid:1", "link:a"], "h1"),
                    vec![
                        Route::pending("tg"),
                        Route::with_state("dc", State::Filtered, "exclude category Sports"),
                    ],
                )],
                5,
            )
            .expect("ingest");
        assert!(matches!(out[0], Ingested::New { .. }));
        assert_eq!(
            s.feed_state("f").expect("fs").expect("some").fetch_state,
            r#"{"etag":"x"}"#
        );
        let rows = s.deliveries_for_article(out[0].article_id()).expect("rows");
        assert_eq!(rows.len(), 2);
        let dc = rows.iter().find(|r| r.target == "dc").expect("dc row");
        assert_eq!(dc.state, State::Filtered);
        assert_eq!(dc.reason.as_deref(), Some("exclude category Sports"));
        let tg = rows.iter().find(|r| r.target == "tg").expect("tg row");
        assert_eq!(tg.state, State::Pending);
        assert_eq!(tg.seq, tg.id);
        assert!(tg.needs_plan());
    });
}

#[test]
fn same_article_under_any_key_is_not_new() {
    crate::testdb::each(|mut s| {
        let st = feed("f");
        let a = s
            .ingest(
                &st,
                &[(item(&["guid:1", "link:a"], "h1"), vec![Route::pending("t")])],
                1,
            )
            .expect("1")[0]
            .article_id();
        // The feed stopped sending GUIDs: the link still matches.
        let out = s
            .ingest(
                &st,
                &[(item(&["link:a"], "h1"), vec![Route::pending("t")])],
                2,
            )
            .expect("2");
        assert_eq!(out[0], Ingested::Unchanged { article_id: a });
        // A new key of a known article is remembered as an alias.
        let out = s
            .ingest(
                &st,
                &[(
                    item(&["link:a", "hash:zz"], "h1"),
                    vec![Route::pending("t")],
                )],
                3,
            )
            .expect("3");
        assert_eq!(out[0].article_id(), a);
        assert_eq!(
            s.article_by_key("f", "hash:zz")
                .expect("by key")
                .map(|x| x.id),
            Some(a)
        );
        // Keys are per feed: another feed's same key is another article.
        let other = s
            .ingest(
                &feed("g"),
                &[(item(&["guid:1"], "h1"), vec![Route::pending("t")])],
                4,
            )
            .expect("4");
        assert!(matches!(other[0], Ingested::New { .. }));
        assert_eq!(
            s.deliveries_for_article(a).expect("rows").len(),
            1,
            "no second delivery for a seen article"
        );
    });
}

#[test]
fn update_queues_edit_only_where_the_post_was_started() {
    crate::testdb::each(|mut s| {
        let st = feed("f");
        let a = s
            .ingest(
                &st,
                &[(
                    item(&["guid:1"], "h1"),
                    vec![Route::pending("sent"), Route::pending("waiting")],
                )],
                1,
            )
            .expect("ingest")[0]
            .article_id();
        let d = head(&s, "sent");
        plan_one(&mut s, &d, "p");
        s.mark_sending(d.id, 3).expect("sending");
        s.mark_sent(d.id, Some("c:1"), None, None, 4).expect("sent");

        let out = s
            .ingest(&st, &[(item(&["guid:1"], "h2"), vec![])], 5)
            .expect("update");
        assert_eq!(
            out[0],
            Ingested::Updated {
                article_id: a,
                revision: 1,
                edit_targets: vec!["sent".into()]
            }
        );
        // A second update supersedes the first unstarted edit job.
        s.ingest(&st, &[(item(&["guid:1"], "h3"), vec![])], 6)
            .expect("update 2");
        let rows = s.deliveries_for_article(a).expect("rows");
        let edits: Vec<_> = rows.iter().filter(|r| r.action == Action::Edit).collect();
        assert_eq!(edits.len(), 2);
        assert_eq!(edits[0].state, State::Skipped);
        assert_eq!(edits[1].state, State::Pending);
        assert_eq!(edits[1].revision, 2);
        // The unsent target renders the latest content when its turn comes.
        let art = s.article(a).expect("a").expect("some");
        assert_eq!(art.content_hash, "h3");
        assert_eq!(art.revision, 2);
    });
}

#[test]
fn queue_is_fifo_by_seq_then_part_and_parts_survive_planning() {
    crate::testdb::each(|mut s| {
        let st = feed("f");
        s.ingest(
            &st,
            &[
                (item(&["guid:1"], "h1"), vec![Route::pending("t")]),
                (item(&["guid:2"], "h2"), vec![Route::pending("t")]),
            ],
            1,
        )
        .expect("ingest");
        let first = head(&s, "t");
        s.plan_job(
            first.id,
            &[
                PlannedPart {
                    op: Op::Send,
                    payload: Some("p0".into()),
                    summary: "0".into(),
                    ref_message: None,
                },
                PlannedPart {
                    op: Op::Send,
                    payload: Some("p1".into()),
                    summary: "1".into(),
                    ref_message: None,
                },
            ],
            "empty",
            2,
        )
        .expect("plan");
        let h = head(&s, "t");
        assert_eq!((h.id, h.part), (first.id, 0));
        s.mark_sending(h.id, 3).expect("sending");
        s.mark_sent(h.id, Some("m0"), None, None, 3).expect("sent");
        let h = head(&s, "t");
        assert_eq!(h.part, 1, "second part of the first article comes next");
        assert_eq!(h.seq, first.seq);
        assert_eq!(h.payload.as_deref(), Some("p1"));
        s.mark_sending(h.id, 4).expect("sending");
        s.mark_sent(h.id, Some("m1"), None, None, 4).expect("sent");
        let h = head(&s, "t");
        assert!(h.seq > first.seq);
        assert_eq!(
            s.posted_messages(first.article_id, "t")
                .expect("posted")
                .iter()
                .map(|p| p.message_id.as_str())
                .collect::<Vec<_>>(),
            vec!["m0", "m1"]
        );
    });
}

#[test]
fn failed_rows_hold_the_line_only_when_asked() {
    crate::testdb::each(|mut s| {
        let st = feed("f");
        s.ingest(
            &st,
            &[
                (item(&["guid:1"], "h1"), vec![Route::pending("t")]),
                (item(&["guid:2"], "h2"), vec![Route::pending("t")]),
            ],
            1,
        )
        .expect("ingest");
        let first = head(&s, "t");
        s.mark_sending(first.id, 2).expect("sending");
        s.mark_failed(first.id, "boom", 2).expect("failed");
        let next = head(&s, "t");
        assert_ne!(next.id, first.id);
        match s.queue_head("t", 10, true).expect("head") {
            QueueHead::Blocked(d) => assert_eq!(d.id, first.id),
            other => panic!("expected blocked, got {other:?}"),
        }
        let (n, targets) = s.requeue_failed(None, Some("t"), 3).expect("requeue");
        assert_eq!((n, targets), (1, vec!["t".to_string()]));
        let h = head(&s, "t");
        assert_eq!((h.id, h.attempts), (first.id, 0));
    });
}

#[test]
fn scheduled_rows_wait_without_blocking_others() {
    crate::testdb::each(|mut s| {
        let st = feed("f");
        let mut later = Route::pending("t");
        later.not_before = Some(50_000);
        s.ingest(
            &st,
            &[
                (item(&["guid:1"], "h1"), vec![later]),
                (item(&["guid:2"], "h2"), vec![Route::pending("t")]),
            ],
            1,
        )
        .expect("ingest");
        let h = head(&s, "t");
        let a2 = s.article_by_key("f", "guid:2").expect("k").expect("a2");
        assert_eq!(h.article_id, a2.id);
        s.mark_sending(h.id, 2).expect("sending");
        s.mark_sent(h.id, Some("m"), None, None, 2).expect("sent");
        assert_eq!(
            s.queue_head("t", 10_000, false).expect("head"),
            QueueHead::Empty {
                next_due: Some(50_000)
            }
        );
        assert!(matches!(
            s.queue_head("t", 50_000, false).expect("head"),
            QueueHead::Ready(_)
        ));
    });
}

#[test]
fn sending_rows_survive_a_crash_and_are_reported() {
    crate::testdb::each_reopenable(|open| {
        let id;
        {
            let mut s = open();
            s.ingest(
                &feed("f"),
                &[(item(&["guid:1"], "h1"), vec![Route::pending("t")])],
                1,
            )
            .expect("ingest");
            let h = head(&s, "t");
            plan_one(&mut s, &h, "p");
            id = h.id;
            assert_eq!(s.mark_sending(id, 2).expect("sending"), 1);
            // "crash": drop without marking.
        }
        let mut s = open();
        let stale = s.stale_sending().expect("stale");
        assert_eq!(stale.iter().map(|d| d.id).collect::<Vec<_>>(), vec![id]);
        s.resend_ambiguous(id, "unknown outcome after restart", 3)
            .expect("resend");
        let d = s.delivery(id).expect("d").expect("some");
        assert_eq!(d.state, State::Pending);
        assert!(d.ambiguous);
        assert_eq!(d.payload.as_deref(), Some("p"), "the rendered part is kept");
    });
}

#[test]
fn sent_rows_are_never_sent_again() {
    crate::testdb::each(|mut s| {
        s.ingest(
            &feed("f"),
            &[(item(&["guid:1"], "h1"), vec![Route::pending("t")])],
            1,
        )
        .expect("ingest");
        let h = head(&s, "t");
        s.mark_sending(h.id, 2).expect("sending");
        s.mark_sent(h.id, Some("m"), None, None, 2).expect("sent");
        assert!(matches!(
            s.mark_sending(h.id, 3),
            Err(Error::NoSuchDelivery(_))
        ));
        assert_eq!(
            s.queue_head("t", 10, false).expect("head"),
            QueueHead::Empty { next_due: None }
        );
    });
}

#[test]
fn retract_skips_unsent_and_queues_deletes_where_shown() {
    crate::testdb::each(|mut s| {
        let a = s
            .ingest(
                &feed("f"),
                &[(
                    item(&["guid:1"], "h1"),
                    vec![Route::pending("shown"), Route::pending("unsent")],
                )],
                1,
            )
            .expect("ingest")[0]
            .article_id();
        let h = head(&s, "shown");
        plan_one(&mut s, &h, "p");
        s.mark_sending(h.id, 2).expect("sending");
        s.mark_sent(h.id, Some("m"), None, None, 2).expect("sent");
        let targets = s.retract(a, 3).expect("retract");
        assert_eq!(targets, vec!["shown".to_string()]);
        let unsent = head_or_none(&s, "unsent");
        assert!(unsent.is_none(), "the unsent post is skipped");
        let del = head(&s, "shown");
        assert_eq!((del.action, del.op), (Action::Delete, Op::Delete));
        // Planning the delete names the message; sending it clears posted_messages.
        s.plan_job(
            del.id,
            &[PlannedPart {
                op: Op::Delete,
                payload: None,
                summary: "delete m".into(),
                ref_message: Some("m".into()),
            }],
            "nothing",
            4,
        )
        .expect("plan");
        s.mark_sending(del.id, 5).expect("sending");
        s.mark_sent(del.id, None, None, None, 5).expect("sent");
        assert!(s.posted_messages(a, "shown").expect("posted").is_empty());
        // Later updates of a retracted article queue nothing.
        let out = s
            .ingest(&feed("f"), &[(item(&["guid:1"], "h9"), vec![])], 6)
            .expect("update");
        assert_eq!(out[0], Ingested::Unchanged { article_id: a });
    });
}

fn head_or_none(s: &Store, target: &str) -> Option<Delivery> {
    match s.queue_head(target, 10_000, false).expect("head") {
        QueueHead::Ready(d) => Some(d),
        _ => None,
    }
}

#[test]
fn target_state_round_trips() {
    crate::testdb::each(|mut s| {
        assert!(s.target_state("t").expect("get").is_none());
        assert!(
            s.set_target_disabled("t", Some("bot was kicked"), 1)
                .expect("disable")
        );
        assert!(
            !s.set_target_disabled("t", Some("bot was kicked"), 2)
                .expect("disable again"),
            "no change the second time"
        );
        s.set_target_address("t", "-100123", 3).expect("addr");
        let st = s.target_state("t").expect("get").expect("some");
        assert_eq!(st.disabled_reason.as_deref(), Some("bot was kicked"));
        assert_eq!(st.address_override.as_deref(), Some("-100123"));
        assert!(s.set_target_disabled("t", None, 4).expect("enable"));
    });
}

#[test]
fn log_filters_and_counts() {
    crate::testdb::each(|mut s| {
        s.ingest(
            &feed("f"),
            &[
                (
                    item(&["guid:1"], "h1"),
                    vec![Route::pending("a"), Route::pending("b")],
                ),
                (
                    item(&["guid:2"], "h2"),
                    vec![
                        Route::pending("a"),
                        Route::with_state("b", State::Filtered, "rule"),
                    ],
                ),
            ],
            1,
        )
        .expect("ingest");
        let h = head(&s, "a");
        s.mark_sending(h.id, 2).expect("sending");
        s.mark_sent(h.id, Some("m"), None, None, 2).expect("sent");
        let all = s.log(&LogQuery::default()).expect("log");
        assert_eq!(all.len(), 4);
        let b = s
            .log(&LogQuery {
                target: Some("b".into()),
                state: Some(State::Filtered),
                ..LogQuery::default()
            })
            .expect("log b");
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].title, "title h2");
        let c = s.counts(None, 0).expect("counts");
        assert_eq!(
            c,
            Counts {
                queued: 2,
                sent: 1,
                failed: 0,
                filtered: 1,
                skipped: 0
            }
        );
        assert_eq!(s.posts_sent_since("a", 0).expect("n"), 1);
    });
}

/// A database written before the backend layer (same migrations, rows
/// inserted the old way) opens and works unchanged.
#[test]
fn an_existing_sqlite_file_opens_unchanged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("crier.db");
    {
        let c = rusqlite::Connection::open(&path).expect("raw open");
        for (i, m) in schema::MIGRATIONS.iter().enumerate() {
            c.execute_batch(m).expect("migration");
            c.pragma_update(None, "user_version", (i + 1) as i64)
                .expect("version");
        }
        c.execute_batch(
            "INSERT INTO articles (feed, key, title, content_hash, payload, first_seen_at, updated_at)
               VALUES ('f', 'guid:1', 'old', 'h1', '{}', 1, 1);
             INSERT OR IGNORE INTO article_keys (feed, key, article_id) VALUES ('f', 'guid:1', last_insert_rowid());
             INSERT INTO deliveries (seq, article_id, target, action, state, next_attempt_at, ambiguous, created_at, updated_at)
               VALUES (0, 1, 't', 'post', 'pending', 1, 1, 1, 1);
             UPDATE deliveries SET seq = id WHERE id = last_insert_rowid();",
        )
        .expect("old rows");
    }
    let mut s = Store::open(&path).expect("open");
    assert_eq!(
        s.schema_version().expect("v"),
        schema::MIGRATIONS.len() as i64
    );
    let h = head(&s, "t");
    assert_eq!((h.seq, h.ambiguous, h.state), (1, true, State::Pending));
    let out = s
        .ingest(
            &feed("f"),
            &[
                (item(&["guid:1"], "h1"), vec![Route::pending("t")]),
                (item(&["guid:2"], "h2"), vec![Route::pending("t")]),
            ],
            2,
        )
        .expect("ingest");
    assert_eq!(out[0], Ingested::Unchanged { article_id: 1 });
    let rows = s.deliveries_for_article(out[1].article_id()).expect("rows");
    assert_eq!(rows[0].seq, 2, "new jobs queue after the old ones");
}

/// A poll that read the feed's row before an admin paused the feed writes
/// its result after the pause: the pause stays (no lost update). Only a
/// resume clears it; a poll may still pause (a permanent failure).
#[test]
fn a_poll_written_after_a_pause_does_not_undo_it() {
    crate::testdb::each(|mut s| {
        let mut st = feed("f");
        st.consecutive_failures = 3;
        s.put_feed_state(&st, 1).expect("first poll");
        let stale = s.feed_state("f").expect("read").expect("row");
        assert!(
            !s.set_feed_paused("f", Some("paused by admin"), 2)
                .expect("pause")
        );
        let mut polled = stale.clone();
        polled.next_poll_at = Some(99);
        s.put_feed_state(&polled, 3).expect("the poll's result");
        let now = s.feed_state("f").expect("read").expect("row");
        assert_eq!(now.paused_reason.as_deref(), Some("paused by admin"));
        assert_eq!(now.next_poll_at, Some(99), "the rest of the poll is kept");
        assert!(s.set_feed_paused("f", None, 4).expect("resume"));
        let resumed = s.feed_state("f").expect("read").expect("row");
        assert_eq!(resumed.paused_reason, None);
        assert_eq!(resumed.consecutive_failures, 0, "failures forgotten");
        assert_eq!(resumed.next_poll_at, Some(4), "due at once");
        assert_eq!(resumed.url, st.url, "nothing else touched");
        let mut gone = resumed.clone();
        gone.paused_reason = Some("gone".into());
        s.put_feed_state(&gone, 5).expect("a poll pauses");
        assert_eq!(
            s.feed_state("f")
                .expect("read")
                .expect("row")
                .paused_reason
                .as_deref(),
            Some("gone")
        );
        assert!(
            !s.set_feed_paused("new", Some("x"), 6)
                .expect("a feed never polled")
        );
        assert!(s.set_feed_paused("new", None, 7).expect("resumed"));
    });
}

/// The watchers' start-up read: every feed's schedule in one query.
#[test]
fn the_schedule_of_every_feed_is_read_in_one_query() {
    crate::testdb::each(|mut s| {
        assert_eq!(s.feed_schedule().expect("empty"), vec![]);
        let mut a = feed("a");
        a.next_poll_at = Some(10);
        s.put_feed_state(&a, 1).expect("a");
        s.put_feed_state(&feed("b"), 1).expect("b");
        s.set_feed_paused("b", Some("by admin"), 2).expect("pause");
        let mut got = s.feed_schedule().expect("schedule");
        got.sort_by(|x, y| x.feed.cmp(&y.feed));
        assert_eq!(
            got,
            vec![
                FeedDue {
                    feed: "a".into(),
                    next_poll_at: Some(10),
                    paused: false
                },
                FeedDue {
                    feed: "b".into(),
                    next_poll_at: None,
                    paused: true
                },
            ]
        );
    });
}
