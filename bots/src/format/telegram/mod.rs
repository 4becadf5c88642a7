//! The Telegram renderer.
//!
//! Output is **Telegram HTML** (`parse_mode: "HTML"`), not text + entities:
//! it is readable in logs and in the delivery log, stores as one string, and
//! [`super::validate::telegram_text`] checks it exactly as Telegram parses
//! it. Only `b i u s tg-spoiler code pre a blockquote` are emitted, nested
//! in one fixed order, with `&lt; &gt; &amp; &quot;` escapes; lengths are
//! measured in UTF-16 units of the text after entity parsing.
//!
//! Image strategy: when the article has an image and the whole post fits a
//! caption (1024), it is sent as a **photo with caption**
//! (`sendPhoto`); otherwise as **text with a large link preview of the
//! image shown above the text** (`link_preview_options` with the image
//! URL, `prefer_large_media`, `show_above_text`), so the picture is seen and
//! the text is whole. Long full-text posts are split at block boundaries
//! into several `sendMessage`s (preview on the first only, the optional
//! "Read more" button on the last).
//!
//! Audio strategy: when the post's audio file (the one its link line
//! shows) is MP3 or M4A of a declared length within the Bot API's 20 MB
//! for files sent by URL, and the post fits a caption, it is sent as an
//! **audio message with caption** (`sendAudio`) instead of a photo or text:
//! the caption leaves out the link line (the player is the audio) and the
//! article image (a thumbnail is only taken with an upload; Telegram shows
//! the file's own cover art). The message carries, outside its Bot API
//! parameters, the text message to send instead if Telegram refuses the
//! file ([`TelegramMessage::fallback`], [`media_to_text`]): the post as it
//! would be without the audio, as text with the link line.

use serde::{Deserialize, Serialize};

use super::article::{Article, empty_post, prepared};
use super::images::{telegram_file, web_image};
use super::layout::{self, Dialect, doc_len, sep};
use super::media::telegram_audio;
use super::options::{FeedRenderOptions, LinkPreview, Mode, Platform, TargetFormat};
use super::rich::{Block, Span, Style};
use super::safety::safety_net_used;
use super::template;
use super::text::{escape_into, utf16_len};
use crate::model::Post;
use crate::target::{Part, RenderError};

mod entities;

use super::fit::fit_summary;
pub use entities::{ENTITY_BYTES, MAX_ENTITIES};
use entities::{split_within_entity_budget, thin_entities};

/// Maximum text length (UTF-16 units after entity parsing).
pub const TEXT_LIMIT: usize = 4096;
/// Maximum caption length.
pub const CAPTION_LIMIT: usize = 1024;

/// Bot API method of a [`TelegramMessage`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TelegramMethod {
    /// `sendMessage` (`text`).
    #[serde(rename = "sendMessage")]
    SendMessage,
    /// `sendPhoto` (`photo` + `caption`).
    #[serde(rename = "sendPhoto")]
    SendPhoto,
    /// `sendAudio` (`audio` + `caption`).
    #[serde(rename = "sendAudio")]
    SendAudio,
}

impl TelegramMethod {
    /// The Bot API method name.
    pub fn as_str(self) -> &'static str {
        match self {
            TelegramMethod::SendMessage => "sendMessage",
            TelegramMethod::SendPhoto => "sendPhoto",
            TelegramMethod::SendAudio => "sendAudio",
        }
    }
}

/// Bot API `LinkPreviewOptions`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkPreviewOptions {
    /// No preview at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_disabled: Option<bool>,
    /// The URL to preview (need not appear in the text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Prefer a small picture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefer_small_media: Option<bool>,
    /// Prefer a large picture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefer_large_media: Option<bool>,
    /// Show the preview above the text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_above_text: Option<bool>,
}

impl LinkPreviewOptions {
    /// Previews disabled.
    pub fn disabled() -> Self {
        LinkPreviewOptions {
            is_disabled: Some(true),
            ..Default::default()
        }
    }

    /// A large preview of `url`, above the text when `above`.
    pub fn large(url: &str, above: bool) -> Self {
        LinkPreviewOptions {
            url: Some(url.to_string()),
            prefer_large_media: Some(true),
            show_above_text: above.then_some(true),
            ..Default::default()
        }
    }
}

