//! The Telegram adapter, end to end: the daemon in-process, a loopback
//! feed server and the fake Bot API (real error texts, flood limits, 429s).

use std::time::Duration;

use crier_fakes::feed::{FeedServer, Route};
use crier_fakes::telegram::{BotStatus, PhotoFailure, TelegramLimits};
use crier_fakes::{FakeTelegram, Fault, Window};
use crier_storage::State;
use serde_json::json;

use crate::daemon::*;

const CHANNEL: i64 = -1_001_000_000_001;
const OTHER: i64 = -1_001_000_000_002;
const FORUM: i64 = -1_001_000_000_003;
const SEED: &str = include_str!("../fixtures/seed-wordpress-feed.xml");

struct World {
    dir: tempfile::TempDir,
    feeds: FeedServer,
    tg: FakeTelegram,
}

async fn world() -> World {
    let tg = FakeTelegram::start().await.expect("fake telegram");
    tg.add_channel(CHANNEL, Some("loopback_news"));
    tg.add_channel(OTHER, Some("other_news"));
    tg.add_supergroup(FORUM, None, true, &[7]);
    World {
        dir: tempfile::tempdir().expect("dir"),
        feeds: FeedServer::start().await.expect("feed server"),
        tg,
    }
}

impl World {
    /// A config with one feed (`/feed.xml`) routed to `targets`, described
    /// as TOML `[[targets]]` tables.
    fn config(&self, delivery: &str, targets_toml: &str, target_names: &[&str]) -> String {
        format!(
            r#"
[storage]
path = "crier.db"

[telegram]
token = "{token}"
api_url = "{api}"
timeout = "5s"

[delivery]
retry_base = "100ms"
retry_max = "1s"
recheck = "200ms"
shutdown_grace = "2s"
{delivery}

[[feeds]]
name = "news"
url = "{feed}"
interval = "1s"
backfill = 1000
targets = [{targets}]

{targets_toml}
"#,
            token = FakeTelegram::TOKEN,
            api = self.tg.api_url(),
            feed = self.feeds.url("/feed.xml"),
            targets = target_names
                .iter()
                .map(|t| format!("\"{t}\""))
                .collect::<Vec<_>>()
                .join(", "),
        )
    }

    fn start(&self, delivery: &str, targets_toml: &str, names: &[&str]) -> Daemon {
        Daemon::start(self.dir.path(), &self.config(delivery, targets_toml, names))
    }

    fn posts(&self, chat: i64) -> Vec<crier_fakes::telegram::TgMessage> {
        self.tg.bot_posts(chat)
    }
}

fn channel_target(name: &str, chat: &str) -> String {
    format!("[[targets]]\nname = \"{name}\"\nplatform = \"telegram\"\nchat = \"{chat}\"\n")
}

#[tokio::test]
async fn the_seed_feed_reaches_a_channel_and_a_forum_topic_clean() {
    let w = world().await;
    w.feeds.set("/feed.xml", Route::feed(SEED));
    let targets = format!(
        "{}\n[[targets]]\nname = \"topic\"\nplatform = \"telegram\"\nchat = \"{FORUM}\"\nthread = 7\nsilent = true\nread_more = true\n",
        channel_target("channel", "@loopback_news")
    );
    let d = w.start("", &targets, &["channel", "topic"]);
    eventually("both posts in both chats", Duration::from_secs(20), || {
        w.posts(CHANNEL).len() == 2 && w.posts(FORUM).len() == 2
    })
    .await;
    d.stop().await;

    let ch = w.posts(CHANNEL);
    // Oldest first: the APEC story, then the NATO one (with its photo).
    assert!(
        ch[0].shown.starts_with("Harris sends clear message"),
        "{}",
        ch[0].shown
    );
    assert!(ch[1].is_photo(), "an article with an image is a photo post");
    assert!(
        ch[1].shown.starts_with("Japan and NATO pledge"),
        "{}",
        ch[1].shown
    );
    for m in ch.iter().chain(w.posts(FORUM).iter()) {
        for noise in [
            "Join Now",
            "MUST READ",
            "appeared first on",
            "Subscribe",
            "Leave a Comment",
        ] {
            assert!(
                !m.shown.contains(noise),
                "{noise:?} leaked into:\n{}",
                m.shown
            );
        }
        assert_eq!(m.parse_mode.as_deref(), Some("HTML"));
    }
    let topic = w.posts(FORUM);
    assert!(
        topic.iter().all(|m| m.thread_id == Some(7)),
        "posted into the topic"
    );
    assert!(topic.iter().all(|m| m.disable_notification), "silent");
    assert!(
        topic.iter().all(|m| m
            .reply_markup
            .as_ref()
            .is_some_and(|k| k.to_string().contains("Read more"))),
        "read-more button"
    );
    // The log has every message id and a link to it.
    let sent = rows_in(w.dir.path(), "channel", State::Sent);
    assert_eq!(sent.len(), 2);
    assert!(sent.iter().all(|d| {
        d.message_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://t.me/loopback_news/"))
    }));
}

