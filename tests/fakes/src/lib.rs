pub fn placeholder() {}
pub mod feed;
