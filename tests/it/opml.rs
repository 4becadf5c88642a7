//! `crier feeds import|export`: OPML in and out of the database, all or
//! nothing, duplicates reported, without the platforms' tokens.

use crate::support::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/opml");

fn config() -> String {
    r#"
[storage]
path = "state/crier.db"

[telegram]
token = "${CRIER_IT_OPML_UNSET_TOKEN}"

[[feeds]]
name = "local"
url = "feed.xml"
targets = ["console"]

[[targets]]
name = "console"
platform = "console"

[[targets]]
name = "news"
platform = "telegram"
chat = "@news"
"#
    .to_string()
}

fn fixture(name: &str) -> String {
    format!("{FIXTURES}/{name}")
}

#[test]
fn import_adds_nested_feeds_skips_duplicates_and_export_lists_every_feed() {
    let ws = Workspace::new();
    ws.write("config.toml", &config());
    let out = ws.crier(&[
        "feeds",
        "import",
        &fixture("nested.opml"),
        "--targets",
        "console",
        "news",
    ]);
    let s = stdout_of(&out);
    assert!(out.status.success(), "{}\n{s}", stderr_of(&out));
    assert!(s.contains("imported 3 feeds"), "{s}");
    assert!(s.contains("world-news  https://world.example/feed/"), "{s}");
    assert!(s.contains("city-hall"), "{s}");
    assert!(
        s.contains("https://sport.example/rss.xml: already watched"),
        "the repeated feed is reported: {s}"
    );
    let rows = crier_storage::Store::open(&ws.path("state/crier.db"))
        .expect("db")
        .dynamic_feeds()
        .expect("feeds");
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|f| f.targets == ["console", "news"]));

    // Again: everything is a duplicate now, nothing added.
    let again = ws.crier(&[
        "feeds",
        "import",
        &fixture("nested.opml"),
        "--targets",
        "console",
    ]);
    let s = stdout_of(&again);
    assert!(again.status.success(), "{}", stderr_of(&again));
    assert!(
        s.contains("imported 0 feeds") && s.contains("skipped 4"),
        "{s}"
    );

    let export = ws.crier(&["feeds", "export"]);
    let xml = stdout_of(&export);
    assert!(export.status.success(), "{}", stderr_of(&export));
    assert!(xml.contains("<opml"), "{xml}");
    for url in [
        "feed.xml",
        "https://world.example/feed/",
        "https://city.example/feed",
        "https://sport.example/rss.xml",
    ] {
        assert!(xml.contains(&format!("xmlUrl=\"{url}\"")), "{url} in {xml}");
    }
    ws.crier(&["feeds", "export", "-o", "out.opml"]);
    assert!(std::fs::read_to_string(ws.path("out.opml")).is_ok_and(|x| x.contains("world-news")));
}

#[test]
fn a_malformed_file_is_a_clear_error_and_adds_nothing() {
    let ws = Workspace::new();
    ws.write("config.toml", &config());
    let out = ws.crier(&[
        "feeds",
        "import",
        &fixture("malformed.opml"),
        "--targets",
        "console",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    assert!(
        err.starts_with("error: ") && err.contains("malformed.opml: not a valid OPML file"),
        "{err}"
    );
    let rows = crier_storage::Store::open(&ws.path("state/crier.db"))
        .expect("db")
        .dynamic_feeds()
        .expect("feeds");
    assert!(rows.is_empty(), "{rows:?}");
}

#[test]
fn an_unknown_target_is_a_usage_error_listing_the_targets() {
    let ws = Workspace::new();
    ws.write("config.toml", &config());
    let out = ws.crier(&[
        "feeds",
        "import",
        &fixture("nested.opml"),
        "--targets",
        "nope",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(
        err.contains("no target named \"nope\" (configured: console, news)"),
        "{err}"
    );
}
