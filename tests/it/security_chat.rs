//! Regression tests of issue #12, chat side: other members' presses on an
//! editor's buttons, strangers filling the audit log.

use std::time::Duration;

use crier_fakes::FakeTelegram;
use crier_fakes::feed::{FeedServer, Route};
use crier_fakes::telegram::TgUser;

use crate::daemon::*;

const CHANNEL: i64 = -1_012_100_000_001;
const GROUP: i64 = -12_100_000_002;
const ADMIN: i64 = 1211;
const EDITOR: i64 = 1212;
const STRANGER: i64 = 1213;
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
    tg.add_channel(CHANNEL, Some("sec_chat_news"));
    tg.add_group(GROUP, "Newsroom");
    let admin = TgUser::new(ADMIN, "Ada");
    let editor = TgUser::new(EDITOR, "Eddie");
    let stranger = TgUser::new(STRANGER, "Stan");
    for u in [&admin, &editor, &stranger] {
        tg.add_private(u);
    }
    let web = FeedServer::start().await.expect("web");
    web.set("/feed.xml", Route::feed(rss(&numbered("chat", 1))));
    World {
        dir: tempfile::tempdir().expect("dir"),
        web,
        tg,
        admin,
        editor,
        stranger,
    }
}

impl World {
    fn start(&self) -> Daemon {
        let config = format!(
            r#"
[telegram]
token = "{token}"
api_url = "{api}"
admins = [{ADMIN}]
editors = [{EDITOR}]

[commands]
allow_private_urls = true
audit_max_rows = 1000

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
        );
        Daemon::start(self.dir.path(), &config)
    }

    fn said_in(&self, chat: i64, text: &str) -> usize {
        self.tg
            .bot_posts(chat)
            .iter()
            .filter(|m| m.shown.contains(text))
            .count()
    }
}

