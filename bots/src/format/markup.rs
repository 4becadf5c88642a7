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

use super::rich::{
    Block, Span, Style, at_line_start, is_blank_text, push_text, push_word, trim_spans,
};
use super::text::{SENTINEL_CLOSE, SENTINEL_OPEN, is_dropped_char, sanitize_url};

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

fn snippet(s: &str) -> String {
    let end = s.find('>').map(|e| e + 1).unwrap_or(s.len()).min(40);
    let mut end = end.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

/// A recognised tag.
#[derive(Debug)]
struct TagTok {
    name: String,
    closing: bool,
    attrs: Vec<(String, String)>,
}

/// Parse a tag at the start of `s`: `<name attr="v" …>` or `</name>`.
fn parse_tag(s: &str) -> Option<(TagTok, usize)> {
    let b = s.as_bytes();
    let mut i = 1;
    let closing = b.get(i) == Some(&b'/');
    if closing {
        i += 1;
    }
    let name_start = i;
    while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'-') {
        i += 1;
    }
    if i == name_start {
        return None;
    }
    let name = s[name_start..i].to_ascii_lowercase();
    let mut attrs = Vec::new();
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        match b.get(i)? {
            b'>' => {
                return Some((
                    TagTok {
                        name,
                        closing,
                        attrs,
                    },
                    i + 1,
                ));
            }
            b'/' if b.get(i + 1) == Some(&b'>') => {
                return Some((
                    TagTok {
                        name,
                        closing,
                        attrs,
                    },
                    i + 2,
                ));
            }
            _ if closing => return None,
            _ => {}
        }
        let an = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && !matches!(b[i], b'=' | b'>' | b'/') {
            i += 1;
        }
        if i == an {
            return None;
        }
        let attr = s[an..i].to_ascii_lowercase();
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if b.get(i) == Some(&b'=') {
            i += 1;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            match b.get(i)? {
                q @ (b'"' | b'\'') => {
                    let q = *q;
                    let vs = i + 1;
                    let ve = vs + s[vs..].bytes().position(|c| c == q)?;
                    value = decode_all(&s[vs..ve]);
                    i = ve + 1;
                }
                _ => {
                    let vs = i;
                    while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' {
                        i += 1;
                    }
                    value = decode_all(&s[vs..i]);
                }
            }
        }
        attrs.push((attr, value));
    }
}

/// Decode one entity at the start of `s` (which starts with `&`). Returns
/// the character (if any) and how many bytes were consumed.
pub(crate) fn decode_entity(s: &str) -> (Option<char>, usize) {
    let b = s.as_bytes();
    let mut i = 1;
    if b.get(1) == Some(&b'#') {
        i = 2;
        let hex = matches!(b.get(2), Some(b'x' | b'X'));
        if hex {
            i = 3;
        }
        let ds = i;
        while i < b.len()
            && i - ds < 8
            && (if hex {
                b[i].is_ascii_hexdigit()
            } else {
                b[i].is_ascii_digit()
            })
        {
            i += 1;
        }
        if i == ds {
            return (None, 1);
        }
        let n = u32::from_str_radix(&s[ds..i], if hex { 16 } else { 10 }).ok();
        if b.get(i) == Some(&b';') {
            i += 1;
        }
        return match n.and_then(char::from_u32) {
            Some(c) if c != '\0' => (Some(c), i),
            _ => (None, 1),
        };
    }
    while i < b.len() && i < 12 && b[i].is_ascii_alphanumeric() {
        i += 1;
    }
    if b.get(i) != Some(&b';') {
        return (None, 1);
    }
    let c = match &s[1..i] {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{A0}',
        "mdash" => '—',
        "ndash" => '–',
        "hellip" => '…',
        "laquo" => '«',
        "raquo" => '»',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "middot" => '·',
        "bull" => '•',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "deg" => '°',
        "euro" => '€',
        "times" => '×',
        "rarr" => '→',
        "larr" => '←',
        _ => return (None, 1),
    };
    (Some(c), i + 1)
}

