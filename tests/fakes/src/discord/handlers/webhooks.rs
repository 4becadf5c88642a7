//! Webhooks: execute a webhook, edit and read its messages.

use serde_json::Value;

use super::super::{
    Access, Author, ChannelKind, DcChannel, DcMessage, EPHEMERAL, INTERACTION_TOKEN_LIFE, Shared,
    State,
};
use super::handler::query_get;
use super::interactions::validate_buttons;
use super::lookup::{find, find_mut, interaction_by_token, webhook};
use super::shapes::message_json;
use super::validation::{apply_edit, ids, new_message, push, validate_message};
use super::{DcError, MsgRef, Reply, derr, id, unknown_channel, unknown_message, unknown_webhook};
use crate::clock::since;

pub(super) fn execute_webhook(
    sh: &Shared,
    st: &mut State,
    id: u64,
    token: &str,
    q: &[(String, String)],
    body: &Value,
    attachments: Vec<Value>,
) -> Reply {
    let hook = webhook(st, id, token)?;
    let channel = st
        .channels
        .get(&hook.channel_id)
        .cloned()
        .ok_or_else(unknown_channel)?;
    let wait = query_get(q, "wait").is_some_and(|w| w.eq_ignore_ascii_case("true") || w == "1");
    let thread_id = match query_get(q, "thread_id") {
        Some(t) => Some(id_or_unknown_channel(t)?),
        None => None,
    };
    let thread_name = body
        .get("thread_name")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .map(str::to_string);
    validate_message(body, false, false, !attachments.is_empty())?;
    let body = &without_components_unless_asked(body, q);
    let target = match (channel.kind, thread_id, &thread_name) {
        (ChannelKind::Forum, Some(_), Some(_)) => {
            return Err(derr(
                400,
                220002,
                "Webhooks posted to forum channels cannot have both a thread_name and thread_id",
            ));
        }
        (ChannelKind::Forum, None, None) => {
            return Err(derr(
                400,
                220001,
                "Webhooks posted to forum channels must have a thread_name or thread_id",
            ));
        }
        (kind, None, Some(_)) if kind != ChannelKind::Forum => {
            return Err(derr(
                400,
                220003,
                "Webhooks can only create threads in forum channels",
            ));
        }
        (_, Some(t), _) => {
            let ok = st.channels.get(&t).is_some_and(|c| {
                c.kind
                    == ChannelKind::Thread {
                        parent: hook.channel_id,
                    }
            });
            if !ok {
                return Err(unknown_channel());
            }
            t
        }
        (_, None, Some(name)) => {
            // A new forum post: the thread's id is its first message's id.
            let tags = ids(body.get("applied_tags"));
            if channel.require_tag && tags.is_empty() {
                return Err(derr(
                    400,
                    40067,
                    "A tag is required to create a forum post in this channel",
                ));
            }
            let tid = sh.snowflake(st);
            st.channels.insert(
                tid,
                DcChannel {
                    id: tid,
                    guild_id: channel.guild_id,
                    kind: ChannelKind::Thread { parent: channel.id },
                    name: name.clone(),
                    access: Access::Ok,
                    available_tags: Vec::new(),
                    require_tag: false,
                    applied_tags: tags,
                },
            );
            tid
        }
        (_, None, None) => hook.channel_id,
    };
    let author = Author::Webhook {
        webhook_id: hook.id,
        username: body
            .get("username")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .unwrap_or(&hook.name)
            .to_string(),
        avatar_url: body
            .get("avatar_url")
            .and_then(Value::as_str)
            .map(str::to_string),
    };
    let mut m = new_message(sh, st, target, author, body, attachments);
    if thread_name.is_some() {
        // The forum post's id and its starter message's id are the same.
        m.id = target;
    }
    let j = push(st, m);
    if wait {
        Ok((200, Some(j)))
    } else {
        Ok((204, None))
    }
}

