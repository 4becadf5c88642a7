//! Regression tests of issue #12 (the adversarial review), security side:
//! tokens in error pages, a double send after a storage error, the
//! single-instance lock reached by other paths. The real binary runs as a
//! subprocess; the fakes run on a runtime of their own.

use std::process::Command;
use std::time::Duration;

use crier_fakes::feed::{FeedServer, Route};
use crier_fakes::telegram::TgUser;
use crier_fakes::{FakeTelegram, Fault};
use crier_storage::{LogQuery, State, Store};

use crate::daemon::{numbered, rss};
use crate::support::{Running, Workspace, stderr_of, stdout_of, wait_until};

/// Shaped exactly like a real bot token (digits, colon, 35 url-safe chars),
/// plainly fake.
const REAL_LOOKING_TOKEN: &str = concat!("123456789:", "FAKE-test-token-not-real-0123456789");
const TOKEN_SECRET: &str = "FAKE-test-token-not-real-0123456789";
const CHANNEL: i64 = -1_012_000_000_001;
const ADMIN: i64 = 1201;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn all_bytes_of_db(ws: &Workspace) -> Vec<u8> {
    let mut all = Vec::new();
    for f in ["crier.db", "crier.db-wal"] {
        if let Ok(b) = std::fs::read(ws.path(f)) {
            all.extend(b);
        }
    }
    all
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn a_token_echoed_in_html_error_pages_reaches_no_log_row_output_or_alert() {
    let rt = runtime();
    let (feeds, tg) = rt.block_on(async {
        (
            FeedServer::start().await.expect("feeds"),
            FakeTelegram::start_with_token(REAL_LOOKING_TOKEN)
                .await
                .expect("telegram"),
        )
    });
    tg.add_channel(CHANNEL, Some("sec_news"));
    let admin = TgUser::new(ADMIN, "Ada");
    tg.add_private(&admin);
    feeds.set("/feed.xml", Route::feed(rss(&numbered("leak", 1))));
    // The proxy-style error pages: getMe once (a 404), every send (a 400).
    tg.inject(Fault::EchoPathHtml(404).once().on("getMe"));
    tg.inject(
        Fault::EchoPathHtml(400)
            .always()
            .on("sendMessage")
            .target(CHANNEL),
    );
    let ws = Workspace::new();
    ws.write(
        "config.toml",
        &format!(
            r#"
[storage]
path = "crier.db"

[telegram]
token = "{REAL_LOOKING_TOKEN}"
api_url = "{api}"
admins = [{ADMIN}]

[delivery]
retry_base = "100ms"
retry_max = "200ms"
recheck = "200ms"
max_attempts = 2
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
            api = tg.api_url(),
            feed = feeds.url("/feed.xml"),
        ),
    );
    let run = Running::start(ws.dir.path(), &ws.config(), &[]);
    let inbox = || {
        tg.bot_posts(ADMIN)
            .iter()
            .map(|m| m.shown.clone())
            .collect::<Vec<_>>()
            .join("\n")
    };
    wait_until("the failure alert", Duration::from_secs(40), || {
        inbox().contains("failed after 2 attempts")
    });
    let (_, out, err) = run.terminate();

    // The error pages were met and their text kept (scrubbed): the test
    // would see a leak.
    let store = Store::open(&ws.path("crier.db")).expect("db");
    let failed = store
        .log(&LogQuery {
            limit: 100,
            ..LogQuery::default()
        })
        .expect("log");
    let reasons: Vec<String> = failed
        .iter()
        .filter(|e| e.delivery.state == State::Failed)
        .map(|e| format!("{:?}", e))
        .collect();
    assert!(
        reasons.iter().any(|r| r.contains("Cannot POST /bot***/")),
        "the error page's text is kept, scrubbed: {reasons:?}"
    );
    assert!(
        err.contains("getMe failed"),
        "the getMe error page was met:\n{err}"
    );
    drop(store);
    let log = ws.crier(&["log"]);
    let shown = format!("{}{}", stdout_of(&log), stderr_of(&log));
    for (what, text) in [
        ("stdout", out.as_str()),
        ("stderr", err.as_str()),
        ("crier log", shown.as_str()),
        ("the alert", inbox().as_str()),
    ] {
        assert!(
            !text.contains(TOKEN_SECRET),
            "the token leaked into {what}:\n{text}"
        );
    }
    assert!(
        !contains(&all_bytes_of_db(&ws), TOKEN_SECRET),
        "the token is stored in the database"
    );
    drop(rt);
}

const POST_MARK: &str = "═══ console · post";

fn console_config(db: &str) -> String {
    format!(
        r#"
[storage]
path = "{db}"

[delivery]
retry_base = "100ms"
recheck = "200ms"
shutdown_grace = "2s"

[[feeds]]
name = "local"
url = "feed.xml"
interval = "1s"
backfill = 10
targets = ["console"]

[[targets]]
name = "console"
platform = "console"
"#
    )
}

#[test]
fn a_send_whose_record_fails_is_recorded_later_and_never_sent_twice() {
    let ws = Workspace::new();
    ws.write("config.toml", &console_config("crier.db"));
    ws.write("feed.xml", &rss(&numbered("twice", 2)));
    // Twelve failures: more than the storage layer's own quick retries
    // (five tries per call), so the engine itself must hold on.
    let mut run = Running::start(
        ws.dir.path(),
        &ws.config(),
        &[("CRIER_TEST_FAULTS", "store.mark_sent=12")],
    );
    run.wait_for("the record retried", Duration::from_secs(30), |_, err| {
        err.contains("cannot record the outcome of a send")
    });
    let sent = || {
        Store::open(&ws.path("crier.db"))
            .and_then(|s| {
                s.log(&LogQuery {
                    limit: 100,
                    ..LogQuery::default()
                })
            })
            .map(|l| l.iter().filter(|e| e.delivery.state == State::Sent).count())
            .unwrap_or(0)
    };
    wait_until("both rows sent", Duration::from_secs(60), || sent() == 2);
    let (_, out, err) = run.terminate();
    assert_eq!(
        out.matches(POST_MARK).count(),
        2,
        "each article printed once:\n{out}\n{err}"
    );
    assert!(
        err.contains("the disk is full"),
        "the cause is named:\n{err}"
    );
}

#[test]
fn a_failing_delivery_log_pauses_deliveries_alerts_once_and_loses_nothing() {
    let ws = Workspace::new();
    // Two targets on one failing database: one incident, one alert.
    let config = console_config("crier.db").replace(
        "targets = [\"console\"]",
        "targets = [\"console\", \"console2\"]",
    ) + "\n[[targets]]\nname = \"console2\"\nplatform = \"console\"\n";
    assert!(config.contains("\"console2\"]"), "{config}");
    ws.write("config.toml", &config);
    ws.write("feed.xml", &rss(&numbered("paused", 2)));
    // Forty failures = eight failed worker steps (five tries per call):
    // enough for both workers to pass the alert threshold (three in a
    // row each), then the log answers again.
    let mut run = Running::start(
        ws.dir.path(),
        &ws.config(),
        &[("CRIER_TEST_FAULTS", "store.mark_sending=40")],
    );
    run.wait_for("the pause alerted", Duration::from_secs(60), |_, err| {
        err.contains("Deliveries are paused")
    });
    run.wait_for("deliveries resumed", Duration::from_secs(60), |_, err| {
        err.contains("deliveries resume")
    });
    wait_until("every row sent", Duration::from_secs(60), || {
        Store::open(&ws.path("crier.db"))
            .and_then(|s| {
                s.log(&LogQuery {
                    limit: 100,
                    ..LogQuery::default()
                })
            })
            .map(|l| l.iter().filter(|e| e.delivery.state == State::Sent).count())
            .unwrap_or(0)
            == 4
    });
    let (_, out, err) = run.terminate();
    assert_eq!(
        (
            out.matches(POST_MARK).count(),
            out.matches("═══ console2 · post").count()
        ),
        (2, 2),
        "each article printed once per target:\n{out}\n{err}"
    );
    assert_eq!(
        err.matches("Deliveries are paused").count(),
        1,
        "alerted once per incident, not once per target:\n{err}"
    );
}

/// Start `crier run` on `config` and wait until it holds the database.
fn start_holder(ws: &Workspace) -> Running {
    let mut run = Running::start(ws.dir.path(), &ws.config(), &[]);
    run.wait_for("the first instance", Duration::from_secs(30), |_, err| {
        err.contains("starting")
    });
    run
}

fn second_run(ws: &Workspace, config: &str) -> std::process::Output {
    let path = ws.write(config, &console_config_for(ws, config));
    Command::new(crate::support::crier_bin())
        .arg("run")
        .arg("--config")
        .arg(&path)
        .current_dir(ws.dir.path())
        .output()
        .expect("run crier")
}

fn console_config_for(ws: &Workspace, config: &str) -> String {
    let db = match config {
        "symlink.toml" => "alias.db".to_string(),
        "absolute.toml" => ws.path("sub/../crier.db").display().to_string(),
        "hardlink.toml" => "hard.db".to_string(),
        other => panic!("{other}"),
    };
    console_config(&db)
}

#[test]
fn a_second_instance_by_symlink_absolute_path_or_hard_link_is_refused_naming_the_pid() {
    let ws = Workspace::new();
    ws.write("config.toml", &console_config("./crier.db"));
    ws.write("feed.xml", &rss(&numbered("lock", 1)));
    std::fs::create_dir_all(ws.path("sub")).expect("mkdir");
    let first = start_holder(&ws);
    let pid = first.child.id();
    std::os::unix::fs::symlink(ws.path("crier.db"), ws.path("alias.db")).expect("symlink");
    std::fs::hard_link(ws.path("crier.db"), ws.path("hard.db")).expect("hard link");
    for config in ["symlink.toml", "absolute.toml", "hardlink.toml"] {
        let out = second_run(&ws, config);
        let err = stderr_of(&out);
        assert_eq!(out.status.code(), Some(1), "{config}: {err}");
        assert!(
            err.contains(&format!("PID {pid}")) && err.contains("already running"),
            "{config}: the refusal names the holder:\n{err}"
        );
        assert!(
            !err.contains("resolved deliveries left in flight"),
            "{config}: no crash recovery ran:\n{err}"
        );
    }
    let (status, _, _) = first.terminate();
    assert!(status.success());
}

/// A tiny tmpfs mounted on a folder for the life of the guard (root only).
struct TinyFs {
    path: std::path::PathBuf,
}

impl TinyFs {
    fn mount(path: std::path::PathBuf, size: &str) -> Option<TinyFs> {
        std::fs::create_dir_all(&path).ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&path)
            .output()
            .ok()?
            .status
            .success();
        ok.then_some(TinyFs { path })
    }

    /// Write a filler file until the filesystem is full.
    fn fill(&self) -> std::path::PathBuf {
        use std::io::Write;
        let filler = self.path.join("filler");
        let mut f = std::fs::File::create(&filler).expect("filler");
        let chunk = vec![0u8; 16 * 1024];
        while f.write_all(&chunk).is_ok() {}
        let _ = f.write_all(&[0u8; 512]);
        let _ = f.sync_all();
        filler
    }
}

