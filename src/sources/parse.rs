//! Pure parsing of a fetched document (RSS 0.9x/1.0/2.0, Atom 0.3/1.0,
//! JSON Feed 1.0/1.1) into [`Post`]s with identity keys. No network.
//!
//! XML safety: feed-rs reads XML with quick-xml, which never fetches
//! external entities and never expands entities declared in a DTD (only
//! the five predefined ones and character references; anything else is kept
//! verbatim as `&name;`), so "billion laughs" costs nothing. Memory is
//! bounded by the body cap enforced before parsing.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use crier_bots::Post;
use crier_bots::format::escape_html;
use feed_rs::model::{Entry, Feed, FeedType};
use feed_rs::parser::{ParseErrorKind, ParseFeedError};
use url::Url;

use super::dates::parse_date;
use super::encoding::{charset_from_content_type, decode, strip_xml_declaration};
use super::html::{
    absolutize, bounded_html, decode_text, images_in_html, normalize_language,
    resolve_relative_urls,
};
use super::identity::{Candidate, build_items, dominant_key_type};
use super::{DocumentFormat, FeedMeta, ParsedDocument, SourceError};

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

fn is_html_type(ct: &str) -> bool {
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "text/html" || essence == "application/xhtml+xml"
}

/// Rewrites root-element quirks that feed-rs would reject: RSS 0.90's
/// Netscape namespace (read as RSS 1.0) and an `<rss>` root whose `version`
/// is missing or unusual (`0.93`, `0.94`, `2.00`, … read as 2.0).
fn fix_root_quirks(text: &str) -> std::borrow::Cow<'_, str> {
    let mut out = std::borrow::Cow::Borrowed(text);
    const RSS090_NS: &str = "http://my.netscape.com/rdf/simple/0.9/";
    if out.contains(RSS090_NS) {
        out = std::borrow::Cow::Owned(out.replace(RSS090_NS, "http://purl.org/rss/1.0/"));
    }
    // Atom 0.3: the 1.0 namespace, and its date elements renamed.
    const ATOM03_NS: &str = "http://purl.org/atom/ns#";
    if out.contains(ATOM03_NS) {
        let mut t = out.replace(ATOM03_NS, "http://www.w3.org/2005/Atom");
        for (old, new) in [("issued", "published"), ("modified", "updated")] {
            t = t
                .replace(&format!("<{old}>"), &format!("<{new}>"))
                .replace(&format!("</{old}>"), &format!("</{new}>"));
        }
        out = std::borrow::Cow::Owned(t);
    }
    if out.contains("http://www.w3.org/2005/Atom")
        && let Some(re) = atom_type_re()
        && let std::borrow::Cow::Owned(fixed) = re.replace_all(&out, |c: &regex::Captures| {
            let value = c.get(3).or(c.get(4)).map_or("", |m| m.as_str());
            let lower = value.trim().to_ascii_lowercase();
            let ok = matches!(lower.as_str(), "text" | "html" | "xhtml")
                || lower.split_once('/').is_some_and(|(a, b)| {
                    let b = b.split(';').next().unwrap_or("").trim();
                    let token = |t: &str| {
                        !t.is_empty()
                            && t.chars()
                                .all(|ch| ch.is_ascii_alphanumeric() || "!#$&-^_.+".contains(ch))
                    };
                    token(a) && token(b)
                });
            let fixed = if ok { lower } else { "html".to_owned() };
            if fixed == value {
                c[0].to_owned()
            } else {
                format!("{}type=\"{}\"", &c[1], fixed)
            }
        })
    {
        out = std::borrow::Cow::Owned(fixed);
    }
    let Some(start) = find_rss_root(&out) else {
        return out;
    };
    let Some(len) = out[start..].find('>') else {
        return out;
    };
    let tag = &out[start..start + len];
    let Some(re) = version_re() else {
        return out;
    };
    let version = re
        .captures(tag)
        .and_then(|c| c.get(1).or(c.get(2)))
        .map(|m| m.as_str().to_owned());
    let fixed = match version.as_deref() {
        Some("2.0") | Some("0.91") | Some("0.92") => return out,
        Some(_) => re.replace(tag, " version=\"2.0\"").into_owned(),
        None => format!("<rss version=\"2.0\"{}", &tag[4..]),
    };
    let mut s = String::with_capacity(out.len() + 16);
    s.push_str(&out[..start]);
    s.push_str(&fixed);
    s.push_str(&out[start + len..]);
    std::borrow::Cow::Owned(s)
}

