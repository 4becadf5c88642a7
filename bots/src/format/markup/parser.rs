//! The markup parser: [`parse`] walks template output, keeping the open
//! tags, the current style, link and quote, and pending spaces and line
//! breaks, and emits blocks, slots and the problems it met.

use super::lex::{TagTok, decode_all, decode_entity, find_ci, lang_of, parse_tag};
use super::{Parsed, Piece, Slot};
use crate::format::rich::{
    Block, Span, Style, at_line_start, is_blank_text, push_text, push_word, trim_spans,
};
use crate::format::text::{SENTINEL_CLOSE, SENTINEL_OPEN, is_dropped_char, sanitize_url};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Style(Style),
    Link,
    Span,
}

struct Open {
    name: String,
    tag: Tag,
    saved_style: Style,
    saved_link: Option<String>,
}

struct Parser {
    out: Parsed,
    spans: Vec<Span>,
    stack: Vec<Open>,
    style: Style,
    link: Option<String>,
    quote: bool,
    pending_space: bool,
    newlines: usize,
}

/// Parse template output.
pub(crate) fn parse(src: &str) -> Parsed {
    let mut p = Parser {
        out: Parsed::default(),
        spans: Vec::new(),
        stack: Vec::new(),
        style: Style::PLAIN,
        link: None,
        quote: false,
        pending_space: false,
        newlines: 0,
    };
    let bytes = src.as_bytes();
    let mut i = 0;
    while i < src.len() {
        let c = match src[i..].chars().next() {
            Some(c) => c,
            None => break,
        };
        match c {
            '\n' => {
                p.newlines += 1;
                p.pending_space = false;
                i += 1;
            }
            '\r' => i += 1,
            ' ' | '\t' => {
                p.pending_space = true;
                i += 1;
            }
            '<' => match parse_tag(&src[i..]) {
                Some((tag, len)) => {
                    i += len;
                    p.tag(tag, src, &mut i);
                }
                None => {
                    if bytes
                        .get(i + 1)
                        .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'/')
                    {
                        p.problem(format!("unsupported markup {:?}", snippet(&src[i..])));
                    }
                    p.text("<");
                    i += 1;
                }
            },
            '&' => {
                let (decoded, len) = decode_entity(&src[i..]);
                match decoded {
                    Some(ch) => {
                        let mut b = [0u8; 4];
                        p.text(ch.encode_utf8(&mut b));
                    }
                    None => p.text("&"),
                }
                i += len;
            }
            SENTINEL_OPEN => {
                let rest = &src[i + c.len_utf8()..];
                let mut it = rest.chars();
                match (it.next(), it.next()) {
                    (Some(k @ ('S' | 'C')), Some(SENTINEL_CLOSE)) => {
                        p.slot(if k == 'S' {
                            Slot::Summary
                        } else {
                            Slot::Content
                        });
                        i += c.len_utf8() + 1 + SENTINEL_CLOSE.len_utf8();
                    }
                    _ => i += c.len_utf8(),
                }
            }
            c if is_dropped_char(c) => i += c.len_utf8(),
            _ => {
                let start = i;
                let mut end = i;
                for (j, ch) in src[i..].char_indices() {
                    if matches!(ch, '\n' | '\r' | ' ' | '\t' | '<' | '&' | SENTINEL_OPEN)
                        || is_dropped_char(ch)
                    {
                        break;
                    }
                    end = i + j + ch.len_utf8();
                }
                p.text(&src[start..end]);
                i = end;
            }
        }
    }
    p.resolve_newlines();
    p.end_paragraph();
    if let Some(open) = p.stack.last() {
        let name = open.name.clone();
        p.problem(format!("<{name}> is never closed"));
    }
    if p.quote {
        p.problem("<blockquote> is never closed".into());
    }
    p.out
}

