//! SSRF after subscribe (issue #12): a feed added from chat stays behind
//! the guard for as long as it lives; no feed reads a `file:` URL found in
//! an http(s) document.

use std::time::Duration;

use crier_fakes::FakeTelegram;
use crier_fakes::feed::{FeedServer, Route};
use crier_fakes::telegram::TgUser;

use crate::daemon::*;

const CHANNEL: i64 = -1_003_000_000_077;
const ADMIN: i64 = 100;

const SECRET: &str = r#"<rss version="2.0"><channel><title>Internal</title>
<item><title>Internal secret</title><link>https://intra.example/s</link><guid>s1</guid></item>
</channel></rss>"#;

struct World {
    dir: tempfile::TempDir,
    web: FeedServer,
    internal: FeedServer,
    tg: FakeTelegram,
    admin: TgUser,
}

async fn world() -> World {
    let tg = FakeTelegram::start().await.expect("fake telegram");
    tg.add_channel(CHANNEL, Some("crier_ssrf"));
    let admin = TgUser::new(ADMIN, "Ada");
    tg.add_private(&admin);
    let internal = FeedServer::start().await.expect("internal");
    internal.set_feed("/secret.xml", SECRET);
    World {
        dir: tempfile::tempdir().expect("dir"),
        web: FeedServer::start().await.expect("web"),
        internal,
        tg,
        admin,
    }
}

impl World {
    /// The guard lets through exactly the outside server's address (the
    /// tests' stand-in for a public host), not the internal one.
    fn start(&self, feed_path: &str) -> Daemon {
        let config = format!(
            r#"
[telegram]
token = "{token}"
api_url = "{api}"
admins = [{ADMIN}]

[commands]
allow_hosts = ["{allowed}"]
subscribe_interval = "1s"

[[feeds]]
name = "news"
url = "{feed}"
interval = "1s"
targets = ["channel"]

[[targets]]
name = "channel"
platform = "telegram"
chat = "{CHANNEL}"

[[targets]]
name = "log"
platform = "console"
"#,
            token = FakeTelegram::TOKEN,
            api = self.tg.api_url(),
            allowed = self.web.base(0).trim_start_matches("http://"),
            feed = self.web.url(feed_path),
        );
        Daemon::start(self.dir.path(), &config)
    }

    async fn ask(&self, text: &str, expect: &str) -> String {
        let before = self.tg.bot_posts(ADMIN).len();
        self.tg.user_says(ADMIN, &self.admin, text);
        eventually(
            &format!("an answer to {text:?} containing {expect:?}"),
            Duration::from_secs(20),
            || {
                self.tg.bot_posts(ADMIN)[before.min(self.tg.bot_posts(ADMIN).len())..]
                    .iter()
                    .any(|m| m.shown.contains(expect))
            },
        )
        .await;
        self.tg.bot_posts(ADMIN)[before..]
            .iter()
            .map(|m| m.shown.clone())
            .collect::<Vec<_>>()
            .join("\n")
    }

    async fn wait_for_error(&self, feed: &str, needle: &str) -> String {
        let mut last = String::new();
        eventually(
            &format!("a poll error of {feed} containing {needle:?}"),
            Duration::from_secs(30),
            || {
                last = store(self.dir.path())
                    .feed_state(feed)
                    .ok()
                    .flatten()
                    .and_then(|s| s.last_error)
                    .unwrap_or_default();
                last.contains(needle)
            },
        )
        .await;
        last
    }

    fn channel_text(&self) -> String {
        self.tg
            .bot_posts(CHANNEL)
            .iter()
            .map(|m| m.shown.clone())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

async fn subscribe_then_baseline(w: &World) {
    w.web.set("/sub.xml", Route::feed(rss(&numbered("sub", 1))));
    w.ask(
        &format!("/subscribe {} channel", w.web.url("/sub.xml")),
        "Subscribed",
    )
    .await;
    eventually("the new feed's first poll", Duration::from_secs(20), || {
        store(w.dir.path())
            .feed_state("127.0.0.1")
            .ok()
            .flatten()
            .is_some_and(|s| s.baseline_done)
    })
    .await;
}

#[tokio::test]
async fn a_feed_added_from_chat_never_follows_a_redirect_to_an_internal_host() {
    let w = world().await;
    w.web.set("/feed.xml", Route::feed(rss(&numbered("n", 1))));
    let d = w.start("/feed.xml");
    subscribe_then_baseline(&w).await;
    // The remote server turns hostile after the subscription.
    w.web
        .set("/sub.xml", Route::redirect(&w.internal.url("/secret.xml")));
    let err = w.wait_for_error("127.0.0.1", "refused").await;
    assert!(err.contains("not a public address"), "{err}");
    assert_eq!(w.internal.total_hits(), 0, "nothing fetched from there");
    assert!(!w.channel_text().contains("Internal secret"));
    d.stop().await;
}

#[tokio::test]
async fn no_feed_reads_a_local_file_advertised_by_an_html_page() {
    let w = world().await;
    let secret = w.dir.path().join("secret.xml");
    std::fs::write(&secret, SECRET).expect("write");
    let file_url = url::Url::from_file_path(&secret).expect("file url");
    let page = format!(
        r#"<!doctype html><html><head><title>Blog</title>
<link rel="alternate" type="application/rss+xml" href="{file_url}"></head><body>x</body></html>"#
    );
    // A config feed that is (or becomes) such a page.
    w.web.set("/blog/", Route::ok(page.clone(), "text/html"));
    let d = w.start("/blog/");
    let err = w.wait_for_error("news", "refused").await;
    assert!(err.contains("file"), "{err}");
    // A feed added from chat that later becomes such a page.
    subscribe_then_baseline(&w).await;
    w.web.set("/sub.xml", Route::ok(page, "text/html"));
    w.wait_for_error("127.0.0.1", "refused").await;
    assert!(!w.channel_text().contains("Internal secret"));
    assert!(
        log(w.dir.path(), None)
            .iter()
            .all(|e| e.title != "Internal secret"),
        "the file's items were never recorded"
    );
    d.stop().await;
}

#[tokio::test]
async fn subscribing_a_watched_url_adds_targets_instead_of_a_second_feed() {
    let w = world().await;
    w.web.set("/feed.xml", Route::feed(rss(&numbered("n", 1))));
    let d = w.start("/feed.xml");
    subscribe_then_baseline(&w).await;
    // The same URL written differently, with a new target.
    let again = w.web.url("/sub.xml/");
    let r = w
        .ask(&format!("/subscribe {again} log"), "Already watched")
        .await;
    assert!(r.contains("added log"), "{r}");
    let feeds = store(w.dir.path()).dynamic_feeds().expect("feeds");
    assert_eq!(feeds.len(), 1, "{feeds:?}");
    assert_eq!(feeds[0].targets, vec!["channel", "log"]);
    // A config feed's URL: not a second feed either.
    let r = w
        .ask(
            &format!("/subscribe {} log", w.web.url("/feed.xml")),
            "Already watched",
        )
        .await;
    assert!(r.contains("config.toml"), "{r}");
    assert_eq!(store(w.dir.path()).dynamic_feeds().expect("feeds").len(), 1);
    d.stop().await;
}