#[tokio::test]
async fn two_hundred_articles_arrive_in_order_without_a_429_storm() {
    let w = world().await;
    // Telegram's limits, scaled twenty times faster on both sides so the
    // test takes seconds instead of ten minutes; the pacing logic is the
    // same.
    w.tg.set_limits(TelegramLimits {
        per_chat: Some(Window::new(3, Duration::from_millis(150))),
        per_group: Some(Window::new(200, Duration::from_secs(60))),
        global: Some(Window::new(30, Duration::from_secs(1))),
    });
    w.feeds
        .set("/feed.xml", Route::feed(rss(&numbered("s", 200))));
    let cfg = w
        .config(
            "",
            &channel_target("channel", &CHANNEL.to_string()),
            &["channel"],
        )
        .replace(
            "timeout = \"5s\"",
            "timeout = \"5s\"\nper_chat_interval = \"75ms\"\ngroup_messages_per_minute = 200",
        );
    let d = Daemon::start(w.dir.path(), &cfg);
    eventually("200 posts", Duration::from_secs(150), || {
        w.posts(CHANNEL).len() == 200
    })
    .await;
    d.stop().await;
    let titles: Vec<String> = w
        .posts(CHANNEL)
        .iter()
        .map(|m| m.shown.lines().next().unwrap_or("").to_string())
        .collect();
    let expected: Vec<String> = (1..=200).map(|i| format!("Story {i:03}")).collect();
    assert_eq!(titles, expected, "in published order");
    let storms = w.tg.requests().iter().filter(|r| r.status == 429).count();
    assert!(storms <= 1, "{storms} answers were 429");
}

#[tokio::test]
async fn a_kicked_bot_disables_only_its_target_and_its_posts_wait() {
    let w = world().await;
    w.tg.set_bot_status(OTHER, BotStatus::Kicked);
    w.feeds
        .set("/feed.xml", Route::feed(rss(&numbered("k", 3))));
    let targets = format!(
        "{}{}",
        channel_target("good", &CHANNEL.to_string()),
        channel_target("kicked", &OTHER.to_string())
    );
    let d = w.start("", &targets, &["good", "kicked"]);
    eventually("the good channel's posts", Duration::from_secs(20), || {
        w.posts(CHANNEL).len() == 3
    })
    .await;
    let st = store(w.dir.path())
        .target_state("kicked")
        .expect("state")
        .expect("some");
    assert!(
        st.disabled_reason
            .as_deref()
            .unwrap_or("")
            .contains("bot was kicked"),
        "{st:?}"
    );
    assert_eq!(
        rows_in(w.dir.path(), "kicked", State::Pending).len(),
        3,
        "not lost"
    );
    assert_eq!(rows_in(w.dir.path(), "kicked", State::Failed).len(), 0);
    // One failed attempt, not a hammering.
    assert_eq!(
        w.tg.requests()
            .iter()
            .filter(|r| r.target.as_deref() == Some(&OTHER.to_string()))
            .count(),
        1
    );
    d.stop().await;

    // The bot is re-added and the target re-enabled (crier retry --target):
    // everything arrives, in order.
    w.tg.set_bot_status(OTHER, BotStatus::Member);
    store(w.dir.path())
        .set_target_disabled("kicked", None, 0)
        .expect("enable");
    let d = w.start("", &targets, &["good", "kicked"]);
    eventually("the waiting posts", Duration::from_secs(20), || {
        w.posts(OTHER).len() == 3
    })
    .await;
    d.stop().await;
    assert!(w.posts(OTHER)[0].shown.starts_with("Story 001"));
}

