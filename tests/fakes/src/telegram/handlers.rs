//! Request handling of the fake Bot API.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State as AxState};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use crier_bots::format::validate;
use serde_json::{Value, json};

pub(crate) mod audio;
pub(crate) mod files;
pub(crate) mod webhook;

use super::params::Params;
use super::{
    BotStatus, CallbackRecord, ChatKind, CommandSet, PhotoFailure, Shared, State, TgChat,
    TgMessage, html, next_message_id,
};
use crate::fault::Fault;
use crate::log::RequestRecord;
use crate::server::{ConnKill, read_body};

mod members;

/// A Bot API error answer.
#[derive(Debug, Clone)]
pub(crate) struct TgError {
    code: u16,
    description: String,
    parameters: Option<Value>,
}

fn err(code: u16, description: &str) -> TgError {
    TgError {
        code,
        description: description.to_string(),
        parameters: None,
    }
}

fn bad(description: &str) -> TgError {
    err(400, description)
}

type Reply = Result<Value, TgError>;

const TEXT_LIMIT: usize = 4096;
const CAPTION_LIMIT: usize = 1024;
const DELETE_WINDOW: i64 = 48 * 3600;
const BODY_LIMIT: usize = 64 << 20;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

fn default_status_body(code: u16) -> Value {
    let reason = StatusCode::from_u16(code)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error");
    json!({"ok": false, "error_code": code, "description": reason})
}

fn error_body(e: &TgError) -> Value {
    let mut v = json!({"ok": false, "error_code": e.code, "description": e.description});
    if let (Some(p), Value::Object(m)) = (&e.parameters, &mut v) {
        m.insert("parameters".into(), p.clone());
    }
    v
}

fn json_response(status: u16, body: &Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn too_many(secs: u64) -> TgError {
    let secs = secs.max(1);
    TgError {
        code: 429,
        description: format!("Too Many Requests: retry after {secs}"),
        parameters: Some(json!({"retry_after": secs})),
    }
}

fn ceil_secs(d: Duration) -> u64 {
    let s = d.as_secs();
    if d.subsec_nanos() > 0 { s + 1 } else { s }
}

fn log(sh: &Shared, mut rec: RequestRecord, status: u16, error: Option<String>) {
    rec.status = status;
    rec.error = error;
    sh.lock().requests.push(rec);
}

fn finish(sh: &Shared, rec: RequestRecord, reply: Reply) -> Response {
    match reply {
        Ok(result) => {
            log(sh, rec, 200, None);
            json_response(200, &json!({"ok": true, "result": result}))
        }
        Err(e) => {
            log(sh, rec, e.code, Some(e.description.clone()));
            json_response(e.code, &error_body(&e))
        }
    }
}

/// `/bot<token>/<method>`
fn split_path(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix("/bot")?;
    let (token, method) = rest.split_once('/')?;
    if method.is_empty() || method.contains('/') {
        return None;
    }
    Some((token, method))
}

async fn handle(AxState(sh): AxState<Arc<Shared>>, req: Request) -> Response {
    let kill = req
        .extensions()
        .get::<ConnKill>()
        .cloned()
        .unwrap_or_default();
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let mut rec = RequestRecord {
        at: sh.clock.now(),
        elapsed: sh.started.elapsed(),
        http_method: parts.method.to_string(),
        path: path.clone(),
        name: String::new(),
        target: None,
        status: 0,
        error: None,
        fault: None,
        params: Value::Null,
    };
    let body = read_body(body, BODY_LIMIT).await;
    if let Some(rest) = path.strip_prefix("/file/bot") {
        return files::download(&sh, rec, rest);
    }
    let Some((token, method)) = split_path(&path) else {
        return finish(&sh, rec, Err(err(404, "Not Found")));
    };
    rec.name = method.to_string();
    rec.path = format!("/bot<token>/{method}");
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let params = match &body {
        Some(b) => Params::parse(parts.uri.query(), content_type, b),
        None => Err("Bad Request: request body is too big"),
    };
    let mut targets = Vec::new();
    if let Ok(p) = &params {
        rec.params = p.to_value();
        rec.target = p.str("chat_id");
        if let Some(t) = &rec.target {
            targets.push(t.clone());
            if let Some(id) = resolve_id(&sh.lock(), t) {
                targets.push(id.to_string());
            }
        }
    }

    // Faults first: they model the network and Telegram's front ends.
    let fault = sh.lock().faults.take(method, &targets);
    rec.fault = fault.as_ref().map(Fault::name);
    let mut after = None;
    match fault {
        Some(Fault::Status(code, body)) => {
            let body = if body.is_null() {
                default_status_body(code)
            } else {
                body
            };
            let desc = body
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_string);
            log(&sh, rec, code, desc);
            return json_response(code, &body);
        }
        Some(Fault::RateLimit(d)) => return finish(&sh, rec, Err(too_many(ceil_secs(d)))),
        Some(Fault::EchoPathHtml(code)) => {
            log(&sh, rec, code, Some("HTML error page".into()));
            return crate::fault::echo_path_html(code, parts.method.as_str(), &path);
        }
        Some(Fault::DropBeforeApply) => {
            log(&sh, rec, 0, None);
            return kill.drop_connection().await;
        }
        Some(Fault::Delay(d)) => tokio::time::sleep(d).await,
        Some(f @ (Fault::ApplyThenDrop | Fault::DelayAfterApply(_))) => after = Some(f),
        None => {}
    }

    if token != sh.token {
        return finish(&sh, rec, Err(err(401, "Unauthorized")));
    }
    let params = match params {
        Ok(p) => p,
        Err(desc) => return finish(&sh, rec, Err(bad(desc))),
    };
    let reply = dispatch(&sh, &method.to_ascii_lowercase(), &params).await;
    match after {
        Some(Fault::ApplyThenDrop) => {
            let e = reply.err().map(|e| e.description);
            log(&sh, rec, 0, e);
            return kill.drop_connection().await;
        }
        Some(Fault::DelayAfterApply(d)) => tokio::time::sleep(d).await,
        _ => {}
    }
    finish(&sh, rec, reply)
}

