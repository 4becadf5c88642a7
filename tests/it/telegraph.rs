//! Long articles as Telegraph pages (`telegraph = true`, full mode): the
//! adapter against the fake Bot API and the fake Telegraph API (the token
//! made once and kept in the store, a page and one message linking it, an
//! edit, a retraction, Telegraph down, FLOOD_WAIT, a revoked token), then
//! end to end with the daemon.

use std::sync::Arc;
use std::time::Duration;

use crier_bots::format::telegram::TelegramMessage;
use crier_bots::format::{FeedRenderOptions, Mode, TargetFormat};
use crier_bots::platform::{KvStore, MemoryKv};
use crier_bots::telegram::telegraph::{TOKEN_KEY, TelegraphClient, WITHDRAWN};
use crier_bots::telegram::{Limits, TelegramClient, TelegramOptions, TelegramTarget};
use crier_bots::{DeliveryError, MessageRef, Part, Post, SendCtx, Sent, Target};
use crier_fakes::feed::{FeedServer, Route};
use crier_fakes::telegram::TelegramLimits;
use crier_fakes::{FakeTelegram, FakeTelegraph, Fault};
use crier_storage::State;
use serde_json::json;
use url::Url;

use crate::daemon::*;

const CHANNEL: i64 = -1_001_000_000_061;
const LINK: &str = "https://news.example/long-1";

fn paragraphs(n: usize) -> String {
    "<p>The ridge walk took three days, with nights in huts and a long descent to the lake on the last afternoon.</p>".repeat(n)
}

fn long_post(title: &str) -> Post {
    Post {
        feed: "news".into(),
        source_title: Some("Loopback News".into()),
        title: title.into(),
        link: Some(LINK.into()),
        summary_html: Some("<p>Three days on the ridge, told day by day.</p>".into()),
        content_html: Some(paragraphs(80)),
        ..Post::default()
    }
}

fn ctx(id: i64) -> SendCtx {
    SendCtx {
        delivery_id: id,
        attempt: 1,
        article: "long".into(),
        sent_at: None,
    }
}

struct Kit {
    tg: FakeTelegram,
    tgph: FakeTelegraph,
    kv: Arc<MemoryKv>,
}

async fn kit() -> Kit {
    let tg = FakeTelegram::start().await.expect("fake telegram");
    tg.add_channel(CHANNEL, Some("long_news"));
    // The adapter's own pacing is cut to nothing here: so are the fake's
    // limits (the flood tests are elsewhere).
    tg.set_limits(TelegramLimits {
        per_chat: None,
        per_group: None,
        global: None,
    });
    Kit {
        tg,
        tgph: FakeTelegraph::start().await.expect("fake telegraph"),
        kv: Arc::new(MemoryKv::default()),
    }
}

impl Kit {
    /// A target with `telegraph = true` in full mode; `telegraph: false`
    /// builds it without an account (as `crier preview` does).
    fn target(&self, telegraph: bool) -> TelegramTarget {
        let client = TelegramClient::new(
            FakeTelegram::TOKEN,
            &Url::parse(&self.tg.api_url()).expect("url"),
            Limits {
                per_chat_gap: Duration::from_millis(1),
                per_group_per_minute: 10_000,
                global_per_second: 1_000,
            },
            Duration::from_secs(5),
        )
        .expect("client");
        let format = TargetFormat {
            mode: Mode::Full,
            telegraph: true,
            ..TargetFormat::default()
        };
        let account = telegraph.then(|| {
            TelegraphClient::new(
                &Url::parse(&self.tgph.api_url()).expect("url"),
                "Crier",
                None,
                self.kv.clone(),
                Duration::from_secs(5),
            )
            .expect("telegraph")
        });
        TelegramTarget::new(
            "long",
            client,
            TelegramOptions {
                chat: CHANNEL.to_string(),
                ..TelegramOptions::default()
            },
            format,
        )
        .with_telegraph(account)
    }
}

fn one_part(t: &TelegramTarget, post: &Post) -> Part {
    let parts = t
        .render(post, &FeedRenderOptions::default())
        .expect("render");
    assert_eq!(parts.len(), 1, "{parts:?}");
    parts.into_iter().next().expect("a part")
}

fn message_ref(sent: &Sent) -> MessageRef {
    sent.message.clone().expect("a message")
}

