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
use super::extras::{
    Extras, RawEnclosure, Scan, Wanted, is_image_url, json_feed_images, push_unique, root_xml_base,
    scan_xml, sy_update_hint,
};
use super::html::{
    absolutize, bounded_html, decode_text, first_image_in_html, normalize_language,
    resolve_relative_urls,
};
use super::identity::{Candidate, build_items, dominant_key_type};
use super::quirks::{defuse_panics, fix_root_quirks};
use super::sniff::{Sniffed, root_name, sniff};
use super::{DocumentFormat, FeedMeta, ParsedDocument, SourceError};

/// The 1-based line of the first XML well-formedness error, via quick-xml.
pub(super) fn xml_error_line(text: &str) -> Option<(u64, String)> {
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

pub(super) fn line_of(text: &str, pos: usize) -> u64 {
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
    // The same pass reads what feed-rs drops.
    let rss = matches!(feed.feed_type, FeedType::RSS2 | FeedType::RSS0);
    let scan = if feed.feed_type == FeedType::JSON {
        Scan::default()
    } else {
        scan_xml(
            &body,
            Wanted {
                subjects: rss || feed.feed_type == FeedType::RSS1,
                item_children: rss,
                entry_bases: feed.feed_type == FeedType::Atom,
            },
        )
    };
    if let Some((line, message)) = scan.error {
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
    let extras = Extras {
        json_images,
        itunes_images: scan.itunes_images,
        enclosures: scan.enclosures,
        subjects: scan.subjects,
        entry_bases: scan.entry_bases,
    };
    let json = feed.feed_type == FeedType::JSON;
    let mut doc = convert(feed, &doc_base, &extras);
    if json {
        super::media::apply_orig_links(&body, &mut doc.items);
    } else {
        super::media::apply_links(scan.orig_links, &mut doc.items);
    }
    Ok(doc)
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

fn convert(feed: Feed, base: &Url, extras: &Extras) -> ParsedDocument {
    let n = feed.entries.len();
    let json_images: &[Vec<String>] = if extras.json_images.len() == n {
        &extras.json_images
    } else {
        &[]
    };
    let enclosures: &[Vec<RawEnclosure>] = if extras.enclosures.len() == n {
        &extras.enclosures
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
            if let Some(first) = first_image_in_html(html, Some(&entry_base)) {
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
        for e in enclosures.get(index).into_iter().flatten() {
            super::media::add_rss_enclosure(&mut post, &entry_base, e);
        }
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
