//! The Discord renderer.
//!
//! Default output: one **embed** — title (≤ 256) linking to the article,
//! description (≤ 4096) from the template, author, footer with the source,
//! timestamp, large image (or thumbnail), colour per feed/target — plus an
//! optional `content` (≤ 2000) and an optional "Read more" link button,
//! all within the 6000-character embed total. A plain-text variant (no
//! embed, `content` split at 2000) exists for targets configured that way.
//!
//! Markdown special characters of article text are backslash-escaped
//! (`\ * _ ~ ` | [ ] <` everywhere; `# > - +` and `1.` at a line start);
//! inline links become masked links `[text](url)`; `@everyone`/`@here`
//! get a zero-width space after the `@` and `<` is escaped, so no
//! `<@…>`, `<#…>` or `<t:…>` can form. (The adapter also sends
//! `allowed_mentions: {"parse": []}`.) Lengths are counted in UTF-16
//! units, never less than Discord's own count.

use serde::{Deserialize, Serialize};

use super::article::{Article, empty_post, prepared};
use super::images::web_image;
use super::layout::{self, Dialect, sep};
use super::options::{DiscordImage, DiscordStyle, FeedRenderOptions, Mode, Platform, TargetFormat};
use super::rich::{Block, Span, Style};
use super::safety::safety_net_used;
use super::template;
use super::text::{one_line, truncate_words, utf16_len};
use crate::model::Post;
use crate::target::{Part, RenderError};

/// Message `content` limit.
pub const CONTENT_LIMIT: usize = 2000;
/// Embed title limit.
pub const TITLE_LIMIT: usize = 256;
/// Embed description limit.
pub const DESCRIPTION_LIMIT: usize = 4096;
/// Embed author name limit.
pub const AUTHOR_LIMIT: usize = 256;
/// Embed footer text limit.
pub const FOOTER_LIMIT: usize = 2048;
/// Total characters across all embeds of a message.
pub const EMBEDS_TOTAL_LIMIT: usize = 6000;

/// A Discord create-message / execute-webhook body (without
/// `allowed_mentions`, `flags`, `nonce`, `username`, `avatar_url`, which
/// the adapter adds).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscordMessage {
    /// Message text (markdown, ≤ 2000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Rich embeds (≤ 10, ≤ 6000 characters in total).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub embeds: Vec<Embed>,
    /// Action rows with link buttons.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<ActionRow>,
}

/// A rich embed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Embed {
    /// Title (markdown-escaped, ≤ 256), linking to `url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Description (markdown, ≤ 4096).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The article URL the title links to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// ISO 8601.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// 0xRRGGBB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<u32>,
    /// Footer: the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub footer: Option<EmbedFooter>,
    /// Large image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<EmbedMedia>,
    /// Thumbnail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail: Option<EmbedMedia>,
    /// Author line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<EmbedAuthor>,
    /// Fields (≤ 25).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<EmbedField>,
}

/// Embed footer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbedFooter {
    /// Plain text (≤ 2048; markdown is not rendered here).
    pub text: String,
}

/// Embed image or thumbnail.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbedMedia {
    /// Image URL.
    pub url: String,
}

/// Embed author.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbedAuthor {
    /// Plain text (≤ 256; markdown is not rendered here).
    pub name: String,
    /// Link of the author name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// Embed field (not produced by the renderer; accepted by the validator).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbedField {
    /// Field name (≤ 256).
    pub name: String,
    /// Field value (≤ 1024).
    pub value: String,
    /// Show inline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inline: Option<bool>,
}

/// An action row (`type: 1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionRow {
    /// Always 1.
    #[serde(rename = "type")]
    pub kind: u8,
    /// Up to 5 buttons.
    pub components: Vec<Button>,
}

/// A link button (`type: 2`, `style: 5`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    /// Always 2.
    #[serde(rename = "type")]
    pub kind: u8,
    /// Always 5 (link).
    pub style: u8,
    /// Label (≤ 80).
    pub label: String,
    /// Target URL (≤ 512).
    pub url: String,
}

impl Embed {
    /// Characters this embed counts towards the 6000 total.
    pub fn total_len(&self) -> usize {
        self.title.as_deref().map(utf16_len).unwrap_or(0)
            + self.description.as_deref().map(utf16_len).unwrap_or(0)
            + self
                .footer
                .as_ref()
                .map(|f| utf16_len(&f.text))
                .unwrap_or(0)
            + self
                .author
                .as_ref()
                .map(|a| utf16_len(&a.name))
                .unwrap_or(0)
            + self
                .fields
                .iter()
                .map(|f| utf16_len(&f.name) + utf16_len(&f.value))
                .sum::<usize>()
    }
}

