//! Leases and fencing on both backends: two handles on one database play
//! two instances.

use crate::testdb::each_reopenable;
use crate::*;

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn feed(name: &str) -> FeedState {
    FeedState {
        feed: name.into(),
        url: format!("https://example.com/{name}.xml"),
        fetch_state: "{}".into(),
        ..FeedState::default()
    }
}

#[test]
fn a_lease_is_held_by_one_instance_until_it_ends_and_tokens_only_grow() {
    each_reopenable(|open| {
        let (mut a, mut b) = (open(), open());
        let got = a
            .claim_leases(SCOPE_FEED, &names(&["f1", "f2"]), "A", 1_000, 0)
            .expect("claim")
            .expect("free leases are claimed");
        assert_eq!(got.iter().map(|h| h.token).collect::<Vec<_>>(), [1, 1]);
        // B may not take them while they last, nor one of a group.
        assert_eq!(
            b.claim_leases(SCOPE_FEED, &names(&["f3", "f2"]), "B", 1_500, 500)
                .expect("claim"),
            None
        );
        assert!(
            b.leases().expect("rows").iter().all(|l| l.name != "f3"),
            "all or none: f3 was not claimed alone"
        );
        // A renews; B still cannot take them at a time A's lease covers.
        let renewed = a.renew_leases(SCOPE_FEED, "A", 2_000).expect("renew");
        assert_eq!(renewed.len(), 2);
        assert_eq!(
            b.claim_leases(SCOPE_FEED, &names(&["f1"]), "B", 2_500, 1_500)
                .expect("claim"),
            None
        );
        // A's lease ends (no renewal): B takes f1 with a higher token, and
        // A's renewal no longer lists it.
        let taken = b
            .claim_leases(SCOPE_FEED, &names(&["f1"]), "B", 3_000, 2_000)
            .expect("claim")
            .expect("an ended lease is claimed");
        assert_eq!(taken[0].token, 2);
        let left = a.renew_leases(SCOPE_FEED, "A", 4_000).expect("renew");
        assert_eq!(
            left.iter().map(|h| h.name.as_str()).collect::<Vec<_>>(),
            ["f2"]
        );
        // A clean release ends the lease but keeps its token: the next
        // claim raises it.
        a.release_leases(SCOPE_FEED, &names(&["f2"]), "A")
            .expect("release");
        let again = b
            .claim_leases(SCOPE_FEED, &names(&["f2"]), "B", 5_000, 4_100)
            .expect("claim")
            .expect("a released lease is free");
        assert_eq!(again[0].token, 2);
        let rows = a.leases().expect("rows");
        assert!(rows.iter().all(|l| l.holder == "B"), "{rows:?}");
        // Scopes are separate: a target named like a feed is its own lease.
        assert!(
            a.claim_leases(SCOPE_TARGET, &names(&["f1"]), "A", 5_000, 4_100)
                .expect("claim")
                .is_some()
        );
    });
}

#[test]
fn a_poll_whose_feed_lease_was_taken_over_writes_nothing() {
    each_reopenable(|open| {
        let (mut a, mut b) = (open(), open());
        a.claim_leases(SCOPE_FEED, &names(&["news"]), "A", 1_000, 0)
            .expect("claim")
            .expect("free");
        let mut st = feed("news");
        st.baseline_done = true;
        let item = IncomingArticle {
            keys: vec!["guid:1".into()],
            content_hash: "h1".into(),
            title: "one".into(),
            link: None,
            published_at: None,
            payload: "{}".into(),
            refresh_only: false,
        };
        let batch = vec![(item.clone(), vec![Route::pending("tg")])];
        a.ingest(&st, &batch, 10).expect("the holder writes");
        // A stalls past its lease; B takes the feed over.
        b.claim_leases(SCOPE_FEED, &names(&["news"]), "B", 3_000, 2_000)
            .expect("claim")
            .expect("ended");
        let mut item2 = item.clone();
        item2.keys = vec!["guid:2".into()];
        let late = vec![(item2, vec![Route::pending("tg")])];
        let e = a.ingest(&st, &late, 2_100).expect_err("fenced");
        assert!(matches!(e, Error::LeaseLost(_)), "{e}");
        assert!(e.to_string().contains("feed news"), "{e}");
        let e = a.put_feed_state(&st, 2_100).expect_err("fenced");
        assert!(matches!(e, Error::LeaseLost(_)), "{e}");
        assert!(!e.is_transient(), "a lost lease is not retried");
        assert_eq!(b.article_count("news").expect("count"), 1, "nothing added");
        // The new holder's writes go through; a store that never leased
        // the feed (a push, the command line) is not fenced.
        b.put_feed_state(&st, 2_200).expect("B writes");
        open().put_feed_state(&st, 2_300).expect("unfenced");
    });
}

