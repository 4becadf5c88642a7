//! WebSub push and the WordPress publish hook end to end: the daemon
//! in-process with `[http] public_url`, the loopback feed server, the fake
//! hub (`crier_fakes::FakeHub`) and the fake Bot API. Feeds poll hourly in
//! these tests unless a test says otherwise, so what is posted within
//! seconds came by push.

use std::time::Duration;

use crier_fakes::FakeTelegram;
use crier_fakes::feed::{FeedServer, Route};
use crier_fakes::hub::{self, FakeHub};
use crier_storage::SubState;
use reqwest::StatusCode;
use reqwest::header::AUTHORIZATION;

use crate::daemon::*;
use crate::http::{CHANNEL, TOKEN, client, free_port};

const HOOK_SECRET: &str = "wp-hook-0123456789abcdef";

struct World {
    dir: tempfile::TempDir,
    feeds: FeedServer,
    tg: FakeTelegram,
    hub: FakeHub,
    port: u16,
}

/// An RSS document naming `hub` and `topic` (`atom:link` in the channel).
fn hub_rss(items: &[(String, String, String)], hub: &str, topic: &str) -> String {
    rss(items)
        .replacen(
            "<rss version=\"2.0\">",
            "<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\">",
            1,
        )
        .replacen(
            "<channel>",
            &format!(
                "<channel><atom:link rel=\"hub\" href=\"{hub}\"/><atom:link rel=\"self\" href=\"{topic}\" type=\"application/rss+xml\"/>"
            ),
            1,
        )
}

async fn world() -> World {
    let tg = FakeTelegram::start().await.expect("fake telegram");
    tg.add_channel(CHANNEL, Some("loopback_news"));
    let feeds = FeedServer::start().await.expect("feed server");
    let hub = FakeHub::start().await.expect("fake hub");
    let w = World {
        dir: tempfile::tempdir().expect("dir"),
        feeds,
        tg,
        hub,
        port: free_port(),
    };
    w.serve(&numbered("old", 2));
    w
}

impl World {
    fn topic(&self) -> String {
        self.feeds.url("/feed.xml")
    }

    /// The feed server serves these items (the feed names the hub).
    fn serve(&self, items: &[(String, String, String)]) -> String {
        let doc = hub_rss(items, &self.hub.url(), &self.topic());
        self.feeds.set("/feed.xml", Route::feed(doc.clone()));
        doc
    }

