//! Real-world feed classes the strict parser rejects as a whole (issue
//! #11): each is read, by the strict or the lenient reader, never as a
//! page, and nothing in the corpus falls back to a page.

use super::super::*;
use super::corpus::{fixture, fixture_dir};
use url::Url;

fn base() -> Url {
    Url::parse("https://feeds.example/dir/feed.xml").expect("url")
}

fn read(name: &str) -> ParsedDocument {
    parse_document(&fixture(&format!("feeds/{name}")), None, &base())
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn titles(doc: &ParsedDocument) -> Vec<&str> {
    doc.items.iter().map(|i| i.post.title.as_str()).collect()
}

#[test]
fn an_unparseable_date_drops_the_date_not_the_item() {
    let d = read("lenient-bad-date.xml");
    assert_eq!(
        titles(&d),
        vec!["Good date", "Unparseable date", "Odd but readable date"]
    );
    assert!(d.items[0].post.published.is_some());
    assert_eq!(d.items[1].post.published, None);
    assert_eq!(d.items[1].post.updated, None);
    assert!(
        d.items[2]
            .post
            .published
            .or(d.items[2].post.updated)
            .is_some()
    );
    assert_eq!(d.meta.title.as_deref(), Some("Dates gone wrong"));
}

#[test]
fn itunes_attributes_in_single_quotes() {
    let d = read("lenient-itunes-single-quotes.xml");
    assert_eq!(titles(&d), vec!["Episode 2", "Episode 1"]);
    assert_eq!(
        d.items[0].post.link.as_deref(),
        Some("https://pod.example/2")
    );
    assert_eq!(d.meta.title.as_deref(), Some("Single Quoted Podcast"));
}

#[test]
fn duplicate_content_elements_keep_one() {
    let d = read("lenient-duplicate-content.xml");
    assert_eq!(titles(&d), vec!["Two contents", "One content"]);
    // One of the two (the strict parser keeps the last, the lenient reader
    // the first), never both, never nothing.
    let c = d.items[0].post.content_html.as_deref().unwrap_or("");
    assert!(
        c.contains("content") && !c.contains("first content</p><p>The second"),
        "{c}"
    );
    assert_eq!(
        d.items[0].post.link.as_deref(),
        Some("https://dup.example/1")
    );
}

#[test]
fn iso_8859_1_declared_encoding() {
    let bytes = fixture("feeds/lenient-iso-8859-1.xml");
    for ct in [
        None,
        Some("application/rss+xml"),
        Some("text/xml; charset=utf-8"),
    ] {
        let d = parse_document(&bytes, ct, &base()).unwrap_or_else(|e| panic!("{ct:?}: {e}"));
        assert_eq!(
            titles(&d),
            vec!["Crème brûlée à la carte", "Deuxième"],
            "{ct:?}"
        );
        assert_eq!(d.meta.title.as_deref(), Some("Café du Monde"));
        assert_eq!(d.meta.encoding, "windows-1252");
    }
}

#[test]
fn unescaped_broken_html_in_a_description() {
    let d = read("lenient-unescaped-html.xml");
    assert_eq!(titles(&d), vec!["Broken markup inside", "Fine item"]);
    assert_eq!(d.meta.reader, Some(Reader::Lenient));
    let s = d.items[0].post.summary_html.as_deref().unwrap_or("");
    assert!(s.contains("Line one") && s.contains("Line two"), "{s}");
    assert_eq!(
        d.items[1].post.link.as_deref(),
        Some("https://raw.example/2")
    );
}

#[test]
fn untitled_rss_items_keep_their_link_and_get_a_title() {
    let d = read("lenient-untitled-rss.xml");
    assert_eq!(d.items.len(), 2);
    assert_eq!(
        d.items[0].post.link.as_deref(),
        Some("https://micro.example/notes/2")
    );
    let t = &d.items[0].post.title;
    assert!(t.starts_with("Just shipped the new release"), "{t}");
    assert!(t.ends_with('…') && t.chars().count() <= 80, "{t}");
    assert!(!t.contains('<'), "{t}");
    assert_eq!(d.items[1].post.title, "Short one");
    assert_eq!(
        d.items[1].post.link.as_deref(),
        Some("https://micro.example/notes/1")
    );
}

#[test]
fn json_feed_versions_under_http_and_https_and_none() {
    let d = read("jsonfeed-http-version.json");
    assert_eq!(d.meta.format, Some(DocumentFormat::JsonFeed));
    assert_eq!(titles(&d), vec!["Second post", "First post"]);
    assert_eq!(d.meta.reader, Some(Reader::Strict));
    let d = read("jsonfeed-http-version11.json");
    assert_eq!(d.items.len(), 1);
    assert_eq!(d.items[0].post.title, "Text only item");
    assert_eq!(d.items[0].post.authors, vec!["Dee"]);
    let d = read("jsonfeed-no-version.json");
    assert_eq!(titles(&d), vec!["Numbered id", "Dated oddly"]);
    assert_eq!(d.items[1].post.published, None);
    // An unknown version with a stray non-object item: the lenient reader.
    let d = read("jsonfeed-unknown-version.json");
    assert_eq!(titles(&d), vec!["Future item", "Another"]);
    assert_eq!(d.meta.reader, Some(Reader::Lenient));
}

#[test]
fn the_item_cap_bounds_what_is_read() {
    let mut doc = String::from("<rss version=\"2.0\"><channel><title>Big</title>");
    for i in (0..50_000).rev() {
        doc.push_str(&format!(
            "<item><title>n{i}</title><link>https://big.example/{i}</link></item>"
        ));
    }
    doc.push_str("</channel></rss>");
    let d = parse_document_capped(doc.as_bytes(), None, &base(), 1_000).expect("parses");
    assert_eq!(d.items.len(), 1_000);
    assert_eq!(d.items[0].post.title, "n49999", "newest (first) kept");
    // The lenient reader stops at the cap too.
    let broken = doc.replacen("<title>Big</title>", "<title>Big</titel>", 1);
    let d = parse_document_capped(broken.as_bytes(), None, &base(), 10).expect("parses");
    assert_eq!(d.meta.reader, Some(Reader::Lenient));
    assert_eq!(d.items.len(), 10);
    // JSON too.
    let items: Vec<String> = (0..5_000)
        .map(|i| format!(r#"{{"id":"{i}","url":"https://j.example/{i}"}}"#))
        .collect();
    let json = format!(
        r#"{{"version":"https://jsonfeed.org/version/1.1","items":[{}]}}"#,
        items.join(",")
    );
    let d = parse_document_capped(json.as_bytes(), None, &base(), 100).expect("parses");
    assert_eq!(d.items.len(), 100);
}

/// Whether a document sniffs as a feed: XML root `rss`/`feed`/`rdf:RDF`,
/// or JSON with `items`.
fn sniffs_as_feed(bytes: &[u8]) -> bool {
    let (text, _) = encoding::decode(bytes, None, false);
    let body = encoding::strip_xml_declaration(&text);
    if body.starts_with('{') {
        return serde_json::from_str::<serde_json::Value>(body)
            .ok()
            .is_some_and(|v| v.get("items").is_some_and(|i| i.is_array()));
    }
    let mut reader = quick_xml::Reader::from_str(body);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(e)) | Ok(quick_xml::events::Event::Empty(e)) => {
                let qn = e.name();
                let name: &str = qn.as_ref();
                let local = name.rsplit(':').next().unwrap_or(name).to_ascii_lowercase();
                return matches!(local.as_str(), "rss" | "feed" | "rdf");
            }
            Ok(quick_xml::events::Event::Eof) | Err(_) => return false,
            Ok(_) => {}
        }
    }
}

