//! Polling against the loopback feed server: conditional GET, failures,
//! re-dated / GUID-less / updated items, WordPress REST and fallback,
//! body caps, redirects, timeouts, encodings, headers, local files.

use std::time::{Duration, Instant};

use crier_fakes::feed::{FeedServer, Route};
use url::Url;

use super::super::*;
use super::corpus::{fixture, fixture_dir};

fn fetcher() -> Fetcher {
    Fetcher::new(FetcherConfig {
        connect_timeout: Duration::from_secs(2),
        total_timeout: Duration::from_secs(5),
        ..FetcherConfig::default()
    })
    .expect("fetcher")
}

fn spec(server: &FeedServer, path: &str) -> FeedSpec {
    FeedSpec::new("test-feed", Url::parse(&server.url(path)).expect("url"))
}

fn seed_feed() -> String {
    String::from_utf8(fixture("seed-wordpress-feed.xml")).expect("utf8")
}

async fn poll_items(
    f: &Fetcher,
    spec: &FeedSpec,
    state: &FetchState,
) -> (Vec<SourceItem>, FeedMeta, FetchState) {
    match f.poll(spec, state).await.expect("poll ok") {
        PollOutcome::Items { items, meta, state } => (items, meta, state),
        PollOutcome::NotModified { .. } => panic!("expected items, got NotModified"),
    }
}

#[tokio::test]
async fn conditional_get_304_costs_no_parsing() {
    let server = FeedServer::start().await.expect("server");
    server.set_feed("/feed.xml", seed_feed());
    let f = fetcher();
    let mut s = spec(&server, "/feed.xml");
    s.kind = FeedKind::Feed;
    let (items, meta, state) = poll_items(&f, &s, &FetchState::default()).await;
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|i| i.post.feed == "test-feed"));
    assert_eq!(meta.via, Some(Via::Feed));
    let v = state.validators.as_ref().expect("validators stored");
    assert!(v.etag.is_some() && v.last_modified.is_some());

    // The state survives a JSON round trip (the core stores it as a blob).
    let blob = serde_json::to_string(&state).expect("json");
    let state: FetchState = serde_json::from_str(&blob).expect("json back");
    let out = f.poll(&s, &state).await.expect("poll");
    assert!(matches!(out, PollOutcome::NotModified { .. }), "{out:?}");
    assert_eq!(server.not_modified_count(), 1);
    assert_eq!(
        server.last_header("/feed.xml", "if-none-match"),
        state.validators.as_ref().and_then(|v| v.etag.clone())
    );
    // Old blobs and empty blobs still deserialize.
    let empty: FetchState = serde_json::from_str("{}").expect("empty blob");
    assert_eq!(empty, FetchState::default());
}

#[tokio::test]
async fn identical_body_without_validators_is_not_modified() {
    let server = FeedServer::start().await.expect("server");
    server.set("/plain.xml", Route::feed(seed_feed()).without_validators());
    let f = fetcher();
    let s = spec(&server, "/plain.xml");
    let (_, _, state) = poll_items(&f, &s, &FetchState::default()).await;
    let out = f.poll(&s, &state).await.expect("poll");
    assert!(matches!(out, PollOutcome::NotModified { .. }));
    assert_eq!(server.not_modified_count(), 0);
    assert_eq!(server.hits("/plain.xml"), 2);
}

