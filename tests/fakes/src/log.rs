//! The request log both fakes keep.

use std::time::{Duration, SystemTime};

use serde_json::Value;

/// One request as the fake saw it.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestRecord {
    /// When it arrived, on the fake's (skewable) clock.
    pub at: SystemTime,
    /// When it arrived, in real time since the fake started (for rates).
    pub elapsed: Duration,
    /// `GET`, `POST`, ...
    pub http_method: String,
    /// The path, with the bot or webhook token replaced by `<token>`.
    pub path: String,
    /// Telegram method as sent (`SendMessage`), or Discord route name
    /// (`create_message`).
    pub name: String,
    /// Chat id / username (Telegram) or channel / webhook id (Discord).
    pub target: Option<String>,
    /// HTTP status answered; 0 when the connection was dropped.
    pub status: u16,
    /// Telegram's `description` or Discord's `message` on errors.
    pub error: Option<String>,
    /// The fault that fired on this request, if any.
    pub fault: Option<String>,
    /// The parameters (Telegram) or JSON body (Discord) received.
    pub params: Value,
}

impl RequestRecord {
    /// True for a 2xx answer.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}
