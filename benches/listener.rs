//! Listener benchmark (`cargo bench --bench listener`): the `crier` binary
//! watching 1,000 feeds routed to 5 targets on the loopback fakes, started
//! alternately with and without `[http] listen`. Reports the idle RSS of
//! each (all feeds polled once, nothing new) and, with the listener on, the
//! time and size of one `GET /metrics` scrape (the log-backed gauges are
//! refreshed by each scrape). Median, min and max over the runs.
//!
//! Options: `--runs N` (3), `--feeds N` (1000), `--scrapes N` (30).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crier_fakes::FakeTelegram;
use crier_fakes::feed::{FeedServer, Route};
use crier_fakes::telegram::TelegramLimits;

mod common;
use common::{arg, status_kib};

const TOKEN: &str = "bench-listener-token-0123456789";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn stats(v: &mut [f64]) -> (f64, f64, f64) {
    v.sort_by(|a, b| a.total_cmp(b));
    let median = v.get(v.len() / 2).copied().unwrap_or(0.0);
    (
        median,
        v.first().copied().unwrap_or(0.0),
        v.last().copied().unwrap_or(0.0),
    )
}

fn main() {
    let runs = arg("--runs", 3).max(1);
    let feeds = arg("--feeds", 1000) as usize;
    let scrapes = arg("--scrapes", 30).max(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (server, tg) = rt.block_on(async {
        (
            FeedServer::start_with_listeners(8).await.expect("feeds"),
            FakeTelegram::start().await.expect("tg"),
        )
    });
    tg.set_limits(TelegramLimits::unlimited());
    for c in 1..=5 {
        tg.add_channel(-1_000 - c, None);
    }
    let body = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>B</title><link>https://bench.example/</link><description>d</description><item><title>Old</title><link>https://bench.example/old</link><guid>old</guid></item></channel></rss>";
    for f in 0..feeds {
        server.set(&format!("/f/{f}.xml"), Route::feed(body));
    }
    let client = reqwest::Client::new();
    let (mut rss_on, mut rss_off, mut scrape_ms, mut sizes) = (vec![], vec![], vec![], vec![]);
    println!("listener: {feeds} feeds × 5 targets, {runs} runs each with and without [http]");
    for run in 0..runs * 2 {
        let listen = run % 2 == 0;
        let dir = tempfile::tempdir().expect("dir");
        let port = free_port();
        let mut cfg = format!(
            "[telegram]\ntoken = \"{}\"\napi_url = \"{}\"\nper_chat_interval = \"1ms\"\ngroup_messages_per_minute = 1000000\nmessages_per_second = 100000\n\n[sources]\nconcurrency = 64\nper_host_concurrency = 16\n",
            FakeTelegram::TOKEN,
            tg.api_url()
        );
        if listen {
            cfg.push_str(&format!(
                "\n[http]\nlisten = \"127.0.0.1:{port}\"\ntoken = \"{TOKEN}\"\n"
            ));
        }
        for c in 1..=5 {
            cfg.push_str(&format!(
                "\n[[targets]]\nname = \"tg{c}\"\nplatform = \"telegram\"\nchat = \"{}\"\n",
                -1_000 - c
            ));
        }
        for f in 0..feeds {
            cfg.push_str(&format!(
                "\n[[feeds]]\nname = \"f{f}\"\nurl = \"{}\"\ninterval = \"10m\"\ntargets = [\"tg1\", \"tg2\", \"tg3\", \"tg4\", \"tg5\"]\n",
                server.url(&format!("/f/{f}.xml"))
            ));
        }
        std::fs::write(dir.path().join("config.toml"), cfg).expect("config");
        let hits0 = server.total_hits();
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
        while server.total_hits() < hits0 + feeds as u64
            && start.elapsed() < Duration::from_secs(180)
        {
            std::thread::sleep(Duration::from_millis(100));
        }
        std::thread::sleep(Duration::from_secs(3));
        let rss = status_kib(&format!("/proc/{pid}/status"), "VmRSS:") as f64 / 1024.0;
        if listen {
            rss_on.push(rss);
            for _ in 0..scrapes {
                let t = Instant::now();
                let text = rt.block_on(async {
                    client
                        .get(format!("http://127.0.0.1:{port}/metrics"))
                        .bearer_auth(TOKEN)
                        .send()
                        .await
                        .expect("scrape")
                        .text()
                        .await
                        .expect("body")
                });
                scrape_ms.push(t.elapsed().as_secs_f64() * 1000.0);
                sizes.push(text.len() as f64);
            }
        } else {
            rss_off.push(rss);
        }
        // SAFETY: signalling our own child.
        unsafe {
            libc::kill(pid as i32, libc::SIGTERM);
        }
        let _ = child.wait();
    }
    let (on, on_min, on_max) = stats(&mut rss_on);
    let (off, off_min, off_max) = stats(&mut rss_off);
    let (ms, ms_min, ms_max) = stats(&mut scrape_ms);
    let (size, _, _) = stats(&mut sizes);
    println!(
        "  idle RSS with the listener:    median {on:.1} MiB (min {on_min:.1}, max {on_max:.1})"
    );
    println!(
        "  idle RSS without the listener: median {off:.1} MiB (min {off_min:.1}, max {off_max:.1})"
    );
    println!(
        "  listener cost at idle: {:.1} MiB (median difference)",
        on - off
    );
    println!(
        "  one /metrics scrape: median {ms:.2} ms (min {ms_min:.2}, max {ms_max:.2}) over {} scrapes, {:.0} KiB",
        scrape_ms.len(),
        size / 1024.0
    );
}
