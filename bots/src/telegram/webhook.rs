//! Telegram webhook mode: instead of long polling, Telegram POSTs each
//! update to a URL of ours (`setWebhook` with a `secret_token` it sends
//! back in `X-Telegram-Bot-Api-Secret-Token`). The core's HTTP listener
//! receives the requests, checks the secret and hands the body to
//! [`TelegramFrontend::accept`], which answers at once and handles the
//! update in the background. On stop the webhook is deleted.

use std::future::IntoFuture;
use std::sync::Arc;
use std::time::Duration;

use teloxide::payloads::SetWebhookSetters;
use teloxide::prelude::Requester;
use teloxide::types::{AllowedUpdate, Update};
use tokio_util::sync::CancellationToken;

use super::commands::TelegramFrontend;

/// The header Telegram sends the `secret_token` in.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// The listener path the webhook is served at, for a secret.
pub fn path(secret_path: &str) -> String {
    format!("/telegram/webhook/{secret_path}")
}

/// A fresh secret for the webhook's path and `secret_token` (Telegram
/// allows `A-Z a-z 0-9 _ -`, 1–256 characters).
pub fn new_secret() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..40)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

impl TelegramFrontend {
    /// Take one update (the body Telegram POSTed): parse it and handle it
    /// in the background. An error means the body is not an update.
    pub fn accept(self: &Arc<Self>, body: &[u8]) -> Result<(), String> {
        let u: Update =
            serde_json::from_slice(body).map_err(|e| format!("not a Telegram update: {e}"))?;
        let me = self.clone();
        tokio::spawn(async move { me.update(u.kind).await });
        Ok(())
    }

    /// Webhook mode until `shutdown`: set the webhook (retrying until
    /// Telegram accepts it), wait, then delete it.
    pub async fn run_webhook(
        self: Arc<Self>,
        url: url::Url,
        secret_token: String,
        shutdown: CancellationToken,
    ) {
        self.hello(&shutdown).await;
        let mut backoff = Duration::from_secs(1);
        loop {
            let req = self
                .bot()
                .set_webhook(url.clone())
                .secret_token(secret_token.clone())
                .allowed_updates(vec![AllowedUpdate::Message, AllowedUpdate::CallbackQuery]);
            let res = tokio::select! {
                r = req.into_future() => r,
                _ = shutdown.cancelled() => return,
            };
            match res {
                Ok(_) => {
                    // The URL holds the secret path: log its host only.
                    tracing::info!(host = ?url.host_str(), "Telegram commands: webhook set");
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %crate::scrub::scrubbed(super::redact_error(&e)), "Telegram setWebhook failed; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = shutdown.cancelled() => return,
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(60));
                }
            }
        }
        shutdown.cancelled().await;
        match self.bot().delete_webhook().await {
            Ok(_) => tracing::info!("Telegram commands: webhook deleted"),
            Err(e) => {
                tracing::warn!(error = %crate::scrub::scrubbed(super::redact_error(&e)), "Telegram deleteWebhook failed")
            }
        }
    }
}
