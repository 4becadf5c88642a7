//! The safety net and the fallbacks: every rendered message is validated
//! ([`checked`]) and replaced by plain text if invalid; a photo or audio
//! message can be turned into the text message to send instead.

use super::message::{LinkPreviewOptions, TelegramMessage, TelegramMethod};
use crate::format::images::telegram_file;
use crate::format::safety::safety_net_used;
use crate::format::text::{escape_into, utf16_len};

/// Validate; replace an invalid message by its plain-text fallback.
pub(super) fn checked(m: TelegramMessage) -> TelegramMessage {
    // The text goes through the strict validator; the other parameters are
    // built from sanitised URLs and need no second look.
    let missing = |f: &Option<String>| f.as_deref().is_none_or(str::is_empty);
    let result = match m.method {
        TelegramMethod::SendPhoto if missing(&m.photo) => {
            Err(crate::format::validate::TelegramViolation {
                description: "Bad Request: there is no photo in the request".into(),
            })
        }
        TelegramMethod::SendAudio if missing(&m.audio) => {
            Err(crate::format::validate::TelegramViolation {
                description: "Bad Request: there is no audio in the request".into(),
            })
        }
        TelegramMethod::SendMediaGroup => {
            crate::format::validate::telegram_message(m.method.as_str(), &m.params())
        }
        _ => crate::format::validate::telegram_text(m.body(), m.parse_mode.as_deref(), m.limit())
            .map(|_| ()),
    };
    match result {
        Ok(()) => m,
        Err(v) => {
            safety_net_used(&v.description, m.body());
            tracing::error!(error = %v.description, "formatter produced an invalid Telegram message; sending plain text");
            let plain = plain_fallback(&m);
            if m.method == TelegramMethod::SendMediaGroup
                && crate::format::validate::telegram_message(plain.method.as_str(), &plain.params())
                    .is_err()
            {
                // Not the caption: the group itself. Its first picture.
                return checked(super::group_to_photo(&m));
            }
            plain
        }
    }
}

/// The same message without markup (no `parse_mode`), within limits: used
/// when Telegram unexpectedly answers "can't parse entities". Links are
/// lost but the text, photo, preview and button stay.
pub fn plain_fallback(m: &TelegramMessage) -> TelegramMessage {
    let body = m.body();
    let plain = match m.body_parse_mode() {
        Some(p) if p.eq_ignore_ascii_case("html") => {
            crate::format::validate::parse_telegram_html(body)
                .map(|p| p.text)
                .unwrap_or_else(|_| strip_tags(body))
        }
        _ => body.to_string(),
    };
    let limit = m.limit();
    let mut plain = if utf16_len(&plain) > limit {
        crate::format::text::truncate_words(&plain, limit)
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
        TelegramMethod::SendMediaGroup => {
            for (i, item) in out.media.iter_mut().flatten().enumerate() {
                item.parse_mode = None;
                item.caption = (i == 0 && !plain.is_empty()).then(|| plain.clone());
            }
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
/// photo URL); a media group becomes the text of its first picture. A text
/// message is returned unchanged.
pub fn photo_to_text(m: &TelegramMessage) -> TelegramMessage {
    if m.method == TelegramMethod::SendMediaGroup {
        return photo_to_text(&super::group_to_photo(m));
    }
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
        media: None,
        parse_mode,
        link_preview_options: Some(if photo.is_empty() {
            LinkPreviewOptions::disabled()
        } else {
            LinkPreviewOptions::large(&photo, true)
        }),
        reply_markup: m.reply_markup.clone(),
        audio: None,
        fallback: None,
        telegraph: None,
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
        TelegramMethod::SendPhoto | TelegramMethod::SendMediaGroup => photo_to_text(m),
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
        media: None,
        parse_mode: m.parse_mode.clone(),
        link_preview_options: Some(LinkPreviewOptions::disabled()),
        reply_markup: m.reply_markup.clone(),
        fallback: None,
        telegraph: None,
    }
}
