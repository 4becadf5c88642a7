//! `crier check --online` for a Discord target. A bot channel: the token
//! (`GET /users/@me`), the channel (`GET /channels/{id}`: 10003 unknown,
//! 50001 hidden) and the bot's permissions there, computed as Discord does
//! (the guild's `@everyone` and the bot's roles, then the channel's
//! overwrites). A webhook: `GET /webhooks/{id}/{token}` (10015, 401).

use serde_json::Value;

use super::rest::{RestClient, RestError, Webhook};
use crate::check::{Problem, hint};

const ADMINISTRATOR: u64 = 1 << 3;
const VIEW_CHANNEL: u64 = 1 << 10;
const SEND_MESSAGES: u64 = 1 << 11;
const EMBED_LINKS: u64 = 1 << 14;
const ATTACH_FILES: u64 = 1 << 15;
const SEND_MESSAGES_IN_THREADS: u64 = 1 << 38;

fn code(e: &RestError) -> (u16, u64) {
    match e {
        RestError::Status { status, code, .. } => (*status, code.unwrap_or(0)),
        _ => (0, 0),
    }
}

fn problem(what: String, e: &RestError) -> Problem {
    let text = e.to_string();
    let fix = hint(&text, "")
        .map(|h| h.split("; then").next().unwrap_or(&h).to_string())
        .unwrap_or_else(|| "see Discord's answer".to_string());
    Problem::new(format!("{what}: {text}"), fix)
}

