//! Article HTML → [`Block`]s: parse with html5ever (via `scraper`), drop
//! what a reader should not see, unwrap unknown tags, normalise whitespace
//! the way a browser shows it.

use ego_tree::NodeRef;
use scraper::{ElementRef, Html, Node};
use url::Url;

use super::dom::{attr, classes};
use super::rich::{
    Block, Span, Style, at_line_start, is_blank_text, push_text, push_word, trim_spans,
};
use super::rules::{Rules, content_roots};
use super::text::{clean, one_line, sanitize_url};

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

    // ----- tree walk --------------------------------------------------------

    fn children(&mut self, node: NodeRef<'_, Node>, depth: usize) {
        for child in node.children() {
            self.node(child, depth + 1);
        }
    }

    fn node(&mut self, node: NodeRef<'_, Node>, depth: usize) {
        match node.value() {
            Node::Text(t) => self.text(&t.text),
            Node::Element(_) => {
                if depth > MAX_DEPTH {
                    self.flat_text(node);
                } else if let Some(el) = ElementRef::wrap(node) {
                    self.element(el, depth);
                }
            }
            _ => {}
        }
    }

    /// Text of a subtree without structure (used past [`MAX_DEPTH`]).
    fn flat_text(&mut self, node: NodeRef<'_, Node>) {
        for d in node.descendants() {
            if let Node::Text(t) = d.value() {
                let hidden = d.ancestors().take(3).any(|a| {
                    a.value()
                        .as_element()
                        .is_some_and(|e| matches!(e.name(), "script" | "style" | "template"))
                });
                if !hidden {
                    self.text(&t.text);
                }
            }
        }
    }

    fn element(&mut self, el: ElementRef<'_>, depth: usize) {
        let v = el.value();
        let name = v.name();
        if &*v.name.ns != "http://www.w3.org/1999/xhtml" {
            // svg, math and anything else foreign: no article text there.
            return;
        }
        if is_hidden(&el) || self.rules.drops_element(&el) {
            return;
        }
        let node = *el;
        match name {
            "script" | "style" | "noscript" | "template" | "form" | "input" | "button"
            | "select" | "textarea" | "option" | "datalist" | "iframe" | "frame" | "frameset"
            | "object" | "embed" | "applet" | "canvas" | "video" | "audio" | "source" | "track"
            | "map" | "area" | "nav" | "aside" | "header" | "footer" | "head" | "title"
            | "meta" | "link" | "base" | "dialog" | "param" | "portal" => {}
            "br" => self.line_break(),
            "wbr" => {}
            "hr" => self.block_break(),
            "img" => self.image(&el),
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                let level = name.as_bytes()[1] - b'0';
                self.heading(node, level, depth);
            }
            "ul" | "ol" | "menu" | "dir" => self.list(node, &el, name == "ol", depth),
            "li" => self.list_item(node, depth),
            "blockquote" => self.quote(node, depth),
            "pre" | "listing" | "xmp" | "plaintext" => self.pre(&el),
            "figcaption" => {
                self.block_break();
                self.styled(node, Style::ITALIC, depth);
                self.block_break();
            }
            "tr" => {
                self.row_cells = 0;
                self.children(node, depth);
                self.line_break();
            }
            "td" | "th" => {
                if self.row_cells > 0 {
                    self.literal(" | ", Style::PLAIN);
                }
                self.row_cells += 1;
                if name == "th" {
                    self.styled(node, Style::BOLD, depth);
                } else {
                    self.children(node, depth);
                }
            }
            "a" => self.anchor(node, &el, depth),
            "b" | "strong" => self.styled(node, Style::BOLD, depth),
            "i" | "em" | "cite" | "dfn" | "var" => self.styled(node, Style::ITALIC, depth),
            "u" | "ins" => self.styled(node, Style::UNDERLINE, depth),
            "s" | "strike" | "del" => self.styled(node, Style::STRIKE, depth),
            "code" | "kbd" | "samp" | "tt" => self.styled(node, Style::CODE, depth),
            "tg-spoiler" => self.styled(node, Style::SPOILER, depth),
            "span" if classes(v).any(|c| matches!(c, "spoiler" | "tg-spoiler")) => {
                self.styled(node, Style::SPOILER, depth)
            }
            "q" => {
                self.text("“");
                self.children(node, depth);
                self.word("”");
            }
            "p" | "div" | "section" | "article" | "main" | "address" | "center" | "details"
            | "summary" | "dl" | "dt" | "dd" | "fieldset" | "legend" | "caption" | "table"
            | "thead" | "tbody" | "tfoot" | "figure" | "body" | "html" | "hgroup" | "search" => {
                self.block_break();
                self.children(node, depth);
                self.block_break();
            }
            // Unknown or purely presentational: unwrap.
            _ => self.children(node, depth),
        }
    }

    fn styled(&mut self, node: NodeRef<'_, Node>, add: Style, depth: usize) {
        let saved = self.style;
        self.style = self.style.union(add);
        self.children(node, depth);
        self.style = saved;
    }

    fn anchor(&mut self, node: NodeRef<'_, Node>, el: &ElementRef<'_>, depth: usize) {
        let href = attr(el.value(), "href").and_then(|h| sanitize_url(h, self.base));
        match href {
            Some(h) => {
                let saved = self.link.replace(h);
                self.children(node, depth);
                self.link = saved;
            }
            None => self.children(node, depth),
        }
    }

    fn heading(&mut self, node: NodeRef<'_, Node>, level: u8, depth: usize) {
        if self.quote > 0 || self.item > 0 {
            self.block_break();
            self.styled(node, Style::BOLD, depth);
            self.block_break();
            return;
        }
        self.flush();
        let saved = std::mem::replace(&mut self.kind, Kind::Heading(level));
        self.children(node, depth);
        self.flush();
        self.kind = saved;
    }

    fn list(&mut self, node: NodeRef<'_, Node>, el: &ElementRef<'_>, ordered: bool, depth: usize) {
        let start = attr(el.value(), "start")
            .and_then(|s| s.trim().parse::<i64>().ok())
            .filter(|n| n.abs() < 1_000_000)
            .unwrap_or(1);
        if self.quote > 0 {
            self.soft_break(1);
        } else {
            self.flush();
        }
        self.lists.push(ListCtx {
            ordered,
            next: start,
        });
        self.children(node, depth);
        self.lists.pop();
        if self.quote > 0 {
            self.soft_break(1);
        } else {
            self.flush();
        }
    }

    fn list_item(&mut self, node: NodeRef<'_, Node>, depth: usize) {
        let level = self.lists.len().saturating_sub(1);
        let marker = match self.lists.last_mut() {
            Some(l) if l.ordered => {
                let n = l.next;
                l.next += 1;
                format!("{n}.")
            }
            _ => ["•", "◦", "▪"][level.min(2)].to_string(),
        };
        if self.quote > 0 {
            self.soft_break(1);
            self.literal(&format!("{marker} "), Style::PLAIN);
            self.children(node, depth);
            self.soft_break(1);
            return;
        }
        self.flush();
        let saved = std::mem::replace(
            &mut self.kind,
            Kind::Item {
                depth: level.min(8) as u8,
                marker,
            },
        );
        self.item += 1;
        self.children(node, depth);
        self.flush();
        self.item -= 1;
        self.kind = saved;
    }

    fn quote(&mut self, node: NodeRef<'_, Node>, depth: usize) {
        if self.quote > 0 {
            // Telegram cannot nest quotes: inner quotes join the outer one.
            self.soft_break(2);
            self.quote += 1;
            self.children(node, depth);
            self.quote -= 1;
            self.soft_break(2);
            return;
        }
        self.flush();
        let saved_kind = std::mem::replace(&mut self.kind, Kind::Quote);
        let saved_item = std::mem::replace(&mut self.item, 0);
        self.quote = 1;
        self.children(node, depth);
        self.flush();
        self.quote = 0;
        self.item = saved_item;
        self.kind = saved_kind;
    }

    fn pre(&mut self, el: &ElementRef<'_>) {
        let mut lang = code_lang(el);
        let mut raw = String::new();
        for d in el.descendants() {
            match d.value() {
                Node::Text(t) => {
                    let hidden = d.ancestors().any(|a| {
                        a.value()
                            .as_element()
                            .is_some_and(|e| matches!(e.name(), "script" | "style" | "template"))
                    });
                    if !hidden {
                        raw.push_str(&t.text);
                    }
                }
                Node::Element(e) if e.name() == "br" => raw.push('\n'),
                Node::Element(e) if e.name() == "code" && lang.is_none() => {
                    if let Some(c) = ElementRef::wrap(d) {
                        lang = code_lang(&c);
                    }
                }
                _ => {}
            }
        }
        let raw = clean(&raw);
        let text = raw.strip_prefix('\n').unwrap_or(&raw).trim_end();
        if text.trim().is_empty() {
            return;
        }
        if self.quote > 0 || self.item > 0 {
            self.soft_break(1);
            self.literal(text, self.style.union(Style::CODE));
            self.soft_break(1);
            return;
        }
        self.flush();
        self.blocks.push(Block::Code {
            lang,
            text: text.to_string(),
        });
    }

    fn image(&mut self, el: &ElementRef<'_>) {
        let v = el.value();
        let alt = one_line(attr(v, "alt").unwrap_or(""));
        let src = ["src", "data-src", "data-lazy-src", "data-original"]
            .iter()
            .filter_map(|a| attr(v, a))
            .find(|s| !s.trim().is_empty() && !s.trim_start().starts_with("data:"))
            .or_else(|| {
                attr(v, "srcset")
                    .and_then(|s| s.split(',').next())
                    .and_then(|s| s.split_whitespace().next())
            });
        let src_lower = src.unwrap_or("").to_ascii_lowercase();
        let is_emoji = classes(v).any(|c| c.contains("emoji") || c == "wp-smiley")
            || src_lower.contains("/images/core/emoji/")
            || src_lower.contains("twemoji");
        if is_emoji {
            if !alt.is_empty() {
                self.word(&alt);
            }
            return;
        }
        if is_tracking_pixel(attr(v, "width"), attr(v, "height"), &src_lower)
            || super::images::is_noise(&src_lower, attr(v, "width"), attr(v, "height"))
        {
            return;
        }
        let Some(src) = src.and_then(|s| sanitize_url(s, self.base)) else {
            return;
        };
        if self.quote > 0 || self.item > 0 {
            return;
        }
        self.flush();
        self.blocks.push(Block::Image { src, alt });
    }
}

