//! Parse benchmark over the generated corpus (`cargo bench --bench parse`).
//!
//! Every file of `tests/fixtures/corpus/` (listed in its `manifest.json`)
//! goes through [`parse_document_capped`] with the poller's default item
//! cap: the same call a poll makes after the fetch, so each item is fully
//! built (text decoded, HTML bounded and its URLs resolved, images,
//! enclosures, identity keys and content hash).
//!
//! Reports MB/s (of the files' bytes as fetched) and items/s, the median,
//! min and max over `--runs` runs (default 5); each run parses the corpus
//! `--reps` times (default 3) after one warm-up pass. Figures are given for
//! the whole corpus and for its XML files alone (feedparser 6 does not
//! read JSON Feed, so the comparison with it uses the XML files). Files are
//! read into memory before timing: the loop times parsing only.
//!
//! Also: a 10 MB feed (the corpus' big WordPress archive, repeated to
//! about 10 MB, over 400 items) read with a 20-item cap and in full, to
//! show what the cap saves.
//!
//! Options:
//! - `--runs N`, `--reps N`;
//! - `--once`: parse every corpus file once and exit (for whole-process
//!   timing by `benches/feedparser/compare.py`; prints bytes and items);
//! - `--xml-only` (with `--once`): skip the JSON Feed files;
//! - `--dump PATH`: write per-file item counts, titles and links as JSON
//!   (for the comparison with feedparser) and exit.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crier::sources::{DEFAULT_MAX_ITEMS, parse_document_capped};
use url::Url;

mod common;
use common::{arg, cpu_time, rss_kib};

struct Doc {
    name: String,
    bytes: Vec<u8>,
    expected: usize,
    xml: bool,
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/corpus")
}

fn load() -> Vec<Doc> {
    let dir = corpus_dir();
    let manifest = std::fs::read(dir.join("manifest.json")).unwrap_or_default();
    let manifest: serde_json::Value = serde_json::from_slice(&manifest).unwrap_or_default();
    let Some(files) = manifest.as_object() else {
        eprintln!("no manifest in {}", dir.display());
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, meta) in files {
        let Ok(bytes) = std::fs::read(dir.join(name)) else {
            eprintln!("{name}: unreadable");
            continue;
        };
        let expected = meta
            .get("items")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0) as usize;
        out.push(Doc {
            xml: !name.ends_with(".json"),
            name: name.clone(),
            bytes,
            expected,
        });
    }
    out
}

fn base_for(name: &str) -> Url {
    Url::parse(&format!("https://bench.example/feeds/{name}"))
        .unwrap_or_else(|_| Url::parse("https://bench.example/").expect("static url"))
}

/// Parses every doc once; returns (bytes, items).
fn pass(docs: &[&Doc], bases: &[Url]) -> (usize, usize) {
    let (mut bytes, mut items) = (0, 0);
    for (d, base) in docs.iter().zip(bases) {
        if let Ok(doc) = parse_document_capped(&d.bytes, None, base, DEFAULT_MAX_ITEMS) {
            items += doc.items.len();
        }
        bytes += d.bytes.len();
    }
    (bytes, items)
}

fn stats(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    let median = if v.is_empty() {
        0.0
    } else if v.len() % 2 == 1 {
        v[v.len() / 2]
    } else {
        (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
    };
    (
        median,
        v.first().copied().unwrap_or(0.0),
        v.last().copied().unwrap_or(0.0),
    )
}

fn measure(label: &str, docs: &[&Doc], runs: u64, reps: u64) {
    let bases: Vec<Url> = docs.iter().map(|d| base_for(&d.name)).collect();
    let _ = pass(docs, &bases); // warm-up
    let (mut mbs, mut ips) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let cpu0 = cpu_time();
        let start = Instant::now();
        let (mut bytes, mut items) = (0, 0);
        for _ in 0..reps {
            let (b, i) = pass(docs, &bases);
            bytes += b;
            items += i;
        }
        let el = start.elapsed().as_secs_f64();
        let cpu = (cpu_time() - cpu0).as_secs_f64();
        mbs.push(bytes as f64 / el / 1e6);
        ips.push(items as f64 / el);
        eprintln!(
            "  run: {:.3} s wall, {:.3} s CPU, {:.1} MB/s, {:.0} items/s",
            el,
            cpu,
            bytes as f64 / el / 1e6,
            items as f64 / el
        );
    }
    let total: usize = docs.iter().map(|d| d.bytes.len()).sum();
    let (m, lo, hi) = stats(mbs);
    let (im, ilo, ihi) = stats(ips);
    println!(
        "parse {label} ({} files, {:.2} MB, x{reps} per run): {m:.1} MB/s (min {lo:.1}, max {hi:.1}); \
         {im:.0} items/s (min {ilo:.0}, max {ihi:.0}); median of {runs} runs",
        docs.len(),
        total as f64 / 1e6
    );
}

