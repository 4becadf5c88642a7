//! `/subscribe` of a URL that is already watched: the requested targets
//! are added to the existing feed (a feed added from chat) instead of a
//! second feed, which would post every article twice. A feed from
//! `config.toml` cannot be changed from chat: the answer says so.

use std::sync::Arc;

use crate::config::Config;
use crate::db::Db;
use crate::poller::Poller;
use crate::sources::{feed_identity, resolve_location};

/// `Some(reply)` when `url` is already watched (after normalisation).
pub async fn merge_into_existing(
    db: &Db,
    poller: &Arc<Poller>,
    cfg: &Config,
    url: &str,
    targets: &[String],
) -> Option<String> {
    // Resolved as the config resolves its feeds, so that a path names the
    // same file as a configured feed's.
    let wanted = feed_identity(&resolve_location(url, &cfg.base_dir).ok()?);
    let info = poller.feeds().into_iter().find(|f| {
        cfg.feed_location(&f.feed)
            .is_ok_and(|u| feed_identity(&u) == wanted)
    })?;
    let name = info.feed.name.0.clone();
    let have: Vec<String> = info.feed.targets.iter().map(|t| t.0.clone()).collect();
    let added: Vec<String> = targets
        .iter()
        .filter(|t| !have.contains(t))
        .cloned()
        .collect();
    if added.is_empty() {
        return Some(format!(
            "Already watched as feed {name} → {}.",
            have.join(", ")
        ));
    }
    if !info.dynamic {
        return Some(format!(
            "Already watched as feed {name} (from config.toml); add {} to its targets there.",
            added.join(", ")
        ));
    }
    let n = name.clone();
    let extra = added.clone();
    let rec = db
        .call(move |s| {
            let Some(mut rec) = s.dynamic_feeds()?.into_iter().find(|f| f.name == n) else {
                return Ok(None);
            };
            let old = rec.clone();
            rec.targets.extend(extra.iter().cloned());
            s.remove_dynamic_feed(&n)?;
            if let Err(e) = s.add_dynamic_feed(&rec) {
                // Put the old record back rather than lose the feed.
                let _ = s.add_dynamic_feed(&old);
                return Err(e);
            }
            Ok(Some(rec))
        })
        .await;
    match rec {
        Ok(Some(rec)) => {
            if poller.remove_feed(&name).is_ok() {
                poller.add_feed(crate::commands::dynamic_feed_config(&rec));
            }
            Some(format!(
                "Already watched as feed {name}; added {} → now {}.",
                added.join(", "),
                rec.targets.join(", ")
            ))
        }
        Ok(None) => Some(format!("Feed {name} is being changed; try again.")),
        Err(e) => Some(format!(
            "Storage error: {e}. Nothing was changed; try again."
        )),
    }
}
