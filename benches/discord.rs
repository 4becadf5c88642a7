//! Discord delivery benchmark (`cargo bench --bench discord`).
//!
//! The real engine (SQLite delivery log in a temporary folder, one worker
//! per target) delivers through the real Discord adapter to the loopback
//! fake Discord REST API.
//!
//! 1. **Realistic limits**: Discord's buckets as the fake models them
//!    (webhook 5 per 2 s, channel messages 5 per 5 s, 50/s global), several
//!    webhook and bot channel targets in parallel, each with a deep queue,
//!    for a fixed time: deliveries per second against the limits' ceiling,
//!    and how many answers were 429.
//! 2. **No limits**: the same targets with the fake's limits and Crier's
//!    global pacing off, a fixed number of deliveries: the adapter + engine + log throughput, and CPU
//!    time per delivery (`getrusage`; the fake runs in the same process, so
//!    it is an upper bound for Crier alone).
//!
//! Options: `--secs S` (phase 1 length, default 20), `--webhooks K`
//! (default 8), `--channels M` (default 4), `--posts N` (phase 2
//! deliveries, default 3000).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crier::config::{DeliveryConfig, Dur, OnFailure};
use crier::db::Db;
use crier::engine::{Engine, TargetRuntime};
use crier_bots::discord::ratelimit::Settings;
use crier_bots::discord::rest::RestClient;
use crier_bots::discord::{DiscordOptions, DiscordTarget};
use crier_bots::format::TargetFormat;

mod common;
use common::{arg, cpu_time, stat_cpu};
use crier_bots::{Post, Target};
use crier_fakes::discord::DiscordLimits;
use crier_fakes::{Background, FakeDiscord};
use crier_storage::{FeedState, IncomingArticle, Route, Store};
use tokio_util::sync::CancellationToken;
use url::Url;

/// CPU time of this process's threads named `name` (Linux `/proc`).
fn thread_cpu_time(name: &str) -> Duration {
    let mut total = 0.0;
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Duration::ZERO;
    };
    for t in tasks.flatten() {
        let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
        if comm.trim() == name {
            total += stat_cpu(&t.path().join("stat")).as_secs_f64();
        }
    }
    Duration::from_secs_f64(total)
}

/// A realistic article: the seed feed's first item shape (title, summary,
/// author, image, link).
fn post(i: usize) -> Post {
    Post {
        feed: "bench".into(),
        source_title: Some("Meritnews24".into()),
        title: format!("Japan and NATO pledge to strengthen cooperation, part {i}"),
        link: Some(format!("https://meritnews24.example/2023/02/01/story-{i}/")),
        summary_html: Some(
            "<p>Japan and NATO leaders pledged to strengthen cooperation in response to \
             Russia’s aggressive war in Europe and China’s growing military cooperation \
             with Russia. Japanese Prime Minister Fumio Kishida issued a joint statement \
             after talks with visiting NATO Secretary-General Jens Stoltenberg.</p>"
                .into(),
        ),
        authors: vec!["Meritnews24 Desk".into()],
        categories: vec!["World".into(), "Japan".into(), "NATO".into()],
        images: vec!["https://meritnews24.example/wp-content/uploads/2023/02/k.jpg".into()],
        published: chrono::DateTime::from_timestamp(1_675_221_164, 0),
        ..Post::default()
    }
}

struct Setup {
    fake: Background<FakeDiscord>,
    engine: Arc<Engine>,
    channels: Vec<u64>,
    _dir: tempfile::TempDir,
}

