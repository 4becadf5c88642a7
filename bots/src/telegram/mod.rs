//! The Telegram adapter.

pub mod limiter;