pub(super) fn snippet(s: &str) -> String {
    let end = s.find('>').map(|e| e + 1).unwrap_or(s.len()).min(40);
    let mut end = end.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

impl Parser {
    fn problem(&mut self, p: String) {
        if self.out.problems.len() < 20 {
            self.out.problems.push(p);
        }
    }

    fn at_line_start(&self) -> bool {
        at_line_start(&self.spans)
    }

    /// Apply newlines seen since the last text.
    fn resolve_newlines(&mut self) {
        let n = std::mem::take(&mut self.newlines);
        if n == 0 {
            return;
        }
        self.pending_space = false;
        if n >= 2 {
            self.paragraph_break();
        } else if !self.spans.is_empty() && !self.at_line_start() {
            push_text(&mut self.spans, "\n", Style::PLAIN, None);
        }
    }

    fn paragraph_break(&mut self) {
        self.pending_space = false;
        if self.quote {
            if !self.spans.is_empty() {
                let tail = self
                    .spans
                    .last()
                    .map(|s| s.text.len() - s.text.trim_end_matches('\n').len())
                    .unwrap_or(0);
                for _ in tail..2 {
                    push_text(&mut self.spans, "\n", Style::PLAIN, None);
                }
            }
        } else {
            self.end_paragraph();
        }
    }

    fn end_paragraph(&mut self) {
        let mut spans = std::mem::take(&mut self.spans);
        trim_spans(&mut spans);
        if spans.iter().all(|s| is_blank_text(&s.text)) {
            return;
        }
        let block = if self.quote {
            Block::Quote(spans)
        } else {
            Block::Paragraph(spans)
        };
        self.out.pieces.push(Piece::Block(block));
    }

    fn text(&mut self, t: &str) {
        self.resolve_newlines();
        push_word(
            &mut self.spans,
            &mut self.pending_space,
            t,
            self.style,
            self.link.as_deref(),
        );
    }

    fn slot(&mut self, slot: Slot) {
        self.newlines = 0;
        self.end_paragraph();
        self.pending_space = false;
        self.out.pieces.push(Piece::Slot {
            slot,
            style: self.style,
            link: self.link.clone(),
            quote: self.quote,
        });
    }

    fn push(&mut self, name: &str, tag: Tag) {
        self.stack.push(Open {
            name: name.to_string(),
            tag,
            saved_style: self.style,
            saved_link: self.link.clone(),
        });
    }

    fn close(&mut self, name: &str) {
        match self.stack.iter().rposition(|o| o.name == name) {
            Some(pos) => {
                if pos + 1 != self.stack.len() {
                    let inner = self
                        .stack
                        .last()
                        .map(|o| o.name.clone())
                        .unwrap_or_default();
                    self.problem(format!("</{name}> closes <{inner}> too (tags overlap)"));
                }
                let open = self.stack.swap_remove(pos);
                self.stack.truncate(pos);
                self.style = open.saved_style;
                self.link = open.saved_link;
                let _ = open.tag;
            }
            None => self.problem(format!("</{name}> without a matching <{name}>")),
        }
    }

    fn tag(&mut self, t: TagTok, src: &str, i: &mut usize) {
        let style = match t.name.as_str() {
            "b" | "strong" => Some(Style::BOLD),
            "i" | "em" => Some(Style::ITALIC),
            "u" | "ins" => Some(Style::UNDERLINE),
            "s" | "strike" | "del" => Some(Style::STRIKE),
            "spoiler" | "tg-spoiler" => Some(Style::SPOILER),
            "code" => Some(Style::CODE),
            _ => None,
        };
        if let Some(style) = style {
            if t.closing {
                self.close(&t.name);
            } else {
                self.push(&t.name, Tag::Style(style));
                self.style = self.style.union(style);
            }
            return;
        }
        match (t.name.as_str(), t.closing) {
            ("span", false) => {
                let spoiler = t
                    .attrs
                    .iter()
                    .any(|(k, v)| k == "class" && v.split_whitespace().any(|c| c == "tg-spoiler"));
                self.push("span", Tag::Span);
                if spoiler {
                    self.style = self.style.union(Style::SPOILER);
                }
            }
            ("span", true) => self.close("span"),
            ("a", false) => {
                let href = t
                    .attrs
                    .iter()
                    .find(|(k, _)| k == "href")
                    .map(|(_, v)| v.as_str());
                self.push("a", Tag::Link);
                match href.map(|h| (h, sanitize_url(h, None))) {
                    Some((_, Some(url))) => self.link = Some(url),
                    Some((h, None)) if !h.trim().is_empty() => {
                        self.problem(format!("link target {h:?} is not an absolute http(s) URL"));
                    }
                    _ => {}
                }
            }
            ("a", true) => self.close("a"),
            ("br", _) => {
                self.resolve_newlines();
                self.pending_space = false;
                push_text(&mut self.spans, "\n", Style::PLAIN, None);
            }
            ("p", _) => {
                self.newlines = 0;
                self.paragraph_break();
            }
            ("blockquote", false) => {
                self.newlines = 0;
                if self.quote {
                    self.problem("<blockquote> cannot be nested".into());
                    self.paragraph_break();
                } else {
                    self.end_paragraph();
                    self.quote = true;
                }
            }
            ("blockquote", true) => {
                self.newlines = 0;
                if self.quote {
                    self.end_paragraph();
                    self.quote = false;
                } else {
                    self.problem("</blockquote> without a matching <blockquote>".into());
                }
            }
            ("pre", false) => self.pre(&t, src, i),
            ("pre", true) => self.problem("</pre> without a matching <pre>".into()),
            (name, closing) => {
                let name = name.to_string();
                self.problem(format!(
                    "unsupported tag <{}{name}>",
                    if closing { "/" } else { "" }
                ));
                // Lenient: show the tag as text.
                let raw = format!("<{}{name}>", if closing { "/" } else { "" });
                self.text(&raw);
            }
        }
    }

    /// `<pre>…</pre>`: raw text up to the closing tag.
    fn pre(&mut self, t: &TagTok, src: &str, i: &mut usize) {
        let rest = &src[*i..];
        let lower_end = find_ci(rest, "</pre>");
        let (body, consumed) = match lower_end {
            Some(e) => (&rest[..e], e + "</pre>".len()),
            None => {
                self.problem("<pre> is never closed".into());
                (rest, rest.len())
            }
        };
        *i += consumed;
        let mut lang = lang_of(&t.attrs);
        // Drop an inner <code class="language-x"> … </code>.
        let mut text = body.trim_start_matches([' ', '\t']);
        if let Some((tok, len)) = text.starts_with('<').then(|| parse_tag(text)).flatten()
            && tok.name == "code"
            && !tok.closing
        {
            if lang.is_none() {
                lang = lang_of(&tok.attrs);
            }
            text = &text[len..];
            if let Some(e) = find_ci(text, "</code>") {
                text = &text[..e];
            }
        }
        let decoded = decode_all(text);
        let decoded: String = decoded.chars().filter(|c| !is_dropped_char(*c)).collect();
        let code = decoded.strip_prefix('\n').unwrap_or(&decoded).trim_end();
        self.newlines = 0;
        if code.trim().is_empty() {
            return;
        }
        if self.quote {
            self.text("");
            push_text(&mut self.spans, code, Style::CODE, None);
            return;
        }
        self.end_paragraph();
        self.out.pieces.push(Piece::Block(Block::Code {
            lang,
            text: code.to_string(),
        }));
    }
}
