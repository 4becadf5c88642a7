//! A target the platform refuses is disabled once, with one alert whose
//! text carries the fix; the same fix shows in `crier log`. A revoked
//! token stops the command front-end at once instead of retrying forever.

use std::time::Duration;

use crier_fakes::FakeTelegram;
use crier_fakes::feed::{FeedServer, Route};
use crier_storage::State;

use crate::daemon::*;

const CHANNEL: i64 = -1_001_000_000_001;

fn config(token: &str, api: &str, feed: &str, chat: &str) -> String {
    format!(
        r#"
[storage]
path = "crier.db"

[telegram]
token = "{token}"
api_url = "{api}"
timeout = "5s"
admins = [42]

[delivery]
retry_base = "100ms"
retry_max = "1s"
recheck = "200ms"
shutdown_grace = "2s"

[[feeds]]
name = "news"
url = "{feed}"
interval = "1s"
backfill = 3
targets = ["channel"]

[[targets]]
name = "channel"
platform = "telegram"
chat = "{chat}"
"#
    )
}

async fn feed_server() -> FeedServer {
    let feeds = FeedServer::start().await.expect("feed server");
    feeds.set("/feed.xml", Route::feed(rss(&numbered("h", 3))));
    feeds
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_not_found_disables_the_target_once_with_the_fix_in_alert_and_log() {
    let tg = FakeTelegram::start().await.expect("fake telegram");
    tg.add_channel(CHANNEL, Some("loopback_news"));
    let feeds = feed_server().await;
    let dir = tempfile::tempdir().expect("dir");
    // A channel id written without its -100 prefix.
    let daemon = Daemon::start(
        dir.path(),
        &config(
            FakeTelegram::TOKEN,
            &tg.api_url(),
            &feeds.url("/feed.xml"),
            "1000000001",
        ),
    );
    // The daemon made its database before it sent anything.
    eventually("a send", Duration::from_secs(20), || {
        !tg.requests_to("sendMessage").is_empty()
    })
    .await;
    eventually("the target disabled", Duration::from_secs(20), || {
        store(dir.path())
            .target_state("channel")
            .ok()
            .flatten()
            .is_some_and(|s| s.disabled_reason.is_some())
    })
    .await;
    let st = store(dir.path());
    let reason = st
        .target_state("channel")
        .expect("state")
        .expect("row")
        .disabled_reason
        .expect("reason");
    assert!(
        reason.contains("chat not found") && reason.contains("-100"),
        "{reason}"
    );
    assert!(reason.contains("crier retry --target channel"), "{reason}");
    eventually("the alert recorded", Duration::from_secs(20), || {
        st.open_alerts().is_ok_and(|a| !a.is_empty())
    })
    .await;
    let alerts = st.open_alerts().expect("alerts");
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert!(
        alerts[0].2.contains("-100") && alerts[0].2.contains("crier retry --target channel"),
        "{alerts:?}"
    );
    let pending = rows_in(dir.path(), "channel", State::Pending);
    assert!(
        pending
            .iter()
            .any(|d| d.last_error.as_deref().is_some_and(|e| e.contains("fix:"))),
        "the row waiting in the log carries the fix: {pending:?}"
    );
    // The queue waits: one refused send, not one per article.
    let to_chat = |chat: &str| {
        tg.requests_to("sendMessage")
            .into_iter()
            .filter(|r| r.target.as_deref() == Some(chat))
            .count()
    };
    assert_eq!(to_chat("1000000001"), 1);
    // The one alert reached the admin, with the fix.
    eventually(
        "the alert sent to the admin",
        Duration::from_secs(20),
        || to_chat("42") == 1,
    )
    .await;
    let alert = tg
        .requests_to("sendMessage")
        .into_iter()
        .find(|r| r.target.as_deref() == Some("42"))
        .map(|r| r.params.to_string())
        .unwrap_or_default();
    assert!(alert.contains("-100"), "{alert}");
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_disables_the_target_once_and_stops_the_command_polling() {
    let tg = FakeTelegram::start().await.expect("fake telegram");
    tg.add_channel(CHANNEL, Some("loopback_news"));
    let feeds = feed_server().await;
    let dir = tempfile::tempdir().expect("dir");
    let daemon = Daemon::start(
        dir.path(),
        &config(
            "7000000001:REVOKED.token",
            &tg.api_url(),
            &feeds.url("/feed.xml"),
            "-1001000000001",
        ),
    );
    // The daemon made its database before it sent anything.
    eventually("a send", Duration::from_secs(20), || {
        !tg.requests_to("sendMessage").is_empty()
    })
    .await;
    eventually("the target disabled", Duration::from_secs(20), || {
        store(dir.path())
            .target_state("channel")
            .ok()
            .flatten()
            .is_some_and(|s| s.disabled_reason.is_some())
    })
    .await;
    eventually(
        "the command front-end's first getUpdates",
        Duration::from_secs(20),
        || !tg.requests_to("getUpdates").is_empty(),
    )
    .await;
    let st = store(dir.path());
    eventually("the alert recorded", Duration::from_secs(20), || {
        st.open_alerts().is_ok_and(|a| !a.is_empty())
    })
    .await;
    let alerts = st.open_alerts().expect("alerts");
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert!(alerts[0].2.contains("token"), "{alerts:?}");
    // Three more polls of the 1-second feed: more than the 1-second first
    // backoff a retrying front-end would wait before its next getUpdates.
    let hits = feeds.hits("/feed.xml");
    eventually("three more feed polls", Duration::from_secs(20), || {
        feeds.hits("/feed.xml") >= hits + 3
    })
    .await;
    assert_eq!(st.open_alerts().expect("alerts").len(), 1);
    assert_eq!(
        tg.requests_to("getUpdates").len(),
        1,
        "no retry loop on a revoked token"
    );
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_discord_token_disables_the_target_once_and_stops_the_slash_commands() {
    use crier_fakes::FakeDiscord;
    const CHAN: u64 = 1_500_000_000_000_000_001;
    let dc = FakeDiscord::start().await.expect("fake discord");
    dc.add_text_channel(CHAN);
    let feeds = feed_server().await;
    let dir = tempfile::tempdir().expect("dir");
    let config = format!(
        r#"
[storage]
path = "crier.db"

[discord]
token = "REVOKED.discord.token"
api_url = "{api}"
admins = [42]

[delivery]
retry_base = "100ms"
recheck = "200ms"
shutdown_grace = "2s"

[[feeds]]
name = "news"
url = "{feed}"
interval = "1s"
backfill = 3
targets = ["channel"]

[[targets]]
name = "channel"
platform = "discord"
channel = {CHAN}
"#,
        api = dc.api_url(),
        feed = feeds.url("/feed.xml"),
    );
    let daemon = Daemon::start(dir.path(), &config);
    eventually("a send", Duration::from_secs(20), || {
        !dc.requests_to("create_message").is_empty()
    })
    .await;
    let st = store(dir.path());
    eventually("the alert recorded", Duration::from_secs(20), || {
        st.open_alerts().is_ok_and(|a| !a.is_empty())
    })
    .await;
    // Five more polls of the 1-second feed (≥ 4 s): a front-end retrying
    // with backoff (1 s, 2 s…) would have asked again twice by then.
    let hits = feeds.hits("/feed.xml");
    eventually("five more feed polls", Duration::from_secs(30), || {
        feeds.hits("/feed.xml") >= hits + 5
    })
    .await;
    let alerts = st.open_alerts().expect("alerts");
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert!(alerts[0].2.contains("token"), "{alerts:?}");
    assert_eq!(
        dc.requests_to("create_message").len(),
        1,
        "one refused send"
    );
    assert_eq!(
        dc.requests_to("get_current_application").len(),
        2,
        "asked, checked once, stopped"
    );
    daemon.stop().await;
}
