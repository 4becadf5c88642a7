//! `crier check --online` (ask each platform whether every target can be
//! posted to, and each feed whether it answers and parses) and `crier test
//! TARGET` (send one sample post and print its link).

use std::fmt::Write as _;

use crier_bots::{Post, SendCtx, Target};

use crate::config::Config;
use crate::sources::{FetchState, Fetcher, PollOutcome, SourceItem, sort_oldest_first};
use crate::targets::BuildOptions;

/// The result of `check --online`: the report and whether all is well.
pub struct OnlineReport {
    pub text: String,
    pub problems: usize,
}

/// Read a configured feed exactly as `crier run` does (its `kind`,
/// WordPress REST, headers, body cap): its items, oldest first.
pub async fn read_feed(
    cfg: &Config,
    fetcher: &Fetcher,
    feed: &crate::config::FeedConfig,
) -> Result<Vec<SourceItem>, String> {
    let spec = crate::poller::spec_for(cfg, feed)?;
    match fetcher.poll(&spec, &FetchState::default()).await {
        Ok(PollOutcome::Items { mut items, .. }) => {
            sort_oldest_first(&mut items);
            Ok(items)
        }
        Ok(PollOutcome::NotModified { .. }) => Ok(Vec::new()),
        Err(e) => Err(e.to_string()),
    }
}

pub async fn check_online(cfg: &Config, fetcher: &Fetcher) -> anyhow::Result<OnlineReport> {
    let targets = crate::targets::build(cfg, &BuildOptions::default())?;
    let mut text = String::new();
    let mut problems = 0;
    for (name, rt) in &targets {
        let found = rt.target.check().await;
        if found.is_empty() {
            let _ = writeln!(text, "ok     target {name} ({})", rt.target.platform());
        }
        for p in found {
            problems += 1;
            let _ = writeln!(text, "error: target {name}: {p}");
        }
    }
    for f in &cfg.feeds {
        match read_feed(cfg, fetcher, f).await {
            Ok(items) => {
                let _ = writeln!(text, "ok     feed {} ({} items)", f.name, items.len());
            }
            Err(e) => {
                problems += 1;
                let _ = writeln!(
                    text,
                    "error: feed {}: {e}: check its `url` (`crier inspect URL` shows what Crier reads there)",
                    f.name
                );
            }
        }
    }
    Ok(OnlineReport { text, problems })
}

/// The post `crier test` sends when no routed feed has an article.
pub fn sample_post() -> Post {
    Post {
        feed: "crier-test".into(),
        title: "Crier test post".into(),
        link: Some("https://example.org/crier-test".into()),
        summary_html: Some(
            "<p>This is a <b>test post</b> sent by <code>crier test</code>: if you can read it, Crier can post here.</p>"
                .into(),
        ),
        ..Post::default()
    }
}

/// Send one sample post to `target`: the newest article of the first feed
/// routed to it, or [`sample_post`]. Returns the lines to print (the
/// message links). Nothing is recorded in the delivery log.
pub async fn send_test(
    cfg: &Config,
    fetcher: &Fetcher,
    target: &str,
) -> anyhow::Result<Vec<String>> {
    let targets = crate::targets::build(cfg, &BuildOptions::default())?;
    let Some(rt) = targets.get(target) else {
        let names: Vec<&str> = targets.keys().map(String::as_str).collect();
        return Err(super::words::UsageError(format!(
            "no target named {target:?} (configured: {})",
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        ))
        .into());
    };
    let feed = cfg
        .feeds
        .iter()
        .find(|f| f.targets.iter().any(|t| t.0 == target));
    let (post, format, from) = match feed {
        Some(f) => match read_feed(cfg, fetcher, f).await {
            Ok(items) if !items.is_empty() => {
                let mut post = items.last().map(|i| i.post.clone()).unwrap_or_default();
                post.feed = f.name.0.clone();
                (
                    post,
                    cfg.feed_render_options(f),
                    format!("the newest article of feed {}", f.name),
                )
            }
            Ok(_) => (
                sample_post(),
                Default::default(),
                format!("a sample (feed {} is empty)", f.name),
            ),
            Err(e) => (
                sample_post(),
                Default::default(),
                format!("a sample (feed {} failed: {e})", f.name),
            ),
        },
        None => (
            sample_post(),
            Default::default(),
            "a sample (no feed is routed here)".to_string(),
        ),
    };
    let parts = rt
        .target
        .render(&post, &format)
        .map_err(|e| anyhow::anyhow!("cannot render {from}: {e}"))?;
    let mut out = vec![format!("sending {from}: {}", post.label())];
    let label = post.label().to_string();
    for (i, part) in parts.iter().enumerate() {
        let ctx = SendCtx {
            delivery_id: 0,
            attempt: 1,
            article: label.clone(),
            sent_at: None,
        };
        let sent = send(rt.target.as_ref(), part, &ctx).await.map_err(|e| {
            anyhow::anyhow!(
                "part {}: {}",
                i + 1,
                crier_bots::check::with_hint(&e.to_string(), target)
            )
        })?;
        let shown = match sent.message {
            Some(m) => m.url.unwrap_or(m.id),
            None => "sent".to_string(),
        };
        out.push(format!("posted: {shown}"));
    }
    Ok(out)
}

async fn send(
    t: &dyn Target,
    part: &crier_bots::Part,
    ctx: &SendCtx,
) -> Result<crier_bots::Sent, crier_bots::DeliveryError> {
    t.send(part, ctx).await
}
