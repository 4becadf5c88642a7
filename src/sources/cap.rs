//! The item cap for XML feeds, applied before the strict parser: items
//! past the cap are cut out of the text (one streaming pass, no
//! allocation per item), so the parser never builds them.

use std::borrow::Cow;

use quick_xml::events::Event;

/// `text` with the items (`<item>`/`<entry>`) after the first `max` cut
/// out; the text itself when it has no more than `max` or cannot be read.
pub(crate) fn cap_xml_items(text: &str, max: usize) -> Cow<'_, str> {
    if item_tags_at_most(text.as_bytes()) <= max {
        return Cow::Borrowed(text);
    }
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_end_names = false;
    let mut depth = 0usize;
    let mut item_depth: Option<usize> = None;
    let mut count = 0usize;
    let mut cut_start: Option<usize> = None;
    let mut last_end: Option<usize> = None;
    loop {
        let before = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(_) => return Cow::Borrowed(text),
        };
        let after = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        match event {
            Event::Start(e) => {
                depth += 1;
                if is_item(e.local_name().as_ref()) && item_depth.is_none_or(|d| d == depth) {
                    item_depth = Some(depth);
                    count += 1;
                    if count == max + 1 {
                        cut_start = Some(before);
                    }
                }
            }
            Event::Empty(e)
                if is_item(e.local_name().as_ref())
                    && item_depth.is_none_or(|d| d == depth + 1) =>
            {
                item_depth = Some(depth + 1);
                count += 1;
                if count == max + 1 {
                    cut_start = Some(before);
                }
                if cut_start.is_some() {
                    last_end = Some(after);
                }
            }
            Event::End(e) => {
                if item_depth == Some(depth)
                    && is_item(e.local_name().as_ref())
                    && cut_start.is_some()
                {
                    last_end = Some(after);
                }
                depth = depth.saturating_sub(1);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    match (cut_start, last_end) {
        (Some(start), Some(end))
            if start < end
                && end <= text.len()
                && text.is_char_boundary(start)
                && text.is_char_boundary(end) =>
        {
            let mut out = String::with_capacity(text.len() - (end - start));
            out.push_str(&text[..start]);
            out.push_str(&text[end..]);
            Cow::Owned(out)
        }
        _ => Cow::Borrowed(text),
    }
}

/// An upper bound of the items [`cap_xml_items`] counts, without reading
/// the XML: every item tag's name is `item` or `entry` (any case) right
/// after `<` or a prefix's `:`, so counting those spots over-counts at
/// worst (text, comments, CDATA).
fn item_tags_at_most(bytes: &[u8]) -> usize {
    let mut count = 0;
    for (i, b) in bytes.iter().enumerate() {
        if *b != b'<' && *b != b':' {
            continue;
        }
        let rest = &bytes[i + 1..];
        if rest
            .get(..4)
            .is_some_and(|n| n.eq_ignore_ascii_case(b"item"))
            || rest
                .get(..5)
                .is_some_and(|n| n.eq_ignore_ascii_case(b"entry"))
        {
            count += 1;
        }
    }
    count
}

fn is_item(local: &str) -> bool {
    local.eq_ignore_ascii_case("item") || local.eq_ignore_ascii_case("entry")
}

/// Whether an XML document was cut short (a transfer that stopped): it
/// does not end with its root element's end tag. Such a document is an
/// error, not a case for the lenient reader.
pub(crate) fn looks_truncated(text: &str) -> bool {
    let mut reader = quick_xml::Reader::from_str(text);
    let root = loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let qn = e.name();
                let name: &str = qn.as_ref();
                break name.to_owned();
            }
            Ok(Event::Empty(_)) => return false,
            Ok(Event::Eof) | Err(_) => return true,
            Ok(_) => {}
        }
    };
    let end = text.trim_end();
    let Some(tag_start) = end.rfind("</") else {
        return true;
    };
    let tag = end[tag_start + 2..].trim_end_matches('>').trim();
    !(end.ends_with('>') && tag == root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_past_the_cap_are_cut_out() {
        let doc = "<rss><channel><title>t</title><item><title>1</title></item>\n<item><title>2</title></item><item/><item><title>4</title></item></channel></rss>";
        let out = cap_xml_items(doc, 2);
        assert_eq!(
            out,
            "<rss><channel><title>t</title><item><title>1</title></item>\n<item><title>2</title></item></channel></rss>"
        );
        assert_eq!(cap_xml_items(doc, 4), doc);
        assert!(matches!(cap_xml_items(doc, 4), Cow::Borrowed(_)));
        let prefixed = "<rdf:RDF><rss:item/><rss:ITEM/><Entry/></rdf:RDF>";
        assert_eq!(cap_xml_items(prefixed, 1), "<rdf:RDF><rss:item/></rdf:RDF>");
        let atom = "<feed><entry><id>1</id></entry><entry><id>2</id></entry></feed>";
        assert_eq!(
            cap_xml_items(atom, 1),
            "<feed><entry><id>1</id></entry></feed>"
        );
    }

    #[test]
    fn truncation_is_recognised() {
        assert!(looks_truncated("<rss><channel><item><title>x</tit"));
        assert!(looks_truncated("<rss><channel><item></item>"));
        assert!(!looks_truncated(
            "<rss><channel><item></item></channel></rss>"
        ));
        assert!(!looks_truncated(
            "<rss><channel><item></foo></channel></rss>"
        ));
    }
}
