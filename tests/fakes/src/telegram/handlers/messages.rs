//! Message methods: `sendMessage`, `sendPhoto`, the `editMessage*`
//! family and `deleteMessage`.

use serde_json::json;

use super::super::params::Params;
use super::super::{PhotoFailure, Shared, State, TgChat, TgMessage, next_message_id};
use super::{
    Action, CAPTION_LIMIT, DELETE_WINDOW, Reply, TEXT_LIMIT, TgError, bad, check_access,
    check_thread, flood_check, flood_record, link_preview_options, message_json, parse_mode,
    photo_file_id, reply_markup, reply_to, resolve_chat, shown_text,
};

pub(super) fn new_message(sh: &Shared, st: &mut State, chat: &TgChat, p: &Params) -> TgMessage {
    TgMessage {
        chat_id: chat.id,
        message_id: next_message_id(st, chat.id),
        from_bot: true,
        from: None,
        text: None,
        caption: None,
        shown: String::new(),
        entities: Vec::new(),
        parse_mode: None,
        photo: None,
        photo_upload: None,
        media_group_id: None,
        audio: None,
        document: None,
        reply_markup: None,
        thread_id: None,
        reply_to: None,
        disable_notification: p.bool("disable_notification"),
        protect_content: p.bool("protect_content"),
        link_preview_options: None,
        date: sh.clock.unix(),
        edit_date: None,
        edit_count: 0,
        deleted: false,
    }
}

pub(super) fn send_message(sh: &Shared, st: &mut State, p: &Params) -> Reply {
    let chat = resolve_chat(st, p)?;
    check_access(&chat, Action::SendText)?;
    let thread = check_thread(&chat, p)?;
    let text = p.str("text").unwrap_or_default();
    if text.trim().is_empty() {
        return Err(bad("Bad Request: message text is empty"));
    }
    let mode = parse_mode(p)?;
    let (shown, entities) = shown_text(&text, mode.as_deref(), p, "entities", TEXT_LIMIT)?;
    if shown.trim().is_empty() {
        return Err(bad("Bad Request: message text is empty"));
    }
    let markup = reply_markup(p)?;
    let lpo = link_preview_options(p)?;
    let reply = reply_to(st, &chat, p)?;
    let now = sh.clock.now();
    flood_check(st, &chat, now)?;
    flood_record(st, &chat, now);
    let mut m = new_message(sh, st, &chat, p);
    m.text = Some(text);
    m.shown = shown;
    m.entities = entities;
    m.parse_mode = mode;
    m.reply_markup = markup;
    m.thread_id = thread;
    m.reply_to = reply;
    m.link_preview_options = lpo;
    let j = message_json(st, sh.bot_id, &m);
    st.messages.entry(chat.id).or_default().push(m);
    Ok(j)
}

pub(super) fn send_photo(sh: &Shared, st: &mut State, p: &Params) -> Reply {
    let chat = resolve_chat(st, p)?;
    check_access(&chat, Action::SendPhoto)?;
    let thread = check_thread(&chat, p)?;
    let upload = p.files.get("photo").cloned();
    let photo = if upload.is_some() {
        None
    } else {
        let Some(photo) = p.str("photo").filter(|s| !s.trim().is_empty()) else {
            return Err(bad("Bad Request: there is no photo in the request"));
        };
        if let Some(how) = st.bad_urls.get(&photo) {
            return Err(bad(how.description()));
        }
        let lower = photo.to_ascii_lowercase();
        let is_url = lower.starts_with("http://") || lower.starts_with("https://");
        if !is_url && !st.known_file_ids.contains(&photo) {
            return Err(bad(PhotoFailure::WrongIdentifier.description()));
        }
        Some(photo)
    };
    let mut m = captioned_message(sh, st, &chat, p, thread)?;
    m.photo = photo;
    m.photo_upload = upload;
    st.known_file_ids.insert(photo_file_id(&m));
    let j = message_json(st, sh.bot_id, &m);
    st.messages.entry(chat.id).or_default().push(m);
    Ok(j)
}

