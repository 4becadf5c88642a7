//! Crier's integration tests: one test binary (see the platform notes on
//! link times), one module per area. Everything runs on loopback or in a
//! temporary folder; nothing reaches the internet.

mod browser;
mod chat_opml;
mod chat_opml_discord;
mod commands;
mod daemon;
mod discord;
mod discord_commands;
mod discord_gallery;
mod engine;
mod flood;
mod hints;
mod http;
mod http_cli;
mod http_webhook;
mod operator;
mod opml;
mod poller;
mod postgres;
mod proof;
mod security;
mod security_chat;
mod shared;
mod snapshots;
mod spine;
mod ssrf;
mod supervise;
mod support;
mod telegram;
mod telegram_gallery;
mod telegraph;
mod websub;
