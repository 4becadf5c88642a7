//! `GET /healthz` (the process answers) and `GET /readyz` (the database
//! answers; every worker and watcher is alive and not wedged).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use super::HttpState;
use crate::telemetry::Kind;

/// The database must answer within this.
const DB_TIMEOUT: Duration = Duration::from_secs(5);

pub fn routes(state: Arc<HttpState>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(state)
}

async fn healthz() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

async fn readyz(State(st): State<Arc<HttpState>>) -> impl IntoResponse {
    let mut problems = Vec::new();
    let db = tokio::time::timeout(DB_TIMEOUT, st.db.call(|s| s.schema_version())).await;
    let database = match db {
        Ok(Ok(_)) => "ok".to_string(),
        Ok(Err(e)) => {
            problems.push(format!("database: {e}"));
            "error".into()
        }
        Err(_) => {
            problems.push(format!("database: no answer within {DB_TIMEOUT:?}"));
            "timeout".into()
        }
    };
    let limit = st.cfg.http.stuck_after.0;
    let tasks = st.telemetry.health.problems(limit);
    for t in &tasks {
        let what = match t.kind {
            Kind::Worker => "delivery worker of target",
            Kind::Watcher => "watcher of feed",
        };
        problems.push(match t.busy_seconds {
            Some(s) => format!(
                "{what} {} is stuck ({s}s on one step, limit {}s)",
                t.name,
                limit.as_secs()
            ),
            None => format!("{what} {} is gone (it panicked)", t.name),
        });
    }
    let body = json!({
        "status": if problems.is_empty() { "ready" } else { "not ready" },
        "database": database,
        "workers": st.telemetry.health.alive(Kind::Worker),
        "watchers": st.telemetry.health.alive(Kind::Watcher),
        "tasks": tasks,
        "problems": problems,
    });
    let code = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body))
}