/// An inline keyboard URL button.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InlineKeyboardButton {
    /// Button label.
    pub text: String,
    /// URL the button opens (`http(s)` or `tg`).
    pub url: String,
}

/// Bot API `InlineKeyboardMarkup` (URL buttons only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InlineKeyboardMarkup {
    /// Rows of buttons.
    pub inline_keyboard: Vec<Vec<InlineKeyboardButton>>,
}

/// One Telegram message, as the Bot API parameters of `method` minus the
/// chat-specific ones the adapter adds (`chat_id`, `message_thread_id`,
/// `disable_notification`, `protect_content`).
///
/// Serialises as `{"method":"sendMessage","text":…,"parse_mode":"HTML",…}`;
/// [`TelegramMessage::params`] gives the parameters without `method` (and
/// without `fallback`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TelegramMessage {
    /// `sendMessage`, `sendPhoto` or `sendAudio`.
    pub method: TelegramMethod,
    /// `sendMessage` text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// `sendPhoto` photo URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo: Option<String>,
    /// `sendAudio` audio URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<String>,
    /// `sendPhoto` / `sendAudio` caption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    /// `"HTML"`, or absent for plain text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parse_mode: Option<String>,
    /// `sendMessage` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_preview_options: Option<LinkPreviewOptions>,
    /// The optional "Read more" URL button.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_markup: Option<InlineKeyboardMarkup>,
    /// Not a Bot API parameter: for `sendAudio`, the text message (with
    /// the link line) to send or edit instead when Telegram refuses the
    /// audio file or the message is text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<Box<TelegramMessage>>,
}

impl TelegramMessage {
    /// The Bot API parameters (everything but `method`).
    pub fn params(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.remove("method");
            o.remove("fallback");
        }
        v
    }

    /// The text or caption.
    pub fn body(&self) -> &str {
        self.text
            .as_deref()
            .or(self.caption.as_deref())
            .unwrap_or("")
    }

    /// The length limit of [`Self::body`].
    pub fn limit(&self) -> usize {
        match self.method {
            TelegramMethod::SendMessage => TEXT_LIMIT,
            TelegramMethod::SendPhoto | TelegramMethod::SendAudio => CAPTION_LIMIT,
        }
    }

    /// A one-line description for logs.
    pub fn summary(&self) -> String {
        let plain = super::validate::parse_telegram_html(self.body())
            .map(|p| p.text)
            .unwrap_or_else(|_| self.body().to_string());
        let first = plain.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        let first = super::text::truncate_words(first.trim(), 80);
        format!("{} {:?}", self.method.as_str(), first)
    }

    /// Wrap as an opaque [`Part`] for the delivery engine.
    pub fn to_part(&self) -> Part {
        Part {
            payload: serde_json::to_value(self).unwrap_or_default(),
            summary: self.summary(),
        }
    }

    /// Read back a [`Part`] payload.
    pub fn from_payload(v: &serde_json::Value) -> Option<TelegramMessage> {
        serde_json::from_value(v.clone()).ok()
    }
}

// ----- HTML emitter -------------------------------------------------------

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

// ----- rendering ------------------------------------------------------------

fn read_more(fmt: &TargetFormat, art: &Article) -> Option<InlineKeyboardMarkup> {
    if !fmt.read_more {
        return None;
    }
    let url = art.link.clone()?;
    let label = super::text::one_line(&fmt.read_more_label);
    let label = if label.is_empty() {
        "Read more".to_string()
    } else {
        super::text::truncate_words(&label, 64)
    };
    Some(InlineKeyboardMarkup {
        inline_keyboard: vec![vec![InlineKeyboardButton { text: label, url }]],
    })
}

fn preview_for(fmt: &TargetFormat, art: &Article) -> LinkPreviewOptions {
    match fmt.link_preview {
        LinkPreview::Image => match (web_image(art.image.as_ref()), &art.link) {
            (Some(img), _) => LinkPreviewOptions::large(img, true),
            (None, Some(link)) => LinkPreviewOptions::large(link, false),
            (None, None) => LinkPreviewOptions::disabled(),
        },
        LinkPreview::Article => match &art.link {
            Some(link) => LinkPreviewOptions::large(link, false),
            None => LinkPreviewOptions::disabled(),
        },
        LinkPreview::None => LinkPreviewOptions::disabled(),
    }
}