async fn dispatch(sh: &Shared, method: &str, p: &Params) -> Reply {
    if method == "getupdates" {
        if sh.lock().webhook.is_some() {
            return webhook::conflict();
        }
        return get_updates(sh, p).await;
    }
    let mut st = sh.lock();
    let st = &mut *st;
    match method {
        "getme" => Ok(get_me(sh)),
        "sendmessage" => send_message(sh, st, p),
        "sendphoto" => send_photo(sh, st, p),
        "sendaudio" => audio::send_audio(sh, st, p),
        "senddocument" => files::send_document(sh, st, p),
        "getfile" => files::get_file(st, p),
        "editmessagetext" => edit_message(sh, st, p, EditKind::Text),
        "editmessagecaption" => edit_message(sh, st, p, EditKind::Caption),
        "editmessagereplymarkup" => edit_message(sh, st, p, EditKind::Markup),
        "deletemessage" => delete_message(sh, st, p),
        "getchat" => get_chat(st, p),
        "getchatmember" => members::get_chat_member(sh.bot_id, st, p),
        "setmycommands" => set_my_commands(st, p),
        "getmycommands" => get_my_commands(st, p),
        "deletemycommands" => delete_my_commands(st, p),
        "answercallbackquery" => answer_callback_query(st, p),
        "setwebhook" => webhook::set(st, p),
        "deletewebhook" => webhook::delete(st, p),
        "getwebhookinfo" => webhook::info(st),
        _ => Err(err(404, "Not Found")),
    }
}

// ---- users, chats, messages as JSON ------------------------------------

fn bot_user(bot_id: i64) -> Value {
    json!({
        "id": bot_id,
        "is_bot": true,
        "first_name": "Crier Test Bot",
        "username": super::FakeTelegram::BOT_USERNAME,
    })
}

