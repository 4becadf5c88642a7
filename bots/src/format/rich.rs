//! The platform-neutral rich-text model between sanitised HTML and the
//! platform renderers.
//!
//! A document is a list of [`Block`]s. Inline content is a flat list of
//! [`Span`]s — text with a set of [`Style`] flags and an optional link —
//! rather than a tree: a flat list can be cut anywhere without breaking any
//! nesting, and each renderer rebuilds properly nested markup from it.
//! Line breaks inside a block are `\n` characters in span text.

use super::text::utf16_len;

/// Inline formatting flags of a [`Span`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Style(u8);

impl Style {
    /// No formatting.
    pub const PLAIN: Style = Style(0);
    /// Bold.
    pub const BOLD: Style = Style(1);
    /// Italic.
    pub const ITALIC: Style = Style(2);
    /// Underline.
    pub const UNDERLINE: Style = Style(4);
    /// Strikethrough.
    pub const STRIKE: Style = Style(8);
    /// Spoiler (hidden until tapped).
    pub const SPOILER: Style = Style(16);
    /// Inline code (monospace). Renderers drop other styles on code.
    pub const CODE: Style = Style(32);

    /// All flags, outermost first: the order renderers nest markup in.
    pub const ORDER: [Style; 6] = [
        Style::BOLD,
        Style::ITALIC,
        Style::UNDERLINE,
        Style::STRIKE,
        Style::SPOILER,
        Style::CODE,
    ];

    /// Does `self` have every flag of `other`?
    pub fn contains(self, other: Style) -> bool {
        self.0 & other.0 == other.0
    }
    /// Both sets of flags.
    pub fn union(self, other: Style) -> Style {
        Style(self.0 | other.0)
    }
    /// Flags present in both.
    pub fn intersection(self, other: Style) -> Style {
        Style(self.0 & other.0)
    }
    /// `self` without the flags of `other`.
    pub fn without(self, other: Style) -> Style {
        Style(self.0 & !other.0)
    }
    /// No flag set.
    pub fn is_plain(self) -> bool {
        self.0 == 0
    }
}

/// A run of text with one style and at most one link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// The text, already decoded (no HTML entities, no markup). May contain
    /// `\n` for a line break.
    pub text: String,
    /// Formatting flags.
    pub style: Style,
    /// Absolute `http(s)` URL the text links to.
    pub link: Option<String>,
}

impl Span {
    /// A plain, unlinked span.
    pub fn plain(text: impl Into<String>) -> Span {
        Span {
            text: text.into(),
            style: Style::PLAIN,
            link: None,
        }
    }
}

/// One block of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// A paragraph.
    Paragraph(Vec<Span>),
    /// A heading (`h1`…`h6`); renderers show it bold.
    Heading {
        /// 1 to 6.
        level: u8,
        /// The heading text.
        spans: Vec<Span>,
    },
    /// One item of a list; consecutive items form the list.
    ListItem {
        /// Nesting depth, 0 for a top-level list.
        depth: u8,
        /// `•`, `◦`, `3.`…, or empty for the continuation of an item
        /// after a nested list.
        marker: String,
        /// The item's text.
        spans: Vec<Span>,
    },
    /// A block quotation (paragraphs inside are separated by `\n\n`).
    Quote(Vec<Span>),
    /// Preformatted text / a code block.
    Code {
        /// Language from `class="language-x"`, if any.
        lang: Option<String>,
        /// The code, whitespace preserved.
        text: String,
    },
    /// An image with its alternative text.
    Image {
        /// Absolute `http(s)` URL.
        src: String,
        /// Alternative text (may be empty).
        alt: String,
    },
}

impl Block {
    /// The inline spans of a text block (`None` for code and images).
    pub fn spans(&self) -> Option<&[Span]> {
        match self {
            Block::Paragraph(s) | Block::Quote(s) => Some(s),
            Block::Heading { spans, .. } | Block::ListItem { spans, .. } => Some(spans),
            Block::Code { .. } | Block::Image { .. } => None,
        }
    }

    /// Mutable access to the spans of a text block.
    pub fn spans_mut(&mut self) -> Option<&mut Vec<Span>> {
        match self {
            Block::Paragraph(s) | Block::Quote(s) => Some(s),
            Block::Heading { spans, .. } | Block::ListItem { spans, .. } => Some(spans),
            Block::Code { .. } | Block::Image { .. } => None,
        }
    }