/// A media message with a caption (photo, audio, document): the caption parsed
/// and limited like Telegram's, the keyboard, the reply, the flood limits;
/// the new message, not yet stored.
pub(super) fn captioned_message(
    sh: &Shared,
    st: &mut State,
    chat: &TgChat,
    p: &Params,
    thread: Option<i64>,
) -> Result<TgMessage, TgError> {
    let caption = p.str("caption").unwrap_or_default();
    let mode = parse_mode(p)?;
    let (shown, entities) = if caption.is_empty() {
        (String::new(), Vec::new())
    } else {
        shown_text(
            &caption,
            mode.as_deref(),
            p,
            "caption_entities",
            CAPTION_LIMIT,
        )?
    };
    let markup = reply_markup(p)?;
    let reply = reply_to(st, chat, p)?;
    let now = sh.clock.now();
    flood_check(st, chat, now)?;
    flood_record(st, chat, now);
    let mut m = new_message(sh, st, chat, p);
    m.caption = (!caption.is_empty()).then_some(caption);
    m.shown = shown;
    m.entities = entities;
    m.parse_mode = mode;
    m.reply_markup = markup;
    m.thread_id = thread;
    m.reply_to = reply;
    Ok(m)
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum EditKind {
    Text,
    Caption,
    Markup,
}

pub(super) fn find_message(st: &mut State, chat_id: i64, id: i64) -> Option<&mut TgMessage> {
    st.messages
        .get_mut(&chat_id)?
        .iter_mut()
        .find(|m| m.message_id == id && !m.deleted)
}

pub(super) fn edit_message(sh: &Shared, st: &mut State, p: &Params, kind: EditKind) -> Reply {
    if p.has("inline_message_id") {
        // Messages sent via inline mode are not modelled.
        return Err(bad("Bad Request: MESSAGE_ID_INVALID"));
    }
    let chat = resolve_chat(st, p)?;
    check_access(&chat, Action::Modify)?;
    let Ok(Some(id)) = p.int("message_id") else {
        return Err(bad("Bad Request: message identifier is not specified"));
    };
    let current = match find_message(st, chat.id, id) {
        Some(m) => m.clone(),
        None => return Err(bad("Bad Request: message to edit not found")),
    };
    if !current.from_bot {
        return Err(bad("Bad Request: message can't be edited"));
    }
    let mode = parse_mode(p)?;
    let markup = reply_markup(p)?;
    let mut next = current.clone();
    next.reply_markup = markup;
    match kind {
        EditKind::Text => {
            if current.has_media() {
                return Err(bad("Bad Request: there is no text in the message to edit"));
            }
            let text = p.str("text").unwrap_or_default();
            if text.trim().is_empty() {
                return Err(bad("Bad Request: message text is empty"));
            }
            let (shown, entities) = shown_text(&text, mode.as_deref(), p, "entities", TEXT_LIMIT)?;
            if shown.trim().is_empty() {
                return Err(bad("Bad Request: message text is empty"));
            }
            next.text = Some(text);
            next.shown = shown;
            next.entities = entities;
            next.parse_mode = mode;
            if let Some(l) = link_preview_options(p)? {
                next.link_preview_options = Some(l);
            }
        }
        EditKind::Caption => {
            if !current.has_media() {
                return Err(bad(
                    "Bad Request: there is no caption in the message to edit",
                ));
            }
            let caption = p.str("caption").unwrap_or_default();
            let (shown, entities) = if caption.is_empty() {
                (String::new(), Vec::new())
            } else {
                shown_text(
                    &caption,
                    mode.as_deref(),
                    p,
                    "caption_entities",
                    CAPTION_LIMIT,
                )?
            };
            next.caption = (!caption.is_empty()).then_some(caption);
            next.shown = shown;
            next.entities = entities;
            next.parse_mode = mode;
        }
        EditKind::Markup => {}
    }
    if next.shown == current.shown
        && next.entities == current.entities
        && next.reply_markup == current.reply_markup
    {
        return Err(bad(
            "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
        ));
    }
    let now = sh.clock.now();
    flood_check(st, &chat, now)?;
    flood_record(st, &chat, now);
    next.edit_count += 1;
    next.edit_date = Some(sh.clock.unix());
    let j = message_json(st, sh.bot_id, &next);
    if let Some(m) = find_message(st, chat.id, id) {
        *m = next;
    }
    Ok(j)
}

pub(super) fn delete_message(sh: &Shared, st: &mut State, p: &Params) -> Reply {
    let chat = resolve_chat(st, p)?;
    check_access(&chat, Action::Modify)?;
    let Ok(Some(id)) = p.int("message_id") else {
        return Err(bad("Bad Request: message identifier is not specified"));
    };
    let now = sh.clock.unix();
    let Some(m) = find_message(st, chat.id, id) else {
        return Err(bad("Bad Request: message to delete not found"));
    };
    if now - m.date >= DELETE_WINDOW {
        return Err(bad("Bad Request: message can't be deleted for everyone"));
    }
    m.deleted = true;
    Ok(json!(true))
}
