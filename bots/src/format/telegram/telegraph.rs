//! Long articles as Telegraph pages (`telegraph = true`, full mode): an
//! article that needs more than one Telegram message is rendered as ONE
//! message — its summary, to which the adapter adds the page's link once
//! the page exists (Telegram shows it with Instant View) — carrying the
//! page ([`TelegraphPage`]: title, author, the article as Telegraph nodes)
//! and the split messages to send instead when Telegraph fails.
//!
//! Render does no network I/O: the page is created at send time by the
//! adapter (`telegram/telegraph.rs`).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::entities::thin_entities;
use super::message::{LinkPreviewOptions, TelegramMessage, TelegramMethod};
use super::{TEXT_LIMIT, TgDialect, read_more, text_message, to_html};
use crate::format::article::Article;
use crate::format::fit::fit_summary;
use crate::format::images::{same_picture, web_image};
use crate::format::options::{Look, Mode, TargetFormat};
use crate::format::rich::{Block, Span, Style};
use crate::format::template;
use crate::format::text::{escape_attr, escape_html, truncate_words, utf16_len};
use crate::format::validate::{TELEGRAPH_TITLE_MAX, telegraph_content, telegraph_title};
use crate::model::Post;
use crate::target::RenderError;

/// The label of the link to the page the adapter adds to the summary.
pub const TELEGRAPH_LINK_LABEL: &str = "Read in Instant View";
/// A page's author name: at most this many characters (the API's limit).
const AUTHOR_MAX: usize = 128;

/// The page a long article becomes, and the messages sent instead when
/// Telegraph fails. Not a Bot API parameter: it rides in the summary
/// message's payload (`TelegramMessage::telegraph`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TelegraphPage {
    /// The page title (1–256 characters).
    pub title: String,
    /// The author line under the title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_name: Option<String>,
    /// Where the author line links to: the original article.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_url: Option<String>,
    /// The article as a JSON array of Telegraph nodes (≤ 64 KB).
    pub content: Value,
    /// Today's split messages: what is sent when Telegraph fails.
    pub fallback: Vec<TelegramMessage>,
}

/// `out` (the post as today's messages) as one Telegraph summary message,
/// when the target asks for Telegraph, the post is in full mode, not a
/// digest, needs more than one message and its page passes the checks
/// (title, 64 KB); else `None` (today's messages are sent).
pub(super) fn telegraph_post(
    post: &Post,
    art: &Article,
    fmt: &TargetFormat,
    out: &[TelegramMessage],
) -> Result<Option<TelegramMessage>, RenderError> {
    let wanted =
        fmt.telegraph && matches!(fmt.mode, Mode::Full) && post.digest.is_empty() && out.len() > 1;
    if !wanted {
        return Ok(None);
    }
    let Some(page) = page(art, out) else {
        return Ok(None);
    };
    let mut summary = summary_message(post, art, fmt)?;
    // The summary as it will be sent (with the link) must pass the strict
    // validator; should it not, the split messages go out as today.
    let sample = with_link(&summary, "https://telegra.ph/Sample-Page-12-31");
    if crate::format::validate::telegram_text(
        sample.body(),
        sample.parse_mode.as_deref(),
        TEXT_LIMIT,
    )
    .is_err()
    {
        return Ok(None);
    }
    summary.telegraph = Some(Box::new(page));
    Ok(Some(summary))
}

/// The page of `art`, or `None` when it is not a valid page (no title,
/// content over 64 KB…).
fn page(art: &Article, out: &[TelegramMessage]) -> Option<TelegraphPage> {
    let title = if art.title.trim().is_empty() {
        art.source.trim()
    } else {
        art.title.trim()
    };
    let title = truncate_words(title, TELEGRAPH_TITLE_MAX);
    telegraph_title(&title).ok()?;
    let author = if art.author.trim().is_empty() {
        art.source.trim()
    } else {
        art.author.trim()
    };
    let content = Value::Array(nodes(art));
    telegraph_content(&content).ok()?;
    Some(TelegraphPage {
        title,
        author_name: (!author.is_empty()).then(|| truncate_words(author, AUTHOR_MAX)),
        author_url: art.link.clone(),
        content,
        fallback: out.to_vec(),
    })
}

/// The summary-mode message of the post (the default summary template, no
/// photo: the page's preview is the picture), leaving room for the link.
fn summary_message(
    post: &Post,
    art: &Article,
    fmt: &TargetFormat,
) -> Result<TelegramMessage, RenderError> {
    let sfmt = TargetFormat {
        mode: Mode::Summary,
        template: None,
        ..fmt.clone()
    };
    let pieces = template::pieces(Look::Telegram, &sfmt, post, art)?;
    let room = TEXT_LIMIT - 2 - utf16_len(TELEGRAPH_LINK_LABEL);
    let mut blocks = fit_summary(&TgDialect, &pieces, art, room).0;
    thin_entities(&mut blocks);
    let (html, _) = to_html(&blocks);
    let mut m = text_message(html, LinkPreviewOptions::disabled());
    m.reply_markup = read_more(fmt, art);
    Ok(m)
}

/// The summary message with the page's link: a last line linking to `url`
/// and a large preview of the page (Telegram shows a telegra.ph link with
/// Instant View). The page and fallback stay out of what is sent.
pub fn with_link(m: &TelegramMessage, url: &str) -> TelegramMessage {
    let mut out = m.clone();
    out.telegraph = None;
    let link = format!(
        "<a href=\"{}\">{}</a>",
        escape_attr(url),
        escape_html(TELEGRAPH_LINK_LABEL)
    );
    let text = m.text.as_deref().unwrap_or("");
    out.method = TelegramMethod::SendMessage;
    out.text = Some(if text.trim().is_empty() {
        link
    } else {
        format!("{text}\n\n{link}")
    });
    out.parse_mode = Some("HTML".into());
    out.link_preview_options = Some(LinkPreviewOptions::large(url, false));
    out
}

