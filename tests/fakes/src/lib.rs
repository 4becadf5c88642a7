//! Loopback fakes of the platforms Crier talks to, for its integration tests
//! and benchmarks: they answer like the real services (response shapes,
//! error codes and texts, limits, rate limits with 429 and retry delays) so
//! that a bug in Crier makes a test fail.
//!
//! - [`telegram::FakeTelegram`]: the Telegram Bot API.
//! - [`discord::FakeDiscord`]: the Discord REST API (v10).
//! - [`feed::FeedServer`]: a feed server (ETag/304, charsets, gzip,
//!   redirects, slow or endless bodies, errors).
//! - [`telegraph::FakeTelegraph`]: the Telegraph API (pages for long
//!   articles).
//! - [`hub::FakeHub`]: a WebSub hub (verification of intent, leases,
//!   denials, signed fat and thin pings).
//! - [`Fault`]: misbehaviours injected per test (5xx, forced 429, dropped
//!   connections before or after applying, delays).
//! - [`Clock`]: a skewable clock for age-based rules.
//!
//! Every fake binds 127.0.0.1:0 on the current tokio runtime (`start`), or on
//! a runtime thread of its own (`start_background`) for tests that block.

pub mod clock;
pub mod discord;
pub mod fault;
pub mod feed;
pub mod hub;
pub mod log;
pub mod ratelimit;
mod server;
pub mod telegram;
pub mod telegraph;

pub use clock::Clock;
pub use discord::FakeDiscord;
pub use fault::{Fault, FaultRule};
pub use hub::FakeHub;
pub use log::RequestRecord;
pub use ratelimit::Window;
pub use server::Background;
pub use telegram::FakeTelegram;
pub use telegraph::FakeTelegraph;
