//! `getChatMember`: where a user (in practice the bot itself) stands in a
//! chat, as the Bot API answers it (`ChatMember*` objects with their
//! rights; errors with Telegram's texts).

use serde_json::{Value, json};

use super::super::params::Params;
use super::super::{BotStatus, ChatKind, State};
use super::{Reply, bad, bot_user, err, resolve_chat};

pub(super) fn get_chat_member(bot_id: i64, st: &State, p: &Params) -> Reply {
    let chat = resolve_chat(st, p)?;
    let user_id = match p.str("user_id").map(|s| s.trim().parse::<i64>()) {
        None => return Err(bad("Bad Request: user_id is empty")),
        Some(Err(_)) => return Err(bad("Bad Request: invalid user_id specified")),
        Some(Ok(id)) => id,
    };
    if user_id != bot_id {
        // Only the bot's own membership is modelled: others are not members.
        return Ok(
            json!({"user": {"id": user_id, "is_bot": false, "first_name": "User"}, "status": "left"}),
        );
    }
    let user = bot_user(bot_id);
    let channel = chat.kind == ChatKind::Channel;
    match chat.bot {
        // A channel's member list is closed to anyone but its administrators.
        BotStatus::Kicked if channel => {
            Err(err(403, "Forbidden: bot was kicked from the channel chat"))
        }
        BotStatus::NotMember if channel => Err(err(
            403,
            "Forbidden: bot is not a member of the channel chat",
        )),
        BotStatus::Kicked => Ok(with_user(
            user,
            json!({"status": "kicked", "until_date": 0}),
        )),
        BotStatus::NotMember => Ok(with_user(user, json!({"status": "left"}))),
        BotStatus::Member if channel => Ok(with_user(user, administrator(true))),
        BotStatus::NoRights if channel => Ok(with_user(user, administrator(false))),
        BotStatus::Member => Ok(with_user(user, json!({"status": "member"}))),
        BotStatus::NoRights => Ok(with_user(user, restricted())),
        BotStatus::TextOnly if channel => Ok(with_user(user, administrator(true))),
        BotStatus::TextOnly => Ok(with_user(user, text_only())),
    }
}

fn with_user(user: Value, mut member: Value) -> Value {
    if let Value::Object(m) = &mut member {
        m.insert("user".into(), user);
    }
    member
}

/// A channel administrator: `can_post_messages` is the right to post.
fn administrator(can_post: bool) -> Value {
    json!({
        "status": "administrator",
        "can_be_edited": false,
        "is_anonymous": false,
        "can_manage_chat": true,
        "can_delete_messages": can_post,
        "can_manage_video_chats": false,
        "can_restrict_members": false,
        "can_promote_members": false,
        "can_change_info": false,
        "can_invite_users": false,
        "can_post_stories": false,
        "can_edit_stories": false,
        "can_delete_stories": false,
        "can_post_messages": can_post,
        "can_edit_messages": can_post,
    })
}

/// A group member who may send text, but no media.
fn text_only() -> Value {
    let mut m = restricted();
    if let Value::Object(o) = &mut m {
        o.insert("can_send_messages".into(), json!(true));
        o.insert("can_add_web_page_previews".into(), json!(true));
    }
    m
}

/// A group member who may not send messages.
fn restricted() -> Value {
    json!({
        "status": "restricted",
        "is_member": true,
        "can_send_messages": false,
        "can_send_audios": false,
        "can_send_documents": false,
        "can_send_photos": false,
        "can_send_videos": false,
        "can_send_video_notes": false,
        "can_send_voice_notes": false,
        "can_send_polls": false,
        "can_send_other_messages": false,
        "can_add_web_page_previews": false,
        "can_change_info": false,
        "can_invite_users": false,
        "can_pin_messages": false,
        "can_manage_topics": false,
        "until_date": 0,
    })
}
