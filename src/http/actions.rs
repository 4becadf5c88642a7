//! The page's buttons: pause/resume a feed, retry a target or a delivery.
//! They go through the command layer (`CommandCenter`: permissions, audit log)
//! as the caller `http:<remote address>`. Browser sessions must send their
//! CSRF token; bearer-token callers (no cookies involved) need none.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Form, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use crier_bots::commands::{Caller, Cmd, RetryWhat};
use serde::Deserialize;

use super::HttpState;
use super::auth::Who;

pub fn routes(state: Arc<HttpState>) -> Router {
    Router::new()
        .route("/actions/pause", post(pause))
        .route("/actions/resume", post(resume))
        .route("/actions/retry", post(retry))
        .with_state(state)
}

#[derive(Deserialize)]
struct ActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    target: Option<String>,
    #[serde(default)]
    delivery: Option<i64>,
}

fn caller(remote: SocketAddr) -> Caller {
    Caller {
        platform: crier_bots::commands::WEB,
        user_id: 0,
        name: format!("http:{remote}"),
        roles: Vec::new(),
    }
}

async fn run(
    st: &HttpState,
    who: Who,
    remote: SocketAddr,
    headers: &HeaderMap,
    csrf: &str,
    cmd: Option<Cmd>,
) -> Response {
    let csrf_ok = match &who {
        Who::Bearer => true,
        Who::Session(id) => st.sessions.check_csrf(id, csrf),
        Who::Open => false,
    };
    if !csrf_ok {
        tracing::warn!(%remote, "status page action refused: missing or wrong CSRF token");
        return (
            StatusCode::FORBIDDEN,
            Json(serde_json::json!({"error": "missing or wrong CSRF token; reload the page"})),
        )
            .into_response();
    }
    let Some(cmd) = cmd else {
        return (
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({"error": "say what: name, target or delivery"})),
        )
            .into_response();
    };
    let reply = st
        .command_center
        .handle(&caller(remote), cmd)
        .await
        .map(|r| r.text)
        .unwrap_or_else(|| "Refused.".into());
    let browser = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if browser || matches!(who, Who::Session(_)) {
        let q: String = url::form_urlencoded::byte_serialize(reply.as_bytes()).collect();
        Redirect::to(&format!("/?done={q}")).into_response()
    } else {
        Json(serde_json::json!({"reply": reply})).into_response()
    }
}

async fn pause(
    State(st): State<Arc<HttpState>>,
    Extension(who): Extension<Who>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<ActionForm>,
) -> Response {
    let cmd = f
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .map(Cmd::Pause);
    run(&st, who, remote, &headers, &f.csrf, cmd).await
}

async fn resume(
    State(st): State<Arc<HttpState>>,
    Extension(who): Extension<Who>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<ActionForm>,
) -> Response {
    let cmd = f
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .map(Cmd::Resume);
    run(&st, who, remote, &headers, &f.csrf, cmd).await
}

async fn retry(
    State(st): State<Arc<HttpState>>,
    Extension(who): Extension<Who>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<ActionForm>,
) -> Response {
    let cmd = match (
        f.delivery,
        f.target.clone().filter(|t| !t.trim().is_empty()),
    ) {
        (Some(id), _) => Some(Cmd::Retry(RetryWhat::Delivery(id))),
        (None, Some(t)) => Some(Cmd::Retry(RetryWhat::Target(t))),
        (None, None) => None,
    };
    run(&st, who, remote, &headers, &f.csrf, cmd).await
}