impl Drop for TinyFs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

#[test]
fn a_disk_that_fills_during_a_send_delays_the_record_but_never_sends_twice() {
    let ws = Workspace::new();
    let Some(fs) = TinyFs::mount(ws.path("small"), "8m") else {
        eprintln!(
            "SKIPPED: cannot mount a tmpfs here (needs root); the fault-hook test covers the logic"
        );
        return;
    };
    let rt = runtime();
    let (feeds, tg) = rt.block_on(async {
        (
            FeedServer::start().await.expect("feeds"),
            FakeTelegram::start().await.expect("telegram"),
        )
    });
    tg.add_channel(CHANNEL, Some("sec_full"));
    feeds.set("/feed.xml", Route::feed(rss(&numbered("full", 1))));
    // The send is applied, then its answer takes 3 s: the disk fills then.
    tg.inject(
        Fault::DelayAfterApply(Duration::from_secs(3))
            .once()
            .on("sendMessage")
            .target(CHANNEL),
    );
    ws.write(
        "config.toml",
        &format!(
            r#"
[storage]
path = "small/crier.db"

[telegram]
token = "{token}"
api_url = "{api}"
timeout = "20s"

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
            api = tg.api_url(),
            feed = feeds.url("/feed.xml"),
        ),
    );
    let mut run = Running::start(ws.dir.path(), &ws.config(), &[]);
    wait_until("the send applied", Duration::from_secs(30), || {
        tg.bot_posts(CHANNEL).len() == 1
    });
    let filler = fs.fill();
    run.wait_for("the failed record", Duration::from_secs(30), |_, err| {
        err.contains("cannot record the outcome of a send")
    });
    std::fs::remove_file(&filler).expect("free the disk");
    let sent = || {
        Store::open(&ws.path("small/crier.db"))
            .and_then(|s| {
                s.log(&LogQuery {
                    limit: 10,
                    ..LogQuery::default()
                })
            })
            .map(|l| l.iter().any(|e| e.delivery.state == State::Sent))
            .unwrap_or(false)
    };
    wait_until("the row recorded sent", Duration::from_secs(60), sent);
    let (_, _, err) = run.terminate();
    assert_eq!(tg.bot_posts(CHANNEL).len(), 1, "sent once:\n{err}");
    assert!(
        err.contains("the disk is full"),
        "the cause is named:\n{err}"
    );
    drop(fs);
    drop(rt);
}