impl DiscordMessage {
    /// A one-line description for logs.
    pub fn summary(&self) -> String {
        let head = self
            .embeds
            .first()
            .and_then(|e| e.title.clone().or_else(|| e.description.clone()))
            .or_else(|| self.content.clone())
            .unwrap_or_default();
        let first = head.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        let first = truncate_words(&unescape_markdown(first.trim()), 80);
        if self.embeds.is_empty() {
            format!("message {first:?}")
        } else {
            format!("embed {first:?}")
        }
    }

    /// Wrap as an opaque [`Part`] for the delivery engine.
    pub fn to_part(&self) -> Part {
        Part {
            payload: serde_json::to_value(self).unwrap_or_default(),
            summary: self.summary(),
        }
    }

    /// Read back a [`Part`] payload.
    pub fn from_payload(v: &serde_json::Value) -> Option<DiscordMessage> {
        serde_json::from_value(v.clone()).ok()
    }
}

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

// ----- markdown emitter ------------------------------------------------------

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

// ----- rendering ----------------------------------------------------------------

fn button_row(fmt: &TargetFormat, art: &Article) -> Vec<ActionRow> {
    if !fmt.read_more {
        return Vec::new();
    }
    let Some(url) = art.link.clone().filter(|u| u.len() <= 512) else {
        return Vec::new();
    };
    let label = one_line(&fmt.read_more_label);
    let label = if label.is_empty() {
        "Read more".to_string()
    } else {
        truncate_words(&label, 80)
    };
    vec![ActionRow {
        kind: 1,
        components: vec![Button {
            kind: 2,
            style: 5,
            label,
            url,
        }],
    }]
}

/// Fit a plain one-line value, escaped for markdown, into `limit`.
fn fit_escaped(text: &str, limit: usize) -> String {
    let mut max = limit;
    loop {
        let cut = truncate_words(text, max);
        let esc = escape_md_line(&cut);
        if utf16_len(&esc) <= limit || max == 0 {
            return esc;
        }
        max = max.saturating_sub((utf16_len(&esc) - limit).max(1));
    }
}

/// The post as rendered parts of at most `limit` each (at most
/// `max_parts`, the last truncated). Rendered once when it fits whole.
fn md_parts(d: &dyn Dialect, blocks: Vec<Block>, limit: usize, max_parts: usize) -> Vec<String> {
    if blocks.is_empty() {
        return Vec::new();
    }
    let md = to_markdown(&blocks);
    if utf16_len(&md) <= limit {
        return vec![md];
    }
    cap_parts(d, layout::split(d, blocks, limit), max_parts, limit)
        .iter()
        .map(|p| to_markdown(p))
        .collect()
}

fn cap_parts(
    d: &dyn Dialect,
    mut parts: Vec<Vec<Block>>,
    max: usize,
    limit: usize,
) -> Vec<Vec<Block>> {
    let max = max.max(1);
    if parts.len() > max {
        let rest: Vec<Block> = parts.drain(max - 1..).flatten().collect();
        parts.push(layout::truncate(d, rest, limit));
    }
    parts
}