#[test]
fn no_fixture_that_sniffs_as_a_feed_is_read_as_a_page() {
    let mut feeds = 0;
    for entry in std::fs::read_dir(fixture_dir().join("feeds"))
        .expect("dir")
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        let bytes = std::fs::read(entry.path()).expect("read");
        let report = std::panic::catch_unwind(|| inspect::inspect_bytes(&name, &bytes, &base()))
            .unwrap_or_else(|_| panic!("{name}: panicked"));
        if !sniffs_as_feed(&bytes) || name.starts_with("hostile-") {
            continue;
        }
        feeds += 1;
        match &report.result {
            Ok(doc) => {
                assert_eq!(
                    doc.kind,
                    inspect::InspectKind::Feed,
                    "{name}: read as a page"
                );
                assert_ne!(doc.meta.reader, Some(Reader::Page), "{name}");
                assert!(!doc.items.is_empty(), "{name}: no items");
            }
            Err(e) => panic!("{name}: {e}"),
        }
    }
    assert!(feeds >= 30, "only {feeds} feed fixtures");
}

#[test]
fn mismatched_end_tags_and_html_entities() {
    let d = read("lenient-mismatched-tags.xml");
    assert_eq!(d.meta.reader, Some(Reader::Lenient));
    assert_eq!(d.items.len(), 2);
    assert_eq!(d.items[0].post.title, "Closed with a typo");
    assert_eq!(d.items[1].post.title, "Café and more");
    assert_eq!(
        d.items[1].post.link.as_deref(),
        Some("https://sloppy.example/2")
    );
}

