//! Translation between Crier's Telegram payloads and teloxide's types: the
//! chat to send to, markup, keyboard and link preview options, message
//! links and references, and the other kind of message an edit becomes.

use teloxide::types::{
    ChatId, InlineKeyboardButton, InlineKeyboardMarkup, MessageId, ParseMode, Recipient,
};
use url::Url;

use crate::format::telegram::{self as tgfmt, TelegramMessage, TelegramMethod};
use crate::target::{DeliveryError, MessageRef};

pub(super) fn chat_recipient(chat: &str) -> Recipient {
    match chat.trim().parse::<i64>() {
        Ok(id) => Recipient::Id(ChatId(id)),
        Err(_) => Recipient::ChannelUsername(chat.trim().to_string()),
    }
}

/// Groups and channels have the 20 messages/minute limit; private chats
/// (positive ids) do not.
pub(crate) fn group_or_channel(chat: &str) -> bool {
    chat.trim().parse::<i64>().map(|id| id < 0).unwrap_or(true)
}

pub(super) fn keyboard(m: &TelegramMessage) -> Option<InlineKeyboardMarkup> {
    let markup = m.reply_markup.as_ref()?;
    let rows: Vec<Vec<InlineKeyboardButton>> = markup
        .inline_keyboard
        .iter()
        .map(|row| {
            row.iter()
                .filter_map(|b| {
                    Url::parse(&b.url)
                        .ok()
                        .map(|u| InlineKeyboardButton::url(b.text.clone(), u))
                })
                .collect::<Vec<_>>()
        })
        .filter(|r| !r.is_empty())
        .collect();
    (!rows.is_empty()).then(|| InlineKeyboardMarkup::new(rows))
}

pub(super) fn preview_options(m: &TelegramMessage) -> Option<teloxide::types::LinkPreviewOptions> {
    let p = m.link_preview_options.as_ref()?;
    Some(teloxide::types::LinkPreviewOptions {
        is_disabled: p.is_disabled.unwrap_or(false),
        url: p.url.clone(),
        prefer_small_media: p.prefer_small_media.unwrap_or(false),
        prefer_large_media: p.prefer_large_media.unwrap_or(false),
        show_above_text: p.show_above_text.unwrap_or(false),
    })
}

pub(super) fn html(m: &TelegramMessage) -> Option<ParseMode> {
    m.parse_mode
        .as_deref()
        .filter(|p| p.eq_ignore_ascii_case("html"))
        .map(|_| ParseMode::Html)
}

/// A link to a message, when Telegram has one.
pub(super) fn message_url(chat: &teloxide::types::Chat, id: MessageId) -> Option<String> {
    if let Some(u) = chat.username() {
        return Some(format!("https://t.me/{u}/{}", id.0));
    }
    let s = chat.id.0.to_string();
    s.strip_prefix("-100")
        .map(|internal| format!("https://t.me/c/{internal}/{}", id.0))
}

/// A message reference: `chat:id`, or a media group's `chat:id+id+…`
/// (every message of the album, in order). Old single references read as
/// one message.
pub(super) fn parse_ref(r: &MessageRef) -> Result<(String, Vec<MessageId>), DeliveryError> {
    let malformed = || DeliveryError::Rejected(format!("malformed message reference {:?}", r.id));
    let (chat, ids) = r.id.rsplit_once(':').ok_or_else(malformed)?;
    if chat.trim().is_empty() {
        return Err(malformed());
    }
    let ids = ids
        .split('+')
        .map(|id| match id.trim().parse::<i32>() {
            Ok(n) if n > 0 => Ok(MessageId(n)),
            _ => Err(DeliveryError::Rejected(format!(
                "malformed message id {:?}",
                r.id
            ))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((chat.to_string(), ids))
}

/// A reference with a Telegraph page (`chat:42|https://telegra.ph/Path`):
/// the messages' own reference and the page's URL; any other reference
/// as it is, with no page.
pub(super) fn split_page(r: &MessageRef) -> (MessageRef, Option<String>) {
    match r.id.split_once('|') {
        Some((base, page)) if !page.trim().is_empty() => (
            MessageRef {
                id: base.to_string(),
                url: r.url.clone(),
            },
            Some(page.trim().to_string()),
        ),
        _ => (r.clone(), None),
    }
}

/// `message` with the page at `url` (see [`split_page`]).
pub(super) fn with_page(message: MessageRef, url: &str) -> MessageRef {
    MessageRef {
        id: format!("{}|{url}", message.id),
        url: message.url,
    }
}

/// The reference of messages sent together (see [`parse_ref`]).
pub(super) fn message_ref(chat: i64, ids: &[MessageId]) -> String {
    let ids: Vec<String> = ids.iter().map(|i| i.0.to_string()).collect();
    format!("{chat}:{}", ids.join("+"))
}

/// The text message a caption edit becomes when the old message is text,
/// or the caption a text edit becomes when the old message is a photo or
/// an audio file.
pub(super) fn other_kind(m: &TelegramMessage) -> TelegramMessage {
    match m.method {
        TelegramMethod::SendPhoto | TelegramMethod::SendAudio | TelegramMethod::SendMediaGroup => {
            tgfmt::media_to_text(m)
        }
        TelegramMethod::SendMessage => {
            let as_caption = TelegramMessage {
                method: TelegramMethod::SendPhoto,
                text: None,
                photo: None,
                audio: None,
                caption: m.text.clone(),
                media: None,
                parse_mode: m.parse_mode.clone(),
                link_preview_options: None,
                reply_markup: m.reply_markup.clone(),
                fallback: None,
                telegraph: None,
            };
            if crate::format::validate::telegram_text(
                as_caption.body(),
                as_caption.parse_mode.as_deref(),
                tgfmt::CAPTION_LIMIT,
            )
            .is_ok()
            {
                as_caption
            } else {
                tgfmt::plain_fallback(&as_caption)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_links() {
        let r = MessageRef {
            id: "-1001234:42".into(),
            url: None,
        };
        assert_eq!(
            parse_ref(&r).expect("ref"),
            ("-1001234".to_string(), vec![MessageId(42)])
        );
        // A media group: every message, in order; written and read back.
        let ids = [MessageId(42), MessageId(43), MessageId(44)];
        let r = MessageRef {
            id: message_ref(-1001234, &ids),
            url: None,
        };
        assert_eq!(r.id, "-1001234:42+43+44");
        assert_eq!(
            parse_ref(&r).expect("ref"),
            ("-1001234".into(), ids.to_vec())
        );
        let at = MessageRef {
            id: "@news:7+8".into(),
            url: None,
        };
        assert_eq!(parse_ref(&at).expect("ref").0, "@news");
        for bad in [
            "-1001234",
            "-1001234:",
            ":42",
            "-1:42+",
            "-1:+42",
            "-1:4x",
            "-1:0",
            "-1:-3",
            "-1:99999999999",
        ] {
            let r = MessageRef {
                id: bad.into(),
                url: None,
            };
            assert!(parse_ref(&r).is_err(), "{bad}");
        }
        assert!(group_or_channel("@news"));
        assert!(group_or_channel("-1001"));
        assert!(!group_or_channel("42"));
    }
}
