//! Several `crier run` instances on one PostgreSQL database
//! (`cargo bench --bench shared`): deliveries/s and polls/s with 1, 2 and
//! 3 instances against the fakes (a loopback feed server, a fake Discord
//! with one webhook per target: each webhook is its own sender, so the
//! targets can spread over the instances).
//!
//! Each case starts the release binary `k` times on a fresh schema, with
//! `--feeds` feeds of `--items` new articles each routed to every one of
//! `--hooks` webhooks (backfill: all are posted), plus `--poll-feeds`
//! feeds with nothing new, all polled every second. It reports the
//! deliveries per second (first to last `sent_at` in the log), then the
//! polls per second over 10 s once everything is delivered, the instances'
//! CPU, and how many requests the fake answered 429.
//!
//! `--limits 1` keeps the fake's Discord webhook limits (5 per 2 s per
//! webhook) and Crier's pacing: the figure must be limit-bound with no
//! 429. Without it the fake enforces no limit.
//!
//! Options: `--instances 123` (the counts to run, as digits), `--feeds 50`,
//! `--items 4`, `--hooks 12`, `--poll-feeds 1000`, `--limits 0`.
//! Needs PostgreSQL at `CRIER_TEST_POSTGRES_URL` (default
//! postgres://postgres@127.0.0.1:5432/test); says so and stops without.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crier_fakes::FakeDiscord;
use crier_fakes::discord::DiscordLimits;
use crier_fakes::feed::{FeedServer, Route};

mod common;
use common::{arg, stat_cpu};

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

fn rss(feed: usize, items: usize) -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Bench</title><link>https://example.com/</link>",
    );
    for i in 0..items {
        s.push_str(&format!(
            "<item><title>Feed {feed} story {i}</title><link>https://example.com/{feed}/{i}</link><guid>f{feed}-{i}</guid><pubDate>Sat, 05 Dec 2026 10:{:02}:00 GMT</pubDate><description>Story {i} of feed {feed}: a short summary.</description></item>",
            i % 60
        ));
    }
    s.push_str("</channel></rss>");
    s
}

struct Case {
    instances: usize,
    feeds: usize,
    items: usize,
    hooks: usize,
    poll_feeds: usize,
    limits: bool,
}

