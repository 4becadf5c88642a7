//! Unbounded feeds (issue #12): items read per document are capped, and a
//! poll queues at most `max_new_per_poll` new articles; the excess is
//! recorded skipped with the reason, with one admin alert.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use crier::alerts::{AlertMsg, Alerts};
use crier::config::Config;
use crier::db::Db;
use crier::engine::Engine;
use crier::poller::Poller;
use crier_fakes::feed::{FeedServer, Route};
use crier_storage::{LogQuery, State, Store};

fn big_rss(prefix: &str, n: usize) -> String {
    let mut s = String::with_capacity(n * 120);
    s.push_str("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Flood</title><link>https://flood.example/</link><description>d</description>");
    for i in (0..n).rev() {
        s.push_str(&format!(
            "<item><title>{prefix} {i}</title><link>https://flood.example/{prefix}/{i}</link><guid>{prefix}-{i}</guid></item>"
        ));
    }
    s.push_str("</channel></rss>");
    s
}

async fn setup(
    sources: &str,
) -> (
    FeedServer,
    Db,
    Arc<Poller>,
    Arc<Config>,
    tokio::sync::mpsc::UnboundedReceiver<AlertMsg>,
) {
    let server = FeedServer::start().await.expect("feed server");
    let text = format!(
        r#"
[sources]
{sources}

[[feeds]]
name = "flood"
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
    let (alerts, rx) = Alerts::channel();
    let poller = Poller::with_alerts(db.clone(), fetcher, engine, cfg.clone(), alerts);
    (server, db, poller, cfg, rx)
}

async fn rows(db: &Db, state: State) -> Vec<crier_storage::LogEntry> {
    db.call(move |s| {
        s.log(&LogQuery {
            limit: 100_000,
            state: Some(state),
            ..LogQuery::default()
        })
    })
    .await
    .expect("log")
}

#[tokio::test]
async fn a_feed_of_50000_items_is_read_up_to_the_cap() {
    let (server, db, poller, cfg, _rx) = setup("max_items = 1000").await;
    server.set("/feed.xml", Route::feed(big_rss("n", 50_000)));
    let r = poller.poll_once(&cfg.feeds[0]).await.expect("poll");
    assert!(r.error.is_none(), "{r:?}");
    assert_eq!(r.new, 1_000, "at most the cap parsed and recorded");
    let count = db.call(|s| s.article_count("flood")).await.expect("count");
    assert_eq!(count, 1_000);
    // The newest (first in the document) are the ones kept.
    let newest = db
        .call(|s| s.article_by_key("flood", "guid:n-49999"))
        .await
        .expect("lookup");
    assert!(newest.is_some());
}

#[tokio::test]
async fn a_feed_switching_to_5000_new_guids_queues_the_cap_and_skips_the_rest() {
    let (server, db, poller, cfg, mut rx) =
        setup("max_items = 10000\nmax_new_per_poll = 100").await;
    server.set("/feed.xml", Route::feed(big_rss("old", 10)));
    let r = poller.poll_once(&cfg.feeds[0]).await.expect("baseline");
    assert!(r.baseline);
    // The GUID scheme changes: 5,000 "new" articles at once.
    server.set("/feed.xml", Route::feed(big_rss("new", 5_000)));
    let r = poller.poll_once(&cfg.feeds[0]).await.expect("poll");
    assert_eq!(r.new, 5_000, "{r:?}");
    let pending = rows(&db, State::Pending).await;
    assert_eq!(pending.len(), 100, "the cap is queued");
    // The newest are queued, the older excess skipped with the reason.
    assert!(pending.iter().any(|e| e.title == "new 4999"));
    assert!(pending.iter().all(|e| e.title != "new 0"));
    let skipped: Vec<_> = rows(&db, State::Skipped)
        .await
        .into_iter()
        .filter(|e| {
            e.delivery
                .reason
                .as_deref()
                .is_some_and(|r| r.contains("max_new_per_poll"))
        })
        .collect();
    assert_eq!(skipped.len(), 4_900);
    // One alert for the incident.
    let mut opens = Vec::new();
    while let Ok(m) = rx.try_recv() {
        if let AlertMsg::Open { key, text } = m {
            opens.push((key, text));
        }
    }
    assert_eq!(opens.len(), 1, "{opens:?}");
    assert_eq!(opens[0].0, "feed-flood:flood");
    assert!(opens[0].1.contains("5000 new articles"), "{}", opens[0].1);
    // A later poll with nothing new neither queues nor alerts.
    let r = poller.poll_once(&cfg.feeds[0]).await.expect("poll");
    assert_eq!(r.new, 0);
    assert!(rx.try_recv().is_err());
}
