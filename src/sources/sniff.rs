//! What a fetched document looks like before it is parsed: a feed
//! (XML with a feed root, JSON with `items`), an HTML page, or neither.

use super::encoding::{decode, strip_xml_declaration};

/// What the start of a document looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sniffed {
    Xml,
    Json,
    Html,
    Empty,
    Other,
}

/// Classifies decoded text by its first significant characters.
pub(crate) fn sniff(text: &str, content_type: Option<&str>) -> Sniffed {
    let body = strip_xml_declaration(text);
    let Some(first) = body.chars().next() else {
        return Sniffed::Empty;
    };
    match first {
        '{' | '[' => Sniffed::Json,
        '<' => {
            let head: String = body
                .chars()
                .take(1024)
                .collect::<String>()
                .to_ascii_lowercase();
            let looks_feed = head.contains("<rss")
                || head.contains("<feed")
                || head.contains("rdf:rdf")
                || head.contains("<rdf");
            let html = head.starts_with("<!doctype html")
                || head.starts_with("<html")
                || (!looks_feed
                    && (head.contains("<html") || content_type.is_some_and(is_html_type)));
            // A document whose root element is a feed's is a feed, whatever
            // its head or content type say: never read as a page.
            if html && !root_is_feed(body) {
                Sniffed::Html
            } else {
                Sniffed::Xml
            }
        }
        _ => Sniffed::Other,
    }
}

/// Whether the root element is a feed's (`rss`, `feed`, `rdf:RDF`).
pub(crate) fn root_is_feed(text: &str) -> bool {
    root_name(text).is_some_and(|n| {
        let local = n.rsplit(':').next().unwrap_or(&n).to_ascii_lowercase();
        matches!(local.as_str(), "rss" | "feed" | "rdf")
    })
}

pub(super) fn is_html_type(ct: &str) -> bool {
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "text/html" || essence == "application/xhtml+xml"
}

pub(super) fn root_name(text: &str) -> Option<String> {
    let mut reader = quick_xml::Reader::from_str(text);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(e)) | Ok(quick_xml::events::Event::Empty(e)) => {
                let qname = e.name();
                let name: &str = qname.as_ref();
                return Some(name.to_owned());
            }
            Ok(quick_xml::events::Event::Eof) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// Whether decoded text looks like an HTML page (for `inspect`).
pub(crate) fn looks_like_html(body: &[u8], content_type: Option<&str>) -> bool {
    let (text, _) = decode(body, None, true);
    sniff(&text, content_type) == Sniffed::Html
}
