//! The lenient reader: what Crier reads from a document that sniffs as a
//! feed when the strict parser (feed-rs) gives up on it as a whole.
//!
//! XML is read in one streaming pass with quick-xml, end-name checks off:
//! a broken item or field drops that item or field, not the feed; dates
//! in unknown formats are parsed with the broad date parser or left
//! empty; the first of duplicate elements wins; reading stops after
//! `max_items` items. JSON documents with an `items` array are read item
//! by item, whatever their `version`.

use crier_bots::Post;
use crier_bots::format::escape_html;
use quick_xml::events::{BytesStart, Event};
use url::Url;

use super::dates::parse_date;
use super::html::{
    absolutize, bounded_html, decode_text, images_in_html, normalize_language,
    resolve_relative_urls,
};
use super::identity::{Candidate, build_items, dominant_key_type};
use super::{DocumentFormat, FeedMeta, ParsedDocument, Reader};

/// One item's raw fields, as found.
#[derive(Debug, Default)]
struct RawItem {
    title: Option<String>,
    link: Option<String>,
    guid: Option<String>,
    summary: Option<String>,
    content: Option<String>,
    published: Option<String>,
    updated: Option<String>,
    authors: Vec<String>,
    categories: Vec<String>,
    images: Vec<String>,
    language: Option<String>,
}

/// The field a text capture goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
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

fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