#[test]
fn config_errors_and_check_show_values_as_written_and_urls_without_credentials() {
    let ws = Workspace::new();
    ws.write("feed.xml", &rss(&numbered("cfg", 1)));
    let config = |webhook: &str, api: &str| {
        format!(
            r#"
[storage]
path = "crier.db"

[discord]
api_url = "{api}"

[[feeds]]
name = "private"
url = "https://reader:pa55word@feeds.example/rss?api_key=K3YVALUE&page=2"
targets = ["hook"]

[[targets]]
name = "hook"
platform = "discord_webhook"
webhook_url = "{webhook}"
"#
        )
    };
    let check = |ws: &Workspace| {
        let out = Command::new(crate::support::crier_bin())
            .args(["--config"])
            .arg(ws.config())
            .arg("check")
            .env(
                "HOOK_TOKEN",
                "HOOKSECRET0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
            )
            .output()
            .expect("crier check");
        (
            out.status.code(),
            format!("{}{}", stdout_of(&out), stderr_of(&out)),
        )
    };
    // Invalid URLs: the errors show `${HOOK_TOKEN}`, never its value.
    ws.write(
        "config.toml",
        &config(
            "ftp://discord.com/api/webhooks/1/${HOOK_TOKEN}",
            "ftp://proxy.example/${HOOK_TOKEN}/api",
        ),
    );
    let (code, text) = check(&ws);
    assert_ne!(code, Some(0), "{text}");
    assert!(
        text.contains("ftp://proxy.example/${HOOK_TOKEN}/api"),
        "as written: {text}"
    );
    assert!(!text.contains("HOOKSECRET"), "the token leaked: {text}");
    // A valid config: the summary shows the feed URL without credentials.
    ws.write(
        "config.toml",
        &config(
            "https://discord.com/api/webhooks/1/${HOOK_TOKEN}",
            "https://discord.com/api",
        ),
    );
    let (code, text) = check(&ws);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("https://***@feeds.example/rss?api_key=***&page=2"),
        "{text}"
    );
    for secret in ["pa55word", "K3YVALUE", "HOOKSECRET"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
}

#[test]
fn a_read_only_database_stops_the_start_with_the_reason() {
    let ws = Workspace::new();
    let Some(fs) = TinyFs::mount(ws.path("ro"), "4m") else {
        eprintln!("SKIPPED: cannot mount a tmpfs here (needs root)");
        return;
    };
    ws.write("config.toml", &console_config("ro/crier.db"));
    ws.write("feed.xml", &rss(&numbered("ro", 1)));
    drop(Store::open(&ws.path("ro/crier.db")).expect("create the database"));
    let remounted = Command::new("mount")
        .args(["-o", "remount,ro"])
        .arg(ws.path("ro"))
        .status()
        .expect("remount");
    assert!(remounted.success());
    let out = Command::new(crate::support::crier_bin())
        .arg("run")
        .arg("--config")
        .arg(ws.config())
        .output()
        .expect("crier run");
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.to_lowercase().contains("read-only"),
        "the reason is named: {err}"
    );
    drop(fs);
}