async fn setup(
    webhooks: usize,
    channels: usize,
    per_target: usize,
    limits: DiscordLimits,
    settings: Settings,
) -> Setup {
    // On a thread of its own, so that its CPU time can be told apart.
    let fake = FakeDiscord::start_background().expect("fake");
    fake.set_limits(limits);
    let rest = Arc::new(
        RestClient::new(
            &Url::parse(&fake.api_url()).expect("url"),
            Some(FakeDiscord::TOKEN.into()),
            settings,
            Duration::from_secs(30),
        )
        .expect("client"),
    );
    let format = TargetFormat {
        read_more: true,
        ..TargetFormat::default()
    };
    let mut targets: Vec<Arc<dyn Target>> = Vec::new();
    let mut shown = Vec::new();
    for i in 0..(webhooks + channels) {
        let ch = 1_300_000_000_000_000_000 + i as u64;
        fake.add_text_channel(ch);
        shown.push(ch);
        if i < webhooks {
            let hook = fake.add_webhook(ch);
            let url = Url::parse(&fake.webhook_url(&hook)).expect("url");
            targets.push(Arc::new(
                DiscordTarget::webhook(
                    format!("hook{i}"),
                    format.clone(),
                    rest.clone(),
                    &url,
                    DiscordOptions::default(),
                )
                .expect("webhook"),
            ));
        } else {
            targets.push(Arc::new(DiscordTarget::bot(
                format!("chan{i}"),
                format.clone(),
                rest.clone(),
                ch,
                DiscordOptions::default(),
            )));
        }
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Db::new(Store::open(&dir.path().join("crier.db")).expect("store"));
    let names: Vec<String> = targets.iter().map(|t| t.name().to_string()).collect();
    let batch: Vec<(IncomingArticle, Vec<Route>)> = (0..per_target)
        .map(|i| {
            let p = post(i);
            (
                IncomingArticle {
                    keys: vec![format!("guid:{i}")],
                    content_hash: format!("h{i}"),
                    title: p.title.clone(),
                    link: p.link.clone(),
                    published_at: None,
                    payload: serde_json::to_string(&p).expect("json"),
                    refresh_only: false,
                },
                names.iter().map(Route::pending).collect(),
            )
        })
        .collect();
    db.call(move |s| {
        s.ingest(
            &FeedState {
                feed: "bench".into(),
                fetch_state: "{}".into(),
                ..FeedState::default()
            },
            &batch,
            crier::clock::Clock::System.now_ms(),
        )
    })
    .await
    .expect("ingest");
    let mut map = BTreeMap::new();
    for t in targets {
        map.insert(
            t.name().to_string(),
            TargetRuntime::new(t, OnFailure::Continue),
        );
    }
    let policy = DeliveryConfig {
        retry_base: Dur(Duration::from_millis(100)),
        ..DeliveryConfig::default()
    };
    let engine = Engine::new(db.clone(), map, HashMap::new(), policy);
    Setup {
        fake,
        engine,
        channels: shown,
        _dir: dir,
    }
}

fn delivered(s: &Setup) -> usize {
    s.channels.iter().map(|c| s.fake.visible_count(*c)).sum()
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let secs = arg("--secs", 20);
    let webhooks = arg("--webhooks", 8) as usize;
    let channels = arg("--channels", 4) as usize;
    let posts = arg("--posts", 3000) as usize;

    // 1. Realistic limits, fixed time.
    let depth = (secs as usize * 3 + 10).max(20);
    let s = setup(
        webhooks,
        channels,
        depth,
        DiscordLimits::default(),
        Settings::default(),
    )
    .await;
    let stop = CancellationToken::new();
    let start = Instant::now();
    let mut workers = s.engine.spawn_workers(stop.clone());
    tokio::time::sleep(Duration::from_secs(secs)).await;
    let wall = start.elapsed();
    let per_hook: Vec<usize> = s.channels[..webhooks]
        .iter()
        .map(|c| s.fake.visible_count(*c))
        .collect();
    let per_chan: Vec<usize> = s.channels[webhooks..]
        .iter()
        .map(|c| s.fake.visible_count(*c))
        .collect();
    let n: usize = per_hook.iter().chain(&per_chan).sum();
    let requests = s.fake.requests();
    let limited = requests.iter().filter(|r| r.status == 429).count();
    stop.cancel();
    while workers.join_next().await.is_some() {}
    // Fixed windows open at the first request: in S seconds a webhook gets
    // at most 5 × ceil(S / 2) messages, a channel 5 × ceil(S / 5).
    let windows = |per: u64| secs.div_ceil(per) as usize;
    let ceiling = webhooks * 5 * windows(2) + channels * 5 * windows(5);
    println!(
        "== realistic limits: {webhooks} webhooks (5 per 2 s) + {channels} bot channels (5 per 5 s), {secs} s =="
    );
    println!(
        "delivered {n} in {:.1} s: {:.2} deliveries/s; the limits allow {ceiling} ({:.1}%)",
        wall.as_secs_f64(),
        n as f64 / wall.as_secs_f64(),
        100.0 * n as f64 / ceiling.max(1) as f64
    );
    println!("per webhook: {per_hook:?}; per channel: {per_chan:?}");
    println!("429 answers: {limited} of {} requests", requests.len());
    drop(s);

    // 2. No limits, fixed work.
    let targets = webhooks + channels;
    let per_target = posts.div_ceil(targets);
    // Crier's own global pacing (50/s) off too: this measures the cost of
    // a delivery, not a limit.
    let s = setup(
        webhooks,
        channels,
        per_target,
        DiscordLimits::unlimited(),
        Settings {
            global_per_second: 1_000_000,
            ..Settings::default()
        },
    )
    .await;
    let total = per_target * targets;
    let stop = CancellationToken::new();
    let cpu0 = cpu_time();
    let fake0 = thread_cpu_time("fake-discord");
    let start = Instant::now();
    let mut workers = s.engine.spawn_workers(stop.clone());
    while delivered(&s) < total {
        if start.elapsed() > Duration::from_secs(600) {
            println!("gave up after 600 s");
            break;
        }
        // Counting reads the fake's records without copying them (it used
        // to copy them, and this thread's CPU is counted as Crier's).
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let wall = start.elapsed();
    let cpu = cpu_time().saturating_sub(cpu0);
    let fake_cpu = thread_cpu_time("fake-discord").saturating_sub(fake0);
    stop.cancel();
    while workers.join_next().await.is_some() {}
    let n = delivered(&s);
    println!("== no limits: {targets} targets in parallel, {total} deliveries ==");
    let us = |d: Duration| d.as_secs_f64() * 1e6 / n.max(1) as f64;
    println!(
        "delivered {n} in {:.2} s: {:.0} deliveries/s",
        wall.as_secs_f64(),
        n as f64 / wall.as_secs_f64()
    );
    println!(
        "CPU: {:.2} s in all = {:.0} µs per delivery; the fake's thread {:.2} s; Crier (engine, adapter, formatter, SQLite) {:.0} µs per delivery",
        cpu.as_secs_f64(),
        us(cpu),
        fake_cpu.as_secs_f64(),
        us(cpu.saturating_sub(fake_cpu))
    );
}
