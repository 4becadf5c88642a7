//! What platforms and the core share to read `config.toml`: the value
//! types (`values`) and the reader that reports every problem of a value
//! at once, at its line (`read`). A platform module reads its own section
//! and target keys with these (see `crate::platform`).

pub mod read;
pub mod values;
