//! `crier feeds import FILE.opml --targets NAME…` and `crier feeds export`.
//! Both read only the database and the config file (no tokens needed).

use std::path::Path;

use super::dbonly::DbConfig;
use super::words::UsageError;
use crate::opml;

/// Import an OPML file's feeds, routed to `targets`.
pub fn import(
    cfg: &DbConfig,
    store: &mut crier_storage::Store,
    file: &Path,
    targets: &[String],
) -> anyhow::Result<String> {
    if targets.is_empty() {
        return Err(UsageError("say where the feeds post: --targets NAME…".into()).into());
    }
    for t in targets {
        if !cfg.targets.contains(t) {
            return Err(UsageError(format!(
                "no target named {t:?} (configured: {})",
                if cfg.targets.is_empty() {
                    "none".to_string()
                } else {
                    cfg.targets.join(", ")
                }
            ))
            .into());
        }
    }
    let text = std::fs::read_to_string(file)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let feeds = opml::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let watched = cfg
        .feeds
        .iter()
        .cloned()
        .chain(store.dynamic_feeds()?.into_iter().map(|f| (f.name, f.url)));
    let mut existing = opml::Existing::new(watched);
    let (rows, report) = opml::plan(
        &feeds,
        &mut existing,
        targets,
        cfg.subscribe_interval_ms,
        "cli",
        crate::clock::Clock::System.now_ms(),
        |_| Ok(()),
    );
    opml::store_all(store, &rows)?;
    let mut s = report.summary();
    if !rows.is_empty() {
        s.push_str("\n`crier run` watches them from its next start");
    }
    Ok(s)
}

/// Every feed (the config's and those added from chat or by import) as OPML.
pub fn export(cfg: &DbConfig, store: &crier_storage::Store) -> anyhow::Result<String> {
    let dynamic = store.dynamic_feeds()?;
    let all = cfg
        .feeds
        .iter()
        .map(|(n, u)| (n.as_str(), u.as_str()))
        .chain(dynamic.iter().map(|f| (f.name.as_str(), f.url.as_str())));
    Ok(opml::export("Crier feeds", all))
}
