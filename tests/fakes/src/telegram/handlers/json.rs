//! Users, chats and messages as the Bot API shows them in JSON.

use serde_json::{Value, json};

use super::super::{ChatKind, Shared, State, TgChat, TgMessage};

pub(super) fn bot_user(bot_id: i64) -> Value {
    json!({
        "id": bot_id,
        "is_bot": true,
        "first_name": "Crier Test Bot",
        "username": super::super::FakeTelegram::BOT_USERNAME,
    })
}

pub(super) fn get_me(sh: &Shared) -> Value {
    let mut v = bot_user(sh.bot_id);
    if let Value::Object(m) = &mut v {
        m.insert("can_join_groups".into(), json!(true));
        m.insert("can_read_all_group_messages".into(), json!(false));
        m.insert("supports_inline_queries".into(), json!(false));
        m.insert("can_connect_to_business".into(), json!(false));
        m.insert("has_main_web_app".into(), json!(false));
    }
    v
}

pub(super) fn photo_file_id(m: &TgMessage) -> String {
    format!(
        "AgACAgIAAx0C{}_{}FAKEPHOTO",
        m.chat_id.unsigned_abs(),
        m.message_id
    )
}

pub(crate) fn message_json(st: &State, bot_id: i64, m: &TgMessage) -> Value {
    message_json_depth(st, bot_id, m, true)
}

fn message_json_depth(st: &State, bot_id: i64, m: &TgMessage, with_reply: bool) -> Value {
    let chat = st.chats.get(&m.chat_id);
    let chat_json = chat
        .map(TgChat::to_json)
        .unwrap_or_else(|| json!({"id": m.chat_id, "type": "private", "first_name": "Unknown"}));
    let mut o = serde_json::Map::new();
    o.insert("message_id".into(), json!(m.message_id));
    if m.from_bot {
        if chat.map(|c| c.kind) == Some(ChatKind::Channel) {
            o.insert("sender_chat".into(), chat_json.clone());
        } else {
            o.insert("from".into(), bot_user(bot_id));
        }
    } else if let Some(u) = &m.from {
        o.insert("from".into(), u.to_json());
    }
    o.insert("chat".into(), chat_json);
    o.insert("date".into(), json!(m.date));
    if let Some(t) = m.thread_id {
        o.insert("message_thread_id".into(), json!(t));
        o.insert("is_topic_message".into(), json!(true));
    }
    if with_reply
        && let Some(r) = m.reply_to
        && let Some(orig) = st
            .messages
            .get(&m.chat_id)
            .and_then(|v| v.iter().find(|x| x.message_id == r && !x.deleted))
    {
        o.insert(
            "reply_to_message".into(),
            message_json_depth(st, bot_id, orig, false),
        );
    }
    if let Some(d) = m.edit_date {
        o.insert("edit_date".into(), json!(d));
    }
    if m.protect_content {
        o.insert("has_protected_content".into(), json!(true));
    }
    if let Some(g) = &m.media_group_id {
        o.insert("media_group_id".into(), json!(g));
    }
    if m.is_photo() {
        let fid = m
            .photo
            .clone()
            .filter(|p| !p.starts_with("http"))
            .unwrap_or_else(|| photo_file_id(m));
        let uid = format!("AQAD{}", m.message_id);
        o.insert(
            "photo".into(),
            json!([
                {"file_id": format!("{fid}-s"), "file_unique_id": format!("{uid}s"), "width": 90, "height": 60, "file_size": 1_204},
                {"file_id": format!("{fid}-m"), "file_unique_id": format!("{uid}m"), "width": 320, "height": 213, "file_size": 15_876},
                {"file_id": fid, "file_unique_id": format!("{uid}x"), "width": 1280, "height": 853, "file_size": 98_410},
            ]),
        );
        if !m.shown.is_empty() {
            o.insert("caption".into(), json!(m.shown));
            if !m.entities.is_empty() {
                o.insert("caption_entities".into(), json!(m.entities));
            }
        }
    } else if let Some(media) = m
        .audio
        .as_ref()
        .map(|a| ("audio", a.to_json()))
        .or_else(|| m.document.as_ref().map(|d| ("document", d.to_json())))
    {
        o.insert(media.0.into(), media.1);
        if !m.shown.is_empty() {
            o.insert("caption".into(), json!(m.shown));
            if !m.entities.is_empty() {
                o.insert("caption_entities".into(), json!(m.entities));
            }
        }
    } else {
        o.insert("text".into(), json!(m.shown));
        if !m.entities.is_empty() {
            o.insert("entities".into(), json!(m.entities));
        }
        if let Some(l) = &m.link_preview_options {
            o.insert("link_preview_options".into(), l.clone());
        }
    }
    if let Some(rm) = &m.reply_markup
        && rm.get("inline_keyboard").is_some()
    {
        o.insert("reply_markup".into(), rm.clone());
    }
    Value::Object(o)
}
