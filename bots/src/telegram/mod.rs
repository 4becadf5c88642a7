//! The Telegram adapter: delivers, edits and deletes posts through
//! teloxide, pacing every request with [`ratelimit::RateLimiter`] so that flood
//! limits are honoured by design, and classifying Telegram's answers for
//! the delivery engine. This file holds the bot client and the per-target
//! options; the target is in `delivery`, the classification of answers in
//! `classify`, the payload translation in `wire`, the Telegraph API client
//! in `telegraph`.

mod check;
mod classify;
pub mod commands;
pub mod config;
mod delivery;
mod files;
pub mod platform;
pub mod ratelimit;
pub mod telegraph;
pub mod webhook;
mod wire;

use std::sync::Arc;
use std::time::Duration;

use url::Url;

pub(crate) use classify::redact_error;
pub use delivery::TelegramTarget;
pub use ratelimit::Limits;
use wire::chat_recipient;
pub(crate) use wire::group_or_channel;

/// One bot: the teloxide client and the flood limiter shared by every
/// Telegram target (the 30 messages/s limit is per bot).
pub struct TelegramClient {
    bot: teloxide::Bot,
    limiter: ratelimit::RateLimiter,
}

impl std::fmt::Debug for TelegramClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the token.
        f.write_str("TelegramClient")
    }
}

impl TelegramClient {
    /// `api_url` is the Bot API base (`https://api.telegram.org`, or a
    /// local Bot API server / a fake). `timeout` bounds each request.
    pub fn new(
        token: &str,
        api_url: &Url,
        limits: Limits,
        timeout: Duration,
    ) -> Result<Arc<TelegramClient>, String> {
        crate::scrub::register_secret(token);
        let http = teloxide::net::default_reqwest_settings()
            .timeout(timeout)
            .build()
            .map_err(|e| format!("cannot set up the HTTP client: {e}"))?;
        let bot = teloxide::Bot::with_client(token, http).set_api_url(api_url.clone());
        Ok(Arc::new(TelegramClient {
            bot,
            limiter: ratelimit::RateLimiter::new(limits),
        }))
    }

    /// The teloxide bot (for the commands front-end).
    pub fn bot(&self) -> &teloxide::Bot {
        &self.bot
    }

    pub fn limiter(&self) -> &ratelimit::RateLimiter {
        &self.limiter
    }
}

/// Per-target delivery options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TelegramOptions {
    /// `-100…` or `@username`.
    pub chat: String,
    /// Forum topic.
    pub thread: Option<i32>,
    /// `disable_notification`.
    pub silent: bool,
    /// `protect_content`.
    pub protect_content: bool,
}
