//! Crier's core: configuration, sources, the delivery pipeline and engine,
//! commands and the command line. See ARCHITECTURE.md.

pub mod alerts;
pub mod app;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod db;
pub mod dblocation;
pub mod engine;
pub mod faults;
pub mod fetch_slots;
pub mod http;
pub mod instances;
pub mod intake;
pub mod kv;
pub mod lock;
pub mod opml;
pub mod pipeline;
pub mod platforms;
pub mod poller;
pub mod redact;
pub mod refusals;
pub mod resubscribe;
pub mod share;
pub mod sources;
pub mod status;
pub mod store_faults;
pub mod supervise;
pub mod targets;
pub mod telemetry;
pub mod text;
pub mod wakeup;
pub mod websub;
