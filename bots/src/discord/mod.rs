//! The Discord adapter.

pub mod ratelimit;
pub mod rest;
