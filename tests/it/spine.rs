//! The spine end to end: the binary on a temporary folder with a local feed
//! and the console target.

use std::time::Duration;

use crate::support::*;

pub fn rss(items: &[(&str, &str)]) -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>Local news</title><link>https://news.example/</link><description>d</description>\n",
    );
    for (i, (guid, title)) in items.iter().enumerate() {
        s.push_str(&format!(
            "<item><title>{title}</title><link>https://news.example/{guid}</link><guid isPermaLink=\"false\">{guid}</guid><pubDate>Wed, 0{} Feb 2023 03:12:44 +0000</pubDate><description>About {title}.</description></item>\n",
            i + 1
        ));
    }
    s.push_str("</channel></rss>\n");
    s
}

fn config(backfill: usize) -> String {
    format!(
        r#"
[storage]
path = "state/crier.db"

[[feeds]]
name = "local"
url = "feed.xml"
interval = "1s"
backfill = {backfill}
targets = ["console"]

[[targets]]
name = "console"
platform = "console"
"#
    )
}

const POST_MARK: &str = "═══ console · post";

fn posts(stdout: &str) -> usize {
    stdout.matches(POST_MARK).count()
}

#[test]
fn runs_end_to_end_and_never_reposts_after_restart() {
    let ws = Workspace::new();
    ws.write("config.toml", &config(10));
    ws.write(
        "feed.xml",
        &rss(&[("a-1", "First story"), ("a-2", "Second story")]),
    );

    let mut run = ws.start();
    run.wait_for("two posts", Duration::from_secs(20), |out, _| {
        posts(out) == 2
    });
    let (status, out, err) = run.terminate();
    assert!(status.success(), "graceful stop exits 0: {status}\n{err}");
    // Oldest first.
    let first = out.find("First story").expect("first");
    let second = out.find("Second story").expect("second");
    assert!(first < second, "published order:\n{out}");
    assert!(err.contains("stopped"), "{err}");

    let log = ws.crier(&["log"]);
    assert!(log.status.success());
    let table = stdout_of(&log);
    assert_eq!(table.matches(" sent ").count(), 2, "{table}");

    // Restart: the same feed posts nothing.
    let mut run = ws.start();
    run.wait_for(
        "a poll with nothing new",
        Duration::from_secs(20),
        |_, err| err.contains("polled; nothing new"),
    );
    assert_eq!(
        posts(&run.stdout()),
        0,
        "nothing re-posted:\n{}",
        run.stdout()
    );

    // A new item appears: exactly that one is posted.
    ws.write(
        "feed.xml",
        &rss(&[
            ("a-1", "First story"),
            ("a-2", "Second story"),
            ("a-3", "Third story"),
        ]),
    );
    run.wait_for("the new post", Duration::from_secs(20), |out, _| {
        posts(out) >= 1
    });
    // Before counting: the post is recorded (nothing left to send) and a
    // later poll saw the same feed and found nothing new.
    wait_until("the post recorded", Duration::from_secs(20), || {
        unsettled_at(&ws.path("state/crier.db")) == 0
    });
    let polls = run.stderr().matches("polled; nothing new").count();
    run.wait_for("a later poll", Duration::from_secs(20), |_, err| {
        err.matches("polled; nothing new").count() > polls
    });
    let (status, out, _) = run.terminate();
    assert!(status.success());
    assert_eq!(posts(&out), 1, "{out}");
    assert!(out.contains("Third story"));

    let sent = ws.crier(&["log", "--state", "sent", "--target", "console"]);
    assert_eq!(stdout_of(&sent).matches(" sent ").count(), 3);
}

#[test]
fn a_new_feed_posts_nothing_from_its_backlog_by_default() {
    let ws = Workspace::new();
    ws.write("config.toml", &config(0));
    ws.write("feed.xml", &rss(&[("b-1", "Old one"), ("b-2", "Old two")]));
    let mut run = ws.start();
    run.wait_for("the baseline poll", Duration::from_secs(20), |_, err| {
        err.contains("baseline=true")
    });
    ws.write(
        "feed.xml",
        &rss(&[
            ("b-1", "Old one"),
            ("b-2", "Old two"),
            ("b-3", "Fresh news"),
        ]),
    );
    run.wait_for("the new post", Duration::from_secs(20), |out, _| {
        posts(out) >= 1
    });
    let (_, out, _) = run.terminate();
    assert_eq!(posts(&out), 1, "{out}");
    assert!(out.contains("Fresh news"));
    let skipped = stdout_of(&ws.crier(&["log", "--state", "skipped"]));
    assert_eq!(
        skipped.matches("already in the feed").count(),
        2,
        "{skipped}"
    );
}

#[test]
fn a_second_instance_on_the_same_database_refuses_to_start() {
    let ws = Workspace::new();
    ws.write("config.toml", &config(0));
    ws.write("feed.xml", &rss(&[("c-1", "One")]));
    let mut run = ws.start();
    run.wait_for("the first instance", Duration::from_secs(20), |_, err| {
        err.contains("starting")
    });
    let second = ws.crier(&["run"]);
    assert_eq!(second.status.code(), Some(1));
    assert!(
        stderr_of(&second).contains("another crier is already running")
            && stderr_of(&second).contains("PID"),
        "{}",
        stderr_of(&second)
    );
    let (status, _, _) = run.terminate();
    assert!(status.success());
}