/// The big WordPress archive repeated to about 10 MB (GUIDs and links kept
/// distinct), read with a 20-item cap and in full.
fn big_feed(docs: &[Doc], runs: u64) {
    let Some(src) = docs.iter().find(|d| d.name == "big-wp-archive.xml") else {
        return;
    };
    let text = String::from_utf8_lossy(&src.bytes);
    let (Some(first), Some(last)) = (text.find("\t<item>"), text.rfind("</channel>")) else {
        return;
    };
    let (head, items, tail) = (&text[..first], &text[first..last], &text[last..]);
    let mut out = String::from(head);
    let mut copy = 0;
    while out.len() < 10 * 1024 * 1024 - items.len() {
        out.push_str(
            &items
                .replace("/?p=", &format!("/?copy={copy}&amp;p="))
                .replace("/</link>", &format!("/{copy}/</link>")),
        );
        copy += 1;
    }
    out.push_str(tail);
    let bytes = out.into_bytes();
    let base = base_for("big.xml");
    for cap in [20, DEFAULT_MAX_ITEMS] {
        let mut times = Vec::new();
        let mut n = 0;
        for _ in 0..runs {
            let start = Instant::now();
            n = parse_document_capped(&bytes, None, &base, cap)
                .map(|d| d.items.len())
                .unwrap_or(0);
            times.push(start.elapsed().as_secs_f64() * 1e3);
        }
        let (m, lo, hi) = stats(times);
        println!(
            "parse {:.1} MB feed, cap {cap}: {n} items in {m:.1} ms (min {lo:.1}, max {hi:.1})",
            bytes.len() as f64 / 1e6
        );
    }
}

fn dump(docs: &[Doc], path: &str) {
    let mut out = serde_json::Map::new();
    for d in docs {
        let base = base_for(&d.name);
        let v = match parse_document_capped(&d.bytes, None, &base, DEFAULT_MAX_ITEMS) {
            Ok(doc) => serde_json::json!({
                "items": doc.items.len(),
                "titles": doc.items.iter().map(|i| i.post.title.clone()).collect::<Vec<_>>(),
                "links": doc.items.iter().map(|i| i.post.link.clone()).collect::<Vec<_>>(),
            }),
            Err(e) => serde_json::json!({ "items": 0, "error": e.to_string() }),
        };
        out.insert(d.name.clone(), v);
    }
    let text = serde_json::to_string_pretty(&out).unwrap_or_default();
    if let Err(e) = std::fs::write(path, text) {
        eprintln!("{path}: {e}");
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let docs = load();
    if let Some(i) = args.iter().position(|a| a == "--dump") {
        match args.get(i + 1) {
            Some(path) => dump(&docs, path),
            None => eprintln!("--dump needs a path"),
        }
        return;
    }
    if args.iter().any(|a| a == "--once") {
        let xml_only = args.iter().any(|a| a == "--xml-only");
        let chosen: Vec<&Doc> = docs.iter().filter(|d| d.xml || !xml_only).collect();
        let bases: Vec<Url> = chosen.iter().map(|d| base_for(&d.name)).collect();
        let (bytes, items) = pass(&chosen, &bases);
        println!("{bytes} bytes {items} items");
        return;
    }
    let runs = arg("--runs", 5).max(1);
    let reps = arg("--reps", 3).max(1);
    let expected: usize = docs.iter().map(|d| d.expected).sum();
    let all: Vec<&Doc> = docs.iter().collect();
    let bases: Vec<Url> = all.iter().map(|d| base_for(&d.name)).collect();
    let (_, got) = pass(&all, &bases);
    println!(
        "corpus: {} files, {got} items (manifest: {expected})",
        docs.len()
    );
    measure("whole corpus", &all, runs, reps);
    let xml: Vec<&Doc> = docs.iter().filter(|d| d.xml).collect();
    measure("XML files", &xml, runs, reps);
    big_feed(&docs, runs);
    println!("peak RSS: {} KiB", rss_kib("VmHWM:"));
}