/// Render a post into the Discord messages to send, in order.
///
/// * Embed style (default): the first message carries the embed's title,
///   link, author, image and the (start of the) description; the footer
///   and timestamp go on the last; full-text posts longer than one
///   description continue in further messages, one embed each. The
///   optional `content_template` becomes the first message's `content`.
/// * Plain style: `content` only, split at 2000.
///
/// Summary mode shrinks/truncates to one message; full mode and digests
/// split (at most `max_parts` messages).
pub fn render(
    post: &Post,
    feed: &FeedRenderOptions,
    fmt: &TargetFormat,
) -> Result<Vec<DiscordMessage>, RenderError> {
    let art = prepared(post, feed, fmt);
    if art.is_empty(post) {
        return Err(empty_post(post));
    }
    let pieces = template::pieces(Platform::Discord, fmt, post, &art)?;
    let d = MdDialect;
    let full = matches!(fmt.mode, Mode::Full) || !post.digest.is_empty();
    let buttons = button_row(fmt, &art);

    let mut out: Vec<DiscordMessage> = Vec::new();
    match fmt.discord_style {
        DiscordStyle::Plain => {
            let parts = if full {
                let blocks = super::markup::resolve(&pieces, &art.summary, &art.content);
                md_parts(&d, blocks, CONTENT_LIMIT, fmt.max_parts)
            } else {
                let (blocks, _) = super::fit::fit_summary(&d, &pieces, &art, CONTENT_LIMIT);
                md_parts(&d, blocks, CONTENT_LIMIT, 1)
            };
            for md in parts {
                if !md.trim().is_empty() {
                    out.push(DiscordMessage {
                        content: Some(md),
                        ..Default::default()
                    });
                }
            }
        }
        DiscordStyle::Embed => {
            let title_src = if art.title.is_empty() && !post.digest.is_empty() {
                art.source.clone()
            } else {
                art.title.clone()
            };
            let title = fit_escaped(&title_src, TITLE_LIMIT);
            let author = (!art.author.is_empty())
                .then(|| truncate_words(&defuse_mentions(&art.author), AUTHOR_LIMIT));
            let footer = (!art.source.is_empty())
                .then(|| truncate_words(&defuse_mentions(&art.source), FOOTER_LIMIT));
            let overhead = utf16_len(&title)
                + author.as_deref().map(utf16_len).unwrap_or(0)
                + footer.as_deref().map(utf16_len).unwrap_or(0);
            let limit = DESCRIPTION_LIMIT
                .min(EMBEDS_TOTAL_LIMIT.saturating_sub(overhead))
                .max(1);
            let parts = if full {
                let blocks = super::markup::resolve(&pieces, &art.summary, &art.content);
                md_parts(&d, blocks, limit, fmt.max_parts)
            } else {
                let (blocks, _) = super::fit::fit_summary(&d, &pieces, &art, limit);
                md_parts(&d, blocks, limit, 1)
            };
            let color = fmt.color.or(feed.color).map(|c| c & 0xFF_FFFF);
            let n = parts.len().max(1);
            let mut parts = parts.into_iter();
            for i in 0..n {
                let description = parts.next().filter(|s| !s.trim().is_empty());
                let mut e = Embed {
                    description,
                    color,
                    ..Default::default()
                };
                if i == 0 {
                    if !title.is_empty() {
                        e.title = Some(title.clone());
                        e.url = art.link.clone();
                    }
                    e.author = author.clone().map(|name| EmbedAuthor { name, url: None });
                    if let Some(img) = web_image(art.image.as_ref()) {
                        match fmt.discord_image {
                            DiscordImage::Large => e.image = Some(EmbedMedia { url: img.clone() }),
                            DiscordImage::Thumbnail => {
                                e.thumbnail = Some(EmbedMedia { url: img.clone() })
                            }
                            DiscordImage::None => {}
                        }
                    }
                }
                if i + 1 == n {
                    e.footer = footer.clone().map(|text| EmbedFooter { text });
                    // Years outside 1–9999 have no ISO 8601 form Discord reads
                    // (a feed dated `-004-12-01`: found by the feed fuzz target).
                    e.timestamp = post
                        .published
                        .filter(|t| (1..=9999).contains(&chrono::Datelike::year(t)))
                        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
                }
                let empty = e.title.is_none()
                    && e.description.is_none()
                    && e.image.is_none()
                    && e.thumbnail.is_none();
                if !empty {
                    out.push(DiscordMessage {
                        embeds: vec![e],
                        ..Default::default()
                    });
                }
            }
            if let Some(src) = fmt.content_template.as_deref()
                && let Some(first) = out.first_mut()
            {
                let content = template::render_content(src, fmt, post, &art)?;
                let content = layout::truncate(&d, content, CONTENT_LIMIT);
                let md = to_markdown(&content);
                if !md.trim().is_empty() {
                    first.content = Some(md);
                }
            }
        }
    }
    if out.is_empty() {
        return Err(RenderError(format!(
            "nothing to publish for {:?}: no title, text, image or link",
            post.label()
        )));
    }
    if let Some(last) = out.last_mut() {
        last.components = buttons;
    }
    Ok(out.into_iter().map(checked).collect())
}

fn checked(m: DiscordMessage) -> DiscordMessage {
    let v = serde_json::to_value(&m).unwrap_or_default();
    match super::validate::discord_message(&v) {
        Ok(()) => m,
        Err(e) => {
            safety_net_used(&e.errors.to_string(), &v.to_string());
            tracing::error!(errors = %e.errors, "formatter produced an invalid Discord message; sending the minimal form");
            minimal_fallback(&m)
        }
    }
}

