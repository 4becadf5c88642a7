//! The Discord adapter: Crier's own REST layer and rate limiter
//! ([`rest`], [`ratelimit`]), the channel / webhook targets ([`target`]) and
//! the command front-end ([`commands`]).

pub mod check;
pub mod commands;
pub mod config;
pub mod platform;
pub mod ratelimit;
pub mod rest;
pub mod target;

pub use target::{DiscordOptions, DiscordTarget};
