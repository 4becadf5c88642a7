//! The WordPress publish hook: a site calls
//! `/hooks/wordpress/<feed>/<secret>` (GET or POST; WordPress's own
//! Update Services, Settings → Writing, POST an XML-RPC
//! `weblogUpdates.ping` there) or POSTs `/hooks/wordpress/<feed>` with the
//! secret in `X-Crier-Hook-Secret` (a webhook plugin), and the feed is
//! polled now. The secret is the feed's `wordpress_hook_secret`, compared
//! in constant time; an unknown feed and a wrong secret get the same 404.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use subtle::ConstantTimeEq;

use super::Push;

/// What WordPress's pinger expects from an XML-RPC ping service.
const XMLRPC_OK: &str = r#"<?xml version="1.0"?>
<methodResponse><params><param><value><struct>
<member><name>flerror</name><value><boolean>0</boolean></value></member>
<member><name>message</name><value><string>Thanks for the ping.</string></value></member>
</struct></value></param></params></methodResponse>
"#;

/// The header a webhook plugin puts the secret in.
pub const SECRET_HEADER: &str = "x-crier-hook-secret";

pub fn routes(push: Arc<Push>) -> Router {
    Router::new()
        .route(
            "/hooks/wordpress/{feed}/{secret}",
            get(with_path_secret).post(with_path_secret),
        )
        .route("/hooks/wordpress/{feed}", post(with_header_secret))
        .with_state(push)
}

async fn with_path_secret(
    State(push): State<Arc<Push>>,
    Path((feed, secret)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    hook(&push, &feed, secret.as_bytes(), &headers)
}

async fn with_header_secret(
    State(push): State<Arc<Push>>,
    Path(feed): Path<String>,
    headers: HeaderMap,
) -> Response {
    let secret = headers
        .get(SECRET_HEADER)
        .map(|v| v.as_bytes().to_vec())
        .unwrap_or_default();
    hook(&push, &feed, &secret, &headers)
}

fn hook(push: &Push, feed: &str, given: &[u8], headers: &HeaderMap) -> Response {
    let expected = push
        .poller
        .feed(feed)
        .and_then(|f| f.feed.hook_secret().map(|s| s.as_bytes().to_vec()));
    let ok = match &expected {
        Some(e) => !given.is_empty() && bool::from(e.as_slice().ct_eq(given)),
        None => false,
    };
    if !ok {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    if !push
        .limiter
        .allow(&format!("hook:{feed}"), super::HOOKS_PER_MINUTE)
    {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "60")],
            "too many calls; the feed is polled soon anyway",
        )
            .into_response();
    }
    tracing::info!(feed = %feed, "WordPress hook: polling the feed now");
    push.poller.poll_now(feed);
    let xml = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.contains("xml"));
    if xml {
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
            XMLRPC_OK,
        )
            .into_response()
    } else {
        (StatusCode::ACCEPTED, "polling the feed").into_response()
    }
}
