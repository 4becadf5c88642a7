//! `sendMediaGroup`'s `media`: a JSON array of `InputMedia`, read the way
//! the official Bot API server reads it, with its error texts.
//!
//! Sources: tdlib/telegram-bot-api `Client.cpp` (`get_input_message_contents`,
//! `get_input_media`, `get_required_string_arg`): "Parameter \"media\" is
//! required", "Can't parse media JSON object", "Expected an Array of
//! InputMedia", "Can't parse InputMedia: " + "expected an Object" / "media
//! not found" / "type \"animation\" can't be used in sendMediaGroup" /
//! "type \"x\" is unsupported" (the server lower-cases the first letter
//! after "Bad Request: "; seen so in edisonchee/slimbot#53,
//! cmd410/OrigamiBot#2, mullwar/telebot#214, Modersi/TelegramBotAPI#16).
//! More than 10 items: "too much messages to send as an album"
//! (go-telegram-bot-api/telegram-bot-api#245, 2019; newer TDLib may word it
//! "Too many messages to send as an album" — not confirmed). No items:
//! "there is no messages to send" (eternnoir/pyTelegramBotAPI#460, 2018).
//! Documents or audio files mixed with other types: TDLib refuses such an
//! album; its exact text is not confirmed, so ours is marked as Crier's.
//! One item: the Bot API documents 2–10 ("must include 2-10 items") but
//! TDLib may send a lone item as a plain message; the strict check refuses
//! it (marked as Crier's check). A caption is checked like `sendPhoto`'s.

use serde_json::Value;

use super::{TELEGRAM_CAPTION_LIMIT, TelegramViolation, telegram_text};

/// Items of one media group, at most.
pub const TELEGRAM_MEDIA_GROUP_MAX: usize = 10;

fn bad(d: &str) -> TelegramViolation {
    TelegramViolation::new(format!("Bad Request: {d}"))
}

fn item_bad(d: &str) -> TelegramViolation {
    bad(&format!("can't parse InputMedia: {d}"))
}

/// The `media` items of a `sendMediaGroup` call (the parameter as JSON, or
/// as a string holding JSON when the request was a form).
pub fn telegram_media_items(params: &Value) -> Result<Vec<Value>, TelegramViolation> {
    let media = match params.get("media") {
        None | Some(Value::Null) => return Err(bad("parameter \"media\" is required")),
        Some(Value::String(s)) if s.is_empty() => {
            return Err(bad("parameter \"media\" is required"));
        }
        Some(Value::String(s)) => {
            serde_json::from_str::<Value>(s).map_err(|_| bad("can't parse media JSON object"))?
        }
        Some(v) => v.clone(),
    };
    match media {
        Value::Array(items) => Ok(items),
        _ => Err(bad("expected an Array of InputMedia")),
    }
}

/// Check a `sendMediaGroup` call's `media`: 2–10 items, each an object of
/// a type an album takes with a `media` string, photos and videos mixed
/// only with each other, captions valid (Crier's stricter rule: only the
/// first item has one, as Crier's albums show a single caption).
pub fn telegram_media_group(params: &Value) -> Result<(), TelegramViolation> {
    let items = telegram_media_items(params)?;
    let mut kinds: Vec<&str> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Some(o) = item.as_object() else {
            return Err(item_bad("expected an Object"));
        };
        let text_field = |k: &str| match o.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            // Unconfirmed wording (td's JSON object accessors).
            Some(_) => Err(item_bad(&format!("field \"{k}\" must be of type String"))),
        };
        let caption = text_field("caption")?;
        let parse_mode = text_field("parse_mode")?;
        if let Some(c) = caption.filter(|c| !c.is_empty()) {
            telegram_text(c, parse_mode, TELEGRAM_CAPTION_LIMIT).map_err(|v| {
                match v
                    .description
                    .strip_prefix("Bad Request: can't parse entities: ")
                {
                    Some(rest) => item_bad(&format!("Can't parse entities: {rest}")),
                    None => v,
                }
            })?;
            if i > 0 {
                return Err(bad(
                    "a caption on a media group item other than the first (crier strict check)",
                ));
            }
        }
        if text_field("media")?.is_none_or(|m| m.trim().is_empty()) {
            return Err(item_bad("media not found"));
        }
        let kind = text_field("type")?.unwrap_or("");
        match kind {
            "photo" | "video" | "audio" | "document" => kinds.push(kind),
            "animation" => {
                return Err(item_bad(
                    "type \"animation\" can't be used in sendMediaGroup",
                ));
            }
            other => return Err(item_bad(&format!("type \"{other}\" is unsupported"))),
        }
    }
    match items.len() {
        0 => return Err(bad("there is no messages to send")),
        1 => {
            return Err(bad("a media group needs 2-10 items (crier strict check)"));
        }
        n if n > TELEGRAM_MEDIA_GROUP_MAX => {
            return Err(bad("too much messages to send as an album"));
        }
        _ => {}
    }
    let visual = |k: &&str| matches!(*k, "photo" | "video");
    let mixed = kinds.iter().any(visual) && !kinds.iter().all(visual)
        || kinds.contains(&"audio") && kinds.contains(&"document");
    if mixed {
        return Err(bad(
            "documents and audio files can be grouped only with items of their own type (crier strict check)",
        ));
    }
    Ok(())
}
