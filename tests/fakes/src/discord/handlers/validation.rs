//! Validation: the formatter's strict validator, nonces, mentions and
//! pings, embeds; new and edited messages.

use chrono::{DateTime, SecondsFormat, Utc};
use crier_bots::format::validate;
use serde_json::{Map, Value, json};

use super::super::{Author, DcMessage, SUPPRESS_EMBEDS, Shared, State};
use super::shapes::message_json;
use super::{CREATE_FLAGS, DcError, derr, field_error, form_error};

fn non_empty_array(body: &Value, key: &str) -> bool {
    body.get(key)
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty())
}

/// The formatter's strict validator, then nonce and allowed_mentions rules,
/// then the empty-message rule.
pub(super) fn validate_message(
    body: &Value,
    allow_nonce: bool,
    is_edit: bool,
    has_files: bool,
) -> Result<(), DcError> {
    if !body.is_object() {
        let mut e = Map::new();
        e.insert(
            "_errors".into(),
            json!([{"code": "DICT_TYPE_CONVERT", "message": "Only dictionaries may be used in a DictType"}]),
        );
        return Err(form_error(e));
    }
    let mut errors = match validate::discord_message(body) {
        Ok(()) => Map::new(),
        Err(v) => match v.errors {
            Value::Object(m) => m,
            other => {
                let mut m = Map::new();
                m.insert("_errors".into(), other);
                m
            }
        },
    };
    if allow_nonce
        && let Some(Value::String(n)) = body.get("nonce")
        && n.chars().count() > 25
    {
        errors.insert(
            "nonce".into(),
            field_error("BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."),
        );
    }
    if let Some(am) = body.get("allowed_mentions").filter(|v| !v.is_null()) {
        let parse: Vec<&str> = am
            .get("parse")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut list = Vec::new();
        for kind in ["users", "roles"] {
            if parse.contains(&kind) && non_empty_array(am, kind) {
                list.push(json!({
                    "code": "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                    "message": format!("parse:[\"{kind}\"] and {kind}: [ids...] are mutually exclusive."),
                }));
            }
        }
        if !list.is_empty() {
            errors.insert("allowed_mentions".into(), json!({"_errors": list}));
        }
    }
    if !errors.is_empty() {
        return Err(form_error(errors));
    }
    if !is_edit {
        let content_empty = body
            .get("content")
            .and_then(Value::as_str)
            .is_none_or(|c| c.trim().is_empty());
        let empty = content_empty
            && !non_empty_array(body, "embeds")
            && !non_empty_array(body, "components")
            && !non_empty_array(body, "sticker_ids")
            && body.get("poll").is_none_or(Value::is_null)
            && !has_files;
        if empty {
            return Err(derr(400, 50006, "Cannot send an empty message"));
        }
    }
    Ok(())
}

/// Mentions written in `content`: (@everyone/@here, roles, users).
fn parse_mentions(content: &str) -> (bool, Vec<u64>, Vec<u64>) {
    let everyone = content.contains("@everyone") || content.contains("@here");
    let mut roles = Vec::new();
    let mut users = Vec::new();
    let mut rest = content;
    while let Some(i) = rest.find("<@") {
        rest = &rest[i + 2..];
        let (is_role, body) = match rest.as_bytes().first() {
            Some(b'&') => (true, &rest[1..]),
            Some(b'!') => (false, &rest[1..]),
            _ => (false, rest),
        };
        let digits: String = body.chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty()
            && body[digits.len()..].starts_with('>')
            && let Ok(id) = digits.parse::<u64>()
        {
            let list = if is_role { &mut roles } else { &mut users };
            if !list.contains(&id) {
                list.push(id);
            }
        }
    }
    (everyone, roles, users)
}

pub(super) fn ids(v: Option<&Value>) -> Vec<u64> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| match x {
                    Value::String(s) => s.parse().ok(),
                    Value::Number(n) => n.as_u64(),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Who is pinged, as Discord decides with `allowed_mentions`: absent,
/// everything written pings; present, only what it allows.
fn pings(content: &str, am: Option<&Value>) -> (bool, Vec<u64>, Vec<u64>) {
    let (everyone, roles, users) = parse_mentions(content);
    let Some(am) = am.filter(|v| v.is_object()) else {
        return (everyone, roles, users);
    };
    let parse: Vec<&str> = am
        .get("parse")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let allowed_roles = ids(am.get("roles"));
    let allowed_users = ids(am.get("users"));
    let roles = if parse.contains(&"roles") {
        roles
    } else {
        roles
            .into_iter()
            .filter(|r| allowed_roles.contains(r))
            .collect()
    };
    let users = if parse.contains(&"users") {
        users
    } else {
        users
            .into_iter()
            .filter(|u| allowed_users.contains(u))
            .collect()
    };
    (everyone && parse.contains(&"everyone"), roles, users)
}

pub(super) fn array(body: &Value, key: &str) -> Vec<Value> {
    body.get(key)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn embeds_of(body: &Value) -> Vec<Value> {
    array(body, "embeds")
        .into_iter()
        .map(|mut e| {
            if let Value::Object(m) = &mut e {
                m.entry("type").or_insert(json!("rich"));
                if let Some(Value::String(t)) = m.get("timestamp").cloned()
                    && let Ok(d) = DateTime::parse_from_rfc3339(&t)
                {
                    m.insert(
                        "timestamp".into(),
                        json!(
                            d.with_timezone(&Utc)
                                .to_rfc3339_opts(SecondsFormat::Millis, false)
                        ),
                    );
                }
            }
            e
        })
        .collect()
}

pub(super) fn new_message(
    sh: &Shared,
    st: &mut State,
    channel_id: u64,
    author: Author,
    body: &Value,
    attachments: Vec<Value>,
) -> DcMessage {
    let content = body
        .get("content")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let am = body.get("allowed_mentions").filter(|v| !v.is_null());
    let (mention_everyone, mention_roles, mention_users) = pings(&content, am);
    let flags = body.get("flags").and_then(Value::as_u64).unwrap_or(0) & CREATE_FLAGS;
    DcMessage {
        id: sh.snowflake(st),
        channel_id,
        author,
        content,
        embeds: embeds_of(body),
        components: array(body, "components"),
        attachments,
        flags,
        tts: body.get("tts").and_then(Value::as_bool).unwrap_or(false),
        nonce: None,
        mention_everyone,
        mention_roles,
        mention_users,
        allowed_mentions: am.cloned(),
        timestamp: sh.clock.now(),
        edited_timestamp: None,
        edit_count: 0,
        deleted: false,
        crossposted: false,
    }
}

pub(super) fn push(st: &mut State, m: DcMessage) -> Value {
    let j = message_json(st, &m);
    st.messages.entry(m.channel_id).or_default().push(m);
    j
}

pub(super) fn apply_edit(sh: &Shared, m: &mut DcMessage, body: &Value) {
    if let Some(c) = body.get("content") {
        m.content = c.as_str().unwrap_or("").to_string();
    }
    if body.get("embeds").is_some() {
        m.embeds = embeds_of(body);
    }
    if body.get("components").is_some() {
        m.components = array(body, "components");
    }
    if let Some(f) = body.get("flags").and_then(Value::as_u64) {
        // Only SUPPRESS_EMBEDS can be changed by an edit.
        m.flags = (m.flags & !SUPPRESS_EMBEDS) | (f & SUPPRESS_EMBEDS);
    }
    m.edit_count += 1;
    m.edited_timestamp = Some(sh.clock.now());
}
