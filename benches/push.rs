//! Push benchmark (`cargo bench --bench push`): the `crier` binary with
//! two groups of feeds on the loopback fakes, in the same run — feeds a
//! WebSub hub pushes (`crier_fakes::FakeHub`, fat pings; polled hourly)
//! and feeds polled every 30 s (`push = "off"`) — all posting to the fake
//! Bot API. New articles appear in random feeds of both groups at the same
//! moments; reports appear → delivered (the delivery's `sent_at` in the
//! log) p50, p99 and max per group.
//!
//! Options: `--feeds N` per group (10), `--articles N` per group (30),
//! `--period MS` between articles (1000), `--interval S` of the polled
//! group (30).

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crier_fakes::FakeTelegram;
use crier_fakes::feed::{FeedServer, Route};
use crier_fakes::hub::FakeHub;
use crier_fakes::telegram::TelegramLimits;
use crier_storage::{Action, LogQuery, State, Store};
use rand::Rng;

mod common;
use common::arg;

const CHAT: i64 = -1_000_042;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// An RSS document (newest first) naming the hub and itself.
fn feed(items: &[(String, String)], hub: &str, topic: &str) -> String {
    let mut s = format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\"><channel><title>B</title><link>https://bench.example/</link><description>d</description><atom:link rel=\"hub\" href=\"{hub}\"/><atom:link rel=\"self\" href=\"{topic}\"/>"
    );
    for (guid, title) in items.iter().rev() {
        s.push_str(&format!(
            "<item><title>{title}</title><link>https://bench.example/{guid}</link><guid>{guid}</guid><description>Body of {title}.</description></item>"
        ));
    }
    s.push_str("</channel></rss>");
    s
}

fn main() {
    let feeds = arg("--feeds", 10).max(1) as usize;
    let articles = arg("--articles", 30).max(1);
    let period = Duration::from_millis(arg("--period", 1000).max(10));
    let interval = arg("--interval", 30).max(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (server, tg, hub) = rt.block_on(async {
        (
            FeedServer::start().await.expect("feeds"),
            FakeTelegram::start().await.expect("tg"),
            FakeHub::start().await.expect("hub"),
        )
    });
    tg.set_limits(TelegramLimits::unlimited());
    tg.add_channel(CHAT, None);
    let hub_url = hub.url();
    // (group, index) → items; group 0 pushed, 1 polled.
    let mut contents: HashMap<(usize, usize), Vec<(String, String)>> = HashMap::new();
    let path = |g: usize, i: usize| format!("/{}/{i}.xml", ["push", "poll"][g]);
    for g in 0..2 {
        for i in 0..feeds {
            let items = vec![(format!("old-{g}-{i}"), "Old".to_string())];
            let topic = server.url(&path(g, i));
            server.set(&path(g, i), Route::feed(feed(&items, &hub_url, &topic)));
            contents.insert((g, i), items);
        }
    }
    let dir = tempfile::tempdir().expect("dir");
    let port = free_port();
    let mut cfg = format!(
        "[storage]\npath = \"crier.db\"\n\n[http]\nlisten = \"127.0.0.1:{port}\"\npublic_url = \"http://127.0.0.1:{port}/\"\n\n[telegram]\ntoken = \"{}\"\napi_url = \"{}\"\nper_chat_interval = \"1ms\"\ngroup_messages_per_minute = 1000000\nmessages_per_second = 100000\n\n[[targets]]\nname = \"tg\"\nplatform = \"telegram\"\nchat = \"{CHAT}\"\n",
        FakeTelegram::TOKEN,
        tg.api_url()
    );
    for i in 0..feeds {
        cfg.push_str(&format!(
            "\n[[feeds]]\nname = \"push{i}\"\nurl = \"{}\"\ninterval = \"1h\"\ntargets = [\"tg\"]\n",
            server.url(&path(0, i))
        ));
        cfg.push_str(&format!(
            "\n[[feeds]]\nname = \"poll{i}\"\nurl = \"{}\"\ninterval = \"{interval}s\"\npush = \"off\"\ntargets = [\"tg\"]\n",
            server.url(&path(1, i))
        ));
    }
    std::fs::write(dir.path().join("config.toml"), cfg).expect("config");
    let mut child = Command::new(env!("CARGO_BIN_EXE_crier"))
        .args(["run", "--config"])
        .arg(dir.path().join("config.toml"))
        .env("RUST_LOG", "crier=warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn crier");
    let pid = child.id();

    let start = Instant::now();
    while hub.subscriptions().len() < feeds && start.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(100));
    }
    println!(
        "push: {feeds} pushed feeds (hub, fat pings) vs {feeds} polled every {interval}s; {articles} articles per group, one per group every {} ms",
        period.as_millis()
    );
    println!(
        "  subscribed: {} of {feeds} in {:.1}s",
        hub.subscriptions().len(),
        start.elapsed().as_secs_f64()
    );
    // Let the polled group's baseline polls pass.
    std::thread::sleep(Duration::from_secs(2));

    let mut appeared: HashMap<String, i64> = HashMap::new();
    let mut rng = rand::rng();
    for n in 0..articles {
        for g in 0..2 {
            let i = rng.random_range(0..feeds);
            let title = format!("{} {n:05}", ["Pushed", "Polled"][g]);
            let items = contents.get_mut(&(g, i)).expect("feed");
            items.push((format!("{g}-{i}-{n}"), title.clone()));
            if items.len() > 20 {
                items.remove(0);
            }
            let topic = server.url(&path(g, i));
            let doc = feed(items, &hub_url, &topic);
            server.set(&path(g, i), Route::feed(doc.clone()));
            appeared.insert(title, chrono::Utc::now().timestamp_millis());
            if g == 0 {
                rt.block_on(hub.publish(&topic, &doc, "application/rss+xml"));
            }
        }
        std::thread::sleep(period);
    }
    // Let the last polled articles arrive.
    std::thread::sleep(Duration::from_secs(interval + interval / 5 + 5));
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let _ = child.wait();

    let store = Store::open(&dir.path().join("crier.db")).expect("db");
    let rows = store
        .log(&LogQuery {
            limit: 1_000_000,
            state: Some(State::Sent),
            ..LogQuery::default()
        })
        .expect("log");
    let mut lat: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    for e in rows
        .iter()
        .filter(|e| e.delivery.action == Action::Post && e.delivery.part == 0)
    {
        let (Some(a), Some(sent)) = (appeared.get(&e.title), e.delivery.sent_at) else {
            continue;
        };
        let g = usize::from(e.title.starts_with("Polled"));
        lat[g].push((sent - a) as f64 / 1000.0);
    }
    let names = [
        "pushed (WebSub)".to_string(),
        format!("polled (every {interval}s)"),
    ];
    for (g, name) in names.iter().enumerate() {
        let v = &mut lat[g];
        v.sort_by(|a, b| a.total_cmp(b));
        println!(
            "  {name:<20} appear → delivered: p50 {:.2}s, p99 {:.2}s, max {:.2}s ({} of {articles} delivered)",
            percentile(v, 0.5),
            percentile(v, 0.99),
            v.last().copied().unwrap_or(0.0),
            v.len()
        );
    }
    drop(hub);
    drop(tg);
    drop(server);
}