/// The simplest message Discord will accept, from a rejected one (used on
/// 50035 Invalid Form Body): `content` only — the embed's title, link and
/// description as markdown, cut to 2000 — no embeds, no components.
pub fn minimal_fallback(m: &DiscordMessage) -> DiscordMessage {
    let mut lines: Vec<String> = Vec::new();
    if let Some(c) = &m.content {
        lines.push(c.clone());
    }
    for e in &m.embeds {
        if let Some(t) = &e.title {
            lines.push(format!("**{}**", t.trim()));
        }
        if let Some(u) = &e.url {
            lines.push(u.clone());
        }
        if let Some(d) = &e.description {
            lines.push(d.clone());
        }
        if let Some(img) = e.image.as_ref().or(e.thumbnail.as_ref()) {
            lines.push(img.url.clone());
        }
    }
    for row in &m.components {
        for b in &row.components {
            lines.push(b.url.clone());
        }
    }
    let mut text = lines.join("\n\n");
    if utf16_len(&text) > CONTENT_LIMIT {
        text = truncate_words(&text, CONTENT_LIMIT);
    }
    if text.trim().is_empty() {
        text = "…".into();
    }
    DiscordMessage {
        content: Some(text),
        embeds: Vec::new(),
        components: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(t: &str, style: Style, link: Option<&str>) -> Span {
        Span {
            text: t.into(),
            style,
            link: link.map(Into::into),
        }
    }

    #[test]
    fn escapes_markdown_and_mentions() {
        let md = to_markdown(&[Block::Paragraph(vec![Span::plain(
            "# a *b* _c_ ~d~ `e` |f| [g](h) <@123> @everyone @here \\ 1. x",
        )])]);
        assert_eq!(
            md,
            "\\# a \\*b\\* \\_c\\_ \\~d\\~ \\`e\\` \\|f\\| \\[g\\](h) \\<@123> @\u{200B}everyone @\u{200B}here \\\\ 1. x"
        );
        let md = to_markdown(&[Block::Paragraph(vec![Span::plain(
            "12. x\n- y\n> z\nhttps://a.example/x_y_z",
        )])]);
        assert_eq!(md, "12\\. x\n\\- y\n\\> z\nhttps://a.example/x_y_z");
    }

    #[test]
    fn styles_links_and_whitespace() {
        let md = to_markdown(&[Block::Paragraph(vec![
            s("bold ", Style::BOLD, None),
            s("it", Style::ITALIC, None),
            s(" link", Style::PLAIN, Some("https://x.example/a_(b)")),
            s(" code", Style::CODE, None),
        ])]);
        assert_eq!(
            md,
            "**bold** *it* [link](https://x.example/a_%28b%29) `code`"
        );
    }

    #[test]
    fn url_text_is_not_masked() {
        let md = to_markdown(&[Block::Paragraph(vec![s(
            "https://shown.example/a_b",
            Style::PLAIN,
            Some("https://other.example/"),
        )])]);
        assert_eq!(md, "https://shown.example/a_b");
    }

    #[test]
    fn adjacent_markers_are_separated() {
        let md = to_markdown(&[Block::Paragraph(vec![
            s("a", Style::ITALIC, None),
            s("b", Style::BOLD, None),
        ])]);
        assert_eq!(md, "*a*\u{200B}**b**");
        let md = to_markdown(&[Block::Paragraph(vec![
            s("a", Style::BOLD.union(Style::ITALIC), None),
            s("b", Style::BOLD, None),
        ])]);
        assert_eq!(md, "***a*b**");
    }

    #[test]
    fn styles_close_at_line_ends() {
        let md = to_markdown(&[Block::Quote(vec![s("a\nb", Style::BOLD, None)])]);
        assert_eq!(md, "> **a**\n> **b**");
    }

    #[test]
    fn minimal_fallback_is_small() {
        let m = DiscordMessage {
            content: None,
            embeds: vec![Embed {
                title: Some("T".into()),
                description: Some("x".repeat(5000)),
                ..Default::default()
            }],
            components: Vec::new(),
        };
        let f = minimal_fallback(&m);
        assert!(f.embeds.is_empty());
        assert!(utf16_len(f.content.as_deref().unwrap_or("")) <= CONTENT_LIMIT);
        assert!(
            crate::format::validate::discord_message(&serde_json::to_value(&f).unwrap_or_default())
                .is_ok()
        );
    }
}
