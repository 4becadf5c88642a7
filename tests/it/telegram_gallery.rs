//! Albums on Telegram (`gallery = true`), end to end: the daemon, a
//! loopback feed and the fake Bot API. An article with 3 pictures is one
//! media group with the caption on its first photo; an edit changes that
//! caption only; a retraction deletes every photo of the album; a refused
//! album goes out as its first photo, or as text where photos are not
//! allowed.

use std::time::Duration;

use crier_fakes::FakeTelegram;
use crier_fakes::feed::{FeedServer, Route};
use crier_fakes::telegram::{BotStatus, PhotoFailure, TgMessage, TgUser};
use crier_storage::State;

use crate::daemon::*;

const CHANNEL: i64 = -1_001_000_000_051;
const TEXT_ONLY: i64 = -1_001_000_000_052;
const LINK: &str = "https://news.example/g-1";

struct World {
    dir: tempfile::TempDir,
    feeds: FeedServer,
    tg: FakeTelegram,
}

async fn world() -> World {
    let tg = FakeTelegram::start().await.expect("fake telegram");
    tg.add_channel(CHANNEL, Some("album_news"));
    tg.add_supergroup(TEXT_ONLY, None, false, &[]);
    tg.set_bot_status(TEXT_ONLY, BotStatus::TextOnly);
    World {
        dir: tempfile::tempdir().expect("dir"),
        feeds: FeedServer::start().await.expect("feed server"),
        tg,
    }
}

fn picture(name: &str) -> String {
    format!("https://news.example/img/{name}.jpg")
}

/// The feed with one article of three pictures in its full text
/// (`content:encoded`; a description's pictures are not the article's).
fn feed(title: &str) -> String {
    feed_of(&[("g-1", title)])
}

