//! The SSRF guard on polled feeds (issue #12): a guarded feed is checked
//! at every request, redirect and discovery step; no feed ever reaches a
//! `file:` URL from an http(s) document.

use std::time::Duration;

use crier_fakes::feed::{FeedServer, Route};
use url::Url;

use super::super::guard::GuardPolicy;
use super::super::*;

const FEED: &str = r#"<rss version="2.0"><channel><title>Outside</title>
<item><title>Public news</title><link>https://news.example/1</link><guid>n1</guid></item>
</channel></rss>"#;

const SECRET: &str = r#"<rss version="2.0"><channel><title>Internal</title>
<item><title>Internal secret</title><link>https://intra.example/s</link><guid>s1</guid></item>
</channel></rss>"#;

/// A fetcher whose guard lets through exactly the first server's address.
fn fetcher_allowing(server: &FeedServer) -> Fetcher {
    let hostport = server.base(0).trim_start_matches("http://").to_owned();
    Fetcher::new(FetcherConfig {
        connect_timeout: Duration::from_secs(2),
        total_timeout: Duration::from_secs(5),
        guard: GuardPolicy {
            allow_private: false,
            allow_hosts: vec![hostport],
        },
        ..FetcherConfig::default()
    })
    .expect("fetcher")
}

fn spec(url: &str, guarded: bool) -> FeedSpec {
    let mut s = FeedSpec::new("f", Url::parse(url).expect("url"));
    s.guarded = guarded;
    s
}

#[tokio::test]
async fn a_guarded_feed_never_follows_a_redirect_to_another_loopback_port() {
    let outside = FeedServer::start().await.expect("server");
    let internal = FeedServer::start().await.expect("server");
    internal.set_feed("/secret.xml", SECRET);
    outside.set_feed("/feed.xml", FEED);
    let f = fetcher_allowing(&outside);
    let s = spec(&outside.url("/feed.xml"), true);
    // The first polls are fine.
    let out = f.poll(&s, &FetchState::default()).await.expect("poll");
    assert!(matches!(out, PollOutcome::Items { .. }));
    // Then the server turns hostile.
    outside.set("/feed.xml", Route::redirect(&internal.url("/secret.xml")));
    let err = f
        .poll(&s, &FetchState::default())
        .await
        .expect_err("refused");
    assert_eq!(err.kind(), "refused", "{err}");
    assert!(err.to_string().contains("not a public address"), "{err}");
    assert!(!err.to_string().contains("too many redirects"), "{err}");
    assert_eq!(internal.total_hits(), 0, "nothing fetched from there");

    // The same redirect for a config feed (unguarded) is followed: the
    // guard is what stops it above.
    let open = spec(&outside.url("/feed.xml"), false);
    assert!(f.poll(&open, &FetchState::default()).await.is_ok());
    assert_eq!(internal.total_hits(), 1);
}