/// The article as Telegraph nodes: its full text (else its summary), the
/// main picture first unless the text shows it, a last line linking to
/// the original.
pub(crate) fn nodes(art: &Article) -> Vec<Value> {
    let blocks = if art.content.is_empty() {
        &art.summary
    } else {
        &art.content
    };
    let mut out = Vec::new();
    if let Some(img) = web_image(art.image.as_ref()) {
        let shown = blocks
            .iter()
            .any(|b| matches!(b, Block::Image { src, .. } if same_picture(src, img)));
        if !shown {
            out.push(figure(img, ""));
        }
    }
    let mut i = 0;
    while i < blocks.len() {
        let b = &blocks[i];
        i += 1;
        match b {
            Block::Paragraph(spans) => push_text(&mut out, "p", spans),
            Block::Heading { level, spans } => {
                push_text(&mut out, if *level <= 2 { "h3" } else { "h4" }, spans)
            }
            Block::Quote(spans) => push_text(&mut out, "blockquote", spans),
            Block::Code { text, .. } => {
                if !text.trim().is_empty() {
                    out.push(json!({"tag": "pre", "children": [text]}));
                }
            }
            Block::Image { src, alt } => out.push(figure(src, alt)),
            Block::ListItem { .. } => {
                let start = i - 1;
                while i < blocks.len() && matches!(blocks[i], Block::ListItem { .. }) {
                    i += 1;
                }
                let items: Vec<Item<'_>> = blocks[start..i]
                    .iter()
                    .filter_map(|b| match b {
                        Block::ListItem {
                            depth,
                            marker,
                            spans,
                        } => Some((*depth, marker.as_str(), spans.as_slice())),
                        _ => None,
                    })
                    .collect();
                let mut at = 0;
                while at < items.len() {
                    let base = items[at].0;
                    out.push(list(&items, &mut at, base));
                }
            }
        }
    }
    if let Some(link) = &art.link {
        let label = if art.source.trim().is_empty() {
            link.as_str()
        } else {
            art.source.trim()
        };
        out.push(json!({"tag": "p", "children": [
            {"tag": "a", "attrs": {"href": link}, "children": [label]}
        ]}));
    }
    out
}

/// A list item: depth, marker, text.
type Item<'a> = (u8, &'a str, &'a [Span]);

/// The list starting at `items[*at]` (depth `depth`), with its nested
/// lists inside their items; advances `at` past it.
fn list(items: &[Item<'_>], at: &mut usize, depth: u8) -> Value {
    let numbered = |m: &str| m.starts_with(|c: char| c.is_ascii_digit());
    let ordered = items.get(*at).is_some_and(|(_, m, _)| numbered(m));
    let mut lis: Vec<Vec<Value>> = Vec::new();
    while let Some(&(d, marker, spans)) = items.get(*at) {
        // A shallower item ends this list; a list of the other kind
        // begins a new one.
        if d < depth || (d == depth && !marker.is_empty() && numbered(marker) != ordered) {
            break;
        }
        if d > depth {
            let nested = list(items, at, d);
            match lis.last_mut() {
                Some(li) => li.push(nested),
                None => lis.push(vec![nested]),
            }
            continue;
        }
        *at += 1;
        let children = inline(spans);
        match lis.last_mut() {
            Some(li) if marker.is_empty() => {
                li.push(json!({"tag": "br"}));
                li.extend(children);
            }
            _ => lis.push(children),
        }
    }
    let lis: Vec<Value> = lis
        .into_iter()
        .map(|c| json!({"tag": "li", "children": c}))
        .collect();
    json!({"tag": if ordered { "ol" } else { "ul" }, "children": lis})
}

fn figure(src: &str, caption: &str) -> Value {
    let mut children = vec![json!({"tag": "img", "attrs": {"src": src}})];
    let caption = caption.trim();
    if !caption.is_empty() {
        children.push(json!({"tag": "figcaption", "children": [caption]}));
    }
    json!({"tag": "figure", "children": children})
}

fn push_text(out: &mut Vec<Value>, tag: &str, spans: &[Span]) {
    let children = inline(spans);
    if !children.is_empty() {
        out.push(json!({"tag": tag, "children": children}));
    }
}

/// Spans as inline nodes: line breaks as `br`, styles as `b i u s code`
/// (a spoiler is plain text: Telegraph has none), links as `a`.
fn inline(spans: &[Span]) -> Vec<Value> {
    let mut out = Vec::new();
    for s in spans {
        let mut text: Vec<Value> = Vec::new();
        for (i, line) in s.text.split('\n').enumerate() {
            if i > 0 {
                text.push(json!({"tag": "br"}));
            }
            if !line.is_empty() {
                text.push(Value::String(line.to_string()));
            }
        }
        if text.is_empty() {
            continue;
        }
        let mut nodes = text;
        for (flag, tag) in [
            (Style::CODE, "code"),
            (Style::STRIKE, "s"),
            (Style::UNDERLINE, "u"),
            (Style::ITALIC, "i"),
            (Style::BOLD, "b"),
        ] {
            if s.style.contains(flag) && !(flag != Style::CODE && s.style.contains(Style::CODE)) {
                nodes = vec![json!({"tag": tag, "children": nodes})];
            }
        }
        if let Some(href) = &s.link {
            nodes = vec![json!({"tag": "a", "attrs": {"href": href}, "children": nodes})];
        }
        out.extend(nodes);
    }
    out
}
