//! The command line: `crier run | check | status | log | retry`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use crier_storage::{LogEntry, LogQuery, State};
use tokio_util::sync::CancellationToken;

use crate::config::{Config, Platform};
use crate::targets::BuildOptions;

#[derive(Debug, Parser)]
#[command(
    name = "crier",
    version,
    about = "Publishes new articles from feeds and WordPress sites to Telegram and Discord: once, never twice, never lost."
)]
pub struct Cli {
    /// The configuration file.
    #[arg(
        long,
        short,
        global = true,
        env = "CRIER_CONFIG",
        default_value = "config.toml"
    )]
    pub config: PathBuf,
    /// Log format on standard error (filter with RUST_LOG, e.g. RUST_LOG=crier=debug).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Watch the feeds and deliver new articles until stopped (SIGINT/SIGTERM).
    Run,
    /// Validate the configuration and print its feeds, targets and routes.
    Check,
    /// Show feeds, targets, queues, open alerts and recent deliveries from
    /// the delivery log (the status page's summary; no daemon needed).
    Status,
    /// Show recent deliveries from the delivery log.
    Log {
        /// How many rows to show.
        #[arg(long, short = 'n', default_value_t = 30)]
        limit: usize,
        /// Only this target's deliveries.
        #[arg(long)]
        target: Option<String>,
        /// Only deliveries in this state.
        #[arg(long, value_parser = parse_state)]
        state: Option<State>,
        /// Show the audit log of chat commands instead.
        #[arg(long, conflicts_with_all = ["target", "state"])]
        audit: bool,
    },
    /// Show what Crier reads from feeds, pages or files, without recording
    /// anything.
    Inspect {
        /// Feed URLs, page URLs or files.
        #[arg(required = true)]
        sources: Vec<String>,
        /// One JSON object per article (or error) per line.
        #[arg(long)]
        json: bool,
    },
    /// Show how the newest articles of a feed, page or file would be posted
    /// on every configured target, without sending or recording anything.
    Preview {
        /// A feed URL, page URL or file.
        source: String,
        /// How many of the newest articles.
        #[arg(long, short = 'n', default_value_t = 1)]
        limit: usize,
        /// Only this target.
        #[arg(long)]
        target: Option<String>,
        /// One JSON object per message: the exact API request per target.
        #[arg(long)]
        json: bool,
    },
    /// Retract an article: delete its messages on every target (a running
    /// `crier run` carries it out).
    Retract {
        /// The article's link, or its id (see `crier log`).
        article: String,
    },
    /// Re-queue failed deliveries (and re-enable a disabled target).
    Retry {
        /// One delivery, by id (see `crier log`).
        #[arg(long, conflicts_with_all = ["target", "all"])]
        id: Option<i64>,
        /// Every failed delivery of this target; also re-enables the target.
        #[arg(long)]
        target: Option<String>,
        /// Every failed delivery.
        #[arg(long)]
        all: bool,
    },
}

