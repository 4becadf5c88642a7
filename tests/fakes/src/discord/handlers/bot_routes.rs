//! Bot routes: create, edit, delete and crosspost a channel message.

use serde_json::Value;

use super::super::{Author, CROSSPOSTED, ChannelKind, Shared, State};
use super::lookup::{bot_channel, find, find_mut};
use super::shapes::message_json;
use super::validation::{apply_edit, new_message, push, validate_message};
use super::{Reply, derr, unknown_message};
use crate::clock::since;

pub(super) fn create_message(
    sh: &Shared,
    st: &mut State,
    channel_id: u64,
    body: &Value,
    attachments: Vec<Value>,
) -> Reply {
    let ch = bot_channel(st, channel_id)?;
    if ch.kind == ChannelKind::Forum {
        return Err(derr(
            400,
            50008,
            "Cannot send messages in a non-text channel",
        ));
    }
    validate_message(body, true, false, !attachments.is_empty())?;
    let nonce = body
        .get("nonce")
        .filter(|n| n.is_string() || n.is_number())
        .cloned();
    let enforce = body
        .get("enforce_nonce")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let key = nonce.as_ref().map(|n| match n {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    });
    let now = sh.clock.now();
    if enforce && let Some(k) = &key {
        let window = st.nonce_window;
        if let Some((mid, at)) = st.nonces.get(&(channel_id, k.clone())).copied()
            && since(now, at) < window
            && let Some(existing) = st
                .messages
                .get(&channel_id)
                .and_then(|v| v.iter().find(|m| m.id == mid))
                .cloned()
        {
            return Ok((200, Some(message_json(st, &existing))));
        }
    }
    let mut m = new_message(sh, st, channel_id, Author::Bot, body, attachments);
    m.nonce = nonce;
    if enforce && let Some(k) = key {
        st.nonces.insert((channel_id, k), (m.id, now));
    }
    Ok((200, Some(push(st, m))))
}

pub(super) fn edit_bot_message(
    sh: &Shared,
    st: &mut State,
    channel_id: u64,
    id: u64,
    body: &Value,
) -> Reply {
    bot_channel(st, channel_id)?;
    let m = find(st, channel_id, id).ok_or_else(unknown_message)?;
    if m.author != Author::Bot {
        return Err(derr(
            403,
            50005,
            "Cannot edit a message authored by another user",
        ));
    }
    validate_message(body, false, true, false)?;
    let Some(m) = find_mut(st, channel_id, id) else {
        return Err(unknown_message());
    };
    apply_edit(sh, m, body);
    let m = m.clone();
    Ok((200, Some(message_json(st, &m))))
}

pub(super) fn delete_bot_message(st: &mut State, channel_id: u64, id: u64) -> Reply {
    bot_channel(st, channel_id)?;
    let m = find(st, channel_id, id).ok_or_else(unknown_message)?;
    if m.author != Author::Bot {
        // Deleting others' messages needs MANAGE_MESSAGES, which the fake's
        // bot does not have.
        return Err(derr(403, 50013, "Missing Permissions"));
    }
    if let Some(m) = find_mut(st, channel_id, id) {
        m.deleted = true;
    }
    Ok((204, None))
}

pub(super) fn crosspost(st: &mut State, channel_id: u64, id: u64) -> Reply {
    let ch = bot_channel(st, channel_id)?;
    if ch.kind != ChannelKind::Announcement {
        return Err(derr(
            400,
            50024,
            "Cannot execute action on this channel type",
        ));
    }
    let m = find_mut(st, channel_id, id).ok_or_else(unknown_message)?;
    if m.crossposted {
        return Err(derr(
            400,
            40033,
            "This message has already been crossposted.",
        ));
    }
    m.crossposted = true;
    m.flags |= CROSSPOSTED;
    let m = m.clone();
    Ok((200, Some(message_json(st, &m))))
}