fn text_message(html: String, preview: LinkPreviewOptions) -> TelegramMessage {
    TelegramMessage {
        method: TelegramMethod::SendMessage,
        text: Some(html),
        photo: None,
        audio: None,
        caption: None,
        parse_mode: Some("HTML".into()),
        link_preview_options: Some(preview),
        reply_markup: None,
        fallback: None,
    }
}

/// Render a post into the Telegram messages to send, in order.
///
/// * Summary mode: one message; the summary shrinks (then the whole post is
///   truncated on a sentence or word boundary, keeping a trailing link
///   line) until it fits.
/// * Full mode: one message when it fits, else several, split at block
///   boundaries, at most `max_parts` (the last one truncated if needed).
/// * Digest posts (non-empty `post.digest`): the digest template, split
///   like full mode.
/// * A post with a playable audio file that fits a caption: one audio
///   message (see [`audio_message`]).
///
/// Every message passes [`super::validate::telegram_message`]; should one
/// not (a bug), its plain-text fallback is sent instead.
pub fn render(
    post: &Post,
    feed: &FeedRenderOptions,
    fmt: &TargetFormat,
) -> Result<Vec<TelegramMessage>, RenderError> {
    let art = prepared(post, feed, fmt);
    if art.is_empty(post) {
        return Err(empty_post(post));
    }
    let out: Vec<TelegramMessage> = render_article(post, &art, fmt)?
        .into_iter()
        .map(checked)
        .collect();
    Ok(match audio_message(post, &art, fmt, &out)? {
        Some(audio) => vec![checked(audio)],
        None => out,
    })
}

/// The post as an audio message, when its audio file is one `sendAudio`
/// takes by URL ([`telegram_audio`]) and the post, without its link line,
/// fits a caption; `text` is the post rendered without audio (one message,
/// else no audio message), kept as the fallback in text form. Digests
/// never are audio.
fn audio_message(
    post: &Post,
    art: &Article,
    fmt: &TargetFormat,
    text: &[TelegramMessage],
) -> Result<Option<TelegramMessage>, RenderError> {
    let ([fallback], true) = (text, post.digest.is_empty()) else {
        return Ok(None);
    };
    let Some(audio) = telegram_audio(post) else {
        return Ok(None);
    };
    // The same template without the link line (nor any other file's).
    let bare = Post {
        enclosures: Vec::new(),
        ..post.clone()
    };
    let pieces = template::pieces(Platform::Telegram, fmt, &bare, art)?;
    let d = TgDialect;
    let mut blocks = if matches!(fmt.mode, Mode::Full) {
        super::markup::resolve(&pieces, &art.summary, &art.content)
    } else {
        fit_summary(&d, &pieces, art, TEXT_LIMIT).0
    };
    if doc_len(&d, &blocks) > CAPTION_LIMIT {
        return Ok(None);
    }
    thin_entities(&mut blocks);
    let (html, _) = to_html(&blocks);
    Ok(Some(TelegramMessage {
        method: TelegramMethod::SendAudio,
        text: None,
        photo: None,
        audio: Some(audio),
        caption: (!html.is_empty()).then_some(html),
        parse_mode: Some("HTML".into()),
        link_preview_options: None,
        reply_markup: read_more(fmt, art),
        fallback: Some(Box::new(photo_to_text(fallback))),
    }))
}

