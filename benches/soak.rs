//! Soak benchmark (`cargo bench --bench soak`): the `crier` binary watching
//! 1,000 feeds routed to 5 targets (2 Telegram channels, 2 Discord
//! channels, 1 webhook) on the loopback fakes, with new articles appearing
//! in random feeds for the whole run. The fakes are not rate-limited, so
//! the latency is Crier's own.
//!
//! Reports the process's idle RSS (all feeds polled once, nothing new),
//! peak RSS, CPU time, deliveries/s, and the latency from an article
//! appearing in its feed to its delivery (p50, p99, max), to compare with
//! the poll interval.
//!
//! Options: `--secs N` (600), `--feeds N` (1000), `--interval-secs N` (30),
//! `--articles-per-sec N` (2).

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crier_fakes::discord::DiscordLimits;
use crier_fakes::feed::{FeedServer, Route};
use crier_fakes::telegram::TelegramLimits;
use crier_fakes::{FakeDiscord, FakeTelegram};
use crier_storage::{Action, LogQuery, State, Store};
use rand::Rng;

mod common;
use common::{arg, stat_cpu, status_kib};

fn proc_status(pid: u32, field: &str) -> u64 {
    status_kib(&format!("/proc/{pid}/status"), field)
}

/// User + system CPU seconds of a process.
fn proc_cpu(pid: u32) -> f64 {
    stat_cpu(std::path::Path::new(&format!("/proc/{pid}/stat"))).as_secs_f64()
}

fn item(guid: &str, title: &str, secs: i64) -> String {
    let when = chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.to_rfc2822())
        .unwrap_or_default();
    format!(
        "<item><title>{title}</title><link>https://soak.example/{guid}</link><guid isPermaLink=\"false\">{guid}</guid><pubDate>{when}</pubDate><description><![CDATA[<p>Body of {title}, a typical summary with <b>some</b> formatting.</p>]]></description></item>"
    )
}

