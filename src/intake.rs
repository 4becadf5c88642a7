//! The cap on new articles per poll (`[sources] max_new_per_poll`): a feed
//! that suddenly presents thousands of new items (a GUID scheme change, a
//! hostile server) queues at most the cap, newest first; the older excess
//! is recorded `skipped` with the reason, so it is never posted later as
//! "new", and admins get one alert per feed incident.

use std::collections::HashSet;

use crier_storage::{Route, State};

use crate::db::{Db, StoreError};
use crate::sources::SourceItem;

/// The alert key of a feed's flood incident.
pub fn alert_key(feed: &str) -> String {
    format!("feed-flood:{feed}")
}

/// The reason stored with a skipped excess article.
pub fn skip_reason(cap: usize) -> String {
    format!("over the cap of {cap} new articles per poll ([sources] max_new_per_poll)")
}

/// What the cap decided for one poll.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Overflow {
    /// New articles in the poll.
    pub new: usize,
    /// Preferred keys of the new articles past the cap (the oldest ones).
    pub skipped: HashSet<String>,
}

/// `items` oldest first. Looks the items up by all their keys and returns
/// the oldest new ones past `cap`. No lookup when the document has no more
/// items than the cap.
pub async fn overflow(
    db: &Db,
    feed: &str,
    items: &[SourceItem],
    cap: usize,
) -> Result<Overflow, StoreError> {
    if items.len() <= cap {
        return Ok(Overflow::default());
    }
    let name = feed.to_owned();
    let keys: Vec<Vec<String>> = items.iter().map(|i| i.keys.clone()).collect();
    let is_new: Vec<bool> = db
        .call(move |s| {
            let mut out = Vec::with_capacity(keys.len());
            for ks in &keys {
                let mut known = false;
                for k in ks {
                    if s.article_by_key(&name, k)?.is_some() {
                        known = true;
                        break;
                    }
                }
                out.push(!known);
            }
            Ok(out)
        })
        .await?;
    let new_idx: Vec<usize> = (0..items.len()).filter(|i| is_new[*i]).collect();
    let excess = new_idx.len().saturating_sub(cap);
    Ok(Overflow {
        new: new_idx.len(),
        skipped: new_idx[..excess]
            .iter()
            .map(|i| items[*i].key().to_owned())
            .collect(),
    })
}

/// The routes of an article past the cap: every one `skipped`.
pub fn skip_routes(routes: Vec<Route>, cap: usize) -> Vec<Route> {
    routes
        .into_iter()
        .map(|r| Route::with_state(r.target, State::Skipped, skip_reason(cap)))
        .collect()
}