#[tokio::test]
async fn failures_backoff_and_pause() {
    let server = FeedServer::start().await.expect("server");
    server.set("/down", Route::status(503).header("Retry-After", "120"));
    server.set("/gone", Route::status(404));
    let f = fetcher();
    let state = FetchState::default();

    let err = f
        .poll(&spec(&server, "/down"), &state)
        .await
        .expect_err("503");
    assert_eq!(err.to_string(), "HTTP 503 (retry after 120s)");
    assert!(err.is_transient());
    assert_eq!(err.retry_after(), Some(Duration::from_secs(120)));

    // What the core does with the numbers: back off, then pause.
    let mut failures = 0u32;
    let mut delays = Vec::new();
    let mut paused_with = None;
    for _ in 0..20 {
        match f.poll(&spec(&server, "/gone"), &state).await {
            Ok(_) => failures = 0,
            Err(e) => {
                failures += 1;
                delays.push(schedule::backoff_delay(failures));
                if schedule::should_pause(failures, e.is_permanent()) {
                    paused_with = Some(e.to_string());
                    break;
                }
            }
        }
    }
    assert_eq!(paused_with.as_deref(), Some("HTTP 404"));
    assert_eq!(failures, schedule::PAUSE_AFTER_PERMANENT_FAILURES);
    assert!(delays.windows(2).all(|w| w[1] > w[0]), "{delays:?}");
    assert!(delays[0] >= Duration::from_secs(270));

    // Connection refused: a clear transient error.
    let dead = Url::parse("http://127.0.0.1:9/feed").expect("url");
    let err = f
        .poll(&FeedSpec::new("dead", dead), &state)
        .await
        .expect_err("refused");
    assert!(err.is_transient(), "{err}");
    assert!(
        matches!(err, SourceError::Connect { .. } | SourceError::Timeout),
        "{err}"
    );
}

#[tokio::test]
async fn redated_reordered_and_guidless_items_keep_their_keys() {
    let server = FeedServer::start().await.expect("server");
    let f = fetcher();
    let s = spec(&server, "/feed.xml");
    let original = seed_feed();
    server.set_feed("/feed.xml", original.clone());
    let (first, _, state) = poll_items(&f, &s, &FetchState::default()).await;

    // Re-dated and re-ordered: same keys, same content hashes.
    let redated = original
        .replace(
            "Wed, 01 Feb 2023 03:12:44 +0000",
            "Thu, 02 Feb 2023 09:00:00 +0000",
        )
        .replace(
            "Mon, 30 Jan 2023 18:02:10 +0000",
            "Thu, 02 Feb 2023 10:00:00 +0000",
        );
    let (head, rest) = redated.split_once("\t<item>").expect("item");
    let (item1, item2) = rest.split_once("\t<item>").expect("second item");
    let item2 = item2.replace("</channel>\n</rss>\n", "");
    let reordered = format!("{head}\t<item>{item2}\t<item>{item1}</channel>\n</rss>\n");
    server.set_feed("/feed.xml", reordered);
    let (second, _, state) = poll_items(&f, &s, &state).await;
    assert_eq!(second.len(), 2);
    for item in &second {
        let old = first
            .iter()
            .find(|o| o.keys == item.keys)
            .expect("same keys");
        assert_eq!(
            old.content_hash, item.content_hash,
            "re-dating is not an update"
        );
        assert_ne!(old.post.published, item.post.published);
    }
    assert_ne!(first[0].keys, second[0].keys, "order changed");

    // The feed stops sending GUIDs: every item still shares a key.
    let re = regex::Regex::new(r"<guid[^>]*>[^<]*</guid>").expect("re");
    server.set_feed("/feed.xml", re.replace_all(&original, "").into_owned());
    let (third, meta, state) = poll_items(&f, &s, &state).await;
    assert_eq!(meta.key_type, Some(KeyType::Link));
    assert_eq!(state.key_type, Some(KeyType::Link));
    for item in &third {
        assert!(
            first
                .iter()
                .any(|o| o.keys.iter().any(|k| item.keys.contains(k)))
        );
        assert!(!item.keys.iter().any(|k| k.starts_with("guid:")));
    }
}