fn feed(items: &[String]) -> String {
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Soak</title><link>https://soak.example/</link><description>d</description>{}</channel></rss>",
        items.iter().rev().cloned().collect::<String>()
    )
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let secs = arg("--secs", 600);
    let feeds = arg("--feeds", 1000) as usize;
    let interval = arg("--interval-secs", 30);
    let rate = arg("--articles-per-sec", 2).max(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (server, tg, dc) = rt.block_on(async {
        (
            FeedServer::start_with_listeners(8).await.expect("feeds"),
            FakeTelegram::start().await.expect("tg"),
            FakeDiscord::start().await.expect("dc"),
        )
    });
    tg.set_limits(TelegramLimits::unlimited());
    dc.set_limits(DiscordLimits::unlimited());
    tg.add_channel(-1_001, None);
    tg.add_channel(-1_002, None);
    dc.add_text_channel(1_300_000_000_000_000_001);
    dc.add_text_channel(1_300_000_000_000_000_002);
    dc.add_text_channel(1_300_000_000_000_000_003);
    let hook = dc.add_webhook(1_300_000_000_000_000_003);

    // Every feed starts with 5 items (the baseline: not posted).
    let base = 1_700_000_000i64;
    let mut contents: Vec<Vec<String>> = (0..feeds)
        .map(|f| {
            (0..5)
                .map(|i| item(&format!("f{f}-old{i}"), &format!("Old {f}/{i}"), base + i))
                .collect()
        })
        .collect();
    for (f, c) in contents.iter().enumerate() {
        server.set(&format!("/f/{f}.xml"), Route::feed(feed(c)));
    }

    let dir = tempfile::tempdir().expect("dir");
    let mut cfg = format!(
        r#"
[telegram]
token = "{}"
api_url = "{}"
per_chat_interval = "1ms"
group_messages_per_minute = 1000000
messages_per_second = 100000

[discord]
token = "{}"
api_url = "{}"

[sources]
concurrency = 64
per_host_concurrency = 16

[[targets]]
name = "tg1"
platform = "telegram"
chat = "-1001"

[[targets]]
name = "tg2"
platform = "telegram"
chat = "-1002"

[[targets]]
name = "dc1"
platform = "discord"
channel = 1300000000000000001

[[targets]]
name = "dc2"
platform = "discord"
channel = 1300000000000000002

[[targets]]
name = "hook"
platform = "discord_webhook"
webhook_url = "{}"
"#,
        FakeTelegram::TOKEN,
        tg.api_url(),
        FakeDiscord::TOKEN,
        dc.api_url(),
        dc.webhook_url(&hook)
    );
    for f in 0..feeds {
        cfg.push_str(&format!(
            "\n[[feeds]]\nname = \"f{f}\"\nurl = \"{}\"\ninterval = \"{interval}s\"\ntargets = [\"tg1\", \"tg2\", \"dc1\", \"dc2\", \"hook\"]\n",
            server.url(&format!("/f/{f}.xml"))
        ));
    }
    std::fs::write(dir.path().join("config.toml"), cfg).expect("config");

    let mut child: Child = Command::new(env!("CARGO_BIN_EXE_crier"))
        .args(["run", "--config"])
        .arg(dir.path().join("config.toml"))
        .env("RUST_LOG", "crier=warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn crier");
    let pid = child.id();

    // Idle: wait until every feed has been polled once (its baseline).
    let start = Instant::now();
    while server.total_hits() < feeds as u64 && start.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(5));
    let idle_rss = proc_status(pid, "VmRSS:");
    let cpu0 = proc_cpu(pid);
    println!(
        "soak: {feeds} feeds × 5 targets, poll every {interval}s, {rate} new articles/s for {secs}s"
    );
    println!(
        "  idle (all {feeds} feeds polled, nothing new): RSS {:.1} MiB",
        idle_rss as f64 / 1024.0
    );

    // Activity: new articles appear in random feeds.
    let appeared: Arc<Mutex<HashMap<String, i64>>> = Arc::default();
    let t0 = Instant::now();
    let mut n = 0u64;
    let mut rng = rand::rng();
    let mut max_rss = idle_rss;
    while t0.elapsed() < Duration::from_secs(secs) {
        let f = rng.random_range(0..feeds);
        n += 1;
        let title = format!("Soak {n:06}");
        let guid = format!("f{f}-n{n}");
        contents[f].push(item(&guid, &title, base + 1000 + n as i64));
        if contents[f].len() > 20 {
            contents[f].remove(0);
        }
        server.set(&format!("/f/{f}.xml"), Route::feed(feed(&contents[f])));
        appeared
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(title, chrono::Utc::now().timestamp_millis());
        max_rss = max_rss.max(proc_status(pid, "VmRSS:"));
        std::thread::sleep(Duration::from_millis(1000 / rate));
    }
    // Let the last articles be polled and delivered.
    std::thread::sleep(Duration::from_secs(interval + interval / 5 + 5));
    let active = t0.elapsed();
    let cpu = proc_cpu(pid) - cpu0;
    let peak = proc_status(pid, "VmHWM:");
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let _ = child.wait();

    let store = Store::open(&dir.path().join("crier.db")).expect("db");
    let rows = store
        .log(&LogQuery {
            limit: 10_000_000,
            state: Some(State::Sent),
            ..LogQuery::default()
        })
        .expect("log");
    let appeared = appeared.lock().unwrap_or_else(|p| p.into_inner());
    let mut lat: Vec<f64> = rows
        .iter()
        .filter(|e| e.delivery.action == Action::Post && e.delivery.part == 0)
        .filter_map(|e| {
            let a = appeared.get(&e.title)?;
            Some((e.delivery.sent_at? - a) as f64 / 1000.0)
        })
        .collect();
    lat.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let expected = appeared.len() * 5;
    println!(
        "  {} of {expected} deliveries in {:.0}s → {:.1} deliveries/s; CPU {:.1}s ({:.2} ms per delivery); peak RSS {:.1} MiB (max sampled {:.1} MiB)",
        lat.len(),
        active.as_secs_f64(),
        lat.len() as f64 / active.as_secs_f64(),
        cpu,
        cpu * 1000.0 / lat.len().max(1) as f64,
        peak as f64 / 1024.0,
        max_rss as f64 / 1024.0
    );
    println!(
        "  appear → delivered: p50 {:.1}s, p99 {:.1}s, max {:.1}s (poll interval {interval}s, jittered down ≤ 10%; target p99 < {}s)",
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        lat.last().copied().unwrap_or(0.0),
        interval + 2
    );
    println!(
        "  polls answered: {} ({} not modified)",
        server.total_hits(),
        server.not_modified_count()
    );
    drop(tg);
    drop(dc);
}
