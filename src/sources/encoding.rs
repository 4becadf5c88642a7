//! Character-set detection and transcoding to UTF-8.
//!
//! Order of evidence: a byte-order mark (it cannot lie about UTF-8/16,
//! and a declaration that disagrees with it is an XML error); then, if the
//! bytes are valid UTF-8, UTF-8 (a legacy 8-bit text is almost never valid
//! UTF-8 by accident, while "declared ISO-8859-1, actually UTF-8" is a
//! common misconfiguration); then the document's own XML declaration (or
//! HTML `<meta charset>`), then the HTTP `charset` (often a server default
//! that knows nothing of the document), each used only if it decodes
//! without errors; finally windows-1252 (which decodes any byte sequence).

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};

/// The charset parameter of a `Content-Type` header, if any.
pub fn charset_from_content_type(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if name.trim().eq_ignore_ascii_case("charset") {
            Some(value.trim().trim_matches(|c| c == '"' || c == '\''))
        } else {
            None
        }
    })
}

/// The `encoding="…"` of an XML declaration at the start of `bytes`.
fn xml_declared_encoding(bytes: &[u8]) -> Option<&str> {
    let head = &bytes[..bytes.len().min(512)];
    let start = find(head, b"<?xml")?;
    let end = start + find(&head[start..], b"?>")?;
    let decl = std::str::from_utf8(&head[start..end]).ok()?;
    let pos = decl.find("encoding")?;
    let rest = decl[pos + "encoding".len()..].trim_start();
    let rest = rest.strip_prefix('=')?.trim_start();
    let quote = rest.chars().next()?;
    if quote != '"' && quote != '\'' {
        return None;
    }
    let value = &rest[1..];
    value.find(quote).map(|e| &value[..e])
}

/// The charset of an HTML `<meta charset>` / `http-equiv` in the first 2 KiB.
fn html_meta_charset(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(2048)];
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    let pos = text.find("charset=")?;
    let value: String = text[pos + "charset=".len()..]
        .trim_start_matches(['"', '\''])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_' || *c == ':')
        .collect();
    if value.is_empty() { None } else { Some(value) }
}

pub(crate) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Guesses UTF-16 without a BOM from the NUL pattern of `<?` / `<r`.
fn sniff_utf16(bytes: &[u8]) -> Option<&'static Encoding> {
    match bytes {
        [0, b'<', 0, _, ..] => Some(UTF_16BE),
        [b'<', 0, _, 0, ..] => Some(UTF_16LE),
        _ => None,
    }
}

fn decodes_cleanly(encoding: &'static Encoding, bytes: &[u8]) -> Option<String> {
    encoding
        .decode_without_bom_handling_and_without_replacement(bytes)
        .map(|s| s.into_owned())
}

/// Decodes `bytes` to UTF-8 following the module's order of evidence.
/// `http_charset` is the HTTP `charset` parameter; `html` selects the HTML
/// `<meta charset>` instead of the XML declaration as in-document evidence.
/// Returns the text and the name of the encoding used.
pub fn decode(bytes: &[u8], http_charset: Option<&str>, html: bool) -> (String, &'static str) {
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(&bytes[bom_len..]);
        return (text.into_owned(), encoding.name());
    }
    if let Some(encoding) = sniff_utf16(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(bytes);
        return (text.into_owned(), encoding.name());
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return (text.to_owned(), UTF_8.name());
    }
    let declared = if html {
        html_meta_charset(bytes)
    } else {
        xml_declared_encoding(bytes).map(str::to_owned)
    };
    let candidates = [declared, http_charset.map(str::to_owned)];
    for label in candidates.iter().flatten() {
        let Some(encoding) = Encoding::for_label(label.trim().as_bytes()) else {
            continue;
        };
        // UTF-16 without BOM/NUL pattern is a lie; UTF-8 was already tried.
        if encoding == UTF_8 || encoding == UTF_16BE || encoding == UTF_16LE {
            continue;
        }
        if let Some(text) = decodes_cleanly(encoding, bytes) {
            return (text, encoding.name());
        }
    }
    let (text, _) = WINDOWS_1252.decode_without_bom_handling(bytes);
    (text.into_owned(), WINDOWS_1252.name())
}