#[tokio::test]
async fn changed_content_is_an_update() {
    let server = FeedServer::start().await.expect("server");
    let f = fetcher();
    let s = spec(&server, "/feed.xml");
    let original = seed_feed();
    server.set_feed("/feed.xml", original.clone());
    let (first, _, state) = poll_items(&f, &s, &FetchState::default()).await;
    server.set_feed(
        "/feed.xml",
        original.replace(
            "Harris sends clear message to APEC about U.S. roots in Indo-Pacific</title>",
            "Harris sends clear message to APEC (updated)</title>",
        ),
    );
    let (second, _, _) = poll_items(&f, &s, &state).await;
    let (a, b) = (&first[1], &second[1]);
    assert_eq!(a.keys, b.keys);
    assert_ne!(a.content_hash, b.content_hash);
    assert_eq!(first[0].content_hash, second[0].content_hash);
}

fn wp_site(server: &FeedServer) {
    server.set(
        "/wp-json/wp/v2/posts",
        Route::ok(
            fixture("wordpress/posts-embed.json"),
            "application/json; charset=UTF-8",
        ),
    );
    server.set_feed("/feed/", seed_feed());
}

#[tokio::test]
async fn wordpress_rest_with_embed() {
    let server = FeedServer::start().await.expect("server");
    wp_site(&server);
    let f = fetcher();
    let mut s = spec(&server, "/");
    s.kind = FeedKind::WordPress;
    let (items, meta, state) = poll_items(&f, &s, &FetchState::default()).await;
    assert_eq!(meta.via, Some(Via::WordPressApi));
    assert_eq!(meta.format, Some(DocumentFormat::WordPressApi));
    assert_eq!(state.wordpress, WpStatus::Available);
    let q = server
        .last_request("/wp-json/wp/v2/posts")
        .expect("asked")
        .path_and_query;
    assert!(
        q.contains("_embed") && q.contains("orderby=modified"),
        "{q}"
    );
    assert_eq!(items.len(), 2);
    let p = &items[0].post;
    assert_eq!(
        p.images[0],
        "https://meritnews24.example/wp-content/uploads/2023/02/kishida-stoltenberg.jpg"
    );
    assert_eq!(p.categories, vec!["World", "Japan", "NATO", "Ukraine"]);
    assert_eq!(p.authors, vec!["Meritnews24 Desk"]);
    assert_eq!(
        p.updated.map(|d| d.to_rfc3339()).as_deref(),
        Some("2023-02-01T05:40:02+00:00")
    );
    assert_eq!(
        p.published.map(|d| d.to_rfc3339()).as_deref(),
        Some("2023-02-01T03:12:44+00:00")
    );
    assert!(
        p.summary_html
            .as_deref()
            .is_some_and(|s| s.contains("Russia&#8217;s"))
    );
    // Relative URLs in content were resolved against the post link.
    assert!(p.content_html.as_deref().is_some_and(|c| c.contains(
        "src=\"https://meritnews24.example/wp-content/uploads/2023/02/kishida-stoltenberg-1024x683.jpg\""
    )));
    assert_eq!(items[1].post.categories, vec!["World", "United States"]);
    // Same identity keys as the RSS items of the same site.
    let rss = parse_document(
        seed_feed().as_bytes(),
        None,
        &Url::parse("https://meritnews24.example/feed/").expect("url"),
    )
    .expect("rss");
    for (a, b) in items.iter().zip(&rss.items) {
        assert_eq!(a.keys, b.keys);
    }
    // An unchanged API answer is NotModified.
    let out = f.poll(&s, &state).await.expect("poll");
    assert!(matches!(out, PollOutcome::NotModified { .. }));
}

#[tokio::test]
async fn wordpress_source_line_is_the_site_title() {
    let server = FeedServer::start().await.expect("server");
    wp_site(&server);
    server.set(
        "/wp-json/",
        Route::ok(
            fixture("wordpress/api-root.json"),
            "application/json; charset=UTF-8",
        ),
    );
    let f = fetcher();
    let mut s = spec(&server, "/");
    s.kind = FeedKind::WordPress;
    let (items, meta, state) = poll_items(&f, &s, &FetchState::default()).await;
    assert_eq!(meta.via, Some(Via::WordPressApi));
    let title = Some("Meritnews24 – World & Politics".to_string());
    assert_eq!(items[0].post.source_title, title);
    assert_eq!(state.title, title);
    assert_eq!(server.hits("/wp-json/"), 1);
}

