//! A message's text and extras as the Bot API reads them: `parse_mode`
//! and the text shown after entity parsing, `reply_markup`,
//! `link_preview_options` and `reply_parameters`.

use crier_bots::format::validate;
use serde_json::Value;

use super::super::params::Params;
use super::super::{State, TgChat, html};
use super::{TgError, bad};

pub(super) fn parse_mode(p: &Params) -> Result<Option<String>, TgError> {
    // Telegram reads the mode case-insensitively; the validator gets the
    // canonical spelling.
    match p.str("parse_mode").filter(|s| !s.trim().is_empty()) {
        None => Ok(None),
        Some(m) => ["HTML", "MarkdownV2", "Markdown"]
            .iter()
            .find(|x| x.eq_ignore_ascii_case(m.trim()))
            .map(|x| Some(x.to_string()))
            .ok_or_else(|| bad("Bad Request: unsupported parse_mode")),
    }
}

/// Validate with the formatter's strict validator, then compute what
/// members read.
pub(super) fn shown_text(
    text: &str,
    mode: Option<&str>,
    p: &Params,
    entities_key: &str,
    limit: usize,
) -> Result<(String, Vec<Value>), TgError> {
    validate::telegram_text(text, mode, limit).map_err(|v| bad(&v.description))?;
    if mode.is_some_and(|m| m.eq_ignore_ascii_case("HTML")) {
        return Ok(html::parse(text).unwrap_or_else(|| (text.to_string(), Vec::new())));
    }
    if mode.is_some() {
        // Markdown is not modelled: shown as sent.
        return Ok((text.to_string(), Vec::new()));
    }
    let entities = match p.json(entities_key) {
        Err(()) => return Err(bad("Bad Request: can't parse entities JSON object")),
        Ok(Some(Value::Array(a))) => a,
        Ok(_) => Vec::new(),
    };
    Ok((text.to_string(), entities))
}

/// `reply_markup`: an inline keyboard of buttons with a text and one
/// action; URL buttons must be http(s) or tg:// links.
pub(super) fn reply_markup(p: &Params) -> Result<Option<Value>, TgError> {
    let cant = || bad("Bad Request: can't parse reply keyboard markup JSON object");
    let Some(v) = p.json("reply_markup").map_err(|_| cant())? else {
        return Ok(None);
    };
    let Value::Object(m) = &v else {
        return Err(cant());
    };
    let Some(kb) = m.get("inline_keyboard") else {
        // Reply keyboards / force reply / remove: accepted as given.
        return Ok(Some(v));
    };
    let rows_err = || {
        bad(
            "Bad Request: field \"inline_keyboard\" of the InlineKeyboardMarkup should be an Array of Arrays",
        )
    };
    let rows = kb.as_array().ok_or_else(rows_err)?;
    for row in rows {
        let buttons = row.as_array().ok_or_else(rows_err)?;
        for b in buttons {
            let Value::Object(b) = b else {
                return Err(bad(
                    "Bad Request: can't parse inline keyboard button: InlineKeyboardButton must be an Object",
                ));
            };
            // Unverified text: Telegram's answer for an empty button text.
            let text = b.get("text").and_then(Value::as_str).unwrap_or("");
            if text.trim().is_empty() {
                return Err(bad("Bad Request: BUTTON_TEXT_INVALID"));
            }
            if let Some(url) = b.get("url") {
                let url = url.as_str().unwrap_or("");
                let lower = url.to_ascii_lowercase();
                let scheme_ok = ["http://", "https://", "tg://"]
                    .iter()
                    .any(|s| lower.starts_with(s) && lower.len() > s.len());
                if !scheme_ok || url.contains(char::is_whitespace) {
                    return Err(bad("Bad Request: BUTTON_URL_INVALID"));
                }
            } else if let Some(data) = b.get("callback_data") {
                let n = data.as_str().map(str::len).unwrap_or(0);
                if n == 0 || n > 64 {
                    return Err(bad("Bad Request: BUTTON_DATA_INVALID"));
                }
            } else if ![
                "web_app",
                "login_url",
                "switch_inline_query",
                "switch_inline_query_current_chat",
                "switch_inline_query_chosen_chat",
                "copy_text",
                "callback_game",
                "pay",
            ]
            .iter()
            .any(|k| b.contains_key(*k))
            {
                return Err(bad(
                    "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
                ));
            }
        }
    }
    Ok(Some(v))
}

pub(super) fn link_preview_options(p: &Params) -> Result<Option<Value>, TgError> {
    match p.json("link_preview_options") {
        Ok(Some(v @ Value::Object(_))) => Ok(Some(v)),
        Ok(None) => Ok(None),
        _ => Err(bad(
            "Bad Request: can't parse link preview options JSON object",
        )),
    }
}

pub(super) fn reply_to(st: &State, chat: &TgChat, p: &Params) -> Result<Option<i64>, TgError> {
    let (id, allow) = match p.json("reply_parameters") {
        Ok(Some(rp)) => (
            rp.get("message_id").and_then(Value::as_i64),
            rp.get("allow_sending_without_reply")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        ),
        Err(()) => return Err(bad("Bad Request: can't parse reply parameters JSON object")),
        Ok(None) => (
            p.int("reply_to_message_id").ok().flatten(),
            p.bool("allow_sending_without_reply"),
        ),
    };
    let Some(id) = id else { return Ok(None) };
    let exists = st
        .messages
        .get(&chat.id)
        .is_some_and(|v| v.iter().any(|m| m.message_id == id && !m.deleted));
    match (exists, allow) {
        (true, _) => Ok(Some(id)),
        (false, true) => Ok(None),
        (false, false) => Err(bad("Bad Request: message to be replied not found")),
    }
}