fn id_of(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn bits(v: &Value, key: &str) -> u64 {
    match v.get(key) {
        Some(Value::String(s)) => s.parse().unwrap_or(0),
        Some(Value::Number(n)) => n.as_u64().unwrap_or(0),
        _ => 0,
    }
}

/// The bot's permissions in a channel from the guild's roles, the bot's
/// roles and the channel's overwrites (Discord's documented order).
pub fn permissions(
    guild_id: &str,
    user_id: &str,
    member_roles: &[String],
    roles: &[Value],
    overwrites: &[Value],
) -> u64 {
    let role_perms = |id: &str| {
        roles
            .iter()
            .find(|r| id_of(r, "id").as_deref() == Some(id))
            .map(|r| bits(r, "permissions"))
            .unwrap_or(0)
    };
    let mut p = role_perms(guild_id);
    for r in member_roles {
        p |= role_perms(r);
    }
    if p & ADMINISTRATOR != 0 {
        return u64::MAX;
    }
    let ow = |id: &str| {
        overwrites
            .iter()
            .find(|o| id_of(o, "id").as_deref() == Some(id))
            .map(|o| (bits(o, "allow"), bits(o, "deny")))
    };
    if let Some((allow, deny)) = ow(guild_id) {
        p = (p & !deny) | allow;
    }
    let (mut allow, mut deny) = (0, 0);
    for r in member_roles {
        if let Some((a, d)) = ow(r) {
            allow |= a;
            deny |= d;
        }
    }
    p = (p & !deny) | allow;
    if let Some((allow, deny)) = ow(user_id) {
        p = (p & !deny) | allow;
    }
    p
}

pub(super) async fn check_channel(rest: &RestClient, channel: &str) -> Vec<Problem> {
    let me = match rest.get_json("GET /users/@me", "", "/users/@me").await {
        Ok(v) => v,
        Err(e) if code(&e).0 == 401 => {
            return vec![Problem::new(
                "Discord rejects the bot token (401 Unauthorized)",
                "copy the token from the Developer Portal (your application → Bot → Reset Token) into DISCORD_TOKEN",
            )];
        }
        Err(e) => return vec![problem("cannot reach Discord".into(), &e)],
    };
    let user_id = id_of(&me, "id").unwrap_or_default();
    let path = format!("/channels/{channel}");
    let ch = match rest.get_json("GET /channels/{}", channel, &path).await {
        Ok(v) => v,
        Err(e) => {
            let fix = match code(&e).1 {
                10003 => "the channel does not exist: set `channel` to the id from the channel's context menu (Copy Channel ID, developer mode on)".to_string(),
                50001 => "the bot cannot see the channel: invite it to the server and give its role View Channel there".to_string(),
                _ => return vec![problem(format!("channel {channel}"), &e)],
            };
            return vec![Problem::new(format!("channel {channel}: {e}"), fix)];
        }
    };
    let Some(guild) = id_of(&ch, "guild_id") else {
        return Vec::new();
    };
    // A thread takes its parent's overwrites.
    let thread = matches!(ch.get("type").and_then(Value::as_u64), Some(10..=12));
    let overwrites_of = if thread {
        match id_of(&ch, "parent_id") {
            Some(parent) => {
                let path = format!("/channels/{parent}");
                match rest.get_json("GET /channels/{}", &parent, &path).await {
                    Ok(v) => v,
                    Err(e) => return vec![problem(format!("channel {parent}"), &e)],
                }
            }
            None => ch.clone(),
        }
    } else {
        ch.clone()
    };
    let member_path = format!("/guilds/{guild}/members/{user_id}");
    let member = match rest
        .get_json("GET /guilds/{}/members/{}", &guild, &member_path)
        .await
    {
        Ok(v) => v,
        Err(e) => return vec![problem("the bot's membership".into(), &e)],
    };
    let roles_path = format!("/guilds/{guild}/roles");
    let roles = match rest
        .get_json("GET /guilds/{}/roles", &guild, &roles_path)
        .await
    {
        Ok(Value::Array(a)) => a,
        Ok(_) => Vec::new(),
        Err(e) => return vec![problem("the server's roles".into(), &e)],
    };
    let member_roles: Vec<String> = member
        .get("roles")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|r| r.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let overwrites = overwrites_of
        .get("permission_overwrites")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let p = permissions(&guild, &user_id, &member_roles, &roles, &overwrites);
    let send = if thread {
        SEND_MESSAGES_IN_THREADS
    } else {
        SEND_MESSAGES
    };
    let missing: Vec<&str> = [
        (VIEW_CHANNEL, "View Channel"),
        (
            send,
            if thread {
                "Send Messages in Threads"
            } else {
                "Send Messages"
            },
        ),
        (EMBED_LINKS, "Embed Links"),
        (ATTACH_FILES, "Attach Files"),
    ]
    .iter()
    .filter(|(bit, _)| p & bit == 0)
    .map(|(_, name)| *name)
    .collect();
    if missing.is_empty() {
        return Vec::new();
    }
    vec![Problem::new(
        format!("the bot lacks {} in channel {channel}", missing.join(", ")),
        "give the bot's role these permissions in the channel's settings (Permissions → the bot's role)",
    )]
}

pub(super) async fn check_webhook(rest: &RestClient, hook: &Webhook) -> Vec<Problem> {
    match rest.get_webhook(hook).await {
        Ok(_) => Vec::new(),
        Err(e) => {
            let fix = match code(&e) {
                (_, 10015) => {
                    "the webhook was deleted: create one in the channel's settings (Integrations → Webhooks) and set `webhook_url`"
                }
                (401, _) => {
                    "the webhook URL's token is wrong: copy the URL again from the channel's settings (Integrations → Webhooks)"
                }
                _ => return vec![problem(format!("webhook {}", hook.id), &e)],
            };
            vec![Problem::new(format!("webhook {}: {e}", hook.id), fix)]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn overwrites_deny_then_allow_as_discord_computes() {
        let roles = vec![
            json!({"id": "1", "permissions": (VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS).to_string()}),
            json!({"id": "2", "permissions": "0"}),
        ];
        let member = vec!["2".to_string()];
        let deny =
            vec![json!({"id": "1", "type": 0, "allow": "0", "deny": SEND_MESSAGES.to_string()})];
        let p = permissions("1", "9", &member, &roles, &deny);
        assert_eq!(p & SEND_MESSAGES, 0);
        assert_ne!(p & VIEW_CHANNEL, 0);
        let allow_role = vec![
            deny[0].clone(),
            json!({"id": "2", "type": 0, "allow": SEND_MESSAGES.to_string(), "deny": "0"}),
        ];
        assert_ne!(
            permissions("1", "9", &member, &roles, &allow_role) & SEND_MESSAGES,
            0
        );
        let admin = vec![json!({"id": "1", "permissions": ADMINISTRATOR.to_string()})];
        assert_eq!(permissions("1", "9", &member, &admin, &deny), u64::MAX);
    }
}
