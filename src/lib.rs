//! Crier's core: configuration, sources, the delivery pipeline and engine,
//! commands and the command line. See ARCHITECTURE.md.

pub mod config;
