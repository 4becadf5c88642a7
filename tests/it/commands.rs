//! Admin and editor commands through the Telegram front-end: updates
//! injected into the fake Bot API's `getUpdates`, replies read from what
//! the bot sent to each private chat.

use std::time::Duration;

use crier_fakes::FakeTelegram;
use crier_fakes::feed::{FeedServer, Route};
use crier_fakes::telegram::{BotStatus, TgMessage, TgUser};

use crate::daemon::*;

const CHANNEL: i64 = -1_003_000_000_001;
const ADMIN: i64 = 100;
const EDITOR: i64 = 200;
const STRANGER: i64 = 300;
const PAGE: &str = include_str!("../fixtures/seed-article.html");

struct World {
    dir: tempfile::TempDir,
    web: FeedServer,
    tg: FakeTelegram,
    admin: TgUser,
    editor: TgUser,
    stranger: TgUser,
}

async fn world() -> World {
    let tg = FakeTelegram::start().await.expect("fake telegram");
    tg.add_channel(CHANNEL, Some("crier_news"));
    let admin = TgUser::new(ADMIN, "Ada").with_username("ada");
    let editor = TgUser::new(EDITOR, "Eddie");
    let stranger = TgUser::new(STRANGER, "Stan");
    for u in [&admin, &editor, &stranger] {
        tg.add_private(u);
    }
    World {
        dir: tempfile::tempdir().expect("dir"),
        web: FeedServer::start().await.expect("web"),
        tg,
        admin,
        editor,
        stranger,
    }
}

