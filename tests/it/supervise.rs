//! Panics are contained (issue 11): the real `crier` binary runs with the
//! test-only fault hook (`CRIER_TEST_FAULTS`, read by debug builds only)
//! against the fake feed server and the fake Telegram; the signals are
//! what the fakes recorded and the delivery log.

use std::path::Path;
use std::time::Duration;

use crier_fakes::FakeTelegram;
use crier_fakes::feed::{FeedServer, Route};
use crier_fakes::telegram::TgUser;
use crier_storage::State;

use crate::daemon::{eventually, log, numbered, rss};
use crate::support::{Running, Workspace, stdout_of};

const CHANNEL: i64 = -1_003_000_000_077;
const ADMIN: i64 = 100;
const WAIT: Duration = Duration::from_secs(40);

struct World {
    ws: Workspace,
    web: FeedServer,
    tg: FakeTelegram,
    admin: TgUser,
}

async fn world() -> World {
    let tg = FakeTelegram::start().await.expect("fake telegram");
    tg.add_channel(CHANNEL, Some("crier_supervised"));
    let admin = TgUser::new(ADMIN, "Ada");
    tg.add_private(&admin);
    let w = World {
        ws: Workspace::new(),
        web: FeedServer::start().await.expect("web"),
        tg,
        admin,
    };
    w.ws.write(
        "config.toml",
        &format!(
            r#"
[telegram]
token = "{token}"
api_url = "{api}"
admins = [{ADMIN}]

[delivery]
retry_base = "100ms"
recheck = "200ms"
shutdown_grace = "2s"

[[feeds]]
name = "news"
url = "{feed}"
interval = "1s"
backfill = 10
targets = ["channel"]

[[targets]]
name = "channel"
platform = "telegram"
chat = "{CHANNEL}"
"#,
            token = FakeTelegram::TOKEN,
            api = w.tg.api_url(),
            feed = w.web.url("/feed.xml"),
        ),
    );
    w
}

impl World {
    fn feed(&self, items: &[(String, String, String)]) {
        self.web.set("/feed.xml", Route::feed(rss(items)));
    }

    fn start(&self, faults: &str) -> Running {
        Running::start(
            self.ws.dir.path(),
            &self.ws.config(),
            &[("CRIER_TEST_FAULTS", faults)],
        )
    }

    fn posted(&self) -> Vec<String> {
        self.tg
            .bot_posts(CHANNEL)
            .into_iter()
            .map(|m| m.shown)
            .collect()
    }

    fn has_post(&self, title: &str) -> bool {
        self.posted().iter().any(|p| p.contains(title))
    }

    /// The alerts the admin got (messages starting with the warning sign).
    fn alerts(&self) -> Vec<String> {
        self.tg
            .bot_posts(ADMIN)
            .into_iter()
            .map(|m| m.shown)
            .filter(|m| m.starts_with('⚠'))
            .collect()
    }

    fn alerts_about(&self, what: &str) -> usize {
        self.alerts().iter().filter(|a| a.contains(what)).count()
    }

    fn dir(&self) -> &Path {
        self.ws.dir.path()
    }
}

