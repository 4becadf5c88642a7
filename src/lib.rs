//! Crier's core: configuration, sources, the delivery pipeline and engine,
//! commands and the command line. See ARCHITECTURE.md.

pub mod alerts;
pub mod app;
pub mod cli;
pub mod commands;
pub mod config;
pub mod db;
pub mod engine;
pub mod http;
pub mod pipeline;
pub mod poller;
pub mod redact;
pub mod sources;
pub mod status;
pub mod targets;
pub mod telemetry;
pub mod wakeup;
