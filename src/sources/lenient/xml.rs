//! The lenient XML reader: one streaming pass with quick-xml, end-name
//! checks off, capturing each item's and the channel's fields as text
//! (markup inside kept as HTML) and facts carried by attributes (links,
//! enclosures, media images, categories).

use quick_xml::events::Event;
use url::Url;

use super::fields::{
    Field, attrs, author_name, channel_field, entity, get, is_void, item_field, local,
};
use super::item::{RawItem, finish_item};
use crate::sources::html::{decode_text, normalize_language};
use crate::sources::identity::{build_items, dominant_key_type};
use crate::sources::{DocumentFormat, FeedMeta, ParsedDocument, Reader};

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
    crate::sources::text::title_untitled(&mut items);
    meta.format = Some(format);
    meta.language = channel_lang.as_deref().and_then(normalize_language);
    meta.key_type = dominant_key_type(&items);
    meta.reader = Some(Reader::Lenient);
    Some(ParsedDocument { meta, items })
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