/// Defuses inputs known to panic feed-rs 3: it parses "normal play time"
/// values (`<itunes:duration>`, MediaRSS `start`/`end`/`time`) with
/// `parse::<u64>().unwrap()`, so a run of 20+ digits aborts the parse.
/// Such values (10+ digits, i.e. centuries) are replaced by `0`. A
/// `catch_unwind` around the parser remains as a second line of defence.
fn defuse_panics(text: &str) -> std::borrow::Cow<'_, str> {
    use std::sync::OnceLock;
    static LONG: OnceLock<Option<regex::Regex>> = OnceLock::new();
    static ELEM: OnceLock<Option<regex::Regex>> = OnceLock::new();
    static ATTR: OnceLock<Option<regex::Regex>> = OnceLock::new();
    let long = LONG.get_or_init(|| regex::Regex::new(r"\d{10,}").ok());
    let Some(long) = long.as_ref() else {
        return std::borrow::Cow::Borrowed(text);
    };
    if !has_digit_run(text.as_bytes(), 10) {
        return std::borrow::Cow::Borrowed(text);
    }
    let elem = ELEM.get_or_init(|| {
        regex::Regex::new(r"(?is)(<(?:[a-z0-9_]+:)?duration\b[^>]*>)([^<]*)(</)").ok()
    });
    let attr = ATTR.get_or_init(|| {
        regex::Regex::new(r#"(?i)(\s(?:start|end|time)\s*=\s*)("[^"]*"|'[^']*')"#).ok()
    });
    let mut out = std::borrow::Cow::Borrowed(text);
    if let Some(elem) = elem.as_ref() {
        let replaced = elem.replace_all(&out, |c: &regex::Captures| {
            if long.is_match(&c[2]) {
                format!("{}0{}", &c[1], &c[3])
            } else {
                c[0].to_owned()
            }
        });
        if let std::borrow::Cow::Owned(o) = replaced {
            out = std::borrow::Cow::Owned(o);
        }
    }
    if let Some(attr) = attr.as_ref() {
        let replaced = attr.replace_all(&out, |c: &regex::Captures| {
            if long.is_match(&c[2]) {
                format!("{}\"0\"", &c[1])
            } else {
                c[0].to_owned()
            }
        });
        if let std::borrow::Cow::Owned(o) = replaced {
            out = std::borrow::Cow::Owned(o);
        }
    }
    out
}

/// Whether `bytes` holds `n` or more consecutive ASCII digits.
fn has_digit_run(bytes: &[u8], n: usize) -> bool {
    let mut run = 0;
    for b in bytes {
        if b.is_ascii_digit() {
            run += 1;
            if run >= n {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
}

/// Byte offset of the `<rss` root start tag, skipping comments and PIs.
fn find_rss_root(text: &str) -> Option<usize> {
    let mut pos = 0;
    while let Some(off) = text[pos..].find('<') {
        let at = pos + off;
        let rest = &text[at..];
        if rest.starts_with("<?") || rest.starts_with("<!") {
            let end = if rest.starts_with("<!--") {
                rest.find("-->").map(|e| e + 3)
            } else {
                rest.find('>').map(|e| e + 1)
            }?;
            pos = at + end;
            continue;
        }
        let is_rss = rest.starts_with("<rss")
            && rest[4..].starts_with(|c: char| c.is_whitespace() || c == '>' || c == '/');
        return is_rss.then_some(at);
    }
    None
}

/// The `type` attribute of Atom text constructs and content; feed-rs
/// rejects the whole feed on a value it cannot parse (`HTML`, `weird`).
fn atom_type_re() -> Option<&'static regex::Regex> {
    static RE: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(
            r#"(<(?:[a-z]+:)?(?:content|summary|title|subtitle|rights|tagline)\b[^>]*?\s)type\s*=\s*(?:("([^"]*)")|'([^']*)')"#,
        )
        .ok()
    })
    .as_ref()
}

