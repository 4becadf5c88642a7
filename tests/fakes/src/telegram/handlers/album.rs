//! Albums: `sendMediaGroup` and `deleteMessages`.
//!
//! Facts followed (core.telegram.org/bots/api "sendMediaGroup",
//! "InputMediaPhoto", "deleteMessages"; tdlib/telegram-bot-api `Client.cpp`):
//! - `media` is read first, with the official server's texts (the
//!   formatter's validator, `validate::telegram_media_group`, which names
//!   its sources), then the chat; 2–10 items of type photo, video, audio
//!   or document; a caption is 0–1024 characters after entity parsing.
//! - The answer is an array of `Message`s, one per item, with consecutive
//!   ids, each with the same `media_group_id`; a caption shows on the
//!   message of the item that had it.
//! - A file Telegram cannot fetch fails the whole call as "Bad Request:
//!   failed to send message #N with the error message \"wrong file
//!   identifier/http url specified\"" (python-telegram-bot#4102; the fetch
//!   failure's inner text is written the same way, not confirmed).
//! - Every item counts against the flood limits (n messages).
//! - `deleteMessages`: `message_ids`, 1–100 ids (`get_message_ids`: "Message
//!   identifiers are not specified", "Can't parse message_ids JSON object",
//!   "Expected an Array of message identifiers", "Too many message
//!   identifiers specified", "Message identifier must be a Number", "Invalid
//!   message identifier specified"); ids it cannot find are skipped; the
//!   answer is `true`. A message too old to delete refuses the call as
//!   `deleteMessage` does (not confirmed for `deleteMessages`).

use serde_json::{Value, json};

use super::super::params::Params;
use super::super::{PhotoFailure, Shared, State, html};
use super::chats::{flood_check_n, flood_record_n};
use super::messages::{find_message, new_message};
use super::{
    Action, DELETE_WINDOW, Reply, bad, check_access, check_thread, message_json, photo_file_id,
    reply_to, resolve_chat,
};
use crier_bots::format::validate;

/// The message of a failed item, as the Bot API words it.
fn item_failed(n: usize, what: &str) -> super::TgError {
    bad(&format!(
        "Bad Request: failed to send message #{n} with the error message \"{what}\""
    ))
}