#[test]
fn config_errors_exit_2_with_file_key_and_line() {
    let ws = Workspace::new();
    ws.write("feed.xml", &rss(&[]));
    let cases: &[(&str, &str, &str)] = &[
        (
            "targets = [\"console\"]",
            "targets = [\"consol\"]",
            ":10: feeds[0].targets[0]: no target named \"consol\"",
        ),
        (
            "interval = \"1s\"",
            "interval = \"soon\"",
            ":8: feeds[0].interval: invalid duration",
        ),
        (
            "backfill",
            "bakfill",
            ":9: feeds[0].bakfill: unknown field `bakfill`",
        ),
        (
            "platform = \"console\"",
            "platform = \"telegram\"\nchat = \"@news\"",
            "targets[0].platform: target \"console\" posts to Telegram but [telegram] has no `token`",
        ),
        (
            "path = \"state/crier.db\"",
            "path = \"${CRIER_IT_UNSET_VARIABLE}\"",
            ":3: storage.path: environment variable `CRIER_IT_UNSET_VARIABLE` is not set",
        ),
    ];
    for (from, to, expected) in cases {
        ws.write("config.toml", &config(0).replacen(from, to, 1));
        for cmd in ["check", "run"] {
            let out = ws.crier(&[cmd]);
            let err = stderr_of(&out);
            assert_eq!(out.status.code(), Some(2), "{cmd} with {to}: {err}");
            assert!(err.contains("config.toml"), "names the file: {err}");
            assert!(err.contains(expected), "expected {expected:?} in:\n{err}");
            assert!(
                !err.contains("panicked") && !err.contains("backtrace"),
                "{err}"
            );
        }
    }
}

#[test]
fn check_prints_feeds_targets_and_routes() {
    let ws = Workspace::new();
    ws.write("config.toml", &config(0));
    let out = ws.crier(&["check"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let s = stdout_of(&out);
    assert!(s.contains(": OK"), "{s}");
    assert!(s.contains("feeds (1):") && s.contains("local"), "{s}");
    assert!(
        s.contains("targets (1):") && s.contains("console  console"),
        "{s}"
    );
    assert!(
        s.contains("routes (1):") && s.contains("local → console"),
        "{s}"
    );
}

#[test]
fn every_subcommand_has_help() {
    for sub in ["run", "check", "log", "retry"] {
        let out = std::process::Command::new(crier_bin())
            .args([sub, "--help"])
            .output()
            .expect("help");
        assert!(out.status.success(), "{sub} --help");
        assert!(
            stdout_of(&out).contains("--config"),
            "{sub} --help mentions --config"
        );
    }
}

#[test]
fn inspect_and_preview_read_without_recording() {
    let ws = Workspace::new();
    ws.write("seed.html", include_str!("../fixtures/seed-article.html"));
    ws.write(
        "config.toml",
        r#"
[telegram]
token = "0:not-a-real-token"
api_url = "http://127.0.0.1:9/"

[[targets]]
name = "channel"
platform = "telegram"
chat = "@news"
thread = 3
silent = true

[[targets]]
name = "hook"
platform = "discord_webhook"
webhook_url = "https://discord.com/api/webhooks/123456789012345678/SECRET-webhook-token"
username = "Newsroom"
"#,
    );
    let out = ws.crier(&["inspect", "--json", "seed.html", "missing.xml"]);
    assert_eq!(out.status.code(), Some(1), "one source failed");
    let lines: Vec<serde_json::Value> = stdout_of(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        lines[0]["link"],
        "https://meritnews24.example/2023/02/01/japan-and-nato-pledge-to-strengthen-cooperation/"
    );
    assert!(
        lines[1]["error"]
            .as_str()
            .unwrap_or("")
            .contains("missing.xml")
    );

    let out = ws.crier(&["preview", "--json", "seed.html"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let line: serde_json::Value =
        serde_json::from_str(stdout_of(&out).lines().next().expect("a line")).expect("json");
    assert_eq!(line["target"], "channel");
    let req = &line["request"];
    assert_eq!(req["method"], "sendPhoto");
    assert_eq!(req["params"]["chat_id"], "@news");
    assert_eq!(req["params"]["message_thread_id"], 3);
    assert_eq!(req["params"]["disable_notification"], true);
    let caption = req["params"]["caption"].as_str().expect("caption");
    for noise in ["Join Now", "MUST READ", "Subscribe", "Leave a Comment"] {
        assert!(!caption.contains(noise), "{noise}: {caption}");
    }
    assert!(
        !stdout_of(&out).contains("not-a-real-token"),
        "no secret in previews"
    );
    assert!(!ws.path("crier.db").exists(), "nothing recorded");
}

#[test]
fn log_audit_shows_the_command_audit_log() {
    let ws = Workspace::new();
    ws.write("config.toml", &config(0));
    std::fs::create_dir_all(ws.path("state")).expect("mkdir");
    let mut store = crier_storage::Store::open(&ws.path("state/crier.db")).expect("store");
    store
        .audit(&crier_storage::AuditEntry {
            id: 0,
            at: 1_700_000_000_000,
            platform: "telegram".into(),
            user_id: "42".into(),
            user_name: Some("Ada".into()),
            command: "/pause news".into(),
            outcome: "Feed news paused.".into(),
        })
        .expect("audit");
    drop(store);
    let out = ws.crier(&["log", "--audit"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let s = stdout_of(&out);
    assert!(
        s.contains("Ada (42)") && s.contains("/pause news → Feed news paused."),
        "{s}"
    );
}