fn parse_state(s: &str) -> Result<State, String> {
    State::parse(s).ok_or_else(|| {
        format!(
            "unknown state {s:?} (one of: {})",
            State::ALL
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

/// Exit codes: 0 success, 1 runtime failure, 2 bad configuration or usage.
pub const EXIT_RUNTIME: u8 = 1;
pub const EXIT_CONFIG: u8 = 2;

fn load_config(path: &std::path::Path) -> Result<Config, ExitCode> {
    Config::load(path).map_err(|errs| {
        for e in &errs.0 {
            eprintln!("error: {e}");
        }
        ExitCode::from(EXIT_CONFIG)
    })
}

pub fn init_tracing(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Run the parsed command line.
pub fn main_with(cli: Cli) -> ExitCode {
    init_tracing(cli.log_format);
    match cli.command {
        Command::Run => {
            let cfg = match load_config(&cli.config) {
                Ok(c) => c,
                Err(code) => return code,
            };
            // Storage calls run on the blocking pool behind one mutex: a
            // few threads serve them all (more would only wait, and cost
            // memory).
            let rt = match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .max_blocking_threads(8)
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("error: cannot start the async runtime: {e}");
                    return ExitCode::from(EXIT_RUNTIME);
                }
            };
            let res = rt.block_on(async {
                let shutdown = CancellationToken::new();
                let s = shutdown.clone();
                tokio::spawn(async move {
                    wait_for_signal().await;
                    s.cancel();
                });
                crate::app::run(cfg, BuildOptions::default(), shutdown).await
            });
            match res {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    ExitCode::from(EXIT_RUNTIME)
                }
            }
        }
        Command::Check => match load_config(&cli.config) {
            Ok(cfg) => {
                print!("{}", check_summary(&cfg));
                ExitCode::SUCCESS
            }
            Err(code) => code,
        },
        Command::Log {
            limit,
            target,
            state,
            audit,
        } => with_store(&cli.config, |store| {
            if audit {
                let rows = store.audit_log(limit)?;
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(audit_table(&rows).as_bytes());
                return Ok(());
            }
            let rows = store.log(&LogQuery {
                limit,
                target,
                state,
                article_id: None,
            })?;
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(log_table(&rows).as_bytes());
            Ok(())
        }),
        Command::Status => status(&cli.config),
        Command::Inspect { sources, json } => inspect(&cli.config, &sources, json),
        Command::Preview {
            source,
            limit,
            target,
            json,
        } => preview(&cli.config, &source, limit, target.as_deref(), json),
        Command::Retract { article } => with_store(&cli.config, |store| {
            let ids: Vec<i64> = match article.parse::<i64>() {
                Ok(id) => vec![id],
                Err(_) => store
                    .articles_by_link(&article)?
                    .iter()
                    .map(|a| a.id)
                    .collect(),
            };
            if ids.is_empty() {
                anyhow::bail!("no article with link or id {article:?}");
            }
            for id in ids {
                let targets = store.retract(id, crate::db::now_ms())?;
                if targets.is_empty() {
                    println!("article #{id} retracted; it was not posted anywhere");
                } else {
                    println!(
                        "article #{id} retracted; deleting its messages on: {}",
                        targets.join(", ")
                    );
                }
            }
            Ok(())
        }),
        Command::Retry { id, target, all } => with_store(&cli.config, |store| {
            if id.is_none() && target.is_none() && !all {
                anyhow::bail!("say which deliveries: --id N, --target NAME or --all");
            }
            let now = crate::db::now_ms();
            if let Some(t) = &target
                && store.set_target_disabled(t, None, now)?
            {
                store.close_alert(&format!("target-disabled:{t}"))?;
                println!("target {t} re-enabled");
            }
            let (n, targets) = store.requeue_failed(id, target.as_deref(), now)?;
            println!(
                "re-queued {n} failed deliver{}{}",
                if n == 1 { "y" } else { "ies" },
                if targets.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", targets.join(", "))
                }
            );
            Ok(())
        }),
    }
}

/// The config if there is one (for the User-Agent and timeouts), else the
/// defaults: `inspect` and `preview` work without a config file.
fn optional_config(path: &std::path::Path) -> Result<Option<Config>, ExitCode> {
    if path.exists() {
        load_config(path).map(Some)
    } else {
        Ok(None)
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Runtime::new().map_err(|e| {
        eprintln!("error: cannot start the async runtime: {e}");
        ExitCode::from(EXIT_RUNTIME)
    })
}

/// The fetcher (the config's settings, or the defaults) and a runtime, for
/// the commands that read sources without running the daemon.
fn fetcher_and_runtime(
    cfg: Option<&Config>,
) -> Result<(crate::sources::Fetcher, tokio::runtime::Runtime), ExitCode> {
    let fetcher = cfg
        .map(crate::app::fetcher_for)
        .unwrap_or_else(|| {
            crate::sources::Fetcher::new(crate::sources::FetcherConfig::default())
                .map_err(|e| anyhow::anyhow!("{e}"))
        })
        .map_err(|e| {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_RUNTIME)
        })?;
    Ok((fetcher, runtime()?))
}

fn inspect(config: &std::path::Path, sources: &[String], json: bool) -> ExitCode {
    let cfg = match optional_config(config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let (fetcher, rt) = match fetcher_and_runtime(cfg.as_ref()) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let mut failed = false;
    let mut out = std::io::stdout().lock();
    for src in sources {
        let report = rt.block_on(crate::sources::inspect::inspect(&fetcher, src));
        failed |= report.result.is_err();
        let text = if json {
            crate::sources::inspect::render_json_lines(&report)
        } else {
            crate::sources::inspect::render_table(&report)
        };
        let _ = out.write_all(text.as_bytes());
    }
    if failed {
        ExitCode::from(EXIT_RUNTIME)
    } else {
        ExitCode::SUCCESS
    }
}

fn preview(
    config: &std::path::Path,
    source: &str,
    limit: usize,
    only: Option<&str>,
    json: bool,
) -> ExitCode {
    use crier_bots::format::{FeedFormat, TargetFormat};
    let cfg = match optional_config(config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let (fetcher, rt) = match fetcher_and_runtime(cfg.as_ref()) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let report = rt.block_on(crate::sources::inspect::inspect(&fetcher, source));
    let doc = match report.result {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {source}: {e}");
            return ExitCode::from(EXIT_RUNTIME);
        }
    };
    let mut items = doc.items;
    crate::sources::sort_oldest_first(&mut items);
    let newest: Vec<_> = items.into_iter().rev().take(limit.max(1)).collect();
    // The feed's own formatting rules when the source is a configured feed.
    let feed_cfg = cfg.as_ref().and_then(|c| {
        let url = crate::config::resolve_location(source, std::path::Path::new(".")).ok();
        c.feeds
            .iter()
            .find(|f| url.is_some() && c.feed_location(f).ok() == url)
            .map(|f| (c.feed_format(f), f.name.0.clone()))
    });
    let (feed_format, feed_name) = feed_cfg.unwrap_or((FeedFormat::default(), "preview".into()));
    let targets = match &cfg {
        Some(c) => match crate::targets::build(c, &BuildOptions::default()) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {e:#}");
                return ExitCode::from(EXIT_RUNTIME);
            }
        },
        None => Default::default(),
    };
    let mut out = std::io::stdout().lock();
    let mut failed = false;
    for item in &newest {
        let mut post = item.post.clone();
        if post.feed.is_empty() || post.feed == "inspect" {
            post.feed = feed_name.clone();
        }
        if targets.is_empty() {
            // No config: both platforms' default look.
            match crier_bots::format::terminal::preview(&post, &feed_format, &TargetFormat::default()) {
                Ok(text) if !json => {
                    let _ = writeln!(out, "════ {} ════\n{text}", post.label());
                }
                Ok(_) => {
                    for (platform, parts) in [
                        (
                            "telegram",
                            crier_bots::format::telegram::render(&post, &feed_format, &TargetFormat::default())
                                .map(|v| v.iter().map(|m| serde_json::json!({"method": m.method.as_str(), "params": m.params()})).collect::<Vec<_>>()),
                        ),
                        (
                            "discord",
                            crier_bots::format::discord::render(&post, &feed_format, &TargetFormat::default())
                                .map(|v| v.iter().map(|m| serde_json::json!({"body": m})).collect::<Vec<_>>()),
                        ),
                    ] {
                        match parts {
                            Ok(reqs) => {
                                for (i, r) in reqs.into_iter().enumerate() {
                                    let line = serde_json::json!({"article": post.link, "target": null, "platform": platform, "part": i, "request": r});
                                    let _ = writeln!(out, "{line}");
                                }
                            }
                            Err(e) => {
                                failed = true;
                                eprintln!("error: {platform}: {e}");
                            }
                        }
                    }
                }
                Err(e) => {
                    failed = true;
                    eprintln!("error: {e}");
                }
            }
            continue;
        }
        for (name, rt) in &targets {
            if only.is_some_and(|o| o != name) {
                continue;
            }
            match rt.target.render(&post, &feed_format) {
                Ok(parts) => {
                    if json {
                        for (i, p) in parts.iter().enumerate() {
                            let line = serde_json::json!({
                                "article": post.link,
                                "target": name,
                                "platform": rt.target.platform(),
                                "part": i,
                                "request": rt.target.preview_request(p),
                            });
                            let _ = writeln!(out, "{line}");
                        }
                    } else {
                        let _ = writeln!(
                            out,
                            "════ {} → {name} ({}) ════",
                            post.label(),
                            rt.target.platform()
                        );
                        for (i, p) in parts.iter().enumerate() {
                            if i > 0 {
                                let _ =
                                    writeln!(out, "{}", crier_bots::format::terminal::NEXT_MESSAGE);
                            }
                            let text = match p.payload.get("text").and_then(|t| t.as_str()) {
                                Some(t) if rt.target.platform() == "console" => t.to_string(),
                                _ => crier_bots::format::terminal::payload(&p.payload),
                            };
                            let _ = writeln!(out, "{}", text.trim_end());
                        }
                    }
                }
                Err(e) => {
                    failed = true;
                    eprintln!("error: target {name}: {e}");
                }
            }
        }
    }
    if only.is_some_and(|o| !targets.contains_key(o)) {
        eprintln!("error: no target named {:?}", only.unwrap_or_default());
        return ExitCode::from(EXIT_CONFIG);
    }
    if failed {
        ExitCode::from(EXIT_RUNTIME)
    } else {
        ExitCode::SUCCESS
    }
}

fn status(config: &std::path::Path) -> ExitCode {
    let cfg = match load_config(config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let now = crate::db::now_ms();
    let res = crate::app::open_store(&cfg)
        .and_then(|s| crate::status::Summary::read(&s, &cfg, now).map_err(anyhow::Error::from));
    match res {
        Ok(summary) => {
            let _ = std::io::stdout()
                .lock()
                .write_all(summary.to_text(now).as_bytes());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_RUNTIME)
        }
    }
}

fn with_store(
    config: &std::path::Path,
    f: impl FnOnce(&mut crier_storage::Store) -> anyhow::Result<()>,
) -> ExitCode {
    let cfg = match load_config(config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let res = crate::app::open_store(&cfg).and_then(|mut s| f(&mut s));
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_RUNTIME)
        }
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The text `crier check` prints for a valid config.
pub fn check_summary(cfg: &Config) -> String {
    let mut s = String::new();
    s.push_str(&format!("{}: OK\n", cfg.file.display()));
    s.push_str(&format!("database: {}\n", cfg.db_path().display()));
    s.push_str(&format!("feeds ({}):\n", cfg.feeds.len()));
    for f in &cfg.feeds {
        let url = cfg
            .feed_location(f)
            .map(|u| u.to_string())
            .unwrap_or_else(|e| e);
        s.push_str(&format!(
            "  {}  {}  every {}  kind {:?}  backfill {}\n",
            f.name,
            url,
            humantime::format_duration(f.interval.0),
            f.kind,
            f.backfill
        ));
    }
    s.push_str(&format!("targets ({}):\n", cfg.targets.len()));
    for t in &cfg.targets {
        let addr = match t.platform {
            Platform::Telegram => format!(
                "chat {}{}",
                t.chat.as_deref().unwrap_or("?"),
                t.thread
                    .map(|th| format!(" topic {th}"))
                    .unwrap_or_default()
            ),
            Platform::Discord => format!("channel {}", t.channel.unwrap_or_default()),
            Platform::DiscordWebhook => "webhook (URL hidden)".to_string(),
            Platform::Console => "standard output".to_string(),
        };
        s.push_str(&format!(
            "  {}  {}  {}{}\n",
            t.name,
            t.platform.as_str(),
            addr,
            if t.silent { "  silent" } else { "" }
        ));
    }
    let routes: usize = cfg.feeds.iter().map(|f| f.targets.len()).sum();
    s.push_str(&format!("routes ({routes}):\n"));
    for f in &cfg.feeds {
        for t in &f.targets {
            s.push_str(&format!("  {} → {}\n", f.name, t));
        }
    }
    s
}

fn clip(s: &str, n: usize) -> String {
    let s = s.replace(['\n', '\r', '\t'], " ");
    if s.chars().count() <= n {
        s
    } else {
        let mut out: String = s.chars().take(n.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// The table `crier log --audit` prints.
pub fn audit_table(rows: &[crier_storage::AuditEntry]) -> String {
    let mut out =
        String::from("TIME (UTC)           PLATFORM  USER                     COMMAND → OUTCOME\n");
    for e in rows {
        let when = chrono::DateTime::from_timestamp_millis(e.at)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default();
        let who = match &e.user_name {
            Some(n) => format!("{n} ({})", e.user_id),
            None => e.user_id.clone(),
        };
        out.push_str(&format!(
            "{when}  {:<8}  {:<23}  {} → {}\n",
            e.platform,
            clip(&who, 23),
            clip(&e.command, 60),
            clip(&e.outcome, 80)
        ));
    }
    if rows.is_empty() {
        out.push_str("(no commands yet)\n");
    }
    out
}

/// The table `crier log` prints.
pub fn log_table(rows: &[LogEntry]) -> String {
    let mut lines = vec![[
        "ID".to_string(),
        "UPDATED (UTC)".into(),
        "TARGET".into(),
        "STATE".into(),
        "JOB".into(),
        "TRIES".into(),
        "ARTICLE".into(),
        "DETAIL".into(),
    ]];
    for r in rows {
        let d = &r.delivery;
        let when = chrono::DateTime::from_timestamp_millis(d.updated_at)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default();
        let job = match d.action {
            crier_storage::Action::Post => format!("post#{}", d.part),
            crier_storage::Action::Edit => format!("edit r{}#{}", d.revision, d.part),
            crier_storage::Action::Delete => format!("delete#{}", d.part),
        };
        let mut detail = match d.state {
            State::Sent => d
                .message_id
                .clone()
                .map(|m| format!("message {m}"))
                .unwrap_or_default(),
            State::Failed | State::Pending | State::Sending => {
                d.last_error.clone().unwrap_or_default()
            }
            State::Filtered | State::Skipped => d.reason.clone().unwrap_or_default(),
        };
        if d.state == State::Sent
            && let Some(note) = &d.reason
        {
            detail = format!("{detail} ({note})");
        }
        if d.ambiguous {
            detail = format!("[ambiguous send] {detail}");
        }
        let title = if r.title.is_empty() {
            r.link.clone().unwrap_or_default()
        } else {
            r.title.clone()
        };
        lines.push([
            d.id.to_string(),
            when,
            d.target.clone(),
            d.state.to_string(),
            job,
            d.attempts.to_string(),
            clip(&title, 48),
            clip(&detail, 60),
        ]);
    }
    let mut widths = [0usize; 8];
    for l in &lines {
        for (i, c) in l.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    for l in &lines {
        let mut row = String::new();
        for (i, c) in l.iter().enumerate() {
            if i + 1 == l.len() {
                row.push_str(c);
            } else {
                row.push_str(c);
                row.push_str(&" ".repeat(widths[i] - c.chars().count() + 2));
            }
        }
        out.push_str(row.trim_end());
        out.push('\n');
    }
    if rows.is_empty() {
        out.push_str("(no deliveries)\n");
    }
    out
}