/// `version="…"` in a start tag (value in group 1 or 2).
fn version_re() -> Option<&'static regex::Regex> {
    static RE: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    RE.get_or_init(|| regex::Regex::new(r#"\sversion\s*=\s*(?:"([^"]*)"|'([^']*)')"#).ok())
        .as_ref()
}

/// The 1-based line of the first XML well-formedness error, via quick-xml.
fn xml_error_line(text: &str) -> Option<(u64, String)> {
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut depth: i64 = 0;
    let mut seen_root = false;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(_)) => {
                depth += 1;
                seen_root = true;
            }
            Ok(quick_xml::events::Event::End(_)) => depth -= 1,
            Ok(quick_xml::events::Event::Eof) => {
                if seen_root && depth > 0 {
                    return Some((
                        line_of(text, text.len()),
                        "unexpected end of document".into(),
                    ));
                }
                return None;
            }
            Ok(_) => {}
            Err(e) => {
                let pos = usize::try_from(reader.error_position()).unwrap_or(text.len());
                return Some((line_of(text, pos), e.to_string()));
            }
        }
    }
}

fn line_of(text: &str, pos: usize) -> u64 {
    let pos = pos.min(text.len());
    text.as_bytes()[..pos]
        .iter()
        .filter(|b| **b == b'\n')
        .count() as u64
        + 1
}

fn map_feed_error(err: ParseFeedError, text: &str) -> SourceError {
    match err {
        ParseFeedError::ParseError(ParseErrorKind::NoFeedRoot) => {
            let root = root_name(text).unwrap_or_else(|| "?".into());
            SourceError::NotAFeed {
                got: format!("XML with root <{root}>"),
            }
        }
        ParseFeedError::JsonSerde(e) => SourceError::Parse {
            line: Some(e.line() as u64),
            message: format!("JSON: {e}"),
        },
        ParseFeedError::JsonUnsupportedVersion(v) => SourceError::NotAFeed {
            got: format!("JSON with unsupported version {v:?}"),
        },
        ParseFeedError::ParseError(kind) => {
            let position = match &kind {
                ParseErrorKind::UnknownMimeType { position, .. }
                | ParseErrorKind::MissingContent { position, .. }
                | ParseErrorKind::UnknownEnumVariant { position, .. }
                | ParseErrorKind::IllegalState { position, .. } => Some(*position),
                ParseErrorKind::NoFeedRoot => None,
            };
            let message = kind.to_string();
            let message = message
                .split(" at position ")
                .next()
                .unwrap_or(&message)
                .to_owned();
            SourceError::Parse {
                line: position.map(|p| line_of(text, usize::try_from(p).unwrap_or(usize::MAX))),
                message,
            }
        }
        other => match xml_error_line(text) {
            Some((line, message)) => SourceError::Parse {
                line: Some(line),
                message,
            },
            None => SourceError::parse(other.to_string().replace('\n', " ")),
        },
    }
}

