//! Sources benchmark (`cargo bench --bench sources`).
//!
//! 1. Parse throughput over the fixture corpus (items/s, MB/s), plus a
//!    synthetic 200-item WordPress-like feed.
//! 2. A poll cycle of N feeds (default 10,000) served by the loopback feed
//!    server: a cold cycle (every feed 200 + parse) and a warm cycle (95%
//!    answer 304, 5% changed), with wall time, CPU time and peak RSS.
//!
//! The loopback server runs in the same process: CPU time and RSS include
//! it, so they are upper bounds for the fetcher alone.
//!
//! Options: `--feeds N`, `--concurrency N`, `--parse-secs S`, `--poll-only`
//! (skip the parse phase, so that peak RSS is the poll cycle's alone).

use std::sync::Arc;
use std::time::{Duration, Instant};

use crier::sources::{
    FeedKind, FeedSpec, FetchState, Fetcher, FetcherConfig, PollOutcome, parse_document,
};
use crier_fakes::feed::{FeedServer, Route};
use url::Url;

mod common;
use common::{arg, cpu_time, rss_kib};

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(root.join("feeds"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    paths.push(root.join("seed-wordpress-feed.xml"));
    paths.sort();
    for p in paths {
        if let Ok(bytes) = std::fs::read(&p) {
            out.push((
                p.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                bytes,
            ));
        }
    }
    out
}

/// A 200-item feed built from the seed feed's first item.
fn synthetic_feed(items: usize) -> Vec<u8> {
    let seed = fixtures()
        .into_iter()
        .find(|(n, _)| n == "seed-wordpress-feed.xml")
        .map(|(_, b)| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let Some((head, rest)) = seed.split_once("\t<item>") else {
        return Vec::new();
    };
    let Some((item, _)) = rest.split_once("</item>") else {
        return Vec::new();
    };
    let mut out = String::from(head);
    for i in 0..items {
        out.push_str("\t<item>");
        out.push_str(&item.replace("?p=48213", &format!("?p={i}")).replace(
            "japan-and-nato-pledge-to-strengthen-cooperation/</link>",
            &format!("japan-and-nato-{i}/</link>"),
        ));
        out.push_str("</item>\n");
    }
    out.push_str("</channel>\n</rss>\n");
    out.into_bytes()
}

fn bench_parse(secs: u64) {
    let base = Url::parse("https://bench.example/feed.xml").expect("url");
    let corpus: Vec<(String, Vec<u8>)> = fixtures()
        .into_iter()
        .filter(|(_, b)| parse_document(b, None, &base).is_ok())
        .collect();
    let run = |label: &str, docs: &[Vec<u8>]| {
        let total_bytes: usize = docs.iter().map(Vec::len).sum();
        let start = Instant::now();
        let (mut items, mut bytes, mut rounds) = (0usize, 0usize, 0usize);
        while start.elapsed() < Duration::from_secs(secs) {
            for d in docs {
                if let Ok(doc) = parse_document(d, None, &base) {
                    items += doc.items.len();
                }
            }
            bytes += total_bytes;
            rounds += 1;
        }
        let el = start.elapsed().as_secs_f64();
        println!(
            "parse {label}: {} docs x {rounds} rounds, {:.0} items/s, {:.1} MB/s, {:.1} µs/doc",
            docs.len(),
            items as f64 / el,
            bytes as f64 / el / 1e6,
            el * 1e6 / (rounds * docs.len()) as f64
        );
    };
    let docs: Vec<Vec<u8>> = corpus.iter().map(|(_, b)| b.clone()).collect();
    run("fixture corpus", &docs);
    let synthetic = synthetic_feed(200);
    run(
        "synthetic 200-item WordPress feed",
        std::slice::from_ref(&synthetic),
    );
    // Reference: feed-rs alone (no identity, HTML resolving, hashing).
    let start = Instant::now();
    let mut rounds = 0usize;
    while start.elapsed() < Duration::from_secs(secs) {
        let _ = feed_rs::parser::parse(synthetic.as_slice());
        rounds += 1;
    }
    let el = start.elapsed().as_secs_f64();
    println!(
        "parse synthetic 200-item feed with feed-rs alone: {:.0} items/s, {:.1} MB/s",
        (rounds * 200) as f64 / el,
        (rounds * synthetic.len()) as f64 / el / 1e6
    );
}

async fn cycle(
    fetcher: &Arc<Fetcher>,
    specs: &Arc<Vec<FeedSpec>>,
    states: &mut [FetchState],
    concurrency: usize,
) -> (Duration, Duration, usize, usize, usize) {
    let sem = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let cpu0 = cpu_time();
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(specs.len());
    for (i, st) in states.iter().enumerate() {
        let (fetcher, specs, sem, st) = (fetcher.clone(), specs.clone(), sem.clone(), st.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = sem.acquire_owned().await.ok();
            // What the core would do: consume the items (here: count them)
            // and keep only the new state, as soon as the poll returns.
            match fetcher.poll(&specs[i], &st).await {
                Ok(PollOutcome::NotModified { state }) => Ok((true, 0, state)),
                Ok(PollOutcome::Items { items, state, .. }) => Ok((false, items.len(), state)),
                Err(e) => Err(e),
            }
        }));
    }
    let (mut not_modified, mut parsed_items, mut errors) = (0, 0, 0);
    for (i, t) in tasks.into_iter().enumerate() {
        match t.await {
            Ok(Ok((nm, n, state))) => {
                if nm {
                    not_modified += 1;
                }
                parsed_items += n;
                states[i] = state;
            }
            Ok(Err(e)) => {
                if errors < 3 {
                    eprintln!("feed {i}: {e}");
                }
                errors += 1;
            }
            Err(_) => errors += 1,
        }
    }
    (
        start.elapsed(),
        cpu_time() - cpu0,
        not_modified,
        parsed_items,
        errors,
    )
}

