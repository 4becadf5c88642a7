//! Crier's publishing side: the platform-neutral [`model::Post`], the common
//! formatter ([`format`]) and the platform adapters behind the
//! [`target::Target`] trait.
//!
//! This crate depends on neither the core nor the storage crate.

pub mod check;
pub mod commands;
pub mod config;
pub mod format;
pub mod model;
pub mod pacing;
pub mod panics;
pub mod platform;
pub mod scrub;
pub mod target;

pub use model::{DigestItem, Post};
pub use target::{DeliveryError, MessageRef, Part, RenderError, SendCtx, Sent, Target};
pub mod console;
pub mod discord;
pub mod telegram;
