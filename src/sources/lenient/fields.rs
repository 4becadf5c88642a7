//! The lenient reader's XML vocabulary: which element names are which
//! item or channel field (RSS, Atom, Dublin Core, `content:`), a start
//! tag's attributes, entity references, and the HTML elements without an
//! end tag.

use quick_xml::events::BytesStart;

/// The field a text capture goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
    Title,
    Link,
    Guid,
    Summary,
    Content,
    Published,
    Updated,
    Author,
    Category,
    ChannelTitle,
    ChannelLink,
    Language,
    Generator,
}

pub(super) fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

pub(super) fn item_field(qname: &str) -> Option<Field> {
    let lower = qname.to_ascii_lowercase();
    // Extensions (media:, itunes:, slash:…) reuse common names for other
    // things: only Dublin Core, content: and Atom-prefixed names count.
    if let Some((prefix, _)) = lower.split_once(':')
        && !matches!(prefix, "dc" | "dcterms" | "content" | "atom" | "a")
    {
        return None;
    }
    let l = local(&lower);
    Some(match (lower.as_str(), l) {
        (_, "title") => Field::Title,
        (_, "link") => Field::Link,
        (_, "guid") | (_, "id") => Field::Guid,
        (_, "description") | (_, "summary") | (_, "abstract") => Field::Summary,
        ("content:encoded", _) | (_, "content") => Field::Content,
        (_, "pubdate") | (_, "published") | (_, "issued") | ("dc:date", _) => Field::Published,
        (_, "updated") | (_, "modified") => Field::Updated,
        (_, "creator") | (_, "author") => Field::Author,
        (_, "category") | (_, "subject") => Field::Category,
        (_, "language") => Field::Language,
        _ => return None,
    })
}

pub(super) fn channel_field(qname: &str) -> Option<Field> {
    let lower = qname.to_ascii_lowercase();
    Some(match local(&lower) {
        "title" => Field::ChannelTitle,
        "link" => Field::ChannelLink,
        "language" => Field::Language,
        "generator" => Field::Generator,
        _ => return None,
    })
}

/// Attribute values of a start tag, unescaped where possible; attributes
/// quick-xml cannot read are skipped.
pub(super) fn attrs(e: &BytesStart<'_>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for a in e.attributes().with_checks(false).flatten() {
        let key: &str = a.key.as_ref();
        let value = a
            .normalized_value(quick_xml::XmlVersion::default())
            .map(|v| v.into_owned())
            .unwrap_or_else(|_| a.value.to_string());
        out.push((key.to_ascii_lowercase(), value));
    }
    out
}

pub(super) fn get<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(k, _)| k == name || local(k) == name)
        .map(|(_, v)| v.as_str())
}

/// Resolves an entity reference as XML would (the predefined entities and
/// character references); anything else is kept verbatim as `&name;` for
/// the HTML layer to decode.
pub(super) fn entity(name: &str) -> String {
    let ch = match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => name.strip_prefix('#').and_then(|n| {
            let code = match n.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok(),
                None => n.parse::<u32>().ok(),
            };
            code.and_then(char::from_u32).filter(|c| *c != '\0')
        }),
    };
    ch.map_or_else(|| format!("&{name};"), String::from)
}

/// HTML elements that have no end tag.
pub(super) fn is_void(local: &str) -> bool {
    const VOID: &[&str] = &[
        "br", "img", "hr", "input", "meta", "link", "source", "wbr", "col", "area", "base",
        "embed", "param", "track",
    ];
    VOID.iter().any(|v| local.eq_ignore_ascii_case(v))
}

/// Inside an item's `<author>`: its `<name>` child (Atom).
pub(super) fn author_name(qname: &str) -> Option<Field> {
    (local(&qname.to_ascii_lowercase()) == "name").then_some(Field::Author)
}