#[tokio::test]
async fn wordpress_falls_back_to_rss_when_api_disabled() {
    let server = FeedServer::start().await.expect("server");
    server.set_feed("/feed/", seed_feed());
    server.set(
        "/wp-json/wp/v2/posts",
        Route {
            status: 401,
            ..Route::ok(fixture("wordpress/rest-disabled.json"), "application/json")
        },
    );
    let f = fetcher();
    let mut s = spec(&server, "/");
    s.kind = FeedKind::WordPress;
    let (items, meta, state) = poll_items(&f, &s, &FetchState::default()).await;
    assert_eq!(meta.via, Some(Via::Feed));
    assert_eq!(items.len(), 2);
    assert_eq!(state.wordpress, WpStatus::Unavailable);
    assert!(state.wp_checked_at.is_some());
    // Next poll: the API is not asked again (recheck after a day).
    let api_hits = server.hits("/wp-json/wp/v2/posts");
    let _ = f.poll(&s, &state).await.expect("poll");
    assert_eq!(server.hits("/wp-json/wp/v2/posts"), api_hits);

    // An API answering HTML (a security plugin page) is also "disabled".
    server.set(
        "/wp-json/wp/v2/posts",
        Route::ok("<!DOCTYPE html><html>blocked</html>", "text/html"),
    );
    let (items, meta, _) = poll_items(&f, &s, &FetchState::default()).await;
    assert_eq!((items.len(), meta.via), (2, Some(Via::Feed)));
}

#[tokio::test]
async fn auto_detects_wordpress_from_link_header_and_html() {
    let server = FeedServer::start().await.expect("server");
    wp_site(&server);
    let api_root = format!("{}/wp-json/", server.base(0));
    server.set(
        "/feed/",
        Route::feed(seed_feed())
            .header("Link", &format!("<{api_root}>; rel=\"https://api.w.org/\"")),
    );
    let f = fetcher();
    let s = spec(&server, "/feed/");
    assert_eq!(s.kind, FeedKind::Auto);
    let (_, meta, state) = poll_items(&f, &s, &FetchState::default()).await;
    assert_eq!(meta.via, Some(Via::WordPressApi));
    assert_eq!(state.wp_api_root.as_deref(), Some(api_root.as_str()));

    // A previous RSS route switching to REST is flagged.
    let rss_state = FetchState {
        via: Some(Via::Feed),
        ..FetchState::default()
    };
    let (_, meta, _) = poll_items(&f, &s, &rss_state).await;
    assert!(meta.route_changed);

    // No Link header: the WordPress <generator> of the main feed suffices.
    server.set_feed("/feed/", seed_feed());
    let (_, meta, _) = poll_items(&f, &s, &FetchState::default()).await;
    assert_eq!(meta.via, Some(Via::WordPressApi));

    // A category feed is not the whole site: it is never switched.
    server.set_feed("/category/world/feed/", seed_feed());
    let api_hits = server.hits("/wp-json/wp/v2/posts");
    let (_, meta, state) = poll_items(
        &f,
        &spec(&server, "/category/world/feed/"),
        &FetchState::default(),
    )
    .await;
    assert_eq!(meta.via, Some(Via::Feed));
    assert_eq!(state.wordpress, WpStatus::Unknown);
    assert_eq!(server.hits("/wp-json/wp/v2/posts"), api_hits);

    // A site home page advertising the API.
    server.set(
        "/home",
        Route::ok(
            format!("<!DOCTYPE html><html><head><link rel=\"https://api.w.org/\" href=\"{api_root}\"><link rel=\"alternate\" type=\"application/rss+xml\" href=\"/feed/\"></head><body></body></html>"),
            "text/html; charset=UTF-8",
        ),
    );
    let (items_, meta, _) = poll_items(&f, &spec(&server, "/home"), &FetchState::default()).await;
    assert_eq!(meta.via, Some(Via::WordPressApi));
    assert_eq!(items_.len(), 2);

    // A plain HTML page advertising a feed is followed to it.
    server.set_feed(
        "/other.xml",
        String::from_utf8(fixture("feeds/rss10.rdf")).expect("utf8"),
    );
    server.set(
        "/page",
        Route::ok(
            "<!DOCTYPE html><html><head><link rel=\"alternate\" type=\"application/rss+xml\" href=\"/other.xml\"></head></html>",
            "text/html",
        ),
    );
    let (items_, meta, state) =
        poll_items(&f, &spec(&server, "/page"), &FetchState::default()).await;
    assert_eq!(items_.len(), 2);
    assert_eq!(meta.format, Some(DocumentFormat::Rss1));
    assert!(
        state
            .discovered_feed
            .as_deref()
            .is_some_and(|d| d.ends_with("/other.xml"))
    );
}

