//! DOM helpers shared by the sanitiser and the boilerplate rules (a leaf:
//! it imports neither).

/// An attribute's value. (Iterating the few attributes of an element is
/// cheaper than `Element::attr`, which interns the name first.)
pub(crate) fn attr<'a>(v: &'a scraper::node::Element, name: &str) -> Option<&'a str> {
    v.attrs().find(|(k, _)| *k == name).map(|(_, v)| v)
}

/// The element's classes (without interning them, unlike
/// `Element::classes`).
pub(crate) fn classes(v: &scraper::node::Element) -> impl Iterator<Item = &str> {
    attr(v, "class").unwrap_or("").split_ascii_whitespace()
}