/// The post as photo or text messages (no audio).
fn render_article(
    post: &Post,
    art: &Article,
    fmt: &TargetFormat,
) -> Result<Vec<TelegramMessage>, RenderError> {
    let pieces = template::pieces(Platform::Telegram, fmt, post, art)?;
    let d = TgDialect;
    let full = matches!(fmt.mode, Mode::Full) || !post.digest.is_empty();
    let photo_ok = fmt.photo && art.image.is_some() && post.digest.is_empty();

    let blocks = if full {
        super::markup::resolve(&pieces, &art.summary, &art.content)
    } else {
        fit_summary(&d, &pieces, art, TEXT_LIMIT).0
    };
    if blocks.is_empty() && !photo_ok {
        return Err(RenderError(format!(
            "nothing to publish for {:?}: no title, text or link",
            post.label()
        )));
    }
    let total = doc_len(&d, &blocks);
    let button = read_more(fmt, art);

    let mut out = Vec::new();
    if photo_ok && total <= CAPTION_LIMIT {
        let mut blocks = blocks;
        thin_entities(&mut blocks);
        let (html, _) = to_html(&blocks);
        out.push(TelegramMessage {
            method: TelegramMethod::SendPhoto,
            text: None,
            photo: art.image.clone(),
            audio: None,
            caption: (!html.is_empty()).then_some(html),
            parse_mode: Some("HTML".into()),
            link_preview_options: None,
            reply_markup: None,
            fallback: None,
        });
    } else {
        let mut parts = if full {
            split_within_entity_budget(&d, blocks, TEXT_LIMIT)
        } else {
            // Summary mode is one message (fit_summary made it fit).
            let mut blocks = blocks;
            thin_entities(&mut blocks);
            vec![blocks]
        };
        let max = fmt.max_parts.max(1);
        if parts.len() > max {
            let rest: Vec<Block> = parts.drain(max - 1..).flatten().collect();
            let mut last = layout::truncate(&d, rest, TEXT_LIMIT);
            thin_entities(&mut last);
            parts.push(last);
        }
        for (i, part) in parts.into_iter().enumerate() {
            let (html, _) = to_html(&part);
            let preview = if i == 0 {
                preview_for(fmt, art)
            } else {
                LinkPreviewOptions::disabled()
            };
            out.push(text_message(html, preview));
        }
    }
    if let Some(last) = out.last_mut() {
        last.reply_markup = button;
    }
    Ok(out)
}

/// Validate; replace an invalid message by its plain-text fallback.
fn checked(m: TelegramMessage) -> TelegramMessage {
    // The text goes through the strict validator; the other parameters are
    // built from sanitised URLs and need no second look.
    let missing = |f: &Option<String>| f.as_deref().is_none_or(str::is_empty);
    let result = match m.method {
        TelegramMethod::SendPhoto if missing(&m.photo) => Err(super::validate::TelegramViolation {
            description: "Bad Request: there is no photo in the request".into(),
        }),
        TelegramMethod::SendAudio if missing(&m.audio) => Err(super::validate::TelegramViolation {
            description: "Bad Request: there is no audio in the request".into(),
        }),
        _ => {
            super::validate::telegram_text(m.body(), m.parse_mode.as_deref(), m.limit()).map(|_| ())
        }
    };
    match result {
        Ok(()) => m,
        Err(v) => {
            safety_net_used(&v.description, m.body());
            tracing::error!(error = %v.description, "formatter produced an invalid Telegram message; sending plain text");
            plain_fallback(&m)
        }
    }
}

/// The same message without markup (no `parse_mode`), within limits: used
/// when Telegram unexpectedly answers "can't parse entities". Links are
/// lost but the text, photo, preview and button stay.
pub fn plain_fallback(m: &TelegramMessage) -> TelegramMessage {
    let body = m.body();
    let plain = match m.parse_mode.as_deref() {
        Some(p) if p.eq_ignore_ascii_case("html") => super::validate::parse_telegram_html(body)
            .map(|p| p.text)
            .unwrap_or_else(|_| strip_tags(body)),
        _ => body.to_string(),
    };
    let limit = m.limit();
    let mut plain = if utf16_len(&plain) > limit {
        super::text::truncate_words(&plain, limit)
    } else {
        plain
    };
    if plain.trim().is_empty() && m.method == TelegramMethod::SendMessage {
        plain = m
            .link_preview_options
            .as_ref()
            .and_then(|p| p.url.clone())
            .unwrap_or_else(|| "…".into());
    }
    let mut out = m.clone();
    out.parse_mode = None;
    match m.method {
        TelegramMethod::SendMessage => out.text = Some(plain),
        TelegramMethod::SendPhoto | TelegramMethod::SendAudio => {
            out.caption = (!plain.is_empty()).then_some(plain)
        }
    }
    out
}

