//! The tree walk of the sanitiser: one [`Walker`] method per kind of
//! element (styles, links, headings, lists, quotes, code, images), and the
//! checks for hidden elements, tracking pixels and a code block's language.

use ego_tree::NodeRef;
use scraper::{ElementRef, Node};

use super::{Kind, ListCtx, MAX_DEPTH, Walker};
use crate::format::dom::{attr, classes};
use crate::format::rich::{Block, Style};
use crate::format::text::{clean, one_line, sanitize_url};

impl Walker<'_> {
    pub(super) fn children(&mut self, node: NodeRef<'_, Node>, depth: usize) {
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
            || crate::format::images::is_noise(&src_lower, attr(v, "width"), attr(v, "height"))
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
