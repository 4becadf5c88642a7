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
        let steady = match (sends.iter().min(), sends.iter().max()) {
            (Some(a), Some(b)) if b > a => (sends.len() - 1) as f64 / (*b - *a).as_secs_f64(),
            _ => 0.0,
        };
        println!("telegram: {total} deliveries to {chats} channels ({per_chat} each), default limits");
        println!(
            "  wall {:.1}s → {:.1} deliveries/s; sending rate {steady:.2}/s ({:.1} % of 30/s; first to last send at the fake); CPU {:.2}s → {:.2} ms per delivery (incl. the in-process fake); {} requests, {} answered 429; peak RSS {} MiB",
            wall.as_secs_f64(),
            total as f64 / wall.as_secs_f64(),
            steady * 100.0 / 30.0,
            cpu.as_secs_f64(),
            cpu.as_secs_f64() * 1000.0 / total as f64,
            requests.len(),
            r429,
            rss_kib("VmHWM:") / 1024
        );
    });
}
