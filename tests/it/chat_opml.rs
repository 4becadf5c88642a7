//! Chat `/import` and `/export` through the Telegram front-end: an admin
//! sends an OPML document (caption `/import`, or `/import` in reply to
//! it); the bot fetches it with `getFile` and the file endpoint of the
//! fake Bot API, adds the feeds as `crier feeds import` does, and they are
//! polled and delivered. `/export` answers with a document that reads back
//! to the watched feeds.

use std::collections::BTreeSet;
use std::time::Duration;

use crier_fakes::FakeTelegram;
use crier_fakes::feed::{FeedServer, Route};
use crier_fakes::telegram::{TgMessage, TgUser};

use crate::daemon::*;

const CHANNEL: i64 = -1_003_000_000_031;
const ADMIN: i64 = 100;
const EDITOR: i64 = 200;

pub struct World {
    pub dir: tempfile::TempDir,
    pub web: FeedServer,
    pub tg: FakeTelegram,
    pub admin: TgUser,
    pub editor: TgUser,
}

async fn world() -> World {
    let tg = FakeTelegram::start().await.expect("fake telegram");
    tg.add_channel(CHANNEL, Some("crier_news"));
    let admin = TgUser::new(ADMIN, "Ada").with_username("ada");
    let editor = TgUser::new(EDITOR, "Eddie");
    for u in [&admin, &editor] {
        tg.add_private(u);
    }
    World {
        dir: tempfile::tempdir().expect("dir"),
        web: FeedServer::start().await.expect("web"),
        tg,
        admin,
        editor,
    }
}

/// Items `(guid, title, body)` of a feed, newest first.
pub fn items(prefix: &str, titles: &[&str]) -> Vec<(String, String, String)> {
    titles
        .iter()
        .enumerate()
        .rev()
        .map(|(i, t)| {
            (
                format!("{prefix}-{i}"),
                t.to_string(),
                format!("<p>{t}.</p>"),
            )
        })
        .collect()
}

/// An OPML file of the web server's `/alpha.xml` and `/beta.xml` (in a
/// folder), the configured feed again, and a local file.
pub fn opml_of(web: &FeedServer) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>Old reader</title></head><body>
  <outline text="Alpha" title="Alpha Daily" type="rss" xmlUrl="{a}"/>
  <outline text="Folder">
    <outline text="Beta" type="rss" xmlUrl="{b}"/>
    <outline text="The same news" type="rss" xmlUrl="{news}"/>
  </outline>
  <outline text="Secrets" type="rss" xmlUrl="file:///etc/passwd"/>
</body></opml>
"#,
        a = web.url("/alpha.xml"),
        b = web.url("/beta.xml"),
        news = web.url("/feed.xml"),
    )
}

/// The URLs of an OPML document.
pub fn urls_of(opml: &str) -> BTreeSet<String> {
    crier::opml::parse(opml)
        .expect("an OPML document")
        .into_iter()
        .map(|f| f.url)
        .collect()
}

impl World {
    fn config(&self) -> String {
        format!(
            r#"
[telegram]
token = "{token}"
api_url = "{api}"
admins = [{ADMIN}]
editors = [{EDITOR}]

[commands]
allow_private_urls = true
subscribe_interval = "1s"

[delivery]
retry_base = "100ms"
recheck = "200ms"
shutdown_grace = "2s"

[[feeds]]
name = "news"
url = "{feed}"
interval = "1s"
targets = ["channel"]

[[targets]]
name = "channel"
platform = "telegram"
chat = "{CHANNEL}"
"#,
            token = FakeTelegram::TOKEN,
            api = self.tg.api_url(),
            feed = self.web.url("/feed.xml"),
        )
    }

    fn start(&self) -> Daemon {
        self.web
            .set("/feed.xml", Route::feed(rss(&items("n", &["News one"]))));
        self.web
            .set("/alpha.xml", Route::feed(rss(&items("a", &["Alpha one"]))));
        self.web
            .set("/beta.xml", Route::feed(rss(&items("b", &["Beta one"]))));
        Daemon::start(self.dir.path(), &self.config())
    }