#[tokio::test]
async fn a_migrated_group_is_followed_to_its_supergroup() {
    let w = world().await;
    w.tg.add_group(-5551, "Old group");
    w.tg.add_supergroup(-1_005_551, None, false, &[]);
    w.tg.migrate_group(-5551, -1_005_551);
    w.feeds
        .set("/feed.xml", Route::feed(rss(&numbered("m", 2))));
    let d = w.start("", &channel_target("group", "-5551"), &["group"]);
    eventually("posts in the supergroup", Duration::from_secs(20), || {
        w.posts(-1_005_551).len() == 2
    })
    .await;
    d.stop().await;
    let st = store(w.dir.path())
        .target_state("group")
        .expect("st")
        .expect("some");
    assert_eq!(st.address_override.as_deref(), Some("-1005551"));
    assert!(w.posts(-5551).is_empty());
}

#[tokio::test]
async fn an_updated_article_is_edited_in_place_and_a_retraction_deletes_it() {
    let w = world().await;
    let item = |body: &str| {
        vec![(
            "u-1".to_string(),
            "Developing story".to_string(),
            body.to_string(),
        )]
    };
    w.feeds.set(
        "/feed.xml",
        Route::feed(rss(&item("<p>First version.</p>"))),
    );
    let d = w.start(
        "",
        &channel_target("channel", &CHANNEL.to_string()),
        &["channel"],
    );
    eventually("the post", Duration::from_secs(20), || {
        w.posts(CHANNEL).len() == 1
    })
    .await;
    w.feeds.set(
        "/feed.xml",
        Route::feed(rss(&item("<p>Second version, corrected.</p>"))),
    );
    eventually("the edit", Duration::from_secs(20), || {
        w.tg.visible(CHANNEL)
            .first()
            .is_some_and(|m| m.edit_count == 1)
    })
    .await;
    let m = &w.tg.visible(CHANNEL)[0];
    assert!(
        m.shown.contains("Second version, corrected."),
        "{}",
        m.shown
    );
    assert_eq!(w.posts(CHANNEL).len(), 1, "edited, not re-posted");

    // Retraction.
    retract_by_link(w.dir.path(), "https://news.example/u-1");
    eventually("the deletion", Duration::from_secs(20), || {
        w.tg.visible(CHANNEL).is_empty()
    })
    .await;
    d.stop().await;
}

#[tokio::test]
async fn a_message_older_than_48_hours_is_recorded_as_not_deletable() {
    let w = world().await;
    w.feeds
        .set("/feed.xml", Route::feed(rss(&numbered("o", 1))));
    let d = w.start(
        "",
        &channel_target("channel", &CHANNEL.to_string()),
        &["channel"],
    );
    eventually("the post", Duration::from_secs(20), || {
        w.posts(CHANNEL).len() == 1
    })
    .await;
    let m = w.posts(CHANNEL).remove(0);
    w.tg.age_message(CHANNEL, m.message_id, Duration::from_secs(49 * 3600));
    retract_by_link(w.dir.path(), "https://news.example/o-1");
    eventually("the delete attempt", Duration::from_secs(20), || {
        log(w.dir.path(), Some("channel")).iter().any(|e| {
            e.delivery.op == crier_storage::Op::Delete && e.delivery.state == State::Skipped
        })
    })
    .await;
    d.stop().await;
    let del = log(w.dir.path(), Some("channel"))
        .into_iter()
        .find(|e| e.delivery.op == crier_storage::Op::Delete)
        .expect("delete row");
    assert!(
        del.delivery
            .reason
            .as_deref()
            .unwrap_or("")
            .contains("can't be deleted"),
        "{:?}",
        del.delivery
    );
    assert_eq!(w.tg.visible(CHANNEL).len(), 1, "still there, and reported");
}

