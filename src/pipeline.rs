//! Routing: which targets an article goes to, and in which state its
//! delivery rows start.

use crier_bots::Post;
use crier_storage::{Route, State};

use crate::config::FeedConfig;

/// Why a delivery row starts out skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Deliver.
    Deliver,
    /// The item was already in the feed when Crier first read it.
    Baseline,
}

/// The delivery rows of a new article from `feed`.
pub fn routes_for(feed: &FeedConfig, _post: &Post, admission: Admission) -> Vec<Route> {
    feed.targets
        .iter()
        .map(|t| match admission {
            Admission::Deliver => Route::pending(t.0.clone()),
            Admission::Baseline => Route::with_state(
                t.0.clone(),
                State::Skipped,
                format!(
                    "already in the feed when Crier first read it (backfill = {})",
                    feed.backfill
                ),
            ),
        })
        .collect()
}