fn link(guid: &str) -> String {
    format!("https://news.example/{guid}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_items_fail_with_their_reason_and_the_rest_goes_out() {
    let w = world().await;
    // Oldest first: p-1 panics the formatter, p-2 the adapter, p-3 the
    // poller's per-item step; p-4 is fine.
    w.feed(&numbered("p", 4));
    let faults = format!(
        "render:{},send:{},parse:{}",
        link("p-1"),
        link("p-2"),
        link("p-3")
    );
    let run = w.start(&faults);

    eventually("the good article after the poisoned ones", WAIT, || {
        w.has_post("Story 004")
    })
    .await;
    // The feed is still polled after the parser panic: a new item goes out.
    w.feed(&numbered("p", 5));
    eventually("the next new article", WAIT, || w.has_post("Story 005")).await;
    let posted = w.posted();
    for bad in ["Story 001", "Story 002", "Story 003"] {
        assert!(
            !posted.iter().any(|p| p.contains(bad)),
            "{bad} was not posted: {posted:?}"
        );
    }

    // The poisoned deliveries are failed with their reason, after a few
    // attempts; the dropped item never reached the log.
    let rows = log(w.dir(), Some("channel"));
    let failed: Vec<_> = rows
        .iter()
        .filter(|e| e.delivery.state == State::Failed)
        .collect();
    assert_eq!(failed.len(), 2, "{rows:#?}");
    for (e, kind, guid) in [(failed[0], "render", "p-1"), (failed[1], "send", "p-2")] {
        assert_eq!(e.link.as_deref(), Some(link(guid).as_str()));
        let why = e.delivery.last_error.clone().unwrap_or_default();
        assert!(
            why.starts_with(&format!("internal error: injected fault: {kind} ")),
            "{why}"
        );
        assert_eq!(e.delivery.attempts, 3, "{why}");
    }
    assert!(
        !rows.iter().any(|e| e.link.as_deref() == Some(&link("p-3"))),
        "the item whose processing panicked is dropped"
    );

    // Admins heard of each incident once.
    eventually("the alerts", WAIT, || {
        w.alerts_about("render https://news.example/p-1") >= 1
            && w.alerts_about("send https://news.example/p-2") >= 1
            && w.alerts_about("parse https://news.example/p-3") >= 1
    })
    .await;
    // `/why` shows the reason.
    w.tg.user_says(ADMIN, &w.admin, "/why https://news.example/p-1");
    eventually("/why with the reason", WAIT, || {
        w.tg.bot_posts(ADMIN).iter().any(|m| {
            m.shown
                .contains("FAILED after 3 attempts — internal error: injected fault: render")
        })
    })
    .await;
    let (status, _, err) = run.terminate();
    assert!(status.success(), "{err}");
    assert!(
        err.contains("processing a delivery panicked")
            && err.contains("processing a feed item panicked"),
        "{err}"
    );
    for what in [
        "render https://news.example/p-1",
        "send https://news.example/p-2",
        "parse https://news.example/p-3",
    ] {
        assert_eq!(w.alerts_about(what), 1, "{what}: {:#?}", w.alerts());
    }

    // `crier log` shows the reason.
    let out = stdout_of(&w.ws.crier(&["log"]));
    assert!(
        out.contains("internal error: injected fault: render"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panicking_tasks_and_commands_are_restarted_or_answered() {
    let w = world().await;
    w.feed(&numbered("t", 1));
    let run = w.start("worker:channel,watcher:news,command:status");

    // Both the watcher and the worker panicked at start, were restarted,
    // and the article went out.
    eventually("the article through restarted tasks", WAIT, || {
        w.has_post("Story 001")
    })
    .await;
    // The restarted watcher keeps polling.
    w.feed(&numbered("t", 2));
    eventually("the next article", WAIT, || w.has_post("Story 002")).await;
    eventually("one alert per panicked task", WAIT, || {
        w.alerts_about("The worker channel panicked") == 1
            && w.alerts_about("The watcher news panicked") == 1
    })
    .await;

    // A command that panics answers instead of staying silent; the next
    // one works and /status counts the panics.
    w.tg.user_says(ADMIN, &w.admin, "/status");
    eventually("the internal-error reply", WAIT, || {
        w.tg.bot_posts(ADMIN)
            .iter()
            .any(|m| m.shown.starts_with("Internal error"))
    })
    .await;
    w.tg.user_says(ADMIN, &w.admin, "/status");
    eventually("a status with the panic count", WAIT, || {
        w.tg.bot_posts(ADMIN)
            .iter()
            .any(|m| m.shown.contains("Panics since start: 3"))
    })
    .await;

    let (status, _, err) = run.terminate();
    assert!(status.success(), "{err}");
    assert_eq!(
        err.matches("a task panicked; restarting it").count(),
        2,
        "{err}"
    );
    assert!(err.contains("a command panicked; contained"), "{err}");
    assert!(
        !err.contains(FakeTelegram::TOKEN),
        "the token is never logged"
    );
}

#[test]
fn inspect_reports_a_panicking_source_and_goes_on_with_the_others() {
    let ws = Workspace::new();
    ws.write("config.toml", "");
    ws.write("a.xml", &rss(&numbered("a", 1)));
    ws.write("b.xml", &rss(&numbered("b", 2)));
    let run = |args: &[&str]| {
        std::process::Command::new(crate::support::crier_bin())
            .arg("--config")
            .arg(ws.config())
            .args(args)
            .current_dir(ws.dir.path())
            .env("CRIER_TEST_FAULTS", "inspect:a.xml")
            .output()
            .expect("run crier")
    };
    let out = run(&["inspect", "a.xml", "b.xml"]);
    let text = format!("{}{}", stdout_of(&out), crate::support::stderr_of(&out));
    assert!(
        !out.status.success(),
        "a failed source fails the run: {text}"
    );
    assert!(
        text.contains("internal error: injected fault: inspect a.xml"),
        "{text}"
    );
    assert!(
        text.contains("Story 002") && text.contains("Story 001"),
        "{text}"
    );

    let out = run(&["preview", "a.xml"]);
    let err = crate::support::stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("error: a.xml: parse error: internal error"),
        "{err}"
    );
}
