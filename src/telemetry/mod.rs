//! What the running daemon tells about itself: Prometheus metrics
//! ([`Metrics`]) and the heartbeats of its long-lived tasks ([`Health`]).
//! The engine and the poller update both; the HTTP listener reads them.

mod health;
mod metrics;

use std::sync::Arc;

pub use health::{Busy, Health, Kind, Problem, Watch};
pub use metrics::{Metrics, PollOutcome};

/// The metrics and heartbeats of one daemon (cheap to clone).
#[derive(Clone, Default)]
pub struct Telemetry {
    pub metrics: Arc<Metrics>,
    pub health: Arc<Health>,
}

/// The metrics outcome of one poll.
pub fn poll_outcome(r: &Result<crate::poller::PollReport, crate::db::StoreError>) -> PollOutcome {
    match r {
        Err(_) => PollOutcome::Error("storage"),
        Ok(r) if r.error.is_some() => PollOutcome::Error(r.error_kind.unwrap_or("transient")),
        Ok(r) if r.new + r.updated > 0 => PollOutcome::New,
        Ok(r) if r.not_modified => PollOutcome::NotModified,
        Ok(_) => PollOutcome::Unchanged,
    }
}