fn get_me(sh: &Shared) -> Value {
    let mut v = bot_user(sh.bot_id);
    if let Value::Object(m) = &mut v {
        m.insert("can_join_groups".into(), json!(true));
        m.insert("can_read_all_group_messages".into(), json!(false));
        m.insert("supports_inline_queries".into(), json!(false));
        m.insert("can_connect_to_business".into(), json!(false));
        m.insert("has_main_web_app".into(), json!(false));
    }
    v
}

fn photo_file_id(m: &TgMessage) -> String {
    format!(
        "AgACAgIAAx0C{}_{}FAKEPHOTO",
        m.chat_id.unsigned_abs(),
        m.message_id
    )
}

pub(crate) fn message_json(st: &State, bot_id: i64, m: &TgMessage) -> Value {
    message_json_depth(st, bot_id, m, true)
}

fn message_json_depth(st: &State, bot_id: i64, m: &TgMessage, with_reply: bool) -> Value {
    let chat = st.chats.get(&m.chat_id);
    let chat_json = chat
        .map(TgChat::to_json)
        .unwrap_or_else(|| json!({"id": m.chat_id, "type": "private", "first_name": "Unknown"}));
    let mut o = serde_json::Map::new();
    o.insert("message_id".into(), json!(m.message_id));
    if m.from_bot {
        if chat.map(|c| c.kind) == Some(ChatKind::Channel) {
            o.insert("sender_chat".into(), chat_json.clone());
        } else {
            o.insert("from".into(), bot_user(bot_id));
        }
    } else if let Some(u) = &m.from {
        o.insert("from".into(), u.to_json());
    }
    o.insert("chat".into(), chat_json);
    o.insert("date".into(), json!(m.date));
    if let Some(t) = m.thread_id {
        o.insert("message_thread_id".into(), json!(t));
        o.insert("is_topic_message".into(), json!(true));
    }
    if with_reply
        && let Some(r) = m.reply_to
        && let Some(orig) = st
            .messages
            .get(&m.chat_id)
            .and_then(|v| v.iter().find(|x| x.message_id == r && !x.deleted))
    {
        o.insert(
            "reply_to_message".into(),
            message_json_depth(st, bot_id, orig, false),
        );
    }
    if let Some(d) = m.edit_date {
        o.insert("edit_date".into(), json!(d));
    }
    if m.protect_content {
        o.insert("has_protected_content".into(), json!(true));
    }
    if m.is_photo() {
        let fid = m
            .photo
            .clone()
            .filter(|p| !p.starts_with("http"))
            .unwrap_or_else(|| photo_file_id(m));
        let uid = format!("AQAD{}", m.message_id);
        o.insert(
            "photo".into(),
            json!([
                {"file_id": format!("{fid}-s"), "file_unique_id": format!("{uid}s"), "width": 90, "height": 60, "file_size": 1_204},
                {"file_id": format!("{fid}-m"), "file_unique_id": format!("{uid}m"), "width": 320, "height": 213, "file_size": 15_876},
                {"file_id": fid, "file_unique_id": format!("{uid}x"), "width": 1280, "height": 853, "file_size": 98_410},
            ]),
        );
        if !m.shown.is_empty() {
            o.insert("caption".into(), json!(m.shown));
            if !m.entities.is_empty() {
                o.insert("caption_entities".into(), json!(m.entities));
            }
        }
    } else if let Some(media) = m
        .audio
        .as_ref()
        .map(|a| ("audio", a.to_json()))
        .or_else(|| m.document.as_ref().map(|d| ("document", d.to_json())))
    {
        o.insert(media.0.into(), media.1);
        if !m.shown.is_empty() {
            o.insert("caption".into(), json!(m.shown));
            if !m.entities.is_empty() {
                o.insert("caption_entities".into(), json!(m.entities));
            }
        }
    } else {
        o.insert("text".into(), json!(m.shown));
        if !m.entities.is_empty() {
            o.insert("entities".into(), json!(m.entities));
        }
        if let Some(l) = &m.link_preview_options {
            o.insert("link_preview_options".into(), l.clone());
        }
    }
    if let Some(rm) = &m.reply_markup
        && rm.get("inline_keyboard").is_some()
    {
        o.insert("reply_markup".into(), rm.clone());
    }
    Value::Object(o)
}

