pub fn placeholder() {}
pub mod sources;
