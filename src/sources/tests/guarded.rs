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
