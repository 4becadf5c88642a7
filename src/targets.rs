//! Building the configured targets (the adapters) from the config.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crier_bots::Target;
use crier_bots::console::ConsoleTarget;
use crier_bots::format::FeedFormat;

use crate::config::{Config, Platform};
use crate::engine::{Pacing, TargetRuntime};

/// Options for building targets that tests override.
#[derive(Default)]
pub struct BuildOptions {
    /// Where console targets write (stdout when `None`).
    pub console_sink: Option<Arc<dyn Fn() -> crier_bots::console::Sink + Send + Sync>>,
}

/// One runtime per configured target.
pub fn build(cfg: &Config, opts: &BuildOptions) -> anyhow::Result<BTreeMap<String, TargetRuntime>> {
    let mut out = BTreeMap::new();
    for t in &cfg.targets {
        let target: Arc<dyn Target> = match t.platform {
            Platform::Console => Arc::new(match &opts.console_sink {
                Some(mk) => ConsoleTarget::new(t.name.0.clone(), cfg.target_format(t), mk()),
                None => ConsoleTarget::stdout(t.name.0.clone(), cfg.target_format(t)),
            }),
            other => anyhow::bail!(
                "target {:?}: platform {} is not available in this build yet",
                t.name.0,
                other.as_str()
            ),
        };
        out.insert(
            t.name.0.clone(),
            TargetRuntime::new(target, t.on_failure.unwrap_or(cfg.delivery.on_failure))
                .with_pacing(Pacing {
                    max_posts_per_hour: t.max_posts_per_hour,
                    min_gap: t.min_gap.map(|d| d.0),
                    digest: t.digest,
                }),
        );
    }
    Ok(out)
}

/// Per-feed formatting settings.
pub fn feed_formats(cfg: &Config) -> HashMap<String, FeedFormat> {
    cfg.feeds
        .iter()
        .map(|f| (f.name.0.clone(), cfg.feed_format(f)))
        .collect()
}
