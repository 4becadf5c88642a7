//! Direct messages: `POST /users/@me/channels`.

use serde_json::{Map, Value, json};

use super::super::{Shared, State};
use super::shapes::user_json;
use super::{Reply, field_error, form_error, id};

pub(super) fn create_dm(sh: &Shared, st: &mut State, body: &Value) -> Reply {
    let Some(user) = body.get("recipient_id").and_then(|v| match v {
        Value::String(s) => id(s),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }) else {
        let mut e = Map::new();
        e.insert(
            "recipient_id".into(),
            field_error("BASE_TYPE_REQUIRED", "This field is required"),
        );
        return Err(form_error(e));
    };
    let c = super::super::gateway::dm_channel(sh, st, user);
    Ok((
        200,
        Some(json!({
            "id": c.to_string(),
            "type": 1,
            "last_message_id": null,
            "flags": 0,
            "recipients": [user_json(user)],
        })),
    ))
}
