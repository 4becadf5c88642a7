//! The operator's small wins: `crier status` from the database alone, and
//! an idle worker that learns of `crier retry` from another process at
//! once (not after `[delivery] recheck`).

use std::process::Command;
use std::time::Duration;

use crier_fakes::telegram::BotStatus;

use crate::daemon::*;
use crate::http::{CHANNEL, world};

fn crier(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(crate::support::crier_bin())
        .arg("--config")
        .arg(dir.join("config.toml"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run crier")
}

#[tokio::test]
async fn status_shows_the_summary_without_a_daemon() {
    let w = world().await;
    let d = Daemon::start(w.dir.path(), &w.config("", ""));
    eventually("three posts", Duration::from_secs(20), || {
        w.tg.bot_posts(CHANNEL).len() == 3
    })
    .await;
    eventually("three rows sent", Duration::from_secs(10), || {
        rows_in(w.dir.path(), "tg", crier_storage::State::Sent).len() == 3
    })
    .await;
    d.stop().await;
    let out = crier(w.dir.path(), &["status"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for needle in [
        "Feeds (1)",
        "news",
        "Targets (1)",
        "tg",
        "telegram",
        "Delivered in the last 24 h: 3",
        "Open alerts (0)",
        "Story 003",
        "sent",
    ] {
        assert!(text.contains(needle), "status lacks {needle:?}:\n{text}");
    }
}

#[tokio::test]
async fn an_idle_worker_learns_of_a_cli_retry_at_once() {
    let w = world().await;
    w.tg.set_bot_status(CHANNEL, BotStatus::Kicked);
    // Workers look at their queue again only after an hour on their own.
    let cfg = w
        .config("", "")
        .replace("recheck = \"200ms\"", "recheck = \"1h\"");
    let d = Daemon::start(w.dir.path(), &cfg);
    eventually("the target disabled", Duration::from_secs(20), || {
        store(w.dir.path())
            .target_state("tg")
            .ok()
            .flatten()
            .is_some_and(|s| s.disabled_reason.is_some())
    })
    .await;
    w.tg.set_bot_status(CHANNEL, BotStatus::Member);
    let out = crier(w.dir.path(), &["retry", "--target", "tg"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eventually("the posts after the retry", Duration::from_secs(20), || {
        w.tg.bot_posts(CHANNEL).len() == 3
    })
    .await;
    d.stop().await;
}

#[test]
fn a_poll_warning_names_the_feed_url_without_secrets_and_the_next_attempt() {
    let ws = crate::support::Workspace::new();
    ws.write(
        "config.toml",
        "[storage]\npath = \"crier.db\"\n\n[[feeds]]\nname = \"locked\"\nurl = \"http://reader:hunter2@127.0.0.1:9/feed.xml?token=s3cr3t&page=1\"\ninterval = \"1m\"\ntargets = [\"out\"]\n\n[[targets]]\nname = \"out\"\nplatform = \"console\"\n",
    );
    let mut run = ws.start();
    run.wait_for("a poll warning", Duration::from_secs(30), |_, err| {
        err.contains("poll failed")
    });
    let (_, _, err) = run.terminate();
    let line = err
        .lines()
        .find(|l| l.contains("poll failed"))
        .expect("the warning");
    assert!(line.contains("127.0.0.1:9/feed.xml"), "{line}");
    assert!(
        line.contains("page=1") && line.contains("token=***"),
        "{line}"
    );
    assert!(
        line.contains("next_attempt") && line.contains("(in "),
        "{line}"
    );
    assert!(
        !err.contains("hunter2") && !err.contains("s3cr3t"),
        "a secret in the logs:\n{err}"
    );
}
