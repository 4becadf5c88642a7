//! Telegram delivery benchmark (`cargo bench --bench telegram`).
//!
//! Deliveries per second to 50 channels through the fake Bot API with
//! Telegram's default flood limits on both sides (1 message/s per chat,
//! 20/min per channel, 30/s for the bot): the figure should be
//! limit-bound, near 30/s, with no 429. Also CPU time per delivery (the
//! fake runs in the same process, so it is an upper bound).
//!
//! Options: `--chats N` (50), `--per-chat N` (12).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crier::config::DeliveryConfig;
use crier::db::Db;
use crier::engine::{Engine, TargetRuntime};
use crier_bots::Post;
use crier_bots::format::TargetFormat;
use crier_bots::telegram::{Limits, TelegramClient, TelegramOptions, TelegramTarget};
use crier_fakes::FakeTelegram;
use crier_storage::{FeedState, IncomingArticle, LogQuery, Route, State, Store};
use tokio_util::sync::CancellationToken;

mod common;
use common::{arg, cpu_time, rss_kib};

fn main() {
    let chats = arg("--chats", 50) as i64;
    let per_chat = arg("--per-chat", 12) as usize;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let tg = FakeTelegram::start().await.expect("fake");
        let dir = tempfile::tempdir().expect("dir");
        let db = Db::new(Store::open(&dir.path().join("bench.db")).expect("db"));
        let client = TelegramClient::new(
            FakeTelegram::TOKEN,
            &tg.api_url().parse().expect("url"),
            Limits::default(),
            Duration::from_secs(30),
        )
        .expect("client");
        let mut targets = BTreeMap::new();
        let names: Vec<String> = (0..chats).map(|i| format!("chat{i}")).collect();
        for (i, name) in names.iter().enumerate() {
            let chat = -1_002_000_000_000 - i as i64;
            tg.add_channel(chat, None);
            let t = TelegramTarget::new(
                name.clone(),
                client.clone(),
                TelegramOptions {
                    chat: chat.to_string(),
                    ..TelegramOptions::default()
                },
                TargetFormat::default(),
            );
            targets.insert(
                name.clone(),
                TargetRuntime::new(Arc::new(t), crier::config::OnFailure::Continue),
            );
        }
        // per_chat articles, each routed to every chat.
        let batch: Vec<(IncomingArticle, Vec<Route>)> = (0..per_chat)
            .map(|i| {
                let post = Post {
                    feed: "bench".into(),
                    title: format!("Benchmark story {i}"),
                    link: Some(format!("https://bench.example/{i}")),
                    summary_html: Some(format!("<p>A typical summary of story {i}, with <b>some</b> formatting and a <a href=\"https://bench.example/x\">link</a>.</p>")),
                    categories: vec!["World".into(), "Tech".into()],
                    ..Post::default()
                };
                (
                    IncomingArticle {
                        keys: vec![format!("guid:{i}")],
                        content_hash: format!("{i}"),
                        title: post.title.clone(),
                        link: post.link.clone(),
                        published_at: None,
                        payload: serde_json::to_string(&post).expect("json"),
                        refresh_only: false,
                    },
                    names.iter().map(|n| Route::pending(n.clone())).collect(),
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
                0,
            )
        })
        .await
        .expect("ingest");
        let total = chats as usize * per_chat;
        let engine = Engine::new(db.clone(), targets, HashMap::new(), DeliveryConfig::default());
        let shutdown = CancellationToken::new();
        let cpu0 = cpu_time();
        let start = Instant::now();
        let mut workers = engine.spawn_workers(shutdown.clone());
        loop {
            let sent = db
                .call(|s| {
                    s.log(&LogQuery {
                        limit: 1_000_000,
                        state: Some(State::Sent),
                        ..LogQuery::default()
                    })
                })
                .await
                .expect("log")
                .len();
            if sent >= total {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let wall = start.elapsed();
        let cpu = cpu_time() - cpu0;
        shutdown.cancel();
        while workers.join_next().await.is_some() {}
        let requests = tg.requests();
        let r429 = requests.iter().filter(|r| r.status == 429).count();
        // The sending rate itself, from the fake's clock: first to last
        // accepted send (start-up and the log polling not counted).
        let sends: Vec<Duration> = requests
            .iter()
            .filter(|r| r.status == 200 && r.name.eq_ignore_ascii_case("SendMessage"))
            .map(|r| r.elapsed)
            .collect();
        let span = match (sends.iter().min(), sends.iter().max()) {
            (Some(a), Some(b)) => *b - *a,
            _ => Duration::ZERO,
        };
        let steady = if span.is_zero() {
            0.0
        } else {
            (sends.len() - 1) as f64 / span.as_secs_f64()
        };
        // First to last overstates a bursty sender (30 at once, then none
        // for a second): against the limit, n sends need at least
        // ⌈n/30⌉ - 1 seconds from first to last; the share of the allowed
        // rate is that over the span measured.
        let least = (sends.len().div_ceil(30).max(1) - 1) as f64;
        let share = if span.is_zero() {
            0.0
        } else {
            least / span.as_secs_f64()
        };
        if arg("--timeline", 0) != 0 {
            timeline(&requests);
        }
        println!("telegram: {total} deliveries to {chats} channels ({per_chat} each), default limits");
        println!(
            "  wall {:.1}s → {:.1} deliveries/s; sends from first to last at the fake {:.2}s ({steady:.2}/s): {:.1} % of the allowed rate (= {:.2}/s; the limit needs {least:.0}s); CPU {:.2}s → {:.2} ms per delivery (incl. the in-process fake); {} requests, {} answered 429; peak RSS {} MiB",
            wall.as_secs_f64(),
            total as f64 / wall.as_secs_f64(),
            span.as_secs_f64(),
            share * 100.0,
            share * 30.0,
            cpu.as_secs_f64(),
            cpu.as_secs_f64() * 1000.0 / total as f64,
            requests.len(),
            r429,
            rss_kib("VmHWM:") / 1024
        );
    });
}

