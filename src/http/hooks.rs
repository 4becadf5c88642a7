//! The routes the platforms' front-ends ask for (Telegram's updates in
//! webhook mode: `POST /telegram/webhook/<secret>`). Each authenticates by
//! its own secrets (an unguessable path and a header compared in constant
//! time), not by the listener's token; it answers at once and the body is
//! handled in the background.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use crier_bots::platform::Hook;
use subtle::ConstantTimeEq;

use super::Mount;

/// The route of a hook; `platform` names it in logs.
pub fn mount(platform: &'static str, hook: Hook) -> Mount {
    let path = hook.path.clone();
    Mount::own(
        Router::new()
            .route(&path, post(receive))
            .with_state(Arc::new((platform, hook))),
    )
}

async fn receive(
    State(h): State<Arc<(&'static str, Hook)>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let (platform, hook) = (h.0, &h.1);
    let given = headers
        .get(hook.secret_header)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if !bool::from(given.ct_eq(hook.secret.as_bytes())) {
        tracing::warn!(
            platform,
            "webhook: a request without the right secret token was refused"
        );
        return StatusCode::UNAUTHORIZED;
    }
    match (hook.accept)(&body) {
        Ok(()) => StatusCode::OK,
        Err(e) => {
            tracing::warn!(platform, error = %e, "webhook: a body that is not an update");
            // The platform would resend a refused body forever: acknowledge it.
            StatusCode::OK
        }
    }
}
