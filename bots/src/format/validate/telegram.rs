//! The Telegram validator: the Bot API HTML parser (as TDLib parses it),
//! text and caption limits, and a call's parameters.

use std::fmt;

use serde_json::{Value, json};

mod html;
mod media;

pub use html::parse_telegram_html;
pub use media::{TELEGRAM_MEDIA_GROUP_MAX, telegram_media_group, telegram_media_items};

/// A Telegram rejection: `description` is the exact text Telegram answers,
/// e.g. `Bad Request: message is too long`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelegramViolation {
    /// The `description` of Telegram's error body.
    pub description: String,
}

impl fmt::Display for TelegramViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.description)
    }
}

impl std::error::Error for TelegramViolation {}

impl TelegramViolation {
    fn new(d: impl Into<String>) -> Self {
        TelegramViolation {
            description: d.into(),
        }
    }

    /// The Bot API error body (`{"ok":false,"error_code":400,"description":…}`).
    pub fn body(&self) -> Value {
        json!({"ok": false, "error_code": 400, "description": self.description})
    }
}

/// Text limit of a message.
pub const TELEGRAM_TEXT_LIMIT: usize = 4096;
/// Limit of a caption.
pub const TELEGRAM_CAPTION_LIMIT: usize = 1024;

/// Telegram applies at most this many formatting entities per message and
/// silently ignores the rest (the strict validator rejects more).
pub const TELEGRAM_MAX_ENTITIES: usize = 100;

/// Approximate limit of the entities' total size (16 bytes each plus URLs):
/// beyond it Telegram answers `Bad Request: ENTITIES_TOO_LONG`
/// (tdlib/telegram-bot-api#165; the exact figure is not documented).
pub const TELEGRAM_ENTITY_BYTES: usize = 9500;

/// A formatting entity found by [`parse_telegram_html`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entity {
    /// Bot API entity type: `bold`, `italic`, `underline`, `strikethrough`,
    /// `spoiler`, `code`, `pre`, `text_link`, `blockquote`,
    /// `expandable_blockquote`, `custom_emoji`.
    pub kind: &'static str,
    /// Offset in UTF-16 units.
    pub offset: usize,
    /// Length in UTF-16 units.
    pub length: usize,
    /// `text_link` URL.
    pub url: Option<String>,
    /// `pre` language.
    pub language: Option<String>,
    /// Start of the entity's text, as a byte offset in [`ParsedHtml::text`].
    pub start: usize,
    /// End (exclusive) of the entity's text, as a byte offset.
    pub end: usize,
}

/// The result of parsing Telegram HTML.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParsedHtml {
    /// The text after entity parsing.
    pub text: String,
    /// Entities, in closing order.
    pub entities: Vec<Entity>,
}

/// Check a `text` or `caption` as Telegram would. `parse_mode` is `None`,
/// `Some("HTML")`… (`MarkdownV2`/`Markdown` are only length-checked, on the
/// raw text); `limit` is 4096 for texts, 1024 for captions. A text (limit
/// above 1024) must not be empty after parsing. Returns the length in
/// UTF-16 code units after entity parsing.
pub fn telegram_text(
    text: &str,
    parse_mode: Option<&str>,
    limit: usize,
) -> Result<usize, TelegramViolation> {
    let visible = match parse_mode {
        None | Some("") => std::borrow::Cow::Borrowed(text),
        Some(p) if p.eq_ignore_ascii_case("html") => match parse_telegram_html(text) {
            Ok(p) => {
                let bytes: usize = p
                    .entities
                    .iter()
                    .map(|e| 16 + e.url.as_ref().map_or(0, String::len))
                    .sum();
                if bytes > TELEGRAM_ENTITY_BYTES {
                    return Err(TelegramViolation::new("Bad Request: ENTITIES_TOO_LONG"));
                }
                std::borrow::Cow::Owned(p.text)
            }
            Err(e) => {
                return Err(TelegramViolation::new(format!(
                    "Bad Request: can't parse entities: {e}"
                )));
            }
        },
        Some(p) if p.eq_ignore_ascii_case("markdownv2") || p.eq_ignore_ascii_case("markdown") => {
            std::borrow::Cow::Borrowed(text)
        }
        Some(_) => {
            return Err(TelegramViolation::new(
                "Bad Request: unsupported parse_mode",
            ));
        }
    };
    if limit > TELEGRAM_CAPTION_LIMIT && visible.trim().is_empty() {
        return Err(TelegramViolation::new("Bad Request: message text is empty"));
    }
    let len = crate::format::text::utf16_len(&visible);
    if len > limit {
        return Err(TelegramViolation::new(if limit <= TELEGRAM_CAPTION_LIMIT {
            "Bad Request: message caption is too long"
        } else {
            "Bad Request: message is too long"
        }));
    }
    Ok(len)
}