#[tokio::test]
async fn a_restart_in_the_middle_of_a_multipart_post_sends_the_remaining_parts_only() {
    let w = world().await;
    let long: String = (1..=40)
        .map(|i| {
            format!(
                "<p>Paragraph {i}: {}</p>",
                "lorem ipsum dolor sit amet ".repeat(12)
            )
        })
        .collect();
    let feed = format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\"><channel><title>T</title><link>https://news.example/</link><description>d</description><item><title>A long read</title><link>https://news.example/long-1</link><guid>long-1</guid><description>A long read, in full.</description><content:encoded><![CDATA[{long}]]></content:encoded></item></channel></rss>"
    );
    w.feeds.set("/feed.xml", Route::feed(feed));
    let targets = format!(
        "{}mode = \"full\"\n",
        channel_target("channel", &CHANNEL.to_string())
    );
    // The second message hangs long enough for the daemon to be killed.
    w.tg.inject(
        Fault::Delay(Duration::from_secs(30))
            .on("sendMessage")
            .target(CHANNEL)
            .times(1)
            .skip_first(1),
    );
    let d = w.start("", &targets, &["channel"]);
    eventually("the first part", Duration::from_secs(20), || {
        w.posts(CHANNEL).len() == 1
    })
    .await;
    eventually("the second part sending", Duration::from_secs(20), || {
        log(w.dir.path(), Some("channel"))
            .get(1)
            .is_some_and(|e| e.delivery.state == State::Sending)
    })
    .await;
    d.kill().await;
    let parts = log(w.dir.path(), Some("channel"));
    assert!(parts.len() > 2, "a multi-part post: {} parts", parts.len());
    assert_eq!(parts[1].delivery.state, State::Sending, "killed mid-send");
    w.tg.clear_faults();

    let d = w.start("", &targets, &["channel"]);
    let n = parts.len();
    eventually("every part", Duration::from_secs(30), || {
        w.posts(CHANNEL).len() >= n
    })
    .await;
    // Every part recorded: nothing is left to send twice.
    eventually("every part recorded", Duration::from_secs(20), || {
        crate::support::unsettled(&store(w.dir.path())) == 0
    })
    .await;
    d.stop().await;
    let shown: Vec<String> = w.posts(CHANNEL).iter().map(|m| m.shown.clone()).collect();
    assert_eq!(shown.len(), n, "no part twice: {shown:#?}");
    assert!(shown[0].starts_with("A long read"));
    for (i, s) in shown.iter().enumerate().skip(1) {
        assert!(!shown[..i].contains(s), "part {i} repeated");
    }
}

#[tokio::test]
async fn a_rejected_photo_falls_back_to_text_with_a_preview() {
    let w = world().await;
    w.tg.fail_photo_url(
        "https://meritnews24.example/wp-content/uploads/2023/02/kishida-stoltenberg.jpg",
        PhotoFailure::FetchFailed,
    );
    w.feeds.set("/feed.xml", Route::feed(SEED));
    let d = w.start(
        "",
        &channel_target("channel", &CHANNEL.to_string()),
        &["channel"],
    );
    eventually("two posts", Duration::from_secs(20), || {
        w.posts(CHANNEL).len() == 2
    })
    .await;
    d.stop().await;
    let nato = &w.posts(CHANNEL)[1];
    assert!(!nato.is_photo());
    let preview = nato
        .link_preview_options
        .as_ref()
        .expect("preview")
        .to_string();
    assert!(preview.contains("kishida-stoltenberg.jpg"), "{preview}");
    let row = &rows_in(w.dir.path(), "channel", State::Sent)[1];
    assert!(
        row.reason
            .as_deref()
            .unwrap_or("")
            .contains("photo rejected"),
        "{row:?}"
    );
}

/// A group that lets members send text but no photos: the photo post goes
/// out as text with the picture as its preview, and the target stays in
/// service (the rights error concerns the file, not the bot's posts).
#[tokio::test]
async fn a_group_without_photo_rights_gets_the_text_form() {
    const GROUP: i64 = -1_001_000_000_004;
    let w = world().await;
    w.tg.add_supergroup(GROUP, None, false, &[]);
    w.tg.set_bot_status(GROUP, BotStatus::TextOnly);
    w.feeds.set("/feed.xml", Route::feed(SEED));
    let d = w.start("", &channel_target("group", &GROUP.to_string()), &["group"]);
    eventually("two posts", Duration::from_secs(20), || {
        w.posts(GROUP).len() == 2
    })
    .await;
    d.stop().await;
    let nato = &w.posts(GROUP)[1];
    assert!(!nato.is_photo());
    assert!(
        nato.text.as_deref().unwrap_or("").contains("NATO"),
        "{nato:?}"
    );
    let preview = nato
        .link_preview_options
        .as_ref()
        .expect("preview")
        .to_string();
    assert!(preview.contains("kishida-stoltenberg.jpg"), "{preview}");
    let st = store(w.dir.path()).target_state("group").expect("state");
    assert!(
        st.as_ref().is_none_or(|s| s.disabled_reason.is_none()),
        "still in service: {st:?}"
    );
    assert_eq!(rows_in(w.dir.path(), "group", State::Sent).len(), 2);
}