#[tokio::test]
async fn html_served_as_feed_is_a_clear_error() {
    let server = FeedServer::start().await.expect("server");
    server.set(
        "/notfeed",
        Route::ok(fixture("feeds/hostile-html.html"), "application/rss+xml"),
    );
    let f = fetcher();
    let err = f
        .poll(&spec(&server, "/notfeed"), &FetchState::default())
        .await
        .expect_err("html");
    assert_eq!(err.to_string(), "not a feed: got HTML");
}

#[tokio::test]
async fn body_cap_is_enforced_while_streaming() {
    let server = FeedServer::start().await.expect("server");
    server.set(
        "/huge",
        Route {
            stream_bytes: Some(50 * 1024 * 1024),
            content_type: Some("application/rss+xml".into()),
            ..Route::default()
        },
    );
    server.set(
        "/endless",
        Route {
            stream_bytes: Some(u64::MAX),
            ..Route::default()
        },
    );
    server.set(
        "/declared",
        Route::ok(vec![b' '; 2 * 1024 * 1024], "application/rss+xml"),
    );
    let f = fetcher();
    for path in ["/huge", "/endless"] {
        let start = Instant::now();
        let err = f
            .poll(&spec(&server, path), &FetchState::default())
            .await
            .expect_err(path);
        assert_eq!(
            err,
            SourceError::BodyTooLarge {
                cap: DEFAULT_BODY_CAP
            },
            "{path}"
        );
        assert!(start.elapsed() < Duration::from_secs(5));
    }
    let mut small = spec(&server, "/declared");
    small.body_cap = 1024 * 1024;
    let err = f
        .poll(&small, &FetchState::default())
        .await
        .expect_err("declared");
    assert_eq!(err.to_string(), "body over cap of 1048576 bytes");
}