pub(super) fn send_media_group(sh: &Shared, st: &mut State, p: &Params) -> Reply {
    let params = p.to_value();
    validate::telegram_media_group(&params).map_err(|v| bad(&v.description))?;
    let items = validate::telegram_media_items(&params).map_err(|v| bad(&v.description))?;
    let chat = resolve_chat(st, p)?;
    let action = match items
        .first()
        .and_then(|i| i.get("type"))
        .and_then(Value::as_str)
    {
        Some("audio") => Action::SendAudio,
        Some("document") => Action::SendDocument,
        Some("video") => Action::SendVideo,
        _ => Action::SendPhoto,
    };
    check_access(&chat, action)?;
    let thread = check_thread(&chat, p)?;
    let reply = reply_to(st, &chat, p)?;
    for (i, item) in items.iter().enumerate() {
        let media = item.get("media").and_then(Value::as_str).unwrap_or("");
        if let Some(how) = st.bad_urls.get(media) {
            return Err(item_failed(
                i + 1,
                match how {
                    PhotoFailure::WrongIdentifier => "wrong file identifier/http url specified",
                    PhotoFailure::FetchFailed => "failed to get http url content",
                },
            ));
        }
        let lower = media.to_ascii_lowercase();
        let is_url = lower.starts_with("http://") || lower.starts_with("https://");
        if !is_url && !st.known_file_ids.contains(media) {
            return Err(item_failed(
                i + 1,
                "wrong file identifier/http url specified",
            ));
        }
    }
    let now = sh.clock.now();
    flood_check_n(st, &chat, now, items.len())?;
    flood_record_n(st, &chat, now, items.len());
    let mut sent = Vec::new();
    let mut group_id = None;
    for item in &items {
        let mut m = new_message(sh, st, &chat, p);
        let gid = group_id
            .get_or_insert_with(|| format!("{}{:06}", chat.id.unsigned_abs(), m.message_id))
            .clone();
        m.media_group_id = Some(gid);
        m.thread_id = thread;
        m.reply_to = reply;
        // Every item shows as a photo of its file (Crier sends photos
        // only; videos, audio and documents in albums are not modelled).
        let media = item.get("media").and_then(Value::as_str).unwrap_or("");
        m.photo = Some(media.to_string());
        let caption = item.get("caption").and_then(Value::as_str).unwrap_or("");
        if !caption.is_empty() {
            let mode = item
                .get("parse_mode")
                .and_then(Value::as_str)
                .filter(|s| !s.trim().is_empty());
            let (shown, entities) = if mode.is_some_and(|m| m.eq_ignore_ascii_case("html")) {
                html::parse(caption).unwrap_or_else(|| (caption.to_string(), Vec::new()))
            } else if mode.is_some() {
                (caption.to_string(), Vec::new())
            } else {
                let entities = match item.get("caption_entities") {
                    Some(Value::Array(a)) => a.clone(),
                    _ => Vec::new(),
                };
                (caption.to_string(), entities)
            };
            m.caption = Some(caption.to_string());
            m.shown = shown;
            m.entities = entities;
            m.parse_mode = mode.map(|m| {
                if m.eq_ignore_ascii_case("html") {
                    "HTML".to_string()
                } else {
                    m.to_string()
                }
            });
        }
        st.known_file_ids.insert(photo_file_id(&m));
        sent.push(message_json(st, sh.bot_id, &m));
        st.messages.entry(chat.id).or_default().push(m);
    }
    Ok(Value::Array(sent))
}

/// `message_ids` as `get_message_ids` reads it.
fn message_ids(p: &Params) -> Result<Vec<i64>, super::TgError> {
    let ids = match p.json("message_ids") {
        Err(()) => return Err(bad("Bad Request: can't parse message_ids JSON object")),
        Ok(None) => return Err(bad("Bad Request: message identifiers are not specified")),
        Ok(Some(Value::Array(a))) => a,
        Ok(Some(_)) => return Err(bad("Bad Request: expected an Array of message identifiers")),
    };
    if ids.len() > 100 {
        return Err(bad("Bad Request: too many message identifiers specified"));
    }
    let mut out = Vec::new();
    for id in &ids {
        let text = match id {
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.clone(),
            _ => return Err(bad("Bad Request: message identifier must be a Number")),
        };
        let Ok(n) = text.trim().parse::<i32>() else {
            return Err(bad("Bad Request: can't parse message identifier as Number"));
        };
        if n <= 0 {
            return Err(bad("Bad Request: invalid message identifier specified"));
        }
        out.push(i64::from(n));
    }
    if out.is_empty() {
        return Err(bad("Bad Request: message identifiers are not specified"));
    }
    Ok(out)
}

pub(super) fn delete_messages(sh: &Shared, st: &mut State, p: &Params) -> Reply {
    let ids = message_ids(p)?;
    let chat = resolve_chat(st, p)?;
    check_access(&chat, Action::Modify)?;
    let now = sh.clock.unix();
    let found: Vec<i64> = ids
        .iter()
        .copied()
        .filter(|id| find_message(st, chat.id, *id).is_some())
        .collect();
    let too_old = found
        .iter()
        .any(|id| find_message(st, chat.id, *id).is_some_and(|m| now - m.date >= DELETE_WINDOW));
    if too_old {
        return Err(bad("Bad Request: message can't be deleted for everyone"));
    }
    for id in found {
        if let Some(m) = find_message(st, chat.id, id) {
            m.deleted = true;
        }
    }
    Ok(json!(true))
}
