//! The feed watcher against the loopback feed server: conditional GET,
//! baseline, new items, re-dated items, updates, feeds that drop GUIDs,
//! backoff and pause.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use crier::config::Config;
use crier::db::Db;
use crier::engine::Engine;
use crier::poller::{PollReport, Poller};
use crier_fakes::feed::{FeedServer, Route};
use crier_storage::{LogQuery, State, Store};

struct Setup {
    server: FeedServer,
    db: Db,
    poller: Arc<Poller>,
    cfg: Arc<Config>,
}

async fn setup(extra: &str) -> Setup {
    let server = FeedServer::start().await.expect("feed server");
    let text = format!(
        r#"
[sources]
pause_after_failures = 3
backoff_base = "10ms"
backoff_max = "50ms"
{extra}

[[feeds]]
name = "news"
url = "{}"
interval = "1s"
targets = ["out"]

[[targets]]
name = "out"
platform = "console"
"#,
        server.url("/feed.xml")
    );
    let cfg =
        Arc::new(Config::from_str(&text, Path::new("/tmp/crier-it/config.toml")).expect("config"));
    let db = Db::new(Store::open_in_memory().expect("store"));
    let engine = Engine::new(
        db.clone(),
        BTreeMap::new(),
        HashMap::new(),
        cfg.delivery.clone(),
    );
    let fetcher = Arc::new(crier::app::fetcher_for(&cfg).expect("fetcher"));
    let poller = Poller::new(db.clone(), fetcher, engine, cfg.clone());
    Setup {
        server,
        db,
        poller,
        cfg,
    }
}

fn item(guid: Option<&str>, slug: &str, title: &str, date: &str, body: &str) -> String {
    format!(
        "<item><title>{title}</title><link>https://news.example/{slug}</link>{}<pubDate>{date}</pubDate><description>{body}</description></item>",
        guid.map(|g| format!("<guid isPermaLink=\"false\">{g}</guid>"))
            .unwrap_or_default()
    )
}

fn rss(items: &[String]) -> String {
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>News</title><link>https://news.example/</link><description>d</description>{}</channel></rss>",
        items.concat()
    )
}

const D1: &str = "Wed, 01 Feb 2023 03:00:00 +0000";
const D2: &str = "Thu, 02 Feb 2023 03:00:00 +0000";
const D9: &str = "Fri, 10 Feb 2023 09:00:00 +0000";

impl Setup {
    async fn poll(&self) -> PollReport {
        self.poller
            .poll_once(&self.cfg.feeds[0])
            .await
            .expect("poll recorded")
    }

    async fn rows(&self, state: State) -> usize {
        self.db
            .call(move |s| {
                s.log(&LogQuery {
                    limit: 1000,
                    state: Some(state),
                    ..LogQuery::default()
                })
            })
            .await
            .expect("log")
            .len()
    }
}

#[tokio::test]
async fn conditional_get_baseline_new_redated_and_updated_items() {
    let s = setup("").await;
    let a = |date: &str, body: &str| item(Some("a"), "a", "Alpha", date, body);
    let b = |date: &str| item(Some("b"), "b", "Beta", date, "beta");
    s.server
        .set("/feed.xml", Route::feed(rss(&[a(D1, "alpha")])));

    let r = s.poll().await;
    assert!(r.baseline, "{r:?}");
    assert_eq!(r.new, 1);
    assert_eq!(s.rows(State::Skipped).await, 1, "the backlog is not posted");

    // Unchanged: a 304, nothing parsed or recorded.
    let r = s.poll().await;
    assert!(r.not_modified, "{r:?}");
    assert_eq!(s.server.not_modified_count(), 1);

    // A new item, and the old one re-dated: only the new one is new.
    s.server
        .set("/feed.xml", Route::feed(rss(&[b(D2), a(D9, "alpha")])));
    let r = s.poll().await;
    assert_eq!((r.new, r.updated, r.unchanged), (1, 0, 1), "{r:?}");
    assert_eq!(s.rows(State::Pending).await, 1);

    // The old item's text changes: an update, not a new article.
    s.server.set(
        "/feed.xml",
        Route::feed(rss(&[b(D2), a(D9, "alpha, corrected")])),
    );
    let r = s.poll().await;
    assert_eq!((r.new, r.updated), (0, 1), "{r:?}");
}

#[tokio::test]
async fn a_feed_that_stops_sending_guids_is_not_reposted() {
    let s = setup("").await;
    s.server.set(
        "/feed.xml",
        Route::feed(rss(&[
            item(Some("g-1"), "one", "One", D1, "x"),
            item(Some("g-2"), "two", "Two", D2, "y"),
        ])),
    );
    assert_eq!(s.poll().await.new, 2);
    s.server.set(
        "/feed.xml",
        Route::feed(rss(&[
            item(None, "one", "One", D1, "x"),
            item(None, "two", "Two", D2, "y"),
        ])),
    );
    let r = s.poll().await;
    assert_eq!((r.new, r.unchanged), (0, 2), "matched by link: {r:?}");
}

#[tokio::test]
async fn failures_back_off_then_pause_and_a_restart_resumes() {
    let s = setup("").await;
    s.server.set("/feed.xml", Route::status(503));
    for n in 1..=3 {
        let r = s.poll().await;
        assert!(r.error.is_some(), "{r:?}");
        assert_eq!(r.paused, n == 3, "paused after 3 failures: {r:?}");
    }
    let st =
        s.db.call(|st| st.feed_state("news"))
            .await
            .expect("state")
            .expect("some");
    assert_eq!(st.consecutive_failures, 3);
    let reason = st.paused_reason.expect("paused");
    assert!(reason.contains("503"), "{reason}");
    let next = st.next_poll_at.expect("next") - st.last_poll_at.expect("last");
    assert!(
        (30..=60).contains(&next),
        "backoff 10ms×2² capped at 50ms: {next}"
    );

    // Starting again (a config reload) resumes it.
    s.poller.resume_paused().await.expect("resume");
    let st =
        s.db.call(|st| st.feed_state("news"))
            .await
            .expect("state")
            .expect("some");
    assert!(st.paused_reason.is_none());
    s.server.set(
        "/feed.xml",
        Route::feed(rss(&[item(Some("a"), "a", "A", D1, "a")])),
    );
    let r = s.poll().await;
    assert!(r.error.is_none() && r.baseline, "{r:?}");
}
