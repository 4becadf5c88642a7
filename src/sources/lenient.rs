//! The lenient reader: what Crier reads from a document that sniffs as a
//! feed when the strict parser (feed-rs) gives up on it as a whole.
//!
//! XML is read in one streaming pass with quick-xml, end-name checks off:
//! a broken item or field drops that item or field, not the feed; dates
//! in unknown formats are parsed with the broad date parser or left
//! empty; the first of duplicate elements wins; reading stops after
//! `max_items` items. JSON documents with an `items` array are read item
//! by item, whatever their `version`.
//!
//! The XML reader is in `xml`, its element names in `fields`, the JSON
//! reader in `json`, and an item's raw fields and the post made of them
//! in `item`.

mod fields;
mod item;
mod json;
mod xml;

pub(crate) use json::read_json;
pub(crate) use xml::read_xml;
