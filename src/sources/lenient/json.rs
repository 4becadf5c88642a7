//! The lenient JSON reader: a document with an `items` array read item by
//! item, whatever its `version`; items that are not objects are skipped.

use crier_bots::format::escape_html;
use url::Url;

use super::item::{RawItem, finish_item};
use crate::sources::html::{decode_text, normalize_language};
use crate::sources::identity::{build_items, dominant_key_type};
use crate::sources::{DocumentFormat, FeedMeta, ParsedDocument, Reader};

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
    crate::sources::text::title_untitled(&mut items);
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
