//! The Discord adapter: Crier's own REST layer and rate limiter
//! ([`rest`], [`ratelimit`]) and the channel / webhook targets ([`target`]).

pub mod ratelimit;
pub mod rest;
pub mod target;

pub use target::{DiscordOptions, DiscordTarget};
