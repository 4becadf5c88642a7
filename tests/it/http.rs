//! The HTTP listener end to end: the daemon in-process with `[http]`, a
//! loopback feed server and the fake Bot API. Health, readiness (and a
//! wedged worker), metrics that move as the fake delivers, the status
//! page behind its token, the CSRF-protected actions, a taken port.

use std::time::Duration;

use crier_fakes::feed::{FeedServer, Route};
use crier_fakes::{FakeTelegram, Fault};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, COOKIE, LOCATION, SET_COOKIE};

use crate::daemon::*;

pub const CHANNEL: i64 = -1_001_000_000_001;
pub const TOKEN: &str = "test-http-token-0123456789";

/// A free loopback port (bound, read, released).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

pub struct World {
    pub dir: tempfile::TempDir,
    pub feeds: FeedServer,
    pub tg: FakeTelegram,
    pub port: u16,
}

pub async fn world() -> World {
    let tg = FakeTelegram::start().await.expect("fake telegram");
    tg.add_channel(CHANNEL, Some("loopback_news"));
    let feeds = FeedServer::start().await.expect("feed server");
    feeds.set("/feed.xml", Route::feed(rss(&numbered("h", 3))));
    World {
        dir: tempfile::tempdir().expect("dir"),
        feeds,
        tg,
        port: free_port(),
    }
}

impl World {
    pub fn config(&self, http_extra: &str, telegram_extra: &str) -> String {
        format!(
            r#"
[storage]
path = "crier.db"

[http]
listen = "127.0.0.1:{port}"
token = "{TOKEN}"
{http_extra}

[telegram]
token = "{token}"
api_url = "{api}"
timeout = "60s"
{telegram_extra}

[delivery]
retry_base = "100ms"
retry_max = "1s"
recheck = "200ms"
shutdown_grace = "3s"

[[feeds]]
name = "news"
url = "{feed}"
interval = "1s"
backfill = 1000
targets = ["tg"]

[[targets]]
name = "tg"
platform = "telegram"
chat = "{CHANNEL}"
"#,
            port = self.port,
            token = FakeTelegram::TOKEN,
            api = self.tg.api_url(),
            feed = self.feeds.url("/feed.xml"),
        )
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// GET until the listener answers.
pub async fn wait_listening(w: &World) {
    let c = client();
    for _ in 0..400 {
        if c.get(w.url("/healthz")).send().await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the listener never answered");
}

async fn metrics(w: &World) -> String {
    let r = client()
        .get(w.url("/metrics"))
        .header(AUTHORIZATION, format!("Bearer {TOKEN}"))
        .send()
        .await
        .expect("scrape");
    assert_eq!(r.status(), StatusCode::OK);
    r.text().await.expect("body")
}

/// The value of one series in a scrape.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
}

#[tokio::test]
async fn health_metrics_page_and_actions() {
    let w = world().await;
    let d = Daemon::start(w.dir.path(), &w.config("", ""));
    wait_listening(&w).await;
    let c = client();

    // Health needs no token.
    let r = c.get(w.url("/healthz")).send().await.expect("healthz");
    assert_eq!(r.status(), StatusCode::OK);
    let r = c.get(w.url("/readyz")).send().await.expect("readyz");
    assert_eq!(r.status(), StatusCode::OK);
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["status"], "ready", "{body}");
    assert_eq!(body["database"], "ok");

    // Everything else does.
    for path in ["/metrics", "/", "/actions/retry"] {
        let r = c.get(w.url(path)).send().await.expect("get");
        assert!(
            r.status() == StatusCode::UNAUTHORIZED || r.status() == StatusCode::METHOD_NOT_ALLOWED,
            "{path}: {}",
            r.status()
        );
    }
    let r = c
        .get(w.url("/metrics"))
        .header(AUTHORIZATION, "Bearer wrong-token-wrong-token")
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = c
        .post(w.url("/actions/retry"))
        .form(&[("target", "tg")])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // Metrics move as the fake delivers.
    eventually("three posts", Duration::from_secs(20), || {
        w.tg.bot_posts(CHANNEL).len() == 3
    })
    .await;
    let mut text = String::new();
    for _ in 0..200 {
        text = metrics(&w).await;
        if value(
            &text,
            "crier_deliveries_total{target=\"tg\",state=\"sent\"}",
        ) == Some(3.0)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(
        value(
            &text,
            "crier_deliveries_total{target=\"tg\",state=\"sent\"}"
        ),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            "crier_platform_answers_total{platform=\"telegram\",status=\"2xx\"}"
        ),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        value(&text, "crier_articles_ingested_total{feed=\"news\"}"),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        value(&text, "crier_queue_depth{target=\"tg\"}"),
        Some(0.0),
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            "crier_delivery_latency_seconds_count{platform=\"telegram\"}"
        ),
        Some(3.0),
        "{text}"
    );
    assert!(
        value(&text, "crier_polls_total{feed=\"news\",outcome=\"new\"}").is_some(),
        "{text}"
    );
    assert!(text.contains("crier_build_info{version="), "{text}");
    assert_eq!(value(&text, "crier_paused_feeds"), Some(0.0), "{text}");
    // Three posts to one channel: the flood limiter spaced them (a second
    // per chat), and that wait shows.
    assert!(
        value(
            &text,
            "crier_rate_limiter_wait_seconds_total{platform=\"telegram\"}"
        )
        .is_some_and(|v| v > 0.5),
        "{text}"
    );