#[tokio::test]
async fn a_long_article_is_a_page_and_one_message_linking_it_the_token_made_once() {
    let k = kit().await;
    let t = k.target(true);
    let part = one_part(&t, &long_post("Three days on the ridge"));
    let m = TelegramMessage::from_payload(&part.payload).expect("payload");
    let page = m.telegraph.clone().expect("a Telegraph payload");
    let sent = t.send(&part, &ctx(1)).await.expect("sent");
    assert_eq!(sent.note, None);
    assert_eq!(k.tgph.accounts(), 1);
    assert_eq!(k.tgph.calls_to("createAccount").len(), 1);
    let pages = k.tgph.pages();
    assert_eq!(pages.len(), 1);
    let made = &pages[0];
    assert_eq!(made.title, "Three days on the ridge");
    assert_eq!(made.content, page.content, "the nodes as rendered");
    assert_eq!(made.author_url.as_deref(), Some(LINK));
    let url = format!("{}/{}", k.tgph.api_url(), made.path);
    // One Telegram message: the summary with the page's link, previewed.
    let posts = k.tg.bot_posts(CHANNEL);
    assert_eq!(posts.len(), 1, "{posts:?}");
    let text = posts[0].text.clone().unwrap_or_default();
    assert!(text.contains(&format!(r#"<a href="{url}">"#)), "{text}");
    assert!(
        posts[0].shown.contains("told day by day"),
        "{}",
        posts[0].shown
    );
    assert_eq!(
        posts[0]
            .link_preview_options
            .as_ref()
            .and_then(|o| o.get("url")),
        Some(&json!(url))
    );
    let r = message_ref(&sent);
    assert_eq!(r.id, format!("{CHANNEL}:1|{url}"));
    // The token is in the store, and used again: by this target, and by
    // another built on the same store (a restart).
    let token = k.kv.get(TOKEN_KEY).await.expect("kv").expect("a token");
    assert_eq!(token.len(), 60);
    t.send(&one_part(&t, &long_post("A second long walk")), &ctx(2))
        .await
        .expect("sent");
    let again = k.target(true);
    again
        .send(&one_part(&again, &long_post("A third long walk")), &ctx(3))
        .await
        .expect("sent");
    assert_eq!(k.tgph.calls_to("createAccount").len(), 1);
    assert_eq!(k.tgph.pages().len(), 3);
    assert!(
        k.tgph
            .calls_to("createPage")
            .iter()
            .all(|c| c.params.get("access_token") == Some(&token))
    );
    // The token is a secret: scrubbed from any text that leaves.
    let scrubbed = crier_bots::scrub::scrub(&format!("token={token}")).into_owned();
    assert!(!scrubbed.contains(&token), "{scrubbed}");
}

#[tokio::test]
async fn a_retry_after_telegram_refused_the_summary_reuses_the_page() {
    let k = kit().await;
    let t = k.target(true);
    let part = one_part(&t, &long_post("Three days"));
    // The page is made, then Telegram asks to wait.
    k.tg.inject(Fault::RateLimit(Duration::from_secs(2)).on("sendMessage"));
    let first = t.send(&part, &ctx(1)).await;
    assert!(
        matches!(first, Err(DeliveryError::RateLimited { .. })),
        "{first:?}"
    );
    assert_eq!(k.tgph.pages().len(), 1);
    let sent = t.send(&part, &ctx(1)).await.expect("sent");
    assert_eq!(k.tgph.calls_to("createPage").len(), 1, "one page");
    assert!(message_ref(&sent).id.ends_with(&k.tgph.pages()[0].path));
    assert_eq!(k.tg.bot_posts(CHANNEL).len(), 1);
    // How a member's preview shows it: the summary and the page to come.
    let shown = t.preview_text(&part);
    assert!(shown.contains("a Telegraph page \"Three days\""), "{shown}");
}

#[tokio::test]
async fn an_edit_updates_the_page_and_the_message_and_a_retraction_withdraws_the_page() {
    let k = kit().await;
    let t = k.target(true);
    let sent = t
        .send(&one_part(&t, &long_post("Three days")), &ctx(1))
        .await
        .expect("sent");
    let r = message_ref(&sent);
    let path = k.tgph.pages()[0].path.clone();

    let edited = t
        .edit(
            &r,
            &one_part(&t, &long_post("Three days, corrected")),
            &ctx(1),
        )
        .await
        .expect("edited");
    assert_eq!(edited.message.as_ref(), Some(&r), "the reference is kept");
    let page = k.tgph.page(&path).expect("page");
    assert_eq!(
        (page.edits, page.title.as_str()),
        (1, "Three days, corrected")
    );
    assert_eq!(k.tgph.calls_to("editPage").len(), 1);
    let msg = k.tg.message(CHANNEL, 1).expect("message");
    assert_eq!(msg.edit_count, 1);
    assert!(msg.shown.contains("Three days, corrected"), "{}", msg.shown);
    assert!(msg.text.unwrap_or_default().contains(&path));

    t.delete(&r, &ctx(1)).await.expect("deleted");
    let page = k.tgph.page(&path).expect("page");
    assert_eq!(page.content, json!([{"tag": "p", "children": [WITHDRAWN]}]));
    assert!(k.tg.visible(CHANNEL).is_empty());
}

#[tokio::test]
async fn telegraph_down_sends_the_split_messages_which_edits_and_deletes_follow() {
    let k = kit().await;
    let t = k.target(true);
    k.tgph.set_down(true);
    let part = one_part(&t, &long_post("Three days"));
    let split = TelegramMessage::from_payload(&part.payload)
        .and_then(|m| m.telegraph)
        .expect("page")
        .fallback;
    assert!(split.len() > 1);
    let sent = t.send(&part, &ctx(1)).await.expect("sent");
    let note = sent.note.clone().unwrap_or_default();
    assert!(note.starts_with("Telegraph failed"), "{note}");
    assert!(note.contains("split messages"), "{note}");
    let posts = k.tg.bot_posts(CHANNEL);
    assert_eq!(posts.len(), split.len());
    assert_eq!(
        posts.iter().map(|p| p.text.clone()).collect::<Vec<_>>(),
        split.iter().map(|m| m.text.clone()).collect::<Vec<_>>()
    );
    let r = message_ref(&sent);
    let ids: Vec<String> = (1..=split.len()).map(|i| i.to_string()).collect();
    assert_eq!(r.id, format!("{CHANNEL}:{}", ids.join("+")));
    assert!(k.tgph.pages().is_empty());

    // Telegram fails on a later split message: the retry sends the rest.
    let other = one_part(&t, &long_post("Four days"));
    k.tg.inject(
        Fault::RateLimit(Duration::from_secs(1))
            .on("sendMessage")
            .skip_first(1),
    );
    let failed = t.send(&other, &ctx(2)).await;
    assert!(
        matches!(failed, Err(DeliveryError::RateLimited { .. })),
        "{failed:?}"
    );
    assert_eq!(k.tg.bot_posts(CHANNEL).len(), split.len() + 1);
    let resent = t.send(&other, &ctx(2)).await.expect("sent");
    assert_eq!(k.tg.bot_posts(CHANNEL).len(), 2 * split.len(), "no repeat");
    let first_id = split.len() + 1;
    assert!(
        message_ref(&resent)
            .id
            .starts_with(&format!("{CHANNEL}:{first_id}+")),
        "{resent:?}"
    );

    // Still down at the edit: the split messages are edited one for one.
    t.edit(
        &r,
        &one_part(&t, &long_post("Three days, corrected")),
        &ctx(1),
    )
    .await
    .expect("edited");
    let first = k.tg.message(CHANNEL, 1).expect("first");
    assert!(
        first.shown.contains("Three days, corrected"),
        "{}",
        first.shown
    );
    t.delete(&r, &ctx(1)).await.expect("deleted");
    let left: Vec<i64> = k.tg.visible(CHANNEL).iter().map(|m| m.message_id).collect();
    let second: Vec<i64> = (first_id as i64..=(2 * split.len()) as i64).collect();
    assert_eq!(left, second, "the first post's messages are all gone");
}

#[tokio::test]
async fn flood_wait_is_a_rate_limit_and_a_revoked_token_makes_a_new_account_once() {
    let k = kit().await;
    let t = k.target(true);
    t.send(&one_part(&t, &long_post("Three days")), &ctx(1))
        .await
        .expect("sent");
    let old = k.kv.get(TOKEN_KEY).await.expect("kv").expect("token");
    // Telegraph asks to wait: the delivery waits as long, nothing is
    // posted; the next attempt goes through.
    let part = one_part(&t, &long_post("Four days"));
    k.tgph.fail_next("FLOOD_WAIT_7");
    assert_eq!(
        t.send(&part, &ctx(2)).await,
        Err(DeliveryError::RateLimited {
            retry_after: Duration::from_secs(7)
        })
    );
    assert_eq!(k.tg.bot_posts(CHANNEL).len(), 1);
    t.send(&part, &ctx(2)).await.expect("sent");
    assert_eq!(k.tg.bot_posts(CHANNEL).len(), 2);

    // The token stops working: a new account, stored, then the page.
    k.tgph.revoke_tokens();
    let fresh = k.target(true);
    fresh
        .send(&one_part(&fresh, &long_post("Another")), &ctx(3))
        .await
        .expect("sent");
    assert_eq!(k.tgph.calls_to("createAccount").len(), 2);
    let new = k.kv.get(TOKEN_KEY).await.expect("kv").expect("token");
    assert_ne!(new, old);
    assert_eq!(k.tgph.pages().len(), 3);
}

#[tokio::test]
async fn without_an_account_the_split_is_rendered_and_a_short_article_is_one_message() {
    let k = kit().await;
    let none = k.target(false);
    let parts = none
        .render(&long_post("Three days"), &FeedRenderOptions::default())
        .expect("render");
    assert!(parts.len() > 1);
    assert!(parts.iter().all(|p| p.payload.get("telegraph").is_none()));
    let t = k.target(true);
    let short = Post {
        content_html: Some("<p>Only this.</p>".into()),
        ..long_post("Short")
    };
    let parts = t
        .render(&short, &FeedRenderOptions::default())
        .expect("render");
    assert_eq!(parts.len(), 1);
    assert!(parts[0].payload.get("telegraph").is_none());
    t.send(&parts[0], &ctx(1)).await.expect("sent");
    assert_eq!(k.tgph.calls().len(), 0, "no Telegraph for a short article");
}

/// The feed: one long article (`content:encoded`).
fn feed(title: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Loopback News</title><link>https://news.example/</link><description>d</description>
<item><title>{title}</title><link>{LINK}</link><guid isPermaLink="false">long-1</guid><pubDate>Sun, 29 Jan 2023 10:46:40 +0000</pubDate><description>Three days on the ridge, told day by day.</description><content:encoded><![CDATA[{body}]]></content:encoded></item>
</channel></rss>
"#,
        body = paragraphs(80)
    )
}

#[tokio::test]
async fn end_to_end_a_long_article_is_published_edited_and_withdrawn() {
    let k = kit().await;
    let feeds = FeedServer::start().await.expect("feed server");
    feeds.set("/feed.xml", Route::feed(feed("Three days on the ridge")));
    let dir = tempfile::tempdir().expect("dir");
    let config = format!(
        r#"
[storage]
path = "crier.db"

[telegram]
token = "{token}"
api_url = "{api}"
timeout = "5s"

[telegram.telegraph]
api_url = "{tgph}"
short_name = "Loopback"

[delivery]
retry_base = "100ms"
retry_max = "1s"
recheck = "200ms"
shutdown_grace = "2s"

[[feeds]]
name = "news"
url = "{feed}"
interval = "1s"
backfill = 10
targets = ["long"]

[[targets]]
name = "long"
platform = "telegram"
chat = "{CHANNEL}"
mode = "full"
telegraph = true
"#,
        token = FakeTelegram::TOKEN,
        api = k.tg.api_url(),
        tgph = k.tgph.api_url(),
        feed = feeds.url("/feed.xml"),
    );
    let d = Daemon::start(dir.path(), &config);
    eventually("the post", Duration::from_secs(20), || {
        k.tg.bot_posts(CHANNEL).len() == 1 && k.tgph.pages().len() == 1
    })
    .await;
    let page = k.tgph.pages()[0].clone();
    assert_eq!(page.title, "Three days on the ridge");
    assert_eq!(
        k.tgph.calls_to("createAccount")[0].params["short_name"],
        "Loopback"
    );
    let posts = k.tg.bot_posts(CHANNEL);
    assert!(
        posts[0]
            .text
            .clone()
            .unwrap_or_default()
            .contains(&page.path),
        "{posts:?}"
    );
    eventually("the row recorded", Duration::from_secs(10), || {
        rows_in(dir.path(), "long", State::Sent).len() == 1
    })
    .await;
    let row = &rows_in(dir.path(), "long", State::Sent)[0];
    let id = row.message_id.clone().unwrap_or_default();
    assert!(id.ends_with(&page.path), "{id}");

    feeds.set(
        "/feed.xml",
        Route::feed(feed("Three days on the ridge, corrected")),
    );
    eventually("the edit", Duration::from_secs(20), || {
        k.tgph
            .page(&page.path)
            .is_some_and(|p| p.title == "Three days on the ridge, corrected")
            && k.tg.message(CHANNEL, 1).is_some_and(|m| m.edit_count == 1)
    })
    .await;

    retract_by_link(dir.path(), LINK);
    eventually("the retraction", Duration::from_secs(20), || {
        k.tg.visible(CHANNEL).is_empty()
    })
    .await;
    d.stop().await;
    // The account's token is in the database, and a restart uses it.
    let stored = store(dir.path())
        .platform_value(TOKEN_KEY)
        .expect("read")
        .expect("a token");
    assert_eq!(
        k.tgph.calls_to("createPage")[0].params.get("access_token"),
        Some(&stored)
    );
    feeds.set(
        "/feed.xml",
        Route::feed(feed("Three days on the ridge, corrected").replace("long-1", "long-2")),
    );
    let d = Daemon::start(dir.path(), &config);
    eventually("the second page", Duration::from_secs(20), || {
        k.tgph.pages().len() == 2
    })
    .await;
    d.stop().await;
    let withdrawn = k.tgph.page(&page.path).expect("page");
    assert_eq!(
        withdrawn.content,
        json!([{"tag": "p", "children": [WITHDRAWN]}])
    );
    assert_eq!(k.tgph.calls_to("createAccount").len(), 1, "made once");
    assert_eq!(k.tgph.calls_to("createPage").len(), 2);
}