/// Crude tag stripping for text that is not even parseable HTML.
fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// Turn a photo message into a text message that shows the same picture
/// as a large link preview above the text (used when Telegram rejects the
/// photo URL). A text message is returned unchanged.
pub fn photo_to_text(m: &TelegramMessage) -> TelegramMessage {
    if m.method != TelegramMethod::SendPhoto {
        return m.clone();
    }
    let photo = m.photo.clone().unwrap_or_default();
    // A Telegram file has no URL to preview: the text goes alone.
    let photo = if telegram_file(&photo).is_some() {
        String::new()
    } else {
        photo
    };
    let (text, parse_mode) = match m.caption.as_deref() {
        Some(c) if !c.trim().is_empty() => (c.to_string(), m.parse_mode.clone()),
        _ if photo.is_empty() => ("🖼".to_string(), None),
        _ => {
            let mut s = String::from("<a href=\"");
            escape_into(&photo, &mut s, true);
            s.push_str("\">🖼</a>");
            (s, Some("HTML".into()))
        }
    };
    TelegramMessage {
        method: TelegramMethod::SendMessage,
        text: Some(text),
        photo: None,
        caption: None,
        parse_mode,
        link_preview_options: Some(if photo.is_empty() {
            LinkPreviewOptions::disabled()
        } else {
            LinkPreviewOptions::large(&photo, true)
        }),
        reply_markup: m.reply_markup.clone(),
        audio: None,
        fallback: None,
    }
}

/// A photo or audio message as the text message to send when Telegram
/// refuses its file, or to edit when the posted message is text: a photo
/// becomes text with the picture as a preview ([`photo_to_text`]), an audio
/// message its [`TelegramMessage::fallback`] (the post with its link
/// line), else its caption followed by a link to the file. A text message
/// is returned unchanged.
pub fn media_to_text(m: &TelegramMessage) -> TelegramMessage {
    match m.method {
        TelegramMethod::SendMessage => m.clone(),
        TelegramMethod::SendPhoto => photo_to_text(m),
        TelegramMethod::SendAudio => match &m.fallback {
            Some(f) if f.method == TelegramMethod::SendMessage => (**f).clone(),
            _ => audio_link_text(m),
        },
    }
}

