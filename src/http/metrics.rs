//! `GET /metrics`: the Prometheus text format. The gauges read from the
//! delivery log (queues, alerts, paused and disabled) are refreshed at
//! each scrape.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::HttpState;

pub fn routes(state: Arc<HttpState>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .with_state(state)
}

/// Refresh the log-backed gauges.
pub async fn refresh(st: &HttpState) -> Result<(), crate::db::StoreError> {
    let targets: Vec<String> = st.cfg.targets.iter().map(|t| t.name.0.clone()).collect();
    let (queues, alerts, paused_feeds, disabled, paused_targets) = st
        .db
        .call(move |s| {
            let queues = s.queue_stats()?;
            let alerts = s.open_alerts()?.len();
            let paused_feeds = s
                .feed_states()?
                .iter()
                .filter(|f| f.paused_reason.is_some())
                .count();
            let (mut disabled, mut paused) = (0, 0);
            for t in &targets {
                if let Some(ts) = s.target_state(t)? {
                    disabled += usize::from(ts.disabled_reason.is_some());
                    paused += usize::from(ts.paused_reason.is_some());
                }
            }
            Ok((queues, alerts, paused_feeds, disabled, paused))
        })
        .await?;
    st.telemetry.metrics.refresh(
        &queues,
        alerts,
        paused_feeds,
        disabled,
        paused_targets,
        st.db.now_ms(),
    );
    Ok(())
}

async fn metrics(State(st): State<Arc<HttpState>>) -> Response {
    if let Err(e) = refresh(&st).await {
        tracing::error!(error = %e, "cannot read the delivery log for /metrics");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("database error: {e}\n"),
        )
            .into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        st.telemetry.metrics.encode(),
    )
        .into_response()
}
