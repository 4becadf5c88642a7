//! The one interface between the core's delivery engine and a platform.
//!
//! The core never looks inside a [`Part`]: it stores the payload in the
//! delivery log as opaque JSON and hands it back to the same target to send,
//! edit or delete. Everything platform-specific (API shapes, limits, error
//! texts, fallbacks) lives behind this trait.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::format::FeedRenderOptions;
use crate::model::Post;

/// One message of a rendered post, as the platform will receive it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Part {
    /// The platform payload (Telegram method parameters, Discord message
    /// body, console text…). Opaque to the core.
    pub payload: serde_json::Value,
    /// A one-line human description for logs and `crier log`.
    pub summary: String,
}

/// A message a target created, enough to edit or delete it later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRef {
    /// Platform message identity, e.g. `-1001234:42` (Telegram chat:message)
    /// or `1234567890123:9876543210987` (Discord channel:message).
    pub id: String,
    /// A link a human can open, when the platform has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// The outcome of a successful send.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sent {
    pub message: Option<MessageRef>,
    /// Set when the adapter had to fall back to a simpler form (a rejected
    /// photo sent as text, a rejected entity sent as plain text): recorded.
    pub note: Option<String>,
}

/// What the engine knows about the delivery being attempted.
#[derive(Debug, Clone)]
pub struct SendCtx {
    /// The delivery row id: stable across retries and restarts, used for
    /// idempotency keys (Discord `nonce`).
    pub delivery_id: i64,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// A label of the article for error logs.
    pub article: String,
    /// When the message being edited/deleted was sent (for age limits).
    pub sent_at: Option<DateTime<Utc>>,
}

/// Why a delivery attempt failed, classified for the engine.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DeliveryError {
    /// The platform asked to wait: resend the same delivery after this long.
    #[error("rate limited: retry after {retry_after:?}")]
    RateLimited { retry_after: Duration },
    /// A network error or server error before anything was delivered:
    /// retry with backoff.
    #[error("{0}")]
    Transient(String),
    /// The request may or may not have been delivered (timeout after the
    /// request was sent). The engine applies the ambiguous-send policy.
    #[error("ambiguous: {0}")]
    Ambiguous(String),
    /// Permanent for this target (chat not found, bot kicked, missing
    /// permissions, unknown webhook): disable the target, keep its queue.
    #[error("target unusable: {0}")]
    TargetGone(String),
    /// The target's address changed (a Telegram group became a supergroup):
    /// store the new address and retry.
    #[error("target moved to {0}")]
    TargetMoved(String),
    /// The payload was rejected and no fallback worked: fail this delivery.
    #[error("rejected: {0}")]
    Rejected(String),
    /// The message to edit or delete no longer exists.
    #[error("message not found: {0}")]
    MessageGone(String),
    /// The message can no longer be deleted (too old): recorded, reported.
    #[error("not deletable: {0}")]
    NotDeletable(String),
}

impl DeliveryError {
    /// Errors worth retrying after a delay.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            DeliveryError::RateLimited { .. }
                | DeliveryError::Transient(_)
                | DeliveryError::Ambiguous(_)
        )
    }
}

/// Why a post could not be rendered for a target.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct RenderError(pub String);

/// A configured destination: one Telegram chat, one Discord channel, one
/// webhook, the console.
#[async_trait::async_trait]
pub trait Target: Send + Sync {
    /// The target's name from the config.
    fn name(&self) -> &str;
    /// The platform name (`telegram`, `discord`, `discord_webhook`, `console`).
    fn platform(&self) -> &'static str;
    /// What shares this target's platform rate budget. When several
    /// instances share one database, the targets of one sender are
    /// delivered by one instance at a time (it holds their leases
    /// together), so a bot's global and per-chat limits are kept by one
    /// process. Default: the platform (one bot per platform section);
    /// a target with limits of its own (a webhook) or none says so.
    fn sender(&self) -> String {
        self.platform().to_string()
    }
    /// Messages another process sent to this target recently (the
    /// instance that delivered it before this one took it over), how long
    /// ago each: the platform's rate limiter counts them as its own, so a
    /// hand-over does not reopen a window. Default: nothing to count.
    fn sent_elsewhere(&self, _ago: &[Duration]) {}
    /// True when a resend after an ambiguous failure cannot post twice
    /// (Discord bot messages with `nonce` + `enforce_nonce`).
    fn idempotent_send(&self) -> bool {
        false
    }
    /// Render a post into the messages this target would send, in order.
    fn render(&self, post: &Post, feed: &FeedRenderOptions) -> Result<Vec<Part>, RenderError>;
    /// Send one part.
    async fn send(&self, part: &Part, ctx: &SendCtx) -> Result<Sent, DeliveryError>;
    /// Replace a sent message's content with `part`. "Not modified" is success.
    async fn edit(
        &self,
        message: &MessageRef,
        part: &Part,
        ctx: &SendCtx,
    ) -> Result<Sent, DeliveryError>;
    /// Delete a sent message.
    async fn delete(&self, message: &MessageRef, ctx: &SendCtx) -> Result<(), DeliveryError>;
    /// The exact API request sending `part` would make (method/endpoint
    /// and body), for `crier preview --json`. Secrets (tokens, webhook
    /// tokens) are left out.
    fn preview_request(&self, part: &Part) -> serde_json::Value {
        serde_json::json!({ "body": part.payload })
    }
    /// How `part` looks to a member, as terminal text (`crier preview`,
    /// the chat `/preview`).
    fn preview_text(&self, part: &Part) -> String {
        crate::format::terminal::payload(&part.payload)
    }
    /// An incident the adapter noticed that admins should hear of, once
    /// (e.g. Discord's invalid-request guard tripped): `(key, text)`. The
    /// engine asks after a failed attempt.
    fn take_alert(&self) -> Option<(String, String)> {
        None
    }
    /// Ask the platform whether this target can be posted to (token,
    /// destination, rights), without posting: `crier check --online`.
    async fn check(&self) -> Vec<crate::check::Problem> {
        Vec::new()
    }
    /// Use a new address from now on (after [`DeliveryError::TargetMoved`],
    /// or at start from the stored override).
    fn set_address(&self, _address: &str) {}
}
