//! `crier inspect` and `crier preview`: what Crier reads from sources and
//! how the newest articles would be posted, without running the daemon.

use std::io::Write;
use std::process::ExitCode;

use super::{EXIT_CONFIG, EXIT_RUNTIME, fetcher_and_runtime, load_config, online};
use crate::config::Config;
use crate::targets::BuildOptions;
use crier_storage::State;

/// The config if there is one (for the User-Agent and timeouts), else the
/// defaults: `inspect` and `preview` work without a config file.
pub(super) fn optional_config(path: &std::path::Path) -> Result<Option<Config>, ExitCode> {
    if path.exists() {
        load_config(path).map(Some)
    } else {
        Ok(None)
    }
}

pub(super) fn inspect(config: &std::path::Path, sources: &[String], json: bool) -> ExitCode {
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

pub(super) fn preview(
    config: &std::path::Path,
    source: &str,
    limit: usize,
    only: Option<&str>,
    json: bool,
) -> ExitCode {
    use crier_bots::format::FeedRenderOptions;
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
            .map(|f| (c.feed_render_options(f), f.name.0.clone()))
    });
    let (feed_options, feed_name) =
        feed_cfg.unwrap_or((FeedRenderOptions::default(), "preview".into()));
    render_preview(
        cfg.as_ref(),
        None,
        &newest,
        &feed_options,
        &feed_name,
        only,
        json,
    )
}

/// `preview --feed NAME`: the configured feed read as `run` reads it.
pub(super) fn preview_feed(
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
        &cfg.feed_render_options(f),
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
    feed_options: &crier_bots::format::FeedRenderOptions,
    feed_name: &str,
    only: Option<&str>,
    json: bool,
) -> ExitCode {
    use crier_bots::format::TargetFormat;
    let feed_options = feed_options.clone();
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
            match contained(|| {
                crier_bots::format::terminal::preview(
                    &post,
                    &feed_options,
                    &TargetFormat::default(),
                )
            }) {
                Ok(text) if !json => {
                    let _ = writeln!(out, "════ {} ════\n{text}", post.label());
                }
                Ok(_) => {
                    for p in crate::platforms::registered() {
                        let platform = p.name();
                        let parts = match contained(|| {
                            Ok::<_, String>(p.preview_requests(&post, &feed_options))
                        }) {
                            Ok(None) => continue,
                            Ok(Some(r)) => r,
                            Err(e) => Err(e),
                        };
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
            match contained(|| rt.target.render(&post, &feed_options)) {
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
                            let text = rt.target.preview_text(p);
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
