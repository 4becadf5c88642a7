//! JSON shapes: users, webhooks and messages as Discord shows them.

use std::time::SystemTime;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use super::super::{Author, ChannelKind, DcMessage, DcWebhook, FakeDiscord, State};

fn ts(t: SystemTime) -> String {
    DateTime::<Utc>::from(t).to_rfc3339_opts(SecondsFormat::Micros, false)
}

pub(crate) fn bot_user() -> Value {
    json!({
        "id": FakeDiscord::BOT_ID.to_string(),
        "username": FakeDiscord::BOT_USERNAME,
        "discriminator": "0",
        "global_name": null,
        "avatar": null,
        "bot": true,
        "verified": true,
        "mfa_enabled": false,
        "flags": 0,
        "public_flags": 0,
    })
}

pub(super) fn user_json(id: u64) -> Value {
    json!({
        "id": id.to_string(),
        "username": format!("user{}", id % 100_000),
        "discriminator": "0",
        "global_name": null,
        "avatar": null,
        "public_flags": 0,
    })
}

pub(super) fn webhook_json(st: &State, h: &DcWebhook) -> Value {
    let guild = st
        .channels
        .get(&h.channel_id)
        .map(|c| c.guild_id)
        .unwrap_or(FakeDiscord::GUILD_ID);
    json!({
        "id": h.id.to_string(),
        "type": 1,
        "guild_id": guild.to_string(),
        "channel_id": h.channel_id.to_string(),
        "name": h.name,
        "avatar": null,
        "token": h.token,
        "application_id": null,
    })
}

pub(crate) fn message_json(st: &State, m: &DcMessage) -> Value {
    let mut o = Map::new();
    o.insert("id".into(), json!(m.id.to_string()));
    o.insert("channel_id".into(), json!(m.channel_id.to_string()));
    o.insert("type".into(), json!(0));
    let author = match &m.author {
        Author::Bot => bot_user(),
        Author::Interaction { .. } => {
            o.insert(
                "application_id".into(),
                json!(FakeDiscord::APPLICATION_ID.to_string()),
            );
            o.insert(
                "webhook_id".into(),
                json!(FakeDiscord::APPLICATION_ID.to_string()),
            );
            bot_user()
        }
        Author::Webhook {
            webhook_id,
            username,
            ..
        } => {
            o.insert("webhook_id".into(), json!(webhook_id.to_string()));
            json!({
                "id": webhook_id.to_string(),
                "username": username,
                "avatar": null,
                "discriminator": "0000",
                "public_flags": 0,
                "flags": 0,
                "bot": true,
                "global_name": null,
            })
        }
    };
    o.insert("author".into(), author);
    o.insert("content".into(), json!(m.content));
    o.insert("timestamp".into(), json!(ts(m.timestamp)));
    o.insert(
        "edited_timestamp".into(),
        m.edited_timestamp.map(ts).map_or(Value::Null, Value::from),
    );
    o.insert("tts".into(), json!(m.tts));
    o.insert("mention_everyone".into(), json!(m.mention_everyone));
    o.insert(
        "mentions".into(),
        Value::Array(m.mention_users.iter().map(|u| user_json(*u)).collect()),
    );
    o.insert(
        "mention_roles".into(),
        Value::Array(
            m.mention_roles
                .iter()
                .map(|r| json!(r.to_string()))
                .collect(),
        ),
    );
    o.insert("attachments".into(), Value::Array(m.attachments.clone()));
    o.insert("embeds".into(), Value::Array(m.embeds.clone()));
    o.insert("pinned".into(), json!(false));
    o.insert("flags".into(), json!(m.flags));
    o.insert("components".into(), Value::Array(m.components.clone()));
    if let Some(n) = &m.nonce {
        o.insert("nonce".into(), n.clone());
    }
    if let Some(c) = st.channels.get(&m.channel_id)
        && let ChannelKind::Thread { .. } = c.kind
    {
        o.insert("position".into(), json!(0));
    }
    Value::Object(o)
}
