//! The markup templates produce, parsed back into rich text.
//!
//! Templates write a tiny, platform-neutral subset of HTML:
//!
//! | markup | meaning |
//! |---|---|
//! | `<b>`, `<strong>` | bold |
//! | `<i>`, `<em>` | italic |
//! | `<u>`, `<ins>` | underline |
//! | `<s>`, `<strike>`, `<del>` | strikethrough |
//! | `<spoiler>`, `<tg-spoiler>`, `<span class="tg-spoiler">` | spoiler |
//! | `<code>` | inline code |
//! | `<a href="…">` | link (absolute `http(s)` only; anything else keeps the text, drops the link) |
//! | `<pre>` (optionally `<pre><code class="language-x">`) | code block |
//! | `<blockquote>` | quotation |
//! | `<br>` or a newline | line break |
//! | a blank line, `<p>` | paragraph break |
//!
//! Runs of spaces collapse; more than one blank line counts as one. Entities
//! `&lt; &gt; &amp; &quot; &#39;`, numeric ones and a few common named ones
//! are decoded. Template values are HTML-escaped by the template engine, so
//! they always come out as literal text. `{{ summary }}` and
//! `{{ content }}` are *block* placeholders: they stand for whole
//! paragraphs and are spliced in after parsing (inheriting the styles and
//! quote around them).
//!
//! At send time the parser is lenient (an unknown tag is shown as text);
//! [`parse`] also lists the problems, which `crier check` reports.

use super::rich::{Block, Span, Style};
use super::text::{SENTINEL_CLOSE, SENTINEL_OPEN};

mod lex;
mod parser;

pub(crate) use parser::parse;

/// A placeholder for a block list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    Summary,
    Content,
}

impl Slot {
    pub(crate) fn sentinel(self) -> String {
        let c = match self {
            Slot::Summary => 'S',
            Slot::Content => 'C',
        };
        format!("{SENTINEL_OPEN}{c}{SENTINEL_CLOSE}")
    }
}

/// A parsed template output: blocks and slots to fill.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Piece {
    Block(Block),
    Slot {
        slot: Slot,
        style: Style,
        link: Option<String>,
        quote: bool,
    },
}

/// Result of [`parse`].
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub pieces: Vec<Piece>,
    /// Problems a strict reader would complain about (unknown tags,
    /// unclosed tags…), for `crier check`.
    pub problems: Vec<String>,
}

/// Escape text for this markup: what the template engine's auto-escaping
/// does for values (minijinja's own escaper).
#[cfg(test)]
pub(crate) fn escape(s: &str) -> String {
    minijinja::HtmlEscape(s).to_string()
}

/// Fill the slots of parsed pieces with block lists.
pub(crate) fn resolve(pieces: &[Piece], summary: &[Block], content: &[Block]) -> Vec<Block> {
    let mut out = Vec::with_capacity(pieces.len() + content.len());
    for piece in pieces {
        match piece {
            Piece::Block(b) => out.push(b.clone()),
            Piece::Slot {
                slot,
                style,
                link,
                quote,
            } => {
                let blocks = match slot {
                    Slot::Summary => summary,
                    Slot::Content => content,
                };
                for b in blocks {
                    out.push(decorate(b, *style, link.as_deref(), *quote));
                }
            }
        }
    }
    out.retain(|b| !b.is_blank());
    out
}

fn decorate(b: &Block, style: Style, link: Option<&str>, quote: bool) -> Block {
    if style.is_plain() && link.is_none() && !quote {
        return b.clone();
    }
    let mut b = b.clone();
    if let Some(spans) = b.spans_mut() {
        for s in spans.iter_mut() {
            s.style = s.style.union(style);
            if s.link.is_none() {
                s.link = link.map(str::to_string);
            }
        }
    }
    if !quote {
        return b;
    }
    match b {
        Block::Paragraph(s) => Block::Quote(s),
        Block::Heading { spans, .. } => Block::Quote(
            spans
                .into_iter()
                .map(|mut s| {
                    s.style = s.style.union(Style::BOLD);
                    s
                })
                .collect(),
        ),
        Block::ListItem { marker, spans, .. } => {
            let mut v = Vec::with_capacity(spans.len() + 1);
            if !marker.is_empty() {
                v.push(Span::plain(format!("{marker} ")));
            }
            v.extend(spans);
            Block::Quote(v)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests;
