//! `crier inspect`: what Crier reads from a feed URL, page URL or file,
//! without recording anything.

use serde_json::json;

use super::fetch::Fetcher;
use super::identity::{Candidate, build_items};
use super::sniff::looks_like_html;
use super::{
    FeedKind, FeedMeta, FeedSpec, Reader, SourceError, SourceItem, page, parse_document_capped,
    resolve_location,
};

/// What a target is read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InspectKind {
    /// A feed (RSS/Atom/JSON Feed) or WordPress API answer.
    Feed,
    /// A single HTML page.
    Page,
}

/// What was read from one target.
#[derive(Debug, Clone)]
pub struct InspectDoc {
    /// Feed or page.
    pub kind: InspectKind,
    /// The document's metadata.
    pub meta: FeedMeta,
    /// Articles in document order.
    pub items: Vec<SourceItem>,
}

/// The result for one target: its articles or the per-source error.
#[derive(Debug, Clone)]
pub struct InspectReport {
    /// The target as given.
    pub source: String,
    /// Articles, or why reading failed.
    pub result: Result<InspectDoc, SourceError>,
}

fn page_doc(post: crier_bots::Post) -> InspectDoc {
    let cand = Candidate {
        guid: None,
        link: post.link.clone(),
    };
    let items = build_items(&[cand], vec![post]);
    InspectDoc {
        kind: InspectKind::Page,
        meta: FeedMeta {
            reader: Some(Reader::Page),
            ..FeedMeta::default()
        },
        items,
    }
}

/// Reads a target: an `http(s)://` URL (a feed, or a page when the answer
/// is HTML), a `file://` URL or a file path (a feed, or a page when HTML).
/// Never records anything; no WordPress switching, no conditional GET.
pub async fn inspect(fetcher: &Fetcher, target: &str) -> InspectReport {
    let source = target.to_owned();
    // A command-line argument: a path is taken against the current folder.
    let resolved = resolve_location(target, std::path::Path::new("."))
        .map_err(|message| SourceError::InvalidUrl { message });
    let url = match resolved {
        Ok(u) => u,
        Err(e) => {
            return InspectReport {
                source,
                result: Err(e),
            };
        }
    };
    let mut spec = FeedSpec::new("inspect", url);
    spec.kind = FeedKind::Feed;
    spec.body_cap = fetcher.config().body_cap;
    let result = async {
        let (raw, parsed) = fetcher.fetch_document(&spec).await?;
        match parsed {
            Ok(doc) => Ok(InspectDoc {
                kind: InspectKind::Feed,
                meta: doc.meta,
                items: doc.items,
            }),
            Err(SourceError::NotAFeed { got }) => {
                if looks_like_html(&raw.body, raw.content_type.as_deref()) {
                    let charset = raw
                        .content_type
                        .as_deref()
                        .and_then(super::encoding::charset_from_content_type);
                    let mut post = page::extract_with_charset(&raw.body, charset, &raw.url);
                    post.feed = "inspect".into();
                    let mut doc = page_doc(post);
                    doc.meta.fetched_url = Some(raw.url.to_string());
                    Ok(doc)
                } else {
                    Err(SourceError::NotAFeed { got })
                }
            }
            Err(e) => Err(e),
        }
    }
    .await;
    InspectReport { source, result }
}

/// Parses bytes already in hand (a file's content) the way [`inspect`] does.
pub fn inspect_bytes(source: &str, bytes: &[u8], base: &url::Url) -> InspectReport {
    let result = match parse_document_capped(bytes, None, base, super::DEFAULT_MAX_ITEMS) {
        Ok(doc) => Ok(InspectDoc {
            kind: InspectKind::Feed,
            meta: doc.meta,
            items: doc.items,
        }),
        Err(SourceError::NotAFeed { .. }) if looks_like_html(bytes, None) => {
            Ok(page_doc(page::extract(bytes, base)))
        }
        Err(e) => Err(e),
    };
    InspectReport {
        source: source.to_owned(),
        result,
    }
}