fn root_name(text: &str) -> Option<String> {
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

/// `sy:updatePeriod` × `sy:updateFrequency` from the channel head, as an
/// interval hint (RSS 1.0 syndication module).
fn sy_update_hint(text: &str) -> Option<Duration> {
    let head_end = text.find("<item").unwrap_or(text.len()).min(64 * 1024);
    // The cap may fall inside a multi-byte character: cut on a boundary.
    let head = super::text::head(text, head_end);
    let period = between(head, "updatePeriod>", "<")?
        .trim()
        .to_ascii_lowercase();
    let freq: u64 = between(head, "updateFrequency>", "<")
        .and_then(|f| f.trim().parse().ok())
        .filter(|f| *f > 0)
        .unwrap_or(1);
    let secs: u64 = match period.as_str() {
        "hourly" => 3600,
        "daily" => 86_400,
        "weekly" => 7 * 86_400,
        "monthly" => 30 * 86_400,
        "yearly" => 365 * 86_400,
        _ => return None,
    };
    Some(Duration::from_secs(secs / freq))
}

fn between<'a>(s: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = s.find(open)? + open.len();
    let end = s[start..].find(close)?;
    Some(&s[start..start + end])
}

/// Parses a fetched document (bytes exactly as received, after content
/// decoding) into articles. `content_type` is the HTTP `Content-Type`
/// (its charset is honoured), `base` the document URL (relative links are
/// resolved against it and any `xml:base`). At most
/// [`super::DEFAULT_MAX_ITEMS`] items are read (see
/// [`parse_document_capped`]).
///
/// Errors: [`SourceError::NotAFeed`] for HTML, JSON that is not a JSON
/// Feed, XML without a feed root and empty bodies; [`SourceError::Parse`]
/// (with the line when known) for broken documents. Never panics.
pub fn parse_document(
    bytes: &[u8],
    content_type: Option<&str>,
    base: &Url,
) -> Result<ParsedDocument, SourceError> {
    parse_document_capped(bytes, content_type, base, super::DEFAULT_MAX_ITEMS)
}

/// [`parse_document`] reading at most `max_items` items, the first ones in
/// document order (feeds list newest first); the items past the cap are
/// not parsed at all, so memory stays bounded by the cap.
///
/// The strict parser (feed-rs) reads the document first; when it gives up
/// on a document that sniffs as a feed (root `rss`, `feed`, `rdf:RDF`, or
/// JSON with `items`), the lenient reader recovers what it can
/// ([`FeedMeta::reader`] says which one read it). Only when nothing can be
/// read is it an error, with the strict parser's reason.
pub fn parse_document_capped(
    bytes: &[u8],
    content_type: Option<&str>,
    base: &Url,
    max_items: usize,
) -> Result<ParsedDocument, SourceError> {
    let max_items = max_items.max(1);
    let charset = content_type.and_then(charset_from_content_type);
    let (text, encoding) = decode(bytes, charset, false);
    match sniff(&text, content_type) {
        Sniffed::Html => {
            return Err(SourceError::NotAFeed { got: "HTML".into() });
        }
        Sniffed::Empty => {
            return Err(SourceError::NotAFeed {
                got: "an empty body".into(),
            });
        }
        Sniffed::Other => {
            return Err(SourceError::NotAFeed {
                got: "plain text".into(),
            });
        }
        Sniffed::Json | Sniffed::Xml => {}
    }
    let body = strip_xml_declaration(&text);
    // Lines removed with the declaration, to report lines of the original.
    let line_shift = text[..text.len() - body.len()].matches('\n').count() as u64;
    let json = if body.starts_with('{') {
        super::jsonfeed::prepare(body, max_items)
    } else {
        None
    };
    let strict = match &json {
        Some(j) => strict_parse(&j.text, base, line_shift),
        None => {
            let capped = super::cap::cap_xml_items(body, max_items);
            strict_parse(&capped, base, line_shift)
        }
    };
    let mut doc = match strict {
        Ok(doc) => doc,
        Err(e) => {
            let lenient = match &json {
                Some(j) => super::lenient::read_json(&j.value, base, max_items),
                None if !super::cap::looks_truncated(body) => {
                    super::lenient::read_xml(body, base, max_items)
                }
                None => None,
            };
            match lenient {
                Some(doc) if !doc.items.is_empty() => doc,
                _ => return Err(e),
            }
        }
    };
    doc.meta.encoding = encoding.to_owned();
    if doc.meta.ttl_hint.is_none() {
        doc.meta.ttl_hint = sy_update_hint(body);
    }
    Ok(doc)
}