#[test]
fn a_worker_whose_target_lease_was_taken_over_cannot_touch_its_rows() {
    each_reopenable(|open| {
        let (mut a, mut b) = (open(), open());
        let item = IncomingArticle {
            keys: vec!["guid:1".into()],
            content_hash: "h1".into(),
            title: "one".into(),
            link: None,
            published_at: None,
            payload: "{}".into(),
            refresh_only: false,
        };
        let mut st = feed("news");
        st.baseline_done = true;
        b.ingest(&st, &[(item, vec![Route::pending("tg")])], 10)
            .expect("ingest");
        a.claim_leases(SCOPE_TARGET, &names(&["tg"]), "A", 1_000, 0)
            .expect("claim")
            .expect("free");
        let QueueHead::Ready(d) = a.queue_head("tg", 100, false).expect("head") else {
            panic!("no head")
        };
        a.plan_job(
            d.id,
            &[PlannedPart {
                op: Op::Send,
                payload: Some("{}".into()),
                summary: "one".into(),
                ref_message: None,
            }],
            "empty",
            100,
        )
        .expect("the holder plans");
        a.mark_sending(d.id, 200).expect("the holder marks sending");
        // A hangs mid-send; its lease ends and B takes the target over.
        b.claim_leases(SCOPE_TARGET, &names(&["tg"]), "B", 3_000, 2_000)
            .expect("claim")
            .expect("ended");
        let stale = b.stale_sending_of("tg").expect("stale");
        assert_eq!(stale.len(), 1, "the new holder sees the row in flight");
        assert!(b.stale_sending_of("other").expect("stale").is_empty());
        let e = a
            .mark_sent(d.id, Some("c:1"), None, None, 2_100)
            .expect_err("fenced");
        assert!(matches!(e, Error::LeaseLost(_)), "{e}");
        for r in [
            a.mark_retry(d.id, "x", 2_200, false, 2_100),
            a.defer(d.id, 2_200, "x", 2_100),
            a.mark_failed(d.id, "x", 2_100),
            a.mark_skipped(d.id, "x", 2_100),
            a.resend_ambiguous(d.id, "x", 2_100),
        ] {
            assert!(matches!(r, Err(Error::LeaseLost(_))), "{r:?}");
        }
        assert!(matches!(
            a.mark_sending(d.id, 2_100),
            Err(Error::LeaseLost(_))
        ));
        let row = b.delivery(d.id).expect("row").expect("exists");
        assert_eq!(row.state, State::Sending, "A changed nothing");
        // B resolves it as a crash would be.
        b.resend_ambiguous(d.id, "interrupted", 2_300)
            .expect("the new holder resolves it");
        assert_eq!(
            b.delivery(d.id).expect("row").expect("exists").state,
            State::Pending
        );
    });
}

#[test]
fn a_poll_request_reaches_other_instances_listeners_with_the_feed() {
    let Some(db) = crate::testdb::PgSchema::create() else {
        return;
    };
    let owner = db.open();
    let mut heard = owner.change_listener().expect("PostgreSQL listens");
    let wait = std::time::Duration::from_millis(300);
    let own = owner.session_pid();
    assert_eq!(heard.wait(wait, own).expect("connect"), Change::Reconnected);
    // The owner's own request is not news; another instance's is.
    owner.request_poll("mine").expect("request");
    assert_eq!(heard.wait(wait, own).expect("own"), Change::Quiet);
    assert!(heard.take_polls().is_empty());
    let other = db.open();
    other.request_poll("news").expect("request");
    other.request_poll("sports ünï").expect("request");
    let mut polls = Vec::new();
    for _ in 0..10 {
        heard
            .wait(std::time::Duration::from_secs(1), own)
            .expect("wait");
        polls.extend(heard.take_polls());
        if polls.len() == 2 {
            break;
        }
    }
    assert_eq!(polls, ["news", "sports ünï"]);
    // SQLite has one process: nothing to send.
    Store::open_in_memory()
        .expect("sqlite")
        .request_poll("news")
        .expect("a no-op");
}
