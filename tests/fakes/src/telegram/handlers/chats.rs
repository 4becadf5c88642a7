//! Chats: resolving a `chat_id` (numeric or `@username`), the bot's
//! right to act in a chat and its topics, per-chat and global flood
//! control, and `getChat`.

use std::time::Duration;

use serde_json::{Value, json};

use super::super::params::Params;
use super::super::{BotStatus, ChatKind, State, TgChat};
use super::{Reply, TgError, bad, ceil_secs, err, too_many};

pub(super) fn resolve_id(st: &State, raw: &str) -> Option<i64> {
    let raw = raw.trim();
    if let Some(name) = raw.strip_prefix('@') {
        return st
            .chats
            .values()
            .find(|c| {
                c.username
                    .as_deref()
                    .is_some_and(|u| u.eq_ignore_ascii_case(name))
            })
            .map(|c| c.id);
    }
    let id = raw.parse::<i64>().ok()?;
    st.chats.contains_key(&id).then_some(id)
}

pub(super) fn resolve_chat(st: &State, p: &Params) -> Result<TgChat, TgError> {
    let Some(raw) = p.str("chat_id").filter(|s| !s.trim().is_empty()) else {
        return Err(bad("Bad Request: chat_id is empty"));
    };
    resolve_id(st, &raw)
        .and_then(|id| st.chats.get(&id).cloned())
        .ok_or_else(|| bad("Bad Request: chat not found"))
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Action {
    SendText,
    SendPhoto,
    SendAudio,
    SendVideo,
    SendDocument,
    Modify,
    Read,
}

pub(super) fn check_access(chat: &TgChat, action: Action) -> Result<(), TgError> {
    if let Some(to) = chat.migrated_to
        && action != Action::Read
    {
        return Err(TgError {
            code: 400,
            description: "Bad Request: group chat was upgraded to a supergroup chat".into(),
            parameters: Some(json!({"migrate_to_chat_id": to})),
        });
    }
    match chat.bot {
        BotStatus::Member => Ok(()),
        BotStatus::Kicked => Err(err(
            403,
            match chat.kind {
                ChatKind::Channel => "Forbidden: bot was kicked from the channel chat",
                ChatKind::Group => "Forbidden: bot was kicked from the group chat",
                ChatKind::Supergroup => "Forbidden: bot was kicked from the supergroup chat",
                ChatKind::Private => "Forbidden: bot was blocked by the user",
            },
        )),
        BotStatus::NotMember if action == Action::Read => Ok(()),
        BotStatus::NotMember => Err(err(
            403,
            match chat.kind {
                ChatKind::Channel => "Forbidden: bot is not a member of the channel chat",
                ChatKind::Group => "Forbidden: bot is not a member of the group chat",
                ChatKind::Supergroup => "Forbidden: bot is not a member of the supergroup chat",
                ChatKind::Private => "Forbidden: bot can't initiate conversation with a user",
            },
        )),
        // Telegram's words for what a restricted member may not send;
        // `TextOnly` may still send text.
        status @ (BotStatus::NoRights | BotStatus::TextOnly) => {
            let what = match action {
                Action::SendText if status == BotStatus::NoRights => "text messages",
                Action::SendPhoto => "photos",
                Action::SendAudio => "music",
                Action::SendVideo => "videos",
                Action::SendDocument => "documents",
                Action::SendText | Action::Modify | Action::Read => return Ok(()),
            };
            Err(bad(&format!(
                "Bad Request: not enough rights to send {what} to the chat"
            )))
        }
    }
}

pub(super) fn check_thread(chat: &TgChat, p: &Params) -> Result<Option<i64>, TgError> {
    let not_found = || bad("Bad Request: message thread not found");
    match p.int("message_thread_id") {
        Err(()) => Err(not_found()),
        Ok(None) | Ok(Some(0)) => Ok(None),
        Ok(Some(t)) if chat.is_forum && chat.topics.contains(&t) => Ok(Some(t)),
        Ok(Some(_)) => Err(not_found()),
    }
}

fn flood_wait(
    st: &mut State,
    chat: &TgChat,
    now: std::time::SystemTime,
    n: usize,
) -> Option<Duration> {
    let limits = st.limits;
    let mut wait: Option<Duration> = None;
    let mut worst = |w: Option<Duration>| {
        if let Some(w) = w {
            wait = Some(wait.map_or(w, |x| x.max(w)));
        }
    };
    if let Some(w) = limits.per_chat {
        worst(
            st.rate
                .per_chat
                .entry(chat.id)
                .or_default()
                .wait_n(w, now, n),
        );
    }
    if let Some(w) = limits.per_group
        && chat.kind.is_multi_user()
    {
        worst(
            st.rate
                .per_group
                .entry(chat.id)
                .or_default()
                .wait_n(w, now, n),
        );
    }
    if let Some(w) = limits.global {
        worst(st.rate.global.wait_n(w, now, n));
    }
    wait
}

pub(super) fn flood_check(
    st: &mut State,
    chat: &TgChat,
    now: std::time::SystemTime,
) -> Result<(), TgError> {
    flood_check_n(st, chat, now, 1)
}

/// `n` messages sent at once (a media group counts one per item).
pub(super) fn flood_check_n(
    st: &mut State,
    chat: &TgChat,
    now: std::time::SystemTime,
    n: usize,
) -> Result<(), TgError> {
    match flood_wait(st, chat, now, n) {
        Some(d) => Err(too_many(ceil_secs(d))),
        None => Ok(()),
    }
}

pub(super) fn flood_record(st: &mut State, chat: &TgChat, now: std::time::SystemTime) {
    flood_record_n(st, chat, now, 1);
}

pub(super) fn flood_record_n(st: &mut State, chat: &TgChat, now: std::time::SystemTime, n: usize) {
    for _ in 0..n.max(1) {
        st.rate.per_chat.entry(chat.id).or_default().record(now);
        if chat.kind.is_multi_user() {
            st.rate.per_group.entry(chat.id).or_default().record(now);
        }
        st.rate.global.record(now);
    }
}

pub(super) fn get_chat(st: &State, p: &Params) -> Reply {
    let chat = resolve_chat(st, p)?;
    check_access(&chat, Action::Read)?;
    let mut v = chat.to_json();
    if let Value::Object(m) = &mut v {
        // ChatFullInfo's always-present fields (Bot API 7.3+, 9.0).
        m.insert("accent_color_id".into(), json!(0));
        m.insert("max_reaction_count".into(), json!(11));
        m.insert(
            "accepted_gift_types".into(),
            json!({
                "unlimited_gifts": false,
                "limited_gifts": false,
                "unique_gifts": false,
                "premium_subscription": false,
            }),
        );
        if chat.kind == ChatKind::Private {
            m.insert("type".into(), json!("private"));
        }
    }
    Ok(v)
}
