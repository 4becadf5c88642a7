//! The target functions: one outside input each, with its invariants.

use std::collections::HashMap;
use std::path::Path;

use chrono::{TimeZone, Utc};
use crier::sources::{ParsedDocument, SourceError, page, parse_document, wordpress};
use crier_bots::Post;
use crier_bots::commands;
use url::Url;

use crate::render::check_post;

/// How many items of a document are rendered (rendering dominates the cost).
const RENDERED_ITEMS: usize = 3;

fn base() -> Url {
    Url::parse("https://feeds.example/dir/feed.xml").unwrap_or_else(|e| panic!("base URL: {e}"))
}

/// Lossy text of an input (the text targets read UTF-8; invalid bytes
/// become U+FFFD, as a chat platform or a file read would refuse them).
fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// The Content-Type a feed arrives with: chosen by the input's length, so
/// that one input always takes the same path and the engine explores all.
fn content_type(data: &[u8]) -> Option<&'static str> {
    const TYPES: [Option<&str>; 5] = [
        None,
        Some("application/rss+xml"),
        Some("application/feed+json; charset=utf-8"),
        Some("text/xml; charset=ISO-8859-1"),
        Some("text/html; charset=windows-1252"),
    ];
    TYPES[data.len() % TYPES.len()]
}

/// A parsed document's invariants: every item has identity keys of a known
/// type, no key names two items (the core matches articles by any key), a
/// content hash; the first items render validly on both platforms.
fn check_document(doc: &ParsedDocument) {
    let mut owner: HashMap<&str, usize> = HashMap::new();
    for (i, item) in doc.items.iter().enumerate() {
        assert!(!item.keys.is_empty(), "item {i} has no identity key");
        assert!(
            !item.content_hash.is_empty(),
            "item {i} has no content hash"
        );
        for k in &item.keys {
            assert!(
                ["guid:", "link:", "hash:"].iter().any(|p| k.starts_with(p)),
                "item {i}: key of unknown type {k:?}"
            );
            if let Some(j) = owner.insert(k.as_str(), i)
                && j != i
            {
                panic!("key {k:?} names items {j} and {i}");
            }
        }
    }
    for item in doc.items.iter().take(RENDERED_ITEMS) {
        check_post(&item.post, doc.items.len() == 1);
    }
}

fn check_error(e: &SourceError) {
    assert!(
        !e.to_string().trim().is_empty(),
        "an error without a message"
    );
}

pub(crate) fn feed(data: &[u8]) {
    match parse_document(data, content_type(data), &base()) {
        Ok(doc) => check_document(&doc),
        Err(e) => check_error(&e),
    }
}

pub(crate) fn wordpress(data: &[u8]) {
    let root = Url::parse("https://wp.example/wp-json/").unwrap_or_else(|e| panic!("{e}"));
    match wordpress::parse_posts(data, &root) {
        Ok(doc) => check_document(&doc),
        Err(e) => check_error(&e),
    }
}

pub(crate) fn page(data: &[u8]) {
    let url = Url::parse("https://news.example/2024/01/story/").unwrap_or_else(|e| panic!("{e}"));
    let post = page::extract(data, &url);
    check_post(&post, true);
}

/// Input: `title \0 content-html [\0 summary-html]` (without a NUL, all of
/// it is the content).
pub(crate) fn format(data: &[u8]) {
    let t = text(data);
    let mut fields = t.splitn(3, '\0');
    let (title, content, summary) = match (fields.next(), fields.next(), fields.next()) {
        (Some(c), None, _) => ("", c, None),
        (Some(t), Some(c), s) => (t, c, s),
        (None, _, _) => ("", "", None),
    };
    let post = Post {
        feed: "fuzz".into(),
        source_title: Some("Fuzz & <Co>".into()),
        title: title.to_string(),
        link: Some("https://news.example/2024/01/story/".into()),
        summary_html: summary.map(str::to_string),
        content_html: Some(content.to_string()),
        authors: vec![title.chars().take(40).collect()],
        categories: vec!["World".into(), title.chars().take(20).collect()],
        published: Utc.timestamp_opt(1_700_000_000, 0).single(),
        images: vec!["https://news.example/i.jpg".into()],
        ..Post::default()
    };
    check_post(&post, true);
}