#[tokio::test]
async fn rejected_entities_are_resent_as_plain_text() {
    let w = world().await;
    w.tg.inject(
        Fault::Status(
            400,
            json!({"ok": false, "error_code": 400, "description": "Bad Request: can't parse entities: Unsupported start tag \"x\" at byte offset 0"}),
        )
        .on("sendMessage")
        .times(1),
    );
    w.feeds
        .set("/feed.xml", Route::feed(rss(&numbered("e", 1))));
    let d = w.start(
        "",
        &channel_target("channel", &CHANNEL.to_string()),
        &["channel"],
    );
    eventually("the post", Duration::from_secs(20), || {
        w.posts(CHANNEL).len() == 1
    })
    .await;
    d.stop().await;
    let m = &w.posts(CHANNEL)[0];
    assert_eq!(m.parse_mode, None, "plain text");
    assert!(m.shown.starts_with("Story 001"), "{}", m.shown);
    let row = &rows_in(w.dir.path(), "channel", State::Sent)[0];
    assert!(
        row.reason
            .as_deref()
            .unwrap_or("")
            .contains("sent as plain text")
    );
}

#[tokio::test]
async fn a_429_waits_retry_after_and_stalls_only_its_chat() {
    let w = world().await;
    w.tg.inject(
        Fault::RateLimit(Duration::from_secs(3))
            .on("sendMessage")
            .target(CHANNEL)
            .times(1),
    );
    w.feeds
        .set("/feed.xml", Route::feed(rss(&numbered("r", 1))));
    let targets = format!(
        "{}{}",
        channel_target("slow", &CHANNEL.to_string()),
        channel_target("fast", &OTHER.to_string())
    );
    let start = std::time::Instant::now();
    let d = w.start("", &targets, &["slow", "fast"]);
    eventually("the other chat", Duration::from_secs(10), || {
        w.posts(OTHER).len() == 1
    })
    .await;
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "not stalled by the other chat's 429"
    );
    eventually("the rate-limited chat", Duration::from_secs(15), || {
        w.posts(CHANNEL).len() == 1
    })
    .await;
    assert!(
        start.elapsed() >= Duration::from_secs(3),
        "waited retry_after"
    );
    d.stop().await;
    assert_eq!(w.posts(CHANNEL).len(), 1, "sent once");
    let row = &rows_in(w.dir.path(), "slow", State::Sent)[0];
    assert_eq!(row.attempts, 1, "a 429 is not a failed attempt");
}

#[tokio::test]
async fn network_errors_retry_then_fail_and_crier_retry_requeues() {
    let w = world().await;
    w.tg.inject(Fault::DropBeforeApply.on("sendMessage").times(3));
    w.feeds
        .set("/feed.xml", Route::feed(rss(&numbered("n", 1))));
    let d = w.start(
        "max_attempts = 3",
        &channel_target("channel", &CHANNEL.to_string()),
        &["channel"],
    );
    eventually("the failure", Duration::from_secs(20), || {
        rows_in(w.dir.path(), "channel", State::Failed).len() == 1
    })
    .await;
    let failed = &rows_in(w.dir.path(), "channel", State::Failed)[0];
    assert_eq!(failed.attempts, 3);
    assert!(
        failed
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("after 3 attempts"),
        "{failed:?}"
    );
    assert!(w.posts(CHANNEL).is_empty());
    // crier retry
    store(w.dir.path())
        .requeue_failed(None, Some("channel"), crier::clock::Clock::System.now_ms())
        .expect("requeue");
    eventually("the post", Duration::from_secs(20), || {
        w.posts(CHANNEL).len() == 1
    })
    .await;
    d.stop().await;
}