// ---- chat resolution and access ----------------------------------------

fn resolve_id(st: &State, raw: &str) -> Option<i64> {
    let raw = raw.trim();
    if let Some(name) = raw.strip_prefix('@') {
        return st
            .chats
            .values()
            .find(|c| {
                c.username
                    .as_deref()
                    .is_some_and(|u| u.eq_ignore_ascii_case(name))
            })
            .map(|c| c.id);
    }
    let id = raw.parse::<i64>().ok()?;
    st.chats.contains_key(&id).then_some(id)
}

fn resolve_chat(st: &State, p: &Params) -> Result<TgChat, TgError> {
    let Some(raw) = p.str("chat_id").filter(|s| !s.trim().is_empty()) else {
        return Err(bad("Bad Request: chat_id is empty"));
    };
    resolve_id(st, &raw)
        .and_then(|id| st.chats.get(&id).cloned())
        .ok_or_else(|| bad("Bad Request: chat not found"))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Action {
    SendText,
    SendPhoto,
    SendAudio,
    SendDocument,
    Modify,
    Read,
}

fn check_access(chat: &TgChat, action: Action) -> Result<(), TgError> {
    if let Some(to) = chat.migrated_to
        && action != Action::Read
    {
        return Err(TgError {
            code: 400,
            description: "Bad Request: group chat was upgraded to a supergroup chat".into(),
            parameters: Some(json!({"migrate_to_chat_id": to})),
        });
    }
    match chat.bot {
        BotStatus::Member => Ok(()),
        BotStatus::Kicked => Err(err(
            403,
            match chat.kind {
                ChatKind::Channel => "Forbidden: bot was kicked from the channel chat",
                ChatKind::Group => "Forbidden: bot was kicked from the group chat",
                ChatKind::Supergroup => "Forbidden: bot was kicked from the supergroup chat",
                ChatKind::Private => "Forbidden: bot was blocked by the user",
            },
        )),
        BotStatus::NotMember if action == Action::Read => Ok(()),
        BotStatus::NotMember => Err(err(
            403,
            match chat.kind {
                ChatKind::Channel => "Forbidden: bot is not a member of the channel chat",
                ChatKind::Group => "Forbidden: bot is not a member of the group chat",
                ChatKind::Supergroup => "Forbidden: bot is not a member of the supergroup chat",
                ChatKind::Private => "Forbidden: bot can't initiate conversation with a user",
            },
        )),
        BotStatus::NoRights => match action {
            Action::SendText => Err(bad(
                "Bad Request: not enough rights to send text messages to the chat",
            )),
            Action::SendPhoto => Err(bad(
                "Bad Request: not enough rights to send photos to the chat",
            )),
            Action::SendAudio => Err(bad(
                "Bad Request: not enough rights to send music to the chat",
            )),
            Action::SendDocument => Err(bad(
                "Bad Request: not enough rights to send documents to the chat",
            )),
            Action::Modify | Action::Read => Ok(()),
        },
    }
}

fn check_thread(chat: &TgChat, p: &Params) -> Result<Option<i64>, TgError> {
    let not_found = || bad("Bad Request: message thread not found");
    match p.int("message_thread_id") {
        Err(()) => Err(not_found()),
        Ok(None) | Ok(Some(0)) => Ok(None),
        Ok(Some(t)) if chat.is_forum && chat.topics.contains(&t) => Ok(Some(t)),
        Ok(Some(_)) => Err(not_found()),
    }
}

// ---- text, entities, markup ---------------------------------------------

fn parse_mode(p: &Params) -> Result<Option<String>, TgError> {
    // Telegram reads the mode case-insensitively; the validator gets the
    // canonical spelling.
    match p.str("parse_mode").filter(|s| !s.trim().is_empty()) {
        None => Ok(None),
        Some(m) => ["HTML", "MarkdownV2", "Markdown"]
            .iter()
            .find(|x| x.eq_ignore_ascii_case(m.trim()))
            .map(|x| Some(x.to_string()))
            .ok_or_else(|| bad("Bad Request: unsupported parse_mode")),
    }
}

/// Validate with the formatter's strict validator, then compute what
/// members read.
fn shown_text(
    text: &str,
    mode: Option<&str>,
    p: &Params,
    entities_key: &str,
    limit: usize,
) -> Result<(String, Vec<Value>), TgError> {
    validate::telegram_text(text, mode, limit).map_err(|v| bad(&v.description))?;
    if mode.is_some_and(|m| m.eq_ignore_ascii_case("HTML")) {
        return Ok(html::parse(text).unwrap_or_else(|| (text.to_string(), Vec::new())));
    }
    if mode.is_some() {
        // Markdown is not modelled: shown as sent.
        return Ok((text.to_string(), Vec::new()));
    }
    let entities = match p.json(entities_key) {
        Err(()) => return Err(bad("Bad Request: can't parse entities JSON object")),
        Ok(Some(Value::Array(a))) => a,
        Ok(_) => Vec::new(),
    };
    Ok((text.to_string(), entities))
}

/// `reply_markup`: an inline keyboard of buttons with a text and one
/// action; URL buttons must be http(s) or tg:// links.
fn reply_markup(p: &Params) -> Result<Option<Value>, TgError> {
    let cant = || bad("Bad Request: can't parse reply keyboard markup JSON object");
    let Some(v) = p.json("reply_markup").map_err(|_| cant())? else {
        return Ok(None);
    };
    let Value::Object(m) = &v else {
        return Err(cant());
    };
    let Some(kb) = m.get("inline_keyboard") else {
        // Reply keyboards / force reply / remove: accepted as given.
        return Ok(Some(v));
    };
    let rows_err = || {
        bad(
            "Bad Request: field \"inline_keyboard\" of the InlineKeyboardMarkup should be an Array of Arrays",
        )
    };
    let rows = kb.as_array().ok_or_else(rows_err)?;
    for row in rows {
        let buttons = row.as_array().ok_or_else(rows_err)?;
        for b in buttons {
            let Value::Object(b) = b else {
                return Err(bad(
                    "Bad Request: can't parse inline keyboard button: InlineKeyboardButton must be an Object",
                ));
            };
            // Unverified text: Telegram's answer for an empty button text.
            let text = b.get("text").and_then(Value::as_str).unwrap_or("");
            if text.trim().is_empty() {
                return Err(bad("Bad Request: BUTTON_TEXT_INVALID"));
            }
            if let Some(url) = b.get("url") {
                let url = url.as_str().unwrap_or("");
                let lower = url.to_ascii_lowercase();
                let scheme_ok = ["http://", "https://", "tg://"]
                    .iter()
                    .any(|s| lower.starts_with(s) && lower.len() > s.len());
                if !scheme_ok || url.contains(char::is_whitespace) {
                    return Err(bad("Bad Request: BUTTON_URL_INVALID"));
                }
            } else if let Some(data) = b.get("callback_data") {
                let n = data.as_str().map(str::len).unwrap_or(0);
                if n == 0 || n > 64 {
                    return Err(bad("Bad Request: BUTTON_DATA_INVALID"));
                }
            } else if ![
                "web_app",
                "login_url",
                "switch_inline_query",
                "switch_inline_query_current_chat",
                "switch_inline_query_chosen_chat",
                "copy_text",
                "callback_game",
                "pay",
            ]
            .iter()
            .any(|k| b.contains_key(*k))
            {
                return Err(bad(
                    "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
                ));
            }
        }
    }
    Ok(Some(v))
}

fn link_preview_options(p: &Params) -> Result<Option<Value>, TgError> {
    match p.json("link_preview_options") {
        Ok(Some(v @ Value::Object(_))) => Ok(Some(v)),
        Ok(None) => Ok(None),
        _ => Err(bad(
            "Bad Request: can't parse link preview options JSON object",
        )),
    }
}

fn reply_to(st: &State, chat: &TgChat, p: &Params) -> Result<Option<i64>, TgError> {
    let (id, allow) = match p.json("reply_parameters") {
        Ok(Some(rp)) => (
            rp.get("message_id").and_then(Value::as_i64),
            rp.get("allow_sending_without_reply")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        ),
        Err(()) => return Err(bad("Bad Request: can't parse reply parameters JSON object")),
        Ok(None) => (
            p.int("reply_to_message_id").ok().flatten(),
            p.bool("allow_sending_without_reply"),
        ),
    };
    let Some(id) = id else { return Ok(None) };
    let exists = st
        .messages
        .get(&chat.id)
        .is_some_and(|v| v.iter().any(|m| m.message_id == id && !m.deleted));
    match (exists, allow) {
        (true, _) => Ok(Some(id)),
        (false, true) => Ok(None),
        (false, false) => Err(bad("Bad Request: message to be replied not found")),
    }
}

// ---- flood control ------------------------------------------------------

fn flood_wait(st: &mut State, chat: &TgChat, now: std::time::SystemTime) -> Option<Duration> {
    let limits = st.limits;
    let mut wait: Option<Duration> = None;
    let mut worst = |w: Option<Duration>| {
        if let Some(w) = w {
            wait = Some(wait.map_or(w, |x| x.max(w)));
        }
    };
    if let Some(w) = limits.per_chat {
        worst(st.rate.per_chat.entry(chat.id).or_default().wait(w, now));
    }
    if let Some(w) = limits.per_group
        && chat.kind.is_multi_user()
    {
        worst(st.rate.per_group.entry(chat.id).or_default().wait(w, now));
    }
    if let Some(w) = limits.global {
        worst(st.rate.global.wait(w, now));
    }
    wait
}

fn flood_check(st: &mut State, chat: &TgChat, now: std::time::SystemTime) -> Result<(), TgError> {
    match flood_wait(st, chat, now) {
        Some(d) => Err(too_many(ceil_secs(d))),
        None => Ok(()),
    }
}

fn flood_record(st: &mut State, chat: &TgChat, now: std::time::SystemTime) {
    st.rate.per_chat.entry(chat.id).or_default().record(now);
    if chat.kind.is_multi_user() {
        st.rate.per_group.entry(chat.id).or_default().record(now);
    }
    st.rate.global.record(now);
}

// ---- methods -------------------------------------------------------------

fn new_message(sh: &Shared, st: &mut State, chat: &TgChat, p: &Params) -> TgMessage {
    TgMessage {
        chat_id: chat.id,
        message_id: next_message_id(st, chat.id),
        from_bot: true,
        from: None,
        text: None,
        caption: None,
        shown: String::new(),
        entities: Vec::new(),
        parse_mode: None,
        photo: None,
        photo_upload: None,
        audio: None,
        document: None,
        reply_markup: None,
        thread_id: None,
        reply_to: None,
        disable_notification: p.bool("disable_notification"),
        protect_content: p.bool("protect_content"),
        link_preview_options: None,
        date: sh.clock.unix(),
        edit_date: None,
        edit_count: 0,
        deleted: false,
    }
}

fn send_message(sh: &Shared, st: &mut State, p: &Params) -> Reply {
    let chat = resolve_chat(st, p)?;
    check_access(&chat, Action::SendText)?;
    let thread = check_thread(&chat, p)?;
    let text = p.str("text").unwrap_or_default();
    if text.trim().is_empty() {
        return Err(bad("Bad Request: message text is empty"));
    }
    let mode = parse_mode(p)?;
    let (shown, entities) = shown_text(&text, mode.as_deref(), p, "entities", TEXT_LIMIT)?;
    if shown.trim().is_empty() {
        return Err(bad("Bad Request: message text is empty"));
    }
    let markup = reply_markup(p)?;
    let lpo = link_preview_options(p)?;
    let reply = reply_to(st, &chat, p)?;
    let now = sh.clock.now();
    flood_check(st, &chat, now)?;
    flood_record(st, &chat, now);
    let mut m = new_message(sh, st, &chat, p);
    m.text = Some(text);
    m.shown = shown;
    m.entities = entities;
    m.parse_mode = mode;
    m.reply_markup = markup;
    m.thread_id = thread;
    m.reply_to = reply;
    m.link_preview_options = lpo;
    let j = message_json(st, sh.bot_id, &m);
    st.messages.entry(chat.id).or_default().push(m);
    Ok(j)
}

fn send_photo(sh: &Shared, st: &mut State, p: &Params) -> Reply {
    let chat = resolve_chat(st, p)?;
    check_access(&chat, Action::SendPhoto)?;
    let thread = check_thread(&chat, p)?;
    let upload = p.files.get("photo").cloned();
    let photo = if upload.is_some() {
        None
    } else {
        let Some(photo) = p.str("photo").filter(|s| !s.trim().is_empty()) else {
            return Err(bad("Bad Request: there is no photo in the request"));
        };
        if let Some(how) = st.bad_urls.get(&photo) {
            return Err(bad(how.description()));
        }
        let lower = photo.to_ascii_lowercase();
        let is_url = lower.starts_with("http://") || lower.starts_with("https://");
        if !is_url && !st.known_file_ids.contains(&photo) {
            return Err(bad(PhotoFailure::WrongIdentifier.description()));
        }
        Some(photo)
    };
    let mut m = captioned_message(sh, st, &chat, p, thread)?;
    m.photo = photo;
    m.photo_upload = upload;
    st.known_file_ids.insert(photo_file_id(&m));
    let j = message_json(st, sh.bot_id, &m);
    st.messages.entry(chat.id).or_default().push(m);
    Ok(j)
}

/// A media message with a caption (photo, audio, document): the caption parsed
/// and limited like Telegram's, the keyboard, the reply, the flood limits;
/// the new message, not yet stored.
pub(super) fn captioned_message(
    sh: &Shared,
    st: &mut State,
    chat: &TgChat,
    p: &Params,
    thread: Option<i64>,
) -> Result<TgMessage, TgError> {
    let caption = p.str("caption").unwrap_or_default();
    let mode = parse_mode(p)?;
    let (shown, entities) = if caption.is_empty() {
        (String::new(), Vec::new())
    } else {
        shown_text(
            &caption,
            mode.as_deref(),
            p,
            "caption_entities",
            CAPTION_LIMIT,
        )?
    };
    let markup = reply_markup(p)?;
    let reply = reply_to(st, chat, p)?;
    let now = sh.clock.now();
    flood_check(st, chat, now)?;
    flood_record(st, chat, now);
    let mut m = new_message(sh, st, chat, p);
    m.caption = (!caption.is_empty()).then_some(caption);
    m.shown = shown;
    m.entities = entities;
    m.parse_mode = mode;
    m.reply_markup = markup;
    m.thread_id = thread;
    m.reply_to = reply;
    Ok(m)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum EditKind {
    Text,
    Caption,
    Markup,
}

fn find_message(st: &mut State, chat_id: i64, id: i64) -> Option<&mut TgMessage> {
    st.messages
        .get_mut(&chat_id)?
        .iter_mut()
        .find(|m| m.message_id == id && !m.deleted)
}

fn edit_message(sh: &Shared, st: &mut State, p: &Params, kind: EditKind) -> Reply {
    if p.has("inline_message_id") {
        // Messages sent via inline mode are not modelled.
        return Err(bad("Bad Request: MESSAGE_ID_INVALID"));
    }
    let chat = resolve_chat(st, p)?;
    check_access(&chat, Action::Modify)?;
    let Ok(Some(id)) = p.int("message_id") else {
        return Err(bad("Bad Request: message identifier is not specified"));
    };
    let current = match find_message(st, chat.id, id) {
        Some(m) => m.clone(),
        None => return Err(bad("Bad Request: message to edit not found")),
    };
    if !current.from_bot {
        return Err(bad("Bad Request: message can't be edited"));
    }
    let mode = parse_mode(p)?;
    let markup = reply_markup(p)?;
    let mut next = current.clone();
    next.reply_markup = markup;
    match kind {
        EditKind::Text => {
            if current.has_media() {
                return Err(bad("Bad Request: there is no text in the message to edit"));
            }
            let text = p.str("text").unwrap_or_default();
            if text.trim().is_empty() {
                return Err(bad("Bad Request: message text is empty"));
            }
            let (shown, entities) = shown_text(&text, mode.as_deref(), p, "entities", TEXT_LIMIT)?;
            if shown.trim().is_empty() {
                return Err(bad("Bad Request: message text is empty"));
            }
            next.text = Some(text);
            next.shown = shown;
            next.entities = entities;
            next.parse_mode = mode;
            if let Some(l) = link_preview_options(p)? {
                next.link_preview_options = Some(l);
            }
        }
        EditKind::Caption => {
            if !current.has_media() {
                return Err(bad(
                    "Bad Request: there is no caption in the message to edit",
                ));
            }
            let caption = p.str("caption").unwrap_or_default();
            let (shown, entities) = if caption.is_empty() {
                (String::new(), Vec::new())
            } else {
                shown_text(
                    &caption,
                    mode.as_deref(),
                    p,
                    "caption_entities",
                    CAPTION_LIMIT,
                )?
            };
            next.caption = (!caption.is_empty()).then_some(caption);
            next.shown = shown;
            next.entities = entities;
            next.parse_mode = mode;
        }
        EditKind::Markup => {}
    }
    if next.shown == current.shown
        && next.entities == current.entities
        && next.reply_markup == current.reply_markup
    {
        return Err(bad(
            "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
        ));
    }
    let now = sh.clock.now();
    flood_check(st, &chat, now)?;
    flood_record(st, &chat, now);
    next.edit_count += 1;
    next.edit_date = Some(sh.clock.unix());
    let j = message_json(st, sh.bot_id, &next);
    if let Some(m) = find_message(st, chat.id, id) {
        *m = next;
    }
    Ok(j)
}

fn delete_message(sh: &Shared, st: &mut State, p: &Params) -> Reply {
    let chat = resolve_chat(st, p)?;
    check_access(&chat, Action::Modify)?;
    let Ok(Some(id)) = p.int("message_id") else {
        return Err(bad("Bad Request: message identifier is not specified"));
    };
    let now = sh.clock.unix();
    let Some(m) = find_message(st, chat.id, id) else {
        return Err(bad("Bad Request: message to delete not found"));
    };
    if now - m.date >= DELETE_WINDOW {
        return Err(bad("Bad Request: message can't be deleted for everyone"));
    }
    m.deleted = true;
    Ok(json!(true))
}

fn get_chat(st: &State, p: &Params) -> Reply {
    let chat = resolve_chat(st, p)?;
    check_access(&chat, Action::Read)?;
    let mut v = chat.to_json();
    if let Value::Object(m) = &mut v {
        // ChatFullInfo's always-present fields (Bot API 7.3+, 9.0).
        m.insert("accent_color_id".into(), json!(0));
        m.insert("max_reaction_count".into(), json!(11));
        m.insert(
            "accepted_gift_types".into(),
            json!({
                "unlimited_gifts": false,
                "limited_gifts": false,
                "unique_gifts": false,
                "premium_subscription": false,
            }),
        );
        if chat.kind == ChatKind::Private {
            m.insert("type".into(), json!("private"));
        }
    }
    Ok(v)
}

async fn get_updates(sh: &Shared, p: &Params) -> Reply {
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

fn set_my_commands(st: &mut State, p: &Params) -> Reply {
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

fn get_my_commands(st: &State, p: &Params) -> Reply {
    let (scope, lang) = command_scope(p)?;
    Ok(st
        .commands
        .iter()
        .find(|s| s.scope == scope && s.language_code == lang)
        .map(|s| Value::Array(s.commands.clone()))
        .unwrap_or_else(|| json!([])))
}

fn delete_my_commands(st: &mut State, p: &Params) -> Reply {
    let (scope, lang) = command_scope(p)?;
    st.commands
        .retain(|s| !(s.scope == scope && s.language_code == lang));
    Ok(json!(true))
}

fn answer_callback_query(st: &mut State, p: &Params) -> Reply {
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
