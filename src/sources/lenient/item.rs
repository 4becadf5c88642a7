//! One item as the lenient reader found it ([`RawItem`]: raw fields, in
//! either XML or JSON) and the post made of it: links made absolute, HTML
//! bounded, dates parsed, images gathered, identity candidate built.

use crier_bots::Post;
use url::Url;

use crate::sources::dates::parse_date;
use crate::sources::html::{
    absolutize, bounded_html, decode_text, first_image_in_html, normalize_language,
    resolve_relative_urls,
};
use crate::sources::identity::Candidate;

/// One item's raw fields, as found.
#[derive(Debug, Default)]
pub(super) struct RawItem {
    pub(super) title: Option<String>,
    pub(super) link: Option<String>,
    pub(super) guid: Option<String>,
    pub(super) summary: Option<String>,
    pub(super) content: Option<String>,
    pub(super) published: Option<String>,
    pub(super) updated: Option<String>,
    pub(super) authors: Vec<String>,
    pub(super) categories: Vec<String>,
    pub(super) images: Vec<String>,
    pub(super) language: Option<String>,
}

pub(super) fn finish_item(
    raw: RawItem,
    base: &Url,
    channel_lang: Option<&str>,
) -> Option<(Candidate, Post)> {
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
            if let Some(first) = first_image_in_html(html, Some(base)) {
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