/// The strict parser (feed-rs) on a declaration-less document.
fn strict_parse(body: &str, base: &Url, line_shift: u64) -> Result<ParsedDocument, SourceError> {
    let body = fix_root_quirks(body);
    let body = match defuse_panics(&body) {
        std::borrow::Cow::Owned(o) => std::borrow::Cow::Owned(o),
        std::borrow::Cow::Borrowed(_) => body,
    };
    let shift = |e: SourceError| match e {
        SourceError::Parse { line, message } => SourceError::Parse {
            line: line.map(|l| l + line_shift),
            message,
        },
        other => other,
    };
    let parser = feed_rs::parser::Builder::new()
        .base_uri(Some(base.as_str()))
        .id_generator(|_, _, _| String::new())
        .timestamp_parser(parse_date)
        .sanitize_content(false)
        .build();
    let parsed = catch_unwind(AssertUnwindSafe(|| parser.parse(body.as_bytes())));
    let feed = match parsed {
        Ok(Ok(feed)) => feed,
        Ok(Err(ParseFeedError::JsonSerde(_))) if body.starts_with('[') => {
            return Err(SourceError::NotAFeed {
                got: "a JSON array".into(),
            });
        }
        Ok(Err(e)) => return Err(shift(map_feed_error(e, &body))),
        Err(_) => {
            return Err(SourceError::parse(
                "the feed parser failed on this document",
            ));
        }
    };
    // feed-rs stops quietly at a truncated document in some cases: an XML
    // feed must be well-formed to the end, or the tail may be missing items.
    if feed.feed_type != FeedType::JSON
        && let Some((line, message)) = xml_error_line(&body)
    {
        return Err(shift(SourceError::Parse {
            line: Some(line),
            message,
        }));
    }
    let doc_base = root_xml_base(&body)
        .and_then(|b| base.join(&b).ok())
        .unwrap_or_else(|| base.clone());
    let json_images = if feed.feed_type == FeedType::JSON {
        json_feed_images(&body)
    } else {
        Vec::new()
    };
    let subjects = if matches!(
        feed.feed_type,
        FeedType::RSS1 | FeedType::RSS2 | FeedType::RSS0
    ) {
        dc_subjects(&body)
    } else {
        Vec::new()
    };
    let entry_bases = if feed.feed_type == FeedType::Atom {
        atom_entry_bases(&body)
    } else {
        Vec::new()
    };
    let itunes_images = if matches!(feed.feed_type, FeedType::RSS2 | FeedType::RSS0) {
        item_itunes_images(&body)
    } else {
        Vec::new()
    };
    let extras = Extras {
        json_images,
        itunes_images,
        subjects,
        entry_bases,
    };
    let mut doc = convert(feed, &doc_base, &extras);
    super::media::apply_orig_links(&body, &mut doc.items);
    Ok(doc)
}

/// The `xml:base` of the root element, if any.
fn root_xml_base(text: &str) -> Option<String> {
    let mut reader = quick_xml::Reader::from_str(text);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(e)) | Ok(quick_xml::events::Event::Empty(e)) => {
                let attr = e.try_get_attribute("xml:base").ok().flatten()?;
                return Some(attr.value.replace("&amp;", "&"));
            }
            Ok(quick_xml::events::Event::Eof) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// The `xml:base` of each Atom `<entry>`, in document order (feed-rs only
/// keeps the one on `<content>`).
fn atom_entry_bases(text: &str) -> Vec<Option<String>> {
    use quick_xml::events::Event;
    let mut out = Vec::new();
    if !text.contains("xml:base") {
        return out;
    }
    let mut reader = quick_xml::Reader::from_str(text);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                let qname = e.name();
                let name: &str = qname.as_ref();
                if name.rsplit(':').next() == Some("entry") {
                    let base = e
                        .try_get_attribute("xml:base")
                        .ok()
                        .flatten()
                        .map(|a| a.value.replace("&amp;", "&"));
                    out.push(base);
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => {}
        }
    }
    out
}