/// Webhooks not owned by an application (all of the fake's) ignore
/// `components` unless the request says `?with_components=true`.
fn without_components_unless_asked(body: &Value, q: &[(String, String)]) -> Value {
    let asked = query_get(q, "with_components").is_some_and(|w| w.eq_ignore_ascii_case("true"));
    let mut body = body.clone();
    if !asked && let Value::Object(o) = &mut body {
        o.remove("components");
    }
    body
}

fn id_or_unknown_channel(s: &str) -> Result<u64, DcError> {
    id(s).ok_or_else(unknown_channel)
}

/// A message of a webhook (or of an interaction, by its token).
pub(super) fn webhook_message(
    st: &State,
    id: u64,
    token: &str,
    m: MsgRef,
    q: &[(String, String)],
) -> Result<DcMessage, DcError> {
    if let Some(iid) = interaction_by_token(st, id, token) {
        let i = st.interactions.get(&iid).ok_or_else(unknown_webhook)?;
        let mid = match m {
            MsgRef::Original => i.original.ok_or_else(unknown_message)?,
            MsgRef::Id(x) if i.original == Some(x) || i.followups.contains(&x) => x,
            MsgRef::Id(_) => return Err(unknown_message()),
        };
        return find(st, i.channel_id, mid)
            .cloned()
            .ok_or_else(unknown_message);
    }
    let hook = webhook(st, id, token)?;
    let MsgRef::Id(mid) = m else {
        return Err(unknown_message());
    };
    let channel = match query_get(q, "thread_id") {
        Some(t) => id_or_unknown_channel(t)?,
        None => hook.channel_id,
    };
    let msg = find(st, channel, mid)
        .cloned()
        .ok_or_else(unknown_message)?;
    match &msg.author {
        Author::Webhook { webhook_id, .. } if *webhook_id == hook.id => Ok(msg),
        _ => Err(unknown_message()),
    }
}

pub(super) fn edit_webhook_message(
    sh: &Shared,
    st: &mut State,
    id: u64,
    token: &str,
    m: MsgRef,
    q: &[(String, String)],
    body: &Value,
) -> Reply {
    // A deferred interaction's original response is created by this edit.
    if m == MsgRef::Original
        && let Some(iid) = interaction_by_token(st, id, token)
        && let Some(i) = st.interactions.get(&iid).cloned()
        && i.original.is_none()
    {
        if i.callbacks.is_empty() {
            return Err(unknown_message());
        }
        if since(sh.clock.now(), i.created) > INTERACTION_TOKEN_LIFE {
            return Err(derr(401, 50027, "Invalid Webhook Token"));
        }
        validate_message(body, false, false, false)?;
        validate_buttons(body)?;
        // A deferred response's flags (ephemeral) carry over.
        let deferred_flags = i
            .callbacks
            .first()
            .and_then(|c| c.pointer("/data/flags"))
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let mut msg = new_message(
            sh,
            st,
            i.channel_id,
            Author::Interaction {
                interaction_id: iid,
            },
            body,
            Vec::new(),
        );
        msg.flags |= deferred_flags & EPHEMERAL;
        let mid = msg.id;
        let j = push(st, msg);
        if let Some(i) = st.interactions.get_mut(&iid) {
            i.original = Some(mid);
        }
        return Ok((200, Some(j)));
    }
    if let Some(iid) = interaction_by_token(st, id, token)
        && let Some(i) = st.interactions.get(&iid)
        && since(sh.clock.now(), i.created) > INTERACTION_TOKEN_LIFE
    {
        return Err(derr(401, 50027, "Invalid Webhook Token"));
    }
    let msg = webhook_message(st, id, token, m, q)?;
    validate_message(body, false, true, false)?;
    validate_buttons(body)?;
    let body = &if interaction_by_token(st, id, token).is_some() {
        // Application-owned: components are kept.
        body.clone()
    } else {
        without_components_unless_asked(body, q)
    };
    let Some(x) = find_mut(st, msg.channel_id, msg.id) else {
        return Err(unknown_message());
    };
    apply_edit(sh, x, body);
    let x = x.clone();
    Ok((200, Some(message_json(st, &x))))
}