fn item_field(qname: &str) -> Option<Field> {
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

fn channel_field(qname: &str) -> Option<Field> {
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
fn attrs(e: &BytesStart<'_>) -> Vec<(String, String)> {
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

fn get<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(k, _)| k == name || local(k) == name)
        .map(|(_, v)| v.as_str())
}

/// Resolves an entity reference as XML would (the predefined entities and
/// character references); anything else is kept verbatim as `&name;` for
/// the HTML layer to decode.
fn entity(name: &str) -> String {
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

/// What is being captured: the field, its text, and the nesting depth
/// inside the captured element (markup inside it is kept as text).
struct Capture {
    field: Field,
    /// The captured element's name (lower case): its end tag closes the
    /// capture whatever markup inside was left open.
    name: String,
    text: String,
    depth: usize,
    /// Markup inside is XML (Atom `type="xhtml"`, raw HTML): kept as HTML.
    escaped: bool,
}

fn finish_item(raw: RawItem, base: &Url, channel_lang: Option<&str>) -> Option<(Candidate, Post)> {
    let link = raw
        .link
        .as_deref()
        .and_then(|l| absolutize(l.trim(), Some(base)));
    let summary_html = raw
        .summary
        .filter(|s| !s.trim().is_empty())
        .map(|h| resolve_relative_urls(bounded_html(&h), base));
    let content_html = raw
        .content
        .filter(|s| !s.trim().is_empty())
        .map(|h| resolve_relative_urls(bounded_html(&h), base));
    let title = raw.title.map(|t| decode_text(&t)).unwrap_or_default();
    if title.is_empty() && link.is_none() && summary_html.is_none() && content_html.is_none() {
        return None;
    }
    let mut images = Vec::new();
    for u in raw.images {
        if let Some(u) = absolutize(&u, Some(base))
            && !images.contains(&u)
        {
            images.push(u);
        }
    }
    if images.is_empty() {
        for html in [content_html.as_deref(), summary_html.as_deref()]
            .into_iter()
            .flatten()
        {
            if let Some(first) = images_in_html(html, Some(base)).into_iter().next() {
                images.push(first);
                break;
            }
        }
    }
    let mut authors: Vec<String> = Vec::new();
    for a in raw.authors {
        let a = decode_text(a.trim().trim_start_matches('(').trim_end_matches(')'));
        if !a.is_empty() && !authors.contains(&a) {
            authors.push(a);
        }
    }
    let mut categories: Vec<String> = Vec::new();
    for c in raw.categories {
        let c = decode_text(&c);
        if !c.is_empty() && !categories.contains(&c) {
            categories.push(c);
        }
    }
    let published = raw.published.as_deref().and_then(parse_date);
    let updated = raw
        .updated
        .as_deref()
        .and_then(parse_date)
        .filter(|u| Some(*u) != published);
    let language = raw
        .language
        .as_deref()
        .or(channel_lang)
        .and_then(normalize_language);
    let guid = raw
        .guid
        .map(|g| decode_text(&g))
        .filter(|g| !g.trim().is_empty());
    Some((
        Candidate {
            guid,
            link: link.clone(),
        },
        Post {
            feed: String::new(),
            source_title: None,
            title,
            link,
            summary_html,
            content_html,
            authors,
            categories,
            published,
            updated,
            images,
            language,
            digest: Vec::new(),
            enclosures: Vec::new(),
            title_from_text: false,
        },
    ))
}

/// Reads an XML feed leniently. `None` when nothing at all could be read
/// (no feed root): the caller reports the strict parser's reason.
pub(crate) fn read_xml(text: &str, base: &Url, max_items: usize) -> Option<ParsedDocument> {
    let mut reader = quick_xml::Reader::from_str(text);
    {
        let c = reader.config_mut();
        c.check_end_names = false;
        c.allow_unmatched_ends = true;
        c.expand_empty_elements = false;
    }
    let mut format = None;
    let mut meta = FeedMeta::default();
    let mut channel_lang: Option<String> = None;
    let mut raws: Vec<RawItem> = Vec::new();
    let mut item: Option<RawItem> = None;
    let mut item_depth = 0usize;
    let mut depth = 0usize;
    let mut capture: Option<Capture> = None;
    let mut errors = 0usize;
    let mut last_pos = u64::MAX;
    loop {
        let event = match reader.read_event() {
            Ok(ev) => ev,
            Err(_) => {
                // Skip what cannot be read; stop if the reader is stuck.
                errors += 1;
                let pos = reader.buffer_position();
                if pos == last_pos || errors > 10_000 {
                    break;
                }
                last_pos = pos;
                continue;
            }
        };
        match event {
            Event::Start(e) if capture.is_some() => {
                // Markup inside a captured field (XHTML content, raw HTML);
                // HTML void elements (`<br>`) open nothing.
                let void = is_void(e.local_name().as_ref());
                if let Some(c) = capture.as_mut() {
                    c.escaped = true;
                    c.text.push('<');
                    c.text.push_str(&e);
                    c.text.push('>');
                    if !void {
                        c.depth += 1;
                    }
                }
                if !void {
                    depth += 1;
                }
            }
            Event::Empty(e) if capture.is_some() => {
                if let Some(c) = capture.as_mut() {
                    c.escaped = true;
                    c.text.push('<');
                    c.text.push_str(&e);
                    c.text.push_str("/>");
                }
            }
            Event::Start(e) => {
                depth += 1;
                let qn = e.name();
                let qname: &str = qn.as_ref();
                let lower = qname.to_ascii_lowercase();
                let l = local(&lower).to_owned();
                if format.is_none() {
                    format = match l.as_str() {
                        "rss" => Some(DocumentFormat::Rss2),
                        "feed" => Some(DocumentFormat::Atom),
                        "rdf" => Some(DocumentFormat::Rss1),
                        _ => return None,
                    };
                    continue;
                }
                if item.is_none() && (l == "item" || l == "entry") {
                    if raws.len() >= max_items {
                        break;
                    }
                    item = Some(RawItem::default());
                    item_depth = depth;
                    continue;
                }
                let a = attrs(&e);
                handle_attrs(item.as_mut(), &lower, &a, &mut meta);
                let field = if item.is_some() {
                    if depth == item_depth + 1 {
                        item_field(qname)
                    } else {
                        author_name(qname)
                    }
                } else {
                    channel_field(qname).filter(|_| depth <= 3)
                };
                if let Some(field) = field {
                    let skip_link = field == Field::Link && get(&a, "href").is_some();
                    if !skip_link {
                        capture = Some(Capture {
                            field,
                            name: lower.clone(),
                            text: String::new(),
                            depth: 0,
                            escaped: false,
                        });
                    }
                }
            }
            Event::Empty(e) => {
                let qn = e.name();
                let qname: &str = qn.as_ref();
                let lower = qname.to_ascii_lowercase();
                format?;
                let a = attrs(&e);
                handle_attrs(item.as_mut(), &lower, &a, &mut meta);
            }
            Event::Text(t) => {
                if let Some(c) = capture.as_mut() {
                    c.text.push_str(&t);
                }
            }
            Event::CData(t) => {
                if let Some(c) = capture.as_mut() {
                    c.text.push_str(&t);
                }
            }
            Event::GeneralRef(r) => {
                if let Some(c) = capture.as_mut() {
                    if c.escaped {
                        // Inside markup: keep references as they are.
                        c.text.push('&');
                        c.text.push_str(&r);
                        c.text.push(';');
                    } else {
                        c.text.push_str(&entity(&r));
                    }
                }
            }
            Event::End(e) => {
                let qn = e.name();
                let qname: &str = qn.as_ref();
                let lower = qname.to_ascii_lowercase();
                if capture.as_ref().is_some_and(|c| c.name == lower) {
                    // The captured element ends: whatever was left open in it.
                    if let Some(c) = capture.take() {
                        depth = depth.saturating_sub(c.depth + 1);
                        store(c, item.as_mut(), &mut meta, &mut channel_lang);
                    }
                    continue;
                }
                if capture.is_none() && item.is_some() && matches!(local(&lower), "item" | "entry")
                {
                    if let Some(done) = item.take() {
                        raws.push(done);
                    }
                    depth = item_depth.saturating_sub(1);
                    continue;
                }
                if is_void(local(&lower)) {
                    continue;
                }
                depth = depth.saturating_sub(1);
                if let Some(c) = capture.as_mut()
                    && c.depth > 0
                {
                    c.depth -= 1;
                    c.text.push_str("</");
                    c.text.push_str(&e);
                    c.text.push('>');
                    continue;
                }
                if let Some(c) = capture.take() {
                    store(c, item.as_mut(), &mut meta, &mut channel_lang);
                    continue;
                }
                if item.is_some()
                    && depth < item_depth
                    && let Some(done) = item.take()
                {
                    raws.push(done);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    // A document cut short: keep the item being read if it has something.
    if let Some(c) = capture.take() {
        store(c, item.as_mut(), &mut meta, &mut channel_lang);
    }
    if let Some(done) = item.take() {
        raws.push(done);
    }
    let format = format?;
    let mut cands = Vec::with_capacity(raws.len());
    let mut posts = Vec::with_capacity(raws.len());
    let source_title = meta.title.clone();
    for raw in raws {
        if let Some((cand, mut post)) = finish_item(raw, base, channel_lang.as_deref()) {
            post.source_title = source_title.clone();
            cands.push(cand);
            posts.push(post);
        }
    }
    let mut items = build_items(&cands, posts);
    super::text::title_untitled(&mut items);
    meta.format = Some(format);
    meta.language = channel_lang.as_deref().and_then(normalize_language);
    meta.key_type = dominant_key_type(&items);
    meta.reader = Some(Reader::Lenient);
    Some(ParsedDocument { meta, items })
}

/// HTML elements that have no end tag.
fn is_void(local: &str) -> bool {
    const VOID: &[&str] = &[
        "br", "img", "hr", "input", "meta", "link", "source", "wbr", "col", "area", "base",
        "embed", "param", "track",
    ];
    VOID.iter().any(|v| local.eq_ignore_ascii_case(v))
}

/// Inside an item's `<author>`: its `<name>` child (Atom).
fn author_name(qname: &str) -> Option<Field> {
    (local(&qname.to_ascii_lowercase()) == "name").then_some(Field::Author)
}

/// Facts carried by attributes: Atom links, enclosures and media images,
/// Atom categories.
fn handle_attrs(
    item: Option<&mut RawItem>,
    lower: &str,
    a: &[(String, String)],
    meta: &mut FeedMeta,
) {
    let l = local(lower);
    match item {
        Some(item) => match l {
            "link" => {
                if let Some(href) = get(a, "href") {
                    let rel = get(a, "rel").unwrap_or("alternate");
                    if rel == "alternate" && item.link.is_none() {
                        item.link = Some(href.to_owned());
                    } else if rel == "enclosure"
                        && get(a, "type").is_some_and(|t| t.starts_with("image/"))
                    {
                        item.images.push(href.to_owned());
                    }
                }
            }
            "enclosure" | "content" | "thumbnail" => {
                if let Some(url) = get(a, "url") {
                    let ty = get(a, "type").or_else(|| get(a, "medium")).unwrap_or("");
                    if l == "thumbnail" || ty.starts_with("image") || ty.is_empty() && is_image(url)
                    {
                        item.images.push(url.to_owned());
                    }
                }
            }
            "image" => {
                if let Some(href) = get(a, "href") {
                    item.images.push(href.to_owned());
                }
            }
            "category" => {
                if let Some(term) = get(a, "label").or_else(|| get(a, "term")) {
                    item.categories.push(term.to_owned());
                }
            }
            _ => {}
        },
        None => {
            if l == "link"
                && meta.link.is_none()
                && get(a, "rel").is_none_or(|r| r == "alternate")
                && let Some(href) = get(a, "href")
            {
                meta.link = Some(href.to_owned());
            }
        }
    }
}

fn is_image(url: &str) -> bool {
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    [".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif"]
        .iter()
        .any(|ext| path.ends_with(ext))
}

fn store(c: Capture, item: Option<&mut RawItem>, meta: &mut FeedMeta, lang: &mut Option<String>) {
    let text = c.text;
    let first = |slot: &mut Option<String>, v: String| {
        if slot.is_none() && !v.trim().is_empty() {
            *slot = Some(v);
        }
    };
    match item {
        Some(item) => match c.field {
            Field::Title => first(&mut item.title, text),
            Field::Link => first(&mut item.link, text.trim().to_owned()),
            Field::Guid => first(&mut item.guid, text.trim().to_owned()),
            Field::Summary => first(&mut item.summary, text),
            Field::Content => first(&mut item.content, text),
            Field::Published => first(&mut item.published, text),
            Field::Updated => first(&mut item.updated, text),
            Field::Author if !text.trim().is_empty() => item.authors.push(text),
            Field::Category if !text.trim().is_empty() => item.categories.push(text),
            Field::Language => first(&mut item.language, text.trim().to_owned()),
            _ => {}
        },
        None => match c.field {
            Field::ChannelTitle => {
                let t = decode_text(&text);
                if meta.title.is_none() && !t.is_empty() {
                    meta.title = Some(t);
                }
            }
            Field::ChannelLink => first(&mut meta.link, text.trim().to_owned()),
            Field::Language => first(lang, text.trim().to_owned()),
            Field::Generator => first(&mut meta.generator, decode_text(&text)),
            _ => {}
        },
    }
}

/// Reads a JSON document with an `items` array item by item, whatever its
/// `version`; items that are not objects are skipped.
pub(crate) fn read_json(
    v: &serde_json::Value,
    base: &Url,
    max_items: usize,
) -> Option<ParsedDocument> {
    let items = v.get("items")?.as_array()?;
    let s = |o: &serde_json::Value, k: &str| o.get(k).and_then(|x| x.as_str()).map(str::to_owned);
    let title = s(v, "title")
        .map(|t| decode_text(&t))
        .filter(|t| !t.is_empty());
    let channel_lang = s(v, "language");
    let mut cands = Vec::new();
    let mut posts = Vec::new();
    for it in items.iter().take(max_items) {
        if !it.is_object() {
            continue;
        }
        let mut authors = Vec::new();
        if let Some(list) = it.get("authors").and_then(|a| a.as_array()) {
            authors.extend(list.iter().filter_map(|a| s(a, "name")));
        }
        if let Some(a) = it.get("author").and_then(|a| s(a, "name")) {
            authors.push(a);
        }
        let content =
            s(it, "content_html").or_else(|| s(it, "content_text").map(|t| escape_html(&t)));
        let guid = match it.get("id") {
            Some(serde_json::Value::String(id)) => Some(id.clone()),
            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let raw = RawItem {
            title: s(it, "title").map(|t| t.replace('&', "&amp;").replace('<', "&lt;")),
            link: s(it, "url").or_else(|| s(it, "external_url")),
            guid,
            summary: s(it, "summary"),
            content,
            published: s(it, "date_published"),
            updated: s(it, "date_modified"),
            authors,
            categories: it
                .get("tags")
                .and_then(|t| t.as_array())
                .map(|t| {
                    t.iter()
                        .filter_map(|x| x.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            images: ["image", "banner_image"]
                .iter()
                .filter_map(|k| s(it, k))
                .collect(),
            language: s(it, "language"),
        };
        if let Some((cand, mut post)) = finish_item(raw, base, channel_lang.as_deref()) {
            post.source_title = title.clone();
            cands.push(cand);
            posts.push(post);
        }
    }
    let mut items = build_items(&cands, posts);
    super::text::title_untitled(&mut items);
    let meta = FeedMeta {
        format: Some(DocumentFormat::JsonFeed),
        title,
        link: s(v, "home_page_url"),
        language: channel_lang.as_deref().and_then(normalize_language),
        key_type: dominant_key_type(&items),
        reader: Some(Reader::Lenient),
        ..FeedMeta::default()
    };
    Some(ParsedDocument { meta, items })
}