/// Decode every entity in an attribute value.
fn decode_all(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s.as_bytes()[i] == b'&' {
            let (c, n) = decode_entity(&s[i..]);
            match c {
                Some(c) => out.push(c),
                None => out.push('&'),
            }
            i += n;
        } else {
            let Some(c) = s[i..].chars().next() else {
                break;
            };
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
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

fn lang_of(attrs: &[(String, String)]) -> Option<String> {
    attrs.iter().find_map(|(k, v)| {
        let l = match k.as_str() {
            "class" => v
                .split_whitespace()
                .find_map(|c| c.strip_prefix("language-"))?,
            "lang" => v.as_str(),
            _ => return None,
        };
        let ok = !l.is_empty()
            && l.len() <= 32
            && l.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+' | '#' | '.'));
        ok.then(|| l.to_ascii_lowercase())
    })
}

fn find_ci(hay: &str, needle: &str) -> Option<usize> {
    let n = needle.len();
    hay.as_bytes()
        .windows(n)
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
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
mod tests {
    use super::*;

    #[test]
    fn snippet_never_cuts_inside_a_character() {
        // Byte 40 falls inside the 16th 'é'.
        let s = format!("<a title={}>", "é".repeat(30));
        let out = snippet(&s);
        assert!(s.starts_with(&out) && out.len() <= 40, "{out}");
        assert_eq!(snippet("<b>’</b>"), "<b>");
    }

    fn blocks(src: &str) -> Vec<Block> {
        resolve(&parse(src).pieces, &[], &[])
    }

    fn span(t: &str, style: Style, link: Option<&str>) -> Span {
        Span {
            text: t.into(),
            style,
            link: link.map(Into::into),
        }
    }

    #[test]
    fn paragraphs_lines_and_styles() {
        let b = blocks(
            "<b><a href=\"https://x.example/a\">Title</a></b>\n\n\n  Body   text\nline 2  \n\n<i>src</i>\n",
        );
        assert_eq!(
            b,
            vec![
                Block::Paragraph(vec![span(
                    "Title",
                    Style::BOLD,
                    Some("https://x.example/a")
                )]),
                Block::Paragraph(vec![Span::plain("Body text\nline 2")]),
                Block::Paragraph(vec![span("src", Style::ITALIC, None)]),
            ]
        );
    }

    #[test]
    fn escaped_values_stay_literal() {
        let b = blocks(&escape("<b>x</b> & *y* ](z) </a>"));
        assert_eq!(
            b,
            vec![Block::Paragraph(vec![Span::plain(
                "<b>x</b> & *y* ](z) </a>"
            )])]
        );
    }

    #[test]
    fn unknown_tags_are_text_and_reported() {
        let p = parse("<div>a</div> <b>b");
        assert_eq!(p.problems.len(), 3, "{:?}", p.problems);
        assert_eq!(
            resolve(&p.pieces, &[], &[]),
            vec![Block::Paragraph(vec![
                Span::plain("<div>a</div> "),
                span("b", Style::BOLD, None)
            ])]
        );
    }

    #[test]
    fn bad_links_keep_text() {
        let b = blocks("<a href=\"javascript:alert(1)\">x</a> <a href=''>y</a>");
        assert_eq!(b, vec![Block::Paragraph(vec![Span::plain("x y")])]);
    }

    #[test]
    fn slots_are_spliced_with_context() {
        let p = parse(&format!(
            "<blockquote><i>{}</i></blockquote>\n\nend",
            Slot::Summary.sentinel()
        ));
        let summary = vec![Block::Paragraph(vec![Span::plain("s1")])];
        let b = resolve(&p.pieces, &summary, &[]);
        assert_eq!(
            b,
            vec![
                Block::Quote(vec![span("s1", Style::ITALIC, None)]),
                Block::Paragraph(vec![Span::plain("end")])
            ]
        );
        assert!(p.problems.is_empty(), "{:?}", p.problems);
    }

    #[test]
    fn pre_and_entities() {
        let b = blocks(
            "<pre><code class=\"language-rust\">a &lt; b\n  c</code></pre>&#128512;&amp;&bogus;",
        );
        assert_eq!(
            b,
            vec![
                Block::Code {
                    lang: Some("rust".into()),
                    text: "a < b\n  c".into()
                },
                Block::Paragraph(vec![Span::plain("😀&&bogus;")])
            ]
        );
    }
}