/// Dublin Core `<dc:subject>` values per RSS item, in document order
/// (feed-rs drops them; RSS 1.0 feeds carry their categories there).
fn dc_subjects(text: &str) -> Vec<Vec<String>> {
    use quick_xml::events::Event;
    let mut out: Vec<Vec<String>> = Vec::new();
    if !text.contains("subject") {
        return out;
    }
    let mut reader = quick_xml::Reader::from_str(text);
    let mut subject: Option<String> = None;
    let mut in_item = false;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let qname = e.name();
                let name: &str = qname.as_ref();
                let local = name.rsplit(':').next().unwrap_or(name);
                if local == "item" {
                    in_item = true;
                    out.push(Vec::new());
                } else if in_item && name.ends_with(":subject") {
                    subject = Some(String::new());
                }
            }
            Ok(Event::End(e)) => {
                let qname = e.name();
                let name: &str = qname.as_ref();
                if name.rsplit(':').next() == Some("item") {
                    in_item = false;
                }
                if let (Some(raw), Some(list)) = (subject.take(), out.last_mut()) {
                    let v = decode_text(&raw);
                    if !v.is_empty() && !list.contains(&v) {
                        list.push(v);
                    }
                }
            }
            Ok(Event::Text(t)) => {
                if let Some(buf) = subject.as_mut() {
                    buf.push_str(&t);
                }
            }
            Ok(Event::CData(t)) => {
                if let Some(buf) = subject.as_mut() {
                    buf.push_str(&quick_xml::escape::escape(&*t));
                }
            }
            Ok(Event::GeneralRef(r)) => {
                if let Some(buf) = subject.as_mut() {
                    buf.push('&');
                    buf.push_str(&r);
                    buf.push(';');
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => {}
        }
    }
    out
}

/// Each RSS item's `<itunes:image href>` (a podcast episode's own art),
/// in document order. feed-rs reads it into a media object that it then
/// drops when the object has nothing else it counts (a title, content…).
fn item_itunes_images(text: &str) -> Vec<Option<String>> {
    use quick_xml::events::Event;
    let mut out: Vec<Option<String>> = Vec::new();
    if !text.contains("itunes:image") {
        return out;
    }
    let mut reader = quick_xml::Reader::from_str(text);
    let mut depth_in_item = 0usize;
    loop {
        let (e, empty) = match reader.read_event() {
            Ok(Event::Start(e)) => (e, false),
            Ok(Event::Empty(e)) => (e, true),
            Ok(Event::End(_)) => {
                depth_in_item = depth_in_item.saturating_sub(1);
                continue;
            }
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => continue,
        };
        let qname = e.name();
        let name: &str = qname.as_ref();
        if depth_in_item == 0 && name.rsplit(':').next() == Some("item") {
            out.push(None);
            if !empty {
                depth_in_item = 1;
            }
            continue;
        }
        if depth_in_item > 0 {
            // Only the item's own child, not a nested element's.
            if depth_in_item == 1
                && name == "itunes:image"
                && let Some(slot) = out.last_mut()
                && slot.is_none()
            {
                *slot = e
                    .try_get_attribute("href")
                    .ok()
                    .flatten()
                    .and_then(|a| {
                        a.normalized_value(quick_xml::XmlVersion::default())
                            .ok()
                            .map(|v| v.trim().to_string())
                    })
                    .filter(|v| !v.is_empty());
            }
            if !empty {
                depth_in_item += 1;
            }
        }
    }
    out
}

/// JSON Feed `image` / `banner_image` per item (feed-rs drops them).
fn json_feed_images(text: &str) -> Vec<Vec<String>> {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(text) else {
        return Vec::new();
    };
    v.get("items")
        .and_then(|i| i.as_array())
        .map(|items| {
            items
                .iter()
                .map(|item| {
                    ["image", "banner_image"]
                        .iter()
                        .filter_map(|k| item.get(*k).and_then(|u| u.as_str()).map(str::to_owned))
                        .collect()
                })
                .collect()
        })
        .unwrap_or_default()
}