/// A feed of articles `(guid, title)`, each with the same three pictures
/// (dated an hour apart, the first oldest); `g-1` links to [`LINK`].
fn feed_of(items: &[(&str, &str)]) -> String {
    let body: String = ["ridge", "lake", "hut"]
        .iter()
        .map(|p| format!(r#"<p>At the {p}.</p><img src="{}" alt="{p}">"#, picture(p)))
        .collect();
    let items: String = items
        .iter()
        .enumerate()
        .map(|(i, (guid, title))| {
            format!(
                r#"<item><title>{title}</title><link>https://news.example/{guid}</link><guid isPermaLink="false">{guid}</guid><pubDate>Sun, 29 Jan 2023 1{i}:46:40 +0000</pubDate><description>Three days.</description><content:encoded><![CDATA[{body}]]></content:encoded></item>
"#
            )
        })
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Loopback News</title><link>https://news.example/</link><description>d</description>
{items}</channel></rss>
"#
    )
}

impl World {
    fn start(&self, chats: &[(&str, i64)]) -> Daemon {
        self.start_with(chats, "")
    }

    /// `telegram` is added to the `[telegram]` section.
    fn start_with(&self, chats: &[(&str, i64)], telegram: &str) -> Daemon {
        let targets: String = chats
            .iter()
            .map(|(name, chat)| {
                format!(
                    "[[targets]]\nname = \"{name}\"\nplatform = \"telegram\"\nchat = \"{chat}\"\ngallery = true\n\n"
                )
            })
            .collect();
        let names: Vec<String> = chats.iter().map(|(n, _)| format!("\"{n}\"")).collect();
        let config = format!(
            r#"
[storage]
path = "crier.db"

[telegram]
token = "{token}"
api_url = "{api}"
timeout = "5s"
{telegram}

[commands]
allow_private_urls = true

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
targets = [{names}]

{targets}"#,
            token = FakeTelegram::TOKEN,
            api = self.tg.api_url(),
            feed = self.feeds.url("/feed.xml"),
            names = names.join(", "),
        );
        Daemon::start(self.dir.path(), &config)
    }
}

fn photos(msgs: &[TgMessage]) -> Vec<String> {
    msgs.iter().filter_map(|m| m.photo.clone()).collect()
}

#[tokio::test]
async fn an_album_is_edited_in_its_caption_and_deleted_whole() {
    let w = world().await;
    w.feeds
        .set("/feed.xml", Route::feed(feed("Three days on the ridge")));
    let d = w.start(&[("album", CHANNEL)]);
    eventually("the album", Duration::from_secs(20), || {
        w.tg.bot_posts(CHANNEL).len() == 3
    })
    .await;
    let posts = w.tg.bot_posts(CHANNEL);
    assert_eq!(photos(&posts), ["ridge", "lake", "hut"].map(picture));
    let group = posts[0].media_group_id.clone();
    assert!(group.is_some() && posts.iter().all(|m| m.media_group_id == group));
    assert_eq!(
        posts.iter().map(|m| m.message_id).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert!(
        posts[0].shown.starts_with("Three days on the ridge"),
        "{}",
        posts[0].shown
    );
    assert_eq!(posts[0].parse_mode.as_deref(), Some("HTML"));
    assert!(posts[1].caption.is_none() && posts[2].caption.is_none());
    // The album's pictures are not repeated as lines of its caption.
    assert!(!posts[0].shown.contains("🖼"), "{}", posts[0].shown);
    assert_eq!(w.tg.requests_to("sendMediaGroup").len(), 1);
    eventually("the row recorded", Duration::from_secs(10), || {
        rows_in(w.dir.path(), "album", State::Sent).len() == 1
    })
    .await;

    // The title changes: the first photo's caption is edited, nothing else.
    w.feeds.set(
        "/feed.xml",
        Route::feed(feed("Three days on the ridge, corrected")),
    );
    eventually("the edit", Duration::from_secs(20), || {
        w.tg.message(CHANNEL, 1).is_some_and(|m| m.edit_count == 1)
    })
    .await;
    let posts = w.tg.bot_posts(CHANNEL);
    assert!(
        posts[0]
            .shown
            .starts_with("Three days on the ridge, corrected"),
        "{}",
        posts[0].shown
    );
    assert!(posts[1..].iter().all(|m| m.edit_count == 0));
    assert_eq!(w.tg.messages(CHANNEL).len(), 3, "edited, not re-posted");
    assert_eq!(w.tg.requests_to("sendMediaGroup").len(), 1);

    // Retracted: every photo of the album goes, in one request.
    retract_by_link(w.dir.path(), LINK);
    eventually("the deletion", Duration::from_secs(20), || {
        w.tg.visible(CHANNEL).is_empty()
    })
    .await;
    d.stop().await;
    assert_eq!(w.tg.requests_to("deleteMessages").len(), 1);
    assert!(w.tg.requests_to("deleteMessage").is_empty());
    assert_eq!(w.tg.messages(CHANNEL).len(), 3);
}

#[tokio::test]
async fn a_refused_album_goes_out_as_its_first_photo_or_as_text() {
    let w = world().await;
    // Telegram cannot fetch the second picture: the album is refused.
    w.tg.fail_photo_url(&picture("lake"), PhotoFailure::WrongIdentifier);
    w.feeds
        .set("/feed.xml", Route::feed(feed("Three days on the ridge")));
    let d = w.start(&[("album", CHANNEL), ("group", TEXT_ONLY)]);
    eventually("both posts", Duration::from_secs(20), || {
        !w.tg.bot_posts(CHANNEL).is_empty() && !w.tg.bot_posts(TEXT_ONLY).is_empty()
    })
    .await;
    eventually("both rows recorded", Duration::from_secs(10), || {
        rows_in(w.dir.path(), "album", State::Sent).len() == 1
            && rows_in(w.dir.path(), "group", State::Sent).len() == 1
    })
    .await;
    d.stop().await;

    // The channel: the first picture as a photo with the caption.
    let posts = w.tg.bot_posts(CHANNEL);
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert_eq!(posts[0].photo.as_deref(), Some(picture("ridge").as_str()));
    assert!(posts[0].media_group_id.is_none());
    assert!(posts[0].shown.starts_with("Three days on the ridge"));
    let row = &rows_in(w.dir.path(), "album", State::Sent)[0];
    let note = row.reason.as_deref().unwrap_or("");
    assert!(
        note.contains("media group rejected") && note.contains("first photo"),
        "{row:?}"
    );

    // The group that takes no photos: text with the picture as a preview,
    // and the target stays in service.
    let posts = w.tg.bot_posts(TEXT_ONLY);
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert!(!posts[0].is_photo());
    assert!(posts[0].shown.starts_with("Three days on the ridge"));
    let preview = posts[0]
        .link_preview_options
        .as_ref()
        .map(|p| p.to_string())
        .unwrap_or_default();
    assert!(preview.contains("ridge.jpg"), "{preview}");
    let row = &rows_in(w.dir.path(), "group", State::Sent)[0];
    assert!(
        row.reason
            .as_deref()
            .is_some_and(|r| r.contains("not enough rights to send photos")),
        "{row:?}"
    );
    let st = store(w.dir.path()).target_state("group").expect("state");
    assert!(
        st.as_ref().is_none_or(|s| s.disabled_reason.is_none()),
        "still in service: {st:?}"
    );
}

/// `/preview` in a chat with the bot shows an album as a line saying so,
/// then its first photo with the caption.
#[tokio::test]
async fn a_preview_shows_an_album_as_its_first_photo() {
    const EDITOR: i64 = 200;
    let w = world().await;
    let editor = TgUser::new(EDITOR, "Eddie");
    w.tg.add_private(&editor);
    let body: String = ["ridge", "lake", "hut"]
        .iter()
        .map(|p| {
            format!(
                r#"<p>At the {p}, the third day of the walk.</p><img src="{}" alt="{p}">"#,
                picture(p)
            )
        })
        .collect();
    let page = format!(
        "<!doctype html><html><head><title>Three days on the ridge</title></head><body><article><h1>Three days on the ridge</h1>{body}</article></body></html>"
    );
    w.feeds
        .set("/walk.html", Route::ok(page, "text/html; charset=utf-8"));
    w.feeds.set("/feed.xml", Route::feed(feed("Unrelated")));
    let d = w.start_with(&[("album", CHANNEL)], &format!("editors = [{EDITOR}]"));
    w.tg.user_says(
        EDITOR,
        &editor,
        &format!("/preview {}", w.feeds.url("/walk.html")),
    );
    eventually("the preview", Duration::from_secs(20), || {
        w.tg.bot_posts(EDITOR).iter().any(|m| m.is_photo())
    })
    .await;
    d.stop().await;
    let inbox = w.tg.bot_posts(EDITOR);
    let at = inbox
        .iter()
        .position(|m| m.shown.contains("an album of 3 photos"))
        .unwrap_or_else(|| panic!("the album line: {inbox:?}"));
    let photo = &inbox[at + 1];
    assert_eq!(photo.photo.as_deref(), Some(picture("ridge").as_str()));
    assert!(
        photo.shown.starts_with("Three days on the ridge"),
        "{}",
        photo.shown
    );
}

/// Albums count one message per picture in Crier's own limiter as in
/// Telegram's: three albums in a row to one channel (the fake allows 3
/// messages per 3 s per chat) are paced, never refused with a 429.
#[tokio::test]
async fn albums_in_a_row_are_paced_without_a_429() {
    let w = world().await;
    w.feeds.set(
        "/feed.xml",
        Route::feed(feed_of(&[
            ("g-3", "Day three"),
            ("g-2", "Day two"),
            ("g-1", "Day one"),
        ])),
    );
    let d = w.start(&[("album", CHANNEL)]);
    eventually("three albums", Duration::from_secs(30), || {
        w.tg.bot_posts(CHANNEL).len() == 9
    })
    .await;
    d.stop().await;
    let sends = w.tg.requests_to("sendMediaGroup");
    assert_eq!(sends.len(), 3, "{sends:?}");
    assert!(sends.iter().all(|r| r.status == 200), "{sends:?}");
    assert!(
        w.tg.requests().iter().all(|r| r.status != 429),
        "no 429 at all"
    );
    // Each album waited for the one before to leave the chat's window.
    for pair in sends.windows(2) {
        let gap = pair[1].elapsed.saturating_sub(pair[0].elapsed);
        assert!(gap >= Duration::from_millis(2900), "{gap:?}");
    }
}
