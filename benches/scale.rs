//! Daemon-scale benchmark (`cargo bench --bench scale`): the real `crier`
//! binary watching 100,000 feeds served by a loopback feed server running
//! in a process of its own (this binary, `--serve`), every feed routed to a
//! console target (its output thrown away).
//!
//! Every feed starts with `--items` items (its baseline poll records them,
//! posts nothing). From then on, new items appear in random feeds at the
//! rate that makes `--changed-pct` % of polls find one (5 %); the other
//! polls are answered 304. Reported:
//! - start-up: from `spawn` to the first poll reaching the server, and to
//!   `/readyz` answering;
//! - the spread of the first polls (polls per 10 s, first interval);
//! - Crier's CPU (user + system, its process only: the feed server is
//!   another process) as a share of one core, per phase: the first
//!   interval (every feed's baseline), then the steady state;
//! - peak RSS (`VmHWM`) and RSS at the end, bytes per feed;
//! - polls started more than 5 s after they were due, from Crier's
//!   `crier_poll_lag_seconds` histogram (one scrape, at the end);
//! - articles delivered to the console target.
//!
//! Options: `--feeds N` (100000), `--interval-secs N` (600), `--secs N`
//! (run length, default 1.5 × interval), `--changed-pct N` (5), `--items N`
//! (5), `--listeners N` (16).

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crier_fakes::feed::{FeedServer, Route};
use rand::Rng;

mod common;
use common::{arg, stat_cpu, status_kib};

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn item(feed: usize, n: u64) -> String {
    format!(
        "<item><title>Item {n} of feed {feed}</title><link>https://scale.example/{feed}/{n}</link><guid isPermaLink=\"false\">f{feed}-{n}</guid><pubDate>Wed, 01 Feb 2023 05:40:02 GMT</pubDate><description><![CDATA[<p>Body of item {n}, a typical summary with <b>some</b> formatting and <a href=\"https://scale.example/\">a link</a>.</p>]]></description></item>"
    )
}

fn feed_body(feed: usize, newest: u64, items: u64) -> String {
    let mut s = format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Feed {feed}</title><link>https://scale.example/{feed}</link><description>d</description>"
    );
    for n in (newest.saturating_sub(items - 1)..=newest).rev() {
        s.push_str(&item(feed, n));
    }
    s.push_str("</channel></rss>");
    s
}

/// The feed server process: serves the feeds, changes some, prints its
/// addresses then its counters every second, until stdin closes.
fn serve() {
    let feeds = arg("--feeds", 100_000) as usize;
    let interval = arg("--interval-secs", 600).max(1);
    let pct = arg("--changed-pct", 5);
    let items = arg("--items", 5).max(1);
    let listeners = arg("--listeners", 16) as usize;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let server = rt
        .block_on(FeedServer::start_with_listeners(listeners))
        .expect("feed server");
    let mut newest: Vec<u64> = vec![items; feeds];
    for (f, n) in newest.iter().enumerate() {
        server.set(&format!("/f/{f}.xml"), Route::feed(feed_body(f, *n, items)));
    }
    let bases: Vec<String> = (0..listeners).map(|i| server.base(i)).collect();
    println!("BASES {}", bases.join(" "));
    let _ = std::io::stdout().flush();
    let done = Arc::new(AtomicU64::new(0));
    let d = done.clone();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
        d.store(1, Ordering::SeqCst);
    });
    // Changes per second so that `pct` % of polls find a new item.
    let per_sec = feeds as f64 * pct as f64 / 100.0 / interval as f64;
    let mut rng = rand::rng();
    let (mut owed, mut first) = (0.0f64, None);
    let t0 = Instant::now();
    let mut tick = 0u64;
    while done.load(Ordering::SeqCst) == 0 {
        std::thread::sleep(Duration::from_millis(100));
        tick += 1;
        if first.is_none() && server.total_hits() > 0 {
            first = Some(unix_ms());
            println!("FIRST {}", unix_ms());
            let _ = std::io::stdout().flush();
        }
        // Only after the first interval: the baseline polls see the
        // feeds as they started.
        if t0.elapsed() > Duration::from_secs(interval + interval / 10 + 5) {
            owed += per_sec / 10.0;
            while owed >= 1.0 {
                owed -= 1.0;
                let f = rng.random_range(0..feeds);
                newest[f] += 1;
                server.set(
                    &format!("/f/{f}.xml"),
                    Route::feed(feed_body(f, newest[f], items)),
                );
            }
        }
        if tick.is_multiple_of(10) {
            println!(
                "HITS {} {} {}",
                unix_ms(),
                server.total_hits(),
                server.not_modified_count()
            );
            let _ = std::io::stdout().flush();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    use std::io::Read;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let status = out.split_whitespace().nth(1)?.parse().ok()?;
    let body = out.split_once("\r\n\r\n").map(|(_, b)| b.to_string())?;
    Some((status, body))
}

/// The value of a metric line `name{labels} value` (summed over label
/// sets matching `filter`).
fn metric(text: &str, name: &str, filter: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.split(['{', ' ']).next().is_some_and(|n| n == name))
        .filter(|l| l.contains(filter))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        // (an empty f64 sum is -0.0)
        .fold(0.0, |a, b| a + b)
}

