//! `POST /telegram/webhook/<secret>`: Telegram's updates in webhook mode
//! (`telegram.updates = "webhook"`). The route authenticates by its own
//! secrets (the path and `X-Telegram-Bot-Api-Secret-Token`), not by the
//! listener's token; it answers at once and the update is handled in the
//! background.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use crier_bots::telegram::commands::TelegramFrontend;
use subtle::ConstantTimeEq;

use super::Mount;

pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

struct Hook {
    frontend: Arc<TelegramFrontend>,
    secret_token: String,
}

/// The path the webhook is served at, for a secret.
pub fn path(secret_path: &str) -> String {
    format!("/telegram/webhook/{secret_path}")
}

/// The webhook route for `frontend`.
pub fn mount(frontend: Arc<TelegramFrontend>, secret_path: &str, secret_token: String) -> Mount {
    let hook = Arc::new(Hook {
        frontend,
        secret_token,
    });
    Mount::own(
        Router::new()
            .route(&path(secret_path), post(receive))
            .with_state(hook),
    )
}

async fn receive(State(h): State<Arc<Hook>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let given = headers
        .get(SECRET_HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if !bool::from(given.ct_eq(h.secret_token.as_bytes())) {
        tracing::warn!("Telegram webhook: a request without the right secret token was refused");
        return StatusCode::UNAUTHORIZED;
    }
    match h.frontend.accept(&body) {
        Ok(()) => StatusCode::OK,
        Err(e) => {
            tracing::warn!(error = %e, "Telegram webhook: a body that is not an update");
            // Telegram would resend a failed update forever: acknowledge it.
            StatusCode::OK
        }
    }
}

/// In webhook mode: the route, and what `run_webhook` needs (the front-end,
/// the public URL with the secret path, the secret token).
#[allow(clippy::type_complexity)]
pub fn webhook(
    frontend: Option<Arc<TelegramFrontend>>,
    cfg: &crate::config::Config,
) -> anyhow::Result<(
    Vec<Mount>,
    Option<(Arc<TelegramFrontend>, url::Url, String)>,
)> {
    let Some(fe) = frontend else {
        return Ok((Vec::new(), None));
    };
    let Some(base) = cfg.http.public_url.as_ref() else {
        anyhow::bail!("telegram.updates = \"webhook\" needs [http] public_url");
    };
    let secret_path = crier_bots::telegram::webhook::new_secret();
    let secret_token = crier_bots::telegram::webhook::new_secret();
    let mut url = base.0.clone();
    let joined = format!("{}{}", url.path().trim_end_matches('/'), path(&secret_path));
    url.set_path(&joined);
    if !matches!(url.port_or_known_default(), Some(443 | 80 | 88 | 8443)) {
        tracing::warn!(port = ?url.port(), "Telegram delivers webhooks to ports 443, 80, 88 and 8443 only: check [http] public_url");
    }
    Ok((
        vec![mount(fe.clone(), &secret_path, secret_token.clone())],
        Some((fe, url, secret_token)),
    ))
}