/// Removes an XML declaration at the start of `text` (after leading
/// whitespace), so that the parser does not re-decode UTF-8 text with the
/// declared, possibly wrong, encoding. Leading whitespace is dropped too.
pub fn strip_xml_declaration(text: &str) -> &str {
    let trimmed = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if let Some(rest) = trimmed.strip_prefix("<?xml")
        && rest.starts_with(|c: char| c.is_whitespace() || c == '?')
        && let Some(end) = rest.find("?>")
    {
        return rest[end + 2..].trim_start();
    }
    trimmed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charset_param() {
        assert_eq!(
            charset_from_content_type("application/rss+xml; charset=\"ISO-8859-1\""),
            Some("ISO-8859-1")
        );
        assert_eq!(charset_from_content_type("text/xml"), None);
    }

    #[test]
    fn declared_latin1_but_really_utf8() {
        let doc = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss>caf\u{e9}</rss>";
        let (text, enc) = decode(doc.as_bytes(), Some("iso-8859-1"), false);
        assert_eq!(enc, "UTF-8");
        assert!(text.contains("café"));
    }

    #[test]
    fn latin1_declared_in_xml_only() {
        let mut doc = b"<?xml version='1.0' encoding='ISO-8859-1'?><rss>caf".to_vec();
        doc.push(0xE9);
        doc.extend_from_slice(b"</rss>");
        let (text, enc) = decode(&doc, None, false);
        assert_eq!(enc, "windows-1252");
        assert!(text.contains("café"));
    }

    #[test]
    fn xml_declaration_beats_http_charset() {
        // KOI8-R bytes for "мир", declared in the XML; the server's header
        // says ISO-8859-1 (a common default).
        let mut doc = b"<?xml version='1.0' encoding='koi8-r'?><rss>".to_vec();
        doc.extend_from_slice(&[0xCD, 0xC9, 0xD2]);
        doc.extend_from_slice(b"</rss>");
        let (text, enc) = decode(&doc, Some("iso-8859-1"), false);
        assert_eq!(enc, "KOI8-R");
        assert!(text.contains("мир"), "{text}");
        // Without a declaration the HTTP charset is used.
        let mut doc = b"<rss>".to_vec();
        doc.extend_from_slice(&[0xCD, 0xC9, 0xD2]);
        doc.extend_from_slice(b"</rss>");
        let (text, enc) = decode(&doc, Some("koi8-r"), false);
        assert_eq!(enc, "KOI8-R");
        assert!(text.contains("мир"), "{text}");
    }

    #[test]
    fn a_bom_beats_a_declaration() {
        let mut doc = vec![0xEF, 0xBB, 0xBF];
        doc.extend_from_slice("<?xml version='1.0' encoding='ISO-8859-1'?><rss>é</rss>".as_bytes());
        let (text, enc) = decode(&doc, Some("iso-8859-1"), false);
        assert_eq!(enc, "UTF-8");
        assert!(text.contains('é'));
    }

    #[test]
    fn invalid_utf8_declared_utf8_falls_back_to_1252() {
        let mut doc = b"<?xml version='1.0' encoding='utf-8'?><rss>".to_vec();
        doc.extend_from_slice(&[0x93, b'q', 0x94]);
        doc.extend_from_slice(b"</rss>");
        let (text, enc) = decode(&doc, None, false);
        assert_eq!(enc, "windows-1252");
        assert!(text.contains("\u{201c}q\u{201d}"));
    }

    #[test]
    fn utf16_with_and_without_bom() {
        let s = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><rss>ü</rss>";
        let mut le: Vec<u8> = vec![0xFF, 0xFE];
        le.extend(s.encode_utf16().flat_map(|u| u.to_le_bytes()));
        assert_eq!(decode(&le, None, false).0, s);
        let be: Vec<u8> = s.encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
        assert_eq!(decode(&be, None, false).0, s);
    }

    #[test]
    fn strips_declaration_and_blank_lines() {
        assert_eq!(
            strip_xml_declaration("\n\n  \u{feff}<?xml version=\"1.0\"?>\n<rss/>"),
            "<rss/>"
        );
        assert_eq!(strip_xml_declaration("<rss/>"), "<rss/>");
        assert_eq!(
            strip_xml_declaration("<?xml-stylesheet x?><rss/>"),
            "<?xml-stylesheet x?><rss/>"
        );
    }
}