    /// `feed_extra` goes into the `[[feeds]]` table.
    fn config(&self, feed_extra: &str) -> String {
        format!(
            r#"
[storage]
path = "crier.db"

[http]
listen = "127.0.0.1:{port}"
token = "{TOKEN}"
public_url = "http://127.0.0.1:{port}/"

[telegram]
token = "{token}"
api_url = "{api}"
timeout = "60s"

[delivery]
retry_base = "100ms"
retry_max = "1s"
recheck = "200ms"
shutdown_grace = "3s"

[[feeds]]
name = "news"
url = "{feed}"
interval = "1h"
targets = ["tg"]
{feed_extra}

[[targets]]
name = "tg"
platform = "telegram"
chat = "{CHANNEL}"
"#,
            port = self.port,
            token = FakeTelegram::TOKEN,
            api = self.tg.api_url(),
            feed = self.topic(),
        )
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn posts_with(&self, title: &str) -> usize {
        self.tg
            .bot_posts(CHANNEL)
            .iter()
            .filter(|m| m.text.as_deref().is_some_and(|t| t.contains(title)))
            .count()
    }

    /// When the feed's last poll was recorded (0: never).
    fn last_poll_at(&self) -> i64 {
        store(self.dir.path())
            .feed_state("news")
            .ok()
            .flatten()
            .and_then(|s| s.last_poll_at)
            .unwrap_or(0)
    }

    fn sub_state(&self) -> Option<SubState> {
        store(self.dir.path())
            .subscription("news")
            .expect("subscription")
            .map(|s| s.state)
    }

    /// Wait for the baseline poll and a verified subscription.
    async fn subscribed(&self) -> hub::HubSub {
        eventually("a verified subscription", Duration::from_secs(30), || {
            self.hub.subscriptions().len() == 1 && self.sub_state() == Some(SubState::Active)
        })
        .await;
        self.hub.subscriptions().remove(0)
    }

    async fn metrics(&self) -> String {
        let r = client()
            .get(self.url("/metrics"))
            .header(AUTHORIZATION, format!("Bearer {TOKEN}"))
            .send()
            .await
            .expect("scrape");
        r.text().await.expect("body")
    }
}

fn series(text: &str, outcome: &str) -> f64 {
    let key = format!("crier_websub_pushes_total{{feed=\"news\",outcome=\"{outcome}\"}}");
    text.lines()
        .find_map(|l| l.strip_prefix(&key)?.trim().parse().ok())
        .unwrap_or(0.0)
}

fn new_items(n: usize) -> Vec<(String, String, String)> {
    let mut v = numbered("new", n);
    v.extend(numbered("old", 2));
    v
}

#[tokio::test]
async fn a_fat_ping_is_posted_once_through_the_poll_path() {
    let w = world().await;
    let d = Daemon::start(w.dir.path(), &w.config(""));
    let sub = w.subscribed().await;
    // The callback is unique, unguessable, under public_url; a secret is set.
    let prefix = w.url("/websub/");
    assert!(sub.callback.starts_with(&prefix), "{}", sub.callback);
    assert_eq!(sub.callback.len(), prefix.len() + 64, "{}", sub.callback);
    assert_eq!(sub.secret.as_deref().map(str::len), Some(64));
    assert_eq!(sub.topic, w.topic());
    let v = w.hub.verifications();
    assert!(
        v.iter().any(|v| v.mode == "subscribe" && v.confirmed),
        "{v:?}"
    );
    // The backlog was not posted.
    assert_eq!(w.tg.bot_posts(CHANNEL).len(), 0);

    let ingested = |m: &str| {
        m.lines()
            .find_map(|l| {
                l.strip_prefix("crier_articles_ingested_total{feed=\"news\"}")?
                    .trim()
                    .parse::<f64>()
                    .ok()
            })
            .unwrap_or(0.0)
    };
    let before = ingested(&w.metrics().await);
    let doc = w.serve(&new_items(1));
    let sent = w.hub.publish(&w.topic(), &doc, "application/rss+xml").await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].status, Some(202));
    eventually("the pushed article posted", Duration::from_secs(20), || {
        w.posts_with("Story 001") == 1
    })
    .await;
    // The same content again (a hub retry) and a poll: nothing new.
    // A fat ping is recorded before its answer; the thin ping's poll is
    // done once its feed state (saved with what it found) is stored.
    w.hub.publish(&w.topic(), &doc, "application/rss+xml").await;
    let polled = w.last_poll_at();
    w.hub.publish_thin(&w.topic()).await;
    eventually(
        "the thin ping's poll recorded",
        Duration::from_secs(20),
        || w.last_poll_at() > polled,
    )
    .await;
    eventually("nothing left to send", Duration::from_secs(20), || {
        crate::support::unsettled(&store(w.dir.path())) == 0
    })
    .await;
    assert_eq!(w.posts_with("Story 001"), 1);
    assert_eq!(w.tg.bot_posts(CHANNEL).len(), 1);
    let m = w.metrics().await;
    assert_eq!(series(&m, "fat"), 2.0, "{m}");
    assert_eq!(series(&m, "thin"), 1.0, "{m}");
    // The pushed article counts as ingested, once.
    assert_eq!(ingested(&m) - before, 1.0, "{m}");

    // The status page says the feed is pushed.
    let page = client()
        .get(w.url("/"))
        .header(AUTHORIZATION, format!("Bearer {TOKEN}"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("page body");
    assert!(page.contains("pushed by 127.0.0.1"), "{page}");
    d.stop().await;
}

#[tokio::test]
async fn forged_and_unsigned_pings_are_acknowledged_and_ignored() {
    let w = world().await;
    let d = Daemon::start(w.dir.path(), &w.config(""));
    let sub = w.subscribed().await;
    let doc = w.serve(&new_items(1));
    let forged = w
        .hub
        .deliver_raw(
            &sub.callback,
            &w.topic(),
            &doc,
            "application/rss+xml",
            Some(hub::sign("not-the-secret", doc.as_bytes())),
        )
        .await;
    assert_eq!(forged.status, Some(202), "acknowledged, as the spec says");
    let unsigned = w
        .hub
        .deliver_raw(&sub.callback, &w.topic(), &doc, "application/rss+xml", None)
        .await;
    assert_eq!(unsigned.status, Some(202));
    // A signature of other content, and garbage.
    let secret = sub.secret.clone().expect("secret");
    let replayed = w
        .hub
        .deliver_raw(
            &sub.callback,
            &w.topic(),
            &doc,
            "application/rss+xml",
            Some(hub::sign(&secret, b"other body")),
        )
        .await;
    assert_eq!(replayed.status, Some(202));
    w.hub
        .deliver_raw(
            &sub.callback,
            &w.topic(),
            &doc,
            "application/rss+xml",
            Some("sha256=zz".into()),
        )
        .await;
    // An unknown callback finds nothing.
    let unknown = w
        .hub
        .deliver_raw(
            &w.url(&format!("/websub/{}", "ab".repeat(32))),
            &w.topic(),
            &doc,
            "application/rss+xml",
            None,
        )
        .await;
    assert_eq!(unknown.status, Some(404));
    // Each ping is counted before its answer; an accepted one would be
    // recorded before it too, and counted `fat`.
    let m = w.metrics().await;
    assert_eq!(w.tg.bot_posts(CHANNEL).len(), 0, "a forged ping posted");
    assert!(
        log(w.dir.path(), None)
            .iter()
            .all(|e| e.delivery.state == crier_storage::State::Skipped),
        "a forged ping queued a post"
    );
    assert_eq!(series(&m, "bad_signature"), 3.0, "{m}");
    assert_eq!(series(&m, "unsigned"), 1.0, "{m}");
    assert_eq!(series(&m, "fat"), 0.0, "{m}");

    // A SHA-1 signature with the right secret is accepted.
    let ok = w
        .hub
        .deliver_raw(
            &sub.callback,
            &w.topic(),
            &doc,
            "application/rss+xml",
            Some(hub::sign_sha1(&secret, doc.as_bytes())),
        )
        .await;
    assert_eq!(ok.status, Some(202));
    eventually("the genuine push posted", Duration::from_secs(20), || {
        w.posts_with("Story 001") == 1
    })
    .await;
    d.stop().await;
}

#[tokio::test]
async fn a_thin_ping_polls_the_feed_now() {
    let w = world().await;
    let d = Daemon::start(w.dir.path(), &w.config(""));
    w.subscribed().await;
    let hits = w.feeds.hits("/feed.xml");
    w.serve(&new_items(2));
    let sent = w.hub.publish_thin(&w.topic()).await;
    assert_eq!(sent[0].status, Some(202));
    eventually("both new articles posted", Duration::from_secs(20), || {
        w.posts_with("Story 001") == 1 && w.posts_with("Story 002") == 1
    })
    .await;
    assert!(
        w.feeds.hits("/feed.xml") > hits,
        "no poll after the thin ping"
    );
    d.stop().await;
}

#[tokio::test]
async fn a_push_racing_polls_posts_each_article_once() {
    let w = world().await;
    // Polled every second while pushed: polls and pushes overlap.
    let d = Daemon::start(w.dir.path(), &w.config("push_safety_interval = \"1s\""));
    w.subscribed().await;
    for n in 1..=6 {
        let doc = w.serve(&new_items(n));
        let topic = w.topic();
        let (a, b) = tokio::join!(
            w.hub.publish(&topic, &doc, "application/rss+xml"),
            w.hub.publish_thin(&topic),
        );
        assert_eq!(a[0].status, Some(202));
        assert_eq!(b[0].status, Some(202));
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    eventually("six articles posted", Duration::from_secs(30), || {
        (1..=6).all(|i| w.posts_with(&format!("Story {i:03}")) >= 1)
    })
    .await;
    // Every ping answered and counted, every row recorded, and one more
    // poll of the same document done: a duplicate would be queued by now.
    let m = w.metrics().await;
    assert_eq!(series(&m, "fat"), 6.0, "{m}");
    assert_eq!(series(&m, "thin"), 6.0, "{m}");
    let polled = w.last_poll_at();
    eventually("one more poll recorded", Duration::from_secs(20), || {
        w.last_poll_at() > polled
    })
    .await;
    eventually("nothing left to send", Duration::from_secs(20), || {
        crate::support::unsettled(&store(w.dir.path())) == 0
    })
    .await;
    for i in 1..=6 {
        assert_eq!(w.posts_with(&format!("Story {i:03}")), 1, "story {i}");
    }
    assert_eq!(w.tg.bot_posts(CHANNEL).len(), 6);
    d.stop().await;
}

#[tokio::test]
async fn a_denied_subscription_falls_back_to_polling() {
    let w = world().await;
    w.hub.deny(&w.topic());
    let d = Daemon::start(
        w.dir.path(),
        &w.config("interval = \"1s\"")
            .replace("interval = \"1h\"\n", ""),
    );
    eventually("the denial recorded", Duration::from_secs(30), || {
        w.sub_state() == Some(SubState::Denied)
    })
    .await;
    let sub = store(w.dir.path())
        .subscription("news")
        .expect("row")
        .expect("sub");
    assert!(
        sub.reason
            .as_deref()
            .is_some_and(|r| r.contains("not allowed")),
        "{sub:?}"
    );
    assert!(w.hub.subscriptions().is_empty());
    // Polling goes on.
    w.serve(&new_items(1));
    eventually("the polled article posted", Duration::from_secs(20), || {
        w.posts_with("Story 001") == 1
    })
    .await;
    d.stop().await;
}

#[tokio::test]
async fn leases_are_renewed_and_an_expired_one_falls_back_to_polling() {
    let w = world().await;
    w.hub.set_max_lease(Duration::from_secs(4));
    let d = Daemon::start(w.dir.path(), &w.config(""));
    w.subscribed().await;
    let lease_end = tokio::time::Instant::now() + Duration::from_secs(4);
    // Past the first lease, the hub still pushes: renewed in time.
    eventually("a renewal", Duration::from_secs(20), || {
        w.hub
            .verifications()
            .iter()
            .filter(|v| v.mode == "subscribe" && v.confirmed)
            .count()
            >= 2
    })
    .await;
    tokio::time::sleep_until(lease_end + Duration::from_millis(500)).await;
    assert_eq!(w.hub.subscriptions().len(), 1, "the lease ran out");
    let doc = w.serve(&new_items(1));
    w.hub.publish(&w.topic(), &doc, "application/rss+xml").await;
    eventually("the pushed article posted", Duration::from_secs(20), || {
        w.posts_with("Story 001") == 1
    })
    .await;

    // The hub goes away: renewals fail, the lease ends, the feed is
    // polled at once.
    let hits = w.feeds.hits("/feed.xml");
    w.serve(&new_items(2));
    w.hub.stop();
    eventually("the lease expired", Duration::from_secs(20), || {
        store(w.dir.path())
            .subscription("news")
            .ok()
            .flatten()
            .is_some_and(|s| s.state != SubState::Active)
    })
    .await;
    eventually(
        "the article polled and posted",
        Duration::from_secs(20),
        || w.posts_with("Story 002") == 1,
    )
    .await;
    assert!(w.feeds.hits("/feed.xml") > hits);
    d.stop().await;
}

#[tokio::test]
async fn a_feed_no_longer_pushed_is_unsubscribed() {
    let w = world().await;
    let d = Daemon::start(w.dir.path(), &w.config(""));
    w.subscribed().await;
    d.stop().await;
    // Push turned off for the feed: the hub is told, and verifies.
    let d = Daemon::start(w.dir.path(), &w.config("push = \"off\""));
    eventually(
        "the unsubscription verified",
        Duration::from_secs(30),
        || {
            w.hub.subscriptions().is_empty()
                && w.hub
                    .verifications()
                    .iter()
                    .any(|v| v.mode == "unsubscribe" && v.confirmed)
        },
    )
    .await;
    eventually("the row forgotten", Duration::from_secs(10), || {
        w.sub_state().is_none()
    })
    .await;
    assert!(w.hub.requests().iter().any(|(m, _)| m == "unsubscribe"));
    d.stop().await;
}

#[tokio::test]
async fn verification_is_echoed_only_for_what_crier_asked() {
    let w = world().await;
    let d = Daemon::start(w.dir.path(), &w.config(""));
    let sub = w.subscribed().await;
    let c = client();
    let get = |q: String| {
        let c = c.clone();
        let url = format!("{}?{q}", sub.callback);
        async move { c.get(url).send().await.expect("get") }
    };
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    // Another topic, an unsubscribe Crier did not ask for, an unknown id.
    let r = get(format!(
        "hub.mode=subscribe&hub.topic={}&hub.challenge=abc&hub.lease_seconds=60",
        enc("http://other.example/feed")
    ))
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = get(format!(
        "hub.mode=unsubscribe&hub.topic={}&hub.challenge=abc",
        enc(&w.topic())
    ))
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = c
        .get(format!(
            "{}?hub.mode=subscribe&hub.topic={}&hub.challenge=abc&hub.lease_seconds=60",
            w.url(&format!("/websub/{}", "cd".repeat(32))),
            enc(&w.topic())
        ))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // The right one (a renewal) is echoed exactly.
    let r = get(format!(
        "hub.mode=subscribe&hub.topic={}&hub.challenge=xyz-123&hub.lease_seconds=60",
        enc(&w.topic())
    ))
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await.expect("body"), "xyz-123");
    assert_eq!(w.sub_state(), Some(SubState::Active));
    d.stop().await;
}

#[tokio::test]
async fn pushes_are_bounded_and_touch_their_own_feed_only() {
    let w = world().await;
    // A second feed on another path, pushed by the same hub.
    let other_topic = w.feeds.url("/other.xml");
    w.feeds.set(
        "/other.xml",
        Route::feed(hub_rss(&numbered("o", 1), &w.hub.url(), &other_topic)),
    );
    let cfg = w.config("body_cap = 6000").replace(
        "[[targets]]",
        &format!(
            "[[feeds]]\nname = \"other\"\nurl = \"{other_topic}\"\ninterval = \"1h\"\ntargets = [\"tg\"]\n\n[[targets]]"
        ),
    );
    let d = Daemon::start(w.dir.path(), &cfg);
    eventually("both subscribed", Duration::from_secs(30), || {
        w.hub.subscriptions().len() == 2
    })
    .await;
    let news = w
        .hub
        .subscriptions()
        .into_iter()
        .find(|s| s.topic == w.topic())
        .expect("news sub");
    let secret = news.secret.clone().expect("secret");
    // The other feed's document, pushed to news's callback: recorded under
    // news (the callback decides the feed), never under "other".
    let other_doc = hub_rss(&numbered("o", 2), &w.hub.url(), &other_topic);
    let r = w
        .hub
        .deliver_raw(
            &news.callback,
            &other_topic,
            &other_doc,
            "application/rss+xml",
            Some(hub::sign(&secret, other_doc.as_bytes())),
        )
        .await;
    assert_eq!(r.status, Some(202));
    eventually("recorded under news", Duration::from_secs(20), || {
        store(w.dir.path())
            .article_by_key("news", "guid:o-2")
            .ok()
            .flatten()
            .is_some()
    })
    .await;
    assert!(
        store(w.dir.path())
            .article_by_key("other", "guid:o-2")
            .expect("lookup")
            .is_none()
    );

    // Over the body cap: refused, nothing recorded, the feed polled.
    let big = hub_rss(&numbered("big", 60), &w.hub.url(), &w.topic());
    assert!(big.len() > 6_000);
    let r = w
        .hub
        .deliver_raw(
            &news.callback,
            &w.topic(),
            &big,
            "application/rss+xml",
            Some(hub::sign(&secret, big.as_bytes())),
        )
        .await;
    assert_eq!(r.status, Some(413));
    assert!(
        store(w.dir.path())
            .article_by_key("news", "guid:big-60")
            .expect("lookup")
            .is_none()
    );

    // More pushes a minute than allowed: the rest become one poll.
    let doc = w.serve(&numbered("old", 2));
    for _ in 0..65 {
        w.hub
            .deliver_raw(
                &news.callback,
                &w.topic(),
                &doc,
                "application/rss+xml",
                Some(hub::sign(&secret, doc.as_bytes())),
            )
            .await;
    }
    let m = w.metrics().await;
    assert!(series(&m, "rate_limited") >= 1.0, "{m}");
    assert!(series(&m, "too_large") >= 1.0, "{m}");
    d.stop().await;
}

#[tokio::test]
async fn the_wordpress_hook_polls_the_feed_now() {
    let w = world().await;
    let d = Daemon::start(
        w.dir.path(),
        &w.config(&format!(
            "push = \"off\"\nwordpress_hook_secret = \"{HOOK_SECRET}\""
        )),
    );
    eventually("the baseline poll", Duration::from_secs(20), || {
        store(w.dir.path())
            .feed_state("news")
            .ok()
            .flatten()
            .is_some_and(|s| s.baseline_done)
    })
    .await;
    w.serve(&new_items(1));
    let hits = w.feeds.hits("/feed.xml");
    let c = client();
    // Wrong secret, unknown feed: the same 404; nothing polled.
    for path in [
        "/hooks/wordpress/news/wrong-secret-0123456789".to_string(),
        format!("/hooks/wordpress/nope/{HOOK_SECRET}"),
    ] {
        let r = c.post(w.url(&path)).send().await.expect("post");
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let r = c
        .post(w.url("/hooks/wordpress/news"))
        .header("X-Crier-Hook-Secret", "wrong")
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(w.tg.bot_posts(CHANNEL).len(), 0);

    // WordPress's Update Services ping (XML-RPC) with the secret path.
    let r = c
        .post(w.url(&format!("/hooks/wordpress/news/{HOOK_SECRET}")))
        .header("Content-Type", "text/xml")
        .body("<?xml version=\"1.0\"?><methodCall><methodName>weblogUpdates.ping</methodName><params><param><value><string>Site</string></value></param><param><value><string>https://news.example/</string></value></param></params></methodCall>")
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.text()
            .await
            .expect("body")
            .contains("<boolean>0</boolean>")
    );
    eventually("the article posted", Duration::from_secs(20), || {
        w.posts_with("Story 001") == 1
    })
    .await;
    // One poll since the wrong calls (polled hourly otherwise): this one's.
    assert_eq!(w.feeds.hits("/feed.xml"), hits + 1, "a wrong call polled");
    // A webhook plugin with the header.
    w.serve(&new_items(2));
    let r = c
        .post(w.url("/hooks/wordpress/news"))
        .header("X-Crier-Hook-Secret", HOOK_SECRET)
        .json(&serde_json::json!({"post_id": 2}))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    eventually("the second article posted", Duration::from_secs(20), || {
        w.posts_with("Story 002") == 1
    })
    .await;
    // No subscription when push is off.
    assert!(w.hub.requests().is_empty());
    d.stop().await;
}

#[tokio::test]
async fn a_feed_added_from_chat_is_pushed_shown_and_unsubscribed_with_it() {
    use crier_fakes::telegram::TgUser;
    const ADMIN: i64 = 100;
    let w = world().await;
    let admin = TgUser::new(ADMIN, "Ada");
    w.tg.add_private(&admin);
    let other = w.feeds.url("/other.xml");
    let doc = |n| hub_rss(&numbered("o", n), &w.hub.url(), &other);
    w.feeds.set("/other.xml", Route::feed(doc(1)));
    let cfg = w
        .config("push = \"off\"")
        .replace(
            "timeout = \"60s\"",
            &format!("timeout = \"60s\"\nadmins = [{ADMIN}]"),
        )
        .replace(
            "[delivery]",
            "[commands]\nallow_private_urls = true\nsubscribe_interval = \"1h\"\n\n[delivery]",
        );
    let d = Daemon::start(w.dir.path(), &cfg);
    let ask = |text: String, expect: &'static str| {
        let before = w.tg.bot_posts(ADMIN).len();
        w.tg.user_says(ADMIN, &admin, &text);
        let tg = &w.tg;
        async move {
            eventually(
                &format!("an answer with {expect:?}"),
                Duration::from_secs(20),
                || {
                    tg.bot_posts(ADMIN)
                        .get(before..)
                        .is_some_and(|v| v.iter().any(|m| m.shown.contains(expect)))
                },
            )
            .await;
            tg.bot_posts(ADMIN)[before..]
                .iter()
                .map(|m| m.shown.clone())
                .collect::<Vec<_>>()
                .join("\n")
        }
    };
    ask(format!("/subscribe {other} tg"), "Subscribed").await;
    eventually("the chat feed subscribed", Duration::from_secs(30), || {
        w.hub.subscriptions().iter().any(|s| s.topic == other)
    })
    .await;
    // The config feed has push = "off": no subscription for it.
    assert!(w.hub.requests().iter().all(|(_, t)| *t == other));
    eventually(
        "the chat feed's subscription active",
        Duration::from_secs(20),
        || {
            store(w.dir.path())
                .subscription("127.0.0.1")
                .ok()
                .flatten()
                .is_some_and(|s| s.state == SubState::Active)
        },
    )
    .await;
    let feeds = ask("/feeds".into(), "[from chat]").await;
    assert!(feeds.contains("pushed by 127.0.0.1"), "{feeds}");

    let sent = w.hub.publish(&other, &doc(2), "application/rss+xml").await;
    assert_eq!(sent[0].status, Some(202));
    eventually("the pushed article posted", Duration::from_secs(20), || {
        w.posts_with("Story 002") == 1
    })
    .await;

    ask("/unsubscribe 127.0.0.1".into(), "Unsubscribed").await;
    eventually("the hub told", Duration::from_secs(30), || {
        w.hub.subscriptions().is_empty()
            && w.hub
                .verifications()
                .iter()
                .any(|v| v.mode == "unsubscribe" && v.confirmed && v.topic == other)
    })
    .await;
    d.stop().await;
}