#[tokio::test]
async fn an_ambiguous_failure_follows_the_documented_policy() {
    // Default (resend): never lost; the possible duplicate is recorded.
    let w = world().await;
    w.tg.inject(Fault::ApplyThenDrop.on("sendMessage").times(1));
    w.feeds
        .set("/feed.xml", Route::feed(rss(&numbered("a", 1))));
    let d = w.start(
        "",
        &channel_target("channel", &CHANNEL.to_string()),
        &["channel"],
    );
    eventually("the resend", Duration::from_secs(20), || {
        rows_in(w.dir.path(), "channel", State::Sent).len() == 1
    })
    .await;
    d.stop().await;
    assert_eq!(
        w.posts(CHANNEL).len(),
        2,
        "the request had arrived: a duplicate, as the policy says"
    );
    assert!(
        rows_in(w.dir.path(), "channel", State::Sent)[0].ambiguous,
        "and it is recorded"
    );

    // assume_sent: never duplicated; recorded.
    let w = world().await;
    w.tg.inject(Fault::ApplyThenDrop.on("sendMessage").times(1));
    w.feeds
        .set("/feed.xml", Route::feed(rss(&numbered("a", 1))));
    let d = w.start(
        "ambiguous = \"assume_sent\"",
        &channel_target("channel", &CHANNEL.to_string()),
        &["channel"],
    );
    eventually("the row", Duration::from_secs(20), || {
        rows_in(w.dir.path(), "channel", State::Sent).len() == 1
    })
    .await;
    d.stop().await;
    assert_eq!(w.posts(CHANNEL).len(), 1);
    let row = &rows_in(w.dir.path(), "channel", State::Sent)[0];
    assert!(
        row.reason.as_deref().unwrap_or("").contains("assumed sent"),
        "{row:?}"
    );
}

#[tokio::test]
async fn a_server_error_is_retried() {
    // teloxide waits 10 s before reading a 5xx answer: one is enough here.
    let w = world().await;
    w.tg.inject(
        Fault::Status(502, serde_json::Value::Null)
            .on("sendMessage")
            .times(1),
    );
    w.feeds
        .set("/feed.xml", Route::feed(rss(&numbered("x", 1))));
    // The request timeout must outlast teloxide's 10 s pause (the default is 30 s).
    let cfg = w
        .config(
            "",
            &channel_target("channel", &CHANNEL.to_string()),
            &["channel"],
        )
        .replace("timeout = \"5s\"", "timeout = \"15s\"");
    let d = Daemon::start(w.dir.path(), &cfg);
    eventually("the post", Duration::from_secs(30), || {
        w.posts(CHANNEL).len() == 1
    })
    .await;
    d.stop().await;
    let row = &rows_in(w.dir.path(), "channel", State::Sent)[0];
    assert_eq!(row.attempts, 2);
    assert!(!row.ambiguous);
}

const EPISODE: &str = "https://media.news.example/ep-7.mp3";

/// A podcast feed of one episode: an MP3 of `length` bytes, an image.
fn podcast(body: &str, length: u64) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel><title>Loopback Radio</title><link>https://news.example/</link><description>d</description>
<item><title>Ep. 7: Frost</title><link>https://news.example/ep-7</link><guid isPermaLink="false">ep-7</guid>
<pubDate>Mon, 02 Dec 2024 05:00:00 +0000</pubDate><description><![CDATA[{body}]]></description>
<enclosure url="{EPISODE}" length="{length}" type="audio/mpeg"/>
<itunes:image href="https://news.example/ep-7.jpg"/>
</item></channel></rss>
"#
    )
}