#[tokio::test]
async fn a_guarded_feed_is_checked_before_the_first_request() {
    let server = FeedServer::start().await.expect("server");
    server.set_feed("/feed.xml", FEED);
    let f = fetcher_allowing(&server);
    let other_port = spec(&format!("http://127.0.0.1:{}/feed.xml", free_port()), true);
    let err = f
        .poll(&other_port, &FetchState::default())
        .await
        .expect_err("refused");
    assert_eq!(err.kind(), "refused", "{err}");
    let err = f
        .poll(&spec("file:///etc/hostname", true), &FetchState::default())
        .await
        .expect_err("refused");
    assert_eq!(err.kind(), "refused", "{err}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(9)
}

fn html_linking(href: &str) -> String {
    format!(
        r#"<!doctype html><html><head><title>Blog</title>
<link rel="alternate" type="application/rss+xml" href="{href}"></head>
<body><p>Hello</p></body></html>"#
    )
}

#[tokio::test]
async fn a_discovered_file_url_is_never_read_for_an_http_feed() {
    let dir = tempfile::tempdir().expect("dir");
    let secret = dir.path().join("secret.xml");
    std::fs::write(&secret, SECRET).expect("write");
    let file_url = Url::from_file_path(&secret).expect("file url");
    let server = FeedServer::start().await.expect("server");
    server.set(
        "/blog/",
        Route::ok(html_linking(file_url.as_str()), "text/html"),
    );
    let f = fetcher_allowing(&server);
    // Config feeds (unguarded) and chat feeds (guarded) alike.
    for guarded in [false, true] {
        let s = spec(&server.url("/blog/"), guarded);
        let err = f
            .poll(&s, &FetchState::default())
            .await
            .expect_err("refused");
        assert_eq!(err.kind(), "refused", "guarded {guarded}: {err}");
        // A state that already holds such a discovered URL is refused too.
        let st = FetchState {
            discovered_feed: Some(file_url.to_string()),
            ..FetchState::default()
        };
        let err = f.poll(&s, &st).await.expect_err("refused");
        assert_eq!(err.kind(), "refused", "guarded {guarded}: {err}");
    }
}

#[tokio::test]
async fn a_discovered_private_url_is_refused_for_a_guarded_feed() {
    let outside = FeedServer::start().await.expect("server");
    let internal = FeedServer::start().await.expect("server");
    internal.set_feed("/secret.xml", SECRET);
    outside.set(
        "/blog/",
        Route::ok(html_linking(&internal.url("/secret.xml")), "text/html"),
    );
    let f = fetcher_allowing(&outside);
    let err = f
        .poll(&spec(&outside.url("/blog/"), true), &FetchState::default())
        .await
        .expect_err("refused");
    assert_eq!(err.kind(), "refused", "{err}");
    // A WordPress API root advertised in a Link header, the same.
    outside.set(
        "/wp/",
        Route::ok(html_linking(&internal.url("/secret.xml")), "text/html").header(
            "Link",
            &format!(
                "<{}>; rel=\"https://api.w.org/\"",
                internal.url("/wp-json/")
            ),
        ),
    );
    let _ = f
        .poll(&spec(&outside.url("/wp/"), true), &FetchState::default())
        .await;
    assert_eq!(internal.total_hits(), 0, "nothing fetched from there");
}

#[tokio::test]
async fn a_plain_client_never_follows_a_redirect_to_a_file_url() {
    let server = FeedServer::start().await.expect("server");
    server.set("/feed.xml", Route::redirect("file:///etc/passwd"));
    let f = fetcher_allowing(&server);
    let err = f
        .poll(
            &spec(&server.url("/feed.xml"), false),
            &FetchState::default(),
        )
        .await
        .expect_err("refused");
    assert!(
        matches!(err.kind(), "refused" | "http"),
        "a file: redirect is not followed: {err}"
    );
}

#[tokio::test]
async fn inspect_and_command_fetches_honour_the_configured_body_cap() {
    let server = FeedServer::start().await.expect("server");
    server.set_feed("/feed.xml", FEED);
    server.set(
        "/page.html",
        Route::ok("<html><body>".repeat(20), "text/html"),
    );
    let f = Fetcher::new(FetcherConfig {
        body_cap: 100,
        ..FetcherConfig::default()
    })
    .expect("fetcher");
    let r = inspect::inspect(&f, &server.url("/feed.xml")).await;
    assert_eq!(r.result.err().map(|e| e.kind()), Some("body_too_large"));
    let url = Url::parse(&server.url("/page.html")).expect("url");
    let e = page::fetch_page(&f, &url).await.expect_err("over the cap");
    assert_eq!(e.kind(), "body_too_large");
}

/// The proxy check runs in a child process (proxy variables are
/// process-wide): the parent listens as the "proxy" and counts who came.
#[test]
fn the_guarded_client_ignores_proxy_variables() {
    use std::io::Read;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let proxy = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = proxy.local_addr().expect("addr");
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    std::thread::spawn(move || {
        for conn in proxy.incoming().flatten() {
            h.fetch_add(1, Ordering::SeqCst);
            let mut conn = conn;
            let mut buf = [0u8; 512];
            let _ = conn.read(&mut buf);
            // Close without answering: a proxied request fails.
        }
    });
    let url = format!("http://{addr}");
    let exe = std::env::current_exe().expect("test binary");
    let out = std::process::Command::new(exe)
        .args([
            "sources::tests::guarded::proxy_child",
            "--exact",
            "--ignored",
            "--test-threads=1",
        ])
        .env("CRIER_PROXY_CHILD", "1")
        .env("HTTP_PROXY", &url)
        .env("http_proxy", &url)
        .env("HTTPS_PROXY", &url)
        .env("ALL_PROXY", &url)
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .output()
        .expect("run the child");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "child failed:\n{text}");
    assert!(text.contains("1 passed"), "the child test ran:\n{text}");
    // The plain client went to the proxy (the variables are in effect),
    // the guarded one did not.
    assert_eq!(hits.load(Ordering::SeqCst), 1, "{text}");
}

#[tokio::test]
#[ignore = "run by the_guarded_client_ignores_proxy_variables"]
async fn proxy_child() {
    if std::env::var_os("CRIER_PROXY_CHILD").is_none() {
        return;
    }
    let server = FeedServer::start().await.expect("server");
    server.set_feed("/feed.xml", FEED);
    let f = fetcher_allowing(&server);
    let guarded = spec(&server.url("/feed.xml"), true);
    f.poll(&guarded, &FetchState::default())
        .await
        .expect("the guarded client goes direct");
    assert_eq!(server.hits("/feed.xml"), 1);
    let plain = spec(&server.url("/feed.xml"), false);
    assert!(
        f.poll(&plain, &FetchState::default()).await.is_err(),
        "the plain client uses the proxy"
    );
    assert_eq!(server.hits("/feed.xml"), 1);
}
