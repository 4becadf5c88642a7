//! The Discord markdown emitter: escaping of article text (markdown
//! specials, `@everyone`/`@here`, `<`), styles and masked links as
//! markdown, a document's blocks as markdown, and [`MdDialect`], the length
//! Discord counts (UTF-16 units).

use crate::format::layout::{Dialect, sep};
use crate::format::rich::{Block, Span, Style};
use crate::format::text::utf16_len;

/// Remove markdown backslash escapes (for logs and the terminal view).
pub(crate) fn unescape_markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\'
            && let Some(&n) = chars.peek()
            && n.is_ascii_punctuation()
        {
            out.push(n);
            chars.next();
            continue;
        }
        if c != '\u{200B}' {
            out.push(c);
        }
    }
    out
}

const ZWSP: char = '\u{200B}';

/// Escape plain text for Discord markdown. `line_start` tracks whether the
/// next character begins a line (for `#`, `>`, `-`, `+`, `1.`).
fn escape_md(text: &str, line_start: &mut bool, out: &mut String) {
    // Every character that needs attention is ASCII, so scanning bytes and
    // copying the untouched runs between them is safe and fast.
    let b = text.as_bytes();
    let mut last = 0;
    let mut url_until = 0usize;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if *line_start {
            match c {
                b' ' | b'\t' => {
                    i += 1;
                    continue;
                }
                // Headings "# ", "## ", "### "; subtext "-# "; lists "- ",
                // "+ "; quotes "> ", ">>> ". Only these forms are markdown,
                // so "#hashtag" stays as it is.
                b'#' | b'>' | b'-' | b'+' => {
                    let run = b[i..].iter().take_while(|&&x| x == c).count();
                    let after = b.get(i + run).copied();
                    let block = match c {
                        b'#' => run <= 3 && after == Some(b' '),
                        b'>' => (run == 1 || run == 3) && after == Some(b' '),
                        b'-' => run == 1 && matches!(after, Some(b' ' | b'#')),
                        _ => run == 1 && after == Some(b' '),
                    };
                    if block {
                        out.push_str(&text[last..i]);
                        out.push('\\');
                        last = i;
                    }
                }
                b'0'..=b'9' => {
                    // "12." or "12)" would start an ordered list.
                    let j = i + b[i..].iter().take_while(|x| x.is_ascii_digit()).count();
                    if matches!(b.get(j), Some(b'.' | b')')) {
                        out.push_str(&text[last..j]);
                        out.push('\\');
                        last = j;
                        i = j + 1;
                        *line_start = false;
                        continue;
                    }
                }
                _ => {}
            }
            *line_start = false;
        }
        match c {
            b'\n' => *line_start = true,
            b'h' if i >= url_until
                && (text[i..].starts_with("https://") || text[i..].starts_with("http://")) =>
            {
                // Keep bare URLs intact: `_` inside them is not emphasis.
                url_until = text[i..]
                    .find(|c: char| c.is_whitespace() || c == '<')
                    .map(|e| i + e)
                    .unwrap_or(text.len());
            }
            b'_' if i < url_until => {}
            b'\\' | b'*' | b'_' | b'~' | b'`' | b'|' | b'[' | b']' | b'<' => {
                out.push_str(&text[last..i]);
                out.push('\\');
                last = i;
            }
            b'@' => {
                let rest = &text[i + 1..];
                if rest.starts_with("everyone") || rest.starts_with("here") {
                    out.push_str(&text[last..=i]);
                    out.push(ZWSP);
                    last = i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    out.push_str(&text[last..]);
}

/// Escape a plain one-line value for a markdown field (embed title).
pub(crate) fn escape_md_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut ls = true;
    escape_md(text, &mut ls, &mut out);
    out
}

/// Neutralise mentions in a field where markdown is not rendered
/// (author name, footer).
pub(crate) fn defuse_mentions(text: &str) -> String {
    text.replace("@everyone", "@\u{200B}everyone")
        .replace("@here", "@\u{200B}here")
}

#[derive(Debug, Clone, PartialEq)]
enum Md<'a> {
    Link(&'a str),
    Style(Style),
}

fn md_open(t: &Md<'_>) -> &'static str {
    match t {
        Md::Link(_) => "[",
        Md::Style(s) => marker(*s),
    }
}

fn marker(s: Style) -> &'static str {
    match s {
        Style::BOLD => "**",
        Style::ITALIC => "*",
        Style::UNDERLINE => "__",
        Style::STRIKE => "~~",
        Style::SPOILER => "||",
        _ => "`",
    }
}

fn md_close(t: &Md<'_>, out: &mut String) {
    match t {
        Md::Link(url) => {
            out.push_str("](");
            for c in url.chars() {
                match c {
                    '(' => out.push_str("%28"),
                    ')' => out.push_str("%29"),
                    ' ' => out.push_str("%20"),
                    c => out.push(c),
                }
            }
            out.push(')');
        }
        Md::Style(s) => out.push_str(marker(*s)),
    }
}

fn md_wanted<'a>(span: &'a Span, extra: Style) -> Vec<Md<'a>> {
    let mut v = Vec::with_capacity(4);
    // Discord refuses masked links whose text is itself a URL: such text
    // is shown as it is (and autolinked by Discord).
    let text = span.text.trim_start();
    let url_text = text.starts_with("https://") || text.starts_with("http://");
    if let Some(l) = &span.link
        && !url_text
    {
        v.push(Md::Link(l));
    }
    let style = span.style.union(extra);
    for s in Style::ORDER {
        if s != Style::CODE && style.contains(s) {
            v.push(Md::Style(s));
        }
    }
    v
}