fn is_image_url(url: &str) -> bool {
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    [".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif", ".svg"]
        .iter()
        .any(|ext| path.ends_with(ext))
}

fn push_unique(images: &mut Vec<String>, url: String) {
    if !url.is_empty() && !images.contains(&url) {
        images.push(url);
    }
}

/// The article link of an entry: `rel=alternate` (or no rel) first.
fn entry_link(entry: &Entry, base: &Url) -> Option<String> {
    let pick = entry
        .links
        .iter()
        .find(|l| {
            l.rel.as_deref().is_none_or(|r| r == "alternate")
                && l.media_type.as_deref().is_none_or(|t| t.contains("html"))
        })
        .or_else(|| {
            entry
                .links
                .iter()
                .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        })
        .or(entry.links.first())?;
    absolutize(&pick.href, Some(base))
}

fn text_html(text: Option<&feed_rs::model::Text>, plain_is_text: bool) -> Option<String> {
    let t = text?;
    if t.content.trim().is_empty() {
        return None;
    }
    if plain_is_text && t.content_type.essence().to_string() == "text/plain" {
        Some(escape_html(&t.content))
    } else {
        Some(t.content.clone())
    }
}

/// Per-item facts feed-rs drops, each in document order (used only when
/// their count matches the entries).
struct Extras {
    json_images: Vec<Vec<String>>,
    itunes_images: Vec<Option<String>>,
    subjects: Vec<Vec<String>>,
    entry_bases: Vec<Option<String>>,
}