fn main() {
    let counts: Vec<usize> = arg("--instances", 123)
        .to_string()
        .chars()
        .filter_map(|c| c.to_digit(10).map(|d| d as usize))
        .filter(|&d| d > 0)
        .collect();
    let base = std::env::var("CRIER_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_URL.into());
    let mut admin = match postgres::Client::connect(&base, postgres::NoTls) {
        Ok(c) => c,
        Err(e) => {
            println!(
                "shared: skipped: no PostgreSQL at {DEFAULT_URL} ({e}); set CRIER_TEST_POSTGRES_URL"
            );
            return;
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    for k in counts {
        let case = Case {
            instances: k,
            feeds: arg("--feeds", 50) as usize,
            items: arg("--items", 4) as usize,
            hooks: arg("--hooks", 12) as usize,
            poll_feeds: arg("--poll-feeds", 1000) as usize,
            limits: arg("--limits", 0) == 1,
        };
        run(&rt, &mut admin, &base, &case);
    }
}

fn run(rt: &tokio::runtime::Runtime, admin: &mut postgres::Client, base: &str, c: &Case) {
    let schema = format!("crier_bench_{}_{}", std::process::id(), c.instances);
    admin
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .expect("create schema");
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
    let (server, dc) = rt.block_on(async {
        (
            FeedServer::start().await.expect("feed server"),
            FakeDiscord::start().await.expect("fake discord"),
        )
    });
    if !c.limits {
        dc.set_limits(DiscordLimits {
            create_message: None,
            edit_message: None,
            delete_message: None,
            webhook: None,
            crosspost: None,
            other: None,
            ..DiscordLimits::default()
        });
    }
    let dir = tempfile::tempdir().expect("dir");
    let mut cfg = format!(
        "[storage]\nurl = \"{url}\"\nlease = \"6s\"\n\n[discord]\ntoken = \"{}\"\napi_url = \"{}\"\n\n[sources]\nconcurrency = 64\nper_host_concurrency = 64\n\n[delivery]\nrecheck = \"1s\"\n",
        FakeDiscord::TOKEN,
        dc.api_url()
    );
    let names: Vec<String> = (0..c.hooks).map(|h| format!("\"hook{h}\"")).collect();
    for h in 0..c.hooks {
        let channel = 1_400_000_000_000_000_000 + h as u64;
        dc.add_text_channel(channel);
        let hook = dc.add_webhook(channel);
        cfg.push_str(&format!(
            "\n[[targets]]\nname = \"hook{h}\"\nplatform = \"discord_webhook\"\nwebhook_url = \"{}\"\n",
            dc.webhook_url(&hook)
        ));
    }
    for f in 0..c.feeds {
        server.set(&format!("/d/{f}.xml"), Route::feed(rss(f, c.items)));
        cfg.push_str(&format!(
            "\n[[feeds]]\nname = \"d{f}\"\nurl = \"{}\"\ninterval = \"1s\"\nbackfill = {}\ntargets = [{}]\n",
            server.url(&format!("/d/{f}.xml")),
            c.items,
            names.join(", ")
        ));
    }
    for f in 0..c.poll_feeds {
        server.set(&format!("/p/{f}.xml"), Route::feed(rss(100_000 + f, 1)));
        cfg.push_str(&format!(
            "\n[[feeds]]\nname = \"p{f}\"\nurl = \"{}\"\ninterval = \"1s\"\ntargets = [\"hook0\"]\n",
            server.url(&format!("/p/{f}.xml"))
        ));
    }
    let config = dir.path().join("config.toml");
    std::fs::write(&config, cfg).expect("config");
    let expected = (c.feeds * c.items * c.hooks) as i64;
    let t0 = Instant::now();
    let mut children: Vec<Child> = (0..c.instances)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_crier"))
                .args(["run", "--config"])
                .arg(&config)
                .env("RUST_LOG", "crier=warn")
                .stdout(Stdio::null())
                // CRIER_BENCH_LOG=1 shows the instances' warnings.
                .stderr(if std::env::var_os("CRIER_BENCH_LOG").is_some() {
                    Stdio::inherit()
                } else {
                    Stdio::null()
                })
                .spawn()
                .expect("spawn crier")
        })
        .collect();
    let sent = |admin: &mut postgres::Client| -> i64 {
        admin
            .query_one(
                &format!("SELECT COUNT(*) FROM {schema}.deliveries WHERE state = 'sent'"),
                &[],
            )
            .map(|r| r.get::<_, i64>(0))
            .unwrap_or(0)
    };
    let deadline = Instant::now() + Duration::from_secs(900);
    while sent(admin) < expected && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let wall = t0.elapsed();
    let got = sent(admin);
    let (first, last): (Option<i64>, Option<i64>) = admin
        .query_one(
            &format!(
                "SELECT MIN(sent_at), MAX(sent_at) FROM {schema}.deliveries WHERE state = 'sent'"
            ),
            &[],
        )
        .map(|r| (r.get(0), r.get(1)))
        .unwrap_or((None, None));
    let span = (last.unwrap_or(0) - first.unwrap_or(0)).max(1) as f64 / 1000.0;
    let holders: i64 = admin
        .query_one(
            &format!("SELECT COUNT(DISTINCT holder) FROM {schema}.leases WHERE scope = 'target' AND expires_at > 0"),
            &[],
        )
        .map(|r| r.get(0))
        .unwrap_or(0);
    // Polls: every feed once a second, over 10 s, once all is delivered
    // and every feed was polled at least once (start-up is not counted).
    let all_feeds = (c.feeds + c.poll_feeds) as u64;
    while server.total_hits() < all_feeds && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let hits0 = server.total_hits();
    let cpu0: Duration = children
        .iter()
        .map(|ch| stat_cpu(std::path::Path::new(&format!("/proc/{}/stat", ch.id()))))
        .sum();
    let p0 = Instant::now();
    std::thread::sleep(Duration::from_secs(10));
    let polls = (server.total_hits() - hits0) as f64 / p0.elapsed().as_secs_f64();
    let cpu1: Duration = children
        .iter()
        .map(|ch| stat_cpu(std::path::Path::new(&format!("/proc/{}/stat", ch.id()))))
        .sum();
    let poll_cpu = (cpu1 - cpu0).as_secs_f64() / p0.elapsed().as_secs_f64();
    let throttled = dc.requests().iter().filter(|r| r.status == 429).count();
    println!(
        "shared: {} instance(s), {} limits: {got}/{expected} deliveries to {} webhooks ({} senders on {holders} instance(s)) in {:.1}s from start → {:.0} deliveries/s (first to last sent: {span:.1}s); CPU of the instances from start to the last delivery {:.1}s ({:.2} ms per delivery); then {polls:.0} polls/s of {} feeds due every second, at {:.0} % of one core; {throttled} requests answered 429",
        c.instances,
        if c.limits { "Discord's" } else { "no" },
        c.hooks,
        c.hooks,
        wall.as_secs_f64(),
        got as f64 / span,
        cpu0.as_secs_f64(),
        cpu0.as_secs_f64() * 1000.0 / got.max(1) as f64,
        c.feeds + c.poll_feeds,
        poll_cpu * 100.0,
    );
    for ch in &mut children {
        let _ = Command::new("kill")
            .args(["-TERM", &ch.id().to_string()])
            .status();
    }
    for ch in &mut children {
        let _ = ch.wait();
    }
    let _ = admin.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"));
}
