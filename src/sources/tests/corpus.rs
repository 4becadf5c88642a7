//! Tests over the fixture corpus: every format, the quirks, hostile inputs.

use super::super::*;
use std::path::PathBuf;
use url::Url;

pub(crate) fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub(crate) fn fixture(name: &str) -> Vec<u8> {
    let path = fixture_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn base() -> Url {
    Url::parse("https://feeds.example/dir/feed.xml").expect("url")
}

fn parse(name: &str) -> ParsedDocument {
    parse_document(&fixture(&format!("feeds/{name}")), None, &base())
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn titles(doc: &ParsedDocument) -> Vec<&str> {
    doc.items.iter().map(|i| i.post.title.as_str()).collect()
}

fn ts(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.with_timezone(&chrono::Utc))
}

#[test]
fn seed_wordpress_feed() {
    let doc = parse_document(
        &fixture("seed-wordpress-feed.xml"),
        Some("application/rss+xml; charset=UTF-8"),
        &Url::parse("https://meritnews24.example/feed/").expect("url"),
    )
    .expect("seed feed parses");
    assert_eq!(doc.meta.format, Some(DocumentFormat::Rss2));
    assert_eq!(doc.meta.title.as_deref(), Some("Meritnews24"));
    assert_eq!(doc.meta.language.as_deref(), Some("en-US"));
    assert_eq!(
        doc.meta.ttl_hint,
        Some(std::time::Duration::from_secs(3600))
    );
    assert!(
        doc.meta
            .generator
            .as_deref()
            .is_some_and(|g| g.contains("wordpress.org"))
    );
    assert_eq!(doc.items.len(), 2);
    let first = &doc.items[0];
    assert_eq!(
        first.keys,
        vec![
            "guid:https://meritnews24.example/?p=48213".to_string(),
            "link:https://meritnews24.example/2023/02/01/japan-and-nato-pledge-to-strengthen-cooperation/".to_string()
        ]
    );
    assert_eq!(first.key_type, KeyType::Guid);
    let p = &first.post;
    assert!(p.title.starts_with("Japan and NATO pledge"));
    assert_eq!(p.authors, vec!["Meritnews24 Desk".to_string()]);
    assert_eq!(p.categories, vec!["World", "Japan", "NATO", "Ukraine"]);
    assert_eq!(p.published, ts("2023-02-01T03:12:44Z"));
    assert_eq!(p.updated, None);
    assert_eq!(
        p.images,
        vec![
            "https://meritnews24.example/wp-content/uploads/2023/02/kishida-stoltenberg.jpg"
                .to_string()
        ]
    );
    assert!(
        p.summary_html
            .as_deref()
            .is_some_and(|s| s.contains("[&#8230;]"))
    );
    assert!(
        p.content_html
            .as_deref()
            .is_some_and(|c| c.contains("Japan will host the G7 summit"))
    );
    // Second item: no media, no <img>: no image; entities kept as HTML.
    let second = &doc.items[1].post;
    assert!(second.images.is_empty());
    assert!(
        second
            .content_html
            .as_deref()
            .is_some_and(|c| c.contains("&amp; will remain"))
    );
    assert_ne!(doc.items[0].content_hash, doc.items[1].content_hash);
}

#[test]
fn rss_090_091_092() {
    let d = parse("rss090.rdf");
    assert_eq!(d.meta.format, Some(DocumentFormat::Rss1));
    assert_eq!(
        titles(&d),
        vec!["New Status Updates", "Bugzilla Reorganized"]
    );
    assert_eq!(d.items[0].keys, vec!["link:http://www.mozilla.org/status/"]);

    let d = parse("rss091.xml");
    assert_eq!(d.meta.format, Some(DocumentFormat::Rss0));
    assert_eq!(d.items.len(), 2);
    assert_eq!(d.items[0].key_type, KeyType::Link);

    let d = parse("rss092.xml");
    assert_eq!(d.items.len(), 2);
    assert_eq!(d.meta.ttl_hint, Some(std::time::Duration::from_secs(7200)));
    // No title, link or guid: hash keys, distinct thanks to the text.
    assert!(d.items.iter().all(|i| i.key_type == KeyType::Hash));
    assert_ne!(d.items[0].keys, d.items[1].keys);
    assert!(
        d.items[1]
            .post
            .summary_html
            .as_deref()
            .is_some_and(|s| s.contains(r#"href="https://feeds.example/mp3s/club""#))
    );
}

#[test]
fn rss_10_rdf() {
    let d = parse("rss10.rdf");
    assert_eq!(d.meta.format, Some(DocumentFormat::Rss1));
    assert_eq!(d.meta.ttl_hint, Some(std::time::Duration::from_secs(1800)));
    let p = &d.items[0].post;
    assert_eq!(
        d.items[0].keys,
        vec!["link:https://slashdot.example/story/1"]
    );
    assert_eq!(p.authors, vec!["timothy".to_string()]);
    assert_eq!(p.categories, vec!["programming", "Tools & Languages"]);
    assert_eq!(p.published, ts("2025-02-20T18:30:00Z"));
    assert_eq!(
        p.images,
        vec!["https://feeds.example/images/rust.png".to_string()]
    );
    assert_eq!(d.items[1].post.published, ts("2025-02-21T14:00:00Z"));
}

#[test]
fn rss_20_media_and_relative_links() {
    let d = parse("rss20-media.xml");
    assert_eq!(d.meta.title.as_deref(), Some("Example News & Views"));
    assert_eq!(d.meta.ttl_hint, Some(std::time::Duration::from_secs(1800)));
    let p = &d.items[0].post;
    assert_eq!(
        p.link.as_deref(),
        Some("https://feeds.example/articles/media-content?utm_campaign=rss#comments")
    );
    assert_eq!(
        d.items[0].keys,
        vec![
            "guid:https://news.example/articles/media-content",
            "link:https://feeds.example/articles/media-content"
        ]
    );
    assert_eq!(
        p.images,
        vec![
            "https://cdn.news.example/main.jpg",
            "https://cdn.news.example/thumb.jpg",
            "https://feeds.example/img/inline.jpg"
        ]
    );
    assert_eq!(p.authors, vec!["Jane Doe".to_string()]);
    assert_eq!(p.categories, vec!["Science", "Space & Time"]);
    assert_eq!(p.language.as_deref(), Some("fr-FR"));
    assert_eq!(p.published, ts("2025-06-10T06:00:00Z"));
    assert!(
        p.summary_html
            .as_deref()
            .is_some_and(|s| s.contains(r#"href="https://feeds.example/rel/link""#))
    );
    assert!(
        p.content_html
            .as_deref()
            .is_some_and(|s| s.contains(r#"href="https://feeds.example/dir/other""#))
    );
    assert_eq!(
        d.items[1].post.images,
        vec!["https://cdn.news.example/enclosure.png".to_string()]
    );
    // A video is not an image; its thumbnail is.
    assert_eq!(
        d.items[2].post.images,
        vec!["https://cdn.news.example/video-thumb.jpg".to_string()]
    );
}

#[test]
fn atom_03_and_10() {
    let d = parse("atom10.xml");
    assert_eq!(d.meta.format, Some(DocumentFormat::Atom));
    assert_eq!(d.meta.title.as_deref(), Some("Atom & Eve"));
    let p = &d.items[0].post;
    assert_eq!(p.title, "Relative links & xml:base");
    assert_eq!(
        p.link.as_deref(),
        Some("https://blog.example/posts/relative")
    );
    assert_eq!(p.authors, vec!["Alice", "Bob"]);
    assert_eq!(p.categories, vec!["Rust", "feeds"]);
    assert_eq!(p.published, ts("2025-03-01T09:00:00Z"));
    assert_eq!(p.updated, ts("2025-03-01T12:00:00Z"));
    // type="text" summary is escaped into HTML; content resolved via xml:base.
    assert_eq!(
        p.summary_html.as_deref(),
        Some("Plain text summary with &lt;angle&gt; brackets")
    );
    assert!(
        p.content_html
            .as_deref()
            .is_some_and(|c| c.contains(r#"href="https://blog.example/about""#))
    );
    assert_eq!(
        p.images,
        vec!["https://blog.example/img/pic.png".to_string()]
    );
    assert_eq!(
        d.items[1].post.link.as_deref(),
        Some("https://blog.example/sub/xhtml")
    );
    assert!(
        d.items[1]
            .post
            .content_html
            .as_deref()
            .is_some_and(|c| c.contains("<p>Hello"))
    );
    // The entry's own xml:base applies to its content.
    assert!(
        d.items[1]
            .post
            .content_html
            .as_deref()
            .is_some_and(|c| c.contains(r#"href="https://blog.example/sub/there""#)),
        "{:?}",
        d.items[1].post.content_html
    );

    let d = parse("atom03.xml");
    assert_eq!(titles(&d), vec!["Atom 0.3 entry"]);
    let p = &d.items[0].post;
    assert_eq!(p.published, ts("2004-12-01T14:00:00Z"));
    assert_eq!(p.updated, ts("2004-12-01T10:00:00Z"));
    assert_eq!(
        p.content_html.as_deref(),
        Some("<p>Escaped <b>HTML</b></p>")
    );
}

#[test]
fn json_feed_10_and_11() {
    let d = parse("jsonfeed10.json");
    assert_eq!(d.meta.format, Some(DocumentFormat::JsonFeed));
    assert_eq!(
        d.items[0].keys,
        vec!["guid:2", "link:https://json.example/2"]
    );
    assert_eq!(
        d.items[0].post.images,
        vec!["https://json.example/2.png".to_string()]
    );
    assert_eq!(d.items[0].post.categories, vec!["a", "b"]);
    // Untitled: titled from its text, as feed readers do (issue #11).
    assert_eq!(d.items[1].post.title, "An untitled note with <brackets>");
    assert_eq!(
        d.items[1].post.content_html.as_deref(),
        Some("An untitled note with &lt;brackets&gt;")
    );

    let d = parse("jsonfeed11.json");
    let p = &d.items[0].post;
    assert_eq!(p.authors, vec!["Carol"]);
    assert_eq!(p.language.as_deref(), Some("en-GB"));
    assert_eq!(
        p.images,
        vec!["https://json11.example/banner.jpg".to_string()]
    );
    assert_eq!(p.updated, ts("2025-04-06T00:00:00Z"));
}

#[test]
fn quirks_bom_blank_lines_and_versions() {
    assert_eq!(
        titles(&parse("quirk-bom-blank-lines.xml")),
        vec!["After the BOM"]
    );
    assert_eq!(
        titles(&parse("quirk-blank-line-no-bom.xml")),
        vec!["After a blank line"]
    );
    assert_eq!(
        titles(&parse("quirk-rss-noversion.xml")),
        vec!["Versionless"]
    );
    assert_eq!(titles(&parse("quirk-rss094.xml")), vec!["Version 0.94"]);
}

#[test]
fn quirks_encodings() {
    let d = parse("quirk-cp1252-declared-utf8.xml");
    assert_eq!(d.meta.encoding, "windows-1252");
    assert_eq!(titles(&d), vec!["Résumé – ¿Qué?"]);
    assert_eq!(d.meta.title.as_deref(), Some("Café “news”"));
    let d = parse("quirk-utf8-declared-latin1.xml");
    assert_eq!(titles(&d), vec!["Привет, мир — 日本"]);
    assert_eq!(titles(&parse("quirk-latin1.xml")), vec!["Été à Montréal"]);
    assert_eq!(titles(&parse("quirk-utf16.xml")), vec!["Sixteen bits ü"]);
    // HTTP charset is honoured for a document that is not valid UTF-8.
    let bytes = fixture("feeds/quirk-latin1.xml");
    let d = parse_document(&bytes, Some("text/xml; charset=iso-8859-1"), &base()).expect("parses");
    assert_eq!(titles(&d), vec!["Été à Montréal"]);
}

#[test]
fn quirks_entities_in_titles() {
    let d = parse("quirk-entities.xml");
    assert_eq!(d.meta.title.as_deref(), Some("Entities & more"));
    assert_eq!(
        titles(&d),
        vec![
            "Tom & Jerry’s “show”",
            "Café society – — done",
            "CDATA & bold title"
        ]
    );
}

#[test]
fn quirks_dates() {
    let d = parse("quirk-dates.xml");
    let want = ts("2023-02-01T03:12:44Z");
    for i in 0..4 {
        assert_eq!(d.items[i].post.published, want, "{}", d.items[i].post.title);
    }
    assert_eq!(d.items[4].post.published, ts("2023-02-01T03:12:00Z"));
    assert_eq!(d.items[5].post.published, None);
    assert_eq!(d.items[6].post.published, None);
}

#[test]
fn quirks_no_guid_and_duplicates() {
    let d = parse("quirk-no-guid-relative.xml");
    assert_eq!(d.items[0].keys, vec!["link:https://feeds.example/posts/1"]);
    assert_eq!(
        d.items[1].keys,
        vec!["link:https://feeds.example/dir/posts/2"]
    );
    assert_eq!(d.meta.key_type, Some(KeyType::Link));

    let d = parse("quirk-duplicates.xml");
    // The repeated guid is not a key; links are.
    assert_eq!(d.items[0].keys, vec!["link:https://dup.example/a"]);
    assert_eq!(d.items[1].keys, vec!["link:https://dup.example/b"]);
    // Shared link: not a key; title+date hash instead.
    assert_eq!(d.items[2].key_type, KeyType::Hash);
    assert_eq!(d.items[3].key_type, KeyType::Hash);
    // The verbatim repeat of "No link" is dropped.
    assert_eq!(d.items.len(), 5);
    let mut all: Vec<&String> = d.items.iter().flat_map(|i| &i.keys).collect();
    let n = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), n, "keys unique within the document");
}

#[test]
fn hostile_billion_laughs_and_xxe_are_not_expanded() {
    let bytes = fixture("feeds/hostile-billion-laughs.xml");
    let start = std::time::Instant::now();
    let d = parse_document(&bytes, None, &base()).expect("parses without expanding");
    assert!(start.elapsed() < std::time::Duration::from_secs(2));
    assert_eq!(d.items.len(), 1);
    assert!(
        d.items[0].post.title.len() < 100,
        "{}",
        d.items[0].post.title
    );
    assert!(!d.items[0].post.title.contains("lollol"));

    let d = parse("hostile-xxe.xml");
    assert_eq!(titles(&d), vec!["Secret &xxe;"]);
    assert!(!d.items[0].post.title.contains("root:"));
}

#[test]
fn hostile_inputs_give_clear_errors() {
    let cases: &[(&str, &str)] = &[
        ("hostile-html.html", "not a feed: got HTML"),
        ("hostile-binary.bin", "not a feed: got plain text"),
        ("hostile-empty.xml", "not a feed: got an empty body"),
        ("hostile-truncated.xml", "parse error at line 4"),
        ("hostile-json-not-feed.json", "parse error at line 1"),
    ];
    for (name, want) in cases {
        let err =
            parse_document(&fixture(&format!("feeds/{name}")), None, &base()).expect_err(name);
        assert!(err.to_string().starts_with(want), "{name}: {err}");
        assert!(err.is_permanent(), "{name}");
    }
    // HTML served with a feed content type is still HTML.
    let err = parse_document(
        b"<html><body>x</body></html>",
        Some("application/rss+xml"),
        &base(),
    )
    .expect_err("html");
    assert_eq!(err, SourceError::NotAFeed { got: "HTML".into() });
    // A structural error of the feed parser carries the line too.
    let doc = "<feed xmlns=\"http://www.w3.org/2005/Atom\">\n<entry>\n<id>1</id>\n<content type=\"image/png\"/>\n</entry></feed>";
    let err = parse_document(doc.as_bytes(), None, &base()).expect_err("missing content");
    assert!(
        err.to_string()
            .starts_with("parse error at line 4: missing"),
        "{err}"
    );
    // XML that is not a feed.
    let err =
        parse_document(b"<?xml version='1.0'?><svg><g/></svg>", None, &base()).expect_err("svg");
    assert_eq!(err.to_string(), "not a feed: got XML with root <svg>");
}

#[test]
fn hostile_numbers_do_not_panic() {
    // feed-rs panics on an overflowing media duration; we turn that into an
    // error rather than crash the poll loop.
    let r = parse_document(&fixture("feeds/hostile-huge-numbers.xml"), None, &base());
    assert!(
        r.is_ok() || r.as_ref().is_err_and(|e| e.kind() == "parse"),
        "{r:?}"
    );
    let d = parse("hostile-deep-nesting.xml");
    assert_eq!(d.items.len(), 1);
    // Deeply nested content is cut to a bounded depth for the formatter.
    let depth = 20_000;
    let doc = format!(
        "<rss version=\"2.0\"><channel><title>t</title><item><title>x</title><guid>g</guid><description><![CDATA[{}deep{}]]></description></item></channel></rss>",
        "<div>".repeat(depth),
        "</div>".repeat(depth)
    );
    let d = parse_document(doc.as_bytes(), None, &base()).expect("parses");
    let summary = d.items[0].post.summary_html.as_deref().unwrap_or("");
    assert_eq!(summary.matches("<div>").count(), html::MAX_NESTING);
}

#[test]
fn whole_corpus_never_panics_and_truncations_are_errors() {
    let dir = fixture_dir().join("feeds");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("dir").flatten() {
        let bytes = std::fs::read(entry.path()).expect("read");
        let _ = parse_document(&bytes, None, &base());
        // Every prefix cut mid-document is an error or parses, never panics.
        for cut in [
            1,
            bytes.len() / 3,
            bytes.len() / 2,
            bytes.len().saturating_sub(3),
        ] {
            let _ = parse_document(&bytes[..cut.min(bytes.len())], None, &base());
        }
        count += 1;
    }
    assert!(count >= 25, "corpus has {count} files");
}

#[test]
fn sort_oldest_first_orders_by_date_else_reversed() {
    let mut d = parse("quirk-no-guid-relative.xml");
    sort_oldest_first(&mut d.items);
    assert_eq!(titles(&d), vec!["One", "Two"]);
    let mut d = parse("quirk-dates.xml");
    sort_oldest_first(&mut d.items);
    // Missing dates: document order reversed.
    assert_eq!(d.items[0].post.title, "Garbage date");
    assert_eq!(d.items[6].post.title, "EST zone");
    let mut d = parse("rss10.rdf");
    d.items.reverse();
    sort_oldest_first(&mut d.items);
    assert_eq!(
        titles(&d),
        vec!["Rust 2024 edition ships", "Feeds are not dead"]
    );
}

#[test]
fn keys_are_stable_across_parses() {
    for name in [
        "rss092.xml",
        "quirk-duplicates.xml",
        "rss090.rdf",
        "jsonfeed10.json",
    ] {
        let a = parse(name);
        let b = parse(name);
        let ka: Vec<_> = a.items.iter().map(|i| (&i.keys, &i.content_hash)).collect();
        let kb: Vec<_> = b.items.iter().map(|i| (&i.keys, &i.content_hash)).collect();
        assert_eq!(ka, kb, "{name}");
    }
}

#[test]
fn feed_that_drops_guids_still_matches_by_link() {
    let with = parse_document(&fixture("seed-wordpress-feed.xml"), None, &base()).expect("parses");
    let text = String::from_utf8(fixture("seed-wordpress-feed.xml")).expect("utf8");
    let re = regex::Regex::new(r"<guid[^>]*>[^<]*</guid>").expect("re");
    let without = re.replace_all(&text, "");
    let without = parse_document(without.as_bytes(), None, &base()).expect("parses");
    for (a, b) in with.items.iter().zip(&without.items) {
        assert_eq!(b.key_type, KeyType::Link);
        assert!(a.keys.contains(&b.keys[0]), "{:?} vs {:?}", a.keys, b.keys);
        assert_eq!(a.content_hash, b.content_hash);
    }
}

#[test]
fn atom_quirks_do_not_fail_the_feed() {
    for (content, body) in [
        (r#"<content type="html"></content>"#, None),
        (r#"<content/>"#, None),
        (
            r#"<content type="HTML">&lt;b&gt;x&lt;/b&gt;</content>"#,
            Some("<b>x</b>"),
        ),
        (r#"<content type='weird'>x</content>"#, Some("x")),
        (
            r#"<content type="text/html; charset=utf-8">y</content>"#,
            Some("y"),
        ),
    ] {
        let doc = format!(
            r#"<feed xmlns="http://www.w3.org/2005/Atom"><title type="Text">t</title><entry><id>e1</id><title type="HTML">x &amp;amp; y</title>{content}</entry></feed>"#
        );
        let d = parse_document(doc.as_bytes(), None, &base())
            .unwrap_or_else(|e| panic!("{content}: {e}"));
        assert_eq!(d.items.len(), 1, "{content}");
        assert_eq!(d.items[0].post.title, "x & y");
        assert_eq!(d.items[0].post.content_html.as_deref(), body, "{content}");
    }
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    fn corpus() -> &'static Vec<Vec<u8>> {
        static CORPUS: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
        CORPUS.get_or_init(|| {
            let mut files: Vec<_> = std::fs::read_dir(fixture_dir().join("feeds"))
                .map(|d| d.flatten().map(|e| e.path()).collect())
                .unwrap_or_default();
            files.sort();
            files.push(fixture_dir().join("seed-wordpress-feed.xml"));
            files.push(fixture_dir().join("seed-article.html"));
            files.push(fixture_dir().join("wordpress/posts-embed.json"));
            files
                .into_iter()
                .filter_map(|p| std::fs::read(p).ok())
                .collect()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        /// Mutated and truncated fixtures give articles or an error, never a panic.
        #[test]
        fn mutated_fixtures_never_panic(
            pick in any::<prop::sample::Index>(),
            edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..16),
            cut in any::<prop::sample::Index>(),
        ) {
            let docs = corpus();
            let mut doc = docs[pick.index(docs.len())].clone();
            if !doc.is_empty() {
                for (at, byte) in edits {
                    let i = at.index(doc.len());
                    doc[i] = byte;
                }
                let keep = cut.index(doc.len() + 1);
                let truncated = &doc[..keep];
                let _ = parse_document(truncated, Some("application/rss+xml"), &base());
                let _ = wordpress::parse_posts(truncated, &base());
                let _ = page::extract(truncated, &base());
            }
            if let Ok(d) = parse_document(&doc, None, &base()) {
                for item in &d.items {
                    prop_assert!(!item.keys.is_empty());
                }
            }
        }

        /// Arbitrary bytes and strings never panic anywhere.
        #[test]
        fn random_input_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..1500), s in ".{0,200}") {
            let _ = parse_document(&bytes, None, &base());
            let _ = parse_document(s.as_bytes(), Some("text/xml; charset=bogus"), &base());
            let _ = page::extract(&bytes, &base());
            let _ = normalize_link(&s, Some(&base()));
            let _ = dates::parse_date(&s);
            let _ = html::decode_text(&s);
            let _ = html::resolve_relative_urls(&s, &base());
        }
    }
}

#[test]
fn a_podcast_episode_image_is_the_article_picture_not_the_show_art() {
    let doc = br#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">
<channel><title>Show</title><link>https://show.example</link><description>d</description>
<itunes:image href="https://show.example/art/show.jpg"/>
<item><title>Ep. 1</title><link>https://show.example/1</link><guid>e1</guid>
<enclosure url="https://media.show.example/1.mp3" length="48213377" type="audio/mpeg"/>
<itunes:episode>1</itunes:episode>
<itunes:image href="https://show.example/art/ep1.jpg"/>
</item>
<item><title>Ep. 0</title><link>https://show.example/0</link><guid>e0</guid>
<enclosure url="https://media.show.example/0.mp3" length="1000" type="audio/mpeg"/>
</item>
</channel></rss>"#;
    let base = url::Url::parse("https://show.example/feed").expect("url");
    let d = parse_document(doc, None, &base).expect("parses");
    assert_eq!(
        d.items[0].post.images,
        vec!["https://show.example/art/ep1.jpg".to_string()]
    );
    // No episode image: no picture (the show's art on every post would be
    // the same picture again and again).
    assert!(
        d.items[1].post.images.is_empty(),
        "{:?}",
        d.items[1].post.images
    );
}
