//! The Telegram message value: [`TelegramMessage`] (one Bot API call's
//! parameters), its method, link-preview options and inline keyboard, the
//! text and caption limits, and the conversion to and from a stored [`Part`].

use serde::{Deserialize, Serialize};

use crate::target::Part;

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
    /// `sendMediaGroup` (`media`: 2–10 photos, the caption on the first).
    #[serde(rename = "sendMediaGroup")]
    SendMediaGroup,
}

impl TelegramMethod {
    /// The Bot API method name.
    pub fn as_str(self) -> &'static str {
        match self {
            TelegramMethod::SendMessage => "sendMessage",
            TelegramMethod::SendPhoto => "sendPhoto",
            TelegramMethod::SendAudio => "sendAudio",
            TelegramMethod::SendMediaGroup => "sendMediaGroup",
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

/// Bot API `InputMediaPhoto`: one picture of a `sendMediaGroup`. Only the
/// first of a group carries the caption (Telegram shows it under the
/// album).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputMediaPhoto {
    /// `"photo"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The picture's URL.
    pub media: String,
    /// The caption (first item only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    /// `"HTML"` with a caption, else absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parse_mode: Option<String>,
}

impl InputMediaPhoto {
    /// A picture without caption.
    pub fn photo(url: &str) -> InputMediaPhoto {
        InputMediaPhoto {
            kind: "photo".into(),
            media: url.to_string(),
            caption: None,
            parse_mode: None,
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
    /// `sendMediaGroup` pictures (the caption and its `parse_mode` are on
    /// the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<Vec<InputMediaPhoto>>,
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
    /// Not a Bot API parameter: this message is the summary of a long
    /// article published as a Telegraph page (`telegraph = true`); the
    /// adapter creates the page and adds its link
    /// ([`super::telegraph::with_link`]), or sends the page's fallback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telegraph: Option<Box<super::telegraph::TelegraphPage>>,
}

impl TelegramMessage {
    /// The Bot API parameters (everything but `method`).
    pub fn params(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.remove("method");
            o.remove("fallback");
            o.remove("telegraph");
        }
        v
    }

    /// The text or caption (a media group's: its first picture's).
    pub fn body(&self) -> &str {
        self.text
            .as_deref()
            .or(self.caption.as_deref())
            .or(self.first_media().and_then(|m| m.caption.as_deref()))
            .unwrap_or("")
    }

    /// The `parse_mode` of [`Self::body`].
    pub fn body_parse_mode(&self) -> Option<&str> {
        match self.method {
            TelegramMethod::SendMediaGroup => self.first_media()?.parse_mode.as_deref(),
            _ => self.parse_mode.as_deref(),
        }
    }

    /// The first picture of a media group.
    pub fn first_media(&self) -> Option<&InputMediaPhoto> {
        self.media.as_ref()?.first()
    }

    /// How many messages sending this makes (a media group: one per
    /// picture).
    pub fn message_count(&self) -> usize {
        match self.method {
            TelegramMethod::SendMediaGroup => self.media.as_ref().map_or(1, Vec::len).max(1),
            _ => 1,
        }
    }

    /// The length limit of [`Self::body`].
    pub fn limit(&self) -> usize {
        match self.method {
            TelegramMethod::SendMessage => TEXT_LIMIT,
            TelegramMethod::SendPhoto
            | TelegramMethod::SendAudio
            | TelegramMethod::SendMediaGroup => CAPTION_LIMIT,
        }
    }

    /// A one-line description for logs.
    pub fn summary(&self) -> String {
        let plain = crate::format::validate::parse_telegram_html(self.body())
            .map(|p| p.text)
            .unwrap_or_else(|_| self.body().to_string());
        let first = plain.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        let first = crate::format::text::truncate_words(first.trim(), 80);
        match self.method {
            TelegramMethod::SendMediaGroup => {
                format!(
                    "{} ({} photos) {:?}",
                    self.method.as_str(),
                    self.message_count(),
                    first
                )
            }
            _ => format!("{} {:?}", self.method.as_str(), first),
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
    pub fn from_payload(v: &serde_json::Value) -> Option<TelegramMessage> {
        serde_json::from_value(v.clone()).ok()
    }
}
