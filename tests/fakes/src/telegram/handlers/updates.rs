//! What a bot with commands uses: `getUpdates` (long polling), the
//! `setMyCommands`/`getMyCommands`/`deleteMyCommands` command lists and
//! `answerCallbackQuery`.

use std::time::Duration;

use serde_json::{Value, json};

use super::super::params::Params;
use super::super::{CallbackRecord, CommandSet, Shared, State};
use super::{Reply, TgError, bad, err};

pub(super) async fn get_updates(sh: &Shared, p: &Params) -> Reply {
    let offset = p.int("offset").ok().flatten().unwrap_or(0);
    let limit = p.int("limit").ok().flatten().unwrap_or(100).clamp(1, 100) as usize;
    let timeout = p.int("timeout").ok().flatten().unwrap_or(0).max(0) as u64;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
    let generation = {
        let mut st = sh.lock();
        st.poll_generation += 1;
        st.poll_generation
    };
    // A newer getUpdates terminates an older one (409).
    sh.updates_changed.notify_waiters();
    loop {
        let notified = sh.updates_changed.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        {
            let mut st = sh.lock();
            if st.poll_generation != generation {
                return Err(err(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                ));
            }
            // `offset` confirms every update before it; a negative one
            // keeps only the last -offset updates.
            if offset > 0 {
                while st.updates.front().is_some_and(|u| {
                    u.get("update_id").and_then(Value::as_i64).unwrap_or(0) < offset
                }) {
                    st.updates.pop_front();
                }
            } else if offset < 0 {
                let keep = offset.unsigned_abs() as usize;
                while st.updates.len() > keep {
                    st.updates.pop_front();
                }
            }
            let batch: Vec<Value> = st.updates.iter().take(limit).cloned().collect();
            if !batch.is_empty() || tokio::time::Instant::now() >= deadline {
                return Ok(Value::Array(batch));
            }
        }
        tokio::select! {
            _ = &mut notified => {}
            _ = tokio::time::sleep_until(deadline) => {}
        }
    }
}

fn command_scope(p: &Params) -> Result<(Value, String), TgError> {
    let scope = match p.json("scope") {
        Ok(Some(v @ Value::Object(_))) => v,
        Ok(None) => json!({"type": "default"}),
        _ => return Err(bad("Bad Request: can't parse BotCommandScope JSON object")),
    };
    Ok((scope, p.str("language_code").unwrap_or_default()))
}

pub(super) fn set_my_commands(st: &mut State, p: &Params) -> Reply {
    let commands = match p.json("commands") {
        Ok(Some(Value::Array(a))) => a,
        Ok(None) => return Err(bad("Bad Request: parameter \"commands\" is required")),
        _ => return Err(bad("Bad Request: can't parse commands JSON object")),
    };
    if commands.len() > 100 {
        return Err(bad("Bad Request: BOT_COMMANDS_TOO_MUCH"));
    }
    let mut clean = Vec::new();
    for c in &commands {
        let cmd = c.get("command").and_then(Value::as_str).unwrap_or("");
        let cmd = cmd.strip_prefix('/').unwrap_or(cmd);
        let ok = (1..=32).contains(&cmd.len())
            && cmd
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !ok {
            return Err(bad("Bad Request: BOT_COMMAND_INVALID"));
        }
        let desc = c.get("description").and_then(Value::as_str).unwrap_or("");
        if desc.trim().is_empty() {
            return Err(bad("Bad Request: command description must be non-empty"));
        }
        if desc.encode_utf16().count() > 256 {
            return Err(bad(
                "Bad Request: command description length must not exceed 256",
            ));
        }
        clean.push(json!({"command": cmd, "description": desc}));
    }
    let (scope, lang) = command_scope(p)?;
    st.commands
        .retain(|s| !(s.scope == scope && s.language_code == lang));
    if !clean.is_empty() {
        st.commands.push(CommandSet {
            scope,
            language_code: lang,
            commands: clean,
        });
    }
    Ok(json!(true))
}

pub(super) fn get_my_commands(st: &State, p: &Params) -> Reply {
    let (scope, lang) = command_scope(p)?;
    Ok(st
        .commands
        .iter()
        .find(|s| s.scope == scope && s.language_code == lang)
        .map(|s| Value::Array(s.commands.clone()))
        .unwrap_or_else(|| json!([])))
}

pub(super) fn delete_my_commands(st: &mut State, p: &Params) -> Reply {
    let (scope, lang) = command_scope(p)?;
    st.commands
        .retain(|s| !(s.scope == scope && s.language_code == lang));
    Ok(json!(true))
}

pub(super) fn answer_callback_query(st: &mut State, p: &Params) -> Reply {
    let invalid =
        || bad("Bad Request: query is too old and response timeout expired or query ID is invalid");
    let id = p.str("callback_query_id").ok_or_else(invalid)?;
    let rec: &mut CallbackRecord = st.callbacks.get_mut(&id).ok_or_else(invalid)?;
    if rec.answer.is_some() {
        return Err(invalid());
    }
    rec.answer = Some(p.to_value());
    Ok(json!(true))
}
