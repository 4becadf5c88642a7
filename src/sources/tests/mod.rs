//! Tests over the fixture corpus and against the loopback feed server.

mod config_keys;
mod corpus;
mod guarded;
mod lenient;
mod parse_corpus;
mod poll;
mod regress;
