//! Integration tests of the common formatter (one test binary).

mod common;
mod golden;
mod hostile;
mod props;
