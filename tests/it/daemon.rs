//! Run the whole daemon (`crier::app::run`) in-process on a temporary
//! folder, against the loopback fakes, and look into its delivery log.

use std::path::Path;
use std::time::{Duration, Instant};

use crier::config::Config;
use crier::targets::BuildOptions;
use crier_storage::{Delivery, LogEntry, LogQuery, State, Store};
use tokio_util::sync::CancellationToken;

pub struct Daemon {
    shutdown: CancellationToken,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Daemon {
    /// Start `crier run` on `config` (a file in `dir`).
    pub fn start(dir: &Path, config: &str) -> Daemon {
        let path = dir.join("config.toml");
        std::fs::write(&path, config).expect("write config");
        let cfg = match Config::load(&path) {
            Ok(c) => c,
            Err(e) => panic!("config: {e}"),
        };
        let shutdown = CancellationToken::new();
        let s = shutdown.clone();
        let handle =
            tokio::spawn(async move { crier::app::run(cfg, BuildOptions::default(), s).await });
        Daemon { shutdown, handle }
    }

    /// Graceful stop (SIGTERM).
    pub async fn stop(self) {
        self.shutdown.cancel();
        match tokio::time::timeout(Duration::from_secs(30), self.handle).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => panic!("the daemon failed: {e:#}"),
            Ok(Err(e)) => panic!("the daemon panicked: {e}"),
            Err(_) => panic!("the daemon did not stop"),
        }
    }

    /// Stop without waiting for anything in flight (a crash, as far as the
    /// delivery log is concerned: rows may be left `sending`).
    pub async fn kill(self) {
        self.handle.abort();
        let _ = self.handle.await;
    }
}

/// A second connection to the daemon's database (WAL allows it).
pub fn store(dir: &Path) -> Store {
    Store::open(&dir.join("crier.db")).expect("open the daemon's database")
}

/// Retract the article with this link, as `crier retract URL` does.
pub fn retract_by_link(dir: &Path, link: &str) {
    let mut store = store(dir);
    let article = store
        .articles_by_link(link)
        .expect("by link")
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no article links to {link}"));
    store
        .retract(article.id, crier::clock::Clock::System.now_ms())
        .expect("retract");
}

pub fn log(dir: &Path, target: Option<&str>) -> Vec<LogEntry> {
    let mut rows = store(dir)
        .log(&LogQuery {
            limit: 100_000,
            target: target.map(str::to_string),
            ..LogQuery::default()
        })
        .expect("log");
    rows.sort_by_key(|e| (e.delivery.seq, e.delivery.part, e.delivery.id));
    rows
}

pub fn rows_in(dir: &Path, target: &str, state: State) -> Vec<Delivery> {
    log(dir, Some(target))
        .into_iter()
        .map(|e| e.delivery)
        .filter(|d| d.state == state)
        .collect()
}

/// Poll `pred` until it holds; panic with `what` after `timeout`.
pub async fn eventually<F: FnMut() -> bool>(what: &str, timeout: Duration, mut pred: F) {
    let start = Instant::now();
    while !pred() {
        if start.elapsed() > timeout {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A row of the article at `link` for `target` is in the delivery log
/// (whatever its state): the poll that saw it has recorded it and woken
/// the target's worker.
pub fn has_row(dir: &Path, target: &str, link: &str) -> bool {
    log(dir, Some(target))
        .iter()
        .any(|e| e.link.as_deref() == Some(link))
}

/// Wait for a request to `path` that starts after this call: the feed's
/// watcher polls one at a time, so the poll in flight now (if any) has
/// finished recording, and every worker it woke has had a poll interval.
pub async fn polled_again(web: &crier_fakes::feed::FeedServer, path: &str) {
    let hits = web.hits(path);
    eventually(
        &format!("another poll of {path}"),
        Duration::from_secs(20),
        || web.hits(path) > hits,
    )
    .await;
}

/// An RSS document with these `(guid, title, description)` items, newest
/// first as feeds are, dated one hour apart.
pub fn rss(items: &[(String, String, String)]) -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>Loopback News</title><link>https://news.example/</link><description>d</description>\n",
    );
    let n = items.len();
    for (i, (guid, title, body)) in items.iter().enumerate() {
        let when = chrono::DateTime::from_timestamp(1_675_000_000 + ((n - i) as i64) * 3600, 0)
            .expect("date")
            .to_rfc2822();
        s.push_str(&format!(
            "<item><title>{title}</title><link>https://news.example/{guid}</link><guid isPermaLink=\"false\">{guid}</guid><pubDate>{when}</pubDate><description><![CDATA[{body}]]></description></item>\n"
        ));
    }
    s.push_str("</channel></rss>\n");
    s
}

/// `n` numbered items, newest (highest number) first.
pub fn numbered(prefix: &str, n: usize) -> Vec<(String, String, String)> {
    (1..=n)
        .rev()
        .map(|i| {
            (
                format!("{prefix}-{i}"),
                format!("Story {i:03}"),
                format!("<p>Body of story {i}.</p>"),
            )
        })
        .collect()
}