fn convert(feed: Feed, base: &Url, extras: &Extras) -> ParsedDocument {
    let n = feed.entries.len();
    let json_images: &[Vec<String>] = if extras.json_images.len() == n {
        &extras.json_images
    } else {
        &[]
    };
    let itunes_images: &[Option<String>] = if extras.itunes_images.len() == n {
        &extras.itunes_images
    } else {
        &[]
    };
    let subjects: &[Vec<String>] = if extras.subjects.len() == n {
        &extras.subjects
    } else {
        &[]
    };
    let entry_bases: &[Option<String>] = if extras.entry_bases.len() == n {
        &extras.entry_bases
    } else {
        &[]
    };
    let format = match feed.feed_type {
        FeedType::Atom => DocumentFormat::Atom,
        FeedType::JSON => DocumentFormat::JsonFeed,
        FeedType::RSS0 => DocumentFormat::Rss0,
        FeedType::RSS1 => DocumentFormat::Rss1,
        FeedType::RSS2 => DocumentFormat::Rss2,
    };
    let plain_is_text = matches!(format, DocumentFormat::Atom | DocumentFormat::JsonFeed);
    let source_title = feed
        .title
        .as_ref()
        .map(|t| decode_text(&t.content))
        .filter(|t| !t.is_empty());
    let feed_link = feed
        .links
        .iter()
        .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        .and_then(|l| absolutize(&l.href, Some(base)));
    let language = feed.language.as_deref().and_then(normalize_language);

    let mut posts = Vec::with_capacity(feed.entries.len());
    let mut cands = Vec::with_capacity(feed.entries.len());
    for (index, entry) in feed.entries.iter().enumerate() {
        let outer = entry_bases
            .get(index)
            .and_then(Option::as_deref)
            .and_then(|b| base.join(b).ok())
            .unwrap_or_else(|| base.clone());
        let entry_base = entry
            .base
            .as_deref()
            .and_then(|b| outer.join(b).ok())
            .unwrap_or(outer);
        let link = entry_link(entry, &entry_base);
        let title = entry
            .title
            .as_ref()
            .map(|t| decode_text(&t.content))
            .unwrap_or_default();
        let summary_html = text_html(entry.summary.as_ref(), plain_is_text)
            .map(|h| resolve_relative_urls(bounded_html(&h), &entry_base));
        let content_html = entry
            .content
            .as_ref()
            .and_then(|c| {
                let body = c.body.as_deref()?;
                if body.trim().is_empty() {
                    return None;
                }
                if plain_is_text && c.content_type.essence().to_string() == "text/plain" {
                    Some(escape_html(body))
                } else {
                    Some(body.to_owned())
                }
            })
            .map(|h| resolve_relative_urls(bounded_html(&h), &entry_base));

        let mut images = Vec::new();
        if let Some(list) = json_images.get(index) {
            for u in list {
                if let Some(u) = absolutize(u, Some(&entry_base)) {
                    push_unique(&mut images, u);
                }
            }
        }
        for media in &entry.media {
            for c in &media.content {
                let Some(url) = &c.url else { continue };
                let is_image = match &c.content_type {
                    Some(t) => t.ty() == "image",
                    None => is_image_url(url.as_str()),
                };
                if is_image {
                    push_unique(&mut images, url.to_string());
                }
            }
        }
        if let Some(Some(u)) = itunes_images.get(index)
            && let Some(u) = absolutize(u, Some(&entry_base))
        {
            push_unique(&mut images, u);
        }
        for media in &entry.media {
            for t in &media.thumbnails {
                if let Some(u) = absolutize(&t.image.uri, Some(&entry_base)) {
                    push_unique(&mut images, u);
                }
            }
        }
        for html in [content_html.as_deref(), summary_html.as_deref()]
            .into_iter()
            .flatten()
        {
            if let Some(first) = images_in_html(html, Some(&entry_base)).into_iter().next() {
                push_unique(&mut images, first);
                break;
            }
        }

        let mut authors: Vec<String> = Vec::new();
        for p in &entry.authors {
            let name = p
                .name
                .as_deref()
                .map(|n| decode_text(n.trim().trim_start_matches('(').trim_end_matches(')')))
                .filter(|n| !n.is_empty())
                .or_else(|| p.email.clone());
            if let Some(n) = name
                && !authors.contains(&n)
            {
                authors.push(n);
            }
        }
        let mut categories: Vec<String> = Vec::new();
        for c in &entry.categories {
            let label = c.label.as_deref().unwrap_or(&c.term);
            let label = decode_text(label);
            if !label.is_empty() && !categories.contains(&label) {
                categories.push(label);
            }
        }
        if let Some(list) = subjects.get(index) {
            for sub in list {
                if !categories.contains(sub) {
                    categories.push(sub.clone());
                }
            }
        }
        let published = entry.published;
        let updated = entry.updated.filter(|u| Some(*u) != published);
        cands.push(Candidate {
            guid: Some(entry.id.clone()).filter(|id| !id.trim().is_empty()),
            link: link.clone(),
        });
        let mut post = Post {
            feed: String::new(),
            source_title: source_title.clone(),
            title,
            link,
            summary_html,
            content_html,
            authors,
            categories,
            published,
            updated,
            images,
            language: entry
                .language
                .as_deref()
                .and_then(normalize_language)
                .or_else(|| language.clone()),
            digest: Vec::new(),
            enclosures: Vec::new(),
            title_from_text: false,
        };
        super::media::apply_entry(entry, &entry_base, &mut post);
        posts.push(post);
    }
    let mut items = build_items(&cands, posts);
    super::text::title_untitled(&mut items);
    let meta = FeedMeta {
        format: Some(format),
        reader: Some(super::Reader::Strict),
        title: source_title,
        link: feed_link,
        language,
        ttl_hint: feed.ttl.map(|m| Duration::from_secs(u64::from(m) * 60)),
        generator: feed.generator.map(|g| g.content),
        key_type: dominant_key_type(&items),
        ..FeedMeta::default()
    };
    ParsedDocument { meta, items }
}

/// Whether decoded text looks like an HTML page (for `inspect`).
pub(crate) fn looks_like_html(body: &[u8], content_type: Option<&str>) -> bool {
    let (text, _) = decode(body, None, true);
    sniff(&text, content_type) == Sniffed::Html
}