    // The page: a browser without a session is sent to the login form.
    let r = c
        .get(w.url("/"))
        .header(ACCEPT, "text/html")
        .send()
        .await
        .expect("page");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], "/login");
    let r = c
        .post(w.url("/login"))
        .form(&[("token", "not-the-token")])
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.headers().get(SET_COOKIE).is_none());
    let r = c
        .post(w.url("/login"))
        .form(&[("token", TOKEN)])
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cookie = r.headers()[SET_COOKIE]
        .to_str()
        .expect("cookie")
        .split(';')
        .next()
        .expect("pair")
        .to_string();
    assert!(cookie.starts_with("crier_session="), "{cookie}");
    let page = c
        .get(w.url("/"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), StatusCode::OK);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_string();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let html = page.text().await.expect("html");
    for needle in [
        "data-feed=\"news\"",
        "data-target=\"tg\"",
        "Story 003",
        "http-equiv=\"refresh\"",
        "<svg",
    ] {
        assert!(html.contains(needle), "page lacks {needle:?}:\n{html}");
    }
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a CSRF token in the page")
        .to_string();
    assert_eq!(csrf.len(), 64);

    // An action without the CSRF token is refused and changes nothing.
    let r = c
        .post(w.url("/actions/pause"))
        .header(COOKIE, &cookie)
        .form(&[("name", "news")])
        .send()
        .await
        .expect("pause");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = c
        .post(w.url("/actions/pause"))
        .header(COOKIE, &cookie)
        .form(&[("name", "news"), ("csrf", "0".repeat(64).as_str())])
        .send()
        .await
        .expect("pause");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let st = store(w.dir.path());
    assert!(
        st.feed_state("news")
            .expect("state")
            .and_then(|s| s.paused_reason)
            .is_none()
    );

    // With it, the feed is paused through the command layer and audited.
    let r = c
        .post(w.url("/actions/pause"))
        .header(COOKIE, &cookie)
        .form(&[("name", "news"), ("csrf", csrf.as_str())])
        .send()
        .await
        .expect("pause");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()[LOCATION]
        .to_str()
        .expect("location")
        .to_string();
    assert!(to.starts_with("/?done=Feed+news+paused"), "{to}");
    let reason = st
        .feed_state("news")
        .expect("state")
        .and_then(|s| s.paused_reason);
    assert!(
        reason
            .as_deref()
            .is_some_and(|r| r.contains("http:127.0.0.1")),
        "{reason:?}"
    );
    let audit = st.audit_log(10).expect("audit");
    assert!(
        audit.iter().any(|a| a.platform == "http"
            && a.command.contains("Pause")
            && a.user_name
                .as_deref()
                .is_some_and(|n| n.starts_with("http:127.0.0.1"))),
        "{audit:?}"
    );
    let text = metrics(&w).await;
    assert_eq!(value(&text, "crier_paused_feeds"), Some(1.0), "{text}");

    // Scripts use the bearer token and get JSON.
    let r = c
        .post(w.url("/actions/resume"))
        .header(AUTHORIZATION, format!("Bearer {TOKEN}"))
        .form(&[("name", "news")])
        .send()
        .await
        .expect("resume");
    assert_eq!(r.status(), StatusCode::OK);
    let body: serde_json::Value = r.json().await.expect("json");
    assert!(
        body["reply"]
            .as_str()
            .is_some_and(|s| s.contains("resumed")),
        "{body}"
    );
    assert!(
        st.feed_state("news")
            .expect("state")
            .and_then(|s| s.paused_reason)
            .is_none()
    );

    d.stop().await;
    // Stopped with the daemon.
    assert!(
        c.get(w.url("/healthz")).send().await.is_err(),
        "the listener outlived the daemon"
    );
}