#[tokio::test]
async fn gzip_charset_redirects_and_timeouts() {
    let server = FeedServer::start().await.expect("server");
    server.set("/gz", Route::feed(seed_feed()).gzip());
    server.set(
        "/latin1",
        Route::ok(
            fixture("feeds/quirk-latin1.xml"),
            "text/xml; charset=ISO-8859-1",
        ),
    );
    server.set("/r0", Route::redirect("/r1"));
    server.set("/r1", Route::redirect("/gz"));
    for i in 0..12 {
        server.set(
            &format!("/loop{i}"),
            Route::redirect(&format!("/loop{}", i + 1)),
        );
    }
    server.set(
        "/slow",
        Route::feed(seed_feed()).slow(Duration::from_secs(3)),
    );
    let f = fetcher();
    let (items_, _, _) = poll_items(&f, &spec(&server, "/gz"), &FetchState::default()).await;
    assert_eq!(items_.len(), 2);
    assert!(
        server
            .last_header("/gz", "accept-encoding")
            .is_some_and(|v| v.contains("gzip"))
    );
    let (items_, _, _) = poll_items(&f, &spec(&server, "/latin1"), &FetchState::default()).await;
    assert_eq!(items_[0].post.title, "Été à Montréal");
    let (items_, meta, _) = poll_items(&f, &spec(&server, "/r0"), &FetchState::default()).await;
    assert_eq!(items_.len(), 2);
    assert!(
        meta.fetched_url
            .as_deref()
            .is_some_and(|u| u.ends_with("/gz"))
    );
    let err = f
        .poll(&spec(&server, "/loop0"), &FetchState::default())
        .await
        .expect_err("loop");
    assert_eq!(err, SourceError::TooManyRedirects);
    let quick = Fetcher::new(FetcherConfig {
        total_timeout: Duration::from_millis(500),
        ..FetcherConfig::default()
    })
    .expect("fetcher");
    let err = quick
        .poll(&spec(&server, "/slow"), &FetchState::default())
        .await
        .expect_err("slow");
    assert_eq!(err, SourceError::Timeout);
    assert!(err.is_transient());
}

#[tokio::test]
async fn user_agent_and_extra_headers() {
    let server = FeedServer::start().await.expect("server");
    server.set_feed("/feed.xml", seed_feed());
    let f = fetcher();
    let mut s = spec(&server, "/feed.xml");
    let _ = f.poll(&s, &FetchState::default()).await.expect("poll");
    assert!(
        server
            .last_header("/feed.xml", "user-agent")
            .is_some_and(|ua| ua.starts_with("Crier/"))
    );
    s.user_agent = Some("CustomBot/2.0".into());
    s.headers = vec![("X-Api-Key".into(), "secret".into())];
    let _ = f.poll(&s, &FetchState::default()).await.expect("poll");
    assert_eq!(
        server.last_header("/feed.xml", "user-agent").as_deref(),
        Some("CustomBot/2.0")
    );
    assert_eq!(
        server.last_header("/feed.xml", "x-api-key").as_deref(),
        Some("secret")
    );
    s.headers = vec![("Bad Header".into(), "x".into())];
    let err = f
        .poll(&s, &FetchState::default())
        .await
        .expect_err("bad header");
    assert!(err.to_string().contains("invalid header name"), "{err}");
}

