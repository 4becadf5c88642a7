//! Shared fixtures: the seed page and the seed WordPress feed as `Post`s.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use crier_bots::Post;
use crier_bots::format::discord::DiscordMessage;
use crier_bots::format::telegram::TelegramMessage;
use crier_bots::format::{terminal, validate};

pub fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The seed page as the sources layer would hand it over: the whole page
/// as content, metadata from its `<meta>` tags.
pub fn seed_page() -> Post {
    Post {
        feed: "meritnews24".into(),
        source_title: Some("Meritnews24".into()),
        title: "Japan and NATO pledge to strengthen cooperation | Russian military cooperation has led to the tensest security environment since World War II".into(),
        link: Some("https://meritnews24.example/2023/02/01/japan-and-nato-pledge-to-strengthen-cooperation/".into()),
        summary_html: Some("Japan and NATO leaders pledged to strengthen cooperation in response to Russia’s aggressive war in Europe and China’s growing military cooperation with Russia.".into()),
        content_html: Some(fixture("seed-article.html")),
        authors: vec!["Meritnews24 Desk".into()],
        categories: vec!["World".into()],
        published: date("2023-02-01T03:12:44+00:00"),
        updated: date("2023-02-01T05:40:02+00:00"),
        images: vec!["https://meritnews24.example/wp-content/uploads/2023/02/kishida-stoltenberg.jpg".into()],
        language: Some("en-US".into()),
        digest: Vec::new(),
        enclosures: Vec::new(),
        title_from_text: false,
    }
}

fn date(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

fn between<'a>(s: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let a = s.find(open)? + open.len();
    let b = s[a..].find(close)? + a;
    Some(&s[a..b])
}

fn cdata(s: &str) -> String {
    let s = s.trim();
    s.strip_prefix("<![CDATA[")
        .and_then(|s| s.strip_suffix("]]>"))
        .unwrap_or(s)
        .to_string()
}

fn all<'a>(s: &'a str, open: &str, close: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(a) = rest.find(open) {
        let from = a + open.len();
        let Some(b) = rest[from..].find(close) else {
            break;
        };
        out.push(&rest[from..from + b]);
        rest = &rest[from + b + close.len()..];
    }
    out
}

/// The items of the seed feed, mapped the way the sources layer does
/// (a minimal reader for this fixture only: the formatter is under test).
pub fn seed_feed() -> Vec<Post> {
    let xml = fixture("seed-wordpress-feed.xml");
    all(&xml, "<item>", "</item>")
        .into_iter()
        .map(|item| {
            let pub_date = between(item, "<pubDate>", "</pubDate>")
                .and_then(|d| DateTime::parse_from_rfc2822(d).ok())
                .map(|d| d.with_timezone(&Utc));
            let image = between(item, "<media:content url=\"", "\"").map(str::to_string);
            Post {
                feed: "meritnews24".into(),
                source_title: Some("Meritnews24".into()),
                title: between(item, "<title>", "</title>")
                    .map(cdata)
                    .unwrap_or_default(),
                link: between(item, "<link>", "</link>").map(str::to_string),
                summary_html: between(item, "<description>", "</description>").map(cdata),
                content_html: between(item, "<content:encoded>", "</content:encoded>").map(cdata),
                authors: between(item, "<dc:creator>", "</dc:creator>")
                    .map(cdata)
                    .into_iter()
                    .collect(),
                categories: all(item, "<category>", "</category>")
                    .into_iter()
                    .map(cdata)
                    .collect(),
                published: pub_date,
                updated: None,
                images: image.into_iter().collect(),
                language: Some("en-US".into()),
                digest: Vec::new(),
                enclosures: Vec::new(),
                title_from_text: false,
            }
        })
        .collect()
}

/// Every message must pass the strict validators.
/// The renderers' own safety net (fallback on an invalid message) must
/// never have been needed.
pub fn assert_no_safety_net() {
    assert_eq!(
        crier_bots::format::safety_net_count(),
        0,
        "a renderer produced an invalid message: {}",
        crier_bots::format::safety_net_last()
    );
}

pub fn assert_valid_telegram(msgs: &[TelegramMessage]) {
    assert_no_safety_net();
    assert!(!msgs.is_empty());
    for m in msgs {
        if let Err(e) = validate::telegram_message(m.method.as_str(), &m.params()) {
            panic!("invalid Telegram message: {}\n{m:#?}", e.description);
        }
    }
}

pub fn assert_valid_discord(msgs: &[DiscordMessage]) {
    assert_no_safety_net();
    assert!(!msgs.is_empty());
    for m in msgs {
        let v = serde_json::to_value(m).unwrap_or_default();
        if let Err(e) = validate::discord_message(&v) {
            panic!("invalid Discord message: {}\n{m:#?}", e.errors);
        }
    }
}

/// What a channel member sees, all parts.
pub fn seen_telegram(msgs: &[TelegramMessage]) -> String {
    msgs.iter()
        .map(terminal::telegram)
        .collect::<Vec<_>>()
        .join("\n\n——— next message ———\n\n")
}

pub fn seen_discord(msgs: &[DiscordMessage]) -> String {
    msgs.iter()
        .map(terminal::discord)
        .collect::<Vec<_>>()
        .join("\n\n——— next message ———\n\n")
}

/// Compare with a committed golden file (`UPDATE_GOLDEN=1` rewrites it).
pub fn golden(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        std::fs::write(&path, actual).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with UPDATE_GOLDEN=1 to create it)",
            path.display()
        )
    });
    if expected != actual {
        let diff_at = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(expected.lines().count().min(actual.lines().count()));
        panic!(
            "{name} differs from the golden file at line {}:\nexpected: {:?}\nactual:   {:?}\n(run with UPDATE_GOLDEN=1 to accept)",
            diff_at + 1,
            expected.lines().nth(diff_at),
            actual.lines().nth(diff_at)
        );
    }
}
