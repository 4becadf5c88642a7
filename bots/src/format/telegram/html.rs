//! The Telegram HTML emitter: a document's blocks as Telegram HTML, tags
//! nested in one fixed order, and [`TgDialect`], the visible length
//! Telegram measures (UTF-16 units after entity parsing).

use crate::format::layout::{Dialect, sep};
use crate::format::rich::{Block, Span, Style};
use crate::format::text::{escape_into, utf16_len};

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tag<'a> {
    Link(&'a str),
    Style(Style),
}

fn open_tag(t: &Tag<'_>, out: &mut String) {
    match t {
        Tag::Link(href) => {
            out.push_str("<a href=\"");
            escape_into(href, out, true);
            out.push_str("\">");
        }
        Tag::Style(s) => {
            out.push('<');
            out.push_str(tag_name(*s));
            out.push('>');
        }
    }
}

fn close_tag(t: &Tag<'_>, out: &mut String) {
    out.push_str("</");
    out.push_str(match t {
        Tag::Link(_) => "a",
        Tag::Style(s) => tag_name(*s),
    });
    out.push('>');
}

fn tag_name(s: Style) -> &'static str {
    match s {
        Style::BOLD => "b",
        Style::ITALIC => "i",
        Style::UNDERLINE => "u",
        Style::STRIKE => "s",
        Style::SPOILER => "tg-spoiler",
        _ => "code",
    }
}

/// The tags a span needs, outermost first. Code carries no other style
/// (Telegram drops formatting inside code), and code inside a link loses
/// the code style so the link survives.
pub(super) fn wanted<'a>(span: &'a Span, extra: Style) -> Vec<Tag<'a>> {
    let mut v = Vec::with_capacity(4);
    if let Some(l) = &span.link {
        v.push(Tag::Link(l));
    }
    let style = span.style.union(extra);
    if style.contains(Style::CODE) && span.link.is_none() {
        v.push(Tag::Style(Style::CODE));
        return v;
    }
    for s in Style::ORDER {
        if s != Style::CODE && style.contains(s) {
            v.push(Tag::Style(s));
        }
    }
    v
}

/// Render spans; returns the visible length (UTF-16).
fn spans_html(spans: &[Span], extra: Style, out: &mut String) -> usize {
    let mut open: Vec<Tag<'_>> = Vec::new();
    let mut len = 0;
    for span in spans {
        if span.text.is_empty() {
            continue;
        }
        let want = wanted(span, extra);
        let common = open.iter().zip(&want).take_while(|(a, b)| a == b).count();
        while open.len() > common {
            if let Some(t) = open.pop() {
                close_tag(&t, out);
            }
        }
        for t in &want[common..] {
            open_tag(t, out);
        }
        open = want;
        escape_into(&span.text, out, false);
        len += utf16_len(&span.text);
    }
    while let Some(t) = open.pop() {
        close_tag(&t, out);
    }
    len
}

/// Render one block; returns the visible length.
fn block_html(b: &Block, out: &mut String) -> usize {
    match b {
        Block::Paragraph(s) => spans_html(s, Style::PLAIN, out),
        Block::Heading { spans, .. } => spans_html(spans, Style::BOLD, out),
        Block::ListItem {
            depth,
            marker,
            spans,
        } => {
            let mut prefix = "   ".repeat(*depth as usize);
            if marker.is_empty() {
                prefix.push_str("   ");
            } else {
                prefix.push_str(marker);
                prefix.push(' ');
            }
            escape_into(&prefix, out, false);
            utf16_len(&prefix) + spans_html(spans, Style::PLAIN, out)
        }
        Block::Quote(s) => {
            out.push_str("<blockquote>");
            let n = spans_html(s, Style::PLAIN, out);
            out.push_str("</blockquote>");
            n
        }
        Block::Code { lang, text } => {
            out.push_str("<pre>");
            if let Some(l) = lang {
                out.push_str("<code class=\"language-");
                escape_into(l, out, true);
                out.push_str("\">");
            }
            escape_into(text, out, false);
            if lang.is_some() {
                out.push_str("</code>");
            }
            out.push_str("</pre>");
            utf16_len(text)
        }
        Block::Image { src, alt } => {
            let label = if alt.trim().is_empty() {
                "Image"
            } else {
                alt.as_str()
            };
            out.push_str("🖼 ");
            open_tag(&Tag::Link(src), out);
            escape_into(label, out, false);
            out.push_str("</a>");
            3 + utf16_len(label)
        }
    }
}

/// Render a document as Telegram HTML; returns the HTML and its visible
/// length.
pub(crate) fn to_html(blocks: &[Block]) -> (String, usize) {
    let mut out = String::new();
    let mut len = 0;
    for (i, b) in blocks.iter().enumerate() {
        if i > 0 {
            let s = sep(&blocks[i - 1], b);
            out.push_str(s);
            len += s.len();
        }
        len += block_html(b, &mut out);
    }
    (out, len)
}

/// Telegram measures visible text.
pub(crate) struct TgDialect;

impl Dialect for TgDialect {
    /// Exactly what [`block_html`] returns, without building the HTML.
    fn block_len(&self, b: &Block) -> usize {
        let spans = |s: &[Span]| s.iter().map(|s| utf16_len(&s.text)).sum::<usize>();
        match b {
            Block::Paragraph(s) | Block::Quote(s) => spans(s),
            Block::Heading { spans: s, .. } => spans(s),
            Block::ListItem {
                depth,
                marker,
                spans: s,
            } => {
                3 * *depth as usize
                    + if marker.is_empty() {
                        3
                    } else {
                        utf16_len(marker) + 1
                    }
                    + spans(s)
            }
            Block::Code { text, .. } => utf16_len(text),
            Block::Image { alt, .. } => {
                3 + if alt.trim().is_empty() {
                    5
                } else {
                    utf16_len(alt)
                }
            }
        }
    }
}
