//! Crier's integration tests: one test binary (see the platform notes on
//! link times), one module per area. Everything runs on loopback or in a
//! temporary folder; nothing reaches the internet.

mod browser;
mod commands;
mod daemon;
mod discord;
mod discord_commands;
mod engine;
mod http;
mod http_cli;
mod http_webhook;
mod poller;
mod proof;
mod spine;
mod support;
mod telegram;
