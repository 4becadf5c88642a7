//! Request handling of the fake Bot API: the router, faults, error answers
//! and the method dispatch; the methods themselves live in the submodules.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State as AxState};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

mod album;
pub(crate) mod audio;
pub(crate) mod files;
pub(crate) mod webhook;

use super::params::Params;
use super::{Shared, State};
use crate::fault::Fault;
use crate::log::RequestRecord;
use crate::server::{ConnKill, read_body};

mod chats;
mod json;
mod members;
mod messages;
mod text;
mod updates;

use chats::{
    Action, check_access, check_thread, flood_check, flood_record, get_chat, resolve_chat,
    resolve_id,
};
pub(crate) use json::message_json;
use json::{bot_user, get_me, photo_file_id};
use messages::{
    EditKind, captioned_message, delete_message, edit_message, send_message, send_photo,
};
use text::{link_preview_options, parse_mode, reply_markup, reply_to, shown_text};
use updates::{
    answer_callback_query, delete_my_commands, get_my_commands, get_updates, set_my_commands,
};

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
        "sendmediagroup" => album::send_media_group(sh, st, p),
        "deletemessages" => album::delete_messages(sh, st, p),
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