fn main() {
    if std::env::args().any(|a| a == "--serve") {
        serve();
        return;
    }
    let feeds = arg("--feeds", 100_000) as usize;
    let interval = arg("--interval-secs", 600).max(1);
    let secs = arg("--secs", interval * 3 / 2);
    let pct = arg("--changed-pct", 5);
    let items = arg("--items", 5).max(1);
    let listeners = arg("--listeners", 16).max(1) as usize;

    let mut server = Command::new(std::env::current_exe().expect("this binary"))
        .args(["--serve", "--feeds", &feeds.to_string()])
        .args(["--interval-secs", &interval.to_string()])
        .args(["--changed-pct", &pct.to_string()])
        .args(["--items", &items.to_string()])
        .args(["--listeners", &listeners.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("feed server");
    let mut lines = BufReader::new(server.stdout.take().expect("stdout")).lines();
    let bases: Vec<String> = loop {
        let line = lines.next().expect("server output").expect("line");
        if let Some(b) = line.strip_prefix("BASES ") {
            break b.split(' ').map(str::to_string).collect();
        }
    };
    // The server's counters, read by a thread.
    type Sample = (u64, u64, u64);
    let samples: Arc<Mutex<Vec<Sample>>> = Arc::default();
    let first_hit = Arc::new(AtomicU64::new(0));
    {
        let (samples, first_hit) = (samples.clone(), first_hit.clone());
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let f: Vec<u64> = line
                    .split(' ')
                    .skip(1)
                    .filter_map(|v| v.parse().ok())
                    .collect();
                if line.starts_with("FIRST ") && !f.is_empty() {
                    first_hit.store(f[0], Ordering::SeqCst);
                } else if line.starts_with("HITS ") && f.len() == 3 {
                    samples
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push((f[0], f[1], f[2]));
                }
            }
        });
    }

    let dir = tempfile::tempdir().expect("dir");
    let port = free_port();
    let mut cfg = format!(
        "[storage]\npath = \"{}\"\n\n[http]\nlisten = \"127.0.0.1:{port}\"\n\n[[targets]]\nname = \"null\"\nplatform = \"console\"\n",
        dir.path().join("crier.db").display()
    );
    for f in 0..feeds {
        cfg.push_str(&format!(
            "\n[[feeds]]\nname = \"f{f}\"\nurl = \"{}/f/{f}.xml\"\ninterval = \"{interval}s\"\ntargets = [\"null\"]\n",
            bases[f % bases.len()]
        ));
    }
    std::fs::write(dir.path().join("config.toml"), cfg).expect("config");

    let started_ms = unix_ms();
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_crier"))
        .args(["run", "--config"])
        .arg(dir.path().join("config.toml"))
        .env("RUST_LOG", "crier=warn")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("stderr.log")).expect("log"))
        .spawn()
        .expect("spawn crier");
    let pid = child.id();
    let cpu = || stat_cpu(std::path::Path::new(&format!("/proc/{pid}/stat"))).as_secs_f64();
    let rss = || status_kib(&format!("/proc/{pid}/status"), "VmRSS:");
    let mut ready = None;
    while ready.is_none() && started.elapsed() < Duration::from_secs(120) {
        if http_get(port, "/readyz").is_some_and(|(s, _)| s == 200) {
            ready = Some(started.elapsed());
        } else {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    while first_hit.load(Ordering::SeqCst) == 0 && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    println!(
        "scale: {feeds} feeds, interval {interval}s, {items} items each, {pct} % of polls find a new item (after the first interval), {listeners} server ports, {secs}s"
    );
    let first = first_hit.load(Ordering::SeqCst);
    println!(
        "  start-up: /readyz after {:.2}s; first poll at the server after {}",
        ready.map_or(f64::NAN, |d| d.as_secs_f64()),
        if first > 0 {
            format!("{:.2}s", (first.saturating_sub(started_ms)) as f64 / 1000.0)
        } else {
            "(not yet)".into()
        }
    );

    // Phase 1: the first interval (+10 %: the jitter never makes a poll
    // later than its interval, the ramp spreads the first ones).
    let phase1 = Duration::from_secs(interval + interval / 10 + 5);
    let mut marks = Vec::new();
    let mut peak_sampled = 0u64;
    while started.elapsed() < Duration::from_secs(secs) {
        std::thread::sleep(Duration::from_secs(1));
        peak_sampled = peak_sampled.max(rss());
        if marks.is_empty() && started.elapsed() >= phase1 {
            marks.push((started.elapsed(), cpu(), rss()));
        }
        if child.try_wait().ok().flatten().is_some() {
            println!(
                "  crier exited early: see {}",
                dir.path().join("stderr.log").display()
            );
            break;
        }
    }
    let end = (started.elapsed(), cpu(), rss());
    let peak = status_kib(&format!("/proc/{pid}/status"), "VmHWM:");
    let metrics = http_get(port, "/metrics")
        .map(|(_, b)| b)
        .unwrap_or_default();
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let _ = child.wait();
    drop(server.stdin.take());
    let _ = server.wait();

    let samples = samples.lock().unwrap_or_else(|p| p.into_inner()).clone();
    // First polls per 10 s over the first interval.
    let mut spread = Vec::new();
    for w in 0..(interval / 10).min(12) {
        let (a, b) = (started_ms + w * 10_000, started_ms + (w + 1) * 10_000);
        let at = |t: u64| samples.iter().rev().find(|s| s.0 <= t).map_or(0, |s| s.1);
        spread.push(at(b).saturating_sub(at(a)));
    }
    println!("  polls per 10 s, first two minutes: {spread:?}");
    let (hits, nm) = samples.last().map_or((0, 0), |s| (s.1, s.2));
    println!("  polls answered: {hits} ({nm} not modified)");
    let lag_all = metric(&metrics, "crier_poll_lag_seconds_count", "");
    let lag_ok = metric(&metrics, "crier_poll_lag_seconds_bucket", "le=\"5.0\"");
    let lag_1 = metric(&metrics, "crier_poll_lag_seconds_bucket", "le=\"1.0\"");
    println!(
        "  scheduled polls started: {lag_all}; later than 1 s: {}; later than 5 s: {}",
        lag_all - lag_1,
        lag_all - lag_ok
    );
    let sent = metric(&metrics, "crier_deliveries_total", "state=\"sent\"");
    println!("  delivered to the console target: {sent}");
    let t1 = phase1.as_secs_f64();
    if let Some((t, c, r)) = marks.first() {
        println!(
            "  CPU, first interval (baselines), 0–{:.0}s: {:.1}s = {:.1} % of one core; RSS then {:.1} MiB",
            t.as_secs_f64(),
            c,
            c / t.as_secs_f64() * 100.0,
            *r as f64 / 1024.0
        );
        let (dt, dc) = (end.0.as_secs_f64() - t.as_secs_f64(), end.1 - c);
        let steady_polls = samples
            .iter()
            .filter(|s| s.0 >= started_ms + (t1 * 1000.0) as u64)
            .map(|s| s.1)
            .collect::<Vec<_>>();
        let polls = match (steady_polls.first(), steady_polls.last()) {
            (Some(a), Some(b)) => b - a,
            _ => 0,
        };
        println!(
            "  CPU, steady state, {:.0}–{:.0}s: {:.1}s = {:.1} % of one core; {polls} polls → {:.3} ms CPU per poll",
            t.as_secs_f64(),
            end.0.as_secs_f64(),
            dc,
            dc / dt * 100.0,
            dc * 1000.0 / polls.max(1) as f64
        );
    } else {
        println!(
            "  CPU over {:.0}s: {:.1}s = {:.1} % of one core",
            end.0.as_secs_f64(),
            end.1,
            end.1 / end.0.as_secs_f64() * 100.0
        );
    }
    println!(
        "  RSS: peak {:.1} MiB (sampled max {:.1} MiB), at the end {:.1} MiB = {:.0} bytes per feed",
        peak as f64 / 1024.0,
        peak_sampled as f64 / 1024.0,
        end.2 as f64 / 1024.0,
        end.2 as f64 * 1024.0 / feeds as f64
    );
}
