//! Admin and editor commands through the Discord front-end: slash commands
//! and button clicks dispatched by the fake gateway (serenity's client is
//! connected to it), answers read from what the bot sent through the fake
//! REST API (interaction responses, `@original` edits, follow-ups, DMs).

use std::time::Duration;

use crier_bots::commands::{COMMANDS, Role};
use crier_fakes::discord::gateway::Invoker;
use crier_fakes::discord::{Access, Author, DcInteraction, DcMessage, EPHEMERAL};
use crier_fakes::feed::{FeedServer, Route};
use crier_fakes::{FakeDiscord, FakeTelegram};
use serde_json::{Value, json};

use crate::daemon::*;

/// Where people run commands.
const CMD_CHAN: u64 = 1_300_000_000_000_000_101;
/// The Discord target's channel.
const DC_CHAN: u64 = 1_300_000_000_000_000_102;
/// The Telegram target's channel.
const TG_CHAN: i64 = -1_003_000_000_000_777;
const ADMIN: u64 = 1_400_000_000_000_000_001;
const EDITOR: u64 = 1_400_000_000_000_000_002;
const STRANGER: u64 = 1_400_000_000_000_000_003;
/// An admin through a role only.
const ROLE_ADMIN: u64 = 1_400_000_000_000_000_004;
const ADMIN_ROLE: u64 = 1_500_000_000_000_000_001;
const OTHER_ROLE: u64 = 1_500_000_000_000_000_009;
const PAGE: &str = include_str!("../fixtures/seed-article.html");

struct World {
    dir: tempfile::TempDir,
    web: FeedServer,
    dc: FakeDiscord,
    tg: FakeTelegram,
}

async fn world() -> World {
    let dc = FakeDiscord::start().await.expect("fake discord");
    dc.start_gateway().await.expect("fake gateway");
    dc.add_text_channel(CMD_CHAN);
    dc.add_text_channel(DC_CHAN);
    let tg = FakeTelegram::start().await.expect("fake telegram");
    tg.add_channel(TG_CHAN, Some("crier_news"));
    World {
        dir: tempfile::tempdir().expect("dir"),
        web: FeedServer::start().await.expect("web"),
        dc,
        tg,
    }
}

fn admin() -> Invoker {
    Invoker::member(ADMIN, "ada", CMD_CHAN, &[OTHER_ROLE])
}
fn editor() -> Invoker {
    Invoker::member(EDITOR, "eddie", CMD_CHAN, &[])
}
fn stranger() -> Invoker {
    Invoker::member(STRANGER, "stan", CMD_CHAN, &[OTHER_ROLE])
}
fn role_admin() -> Invoker {
    Invoker::member(ROLE_ADMIN, "rita", CMD_CHAN, &[OTHER_ROLE, ADMIN_ROLE])
}

/// What a member sees of a markdown text: backslash escapes removed.
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\'
            && let Some(&n) = chars.peek()
            && n.is_ascii_punctuation()
        {
            out.push(n);
            chars.next();
            continue;
        }
        out.push(c);
    }
    out
}

fn shown(m: &DcMessage) -> String {
    let mut s = unescape(&m.content);
    for e in &m.embeds {
        for k in ["title", "description"] {
            if let Some(t) = e.get(k).and_then(Value::as_str) {
                s.push('\n');
                s.push_str(&unescape(t));
            }
        }
    }
    s
}

impl World {
    fn config(&self, discord_extra: &str, targets: &str) -> String {
        format!(
            r#"
[discord]
token = "{dtoken}"
api_url = "{dapi}"
admins = [{ADMIN}]
editors = [{EDITOR}]
admin_roles = [{ADMIN_ROLE}]
{discord_extra}

[telegram]
token = "{ttoken}"
api_url = "{tapi}"

[commands]
allow_private_urls = true

[delivery]
retry_base = "100ms"
recheck = "200ms"
shutdown_grace = "2s"
max_attempts = 2

[[feeds]]
name = "news"
url = "{feed}"
interval = "1s"
targets = [{targets}]

[[targets]]
name = "dc"
platform = "discord"
channel = {DC_CHAN}

[[targets]]
name = "tg"
platform = "telegram"
chat = "{TG_CHAN}"
"#,
            dtoken = FakeDiscord::TOKEN,
            dapi = self.dc.api_url(),
            ttoken = FakeTelegram::TOKEN,
            tapi = self.tg.api_url(),
            feed = self.web.url("/feed.xml"),
        )
    }