/// `hidden`, `aria-hidden="true"` or an inline style that hides it.
fn is_hidden(el: &ElementRef<'_>) -> bool {
    let v = el.value();
    if attr(v, "hidden").is_some() {
        return true;
    }
    if attr(v, "aria-hidden").is_some_and(|a| a.trim().eq_ignore_ascii_case("true")) {
        return true;
    }
    if let Some(style) = attr(v, "style") {
        let s: String = style
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        if s.contains("display:none") || s.contains("visibility:hidden") {
            return true;
        }
    }
    false
}

fn is_tracking_pixel(width: Option<&str>, height: Option<&str>, src: &str) -> bool {
    let tiny = |d: Option<&str>| {
        d.and_then(|d| d.trim().trim_end_matches("px").trim().parse::<f64>().ok())
            .is_some_and(|n| n <= 2.0)
    };
    if tiny(width) || tiny(height) {
        return true;
    }
    const TRACKERS: &[&str] = &[
        "pixel.wp.com",
        "stats.wp.com",
        "feeds.feedburner.com/~r/",
        "feeds.feedburner.com/~ff/",
        "feedproxy.google.com/~r/",
        "doubleclick.net",
        "google-analytics.com",
        "/pixel.gif",
        "/pixel.png",
        "/1x1.",
        "/spacer.gif",
        "/blank.gif",
        "/beacon",
        "/tracking/",
        "/track/open",
    ];
    TRACKERS.iter().any(|t| src.contains(t))
}