#[tokio::test]
async fn another_members_press_leaves_the_buttons_and_is_refused_once() {
    let w = world().await;
    w.web
        .set("/story.html", Route::ok(PAGE, "text/html; charset=utf-8"));
    let url = w.web.url("/story.html");
    let d = w.start();
    w.tg.user_says(
        GROUP,
        &w.editor,
        &format!("/publish@{} {url}", FakeTelegram::BOT_USERNAME),
    );
    eventually("the question with buttons", Duration::from_secs(20), || {
        w.tg.bot_posts(GROUP)
            .iter()
            .any(|m| m.reply_markup.is_some())
    })
    .await;
    let ask =
        w.tg.bot_posts(GROUP)
            .into_iter()
            .rev()
            .find(|m| m.reply_markup.is_some())
            .expect("buttons");
    let data = ask.reply_markup.as_ref().expect("markup")["inline_keyboard"][0][0]["callback_data"]
        .as_str()
        .expect("data")
        .to_string();
    let keyboard = |w: &World| {
        w.tg.message(GROUP, ask.message_id)
            .and_then(|m| m.reply_markup)
            .map(|k| k["inline_keyboard"].as_array().map_or(0, Vec::len))
            .unwrap_or(0)
    };
    // A member who is not the editor presses Confirm, three times.
    for _ in 0..3 {
        w.tg.press_button(GROUP, ask.message_id, &w.stranger, &data);
    }
    eventually("the refusal", Duration::from_secs(10), || {
        w.said_in(GROUP, "Only the editor who asked") >= 1
    })
    .await;
    assert!(keyboard(&w) > 0, "the editor's buttons are still there");
    // The editor's own press works.
    w.tg.press_button(GROUP, ask.message_id, &w.editor, &data);
    eventually("the post in the channel", Duration::from_secs(20), || {
        w.tg.bot_posts(CHANNEL).len() == 1
    })
    .await;
    assert_eq!(
        w.said_in(GROUP, "Only the editor who asked"),
        1,
        "the refusal is rate-limited"
    );
    let gone = tokio::time::timeout(Duration::from_secs(10), async {
        while keyboard(&w) != 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(
        gone.is_ok(),
        "the buttons are gone once used: {:?} / {:?}",
        w.tg.message(GROUP, ask.message_id).map(|m| m.reply_markup),
        w.tg.requests_to("editMessageReplyMarkup")
    );
    d.stop().await;
}

#[tokio::test]
async fn strangers_refusals_leave_a_bounded_audit_log() {
    let w = world().await;
    let d = w.start();
    let long = format!("https://example.com/{}", "a".repeat(3000));
    for _ in 0..41 {
        w.tg.user_says(STRANGER, &w.stranger, &format!("/publish {long}"));
    }
    // A positive signal that the batch was read: an admin's answer after it.
    w.tg.user_says(ADMIN, &w.admin, "/status");
    eventually("the admin's answer", Duration::from_secs(20), || {
        w.said_in(ADMIN, "Feeds:") == 1
    })
    .await;
    eventually("the first refusal", Duration::from_secs(10), || {
        w.said_in(STRANGER, "not allowed") == 1
    })
    .await;
    let audit = store(w.dir.path()).audit_log(1000).expect("audit");
    let rows: Vec<_> = audit
        .iter()
        .filter(|e| e.user_id == STRANGER.to_string())
        .collect();
    let bytes: usize = rows.iter().map(|e| e.command.len() + e.outcome.len()).sum();
    assert_eq!(rows.len(), 1, "one row per window: {rows:?}");
    assert!(bytes < 1500, "{bytes} bytes stored for 41 refusals");
    assert!(
        rows[0].command.chars().count() <= 301,
        "{}",
        rows[0].command
    );
    assert_eq!(w.said_in(STRANGER, "not allowed"), 1);
    d.stop().await;
}

#[tokio::test]
async fn until_the_bot_knows_its_name_commands_for_other_bots_are_ignored() {
    let w = world().await;
    // getMe never answers properly: the bot cannot learn its user name.
    w.tg.inject(crier_fakes::Fault::EchoPathHtml(404).always().on("getMe"));
    let d = w.start();
    w.tg.user_says(GROUP, &w.admin, "/status@other_bot");
    // A positive signal that the updates were read: a private answer after.
    w.tg.user_says(ADMIN, &w.admin, "/status");
    eventually("the private answer", Duration::from_secs(20), || {
        w.said_in(ADMIN, "Feeds:") == 1
    })
    .await;
    assert!(
        w.tg.bot_posts(GROUP).is_empty(),
        "a command for another bot was answered: {:?}",
        w.tg.bot_posts(GROUP)
    );
    d.stop().await;
}

#[tokio::test]
async fn admin_answers_asked_in_a_group_go_to_private() {
    let w = world().await;
    let d = w.start();
    w.tg.user_says(
        GROUP,
        &w.admin,
        &format!("/feeds@{}", FakeTelegram::BOT_USERNAME),
    );
    eventually("the answer in private", Duration::from_secs(20), || {
        w.said_in(ADMIN, "/feed.xml") == 1
    })
    .await;
    eventually("the note in the group", Duration::from_secs(10), || {
        w.said_in(GROUP, "Answered in private.") == 1
    })
    .await;
    assert_eq!(w.said_in(GROUP, "/feed.xml"), 0, "no feed URL in the group");
    d.stop().await;
}

#[tokio::test]
async fn a_second_fetch_by_the_same_editor_is_told_to_wait() {
    let w = world().await;
    w.web.set(
        "/slow.html",
        Route::ok(PAGE, "text/html; charset=utf-8").slow(Duration::from_secs(3)),
    );
    let url = w.web.url("/slow.html");
    let d = w.start();
    w.tg.user_says(EDITOR, &w.editor, &format!("/preview {url}"));
    w.tg.user_says(EDITOR, &w.editor, &format!("/preview {url}"));
    eventually("the busy answer", Duration::from_secs(20), || {
        w.said_in(EDITOR, "Busy: your previous fetch") == 1
    })
    .await;
    eventually("the first preview", Duration::from_secs(20), || {
        w.said_in(EDITOR, "Preview of") == 1
    })
    .await;
    assert_eq!(w.web.hits("/slow.html"), 1, "one fetch only");
    d.stop().await;
}