/// Where the time went, from the fake's log of accepted sends (`--timeline 1`).
fn timeline(requests: &[crier_fakes::RequestRecord]) {
    let mut sends: Vec<(Duration, String)> = requests
        .iter()
        .filter(|r| r.status == 200 && r.name.eq_ignore_ascii_case("SendMessage"))
        .map(|r| (r.elapsed, r.target.clone().unwrap_or_default()))
        .collect();
    sends.sort();
    let Some(t0) = sends.first().map(|s| s.0) else {
        return;
    };
    let ms = |d: Duration| (d.saturating_sub(t0)).as_secs_f64() * 1000.0;
    // Sends per second of the run.
    let mut per_sec: BTreeMap<u64, usize> = BTreeMap::new();
    for (t, _) in &sends {
        *per_sec.entry((*t - t0).as_secs()).or_default() += 1;
    }
    println!("  sends per second: {per_sec:?}");
    // Each chat's last send: when the chats run out of work.
    let mut last: HashMap<&str, Duration> = HashMap::new();
    let mut count: HashMap<&str, usize> = HashMap::new();
    for (t, c) in &sends {
        last.insert(c, *t);
        *count.entry(c).or_default() += 1;
    }
    let mut finish: Vec<f64> = last.values().map(|t| ms(*t)).collect();
    finish.sort_by(f64::total_cmp);
    println!(
        "  chats finish at (ms): first {:.0}, median {:.0}, last {:.0}; deciles {:?}",
        finish[0],
        finish[finish.len() / 2],
        finish[finish.len() - 1],
        (1..10)
            .map(|i| finish[i * finish.len() / 10] as u64)
            .collect::<Vec<_>>()
    );
    // Slack: how much longer than the 1 s window each run of 31 sends
    // took (0 if the bot's window is used in full).
    let slack: Vec<f64> = sends
        .windows(31)
        .map(|w| ms(w[30].0) - ms(w[0].0) - 1000.0)
        .collect();
    if !slack.is_empty() {
        let mut s = slack.clone();
        s.sort_by(f64::total_cmp);
        println!(
            "  31 consecutive sends span 1 s + (ms): min {:.1}, median {:.1}, p90 {:.1}, max {:.1}",
            s[0],
            s[s.len() / 2],
            s[s.len() * 9 / 10],
            s[s.len() - 1]
        );
    }
    // Gaps between consecutive sends.
    let mut gaps: Vec<f64> = sends.windows(2).map(|w| ms(w[1].0) - ms(w[0].0)).collect();
    gaps.sort_by(f64::total_cmp);
    let big: f64 = gaps.iter().filter(|g| **g > 50.0).sum();
    println!(
        "  gaps between sends (ms): median {:.2}, p90 {:.2}, p99 {:.2}, max {:.1}; {} gaps > 50 ms totalling {:.0} ms",
        gaps[gaps.len() / 2],
        gaps[gaps.len() * 9 / 10],
        gaps[gaps.len() * 99 / 100],
        gaps[gaps.len() - 1],
        gaps.iter().filter(|g| **g > 50.0).count(),
        big
    );
    // Per-chat gaps: a chat sending again after ~1 s is bound by its own
    // limit, not the bot's.
    let mut by_chat: HashMap<&str, Vec<Duration>> = HashMap::new();
    for (t, c) in &sends {
        by_chat.entry(c).or_default().push(*t);
    }
    let mut cg: Vec<f64> = by_chat
        .values()
        .flat_map(|v| {
            v.windows(2)
                .map(|w| (w[1] - w[0]).as_secs_f64() * 1000.0)
                .collect::<Vec<_>>()
        })
        .collect();
    cg.sort_by(f64::total_cmp);
    println!(
        "  per-chat gaps (ms): min {:.0}, p10 {:.0}, median {:.0}, p90 {:.0}, max {:.0}; {} of {} under 1.1 s",
        cg[0],
        cg[cg.len() / 10],
        cg[cg.len() / 2],
        cg[cg.len() * 9 / 10],
        cg[cg.len() - 1],
        cg.iter().filter(|g| **g < 1100.0).count(),
        cg.len()
    );
}