pub(crate) fn config(data: &[u8]) {
    let t = text(data);
    match crier::config::Config::from_str(&t, Path::new("/nonexistent-crier-fuzz/config.toml")) {
        Ok(cfg) => {
            for f in &cfg.feeds {
                let _ = cfg.feed_location(f);
                let _ = cfg.feed_render_options(f);
            }
            for tg in &cfg.targets {
                let _ = cfg.target_format(tg);
            }
        }
        Err(errs) => {
            assert!(!errs.0.is_empty(), "a config error without entries");
            for e in &errs.0 {
                assert!(
                    !e.message.trim().is_empty(),
                    "a config error without a message"
                );
            }
            let shown = errs.to_string();
            for secret in webhook_tokens(&t) {
                assert!(
                    !shown.contains(secret),
                    "a config error shows a webhook token: {shown}"
                );
            }
        }
    }
}

/// The tokens of the Discord webhook URLs in `text` (`/webhooks/ID/TOKEN`,
/// tokens of 8 or more characters): secrets no error may show.
fn webhook_tokens(text: &str) -> Vec<&str> {
    text.match_indices("/webhooks/")
        .filter_map(|(i, m)| {
            let rest = &text[i + m.len()..];
            let (_, after_id) = rest.split_once('/')?;
            let end = after_id
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                .unwrap_or(after_id.len());
            Some(&after_id[..end]).filter(|t| t.len() >= 8)
        })
        .collect()
}

pub(crate) fn command(data: &[u8]) {
    let t = text(data);
    let now = Utc
        .timestamp_opt(1_780_000_000, 0)
        .single()
        .unwrap_or_else(Utc::now);
    let tz = if data.len().is_multiple_of(2) {
        chrono_tz::Tz::UTC
    } else {
        chrono_tz::Tz::America__New_York
    };
    for bot in [Some("crier_bot"), None] {
        match commands::parse(&t, bot, now, tz) {
            Ok(Some(cmd)) => {
                let _ = cmd.needs();
                let _ = cmd.changes_state();
            }
            Ok(None) => {}
            Err(usage) => assert!(!usage.trim().is_empty(), "an empty usage line"),
        }
    }
    // `/schedule`'s time argument on its own (slash commands pass it so).
    let _ = commands::parse_time(&t, now, tz);
}

/// An OPML list: parsed, planned as an import into a list that already
/// watches one feed (with a guard that refuses one host), exported again.
/// Every feed read is either added or skipped with a reason; added names
/// and URLs are unique; the export of what was added reads back the same.
pub(crate) fn opml(data: &[u8]) {
    use crier::opml;
    let feeds = match opml::parse(&text(data)) {
        Ok(f) => f,
        Err(e) => {
            assert!(!e.trim().is_empty(), "an error without a message");
            return;
        }
    };
    assert!(!feeds.is_empty(), "an OPML list read as empty but accepted");
    let mut existing = opml::Existing::new([(
        "watched".to_string(),
        "https://watched.example/feed".to_string(),
    )]);
    let (rows, report) = opml::plan(
        &feeds,
        &mut existing,
        &["console".to_string()],
        60_000,
        "fuzz",
        1_780_000_000_000,
        |u| match u.host_str() {
            Some("127.0.0.1") => Err("a private address".into()),
            _ => Ok(()),
        },
    );
    assert_eq!(
        report.added.len() + report.skipped.len(),
        feeds.len(),
        "a feed neither added nor skipped"
    );
    assert_eq!(rows.len(), report.added.len());
    let mut names = std::collections::HashSet::new();
    for r in &rows {
        assert!(!r.name.is_empty(), "an empty feed name");
        assert!(
            names.insert(r.name.as_str()),
            "name {:?} given twice",
            r.name
        );
        assert_ne!(
            r.url, "https://watched.example/feed",
            "a watched feed added again"
        );
    }
    for (url, why) in &report.skipped {
        assert!(!why.trim().is_empty(), "{url} skipped without a reason");
    }
    let _ = report.summary();
    if rows.is_empty() {
        return;
    }
    let out = opml::export(
        "fuzz",
        rows.iter().map(|r| (r.name.as_str(), r.url.as_str())),
    );
    let back = opml::parse(&out).unwrap_or_else(|e| panic!("own export unreadable: {e}\n{out}"));
    let urls: Vec<&str> = back.iter().map(|f| f.url.as_str()).collect();
    let want: Vec<&str> = rows.iter().map(|r| r.url.trim()).collect();
    assert_eq!(urls, want, "export does not read back the same feeds");
}
