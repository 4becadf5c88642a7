//! The command line: `crier run | check | status | log | retry`.

use std::io::Write;
use std::process::ExitCode;

use crier_storage::LogQuery;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::targets::BuildOptions;

mod args;
mod dbonly;
mod feeds;
mod migrate;
pub mod online;
mod preview;
mod tables;
mod words;

pub use args::{Cli, Command, FeedsCommand, LogFormat};
use preview::{inspect, preview_feed};
pub use tables::{audit_table, check_summary, log_table};

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
        Command::Migrate { from, to } => migrate::run(&cli.config, from, to),
        Command::Inspect { sources, json } => inspect(&cli.config, &sources, json),
        Command::Preview {
            source,
            feed,
            limit,
            target,
            json,
        } => match (source, feed) {
            (_, Some(feed)) => preview_feed(&cli.config, &feed, limit, target.as_deref(), json),
            (Some(source), None) => {
                preview::preview(&cli.config, &source, limit, target.as_deref(), json)
            }
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
                let targets = store.retract(id, crate::clock::Clock::System.now_ms())?;
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
            let now = crate::clock::Clock::System.now_ms();
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

/// `crier check --online`: ask each platform whether every target can be
/// posted to.
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

/// `crier status`: reads the database only (no platform tokens needed).
fn status(config: &std::path::Path) -> ExitCode {
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
    let now = crate::clock::Clock::System.now_ms();
    let res = dbonly::open_store(&cfg).and_then(|s| {
        crate::status::Summary::read_for(&s, &cfg.feeds, &cfg.target_platforms, now)
            .map_err(anyhow::Error::from)
    });
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

/// Run a command that reads (or re-queues in) the database only: it needs
/// the database path and the target names, not the platforms' tokens.
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