    fn inbox(&self, user: i64) -> Vec<TgMessage> {
        self.tg.bot_posts(user)
    }

    /// Wait for the bot's messages to `user` after the first `before` to
    /// contain `expect`; all of them, joined.
    async fn answer(&self, user: i64, before: usize, expect: &str) -> String {
        eventually(
            &format!("an answer containing {expect:?}"),
            Duration::from_secs(20),
            || {
                self.inbox(user)
                    .iter()
                    .skip(before)
                    .any(|m| m.shown.contains(expect))
            },
        )
        .await;
        self.inbox(user)
            .iter()
            .skip(before)
            .map(|m| m.shown.clone())
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn dynamic(&self) -> Vec<crier_storage::DynamicFeed> {
        store(self.dir.path())
            .dynamic_feeds()
            .expect("dynamic feeds")
    }

    fn channel_shows(&self, text: &str) -> bool {
        self.tg
            .bot_posts(CHANNEL)
            .iter()
            .any(|m| m.shown.contains(text))
    }
}

#[tokio::test]
async fn an_admins_opml_document_is_imported_polled_and_delivered() {
    let w = world().await;
    let d = w.start();
    let before = w.inbox(ADMIN).len();
    w.tg.user_sends_document(
        ADMIN,
        &w.admin,
        "feeds.opml",
        opml_of(&w.web).as_bytes(),
        Some("/import"),
    );
    let said = w.answer(ADMIN, before, "imported 2 feeds").await;
    assert!(said.contains("From feeds.opml"), "{said}");
    assert!(said.contains("alpha-daily"), "{said}");
    assert!(said.contains("beta"), "{said}");
    assert!(said.contains("feed.xml: already watched"), "{said}");
    assert!(
        said.contains("file:///etc/passwd: not an http(s) URL"),
        "{said}"
    );
    // The file came through getFile and the file endpoint.
    assert_eq!(w.tg.requests_to("getFile").len(), 1);
    assert!(
        w.tg.requests()
            .iter()
            .any(|r| r.name == "file" && r.status == 200)
    );
    let rows = w.dynamic();
    let names: BTreeSet<&str> = rows.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, BTreeSet::from(["alpha-daily", "beta"]));
    assert!(rows.iter().all(|f| f.added_by == "telegram:100"));
    assert!(rows.iter().all(|f| f.targets == ["channel"]));

    // Watched at once: the first poll is the baseline, a new item posts.
    eventually("the imported feeds polled", Duration::from_secs(20), || {
        w.web.hits("/alpha.xml") > 0 && w.web.hits("/beta.xml") > 0
    })
    .await;
    // The first poll of each recorded its baseline (skipped rows, in the
    // same transaction): nothing of it can be sent now.
    eventually("the baselines recorded", Duration::from_secs(20), || {
        let s = store(w.dir.path());
        w.dynamic().iter().all(|f| {
            s.feed_state(&f.name)
                .ok()
                .flatten()
                .is_some_and(|st| st.baseline_done)
        })
    })
    .await;
    assert!(!w.channel_shows("Alpha one"), "the baseline is not posted");
    w.web.set(
        "/alpha.xml",
        Route::feed(rss(&items("a", &["Alpha one", "Alpha two"]))),
    );
    w.web.set(
        "/beta.xml",
        Route::feed(rss(&items("b", &["Beta one", "Beta two"]))),
    );
    eventually("the new items delivered", Duration::from_secs(20), || {
        w.channel_shows("Alpha two") && w.channel_shows("Beta two")
    })
    .await;