#[test]
fn an_atom_entry_the_strict_parser_rejects_does_not_sink_the_feed() {
    let d = read("lenient-atom-missing-content.xml");
    assert_eq!(d.meta.reader, Some(Reader::Lenient));
    assert_eq!(
        titles(&d),
        vec!["Readable entry", "Out-of-line image entry"]
    );
    let c = d.items[0].post.content_html.as_deref().unwrap_or("");
    assert_eq!(c, "<p>Hello</p>");
}

#[test]
fn inspect_says_which_reader_read_it() {
    let cases = [
        ("feeds/lenient-unescaped-html.xml", "lenient"),
        ("feeds/rss20-media.xml", "strict"),
        ("seed-article.html", "page"),
    ];
    for (name, reader) in cases {
        let r = inspect::inspect_bytes(name, &fixture(name), &base());
        let table = inspect::render_table(&r);
        assert!(
            table.contains(&format!("{reader} reader")),
            "{name}: {table}"
        );
        let first = inspect::render_json_lines(&r);
        let line: serde_json::Value =
            serde_json::from_str(first.lines().next().expect("a line")).expect("json");
        assert_eq!(line["reader"], reader, "{name}");
    }
}

#[test]
fn a_feed_served_as_html_with_a_long_head_is_still_a_feed() {
    let mut doc = String::from("<?xml version=\"1.0\"?>\n<!-- ");
    doc.push_str(&"generated by a very chatty CMS ".repeat(80));
    doc.push_str("-->\n<rss version=\"2.0\"><channel><title>Chatty</title><item><title>One</title><link>https://chatty.example/1</link></item></channel></rss>");
    let d = parse_document(doc.as_bytes(), Some("text/html; charset=utf-8"), &base())
        .expect("a feed, not a page");
    assert_eq!(titles(&d), vec!["One"]);
    let r = inspect::inspect_bytes("chatty", doc.as_bytes(), &base());
    assert_eq!(r.result.expect("read").kind, inspect::InspectKind::Feed);
}

#[test]
fn untitled_items_keep_their_link_in_every_rss_version() {
    let docs = [
        r#"<rss version="0.92"><channel><title>c</title><link>https://c.example/</link><description>d</description><item><link>https://c.example/a</link><description>Note A text</description></item></channel></rss>"#,
        r#"<rss version="0.91"><channel><title>c</title><link>https://c.example/</link><description>d</description><item><link>https://c.example/a</link><description>Note A text</description></item></channel></rss>"#,
        r#"<rss version="2.0"><channel><title>c</title><item><link>https://c.example/a</link><description>Note A text</description></item></channel></rss>"#,
        r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"><channel rdf:about="https://c.example/"><title>c</title><link>https://c.example/</link><description>d</description></channel><item rdf:about="https://c.example/a"><link>https://c.example/a</link><description>Note A text</description></item></rdf:RDF>"#,
    ];
    for doc in docs {
        let d =
            parse_document(doc.as_bytes(), None, &base()).unwrap_or_else(|e| panic!("{doc}: {e}"));
        assert_eq!(d.items.len(), 1, "{doc}");
        let p = &d.items[0].post;
        assert_eq!(p.link.as_deref(), Some("https://c.example/a"), "{doc}");
        assert_eq!(p.title, "Note A text", "{doc}");
    }
}