impl World {
    fn config(&self, extra: &str) -> String {
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
max_attempts = 2

{extra}

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

    fn start(&self, extra: &str) -> Daemon {
        Daemon::start(self.dir.path(), &self.config(extra))
    }

    /// What the bot sent to a user's private chat.
    fn inbox(&self, user: i64) -> Vec<TgMessage> {
        self.tg.bot_posts(user)
    }

    fn inbox_text(&self, user: i64) -> String {
        self.inbox(user)
            .iter()
            .map(|m| m.shown.clone())
            .collect::<Vec<_>>()
            .join("\n---\n")
    }

    /// Say something and wait for the bot's answer to contain `expect`.
    async fn ask(&self, user: &TgUser, text: &str, expect: &str) -> String {
        let before = self.inbox(user.id).len();
        self.tg.user_says(user.id, user, text);
        eventually(
            &format!("an answer to {text:?} containing {expect:?}"),
            Duration::from_secs(20),
            || {
                self.inbox(user.id)[before.min(self.inbox(user.id).len())..]
                    .iter()
                    .any(|m| m.shown.contains(expect))
            },
        )
        .await;
        self.inbox(user.id)[before..]
            .iter()
            .map(|m| m.shown.clone())
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn feed(&self, items: &[(String, String, String)]) {
        self.web.set("/feed.xml", Route::feed(rss(items)));
    }
}

#[tokio::test]
async fn roles_decide_who_may_do_what_and_strangers_are_refused_quietly() {
    let w = world().await;
    w.feed(&numbered("r", 1));
    let d = w.start("");
    let status = w.ask(&w.admin, "/status", "Feeds:").await;
    assert!(status.contains("Targets: 1 ok"), "{status}");
    assert!(status.contains("Queue:"), "{status}");

    let help = w.ask(&w.editor, "/help", "Commands:").await;
    assert!(
        help.contains("/publish") && !help.contains("/status"),
        "{help}"
    );
    w.ask(&w.editor, "/status", "not allowed").await;

    w.ask(&w.stranger, "/pause news", "not allowed").await;
    // A second attempt within a minute gets no answer (no spam through us).
    w.tg.user_says(STRANGER, &w.stranger, "/status");
    // The bot took that update, then answered one sent after it.
    eventually("the update taken", Duration::from_secs(20), || {
        w.tg.pending_updates().is_empty()
    })
    .await;
    // Bad and unknown commands get a usage line.
    w.ask(&w.admin, "/pause", "Usage: /pause <feed or target>")
        .await;
    assert_eq!(w.inbox(STRANGER).len(), 1, "{}", w.inbox_text(STRANGER));
    w.ask(&w.admin, "/frobnicate", "Unknown command /frobnicate")
        .await;
    // Commands addressed to another bot in a group are ignored; ours work.
    w.ask(
        &w.admin,
        &format!("/feeds@{}", FakeTelegram::BOT_USERNAME),
        "news [config]",
    )
    .await;

    // The command lists were registered per role.
    let sets = w.tg.commands();
    assert!(sets.iter().any(
        |s| s.scope["chat_id"] == ADMIN && s.commands.iter().any(|c| c["command"] == "status")
    ));
    assert!(
        sets.iter().any(|s| s.scope["chat_id"] == EDITOR
            && !s.commands.iter().any(|c| c["command"] == "status"))
    );
    d.stop().await;

    // Changing commands and refusals are in the audit log.
    let audit = store(w.dir.path()).audit_log(50).expect("audit");
    assert!(
        audit
            .iter()
            .any(|e| e.user_id == STRANGER.to_string() && e.outcome == "refused"),
        "{audit:?}"
    );
}

#[tokio::test]
async fn publish_previews_then_confirm_posts_and_reports_links() {
    let w = world().await;
    w.feed(&numbered("p", 1));
    w.web.set(
        "/2023/nato.html",
        Route::ok(PAGE, "text/html; charset=utf-8"),
    );
    let d = w.start("");
    let url = w.web.url("/2023/nato.html");
    w.ask(
        &w.editor,
        &format!("/publish {url}"),
        "Publish «Japan and NATO",
    )
    .await;
    // The preview is the exact Telegram post: a photo with a clean caption.
    let inbox = w.inbox(EDITOR);
    let photo = inbox
        .iter()
        .find(|m| m.is_photo())
        .expect("a photo preview");
    assert!(
        photo.shown.starts_with("Japan and NATO pledge"),
        "{}",
        photo.shown
    );
    assert!(!photo.shown.contains("Join Now"));
    assert!(w.tg.bot_posts(CHANNEL).is_empty(), "nothing before Confirm");
    let ask = inbox
        .iter()
        .rev()
        .find(|m| m.reply_markup.is_some())
        .expect("buttons");
    let data = ask.reply_markup.as_ref().expect("markup")["inline_keyboard"][0][0]["callback_data"]
        .as_str()
        .expect("data")
        .to_string();
    assert!(data.starts_with("pub:"));
    // Someone else cannot confirm it.
    w.tg.press_button(EDITOR, ask.message_id, &w.admin, &data);
    eventually("the refusal", Duration::from_secs(10), || {
        w.inbox(EDITOR)
            .iter()
            .any(|m| m.shown.contains("Only the editor who asked"))
    })
    .await;
    w.tg.press_button(EDITOR, ask.message_id, &w.editor, &data);
    eventually("the post in the channel", Duration::from_secs(20), || {
        w.tg.bot_posts(CHANNEL).len() == 1
    })
    .await;
    eventually("the report with a link", Duration::from_secs(20), || {
        w.inbox_text(EDITOR)
            .contains("published:\n• channel: https://t.me/crier_news/")
    })
    .await;
    // /why explains where it went.
    let why = w
        .ask(&w.admin, &format!("/why {url}"), "channel: delivered")
        .await;
    assert!(why.contains("https://t.me/crier_news/"), "{why}");
    // And /retract deletes it, with a report.
    w.ask(&w.editor, &format!("/retract {url}"), "Retracting")
        .await;
    eventually("the deletion", Duration::from_secs(20), || {
        w.tg.visible(CHANNEL).is_empty()
    })
    .await;
    eventually("the retract report", Duration::from_secs(20), || {
        w.inbox_text(EDITOR)
            .contains("retracted:\n• channel: 1 message(s) deleted")
    })
    .await;
    d.stop().await;
    let audit = store(w.dir.path()).audit_log(50).expect("audit");
    assert!(
        audit
            .iter()
            .any(|e| e.command.starts_with("/publish") && e.outcome.starts_with("Publishing")),
        "{audit:?}"
    );
}

#[tokio::test]
async fn why_explains_filtered_and_failed_articles() {
    let w = world().await;
    w.tg.set_bot_status(CHANNEL, BotStatus::NoRights);
    w.feed(&[(
        "w-1".into(),
        "Sponsored: buy now".into(),
        "<p>ad</p>".into(),
    )]);
    let extra = "";
    let cfg = w.config(extra).replace(
        "targets = [\"channel\"]",
        "targets = [\"channel\"]\nbackfill = 5\n[feeds.filter]\nexclude_keywords = [\"sponsored\"]",
    );
    let d = Daemon::start(w.dir.path(), &cfg);
    // /why before the first poll is recorded would be "not seen".
    eventually("the first poll", Duration::from_secs(20), || {
        !log(w.dir.path(), None).is_empty()
    })
    .await;
    let why = w
        .ask(&w.admin, "/why https://news.example/w-1", "channel:")
        .await;
    assert!(
        why.contains("filtered — feed filter: exclude_keywords"),
        "{why}"
    );
    // A failure: no rights in the channel → disabled; and an alert, once.
    w.feed(&[
        ("w-2".into(), "Real news".into(), "<p>x</p>".into()),
        (
            "w-1".into(),
            "Sponsored: buy now".into(),
            "<p>ad</p>".into(),
        ),
    ]);
    eventually("the alert", Duration::from_secs(20), || {
        w.inbox_text(ADMIN).contains("Target channel disabled")
    })
    .await;
    let why = w
        .ask(&w.admin, "/why https://news.example/w-2", "channel:")
        .await;
    assert!(why.contains("waiting — the target is disabled"), "{why}");
    w.feed(&[
        ("w-3".into(), "More news".into(), "<p>y</p>".into()),
        ("w-2".into(), "Real news".into(), "<p>x</p>".into()),
    ]);
    // The new article is queued (its worker woken) and the feed polled
    // once more after that: a second alert would have come by now.
    eventually("w-3 queued", Duration::from_secs(20), || {
        has_row(w.dir.path(), "channel", "https://news.example/w-3")
    })
    .await;
    polled_again(&w.web, "/feed.xml").await;
    let alerts = w
        .inbox(ADMIN)
        .iter()
        .filter(|m| m.shown.starts_with("⚠"))
        .count();
    assert_eq!(alerts, 1, "once per incident:\n{}", w.inbox_text(ADMIN));
    // Fixed, resumed: the waiting posts go out.
    w.tg.set_bot_status(CHANNEL, BotStatus::Member);
    w.ask(&w.admin, "/resume channel", "resumed").await;
    eventually("the waiting posts", Duration::from_secs(20), || {
        w.tg.bot_posts(CHANNEL).len() == 2
    })
    .await;
    d.stop().await;
}

#[tokio::test]
async fn pause_resume_and_retry() {
    let w = world().await;
    w.feed(&numbered("q", 1));
    let d = w.start("");
    w.ask(&w.admin, "/pause channel", "Target channel paused")
        .await;
    w.feed(&numbered("q", 2));
    eventually("q-2 queued", Duration::from_secs(20), || {
        has_row(w.dir.path(), "channel", "https://news.example/q-2")
    })
    .await;
    polled_again(&w.web, "/feed.xml").await;
    assert!(w.tg.bot_posts(CHANNEL).is_empty(), "paused");
    let targets = w.ask(&w.admin, "/targets", "channel (telegram)").await;
    assert!(targets.contains("PAUSED"), "{targets}");
    w.ask(&w.admin, "/resume channel", "resumed").await;
    eventually("the post", Duration::from_secs(20), || {
        w.tg.bot_posts(CHANNEL).len() == 1
    })
    .await;
    // A feed pauses and resumes too.
    w.ask(&w.admin, "/pause news", "Feed news paused").await;
    let feeds = w.ask(&w.admin, "/feeds", "news").await;
    assert!(feeds.contains("PAUSED"), "{feeds}");
    w.ask(&w.admin, "/resume news", "Feed news resumed").await;
    w.ask(&w.admin, "/retry all", "Nothing to retry").await;
    let log = w.ask(&w.admin, "/log 5", "channel sent").await;
    assert!(log.contains("Story 002"), "{log}");
    d.stop().await;
}

#[tokio::test]
async fn a_scheduled_post_survives_a_restart_and_can_be_cancelled() {
    let w = world().await;
    w.feed(&numbered("s", 1));
    w.web.set("/a.html", Route::ok(PAGE, "text/html"));
    w.web.set(
        "/b.html",
        Route::ok(
            PAGE.replace("Japan and NATO", "Later story")
                .replace("japan-and-nato", "later-story"),
            "text/html",
        ),
    );
    let d = w.start("");
    let scheduled = std::time::Instant::now();
    w.ask(
        &w.editor,
        &format!("/schedule +12s {}", w.web.url("/a.html")),
        "Scheduled #",
    )
    .await;
    let q = w.ask(&w.editor, "/queue", "Scheduled:").await;
    assert!(q.contains("Japan and NATO"), "{q}");
    let r = w
        .ask(
            &w.editor,
            &format!("/schedule +1h {}", w.web.url("/b.html")),
            "Scheduled #",
        )
        .await;
    let id: String = r
        .split("Scheduled #")
        .nth(1)
        .unwrap_or("")
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    w.ask(
        &w.editor,
        &format!("/cancel {id}"),
        &format!("Cancelled #{id}"),
    )
    .await;
    d.stop().await;
    assert!(
        scheduled.elapsed() < Duration::from_secs(12),
        "stopped before it was due"
    );
    assert!(w.tg.bot_posts(CHANNEL).is_empty());
    // Restarted: the first one goes out on time; the cancelled one never.
    let d = w.start("");
    eventually("the scheduled post", Duration::from_secs(30), || {
        w.tg.bot_posts(CHANNEL).len() == 1
    })
    .await;
    assert!(
        scheduled.elapsed() >= Duration::from_secs(12),
        "not before its time"
    );
    // Every row final (the cancelled one too) before counting.
    eventually("nothing left to send", Duration::from_secs(20), || {
        crate::support::unsettled(&store(w.dir.path())) == 0
    })
    .await;
    d.stop().await;
    let posts = w.tg.bot_posts(CHANNEL);
    assert_eq!(posts.len(), 1, "the cancelled one never");
    assert!(posts[0].shown.contains("Japan and NATO"));
}

#[tokio::test]
async fn an_editor_can_cross_post_a_formatted_message() {
    let w = world().await;
    w.feed(&numbered("m", 1));
    let d = w.start("");
    let (_, original) =
        w.tg.user_says(EDITOR, &w.editor, "Breaking: the bridge is open");
    w.tg.user_replies(EDITOR, &w.editor, original, "/post");
    eventually("the post", Duration::from_secs(20), || {
        w.tg.bot_posts(CHANNEL).len() == 1
    })
    .await;
    assert!(
        w.tg.bot_posts(CHANNEL)[0]
            .shown
            .contains("Breaking: the bridge is open")
    );
    // The same message twice is posted once.
    let before = w.inbox(EDITOR).len();
    w.tg.user_replies(EDITOR, &w.editor, original, "/post");
    eventually(
        "the answer to the second /post",
        Duration::from_secs(20),
        || {
            w.inbox(EDITOR)[before..]
                .iter()
                .any(|m| m.shown.contains("This message was posted before"))
        },
    )
    .await;
    // No new row was queued, so nothing more can be posted.
    eventually("nothing left to send", Duration::from_secs(20), || {
        crate::support::unsettled(&store(w.dir.path())) == 0
    })
    .await;
    assert_eq!(w.tg.bot_posts(CHANNEL).len(), 1);
    // Or: /post, then the message.
    w.ask(&w.editor, "/post", "Send the message to post now")
        .await;
    w.tg.user_says(EDITOR, &w.editor, "Second dispatch");
    eventually("the second post", Duration::from_secs(20), || {
        w.tg.bot_posts(CHANNEL).len() == 2
    })
    .await;
    d.stop().await;
}

#[tokio::test]
async fn subscribe_and_unsubscribe_from_chat() {
    let w = world().await;
    w.feed(&numbered("c", 1));
    w.web.set("/other.xml", Route::feed(rss(&numbered("o", 2))));
    let d = w.start("");
    let r = w
        .ask(
            &w.admin,
            &format!("/subscribe {} channel", w.web.url("/other.xml")),
            "Subscribed",
        )
        .await;
    assert!(r.contains("2 items now"), "{r}");
    let feeds = w.ask(&w.admin, "/feeds", "[from chat]").await;
    assert!(feeds.contains("127.0.0.1"), "{feeds}");
    // Only new items of the new feed are posted: once its backlog is
    // recorded, a third item appears.
    eventually("the new feed's first poll", Duration::from_secs(20), || {
        store(w.dir.path())
            .feed_state("127.0.0.1")
            .ok()
            .flatten()
            .is_some_and(|s| s.baseline_done)
    })
    .await;
    w.web.set("/other.xml", Route::feed(rss(&numbered("o", 3))));
    eventually("the new item", Duration::from_secs(30), || {
        w.tg.bot_posts(CHANNEL).len() == 1
    })
    .await;
    assert!(w.tg.bot_posts(CHANNEL)[0].shown.starts_with("Story 003"));
    d.stop().await;
    // It survives a restart, and config feeds cannot be removed from chat.
    let d = w.start("");
    w.ask(&w.admin, "/unsubscribe news", "comes from config.toml")
        .await;
    w.ask(&w.admin, "/unsubscribe 127.0.0.1", "Unsubscribed")
        .await;
    d.stop().await;
}

#[tokio::test]
async fn the_ssrf_guard_refuses_private_addresses() {
    let w = world().await;
    w.feed(&numbered("g", 1));
    w.web.set("/page.html", Route::ok(PAGE, "text/html"));
    let cfg = w
        .config("")
        .replace("allow_private_urls = true", "allow_private_urls = false");
    let d = Daemon::start(w.dir.path(), &cfg);
    let r = w
        .ask(
            &w.editor,
            &format!("/publish {}", w.web.url("/page.html")),
            "Cannot read",
        )
        .await;
    assert!(r.contains("not a public address"), "{r}");
    let r = w
        .ask(
            &w.editor,
            "/preview http://169.254.169.254/latest/meta-data/",
            "Cannot read",
        )
        .await;
    assert!(r.contains("not a public address"), "{r}");
    let r = w
        .ask(&w.editor, "/preview file:///etc/passwd", "Cannot read")
        .await;
    assert!(r.contains("not fetched for editors"), "{r}");
    assert_eq!(w.web.hits("/page.html"), 0, "never fetched");
    d.stop().await;
}
