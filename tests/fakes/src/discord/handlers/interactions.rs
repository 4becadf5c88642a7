//! Interactions: callbacks, follow-ups, buttons.

use serde_json::{Map, Value, json};

use super::super::{
    Author, DcInteraction, EPHEMERAL, INTERACTION_TOKEN_LIFE, INTERACTION_WINDOW, Shared, State,
};
use super::handler::query_get;
use super::validation::{apply_edit, array, new_message, push, validate_message};
use super::{DcError, Reply, derr, field_error, form_error, unknown_message, unknown_webhook};
use crate::clock::since;

pub(super) fn interaction_callback(
    sh: &Shared,
    st: &mut State,
    id: u64,
    token: &str,
    q: &[(String, String)],
    body: &Value,
) -> Reply {
    let i: DcInteraction = st
        .interactions
        .get(&id)
        .filter(|i| i.token == token)
        .cloned()
        .ok_or_else(|| derr(404, 10062, "Unknown interaction"))?;
    let age = since(sh.clock.now(), i.created);
    if age > INTERACTION_WINDOW && i.callbacks.is_empty() {
        // Too late: Discord has already told the user the app did not
        // respond, and forgets the interaction.
        if let Some(x) = st.interactions.get_mut(&id) {
            x.late_callbacks += 1;
        }
        return Err(derr(404, 10062, "Unknown interaction"));
    }
    if !i.callbacks.is_empty() {
        return Err(derr(
            400,
            40060,
            "Interaction has already been acknowledged.",
        ));
    }
    let Some(kind) = body.get("type").and_then(Value::as_u64) else {
        let mut e = Map::new();
        e.insert(
            "type".into(),
            field_error("BASE_TYPE_REQUIRED", "This field is required"),
        );
        return Err(form_error(e));
    };
    let mut message = None;
    let data = body.get("data").cloned().unwrap_or_else(|| json!({}));
    match kind {
        4 => {
            validate_message(&data, false, false, false)?;
            validate_buttons(&data)?;
            let mut m = new_message(
                sh,
                st,
                i.channel_id,
                Author::Interaction { interaction_id: id },
                &data,
                Vec::new(),
            );
            m.flags |= data.get("flags").and_then(Value::as_u64).unwrap_or(0) & EPHEMERAL;
            let mid = m.id;
            message = Some(push(st, m));
            if let Some(x) = st.interactions.get_mut(&id) {
                x.original = Some(mid);
            }
        }
        5 => {}
        6 | 7 => {
            // Component interactions only: (7) edit the message the
            // button is on, or (6) acknowledge and edit it later.
            let Some(mid) = i.message_id else {
                return Err(derr(
                    400,
                    40060,
                    "Interaction response type not allowed here",
                ));
            };
            if kind == 7 {
                validate_message(&data, false, true, false)?;
                validate_buttons(&data)?;
                let channel = i.channel_id;
                let target = st
                    .messages
                    .values_mut()
                    .flatten()
                    .find(|m| m.id == mid && !m.deleted)
                    .ok_or_else(unknown_message)?;
                let _ = channel;
                apply_edit(sh, target, &data);
            }
            if let Some(x) = st.interactions.get_mut(&id) {
                x.original = Some(mid);
            }
        }
        _ => {
            let mut e = Map::new();
            e.insert(
                "type".into(),
                field_error(
                    "BASE_TYPE_CHOICES",
                    "Value must be one of {1, 4, 5, 6, 7, 8, 9, 10, 12}.",
                ),
            );
            return Err(form_error(e));
        }
    }
    if let Some(x) = st.interactions.get_mut(&id) {
        x.callbacks.push(body.clone());
        x.answered_after = Some(age);
    }
    if query_get(q, "with_response").is_some_and(|w| w == "true") {
        let mut resource = json!({"type": kind});
        if let (Some(m), Value::Object(r)) = (message, &mut resource) {
            r.insert("message".into(), m);
        }
        return Ok((
            200,
            Some(json!({
                "interaction": {"id": id.to_string(), "type": 2, "response_message_loading": kind == 5},
                "resource": resource,
            })),
        ));
    }
    Ok((204, None))
}

pub(super) fn followup(
    sh: &Shared,
    st: &mut State,
    iid: u64,
    body: &Value,
    attachments: Vec<Value>,
) -> Reply {
    let i = st
        .interactions
        .get(&iid)
        .cloned()
        .ok_or_else(unknown_webhook)?;
    if i.callbacks.is_empty() {
        // Follow-ups only exist once the interaction was acknowledged.
        return Err(unknown_webhook());
    }
    if since(sh.clock.now(), i.created) > INTERACTION_TOKEN_LIFE {
        return Err(derr(401, 50027, "Invalid Webhook Token"));
    }
    validate_message(body, false, false, !attachments.is_empty())?;
    validate_buttons(body)?;
    let mut m = new_message(
        sh,
        st,
        i.channel_id,
        Author::Interaction {
            interaction_id: iid,
        },
        body,
        attachments,
    );
    m.flags |= body.get("flags").and_then(Value::as_u64).unwrap_or(0) & EPHEMERAL;
    let mid = m.id;
    let j = push(st, m);
    if let Some(x) = st.interactions.get_mut(&iid) {
        x.followups.push(mid);
    }
    Ok((200, Some(j)))
}

/// Interactive (non-link) buttons need a `custom_id` of 1–100 characters
/// and a style of 1–4.
pub(super) fn validate_buttons(body: &Value) -> Result<(), DcError> {
    let mut errors = Map::new();
    for (i, row) in array(body, "components").iter().enumerate() {
        for (j, b) in array(row, "components").iter().enumerate() {
            if b.get("type").and_then(Value::as_u64) != Some(2) {
                continue;
            }
            let style = b.get("style").and_then(Value::as_u64).unwrap_or(0);
            if style == 5 || style == 6 {
                continue;
            }
            let path = format!("components.{i}.components.{j}");
            if !(1..=4).contains(&style) {
                errors.insert(
                    format!("{path}.style"),
                    field_error(
                        "BASE_TYPE_CHOICES",
                        "Value must be one of {1, 2, 3, 4, 5, 6}.",
                    ),
                );
            }
            let n = b
                .get("custom_id")
                .and_then(Value::as_str)
                .map(|c| c.chars().count())
                .unwrap_or(0);
            if !(1..=100).contains(&n) {
                errors.insert(
                    format!("{path}.custom_id"),
                    field_error(
                        "COMPONENT_CUSTOM_ID_REQUIRED",
                        "A custom id is required for this component (1-100 characters).",
                    ),
                );
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(form_error(errors))
    }
}