async fn bench_poll(feeds: usize, concurrency: usize) {
    let listeners = 16;
    let server = FeedServer::start_with_listeners(listeners)
        .await
        .expect("server");
    let seed = fixtures()
        .into_iter()
        .find(|(n, _)| n == "seed-wordpress-feed.xml")
        .map(|(_, b)| bytes::Bytes::from(b))
        .unwrap_or_default();
    let changed = bytes::Bytes::from(
        String::from_utf8_lossy(&seed)
            .replace(
                "Harris sends clear message",
                "Harris sends a clearer message",
            )
            .into_bytes(),
    );
    let route = Route::feed(seed.clone());
    let mut specs = Vec::with_capacity(feeds);
    for i in 0..feeds {
        let path = format!("/f/{i}.xml");
        server.set(&path, route.clone());
        let url = Url::parse(&format!("{}{}", server.base(i), path)).expect("url");
        let mut spec = FeedSpec::new(format!("feed-{i}"), url);
        spec.kind = FeedKind::Feed;
        specs.push(spec);
    }
    let specs = Arc::new(specs);
    let fetcher = Arc::new(
        Fetcher::new(FetcherConfig {
            per_host_concurrency: 8,
            ..FetcherConfig::default()
        })
        .expect("fetcher"),
    );
    let mut states = vec![FetchState::default(); feeds];
    println!(
        "poll: {feeds} feeds on {listeners} loopback listeners, {concurrency} polls in flight, per-host limit 8"
    );
    let (wall, cpu, nm, items, errors) = cycle(&fetcher, &specs, &mut states, concurrency).await;
    println!(
        "poll cold cycle (all 200, all parsed): wall {:.2}s, cpu {:.2}s, {nm} not modified, {items} items, {errors} errors, RSS now {} MiB",
        wall.as_secs_f64(),
        cpu.as_secs_f64(),
        rss_kib("VmRSS:") / 1024
    );
    // 5% of the feeds change; the rest answer 304.
    let changed_route = Route::feed(changed);
    for i in (0..feeds).step_by(20) {
        server.set(&format!("/f/{i}.xml"), changed_route.clone());
    }
    let (wall, cpu, nm, items, errors) = cycle(&fetcher, &specs, &mut states, concurrency).await;
    println!(
        "poll warm cycle (95% 304, 5% changed): wall {:.2}s, cpu {:.2}s, {nm} not modified, {items} items, {errors} errors, server 304s {}",
        wall.as_secs_f64(),
        cpu.as_secs_f64(),
        server.not_modified_count()
    );
    println!(
        "peak RSS (VmHWM, whole process incl. loopback server): {} MiB",
        rss_kib("VmHWM:") / 1024
    );
}

fn main() {
    // `cargo bench` passes `--bench`; ignore unknown args.
    let feeds = arg("--feeds", 10_000) as usize;
    let concurrency = arg("--concurrency", 128) as usize;
    let parse_secs = arg("--parse-secs", 3);
    let skip_parse = std::env::args().any(|a| a == "--poll-only");
    println!(
        "sources bench: {} cores",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    if !skip_parse {
        bench_parse(parse_secs);
    }
    println!(
        "RSS after parse phase: {} MiB (peak {} MiB)",
        rss_kib("VmRSS:") / 1024,
        rss_kib("VmHWM:") / 1024
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(bench_poll(feeds, concurrency));
}
