//! Article HTML → [`Block`]s: parse with html5ever (via `scraper`), drop
//! what a reader should not see, unwrap unknown tags, normalise whitespace
//! the way a browser shows it.

use scraper::{ElementRef, Html};
use url::Url;

use super::rich::{
    Block, Span, Style, at_line_start, is_blank_text, push_text, push_word, trim_spans,
};
use super::rules::{Rules, content_roots};
use super::text::{clean, one_line};

mod walk;

/// Beyond this element depth the structure is ignored and only the text
/// is kept (protects the stack against absurdly nested input).
const MAX_DEPTH: usize = 200;

/// Sanitise an HTML fragment or a whole page into blocks.
///
/// A whole page (one with `<html>`, `<body>` or a doctype) is first
/// narrowed to its article body: the feed's `content_selector`, else the
/// first of `[itemprop=articleBody]`, `.entry-content`, `.post-content`,
/// `.article-content`, `.article-body`, `.post-body`, `article`, `main`.
pub(crate) fn sanitize(html: &str, base: Option<&Url>, rules: &Rules) -> Vec<Block> {
    if html.trim().is_empty() {
        return Vec::new();
    }
    let html = super::nesting::cap_nesting(html, super::nesting::MAX_TAG_DEPTH);
    let doc = Html::parse_document(&html);
    let root = choose_root(&doc, looks_like_document(&html), rules);
    let mut w = Walker::new(base, rules);
    w.children(*root, 0);
    w.flush();
    w.blocks
}

fn looks_like_document(html: &str) -> bool {
    let head: String = html
        .chars()
        .take(2048)
        .collect::<String>()
        .to_ascii_lowercase();
    head.contains("<!doctype") || head.contains("<html") || head.contains("<body")
}

fn choose_root<'a>(doc: &'a Html, whole_page: bool, rules: &Rules) -> ElementRef<'a> {
    if let Some(sel) = &rules.content
        && let Some(el) = doc.select(sel).next()
    {
        return el;
    }
    if whole_page {
        for sel in content_roots() {
            if let Some(el) = doc.select(sel).next() {
                return el;
            }
        }
    }
    let root = doc.root_element();
    root.child_elements()
        .find(|e| e.value().name() == "body")
        .unwrap_or(root)
}

/// What the current inline content will become when flushed.
#[derive(Debug, Clone)]
enum Kind {
    Para,
    Heading(u8),
    Item { depth: u8, marker: String },
    Quote,
}

struct ListCtx {
    ordered: bool,
    next: i64,
}

struct Walker<'a> {
    base: Option<&'a Url>,
    rules: &'a Rules,
    blocks: Vec<Block>,
    spans: Vec<Span>,
    kind: Kind,
    style: Style,
    link: Option<String>,
    pending_space: bool,
    /// Open `blockquote`s.
    quote: usize,
    /// Open `li`s since the last quote boundary.
    item: usize,
    lists: Vec<ListCtx>,
    /// Cells seen in the current table row.
    row_cells: usize,
}

fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0C')
}

impl<'a> Walker<'a> {
    fn new(base: Option<&'a Url>, rules: &'a Rules) -> Self {
        Walker {
            base,
            rules,
            blocks: Vec::new(),
            spans: Vec::new(),
            kind: Kind::Para,
            style: Style::PLAIN,
            link: None,
            pending_space: false,
            quote: 0,
            item: 0,
            lists: Vec::new(),
            row_cells: 0,
        }
    }

    // ----- inline content -------------------------------------------------

    fn at_line_start(&self) -> bool {
        at_line_start(&self.spans)
    }

    fn text(&mut self, raw: &str) {
        let raw = clean(raw);
        // Collapse the node's whitespace into single spaces; the leading
        // and trailing runs become a pending space resolved against the
        // neighbours.
        let body = raw.trim_matches(is_ws);
        if body.len() != raw.len() && raw.starts_with(is_ws) {
            self.pending_space = true;
        }
        if !body.is_empty() {
            let normalised = !body.contains(|c: char| is_ws(c) && c != ' ') && !body.contains("  ");
            if !normalised {
                let mut collapsed = String::with_capacity(body.len());
                let mut space = false;
                for c in body.chars() {
                    if is_ws(c) {
                        space = true;
                    } else {
                        if space {
                            collapsed.push(' ');
                            space = false;
                        }
                        collapsed.push(c);
                    }
                }
                self.word(&collapsed);
            } else {
                self.word(body);
            }
        }
        if raw.ends_with(is_ws) {
            self.pending_space = true;
        }
    }

    fn word(&mut self, w: &str) {
        push_word(
            &mut self.spans,
            &mut self.pending_space,
            w,
            self.style,
            self.link.as_deref(),
        );
    }

    /// Literal text that must not be whitespace-collapsed (list markers
    /// inside quotes, code inside quotes or lists).
    fn literal(&mut self, s: &str, style: Style) {
        if self.pending_space && !self.at_line_start() && !s.starts_with('\n') {
            push_text(&mut self.spans, " ", Style::PLAIN, None);
        }
        self.pending_space = false;
        push_text(&mut self.spans, s, style, self.link.as_deref());
    }

    fn line_break(&mut self) {
        self.pending_space = false;
        if self.spans.is_empty() {
            return;
        }
        let ends_double = self.spans.last().is_some_and(|s| s.text.ends_with("\n\n"));
        if !ends_double {
            push_text(&mut self.spans, "\n", Style::PLAIN, None);
        }
    }

    /// Within a quote or a list item, a block boundary becomes `n`
    /// newlines instead of a new block.
    fn soft_break(&mut self, n: usize) {
        self.pending_space = false;
        let Some(last) = self.spans.last() else {
            return;
        };
        let have = last.text.len() - last.text.trim_end_matches('\n').len();
        if last.text.trim_end_matches('\n').is_empty() && self.spans.len() == 1 {
            return;
        }
        for _ in have..n {
            push_text(&mut self.spans, "\n", Style::PLAIN, None);
        }
    }

    fn block_break(&mut self) {
        if self.quote > 0 {
            self.soft_break(2);
        } else if self.item > 0 {
            self.soft_break(1);
        } else {
            self.flush();
        }
    }

    /// End the current block.
    fn flush(&mut self) {
        self.pending_space = false;
        let mut spans = std::mem::take(&mut self.spans);
        trim_spans(&mut spans);
        if spans.iter().all(|s| is_blank_text(&s.text)) {
            return;
        }
        let block = match &mut self.kind {
            Kind::Para => Block::Paragraph(spans),
            Kind::Heading(level) => Block::Heading {
                level: *level,
                spans,
            },
            Kind::Item { depth, marker } => Block::ListItem {
                depth: *depth,
                // The rest of this item (after a nested list) is a
                // continuation without a marker.
                marker: std::mem::take(marker),
                spans,
            },
            Kind::Quote => Block::Quote(spans),
        };
        if self.is_noise(&block) {
            return;
        }
        self.blocks.push(block);
    }

    fn is_noise(&self, block: &Block) -> bool {
        let feed = self.rules.patterns.is_some();
        let defaults = self.rules.defaults && self.rules.may_be_default_noise(block);
        if !feed && !defaults {
            return false;
        }
        let text = one_line(&block.plain_text());
        !text.is_empty() && self.rules.drops_text(&text, defaults)
    }
}

#[cfg(test)]
mod tests;
