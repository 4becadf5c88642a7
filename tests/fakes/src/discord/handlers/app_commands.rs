//! Application commands: the bulk overwrite of slash commands.

use serde_json::{Map, Value, json};

use super::super::{FakeDiscord, Shared, State};
use super::{DcError, Reply, derr, field_error, form_error};

pub(super) fn check_app(st: &State, app: u64, guild: Option<u64>) -> Result<(), DcError> {
    if app != FakeDiscord::APPLICATION_ID {
        return Err(derr(403, 50001, "Missing Access"));
    }
    if let Some(g) = guild
        && !st.guilds.contains(&g)
    {
        return Err(derr(403, 50001, "Missing Access"));
    }
    Ok(())
}

fn valid_command_name(name: &str, chat_input: bool) -> bool {
    let n = name.chars().count();
    (1..=32).contains(&n)
        && name
            .chars()
            .all(|c| c == '-' || c == '_' || c.is_alphanumeric() || (!chat_input && c == ' '))
        && (!chat_input || name.chars().all(|c| !c.is_uppercase()))
}

pub(super) fn put_commands(
    sh: &Shared,
    st: &mut State,
    app: u64,
    guild: Option<u64>,
    body: &Value,
) -> Reply {
    check_app(st, app, guild)?;
    let Some(list) = body.as_array() else {
        let mut e = Map::new();
        e.insert(
            "_errors".into(),
            json!([{"code": "LIST_TYPE_CONVERT", "message": "Only iterables may be used in a ListType"}]),
        );
        return Err(form_error(e));
    };
    let mut errors = Map::new();
    let mut names = Vec::new();
    for (i, c) in list.iter().enumerate() {
        let kind = c.get("type").and_then(Value::as_u64).unwrap_or(1);
        let name = c.get("name").and_then(Value::as_str).unwrap_or("");
        let mut e = Map::new();
        if !valid_command_name(name, kind == 1) {
            e.insert(
                "name".into(),
                field_error(
                    "APPLICATION_COMMAND_INVALID_NAME",
                    "Command name is invalid",
                ),
            );
        }
        if kind == 1 {
            let d = c.get("description").and_then(Value::as_str).unwrap_or("");
            let n = d.chars().count();
            if n == 0 {
                e.insert(
                    "description".into(),
                    field_error("BASE_TYPE_REQUIRED", "This field is required"),
                );
            } else if n > 100 {
                e.insert(
                    "description".into(),
                    field_error(
                        "BASE_TYPE_BAD_LENGTH",
                        "Must be between 1 and 100 in length.",
                    ),
                );
            }
        }
        if !e.is_empty() {
            errors.insert(i.to_string(), Value::Object(e));
        }
        names.push((kind, name.to_string()));
    }
    if list.len() > 100 {
        errors.insert(
            "_errors".into(),
            json!([{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 100 or fewer in length."}]),
        );
    }
    let mut seen = names.clone();
    seen.sort();
    seen.dedup();
    if seen.len() != names.len() {
        errors.insert(
            "_errors".into(),
            json!([{"code": "APPLICATION_COMMANDS_DUPLICATE_NAME", "message": "Application command names must be unique"}]),
        );
    }
    if !errors.is_empty() {
        return Err(form_error(errors));
    }
    let mut out = Vec::new();
    for c in list {
        let mut o = c.as_object().cloned().unwrap_or_default();
        let cid = sh.snowflake(st);
        o.insert("id".into(), json!(cid.to_string()));
        o.insert("application_id".into(), json!(app.to_string()));
        o.insert("version".into(), json!(cid.to_string()));
        o.entry("type").or_insert(json!(1));
        o.entry("description").or_insert(json!(""));
        o.entry("default_member_permissions").or_insert(Value::Null);
        o.entry("nsfw").or_insert(json!(false));
        if let Some(g) = guild {
            o.insert("guild_id".into(), json!(g.to_string()));
        }
        out.push(Value::Object(o));
    }
    st.commands.insert(guild, out.clone());
    Ok((200, Some(Value::Array(out))))
}
