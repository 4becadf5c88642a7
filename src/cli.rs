//! The command line: `crier run | check | status | log | retry`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use crier_storage::{LogEntry, LogQuery, State};
use tokio_util::sync::CancellationToken;

use crate::config::{Config, Platform};
use crate::targets::BuildOptions;

mod dbonly;
mod feeds;
pub mod online;
mod words;

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
    Check {
        /// Also ask each platform whether every target can be posted to
        /// (token, chat or channel, the bot's rights) and each feed whether
        /// it answers and parses; one line per problem with its fix.
        #[arg(long)]
        online: bool,
    },
    /// Send one sample post to a target (the newest article of the first
    /// feed routed to it, or a built-in sample) and print its link. Nothing
    /// is recorded.
    Test {
        /// The target's name in the config.
        target: String,
    },
    /// Show feeds, targets, queues, open alerts and recent deliveries from
    /// the delivery log (the status page's summary; no daemon needed).
    Status,
    /// Show recent deliveries from the delivery log.
    Log {
        /// How many rows to show.
        #[arg(long, short = 'n', default_value_t = 30)]
        limit: usize,
        /// Only this target's deliveries (a configured target's name).
        #[arg(long)]
        target: Option<String>,
        /// Only deliveries in this state.
        #[arg(long, value_parser = state_parser())]
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
        #[arg(required_unless_present = "feed")]
        source: Option<String>,
        /// A configured feed, read exactly as `crier run` reads it (its
        /// kind, WordPress REST, headers), its targets and filters applied.
        #[arg(long, conflicts_with = "source")]
        feed: Option<String>,
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
    /// Import feeds from OPML, or export every feed as OPML.
    Feeds {
        #[command(subcommand)]
        command: FeedsCommand,
    },
    /// Print shell completions (bash, zsh, fish, elvish, powershell).
    Completions { shell: clap_complete::Shell },
    /// Print the man page (roff) of crier.
    Man,
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

#[derive(Debug, Subcommand)]
pub enum FeedsCommand {
    /// Add the feeds of an OPML file (nested folders, xmlUrl, titles) to
    /// the database, like /subscribe does; duplicates are skipped and
    /// reported; nothing is added when the file is malformed.
    Import {
        /// The OPML file.
        file: PathBuf,
        /// The targets the imported feeds post to.
        #[arg(long, num_args = 1.., required = true)]
        targets: Vec<String>,
    },
    /// Write every feed (config and database) as OPML.
    Export {
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

/// `--state`: the delivery states, listed by `--help` and in the error.
fn state_parser() -> impl clap::builder::TypedValueParser<Value = State> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(State::ALL.iter().map(|s| s.as_str()))
        .try_map(|s: String| State::parse(&s).ok_or_else(|| format!("unknown state {s:?}")))
}

/// Exit codes: 0 success, 1 runtime failure, 2 bad configuration or usage.
pub const EXIT_RUNTIME: u8 = 1;
pub const EXIT_CONFIG: u8 = 2;

fn load_config(path: &std::path::Path) -> Result<Config, ExitCode> {
    if !path.exists() {
        eprintln!("error: {}", words::missing_config(path));
        return Err(ExitCode::from(EXIT_CONFIG));
    }
    let cfg = Config::load(path).map_err(|errs| {
        for e in &errs.0 {
            eprintln!("error: {e}");
        }
        ExitCode::from(EXIT_CONFIG)
    })?;
    for w in words::config_warnings(&cfg) {
        eprintln!("warning: {w}");
    }
    Ok(cfg)
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
            let db = cfg.db_path();
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
                    eprintln!("error: {}", words::with_lock_holder(&format!("{e:#}"), &db));
                    ExitCode::from(EXIT_RUNTIME)
                }
            }
        }
        Command::Check { online } => match load_config(&cli.config) {
            Ok(cfg) => {
                print!("{}", check_summary(&cfg));
                if online {
                    return check_online(&cfg);
                }
                ExitCode::SUCCESS
            }
            Err(code) => code,
        },
        Command::Test { target } => test_target(&cli.config, &target),
        Command::Feeds { command } => match command {
            FeedsCommand::Import { file, targets } => with_store(&cli.config, |store, cfg| {
                println!("{}", feeds::import(cfg, store, &file, &targets)?);
                Ok(())
            }),
            FeedsCommand::Export { output } => with_store(&cli.config, |store, cfg| {
                let xml = feeds::export(cfg, store)?;
                match output {
                    Some(p) => std::fs::write(&p, xml)
                        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", p.display())),
                    None => {
                        let _ = std::io::stdout().lock().write_all(xml.as_bytes());
                        Ok(())
                    }
                }
            }),
        },
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "crier", &mut std::io::stdout());
            ExitCode::SUCCESS
        }
        Command::Man => {
            use clap::CommandFactory;
            let man = clap_mangen::Man::new(Cli::command());
            match man.render(&mut std::io::stdout()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: cannot write the man page: {e}");
                    ExitCode::from(EXIT_RUNTIME)
                }
            }
        }
        Command::Log {
            limit,
            target,
            state,
            audit,
        } => with_store(&cli.config, |store, cfg| {
            words::known_target(target.as_deref(), &cfg.targets, store)?;
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
            feed,
            limit,
            target,
            json,
        } => match (source, feed) {
            (_, Some(feed)) => preview_feed(&cli.config, &feed, limit, target.as_deref(), json),
            (Some(source), None) => preview(&cli.config, &source, limit, target.as_deref(), json),
            (None, None) => {
                eprintln!("error: say what to preview: SOURCE or --feed NAME");
                ExitCode::from(EXIT_CONFIG)
            }
        },
        Command::Retract { article } => with_store(&cli.config, |store, _| {
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
        Command::Retry { id, target, all } => with_store(&cli.config, |store, cfg| {
            if id.is_none() && target.is_none() && !all {
                return Err(words::UsageError(
                    "say which deliveries: --id N, --target NAME or --all".into(),
                )
                .into());
            }
            words::known_target(target.as_deref(), &cfg.targets, store)?;
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
        let report = inspect_contained(&rt, &fetcher, src);
        failed |= report.result.is_err();
        let text = crier_bots::panics::catch_sync(|| {
            if json {
                crate::sources::inspect::render_json_lines(&report)
            } else {
                crate::sources::inspect::render_table(&report)
            }
        })
        .unwrap_or_else(|msg| {
            failed = true;
            format!("{src}: error: internal error: {msg}\n")
        });
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
    use crier_bots::format::FeedFormat;
    let cfg = match optional_config(config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let (fetcher, rt) = match fetcher_and_runtime(cfg.as_ref()) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let report = inspect_contained(&rt, &fetcher, source);
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
    render_preview(
        cfg.as_ref(),
        None,
        &newest,
        &feed_format,
        &feed_name,
        only,
        json,
    )
}

/// `preview --feed NAME`: the configured feed read as `run` reads it.
fn preview_feed(
    config: &std::path::Path,
    feed: &str,
    limit: usize,
    only: Option<&str>,
    json: bool,
) -> ExitCode {
    let cfg = match load_config(config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let Some(f) = cfg.feed(feed) else {
        let names: Vec<&str> = cfg.feeds.iter().map(|f| f.name.0.as_str()).collect();
        eprintln!(
            "error: no feed named {feed:?} (configured: {})",
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        );
        return ExitCode::from(EXIT_CONFIG);
    };
    let (fetcher, rt) = match fetcher_and_runtime(Some(&cfg)) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let items = match rt.block_on(online::read_feed(&cfg, &fetcher, f)) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: feed {feed}: {e}");
            return ExitCode::from(EXIT_RUNTIME);
        }
    };
    let newest: Vec<_> = items.into_iter().rev().take(limit.max(1)).collect();
    render_preview(
        Some(&cfg),
        Some(f),
        &newest,
        &cfg.feed_format(f),
        &f.name.0,
        only,
        json,
    )
}

/// Print how `newest` would be posted on every target (those of `feed`
/// when given, with its filters applied).
fn render_preview(
    cfg: Option<&Config>,
    feed: Option<&crate::config::FeedConfig>,
    newest: &[crate::sources::SourceItem],
    feed_format: &crier_bots::format::FeedFormat,
    feed_name: &str,
    only: Option<&str>,
    json: bool,
) -> ExitCode {
    use crier_bots::format::TargetFormat;
    let feed_format = feed_format.clone();
    let feed_name = feed_name.to_string();
    let router = cfg.map(crate::pipeline::Router::new);
    let targets = match cfg {
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
    for item in newest {
        let mut post = item.post.clone();
        if post.feed.is_empty() || post.feed == "inspect" {
            post.feed = feed_name.clone();
        }
        if targets.is_empty() {
            // No config: both platforms' default look.
            match contained(|| crier_bots::format::terminal::preview(&post, &feed_format, &TargetFormat::default())) {
                Ok(text) if !json => {
                    let _ = writeln!(out, "════ {} ════\n{text}", post.label());
                }
                Ok(_) => {
                    for (platform, parts) in [
                        (
                            "telegram",
                            contained(|| crier_bots::format::telegram::render(&post, &feed_format, &TargetFormat::default()))
                                .map(|v| v.iter().map(|m| serde_json::json!({"method": m.method.as_str(), "params": m.params()})).collect::<Vec<_>>()),
                        ),
                        (
                            "discord",
                            contained(|| crier_bots::format::discord::render(&post, &feed_format, &TargetFormat::default()))
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
        let routes = match (feed, &router) {
            (Some(f), Some(r)) => Some(r.routes(f, &post, crate::pipeline::Admission::Deliver)),
            _ => None,
        };
        for (name, rt) in &targets {
            if only.is_some_and(|o| o != name) {
                continue;
            }
            if let Some(routes) = &routes {
                match routes.iter().find(|r| &r.target == name) {
                    None => continue,
                    Some(r) if r.state == State::Filtered => {
                        let why = r.reason.clone().unwrap_or_default();
                        if json {
                            let line = serde_json::json!({"article": post.link, "target": name, "filtered": why});
                            let _ = writeln!(out, "{line}");
                        } else {
                            let _ = writeln!(
                                out,
                                "════ {} → {name}: filtered ({why}) ════",
                                post.label()
                            );
                        }
                        continue;
                    }
                    Some(_) => {}
                }
            }
            match contained(|| rt.target.render(&post, &feed_format)) {
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

/// `inspect` of one source; a panic reports that source as an error (the
/// other sources go on).
fn inspect_contained(
    rt: &tokio::runtime::Runtime,
    fetcher: &crate::sources::Fetcher,
    src: &str,
) -> crate::sources::inspect::InspectReport {
    let run = async {
        crate::faults::check("inspect", src);
        crate::sources::inspect::inspect(fetcher, src).await
    };
    rt.block_on(crier_bots::panics::catch(run))
        .unwrap_or_else(|msg| crate::sources::inspect::InspectReport {
            source: src.to_string(),
            result: Err(crate::sources::SourceError::Parse {
                line: None,
                message: format!("internal error: {msg}"),
            }),
        })
}

/// A formatting step whose panic becomes an error like its others.
fn contained<T, E: std::fmt::Display>(f: impl FnOnce() -> Result<T, E>) -> Result<T, String> {
    match crier_bots::panics::catch_sync(f) {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(msg) => Err(format!("internal error: {msg}")),
    }
}

/// Run a command that reads (or re-queues in) the database only: it needs
/// the database path and the target names, not the platforms' tokens.
fn check_online(cfg: &Config) -> ExitCode {
    let (fetcher, rt) = match fetcher_and_runtime(Some(cfg)) {
        Ok(x) => x,
        Err(code) => return code,
    };
    match rt.block_on(online::check_online(cfg, &fetcher)) {
        Ok(r) => {
            print!("{}", r.text);
            if r.problems == 0 {
                println!("online check: OK");
                ExitCode::SUCCESS
            } else {
                println!("online check: {} problem(s)", r.problems);
                ExitCode::from(EXIT_RUNTIME)
            }
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_RUNTIME)
        }
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

fn test_target(config: &std::path::Path, target: &str) -> ExitCode {
    let cfg = match load_config(config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let (fetcher, rt) = match fetcher_and_runtime(Some(&cfg)) {
        Ok(x) => x,
        Err(code) => return code,
    };
    match rt.block_on(online::send_test(&cfg, &fetcher, target)) {
        Ok(lines) => {
            for l in lines {
                println!("{l}");
            }
            ExitCode::SUCCESS
        }
        Err(e) if e.is::<words::UsageError>() => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_CONFIG)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_RUNTIME)
        }
    }
}

fn with_store(
    config: &std::path::Path,
    f: impl FnOnce(&mut crier_storage::Store, &dbonly::DbConfig) -> anyhow::Result<()>,
) -> ExitCode {
    if !config.exists() {
        eprintln!("error: {}", words::missing_config(config));
        return ExitCode::from(EXIT_CONFIG);
    }
    let cfg = match dbonly::load(config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let res = dbonly::open_store(&cfg).and_then(|mut s| f(&mut s, &cfg));
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is::<words::UsageError>() => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_CONFIG)
        }
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
            .map(|u| crate::redact::redact_url(u.as_str()))
            .unwrap_or_else(|e| crate::redact::redact_text(&e));
        s.push_str(&format!(
            "  {}  {}  every {}  kind = {}  backfill = {}\n",
            f.name,
            url,
            humantime::format_duration(f.interval.0),
            words::toml_value(&f.kind),
            f.backfill
        ));
        if !f.filter.is_empty() {
            s.push_str(&format!("    filter: {}\n", words::filter(&f.filter)));
        }
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
            let extra = f
                .routes
                .iter()
                .filter(|r| r.target.0 == t.0 && !r.filter.is_empty())
                .map(|r| format!("  ({})", words::filter(&r.filter)))
                .collect::<String>();
            s.push_str(&format!("  {} → {}{extra}\n", f.name, t));
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

#[cfg(test)]
mod tests {
    #[test]
    fn clip_cuts_between_characters() {
        assert_eq!(super::clip("’’’’’", 3), "’’…");
        assert_eq!(super::clip("a😀b😀c", 4), "a😀b…");
        assert_eq!(super::clip("éé", 2), "éé");
    }
}