/// Render spans as Discord markdown. Styles are closed at every line end
/// and reopened on the next line; whitespace is kept outside markers.
/// `prefix` starts every line after the first (quotes: `> `).
fn spans_md(spans: &[Span], extra: Style, prefix: &str, out: &mut String) {
    let mut open: Vec<Md<'_>> = Vec::new();
    let mut pending_ws = String::new();
    let mut line_start = true;
    for span in spans {
        let code = span.style.contains(Style::CODE) && span.link.is_none();
        let want = md_wanted(span, extra);
        for (li, line) in span.text.split('\n').enumerate() {
            if li > 0 {
                while let Some(t) = open.pop() {
                    md_close(&t, out);
                }
                pending_ws.clear();
                out.push('\n');
                out.push_str(prefix);
                line_start = true;
            }
            let core = line.trim_matches(|c: char| c == ' ' || c == '\t');
            if core.is_empty() {
                pending_ws.push_str(line);
                continue;
            }
            let lead = &line[..line.len() - line.trim_start_matches([' ', '\t']).len()];
            let trail = &line[line.trim_end_matches([' ', '\t']).len()..];
            let common = open.iter().zip(&want).take_while(|(a, b)| a == b).count();
            let mut closers = String::new();
            while open.len() > common {
                if let Some(t) = open.pop() {
                    md_close(&t, &mut closers);
                }
            }
            let openers: String = want[common..].iter().map(md_open).collect();
            out.push_str(&closers);
            let ws_between = !pending_ws.is_empty() || !lead.is_empty();
            out.push_str(&pending_ws);
            out.push_str(lead);
            pending_ws.clear();
            if !ws_between
                && let (Some(a), Some(b)) = (out.chars().last(), openers.chars().next())
                && a == b
                && !closers.is_empty()
            {
                out.push(ZWSP);
            }
            out.push_str(&openers);
            open = want.clone();
            if code {
                code_span(core, &mut line_start, out);
            } else {
                if !openers.is_empty() {
                    // A marker now precedes the text: it no longer starts
                    // the line as far as markdown is concerned.
                    line_start = false;
                }
                escape_md(core, &mut line_start, out);
            }
            pending_ws.push_str(trail);
        }
    }
    while let Some(t) = open.pop() {
        md_close(&t, out);
    }
}

fn code_span(text: &str, line_start: &mut bool, out: &mut String) {
    *line_start = false;
    if !text.contains('`') {
        out.push('`');
        out.push_str(text);
        out.push('`');
    } else if !text.contains("``") && !text.starts_with('`') && !text.ends_with('`') {
        out.push_str("``");
        out.push_str(text);
        out.push_str("``");
    } else {
        let mut ls = false;
        escape_md(text, &mut ls, out);
    }
}

fn block_md(b: &Block, out: &mut String) {
    match b {
        Block::Paragraph(s) => spans_md(s, Style::PLAIN, "", out),
        Block::Heading { spans, .. } => spans_md(spans, Style::BOLD, "", out),
        Block::ListItem {
            depth,
            marker,
            spans,
        } => {
            let mut prefix = "  ".repeat(*depth as usize);
            if marker.is_empty() {
                prefix.push_str("  ");
            } else {
                prefix.push_str(marker);
                prefix.push(' ');
            }
            let mut ls = true;
            escape_md(&prefix, &mut ls, out);
            spans_md(spans, Style::PLAIN, "", out);
        }
        Block::Quote(s) => {
            out.push_str("> ");
            spans_md(s, Style::PLAIN, "> ", out);
        }
        Block::Code { lang, text } => {
            out.push_str("```");
            if let Some(l) = lang {
                out.push_str(l);
            }
            out.push('\n');
            out.push_str(&text.replace("```", "`\u{200B}``"));
            out.push_str("\n```");
        }
        Block::Image { src, alt } => {
            let label = if alt.trim().is_empty() {
                "Image"
            } else {
                alt.as_str()
            };
            out.push_str("🖼 ");
            let span = Span {
                text: label.to_string(),
                style: Style::PLAIN,
                link: Some(src.clone()),
            };
            spans_md(std::slice::from_ref(&span), Style::PLAIN, "", out);
        }
    }
}

/// Render a document as Discord markdown.
pub(crate) fn to_markdown(blocks: &[Block]) -> String {
    let mut out = String::new();
    for (i, b) in blocks.iter().enumerate() {
        if i > 0 {
            out.push_str(sep(&blocks[i - 1], b));
        }
        block_md(b, &mut out);
    }
    out
}

/// Discord measures the markdown source.
pub(crate) struct MdDialect;

impl Dialect for MdDialect {
    fn block_len(&self, b: &Block) -> usize {
        let mut s = String::new();
        block_md(b, &mut s);
        utf16_len(&s)
    }
}