fn code_lang(el: &ElementRef<'_>) -> Option<String> {
    classes(el.value()).find_map(|c| {
        let l = c
            .strip_prefix("language-")
            .or_else(|| c.strip_prefix("lang-"))?;
        let ok = !l.is_empty()
            && l.len() <= 32
            && l.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+' | '#' | '.'));
        ok.then(|| l.to_ascii_lowercase())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::rich::Span;

    fn rules() -> Rules {
        Rules {
            defaults: true,
            ..Rules::default()
        }
    }

    fn run(html: &str) -> Vec<Block> {
        sanitize(
            html,
            Url::parse("https://site.example/post/").ok().as_ref(),
            &rules(),
        )
    }

    fn para(t: &str) -> Block {
        Block::Paragraph(vec![Span::plain(t)])
    }

    #[test]
    fn whitespace_is_normalised_like_a_browser() {
        let b = run("<p>  Hello \n\t <b>brave</b>   new\nworld  </p>");
        assert_eq!(
            b,
            vec![Block::Paragraph(vec![
                Span::plain("Hello "),
                Span {
                    text: "brave".into(),
                    style: Style::BOLD,
                    link: None
                },
                Span::plain(" new world"),
            ])]
        );
    }

    #[test]
    fn br_p_li_make_structure() {
        let b = run("a<br>b<p>c</p><ul><li>d</li><li>e<ul><li>f</li></ul>g</li></ul>");
        assert_eq!(b.len(), 6, "{b:#?}");
        assert_eq!(b[0], para("a\nb"));
        assert_eq!(b[1], para("c"));
        assert!(matches!(&b[2], Block::ListItem { depth: 0, marker, .. } if marker == "•"));
        assert!(matches!(&b[4], Block::ListItem { depth: 1, marker, .. } if marker == "◦"));
        assert!(matches!(&b[5], Block::ListItem { depth: 0, marker, .. } if marker.is_empty()));
    }

    #[test]
    fn drops_scripts_styles_forms_iframes_comments_pixels() {
        let b = run(concat!(
            "<p>keep<script>alert(1)</script><style>p{}</style><!-- c --></p>",
            "<form><input value=x><button>Go</button></form>",
            "<iframe src='https://x.example'></iframe>",
            "<img src='https://pixel.wp.com/g.gif?x' width=1 height=1>",
            "<img src='https://site.example/a.gif' width='1' height='1'>",
            "<svg><text>svg text</text></svg>",
            "<p hidden>hidden</p><p style='display: none'>gone</p>",
        ));
        assert_eq!(b, vec![para("keep")]);
    }

    #[test]
    fn unknown_tags_are_unwrapped() {
        let b = run("<p>a <custom-x>b</custom-x> <font color=red>c</font></p>");
        assert_eq!(b, vec![para("a b c")]);
    }

    #[test]
    fn javascript_links_are_dropped_text_kept() {
        let b = run("<p><a href='javascript:alert(1)'>click</a> <a href='/x'>rel</a></p>");
        let Block::Paragraph(spans) = &b[0] else {
            panic!("{b:?}")
        };
        assert_eq!(spans[0].text, "click ");
        assert_eq!(spans[0].link, None);
        assert_eq!(spans[1].link.as_deref(), Some("https://site.example/x"));
    }

    #[test]
    fn quotes_code_images() {
        let b = run(concat!(
            "<blockquote><p>q1</p><p>q2</p></blockquote>",
            "<pre><code class='language-rust'>fn main() {\n    x();\n}\n</code></pre>",
            "<figure><img src='/i.jpg' alt='A cat'><figcaption>Cap</figcaption></figure>",
            "<p>x<img class='emoji' alt='😀' src='https://s.w.org/images/core/emoji/1.png'>y</p>",
        ));
        assert_eq!(b[0], Block::Quote(vec![Span::plain("q1\n\nq2")]));
        assert_eq!(
            b[1],
            Block::Code {
                lang: Some("rust".into()),
                text: "fn main() {\n    x();\n}".into()
            }
        );
        assert_eq!(
            b[2],
            Block::Image {
                src: "https://site.example/i.jpg".into(),
                alt: "A cat".into()
            }
        );
        assert!(matches!(&b[3], Block::Paragraph(s) if s[0].style == Style::ITALIC));
        assert_eq!(b[4], para("x😀y"));
    }

    #[test]
    fn whole_page_is_narrowed_to_the_article_body() {
        let b = run(
            "<!doctype html><html><body><header>Site</header><div class='entry-content'><p>Body</p></div><footer>F</footer></body></html>",
        );
        assert_eq!(b, vec![para("Body")]);
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let html = format!(
            "{}deep{}",
            "<div><span>".repeat(5000),
            "</span></div>".repeat(5000)
        );
        let b = run(&html);
        assert_eq!(b, vec![para("deep")]);
    }

    #[test]
    fn boilerplate_elements_and_blocks_are_dropped() {
        let b = run(concat!(
            "<div class='social-join-box'><span>WhatsApp Channel</span> <a href='https://wa.example'>Join Now</a></div>",
            "<p>Real text.</p>",
            "<p>Telegram Group Join Now</p>",
            "<div class='sharedaddy'>Share this</div>",
            "<h3>Leave a Comment</h3>",
        ));
        assert_eq!(b, vec![para("Real text.")]);
    }
}
