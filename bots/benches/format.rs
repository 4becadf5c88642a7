//! Formatter throughput: articles formatted per second, on one core, for a
//! typical ~5 KB article and a ~200 KB one, per platform and mode.
//!
//! Run: `cargo bench -p crier-bots --bench format` (optionally
//! `-- --seconds 3`). Prints a Markdown table.

use std::hint::black_box;
use std::time::{Duration, Instant};

use crier_bots::Post;
use crier_bots::format::{FeedRenderOptions, Mode, TargetFormat, discord, telegram};

fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The seed feed's first item (real WordPress noise included), padded to
/// about 5 KB with two more paragraphs and a list.
fn typical() -> Post {
    let xml = fixture("seed-wordpress-feed.xml");
    let start = xml
        .find("<content:encoded><![CDATA[")
        .map(|i| i + 26)
        .unwrap_or(0);
    let end = xml[start..]
        .find("]]></content:encoded>")
        .map(|e| start + e)
        .unwrap_or(start);
    let mut content = xml[start..end].to_string();
    content.push_str(
        "<p>Analysts in Tokyo said the <strong>statement</strong> marked a shift in <em>Japan’s</em> post-war \
         security posture, with <a href=\"https://meritnews24.example/tag/defence/\">defence spending</a> set to rise.</p>\
         <ul><li>Maritime security</li><li>Arms control</li><li>Cyberspace</li></ul>\
         <p>Officials are expected to meet again before the G7 summit in Hiroshima.</p>\
         <p>Diplomats from both sides described the talks as <i>frank and constructive</i>, noting that the joint \
         statement covers intelligence sharing, joint exercises and closer coordination on export controls. \
         Observers cautioned that the details of several initiatives remain to be negotiated, and that the pace of \
         implementation will depend on budget decisions in Tokyo and on the alliance’s own planning cycle.</p>\
         <p>“We are living in a more dangerous world,” one official said, adding that cooperation with partners in \
         the region had “never been more important” for the security of Europe and Asia alike.</p>\
         <p>The visit is the secretary-general’s first to Japan since 2017. He is due to travel on to meet \
         <a href=\"https://meritnews24.example/tag/defence/\">defence officials</a> before returning to Brussels.</p>",
    );
    Post {
        feed: "meritnews24".into(),
        source_title: Some("Meritnews24".into()),
        title: "Japan and NATO pledge to strengthen cooperation | Russian military cooperation has led to the tensest security environment since World War II".into(),
        link: Some("https://meritnews24.example/2023/02/01/japan-and-nato-pledge-to-strengthen-cooperation/".into()),
        summary_html: Some("Japan and NATO leaders pledged to strengthen cooperation [&#8230;]".into()),
        content_html: Some(content),
        authors: vec!["Meritnews24 Desk".into()],
        categories: vec!["World".into(), "Japan".into(), "NATO".into(), "Ukraine".into()],
        published: chrono::DateTime::from_timestamp(1_675_221_164, 0),
        images: vec!["https://meritnews24.example/wp-content/uploads/2023/02/kishida-stoltenberg.jpg".into()],
        ..Post::default()
    }
}

/// About 200 KB: the typical article's body repeated with headings,
/// quotes, lists and code in between.
fn large() -> Post {
    let mut p = typical();
    let body = p.content_html.clone().unwrap_or_default();
    let mut html = String::with_capacity(210_000);
    let mut i = 0;
    while html.len() < 200_000 {
        html.push_str(&format!("<h2>Part {i}</h2>"));
        html.push_str(&body);
        html.push_str("<blockquote><p>“A quoted remark with <b>emphasis</b> and a <a href=\"/x\">link</a>.”</p></blockquote>");
        html.push_str("<pre><code class=\"language-rust\">fn main() {\n    println!(\"hello\");\n}</code></pre>");
        i += 1;
    }
    p.content_html = Some(html);
    p
}

fn measure(secs: f64, mut f: impl FnMut()) -> (f64, u64) {
    // Warm up (template and rule caches, allocator).
    for _ in 0..3 {
        f();
    }
    let budget = Duration::from_secs_f64(secs);
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget {
        f();
        n += 1;
    }
    (n as f64 / start.elapsed().as_secs_f64(), n)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let secs: f64 = args
        .iter()
        .position(|a| a == "--seconds")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let feed = FeedRenderOptions::default();
    let summary = TargetFormat::default();
    let full = TargetFormat {
        mode: Mode::Full,
        ..TargetFormat::default()
    };
    println!(
        "| article | size | mode | Telegram articles/s | Discord articles/s | both platforms, sharing the prepared article | both platforms, nothing shared (1/(1/T+1/D)) |"
    );
    println!("|---|---:|---|---:|---:|---:|---:|");
    for (name, post) in [("typical", typical()), ("large", large())] {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        let size = post.content_html.as_ref().map(String::len).unwrap_or(0);
        for (mode, fmt) in [("summary", &summary), ("full", &full)] {
            let s = if name == "large" { secs.max(1.0) } else { secs };
            // Every iteration formats a distinct post (the title changes),
            // so no cache can help: these are cold figures.
            let mut n = 0u64;
            let mut fresh = || {
                n += 1;
                let mut p = post.clone();
                p.title = format!("{} {n}", p.title);
                p
            };
            let (tg, _) = measure(s, || {
                let p = fresh();
                black_box(telegram::render(black_box(&p), &feed, fmt).ok());
            });
            let mut fresh = || {
                n += 1;
                let mut p = post.clone();
                p.title = format!("{} {n}", p.title);
                p
            };
            let (dc, _) = measure(s, || {
                let p = fresh();
                black_box(discord::render(black_box(&p), &feed, fmt).ok());
            });
            let mut fresh = || {
                n += 1;
                let mut p = post.clone();
                p.title = format!("{} {n}", p.title);
                p
            };
            let (both, _) = measure(s, || {
                let p = fresh();
                black_box(telegram::render(black_box(&p), &feed, fmt).ok());
                black_box(discord::render(black_box(&p), &feed, fmt).ok());
            });
            println!(
                "| {name} | {:.1} kB | {mode} | {tg:.0} | {dc:.0} | {both:.0} | {:.0} |",
                size as f64 / 1000.0,
                1.0 / (1.0 / tg + 1.0 / dc)
            );
        }
    }
}
