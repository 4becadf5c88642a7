//! The generated parsing corpus (`tests/fixtures/corpus/`, made by its
//! `generate.py`) as a correctness check: every file parses with the strict
//! reader, in its format, with the item count its manifest records, and
//! every item has a title, a link, identity keys and a content hash.

use super::super::*;
use super::corpus::fixture_dir;
use url::Url;

#[test]
fn every_corpus_file_parses_with_the_expected_items() {
    let dir = fixture_dir().join("corpus");
    let manifest = std::fs::read(dir.join("manifest.json")).expect("manifest");
    let manifest: serde_json::Value = serde_json::from_slice(&manifest).expect("manifest JSON");
    let files = manifest.as_object().expect("manifest object");
    assert!(files.len() >= 100, "{} files", files.len());
    let mut failures = Vec::new();
    for (name, meta) in files {
        let bytes = std::fs::read(dir.join(name)).expect("corpus file");
        assert_eq!(
            meta.get("bytes").and_then(serde_json::Value::as_u64),
            Some(bytes.len() as u64),
            "{name}: size differs from the manifest (re-run generate.py)"
        );
        let want = meta
            .get("items")
            .and_then(serde_json::Value::as_u64)
            .expect("items") as usize;
        let format = meta
            .get("format")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("");
        let want_format = match format.split('-').next() {
            Some("rss2") => DocumentFormat::Rss2,
            Some("rss1") => DocumentFormat::Rss1,
            Some("atom") => DocumentFormat::Atom,
            Some("jsonfeed") => DocumentFormat::JsonFeed,
            other => panic!("{name}: unknown format {other:?}"),
        };
        let base = Url::parse(&format!("https://corpus.example/{name}")).expect("url");
        let doc = match parse_document(&bytes, None, &base) {
            Ok(doc) => doc,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        if doc.items.len() != want {
            failures.push(format!("{name}: {} items, want {want}", doc.items.len()));
        }
        if doc.meta.format != Some(want_format) {
            failures.push(format!("{name}: format {:?}", doc.meta.format));
        }
        if doc.meta.reader != Some(Reader::Strict) {
            failures.push(format!("{name}: read by {:?}", doc.meta.reader));
        }
        for (i, item) in doc.items.iter().enumerate() {
            let p = &item.post;
            if p.title.trim().is_empty()
                || p.link.is_none()
                || item.keys.is_empty()
                || item.content_hash.is_empty()
            {
                failures.push(format!("{name}: item {i} incomplete: {:?}", p.title));
                break;
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Legacy encodings are decoded as declared; text stays readable.
#[test]
fn declared_legacy_encodings_are_honoured() {
    let dir = fixture_dir().join("corpus");
    let base = Url::parse("https://corpus.example/").expect("url");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("corpus dir").flatten() {
        let bytes = std::fs::read(entry.path()).expect("file");
        let head = String::from_utf8_lossy(&bytes[..bytes.len().min(100)]).to_ascii_lowercase();
        if !(head.contains("iso-8859-1") || head.contains("windows-1252"))
            || std::str::from_utf8(&bytes).is_ok()
        {
            continue;
        }
        let doc = parse_document(&bytes, None, &base).expect("legacy feed parses");
        assert_eq!(doc.meta.encoding, "windows-1252", "{:?}", entry.path());
        let text: String = doc.items.iter().map(|i| i.post.title.as_str()).collect();
        assert!(!text.contains('\u{fffd}'), "{:?}", entry.path());
        seen += 1;
    }
    assert!(seen >= 5, "{seen} legacy-encoded files");
}