/// Guessing the token (sign-in form or bearer header) is slowed down:
/// after a few wrong tokens a minute, the address is refused (even the
/// right token) until the minute is over.
#[tokio::test]
async fn a_token_guesser_is_refused_for_a_minute() {
    let w = world().await;
    let d = Daemon::start(w.dir.path(), &w.config("", ""));
    wait_listening(&w).await;
    let c = client();
    let sign_in = |token: &'static str| c.post(w.url("/login")).form(&[("token", token)]).send();
    let bearer = |token: &'static str| {
        c.get(w.url("/metrics"))
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .send()
    };
    // Wrong tokens through the form and the header count together.
    for i in 0..crier::http::auth::WRONG_TOKENS_PER_MINUTE {
        let r = if i % 2 == 0 {
            sign_in("a-guess").await
        } else {
            bearer("a-guess").await
        };
        assert_eq!(r.expect("answer").status(), StatusCode::UNAUTHORIZED);
    }
    let r = bearer(TOKEN).await.expect("metrics");
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let r = sign_in(TOKEN).await.expect("login");
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["retry-after"], "60");
    assert!(r.headers().get(SET_COOKIE).is_none());
    let body = r.text().await.expect("body");
    assert!(body.contains("try again in a minute"), "{body}");
    d.stop().await;
}

#[tokio::test]
async fn readyz_names_a_wedged_worker() {
    let w = world().await;
    // Every send hangs far longer than the readiness limit.
    w.tg.inject(
        Fault::Delay(Duration::from_secs(120))
            .always()
            .on("sendMessage"),
    );
    let d = Daemon::start(w.dir.path(), &w.config("stuck_after = \"1s\"", ""));
    wait_listening(&w).await;
    let c = client();
    let mut body = serde_json::Value::Null;
    for _ in 0..400 {
        let r = c.get(w.url("/readyz")).send().await.expect("readyz");
        if r.status() == StatusCode::SERVICE_UNAVAILABLE {
            body = r.json().await.expect("json");
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(body["status"], "not ready", "readyz never failed: {body}");
    let tasks = body["tasks"].as_array().expect("tasks");
    assert!(
        tasks
            .iter()
            .any(|t| t["kind"] == "worker" && t["name"] == "tg" && t["state"] == "wedged"),
        "{body}"
    );
    assert!(
        body["problems"][0]
            .as_str()
            .is_some_and(|p| p.contains("tg")),
        "{body}"
    );
    // The stop is not held up beyond the grace period by the hung send.
    d.stop().await;
}

#[tokio::test]
async fn a_taken_port_is_a_clear_start_error() {
    let w = world().await;
    let taken = std::net::TcpListener::bind(("127.0.0.1", w.port)).expect("bind");
    let path = w.dir.path().join("config.toml");
    std::fs::write(&path, w.config("", "")).expect("write");
    let cfg = crier::config::Config::load(&path).expect("config");
    let err = crier::app::run(
        cfg,
        Default::default(),
        tokio_util::sync::CancellationToken::new(),
    )
    .await
    .expect_err("the port is taken");
    let msg = format!("{err:#}");
    assert!(msg.contains(&format!("127.0.0.1:{}", w.port)), "{msg}");
    drop(taken);
}

#[test]
fn check_refuses_a_public_listener_without_a_token() {
    let ws = crate::support::Workspace::new();
    ws.write(
        "config.toml",
        "[http]\nlisten = \"0.0.0.0:8080\"\n\n[[targets]]\nname = \"out\"\nplatform = \"console\"\n",
    );
    let out = ws.crier(&["check"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        crate::support::stderr_of(&out)
    );
    let err = crate::support::stderr_of(&out);
    assert!(
        err.contains("http.token") && err.contains("0.0.0.0:8080"),
        "{err}"
    );
}