    // The same file again: nothing new, each feed reported.
    let before = w.inbox(ADMIN).len();
    w.tg.user_sends_document(
        ADMIN,
        &w.admin,
        "feeds.opml",
        opml_of(&w.web).as_bytes(),
        Some("/import"),
    );
    let said = w.answer(ADMIN, before, "imported 0 feeds").await;
    assert!(said.contains("alpha.xml: already watched"), "{said}");
    assert_eq!(w.dynamic().len(), 2);
    d.stop().await;
}

#[tokio::test]
async fn a_reply_imports_and_export_round_trips() {
    let w = world().await;
    let d = w.start();
    // The file first, then `/import` in reply to it, with a target named.
    let (_, doc) = w.tg.user_sends_document(
        ADMIN,
        &w.admin,
        "reader export.opml",
        opml_of(&w.web).as_bytes(),
        None,
    );
    let before = w.inbox(ADMIN).len();
    w.tg.user_replies(ADMIN, &w.admin, doc, "/import channel");
    w.answer(ADMIN, before, "imported 2 feeds").await;

    let before = w.inbox(ADMIN).len();
    w.tg.user_says(ADMIN, &w.admin, "/export");
    let said = w.answer(ADMIN, before, "3 feeds").await;
    assert!(said.contains("1 from config.toml, 2 added"), "{said}");
    eventually("the exported file", Duration::from_secs(20), || {
        w.inbox(ADMIN)
            .iter()
            .skip(before)
            .any(|m| m.document.is_some())
    })
    .await;
    let sent = w
        .inbox(ADMIN)
        .into_iter()
        .skip(before)
        .find(|m| m.document.is_some())
        .expect("a document");
    let doc = sent.document.clone().expect("document");
    assert_eq!(doc.file_name.as_deref(), Some("crier-feeds.opml"));
    let bytes =
        w.tg.document_bytes(ADMIN, sent.message_id)
            .expect("the document's content");
    let exported = urls_of(&String::from_utf8(bytes).expect("utf-8"));
    let expected: BTreeSet<String> = ["/feed.xml", "/alpha.xml", "/beta.xml"]
        .iter()
        .map(|p| w.web.url(p))
        .collect();
    assert_eq!(exported, expected);
    d.stop().await;
}

#[tokio::test]
async fn refusals_too_big_and_malformed_files_add_nothing() {
    let w = world().await;
    let d = w.start();
    // An editor is not an admin: refused, the file is not even fetched.
    let before = w.inbox(EDITOR).len();
    w.tg.user_sends_document(
        EDITOR,
        &w.editor,
        "feeds.opml",
        opml_of(&w.web).as_bytes(),
        Some("/import"),
    );
    w.answer(EDITOR, before, "not allowed").await;
    assert!(w.tg.requests_to("getFile").is_empty());

    // Over the 1 MiB cap (Telegram reports 2 MiB): refused before getFile.
    let before = w.inbox(ADMIN).len();
    w.tg.user_sends_document_of_size(
        ADMIN,
        &w.admin,
        "huge.opml",
        b"<opml/>",
        2 << 20,
        Some("/import"),
    );
    let said = w.answer(ADMIN, before, "too big").await;
    assert!(said.contains("2048 KiB"), "{said}");
    assert!(w.tg.requests_to("getFile").is_empty());

    // Not OPML: a clear reply.
    let before = w.inbox(ADMIN).len();
    w.tg.user_sends_document(
        ADMIN,
        &w.admin,
        "broken.opml",
        b"<opml version=\"2.0\"><body><outline",
        Some("/import"),
    );
    let said = w.answer(ADMIN, before, "Nothing was imported").await;
    assert!(
        said.contains("Cannot import broken.opml: not a valid OPML"),
        "{said}"
    );

    // No file at all: how to send one.
    let before = w.inbox(ADMIN).len();
    w.tg.user_says(ADMIN, &w.admin, "/import");
    w.answer(
        ADMIN,
        before,
        "Send the OPML file with /import as its caption",
    )
    .await;
    assert!(w.dynamic().is_empty());
    d.stop().await;
}