/// Which reader produced the document: `strict`, `lenient` or `page`.
pub fn reader_name(doc: &InspectDoc) -> &'static str {
    match (doc.meta.reader, doc.kind) {
        (Some(r), _) => r.as_str(),
        (None, InspectKind::Page) => "page",
        (None, InspectKind::Feed) => "strict",
    }
}

fn rfc3339(d: Option<chrono::DateTime<chrono::Utc>>) -> Option<String> {
    d.map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// One JSON object per line: one per article, or one with `error`.
pub fn render_json_lines(report: &InspectReport) -> String {
    let mut out = String::new();
    match &report.result {
        Err(e) => {
            let line = json!({
                "source": report.source,
                "error": e.to_string(),
                "error_kind": e.kind(),
                "transient": e.is_transient(),
            });
            out.push_str(&line.to_string());
            out.push('\n');
        }
        Ok(doc) => {
            for item in &doc.items {
                let p = &item.post;
                let line = json!({
                    "source": report.source,
                    "kind": match doc.kind { InspectKind::Feed => "feed", InspectKind::Page => "page" },
                    "reader": reader_name(doc),
                    "key": item.key(),
                    "key_type": item.key_type,
                    "keys": item.keys,
                    "title": p.title,
                    "link": p.link,
                    "summary": p.summary_html,
                    "authors": p.authors,
                    "categories": p.categories,
                    "published": rfc3339(p.published),
                    "updated": rfc3339(p.updated),
                    "images": p.images,
                    "language": p.language,
                    "content_length": p.content_html.as_deref().map_or(0, str::len),
                    "content_hash": item.content_hash,
                });
                out.push_str(&line.to_string());
                out.push('\n');
            }
        }
    }
    out
}

use crate::text::clip;

/// A human-readable table: a header per source, then a field/value block
/// per article; an error is one line `error: <source>: <reason>`.
pub fn render_table(report: &InspectReport) -> String {
    let mut out = String::new();
    let doc = match &report.result {
        Err(e) => {
            out.push_str(&format!("error: {}: {}\n", report.source, e));
            return out;
        }
        Ok(doc) => doc,
    };
    let kind = match doc.kind {
        InspectKind::Feed => "feed",
        InspectKind::Page => "page",
    };
    let format = doc
        .meta
        .format
        .and_then(|f| serde_json::to_value(f).ok())
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| kind.to_owned());
    out.push_str(&format!(
        "== {} ({}, {} reader, {} article{}{}{})\n",
        report.source,
        format,
        reader_name(doc),
        doc.items.len(),
        if doc.items.len() == 1 { "" } else { "s" },
        doc.meta
            .title
            .as_deref()
            .map(|t| format!(", \"{}\"", clip(t, 60)))
            .unwrap_or_default(),
        if doc.meta.encoding.is_empty() || doc.meta.encoding == "UTF-8" {
            String::new()
        } else {
            format!(", {}", doc.meta.encoding)
        },
    ));
    for (i, item) in doc.items.iter().enumerate() {
        let p = &item.post;
        let rows: Vec<(&str, String)> = vec![
            ("key", format!("{} ({})", item.key(), item.key_type)),
            (
                "other keys",
                item.keys
                    .iter()
                    .skip(1)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            ("title", clip(&p.title, 100)),
            ("link", p.link.clone().unwrap_or_default()),
            (
                "summary",
                clip(p.summary_html.as_deref().unwrap_or(""), 100),
            ),
            ("authors", p.authors.join(", ")),
            ("categories", p.categories.join(", ")),
            (
                "published",
                rfc3339(p.published).unwrap_or_else(|| "-".into()),
            ),
            ("updated", rfc3339(p.updated).unwrap_or_else(|| "-".into())),
            ("images", p.images.join(" ")),
            (
                "content",
                format!("{} bytes", p.content_html.as_deref().map_or(0, str::len)),
            ),
        ];
        out.push_str(&format!("-- #{}\n", i + 1));
        for (name, value) in rows {
            if name == "other keys" && value.is_empty() {
                continue;
            }
            out.push_str(&format!("  {name:<11} | {value}\n"));
        }
    }
    out
}