/// An audio message without a stored fallback as text: the caption, then
/// a link to the file.
fn audio_link_text(m: &TelegramMessage) -> TelegramMessage {
    let url = m.audio.clone().unwrap_or_default();
    let html = m
        .parse_mode
        .as_deref()
        .is_some_and(|p| p.eq_ignore_ascii_case("html"));
    let mut text = m.caption.clone().unwrap_or_default();
    if !text.trim().is_empty() {
        text.push_str("\n\n");
    }
    if html {
        text.push_str("<a href=\"");
        escape_into(&url, &mut text, true);
        text.push_str("\">🎧 Listen</a>");
    } else {
        text.push_str("🎧 ");
        text.push_str(&url);
    }
    TelegramMessage {
        method: TelegramMethod::SendMessage,
        text: Some(text),
        photo: None,
        audio: None,
        caption: None,
        parse_mode: m.parse_mode.clone(),
        link_preview_options: Some(LinkPreviewOptions::disabled()),
        reply_markup: m.reply_markup.clone(),
        fallback: None,
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
    fn nesting_is_canonical() {
        let blocks = vec![Block::Paragraph(vec![
            s("a", Style::BOLD, None),
            s("b", Style::BOLD.union(Style::ITALIC), None),
            s("c", Style::ITALIC, None),
            s("d<&>", Style::PLAIN, Some("https://x.example/?a=1&b=\"2\"")),
            s("e", Style::CODE.union(Style::BOLD), None),
        ])];
        let (html, len) = to_html(&blocks);
        assert_eq!(
            html,
            "<b>a<i>b</i></b><i>c</i><a href=\"https://x.example/?a=1&amp;b=&quot;2&quot;\">d&lt;&amp;&gt;</a><code>e</code>"
        );
        assert_eq!(len, 8);
        assert!(crate::format::validate::telegram_text(&html, Some("HTML"), 4096).is_ok());
    }

    #[test]
    fn entity_cost_matches_what_telegram_parses() {
        let blocks = vec![
            Block::Heading {
                level: 2,
                spans: vec![
                    s("h", Style::PLAIN, None),
                    s("l", Style::ITALIC, Some("https://h.example/")),
                ],
            },
            Block::Paragraph(vec![
                s("a", Style::BOLD, None),
                s(
                    "b",
                    Style::BOLD.union(Style::ITALIC),
                    Some("https://x.example/"),
                ),
                s("c", Style::CODE, None),
                s("d", Style::SPOILER.union(Style::STRIKE), None),
            ]),
            Block::Quote(vec![s("q", Style::UNDERLINE, None)]),
            Block::Code {
                lang: Some("rust".into()),
                text: "x".into(),
            },
            Block::Image {
                src: "https://i.example/p.png".into(),
                alt: String::new(),
            },
        ];
        let (html, _) = to_html(&blocks);
        let parsed = crate::format::validate::parse_telegram_html(&html).unwrap_or_default();
        let (n, bytes) = entities::entity_cost(&blocks);
        assert_eq!(n, parsed.entities.len(), "{html}");
        let expected: usize = parsed
            .entities
            .iter()
            .map(|e| 16 + e.url.as_ref().map_or(0, String::len))
            .sum();
        assert_eq!(bytes, expected);
    }

    #[test]
    fn plain_fallback_strips_markup() {
        let m = text_message("<b>a &amp; b</b>".into(), LinkPreviewOptions::disabled());
        let p = plain_fallback(&m);
        assert_eq!(p.text.as_deref(), Some("a & b"));
        assert_eq!(p.parse_mode, None);
    }

    #[test]
    fn photo_becomes_text_with_preview() {
        let m = TelegramMessage {
            method: TelegramMethod::SendPhoto,
            text: None,
            photo: Some("https://i.example/p.jpg".into()),
            audio: None,
            caption: Some("<b>x</b>".into()),
            parse_mode: Some("HTML".into()),
            link_preview_options: None,
            reply_markup: None,
            fallback: None,
        };
        let t = photo_to_text(&m);
        assert_eq!(t.method, TelegramMethod::SendMessage);
        assert_eq!(t.text.as_deref(), Some("<b>x</b>"));
        let p = t.link_preview_options.unwrap_or_default();
        assert_eq!(p.url.as_deref(), Some("https://i.example/p.jpg"));
        assert_eq!(p.show_above_text, Some(true));
    }

    fn podcast(mime: &str, url: &str, length: Option<u64>, summary: &str) -> Post {
        Post {
            feed: "pod".into(),
            source_title: Some("The Show".into()),
            title: "Ep. 7: Frost".into(),
            link: Some("https://pod.example/7".into()),
            summary_html: Some(summary.into()),
            images: vec!["https://pod.example/ep7.jpg".into()],
            enclosures: vec![crate::model::Enclosure {
                url: url.into(),
                mime: Some(mime.into()),
                length,
            }],
            ..Post::default()
        }
    }

    fn rendered(post: &Post, fmt: &TargetFormat) -> Vec<TelegramMessage> {
        render(post, &FeedRenderOptions::default(), fmt).expect("render")
    }

    const MP3: &str = "https://cdn.pod.example/ep7.mp3";

    #[test]
    fn a_small_mp3_is_an_audio_message_without_its_link_line() {
        let fmt = TargetFormat {
            read_more: true,
            ..TargetFormat::default()
        };
        let post = podcast("audio/mpeg", MP3, Some(12_000_000), "<p>Birdsong.</p>");
        let out = rendered(&post, &fmt);
        assert_eq!(out.len(), 1);
        let m = &out[0];
        assert_eq!(m.method, TelegramMethod::SendAudio);
        assert_eq!(m.audio.as_deref(), Some(MP3));
        assert_eq!(m.photo, None, "the image is not sent with the audio");
        let caption = m.caption.as_deref().unwrap_or("");
        assert!(caption.contains("Birdsong."), "{caption}");
        assert!(
            !caption.contains("Listen") && !caption.contains(MP3),
            "{caption}"
        );
        assert!(m.reply_markup.is_some(), "the read-more button stays");
        let params = m.params();
        assert!(params.get("fallback").is_none(), "{params}");
        assert!(crate::format::validate::telegram_message("sendAudio", &params).is_ok());
        // The fallback: the post as text, with the link line and the image
        // as a preview above it.
        let text = media_to_text(m);
        assert_eq!(text.method, TelegramMethod::SendMessage);
        let body = text.text.as_deref().unwrap_or("");
        assert!(
            body.contains("🎧 Listen (MP3, 12 MB)") && body.contains(MP3),
            "{body}"
        );
        let preview = text.link_preview_options.clone().unwrap_or_default();
        assert_eq!(preview.url.as_deref(), Some("https://pod.example/ep7.jpg"));
        assert_eq!(text.reply_markup, m.reply_markup);
        // A stored payload reads back with its fallback.
        let back = TelegramMessage::from_payload(&m.to_part().payload);
        assert_eq!(back.as_ref(), Some(m));
        // Full mode too; M4A too.
        let full = TargetFormat {
            mode: Mode::Full,
            ..TargetFormat::default()
        };
        assert_eq!(rendered(&post, &full)[0].method, TelegramMethod::SendAudio);
        let m4a = podcast(
            "audio/x-m4a",
            "https://c.example/e.m4a",
            Some(5_000),
            "<p>x</p>",
        );
        assert_eq!(rendered(&m4a, &fmt)[0].method, TelegramMethod::SendAudio);
    }

    #[test]
    fn other_audio_keeps_the_link_line() {
        let fmt = TargetFormat::default();
        let cases = [
            (
                "25 MB",
                podcast("audio/mpeg", MP3, Some(25_000_000), "<p>x</p>"),
            ),
            (
                "unknown length",
                podcast("audio/mpeg", MP3, None, "<p>x</p>"),
            ),
            (
                "zero length",
                podcast("audio/mpeg", MP3, Some(0), "<p>x</p>"),
            ),
            (
                "OGG",
                podcast(
                    "audio/ogg",
                    "https://cdn.pod.example/ep7.ogg",
                    Some(1_000),
                    "<p>x</p>",
                ),
            ),
        ];
        for (why, post) in cases {
            let out = rendered(&post, &fmt);
            assert_eq!(out.len(), 1, "{why}");
            assert_eq!(out[0].method, TelegramMethod::SendPhoto, "{why}");
            assert!(
                out[0].body().contains("🎧 Listen"),
                "{why}: {}",
                out[0].body()
            );
        }
    }

    #[test]
    fn a_post_too_long_for_a_caption_is_not_an_audio_message() {
        let long = format!("<p>{}</p>", "Birdsong at dawn. ".repeat(80));
        let fmt = TargetFormat {
            summary_length: 3000,
            ..TargetFormat::default()
        };
        let post = podcast("audio/mpeg", MP3, Some(1_000), &long);
        let out = rendered(&post, &fmt);
        assert_eq!(out[0].method, TelegramMethod::SendMessage, "{:?}", out[0]);
        assert!(out[0].body().contains("🎧 Listen (MP3, 1 KB)"));
        // Just within the caption limit, without the link line: audio.
        let short = format!("<p>{}</p>", "Birdsong at dawn. ".repeat(40));
        let out = rendered(&podcast("audio/mpeg", MP3, Some(1_000), &short), &fmt);
        assert_eq!(out[0].method, TelegramMethod::SendAudio, "{:?}", out[0]);
    }

    #[test]
    fn an_audio_message_without_a_fallback_still_becomes_text() {
        let m = TelegramMessage {
            method: TelegramMethod::SendAudio,
            text: None,
            photo: None,
            audio: Some("https://a.example/x.mp3?a=1&b=2".into()),
            caption: Some("<b>x</b>".into()),
            parse_mode: Some("HTML".into()),
            link_preview_options: None,
            reply_markup: None,
            fallback: None,
        };
        let t = media_to_text(&m);
        assert_eq!(
            t.text.as_deref(),
            Some("<b>x</b>\n\n<a href=\"https://a.example/x.mp3?a=1&amp;b=2\">🎧 Listen</a>")
        );
        assert!(crate::format::validate::telegram_message("sendMessage", &t.params()).is_ok());
        let p = plain_fallback(&m);
        assert_eq!(p.caption.as_deref(), Some("x"));
        assert_eq!(p.method, TelegramMethod::SendAudio);
    }
}
