//! Building the configured targets (the adapters) from the config: each
//! platform builds its own targets (they may share one client), the core
//! wraps each in its runtime (failure policy, pacing).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crier_bots::format::FeedRenderOptions;
use crier_bots::platform::{DynPlatform, TargetInput};

use crate::config::Config;
use crate::engine::{Pacing, TargetRuntime};

/// Options for building targets that tests override.
#[derive(Default)]
pub struct BuildOptions {
    /// Platforms that replace the registered one of the same name (a
    /// console that writes into a buffer, say).
    pub platforms: Vec<Arc<dyn DynPlatform>>,
    /// What platforms may keep in the delivery log (`crier run`); `None`
    /// elsewhere.
    pub kv: Option<Arc<dyn crier_bots::platform::KvStore>>,
}

/// One runtime per configured target.
pub fn build(cfg: &Config, opts: &BuildOptions) -> anyhow::Result<BTreeMap<String, TargetRuntime>> {
    let mut out = BTreeMap::new();
    for p in &cfg.platforms {
        let mine: Vec<_> = cfg
            .targets
            .iter()
            .filter(|t| t.platform.name() == p.name())
            .collect();
        if mine.is_empty() {
            continue;
        }
        let inputs: Vec<TargetInput<'_, dyn crier_bots::platform::Spec>> = mine
            .iter()
            .map(|t| TargetInput {
                name: &t.name.0,
                silent: t.silent,
                format: cfg.target_format(t),
                spec: &*t.spec,
                kv: opts.kv.clone(),
            })
            .collect();
        let platform = opts
            .platforms
            .iter()
            .find(|o| o.name() == p.name())
            .unwrap_or(&p.platform);
        let built = platform
            .build(p.section.as_deref(), &inputs)
            .map_err(anyhow::Error::msg)?;
        anyhow::ensure!(
            built.len() == mine.len(),
            "{} built {} targets of {}",
            p.name(),
            built.len(),
            mine.len()
        );
        for (t, target) in mine.into_iter().zip(built) {
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
    }
    Ok(out)
}

/// Per-feed formatting settings.
/// Only feeds whose settings differ from the defaults are listed (the
/// engine falls back to the defaults): 100,000 feeds do not cost 100,000
/// copies of the default.
pub fn feed_render_options(cfg: &Config) -> HashMap<String, FeedRenderOptions> {
    let default = FeedRenderOptions::default();
    cfg.feeds
        .iter()
        .map(|f| (f.name.0.clone(), cfg.feed_render_options(f)))
        .filter(|(_, o)| *o != default)
        .collect()
}