    /// The block's text without formatting (image: its alt text).
    pub fn plain_text(&self) -> String {
        match self {
            Block::Code { text, .. } => text.clone(),
            Block::Image { alt, .. } => alt.clone(),
            _ => self
                .spans()
                .map(|s| s.iter().map(|s| s.text.as_str()).collect())
                .unwrap_or_default(),
        }
    }

    /// UTF-16 length of the block's text.
    pub fn text_len(&self) -> usize {
        match self {
            Block::Code { text, .. } => utf16_len(text),
            Block::Image { alt, .. } => utf16_len(alt),
            _ => self
                .spans()
                .map(|s| s.iter().map(|s| utf16_len(&s.text)).sum())
                .unwrap_or(0),
        }
    }

    /// Is there nothing visible in this block?
    pub fn is_blank(&self) -> bool {
        match self {
            Block::Code { text, .. } => text.trim().is_empty(),
            Block::Image { src, .. } => src.is_empty(),
            _ => self
                .spans()
                .is_none_or(|s| s.iter().all(|s| is_blank_text(&s.text))),
        }
    }
}

/// Only whitespace and invisible characters?
pub(crate) fn is_blank_text(s: &str) -> bool {
    s.chars().all(|c| {
        c.is_whitespace() || matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
    })
}

/// Append text to a span list, merging with the last span when the style
/// and link are the same.
pub(crate) fn push_text(spans: &mut Vec<Span>, text: &str, style: Style, link: Option<&str>) {
    if text.is_empty() {
        return;
    }
    if let Some(last) = spans.last_mut()
        && last.style == style
        && last.link.as_deref() == link
    {
        last.text.push_str(text);
        return;
    }
    spans.push(Span {
        text: text.to_string(),
        style,
        link: link.map(str::to_string),
    });
}

/// Whether a span list is at the start of a line: empty, or its text
/// ends with a newline.
pub(crate) fn at_line_start(spans: &[Span]) -> bool {
    spans.last().is_none_or(|s| s.text.ends_with('\n'))
}

/// Append a word, first resolving a pending space before it (the
/// sanitiser's and the template markup's span builders): none at the start
/// of a line; otherwise a space that takes what both neighbours share (the
/// styles' intersection, the link when it is the same), so that
/// `<b>a</b> <b>b</b>` stays one bold run. Clears `pending_space`.
pub(crate) fn push_word(
    spans: &mut Vec<Span>,
    pending_space: &mut bool,
    word: &str,
    style: Style,
    link: Option<&str>,
) {
    if *pending_space && !at_line_start(spans) {
        let (space_style, space_link) = match spans.last() {
            Some(prev) => (
                prev.style.intersection(style),
                if prev.link.as_deref() == link {
                    link
                } else {
                    None
                },
            ),
            None => (Style::PLAIN, None),
        };
        push_text(spans, " ", space_style, space_link);
    }
    *pending_space = false;
    push_text(spans, word, style, link);
}

/// Trim whitespace at both ends of a span list (dropping emptied spans).
pub(crate) fn trim_spans(spans: &mut Vec<Span>) {
    while let Some(first) = spans.first_mut() {
        let t = first.text.trim_start();
        if t.is_empty() {
            spans.remove(0);
        } else {
            if t.len() != first.text.len() {
                first.text = t.to_string();
            }
            break;
        }
    }
    while let Some(last) = spans.last_mut() {
        let t = last.text.trim_end();
        if t.is_empty() {
            spans.pop();
        } else {
            let n = t.len();
            last.text.truncate(n);
            break;
        }
    }
}

/// Total UTF-16 length of the text of all blocks.
pub fn doc_text_len(blocks: &[Block]) -> usize {
    blocks.iter().map(Block::text_len).sum()
}

/// Plain text of a document, blocks separated by blank lines.
pub fn doc_plain_text(blocks: &[Block]) -> String {
    let mut out = String::new();
    for b in blocks {
        if !out.is_empty() {
            out.push_str("\n\n");
        }
        out.push_str(&b.plain_text());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_merges_same_style() {
        let mut v = Vec::new();
        push_text(&mut v, "a", Style::BOLD, None);
        push_text(&mut v, "b", Style::BOLD, None);
        push_text(&mut v, "c", Style::BOLD, Some("https://x.example/"));
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].text, "ab");
    }

    #[test]
    fn trim() {
        let mut v = vec![Span::plain("  "), Span::plain(" a "), Span::plain(" \n")];
        trim_spans(&mut v);
        assert_eq!(v, vec![Span::plain("a")]);
    }
}