    /// Start the daemon and wait for its gateway session and commands.
    async fn start(&self, discord_extra: &str) -> Daemon {
        self.start_with(&self.config(discord_extra, r#""dc", "tg""#))
            .await
    }

    async fn start_with(&self, config: &str) -> Daemon {
        let d = Daemon::start(self.dir.path(), config);
        let guild = config.contains("guild_id").then_some(FakeDiscord::GUILD_ID);
        eventually(
            "the gateway session and the registered commands",
            Duration::from_secs(20),
            || self.dc.gateway_sessions() == 1 && self.dc.commands(guild).len() == COMMANDS.len(),
        )
        .await;
        d
    }

    fn feed(&self, items: &[(String, String, String)]) {
        self.web.set("/feed.xml", Route::feed(rss(items)));
    }

    fn run(&self, who: &Invoker, name: &str, opts: &[(&str, &str)]) -> DcInteraction {
        match self.dc.run_command(who, name, opts) {
            Ok(i) => i,
            Err(e) => panic!("/{name}: {e}"),
        }
    }

    fn interaction(&self, id: u64) -> DcInteraction {
        self.dc.interaction(id).expect("interaction")
    }

    /// The messages that answered an interaction, in order.
    fn answers(&self, id: u64) -> Vec<DcMessage> {
        let i = self.interaction(id);
        i.original
            .into_iter()
            .chain(i.followups)
            .filter_map(|m| self.dc.message(m))
            .collect()
    }

    fn said(&self, id: u64) -> String {
        self.answers(id)
            .iter()
            .map(shown)
            .collect::<Vec<_>>()
            .join("\n---\n")
    }

    async fn wait_said(&self, id: u64, expect: &str) -> String {
        eventually(
            &format!("an answer containing {expect:?}"),
            Duration::from_secs(20),
            || self.said(id).contains(expect),
        )
        .await;
        self.said(id)
    }

    /// Run a command and wait for an answer containing `expect`.
    async fn ask(
        &self,
        who: &Invoker,
        name: &str,
        opts: &[(&str, &str)],
        expect: &str,
    ) -> (DcInteraction, String) {
        let i = self.run(who, name, opts);
        let said = self.wait_said(i.id, expect).await;
        (self.interaction(i.id), said)
    }

    /// The message of an interaction's answers that carries buttons.
    fn buttons_of(&self, id: u64) -> Option<(DcMessage, Vec<String>)> {
        self.answers(id).into_iter().find_map(|m| {
            let ids: Vec<String> = m
                .components
                .iter()
                .flat_map(|r| r["components"].as_array().cloned().unwrap_or_default())
                .filter_map(|b| b["custom_id"].as_str().map(str::to_string))
                .collect();
            (!ids.is_empty()).then_some((m, ids))
        })
    }

    /// Every message the bot sent where commands run never pings and is
    /// seen by the caller only.
    fn assert_quiet_and_private(&self, channel: u64) {
        let msgs = self.dc.messages(channel);
        assert!(!msgs.is_empty());
        for m in msgs {
            assert!(
                matches!(m.author, Author::Interaction { .. }),
                "{m:?} is not an interaction answer"
            );
            assert_eq!(
                m.allowed_mentions,
                Some(json!({"parse": []})),
                "{}",
                m.content
            );
            assert!(!m.pinged_anyone(), "{m:?}");
            assert_eq!(m.flags & EPHEMERAL, EPHEMERAL, "not ephemeral: {m:?}");
        }
    }
}

/// Options for each command that make it do something harmless.
fn harmless(name: &str, page: &str) -> Vec<(&'static str, String)> {
    let s = |v: &str| v.to_string();
    match name {
        "pause" | "resume" | "unsubscribe" => vec![("what", s("nosuch"))],
        "retry" => vec![("what", s("all"))],
        "why" => vec![("url", s("https://news.example/none"))],
        "log" => vec![("n", s("5"))],
        "subscribe" => vec![("url", s(page)), ("targets", s("nosuch"))],
        "preview" => vec![("url", s(page))],
        "publish" => vec![("url", s(page)), ("targets", s("dc tg"))],
        "post" => vec![("text", s("hello")), ("targets", s("nosuch"))],
        "schedule" => vec![
            ("time", s("+1h")),
            ("url", s(page)),
            ("targets", s("nosuch")),
        ],
        "cancel" => vec![("id", s("999"))],
        "retract" => vec![("what", s("https://news.example/none"))],
        // No such target: answered before the file is fetched.
        "import" => vec![("file", s("feeds.opml")), ("targets", s("nosuch"))],
        _ => Vec::new(),
    }
}

#[tokio::test]
async fn every_command_by_an_admin_an_editor_and_a_stranger() {
    let w = world().await;
    w.feed(&numbered("r", 1));
    w.web.set("/page.html", Route::ok(PAGE, "text/html"));
    let page = w.web.url("/page.html");
    let d = w
        .start(&format!("guild_id = {}", FakeDiscord::GUILD_ID))
        .await;

    // Registered in the guild (instant), not globally; no intents asked.
    assert!(w.dc.commands(None).is_empty());
    let cmds = w.dc.commands(Some(FakeDiscord::GUILD_ID));
    let publish = cmds
        .iter()
        .find(|c| c["name"] == "publish")
        .expect("publish");
    assert_eq!(publish["options"][0]["name"], "url");
    assert_eq!(publish["options"][0]["required"], true);
    assert_eq!(publish["options"][1]["name"], "targets");
    assert_eq!(w.dc.identifies().len(), 1);
    assert_eq!(w.dc.identifies()[0].intents, 0, "no intent needed");

    // The admin: every command answers, none is refused; fast ones at once.
    for c in COMMANDS {
        let opts = harmless(c.name, &page);
        let opts: Vec<(&str, &str)> = opts.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (i, said) = w.ask(&admin(), c.name, &opts, "").await;
        eventually(
            &format!("an answer to /{}", c.name),
            Duration::from_secs(20),
            || !w.said(i.id).is_empty(),
        )
        .await;
        let said = if said.is_empty() { w.said(i.id) } else { said };
        assert!(!said.contains("not allowed"), "/{}: {said}", c.name);
        assert_eq!(w.interaction(i.id).late_callbacks, 0);
    }
    let (i, said) = w.ask(&admin(), "status", &[], "Feeds:").await;
    assert!(said.contains("Targets: 2 ok"), "{said}");
    assert_eq!(i.callbacks[0]["type"], 4, "answered at once");
    let (_, said) = w.ask(&admin(), "targets", &[], "dc (discord)").await;
    assert!(said.contains("tg (telegram)"), "{said}");
    // Usage lines for a bad value.
    w.ask(
        &admin(),
        "schedule",
        &[("time", "soon"), ("url", &page)],
        "cannot read the time",
    )
    .await;

    // The editor: editor commands work; the first admin command is
    // refused, later ones are not answered (no spam through us).
    let (_, help) = w.ask(&editor(), "help", &[], "Commands:").await;
    assert!(
        help.contains("/publish") && !help.contains("/status"),
        "{help}"
    );
    w.ask(&editor(), "queue", &[], "No scheduled posts").await;
    let mut silent = Vec::new();
    let mut refused = false;
    for c in COMMANDS.iter().filter(|c| c.role == Role::Admin) {
        let opts = harmless(c.name, &page);
        let opts: Vec<(&str, &str)> = opts.iter().map(|(k, v)| (*k, v.as_str())).collect();
        if refused {
            silent.push(w.run(&editor(), c.name, &opts).id);
        } else {
            w.ask(&editor(), c.name, &opts, "not allowed").await;
            refused = true;
        }
    }

    // The stranger: /help says what the bot is; anything else is refused
    // once, then silence.
    w.ask(
        &stranger(),
        "help",
        &[],
        "Commands are for its admins and editors",
    )
    .await;
    w.ask(&stranger(), "status", &[], "not allowed").await;
    for c in COMMANDS.iter().filter(|c| c.role > Role::Stranger) {
        let opts = harmless(c.name, &page);
        let opts: Vec<(&str, &str)> = opts.iter().map(|(k, v)| (*k, v.as_str())).collect();
        silent.push(w.run(&stranger(), c.name, &opts).id);
    }
    // A role makes an admin. Its answer (asked after the silent commands,
    // which are handled as they arrive) is the signal that they were
    // handled; the wait after it bounds the absence of a reply, which no
    // positive signal can show (a silent refusal leaves no trace by
    // design: that is the point).
    w.ask(&role_admin(), "feeds", &[], "news").await;
    tokio::time::sleep(Duration::from_millis(2000)).await;
    for id in silent {
        let i = w.interaction(id);
        assert!(i.callbacks.is_empty() && i.late_callbacks == 0, "{i:?}");
    }
    w.assert_quiet_and_private(CMD_CHAN);
    assert!(w.dc.visible(DC_CHAN).len() <= 1, "only the feed's item");
    d.stop().await;
    let audit = store(w.dir.path()).audit_log(200).expect("audit");
    assert!(
        audit.iter().any(|e| e.user_id == STRANGER.to_string()
            && e.platform == "discord"
            && e.outcome == "refused"),
        "{audit:?}"
    );
}

#[tokio::test]
async fn publish_previews_then_confirm_posts_on_both_platforms_then_why_and_retract() {
    let w = world().await;
    w.feed(&numbered("p", 1));
    w.web.set(
        "/2023/nato.html",
        Route::ok(PAGE, "text/html; charset=utf-8"),
    );
    let d = w.start("").await;
    // Registered globally without guild_id.
    assert_eq!(w.dc.commands(None).len(), COMMANDS.len());
    let before_dc = w.dc.visible(DC_CHAN).len();
    let before_tg = w.tg.bot_posts(TG_CHAN).len();
    let url = w.web.url("/2023/nato.html");
    let (i, said) = w
        .ask(
            &editor(),
            "publish",
            &[("url", &url)],
            "Publish «Japan and NATO",
        )
        .await;
    // The Discord preview is the exact message the channel will get; the
    // Telegram one is shown as text.
    assert!(said.contains("Preview — dc (Discord):"), "{said}");
    assert!(said.contains("Preview — tg (telegram):"), "{said}");
    let answers = w.answers(i.id);
    let native = answers
        .iter()
        .find(|m| !m.embeds.is_empty())
        .expect("an embed preview");
    assert!(
        native.embeds[0]["title"]
            .as_str()
            .unwrap_or("")
            .starts_with("Japan and NATO"),
        "{native:?}"
    );
    assert!(answers.iter().any(|m| m.content.contains("```")));
    assert_eq!(
        w.dc.visible(DC_CHAN).len(),
        before_dc,
        "nothing before Confirm"
    );
    assert_eq!(w.tg.bot_posts(TG_CHAN).len(), before_tg);
    let (question, ids) = w.buttons_of(i.id).expect("buttons");
    assert!(
        ids[0].starts_with("pub:") && ids[1].starts_with("no:"),
        "{ids:?}"
    );
    // Only the editor sees the ephemeral question: nobody else can click.
    assert!(w.dc.click(&admin(), question.id, &ids[0]).is_err());
    let click = w.dc.click(&editor(), question.id, &ids[0]).expect("click");
    eventually("the post on Discord", Duration::from_secs(20), || {
        w.dc.visible(DC_CHAN).len() == before_dc + 1
    })
    .await;
    eventually("the post on Telegram", Duration::from_secs(20), || {
        w.tg.bot_posts(TG_CHAN).len() == before_tg + 1
    })
    .await;
    let report = w.wait_said(click.id, "published:").await;
    assert!(report.contains("Publishing #"), "{report}");
    // Discord's REST message has no guild id, so a bot post is reported by
    // its channel:message reference rather than a link.
    assert!(report.contains(&format!("• dc: {DC_CHAN}:")), "{report}");
    assert!(
        report.contains("• tg: https://t.me/crier_news/"),
        "{report}"
    );
    // The click updated the question: its buttons are gone.
    let c = w.interaction(click.id);
    assert_eq!(c.callbacks[0]["type"], 7);
    let q = w.dc.message(question.id).expect("question");
    assert!(q.components.is_empty(), "{q:?}");
    let posted = w.dc.visible(DC_CHAN).pop().expect("post");
    assert_eq!(posted.embeds[0]["title"], native.embeds[0]["title"]);

    // /why (an admin through a role) explains where it went.
    let (_, why) = w
        .ask(&role_admin(), "why", &[("url", &url)], "dc: delivered")
        .await;
    assert!(why.contains("tg: delivered"), "{why}");
    // /retract deletes it everywhere, with a report.
    let (r, _) = w
        .ask(&editor(), "retract", &[("what", &url)], "Retracting")
        .await;
    eventually("the deletions", Duration::from_secs(20), || {
        w.dc.visible(DC_CHAN).len() == before_dc && w.tg.visible(TG_CHAN).len() == before_tg
    })
    .await;
    let report = w.wait_said(r.id, "retracted:").await;
    assert!(report.contains("• dc: 1 message(s) deleted"), "{report}");
    // A Cancel publishes nothing.
    let (i, _) = w
        .ask(
            &editor(),
            "publish",
            &[("url", &url), ("targets", "dc")],
            "Publish «",
        )
        .await;
    let (q, ids) = w.buttons_of(i.id).expect("buttons");
    let cancel = w.dc.click(&editor(), q.id, &ids[1]).expect("click");
    w.wait_said(cancel.id, "nothing was published").await;
    w.assert_quiet_and_private(CMD_CHAN);
    d.stop().await;
}

#[tokio::test]
async fn a_slow_command_is_deferred_then_answered_within_the_window() {
    let w = world().await;
    w.feed(&numbered("s", 1));
    w.web.set(
        "/slow.html",
        Route::ok(PAGE, "text/html").slow(Duration::from_millis(3500)),
    );
    let d = w.start("").await;
    let (i, said) = w
        .ask(
            &editor(),
            "publish",
            &[("url", &w.web.url("/slow.html")), ("targets", "dc")],
            "Publish «Japan and NATO",
        )
        .await;
    assert!(said.contains("Preview — dc (Discord):"), "{said}");
    // Deferred within the window, then the deferred response was replaced
    // by the answer, the rest following up.
    assert_eq!(i.callbacks.len(), 1, "{i:?}");
    assert_eq!(i.callbacks[0]["type"], 5);
    assert_eq!(i.callbacks[0]["data"]["flags"], EPHEMERAL);
    assert!(
        i.answered_after.expect("answered") < Duration::from_secs(3),
        "{i:?}"
    );
    assert_eq!(i.late_callbacks, 0);
    assert!(!i.followups.is_empty());
    let first = w.dc.message(i.original.expect("original")).expect("msg");
    assert!(shown(&first).starts_with("Preview — dc"), "{first:?}");
    assert!(w.buttons_of(i.id).is_some());
    w.assert_quiet_and_private(CMD_CHAN);
    d.stop().await;
}

#[tokio::test]
async fn an_editor_posts_a_formatted_message_and_a_photo() {
    let w = world().await;
    w.feed(&numbered("m", 1));
    let d = w.start("").await;
    let before_dc = w.dc.visible(DC_CHAN).len();
    let before_tg = w.tg.bot_posts(TG_CHAN).len();
    let (i, _) = w
        .ask(
            &editor(),
            "post",
            &[(
                "text",
                "**Breaking**: the _bridge_ is open, see [the map](https://city.example/map)",
            )],
            "Posting #",
        )
        .await;
    eventually("the posts", Duration::from_secs(20), || {
        w.dc.visible(DC_CHAN).len() == before_dc + 1
            && w.tg.bot_posts(TG_CHAN).len() == before_tg + 1
    })
    .await;
    w.wait_said(i.id, "published:").await;
    let tg = w.tg.bot_posts(TG_CHAN).pop().expect("tg");
    assert!(
        tg.shown
            .contains("Breaking: the bridge is open, see the map"),
        "{}",
        tg.shown
    );
    let kinds: Vec<&str> = tg
        .entities
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert!(
        kinds.contains(&"bold") && kinds.contains(&"italic"),
        "{kinds:?}"
    );
    assert!(kinds.contains(&"text_link"), "{kinds:?}");
    let dc = w.dc.visible(DC_CHAN).pop().expect("dc");
    let dc_text = format!("{}{:?}", dc.content, dc.embeds);
    assert!(dc_text.contains("**Breaking**"), "{dc_text}");
    assert!(
        dc_text.contains("[the map](https://city.example/map)"),
        "{dc_text}"
    );
    assert!(!dc.pinged_anyone());

    // A photo with a caption, to one target.
    let (i, _) = w
        .ask(
            &editor(),
            "post",
            &[
                ("text", "The new bridge"),
                ("attachment", "bridge.jpg"),
                ("targets", "tg"),
            ],
            "Posting #",
        )
        .await;
    eventually("the photo", Duration::from_secs(20), || {
        w.tg.bot_posts(TG_CHAN).len() == before_tg + 2
    })
    .await;
    w.wait_said(i.id, "published:").await;
    let photo = w.tg.bot_posts(TG_CHAN).pop().expect("photo");
    assert!(photo.is_photo(), "{photo:?}");
    assert!(
        photo
            .photo
            .as_deref()
            .unwrap_or("")
            .starts_with("https://cdn.discordapp.com/attachments/"),
        "{photo:?}"
    );
    assert!(photo.shown.contains("The new bridge"), "{}", photo.shown);
    assert_eq!(w.dc.visible(DC_CHAN).len(), before_dc + 1, "tg only");
    // Not an image: refused with a reason.
    w.ask(
        &editor(),
        "post",
        &[("attachment", "minutes.pdf")],
        "Only images",
    )
    .await;
    // Nothing to post.
    w.ask(&editor(), "post", &[], "Nothing to post").await;
    d.stop().await;
}

#[tokio::test]
async fn why_explains_filtered_and_failed_articles_and_alerts_come_once() {
    let w = world().await;
    w.dc.set_access(DC_CHAN, Access::MissingPermissions);
    w.feed(&[(
        "w-1".into(),
        "Sponsored: buy now".into(),
        "<p>ad</p>".into(),
    )]);
    let cfg = w.config("", r#""dc""#).replace(
        "targets = [\"dc\"]",
        "targets = [\"dc\"]\nbackfill = 5\n[feeds.filter]\nexclude_keywords = [\"sponsored\"]",
    );
    let d = w.start_with(&cfg).await;
    eventually("the first poll", Duration::from_secs(20), || {
        !rows_in(w.dir.path(), "dc", crier_storage::State::Filtered).is_empty()
    })
    .await;
    let admin_dm = Invoker::dm(ADMIN, "ada");
    // In the admin's DMs (global commands work there).
    let (_, why) = w
        .ask(
            &admin_dm,
            "why",
            &[("url", "https://news.example/w-1")],
            "dc:",
        )
        .await;
    assert!(
        why.contains("filtered — feed filter: exclude_keywords"),
        "{why}"
    );
    // A failure: no permission in the channel → disabled, and an alert by
    // DM to the admin, once.
    w.feed(&[
        ("w-2".into(), "Real news".into(), "<p>x</p>".into()),
        (
            "w-1".into(),
            "Sponsored: buy now".into(),
            "<p>ad</p>".into(),
        ),
    ]);
    let dm = w.dc.dm_channel(ADMIN);
    let alerts = || {
        w.dc.visible(dm)
            .into_iter()
            .filter(|m| m.author == Author::Bot && m.content.starts_with('⚠'))
            .collect::<Vec<_>>()
    };
    eventually("the alert", Duration::from_secs(20), || {
        alerts()
            .iter()
            .any(|m| unescape(&m.content).contains("Target dc disabled"))
    })
    .await;
    let (_, why) = w
        .ask(
            &role_admin(),
            "why",
            &[("url", "https://news.example/w-2")],
            "dc:",
        )
        .await;
    assert!(why.contains("waiting — the target is disabled"), "{why}");
    w.feed(&[
        ("w-3".into(), "More news".into(), "<p>y</p>".into()),
        ("w-2".into(), "Real news".into(), "<p>x</p>".into()),
    ]);
    // The new article is queued (its worker woken) and the feed polled
    // once more after that: a second alert would have come by now.
    eventually("w-3 queued", Duration::from_secs(20), || {
        has_row(w.dir.path(), "dc", "https://news.example/w-3")
    })
    .await;
    polled_again(&w.web, "/feed.xml").await;
    let sent = alerts();
    assert_eq!(sent.len(), 1, "once per incident: {sent:?}");
    assert_eq!(sent[0].allowed_mentions, Some(json!({"parse": []})));
    // Fixed and resumed: the waiting posts go out.
    w.dc.set_access(DC_CHAN, Access::Ok);
    w.ask(&admin(), "resume", &[("what", "dc")], "resumed")
        .await;
    eventually("the waiting posts", Duration::from_secs(20), || {
        w.dc.visible(DC_CHAN).len() == 2
    })
    .await;
    // /why on a delivered article.
    let (_, why) = w
        .ask(
            &admin(),
            "why",
            &[("url", "https://news.example/w-3")],
            "dc:",
        )
        .await;
    assert!(why.contains("dc: delivered"), "{why}");
    d.stop().await;
}

#[tokio::test]
async fn alerts_go_to_the_alerts_channel_once_when_one_is_set() {
    const ALERTS: u64 = 1_300_000_000_000_000_103;
    let w = world().await;
    w.dc.add_text_channel(ALERTS);
    w.dc.set_access(DC_CHAN, Access::MissingAccess);
    w.feed(&numbered("a", 1));
    let cfg = w
        .config(&format!("alerts_channel = {ALERTS}"), r#""dc""#)
        .replace("targets = [\"dc\"]", "targets = [\"dc\"]\nbackfill = 5");
    let d = w.start_with(&cfg).await;
    eventually("the alert", Duration::from_secs(20), || {
        w.dc.visible(ALERTS)
            .iter()
            .any(|m| unescape(&m.content).contains("Target dc disabled"))
    })
    .await;
    w.feed(&numbered("a", 3));
    // The new article is queued (its worker woken) and the feed polled
    // once more after that: a second alert would have come by now.
    eventually("a-3 queued", Duration::from_secs(20), || {
        has_row(w.dir.path(), "dc", "https://news.example/a-3")
    })
    .await;
    polled_again(&w.web, "/feed.xml").await;
    let alerts = w.dc.visible(ALERTS);
    assert_eq!(alerts.len(), 1, "once per incident: {alerts:?}");
    assert_eq!(alerts[0].author, Author::Bot);
    assert!(!alerts[0].pinged_anyone());
    assert!(w.dc.dms(ADMIN).is_empty(), "not by DM then");
    d.stop().await;
}