fn tg_url_ok(u: &str) -> bool {
    url::Url::parse(u).is_ok_and(|u| matches!(u.scheme(), "http" | "https" | "tg"))
}

/// Check the parameters of a Bot API call (`sendMessage`,
/// `editMessageText`, `sendPhoto`, `sendAudio`, `editMessageCaption`,
/// `sendMediaGroup` (see `media.rs`); method names are
/// case-insensitive, as Telegram's are): text vs caption and their limits,
/// `parse_mode`, `link_preview_options`, the inline keyboard's URL
/// buttons. Other methods pass.
pub fn telegram_message(method: &str, params: &Value) -> Result<(), TelegramViolation> {
    let m = method.to_ascii_lowercase();
    let get_str = |k: &str| params.get(k).and_then(Value::as_str);
    let pm = match params.get("parse_mode") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => {
            return Err(TelegramViolation::new(
                "Bad Request: unsupported parse_mode",
            ));
        }
    };
    match m.as_str() {
        "sendmessage" | "editmessagetext" => {
            let Some(text) = get_str("text") else {
                return Err(TelegramViolation::new("Bad Request: message text is empty"));
            };
            telegram_text(text, pm, TELEGRAM_TEXT_LIMIT)?;
        }
        "sendphoto" | "sendaudio" | "editmessagecaption" => {
            for (method, file) in [("sendphoto", "photo"), ("sendaudio", "audio")] {
                if m == method && get_str(file).is_none_or(|p| p.trim().is_empty()) {
                    return Err(TelegramViolation::new(format!(
                        "Bad Request: there is no {file} in the request"
                    )));
                }
            }
            if let Some(c) = get_str("caption") {
                telegram_text(c, pm, TELEGRAM_CAPTION_LIMIT)?;
            }
        }
        "sendmediagroup" => return telegram_media_group(params),
        _ => return Ok(()),
    }
    if let Some(lp) = params.get("link_preview_options") {
        let ok = lp.is_null()
            || lp.as_object().is_some_and(|o| {
                o.get("url").is_none_or(|u| u.as_str().is_some())
                    && [
                        "is_disabled",
                        "prefer_small_media",
                        "prefer_large_media",
                        "show_above_text",
                    ]
                    .iter()
                    .all(|k| o.get(*k).is_none_or(Value::is_boolean))
            });
        if !ok {
            return Err(TelegramViolation::new(
                "Bad Request: can't parse link preview options JSON object",
            ));
        }
    }
    if let Some(rm) = params.get("reply_markup").filter(|v| !v.is_null()) {
        let Some(rows) = rm.get("inline_keyboard").and_then(Value::as_array) else {
            return Err(TelegramViolation::new(
                "Bad Request: can't parse reply keyboard markup JSON object",
            ));
        };
        for row in rows {
            let Some(buttons) = row.as_array() else {
                return Err(TelegramViolation::new(
                    "Bad Request: can't parse reply keyboard markup JSON object",
                ));
            };
            for bt in buttons {
                if bt
                    .get("text")
                    .and_then(Value::as_str)
                    .is_none_or(|t| t.is_empty())
                {
                    return Err(TelegramViolation::new(
                        "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
                    ));
                }
                match bt.get("url").and_then(Value::as_str) {
                    Some(u) if tg_url_ok(u) => {}
                    Some(_) => {
                        return Err(TelegramViolation::new("Bad Request: BUTTON_URL_INVALID"));
                    }
                    None if bt.get("callback_data").is_some() => {}
                    None => {
                        return Err(TelegramViolation::new(
                            "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
                        ));
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