#[tokio::test]
async fn per_host_concurrency_is_limited() {
    let server = FeedServer::start().await.expect("server");
    server.set(
        "/slow",
        Route::feed(seed_feed()).slow(Duration::from_millis(200)),
    );
    let f = std::sync::Arc::new(
        Fetcher::new(FetcherConfig {
            per_host_concurrency: 2,
            ..FetcherConfig::default()
        })
        .expect("fetcher"),
    );
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let f = f.clone();
        let s = spec(&server, "/slow");
        tasks.push(tokio::spawn(async move {
            f.poll(&s, &FetchState::default()).await.is_ok()
        }));
    }
    for t in tasks {
        assert!(t.await.expect("join"));
    }
    // 6 requests, 2 at a time, 200 ms each: at least 3 rounds.
    assert!(
        start.elapsed() >= Duration::from_millis(590),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn local_files_by_path_and_file_url() {
    let f = fetcher();
    let path = fixture_dir().join("seed-wordpress-feed.xml");
    let url = resolve_location(path.to_str().expect("utf8 path"), std::path::Path::new("."))
        .expect("path");
    assert_eq!(url.scheme(), "file");
    let s = FeedSpec::new("local", url.clone());
    let (items_, meta, state) = poll_items(&f, &s, &FetchState::default()).await;
    assert_eq!(items_.len(), 2);
    assert_eq!(meta.via, Some(Via::Feed));
    // A local WordPress feed is never probed for a REST API.
    assert_eq!(state.wordpress, WpStatus::Unknown);
    let out = f.poll(&s, &state).await.expect("poll");
    assert!(
        matches!(out, PollOutcome::NotModified { .. }),
        "unchanged file"
    );
    let missing = FeedSpec::new(
        "missing",
        Url::parse("file:///nonexistent/feed.xml").expect("url"),
    );
    let err = f
        .poll(&missing, &FetchState::default())
        .await
        .expect_err("missing");
    assert_eq!(err.kind(), "file");
    let mut capped = s.clone();
    capped.body_cap = 100;
    assert_eq!(
        f.poll(&capped, &FetchState::default())
            .await
            .expect_err("cap"),
        SourceError::BodyTooLarge { cap: 100 }
    );
    assert!(resolve_location("ftp://x/y", std::path::Path::new(".")).is_err());
}

#[tokio::test]
async fn inspect_feed_page_file_and_errors() {
    let server = FeedServer::start().await.expect("server");
    server.set_feed("/feed.xml", seed_feed());
    server.set(
        "/article",
        Route::ok(fixture("seed-article.html"), "text/html; charset=UTF-8"),
    );
    server.set(
        "/broken",
        Route::ok(
            fixture("feeds/hostile-truncated.xml"),
            "application/rss+xml",
        ),
    );
    let f = fetcher();

    let r = inspect::inspect(&f, &server.url("/feed.xml")).await;
    let json = inspect::render_json_lines(&r);
    let lines: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["key_type"], "guid");
    assert_eq!(lines[0]["published"], "2023-02-01T03:12:44Z");
    assert!(
        lines[0]["content_length"]
            .as_u64()
            .is_some_and(|n| n > 1000)
    );
    let table = inspect::render_table(&r);
    assert!(
        table.contains("2 articles")
            && table.contains("guid:https://meritnews24.example/?p=48213 (guid)"),
        "{table}"
    );

    let r = inspect::inspect(&f, &server.url("/article")).await;
    let doc = r.result.as_ref().expect("page");
    assert_eq!(doc.kind, inspect::InspectKind::Page);
    assert_eq!(doc.items[0].key_type, KeyType::Link);
    assert!(doc.items[0].post.title.starts_with("Japan and NATO"));

    let r = inspect::inspect(&f, &server.url("/broken")).await;
    assert_eq!(
        inspect::render_table(&r),
        format!(
            "error: {}: parse error at line 4: unexpected end of document\n",
            server.url("/broken")
        )
    );
    let json: serde_json::Value =
        serde_json::from_str(inspect::render_json_lines(&r).trim()).expect("json");
    assert_eq!(json["error_kind"], "parse");

    let path = fixture_dir().join("feeds/atom10.xml");
    let r = inspect::inspect(&f, path.to_str().expect("path")).await;
    assert_eq!(r.result.as_ref().map(|d| d.items.len()).ok(), Some(2));

    let r = inspect::inspect(&f, &server.url("/missing")).await;
    assert!(inspect::render_table(&r).ends_with("HTTP 404\n"));
}

#[tokio::test]
async fn fetch_page_from_server() {
    let server = FeedServer::start().await.expect("server");
    server.set(
        "/article",
        Route::ok(fixture("seed-article.html"), "text/html; charset=UTF-8").gzip(),
    );
    let f = fetcher();
    let post = page::fetch_page(&f, &Url::parse(&server.url("/article")).expect("url"))
        .await
        .expect("page");
    assert_eq!(post.authors, vec!["Meritnews24 Desk"]);
    assert_eq!(
        post.link.as_deref(),
        Some(
            "https://meritnews24.example/2023/02/01/japan-and-nato-pledge-to-strengthen-cooperation/"
        )
    );
    server.set("/gone", Route::status(410));
    let err = page::fetch_page(&f, &Url::parse(&server.url("/gone")).expect("url"))
        .await
        .expect_err("gone");
    assert_eq!(err.to_string(), "HTTP 410");
}
