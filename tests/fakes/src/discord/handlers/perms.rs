//! What a bot may read about a channel and its own permissions there:
//! `GET /channels/{id}` (with `permission_overwrites`), `GET
//! /guilds/{id}/members/{user}` and `GET /guilds/{id}/roles`, in Discord's
//! shapes and with its errors (10003, 10004, 10007, 50001).
//!
//! The fake's permission model: the guild's `@everyone` role (id = guild
//! id) and the bot's managed role grant what a news bot needs; a channel
//! with [`Access::MissingPermissions`] denies Send Messages, Embed Links
//! and Attach Files to both in its overwrites; [`Access::MissingAccess`]
//! hides the channel (403 50001).

use serde_json::{Value, json};

use super::super::{Access, ChannelKind, FakeDiscord, State};
use super::{DcError, Reply, bot_user, derr, unknown_channel};

pub const VIEW_CHANNEL: u64 = 1 << 10;
pub const SEND_MESSAGES: u64 = 1 << 11;
pub const EMBED_LINKS: u64 = 1 << 14;
pub const ATTACH_FILES: u64 = 1 << 15;
pub const READ_MESSAGE_HISTORY: u64 = 1 << 16;
pub const SEND_MESSAGES_IN_THREADS: u64 = 1 << 38;

/// The bot's managed role in every guild.
pub const BOT_ROLE_ID: u64 = 1_300_000_000_000_000_001;

const GRANTED: u64 = VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | SEND_MESSAGES_IN_THREADS;
const DENIED_WHEN_MISSING: u64 = SEND_MESSAGES | EMBED_LINKS | ATTACH_FILES;

fn known_guild(st: &State, guild: u64) -> bool {
    guild == FakeDiscord::GUILD_ID
        || st.guilds.contains(&guild)
        || st.channels.values().any(|c| c.guild_id == guild)
}

fn unknown_guild() -> DcError {
    derr(404, 10004, "Unknown Guild")
}

pub(super) fn get_channel(st: &State, id: u64) -> Reply {
    let c = st.channels.get(&id).cloned().ok_or_else(unknown_channel)?;
    if c.access == Access::MissingAccess {
        return Err(derr(403, 50001, "Missing Access"));
    }
    let overwrites = if c.access == Access::MissingPermissions {
        [c.guild_id, BOT_ROLE_ID]
            .iter()
            .map(|r| json!({"id": r.to_string(), "type": 0, "allow": "0", "deny": DENIED_WHEN_MISSING.to_string()}))
            .collect()
    } else {
        Vec::new()
    };
    let (kind, parent) = match c.kind {
        ChannelKind::Text => (0, None),
        ChannelKind::Announcement => (5, None),
        ChannelKind::Forum => (15, None),
        ChannelKind::Thread { parent } => (11, Some(parent)),
        ChannelKind::Dm { .. } => (1, None),
    };
    Ok((
        200,
        Some(json!({
            "id": c.id.to_string(),
            "type": kind,
            "guild_id": c.guild_id.to_string(),
            "name": c.name,
            "position": 0,
            "permission_overwrites": overwrites,
            "nsfw": false,
            "topic": null,
            "last_message_id": null,
            "rate_limit_per_user": 0,
            "parent_id": parent.map(|p: u64| p.to_string()),
            "flags": 0,
        })),
    ))
}

pub(super) fn get_member(st: &State, guild: u64, user: u64) -> Reply {
    if !known_guild(st, guild) {
        return Err(unknown_guild());
    }
    if user != FakeDiscord::BOT_ID {
        return Err(derr(404, 10007, "Unknown Member"));
    }
    Ok((
        200,
        Some(json!({
            "user": bot_user(),
            "nick": null,
            "avatar": null,
            "roles": [BOT_ROLE_ID.to_string()],
            "joined_at": "2026-01-01T00:00:00.000000+00:00",
            "premium_since": null,
            "deaf": false,
            "mute": false,
            "flags": 0,
            "pending": false,
            "communication_disabled_until": null,
        })),
    ))
}

fn role(id: u64, name: &str, permissions: u64, managed: bool) -> Value {
    let mut r = json!({
        "id": id.to_string(),
        "name": name,
        "color": 0,
        "hoist": false,
        "icon": null,
        "unicode_emoji": null,
        "position": if managed { 1 } else { 0 },
        "permissions": permissions.to_string(),
        "managed": managed,
        "mentionable": false,
        "flags": 0,
    });
    if managed && let Value::Object(m) = &mut r {
        m.insert(
            "tags".into(),
            json!({"bot_id": FakeDiscord::BOT_ID.to_string()}),
        );
    }
    r
}

pub(super) fn get_roles(st: &State, guild: u64) -> Reply {
    if !known_guild(st, guild) {
        return Err(unknown_guild());
    }
    Ok((
        200,
        Some(json!([
            role(guild, "@everyone", GRANTED, false),
            role(BOT_ROLE_ID, FakeDiscord::BOT_USERNAME, GRANTED, true),
        ])),
    ))
}