#[tokio::test]
async fn a_podcast_episode_is_an_audio_message_edited_as_a_caption_and_deleted() {
    let w = world().await;
    w.feeds.set(
        "/feed.xml",
        Route::feed(podcast("<p>Birdsong at dawn.</p>", 12_000_000)),
    );
    let d = w.start(
        "",
        &format!(
            "{}silent = true\nread_more = true\n",
            channel_target("channel", &CHANNEL.to_string())
        ),
        &["channel"],
    );
    eventually("the episode", Duration::from_secs(20), || {
        w.posts(CHANNEL).len() == 1
    })
    .await;
    let m = w.posts(CHANNEL).remove(0);
    let audio = m
        .audio
        .as_ref()
        .unwrap_or_else(|| panic!("an audio message: {m:?}"));
    assert_eq!(audio.source, EPISODE);
    assert!(!m.is_photo() && m.text.is_none());
    assert!(m.shown.contains("Birdsong at dawn."), "{}", m.shown);
    assert!(
        !m.shown.contains("Listen") && !m.caption.as_deref().unwrap_or("").contains(EPISODE),
        "the player is the audio: {:?}",
        m.caption
    );
    assert!(m.disable_notification, "silent like any send");
    assert!(m.reply_markup.is_some(), "the read-more button");

    // An update edits the caption in place.
    w.feeds.set(
        "/feed.xml",
        Route::feed(podcast("<p>Birdsong at dawn, corrected.</p>", 12_000_000)),
    );
    eventually("the edit", Duration::from_secs(20), || {
        w.tg.visible(CHANNEL)
            .first()
            .is_some_and(|m| m.edit_count == 1)
    })
    .await;
    let m = &w.tg.visible(CHANNEL)[0];
    assert!(m.shown.contains("corrected"), "{}", m.shown);
    assert!(m.audio.is_some());
    assert_eq!(w.posts(CHANNEL).len(), 1, "edited, not re-posted");

    // A retraction deletes it.
    retract_by_link(w.dir.path(), "https://news.example/ep-7");
    eventually("the deletion", Duration::from_secs(20), || {
        w.tg.visible(CHANNEL).is_empty()
    })
    .await;
    d.stop().await;
}

#[tokio::test]
async fn a_refused_audio_file_falls_back_to_text_with_the_link_line() {
    let w = world().await;
    w.tg.fail_audio_url(EPISODE, PhotoFailure::FetchFailed);
    w.feeds.set(
        "/feed.xml",
        Route::feed(podcast("<p>Birdsong at dawn.</p>", 12_000_000)),
    );
    let d = w.start(
        "",
        &channel_target("channel", &CHANNEL.to_string()),
        &["channel"],
    );
    eventually("the episode", Duration::from_secs(20), || {
        w.posts(CHANNEL).len() == 1
    })
    .await;
    let m = w.posts(CHANNEL).remove(0);
    assert!(m.audio.is_none() && !m.is_photo(), "{m:?}");
    assert!(m.shown.contains("Birdsong at dawn."), "{}", m.shown);
    assert!(m.shown.contains("🎧 Listen (MP3, 12 MB)"), "{}", m.shown);
    assert!(m.text.as_deref().unwrap_or("").contains(EPISODE));
    let preview = m.link_preview_options.as_ref().map(|p| p.to_string());
    assert!(
        preview.as_deref().unwrap_or("").contains("ep-7.jpg"),
        "the image above the text: {preview:?}"
    );
    // The fake shows the message before Crier records it as sent.
    eventually("the episode recorded", Duration::from_secs(20), || {
        !rows_in(w.dir.path(), "channel", State::Sent).is_empty()
    })
    .await;
    let row = &rows_in(w.dir.path(), "channel", State::Sent)[0];
    let reason = row.reason.as_deref().unwrap_or("");
    assert!(
        reason.contains("audio rejected") && reason.contains("failed to get HTTP URL content"),
        "{row:?}"
    );

    // An update edits the text it became (the caption edit is refused:
    // the message has no caption).
    w.feeds.set(
        "/feed.xml",
        Route::feed(podcast("<p>Birdsong at dawn, corrected.</p>", 12_000_000)),
    );
    eventually("the edit", Duration::from_secs(20), || {
        w.tg.visible(CHANNEL)
            .first()
            .is_some_and(|m| m.edit_count == 1)
    })
    .await;
    d.stop().await;
    let m = &w.tg.visible(CHANNEL)[0];
    assert!(m.shown.contains("corrected"), "{}", m.shown);
    assert!(m.shown.contains("🎧 Listen (MP3, 12 MB)"), "{}", m.shown);
    assert_eq!(w.posts(CHANNEL).len(), 1, "edited, not re-posted");
}
