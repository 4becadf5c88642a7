//! Request handling of the fake Discord REST API.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::extract::{Request, State as AxState};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use crier_bots::format::validate;
use serde_json::{Map, Value, json};

use super::{
    Access, Author, CROSSPOSTED, ChannelKind, DcChannel, DcInteraction, DcMessage, DcWebhook,
    EPHEMERAL, FakeDiscord, INTERACTION_TOKEN_LIFE, INTERACTION_WINDOW, SUPPRESS_EMBEDS,
    SUPPRESS_NOTIFICATIONS, Shared, State,
};
use crate::clock::{since, unix_f64};
use crate::fault::Fault;
use crate::log::RequestRecord;
use crate::ratelimit::{BucketState, FixedBucket, Window};
use crate::server::{ConnKill, read_body};
use crate::telegram::params::Params;

const BODY_LIMIT: usize = 64 << 20;

/// Flags a client may set when creating a message: SUPPRESS_EMBEDS,
/// SUPPRESS_NOTIFICATIONS, IS_VOICE_MESSAGE, IS_COMPONENTS_V2. Others are
/// ignored.
const CREATE_FLAGS: u64 = SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS | (1 << 13) | (1 << 15);

/// A Discord error answer.
#[derive(Debug, Clone)]
pub(crate) struct DcError {
    status: u16,
    body: Value,
}

mod perms;
pub use perms::{
    ATTACH_FILES, BOT_ROLE_ID, EMBED_LINKS, READ_MESSAGE_HISTORY, SEND_MESSAGES, VIEW_CHANNEL,
};

fn derr(status: u16, code: u64, message: &str) -> DcError {
    DcError {
        status,
        body: json!({"message": message, "code": code}),
    }
}

fn unknown_channel() -> DcError {
    derr(404, 10003, "Unknown Channel")
}
fn unknown_message() -> DcError {
    derr(404, 10008, "Unknown Message")
}
fn unknown_webhook() -> DcError {
    derr(404, 10015, "Unknown Webhook")
}
fn form_error(errors: Map<String, Value>) -> DcError {
    DcError {
        status: 400,
        body: json!({"message": "Invalid Form Body", "code": 50035, "errors": errors}),
    }
}
fn field_error(code: &str, message: &str) -> Value {
    json!({"_errors": [{"code": code, "message": message}]})
}

/// Success: a status and an optional JSON body.
type Reply = Result<(u16, Option<Value>), DcError>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MsgRef {
    Id(u64),
    Original,
}

#[derive(Clone, Debug)]
enum Route {
    CreateMessage(u64),
    GetMessage(u64, u64),
    EditMessage(u64, u64),
    DeleteMessage(u64, u64),
    Crosspost(u64, u64),
    ExecuteWebhook(u64, String),
    GetWebhook(u64, String),
    GetWebhookMessage(u64, String, MsgRef),
    EditWebhookMessage(u64, String, MsgRef),
    DeleteWebhookMessage(u64, String, MsgRef),
    Gateway,
    GatewayBot,
    CurrentUser,
    CurrentApplication,
    CreateDm,
    PutCommands(u64, Option<u64>),
    GetCommands(u64, Option<u64>),
    InteractionCallback(u64, String),
    GetChannel(u64),
    GetGuildMember(u64, u64),
    GetGuildRoles(u64),
}

impl Route {
    fn name(&self) -> &'static str {
        match self {
            Route::CreateMessage(..) => "create_message",
            Route::GetMessage(..) => "get_message",
            Route::EditMessage(..) => "edit_message",
            Route::DeleteMessage(..) => "delete_message",
            Route::Crosspost(..) => "crosspost",
            Route::ExecuteWebhook(..) => "execute_webhook",
            Route::GetWebhook(..) => "get_webhook",
            Route::GetWebhookMessage(..) => "get_webhook_message",
            Route::EditWebhookMessage(..) => "edit_webhook_message",
            Route::DeleteWebhookMessage(..) => "delete_webhook_message",
            Route::Gateway => "get_gateway",
            Route::GatewayBot => "get_gateway_bot",
            Route::CurrentUser => "get_current_user",
            Route::CurrentApplication => "get_current_application",
            Route::CreateDm => "create_dm",
            Route::PutCommands(..) => "bulk_overwrite_commands",
            Route::GetCommands(..) => "get_commands",
            Route::InteractionCallback(..) => "interaction_callback",
            Route::GetChannel(..) => "get_channel",
            Route::GetGuildMember(..) => "get_guild_member",
            Route::GetGuildRoles(..) => "get_guild_roles",
        }
    }

    /// Bot-token routes (the others carry their token in the path, or need
    /// none).
    fn needs_bot_auth(&self) -> bool {
        !matches!(
            self,
            Route::ExecuteWebhook(..)
                | Route::GetWebhook(..)
                | Route::GetWebhookMessage(..)
                | Route::EditWebhookMessage(..)
                | Route::DeleteWebhookMessage(..)
                | Route::Gateway
                | Route::InteractionCallback(..)
        )
    }

    /// The route's bucket: (opaque name, top-level resource).
    fn bucket(&self) -> (&'static str, String) {
        match self {
            Route::CreateMessage(c) => ("create_message", c.to_string()),
            Route::EditMessage(c, _) => ("edit_message", c.to_string()),
            Route::DeleteMessage(c, _) => ("delete_message", c.to_string()),
            Route::GetMessage(c, _) => ("get_message", c.to_string()),
            Route::Crosspost(c, _) => ("crosspost", c.to_string()),
            Route::ExecuteWebhook(w, t)
            | Route::GetWebhook(w, t)
            | Route::GetWebhookMessage(w, t, _)
            | Route::EditWebhookMessage(w, t, _)
            | Route::DeleteWebhookMessage(w, t, _) => ("webhook", format!("{w}/{t}")),
            Route::InteractionCallback(i, _) => ("interaction_callback", i.to_string()),
            other => (other.name(), String::new()),
        }
    }

    fn targets(&self, query: &[(String, String)]) -> Vec<String> {
        let mut t = match self {
            Route::CreateMessage(c)
            | Route::GetMessage(c, _)
            | Route::EditMessage(c, _)
            | Route::DeleteMessage(c, _)
            | Route::Crosspost(c, _) => vec![c.to_string()],
            Route::ExecuteWebhook(w, _)
            | Route::GetWebhook(w, _)
            | Route::GetWebhookMessage(w, _, _)
            | Route::EditWebhookMessage(w, _, _)
            | Route::DeleteWebhookMessage(w, _, _) => vec![w.to_string()],
            Route::InteractionCallback(i, _) => vec![i.to_string()],
            _ => Vec::new(),
        };
        if let Some((_, v)) = query.iter().find(|(k, _)| k == "thread_id") {
            t.push(v.clone());
        }
        t
    }
}

fn id(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn msg_ref(s: &str) -> Option<MsgRef> {
    if s == "@original" {
        Some(MsgRef::Original)
    } else {
        id(s).map(MsgRef::Id)
    }
}

/// `Err(405)` for a known path with the wrong method, `Err(404)` otherwise.
fn route(method: &str, path: &str) -> Result<Route, u16> {
    let rest = path.strip_prefix("/api").ok_or(404u16)?;
    let rest = match rest.strip_prefix("/v") {
        Some(r) => {
            let digits = r.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(404);
            }
            &r[digits..]
        }
        None => rest,
    };
    let segs: Vec<&str> = rest.split('/').skip(1).collect();
    let m = method;
    let r = match segs.as_slice() {
        ["channels", c, "messages"] => match m {
            "POST" => Route::CreateMessage(id(c).ok_or(404u16)?),
            _ => return Err(405),
        },
        ["channels", c, "messages", mid] => {
            let (c, mid) = (id(c).ok_or(404u16)?, id(mid).ok_or(404u16)?);
            match m {
                "GET" => Route::GetMessage(c, mid),
                "PATCH" => Route::EditMessage(c, mid),
                "DELETE" => Route::DeleteMessage(c, mid),
                _ => return Err(405),
            }
        }
        ["channels", c, "messages", mid, "crosspost"] => match m {
            "POST" => Route::Crosspost(id(c).ok_or(404u16)?, id(mid).ok_or(404u16)?),
            _ => return Err(405),
        },
        ["webhooks", w, t] => {
            let w = id(w).ok_or(404u16)?;
            match m {
                "POST" => Route::ExecuteWebhook(w, t.to_string()),
                "GET" => Route::GetWebhook(w, t.to_string()),
                _ => return Err(405),
            }
        }
        ["webhooks", w, t, "messages", mid] => {
            let (w, mid) = (id(w).ok_or(404u16)?, msg_ref(mid).ok_or(404u16)?);
            let t = t.to_string();
            match m {
                "GET" => Route::GetWebhookMessage(w, t, mid),
                "PATCH" => Route::EditWebhookMessage(w, t, mid),
                "DELETE" => Route::DeleteWebhookMessage(w, t, mid),
                _ => return Err(405),
            }
        }
        ["channels", c] if m == "GET" => Route::GetChannel(id(c).ok_or(404u16)?),
        ["guilds", g, "members", u] if m == "GET" => {
            Route::GetGuildMember(id(g).ok_or(404u16)?, id(u).ok_or(404u16)?)
        }
        ["guilds", g, "roles"] if m == "GET" => Route::GetGuildRoles(id(g).ok_or(404u16)?),
        ["gateway"] if m == "GET" => Route::Gateway,
        ["gateway", "bot"] if m == "GET" => Route::GatewayBot,
        ["users", "@me"] if m == "GET" => Route::CurrentUser,
        ["users", "@me", "channels"] if m == "POST" => Route::CreateDm,
        ["applications", "@me"] | ["oauth2", "applications", "@me"] if m == "GET" => {
            Route::CurrentApplication
        }
        ["applications", app, "commands"] => {
            let app = id(app).ok_or(404u16)?;
            match m {
                "PUT" => Route::PutCommands(app, None),
                "GET" => Route::GetCommands(app, None),
                _ => return Err(405),
            }
        }
        ["applications", app, "guilds", g, "commands"] => {
            let (app, g) = (id(app).ok_or(404u16)?, id(g).ok_or(404u16)?);
            match m {
                "PUT" => Route::PutCommands(app, Some(g)),
                "GET" => Route::GetCommands(app, Some(g)),
                _ => return Err(405),
            }
        }
        ["interactions", i, t, "callback"] => match m {
            "POST" => Route::InteractionCallback(id(i).ok_or(404u16)?, t.to_string()),
            _ => return Err(405),
        },
        ["gateway"] | ["gateway", "bot"] | ["users", "@me"] | ["users", "@me", "channels"] => {
            return Err(405);
        }
        _ => return Err(404),
    };
    Ok(r)
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

// ---- rate limits -------------------------------------------------------

fn bucket_hash(name: &str) -> String {
    // FNV-1a: opaque and stable, like Discord's bucket hashes.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

fn window_for(st: &State, route: &Route) -> Option<Window> {
    let l = &st.limits;
    match route {
        Route::CreateMessage(..) => l.create_message,
        Route::EditMessage(..) => l.edit_message,
        Route::DeleteMessage(..) => l.delete_message,
        Route::Crosspost(..) => l.crosspost,
        Route::ExecuteWebhook(..)
        | Route::GetWebhook(..)
        | Route::GetWebhookMessage(..)
        | Route::EditWebhookMessage(..)
        | Route::DeleteWebhookMessage(..) => l.webhook,
        _ => l.other,
    }
}

#[derive(Clone, Debug)]
struct RateInfo {
    state: BucketState,
    hash: String,
}

fn rate_headers(h: &mut HeaderMap, info: &RateInfo) {
    let s = &info.state;
    let mut put = |k: &'static str, v: String| {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    };
    put("x-ratelimit-limit", s.limit.to_string());
    put("x-ratelimit-remaining", s.remaining.to_string());
    put("x-ratelimit-reset", format!("{:.3}", unix_f64(s.reset_at)));
    put(
        "x-ratelimit-reset-after",
        format!("{:.3}", s.reset_after.as_secs_f64()),
    );
    put("x-ratelimit-bucket", info.hash.clone());
}

fn limited(retry: Duration, global: bool, scope: &str, info: Option<&RateInfo>) -> Response {
    let secs = (retry.as_secs_f64() * 1000.0).ceil() / 1000.0;
    let body =
        json!({"message": "You are being rate limited.", "retry_after": secs, "global": global});
    let mut r = json_response(429, Some(&body));
    let h = r.headers_mut();
    if let Some(i) = info {
        rate_headers(h, i);
    }
    let ceil = retry.as_secs() + u64::from(retry.subsec_nanos() > 0);
    if let Ok(v) = HeaderValue::from_str(&ceil.max(1).to_string()) {
        h.insert(header::RETRY_AFTER, v);
    }
    if let Ok(v) = HeaderValue::from_str(scope) {
        h.insert("x-ratelimit-scope", v);
    }
    if global {
        h.insert("x-ratelimit-global", HeaderValue::from_static("true"));
    }
    r
}

fn json_response(status: u16, body: Option<&Value>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match body {
        Some(b) => (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            b.to_string(),
        )
            .into_response(),
        None => status.into_response(),
    }
}

// ---- the handler ---------------------------------------------------------

fn log(sh: &Shared, mut rec: RequestRecord, status: u16, error: Option<String>, invalid: bool) {
    rec.status = status;
    rec.error = error;
    let mut st = sh.lock();
    if invalid {
        st.invalid.push(rec.at);
    }
    st.requests.push(rec);
}

fn error_message(body: &Value) -> Option<String> {
    body.get("message")
        .and_then(Value::as_str)
        .map(str::to_string)
}

fn is_invalid(status: u16) -> bool {
    matches!(status, 401 | 403 | 429)
}

fn redact(path: &str, route: &Result<Route, u16>) -> String {
    match route {
        Ok(
            Route::ExecuteWebhook(_, t)
            | Route::GetWebhook(_, t)
            | Route::GetWebhookMessage(_, t, _)
            | Route::EditWebhookMessage(_, t, _)
            | Route::DeleteWebhookMessage(_, t, _)
            | Route::InteractionCallback(_, t),
        ) => path.replace(t.as_str(), "<token>"),
        _ => path.to_string(),
    }
}

async fn handle(AxState(sh): AxState<Arc<Shared>>, req: Request) -> Response {
    let kill = req
        .extensions()
        .get::<ConnKill>()
        .cloned()
        .unwrap_or_default();
    let (parts, body) = req.into_parts();
    let method = parts.method.to_string();
    let path = parts.uri.path().to_string();
    let query: Vec<(String, String)> = parts
        .uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    if let Some(r) = super::cdn::serve(&sh, &method, &path) {
        return r;
    }
    let route = route(&method, &path);
    let mut rec = RequestRecord {
        at: sh.clock.now(),
        elapsed: sh.started.elapsed(),
        http_method: method.clone(),
        path: redact(&path, &route),
        name: String::new(),
        target: None,
        status: 0,
        error: None,
        fault: None,
        params: Value::Null,
    };
    let body = read_body(body, BODY_LIMIT).await;
    let route = match route {
        Ok(r) => r,
        Err(code) => {
            let msg = if code == 405 {
                "405: Method Not Allowed"
            } else {
                "404: Not Found"
            };
            let b = json!({"message": msg, "code": 0});
            log(&sh, rec, code, Some(msg.into()), false);
            return json_response(code, Some(&b));
        }
    };
    rec.name = route.name().to_string();
    let targets = route.targets(&query);
    rec.target = targets.first().cloned();
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let parsed = parse_body(body.as_deref(), &content_type);
    if let Ok((v, _)) = &parsed {
        rec.params = v.clone();
    }

    let now = sh.clock.now();
    let (bucket_name, major) = route.bucket();
    let hash = bucket_hash(bucket_name);
    let current_info = |st: &State| -> Option<RateInfo> {
        st.buckets
            .get(&(bucket_name.to_string(), major.clone()))
            .map(|b| RateInfo {
                state: b.state(now),
                hash: hash.clone(),
            })
            .or_else(|| {
                window_for(st, &route).map(|w| RateInfo {
                    state: FixedBucket::new(w, now).state(now),
                    hash: hash.clone(),
                })
            })
    };

    // Faults first: they model the network and Discord's front ends.
    let fault = sh.lock().faults.take(route.name(), &targets);
    rec.fault = fault.as_ref().map(Fault::name);
    let mut after = None;
    match fault {
        Some(Fault::Status(code, body)) => {
            let body = if body.is_null() {
                let reason = StatusCode::from_u16(code)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("Error");
                json!({"message": format!("{code}: {reason}"), "code": 0})
            } else {
                body
            };
            log(&sh, rec, code, error_message(&body), is_invalid(code));
            return json_response(code, Some(&body));
        }
        Some(Fault::RateLimit(d)) => {
            let info = current_info(&sh.lock());
            log(
                &sh,
                rec,
                429,
                Some("You are being rate limited.".into()),
                true,
            );
            return limited(d, false, "user", info.as_ref());
        }
        Some(Fault::EchoPathHtml(code)) => {
            log(
                &sh,
                rec,
                code,
                Some("HTML error page".into()),
                is_invalid(code),
            );
            let pq = parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_default();
            return crate::fault::echo_path_html(code, parts.method.as_str(), &pq);
        }
        Some(Fault::DropBeforeApply) => {
            log(&sh, rec, 0, None, false);
            return kill.drop_connection().await;
        }
        Some(Fault::Delay(d)) => tokio::time::sleep(d).await,
        Some(f @ (Fault::ApplyThenDrop | Fault::DelayAfterApply(_))) => after = Some(f),
        None => {}
    }

    // Authentication.
    if route.needs_bot_auth() {
        let auth = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if auth.strip_prefix("Bot ") != Some(sh.token.as_str()) {
            let info = current_info(&sh.lock());
            let b = json!({"message": "401: Unauthorized", "code": 0});
            log(&sh, rec, 401, error_message(&b), true);
            let mut r = json_response(401, Some(&b));
            if let Some(i) = &info {
                rate_headers(r.headers_mut(), i);
            }
            return r;
        }
    }

    // Rate limits: the global one (bot requests, not interactions), then
    // the route's bucket.
    let info = {
        let mut st = sh.lock();
        if route.needs_bot_auth()
            && let Some(w) = st.limits.global
        {
            let g = st.global.get_or_insert_with(|| FixedBucket::new(w, now));
            if let Err(s) = g.hit(now) {
                drop(st);
                log(
                    &sh,
                    rec,
                    429,
                    Some("You are being rate limited.".into()),
                    true,
                );
                return limited(s.reset_after, true, "global", None);
            }
        }
        match window_for(&st, &route) {
            Some(w) => {
                let b = st
                    .buckets
                    .entry((bucket_name.to_string(), major.clone()))
                    .or_insert_with(|| FixedBucket::new(w, now));
                match b.hit(now) {
                    Ok(s) => Some(RateInfo {
                        state: s,
                        hash: hash.clone(),
                    }),
                    Err(s) => {
                        let info = RateInfo {
                            state: s,
                            hash: hash.clone(),
                        };
                        drop(st);
                        log(
                            &sh,
                            rec,
                            429,
                            Some("You are being rate limited.".into()),
                            true,
                        );
                        return limited(s.reset_after, false, "user", Some(&info));
                    }
                }
            }
            None => None,
        }
    };

    let reply = match parsed {
        Err(e) => Err(e),
        Ok((body, (mut attachments, contents))) => {
            let mut st = sh.lock();
            let channel = targets.first().and_then(|t| t.parse().ok()).unwrap_or(0);
            for (a, bytes) in attachments.iter_mut().zip(contents) {
                let id = sh.snowflake(&mut st);
                let name = a["filename"].as_str().unwrap_or("file").to_string();
                let url = super::cdn::host(&mut st, channel, id, &name, bytes);
                a["id"] = json!(id.to_string());
                a["proxy_url"] = json!(url.clone());
                a["url"] = json!(url);
            }
            dispatch(&sh, &mut st, &route, &query, body, attachments)
        }
    };
    match after {
        Some(Fault::ApplyThenDrop) => {
            log(&sh, rec, 0, None, false);
            return kill.drop_connection().await;
        }
        Some(Fault::DelayAfterApply(d)) => tokio::time::sleep(d).await,
        _ => {}
    }
    let mut resp = match reply {
        Ok((status, body)) => {
            log(&sh, rec, status, None, false);
            json_response(status, body.as_ref())
        }
        Err(e) => {
            log(
                &sh,
                rec,
                e.status,
                error_message(&e.body),
                is_invalid(e.status),
            );
            json_response(e.status, Some(&e.body))
        }
    };
    if let Some(i) = &info {
        rate_headers(resp.headers_mut(), i);
    }
    resp
}

/// Attachments as the message will show them, and their contents.
type Files = (Vec<Value>, Vec<Vec<u8>>);

/// JSON body, or multipart with `payload_json` (+ `files[n]` parts,
/// recorded as attachments; every `attachments[].id` of the payload must
/// name an uploaded `files[n]`). An empty body is `{}`.
fn parse_body(body: Option<&[u8]>, content_type: &str) -> Result<(Value, Files), DcError> {
    let invalid_json = || derr(400, 50109, "The request body contains invalid JSON.");
    let Some(body) = body else {
        return Err(derr(413, 40005, "Request entity too large"));
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok((json!({}), (Vec::new(), Vec::new())));
    }
    if content_type
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
    {
        let p = Params::parse(None, Some(content_type), body).map_err(|_| invalid_json())?;
        let payload = match p.map.get("payload_json").and_then(Value::as_str) {
            Some(s) => serde_json::from_str(s).map_err(|_| invalid_json())?,
            None => json!({}),
        };
        let mut files: Vec<(&String, &crate::telegram::UploadedFile)> = p.files.iter().collect();
        files.sort_by(|a, b| a.0.cmp(b.0));
        check_attachment_ids(&payload, &p)?;
        let (attachments, contents): Files = files
            .into_iter()
            .enumerate()
            .map(|(i, (_, f))| {
                let a = json!({
                    "id": i.to_string(),
                    "filename": f.file_name.clone().unwrap_or_default(),
                    "size": f.size,
                    "url": "https://cdn.discordapp.com/attachments/fake",
                    "proxy_url": "https://media.discordapp.net/attachments/fake",
                });
                (a, f.bytes.clone())
            })
            .unzip();
        return Ok((payload, (attachments, contents)));
    }
    let v = serde_json::from_slice(body).map_err(|_| invalid_json())?;
    Ok((v, (Vec::new(), Vec::new())))
}

/// Each `attachments[].id` of a multipart payload names a `files[id]`
/// part (50035 Invalid Form Body otherwise).
fn check_attachment_ids(payload: &Value, p: &Params) -> Result<(), DcError> {
    let mut errors = Map::new();
    for (i, a) in array(payload, "attachments").iter().enumerate() {
        let id = match a.get("id") {
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::String(s)) => s.clone(),
            _ => continue,
        };
        if !p.files.contains_key(&format!("files[{id}]")) {
            errors.insert(
                format!("attachments.{i}"),
                json!({"_errors": [{"code": "ATTACHMENT_NOT_FOUND", "message": "Attachment data not found"}]}),
            );
        }
    }
    if errors.is_empty() {
        return Ok(());
    }
    Err(DcError {
        status: 400,
        body: json!({"message": "Invalid Form Body", "code": 50035, "errors": errors}),
    })
}

fn query_get<'a>(q: &'a [(String, String)], key: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn dispatch(
    sh: &Shared,
    st: &mut State,
    route: &Route,
    q: &[(String, String)],
    body: Value,
    attachments: Vec<Value>,
) -> Reply {
    match route {
        Route::CreateMessage(c) => create_message(sh, st, *c, &body, attachments),
        Route::GetMessage(c, m) => {
            bot_channel(st, *c)?;
            let msg = find(st, *c, *m).ok_or_else(unknown_message)?.clone();
            Ok((200, Some(message_json(st, &msg))))
        }
        Route::EditMessage(c, m) => edit_bot_message(sh, st, *c, *m, &body),
        Route::DeleteMessage(c, m) => delete_bot_message(st, *c, *m),
        Route::Crosspost(c, m) => crosspost(st, *c, *m),
        Route::ExecuteWebhook(w, t) => {
            if let Some(iid) = interaction_by_token(st, *w, t) {
                return followup(sh, st, iid, &body, attachments);
            }
            execute_webhook(sh, st, *w, t, q, &body, attachments)
        }
        Route::GetWebhook(w, t) => {
            let h = webhook(st, *w, t)?;
            Ok((200, Some(webhook_json(st, &h))))
        }
        Route::GetWebhookMessage(w, t, m) => {
            let msg = webhook_message(st, *w, t, *m, q)?;
            Ok((200, Some(message_json(st, &msg))))
        }
        Route::EditWebhookMessage(w, t, m) => edit_webhook_message(sh, st, *w, t, *m, q, &body),
        Route::DeleteWebhookMessage(w, t, m) => {
            let msg = webhook_message(st, *w, t, *m, q)?;
            if let Some(x) = find_mut(st, msg.channel_id, msg.id) {
                x.deleted = true;
            }
            Ok((204, None))
        }
        Route::Gateway => Ok((200, Some(json!({"url": st.gateway_url})))),
        Route::GatewayBot => Ok((
            200,
            Some(json!({
                "url": st.gateway_url,
                "shards": 1,
                "session_start_limit": {
                    "total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1
                }
            })),
        )),
        Route::CurrentUser => Ok((200, Some(bot_user()))),
        Route::CreateDm => create_dm(sh, st, &body),
        Route::CurrentApplication => Ok((
            200,
            Some(json!({
                "id": FakeDiscord::APPLICATION_ID.to_string(),
                "name": FakeDiscord::BOT_USERNAME,
                "icon": null,
                "description": "",
                "bot_public": false,
                "bot_require_code_grant": false,
                "verify_key": "0".repeat(64),
                "flags": 0,
                "bot": bot_user(),
            })),
        )),
        Route::PutCommands(app, g) => put_commands(sh, st, *app, *g, &body),
        Route::GetCommands(app, g) => {
            check_app(st, *app, *g)?;
            Ok((
                200,
                Some(Value::Array(
                    st.commands.get(g).cloned().unwrap_or_default(),
                )),
            ))
        }
        Route::InteractionCallback(i, t) => interaction_callback(sh, st, *i, t, q, &body),
        Route::GetChannel(c) => perms::get_channel(st, *c),
        Route::GetGuildMember(g, u) => perms::get_member(st, *g, *u),
        Route::GetGuildRoles(g) => perms::get_roles(st, *g),
    }
}

// ---- JSON shapes ---------------------------------------------------------

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

fn user_json(id: u64) -> Value {
    json!({
        "id": id.to_string(),
        "username": format!("user{}", id % 100_000),
        "discriminator": "0",
        "global_name": null,
        "avatar": null,
        "public_flags": 0,
    })
}

fn webhook_json(st: &State, h: &DcWebhook) -> Value {
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

// ---- channels, messages, webhooks -----------------------------------------

fn bot_channel(st: &State, id: u64) -> Result<DcChannel, DcError> {
    let c = st.channels.get(&id).cloned().ok_or_else(unknown_channel)?;
    let access = match c.kind {
        ChannelKind::Thread { parent } => st
            .channels
            .get(&parent)
            .map(|p| {
                if c.access == Access::Ok {
                    p.access
                } else {
                    c.access
                }
            })
            .unwrap_or(c.access),
        _ => c.access,
    };
    match access {
        Access::Ok => Ok(c),
        Access::MissingAccess => Err(derr(403, 50001, "Missing Access")),
        Access::MissingPermissions => Err(derr(403, 50013, "Missing Permissions")),
    }
}

fn find(st: &State, channel: u64, id: u64) -> Option<&DcMessage> {
    st.messages
        .get(&channel)?
        .iter()
        .find(|m| m.id == id && !m.deleted)
}

fn find_mut(st: &mut State, channel: u64, id: u64) -> Option<&mut DcMessage> {
    st.messages
        .get_mut(&channel)?
        .iter_mut()
        .find(|m| m.id == id && !m.deleted)
}

fn webhook(st: &State, id: u64, token: &str) -> Result<DcWebhook, DcError> {
    let h = st
        .webhooks
        .get(&id)
        .filter(|h| !h.deleted)
        .cloned()
        .ok_or_else(unknown_webhook)?;
    if h.token != token {
        return Err(derr(401, 50027, "Invalid Webhook Token"));
    }
    Ok(h)
}

fn interaction_by_token(st: &State, app: u64, token: &str) -> Option<u64> {
    if app != FakeDiscord::APPLICATION_ID {
        return None;
    }
    st.interactions
        .values()
        .find(|i| i.token == token)
        .map(|i| i.id)
}

// ---- validation ----------------------------------------------------------

fn non_empty_array(body: &Value, key: &str) -> bool {
    body.get(key)
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty())
}

/// The formatter's strict validator, then nonce and allowed_mentions rules,
/// then the empty-message rule.
fn validate_message(
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

fn ids(v: Option<&Value>) -> Vec<u64> {
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

fn array(body: &Value, key: &str) -> Vec<Value> {
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

fn new_message(
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

fn push(st: &mut State, m: DcMessage) -> Value {
    let j = message_json(st, &m);
    st.messages.entry(m.channel_id).or_default().push(m);
    j
}

fn apply_edit(sh: &Shared, m: &mut DcMessage, body: &Value) {
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

// ---- bot routes ------------------------------------------------------------

fn create_message(
    sh: &Shared,
    st: &mut State,
    channel_id: u64,
    body: &Value,
    attachments: Vec<Value>,
) -> Reply {
    let ch = bot_channel(st, channel_id)?;
    if ch.kind == ChannelKind::Forum {
        return Err(derr(
            400,
            50008,
            "Cannot send messages in a non-text channel",
        ));
    }
    validate_message(body, true, false, !attachments.is_empty())?;
    let nonce = body
        .get("nonce")
        .filter(|n| n.is_string() || n.is_number())
        .cloned();
    let enforce = body
        .get("enforce_nonce")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let key = nonce.as_ref().map(|n| match n {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    });
    let now = sh.clock.now();
    if enforce && let Some(k) = &key {
        let window = st.nonce_window;
        if let Some((mid, at)) = st.nonces.get(&(channel_id, k.clone())).copied()
            && since(now, at) < window
            && let Some(existing) = st
                .messages
                .get(&channel_id)
                .and_then(|v| v.iter().find(|m| m.id == mid))
                .cloned()
        {
            return Ok((200, Some(message_json(st, &existing))));
        }
    }
    let mut m = new_message(sh, st, channel_id, Author::Bot, body, attachments);
    m.nonce = nonce;
    if enforce && let Some(k) = key {
        st.nonces.insert((channel_id, k), (m.id, now));
    }
    Ok((200, Some(push(st, m))))
}

fn edit_bot_message(sh: &Shared, st: &mut State, channel_id: u64, id: u64, body: &Value) -> Reply {
    bot_channel(st, channel_id)?;
    let m = find(st, channel_id, id).ok_or_else(unknown_message)?;
    if m.author != Author::Bot {
        return Err(derr(
            403,
            50005,
            "Cannot edit a message authored by another user",
        ));
    }
    validate_message(body, false, true, false)?;
    let Some(m) = find_mut(st, channel_id, id) else {
        return Err(unknown_message());
    };
    apply_edit(sh, m, body);
    let m = m.clone();
    Ok((200, Some(message_json(st, &m))))
}

fn delete_bot_message(st: &mut State, channel_id: u64, id: u64) -> Reply {
    bot_channel(st, channel_id)?;
    let m = find(st, channel_id, id).ok_or_else(unknown_message)?;
    if m.author != Author::Bot {
        // Deleting others' messages needs MANAGE_MESSAGES, which the fake's
        // bot does not have.
        return Err(derr(403, 50013, "Missing Permissions"));
    }
    if let Some(m) = find_mut(st, channel_id, id) {
        m.deleted = true;
    }
    Ok((204, None))
}

fn crosspost(st: &mut State, channel_id: u64, id: u64) -> Reply {
    let ch = bot_channel(st, channel_id)?;
    if ch.kind != ChannelKind::Announcement {
        return Err(derr(
            400,
            50024,
            "Cannot execute action on this channel type",
        ));
    }
    let m = find_mut(st, channel_id, id).ok_or_else(unknown_message)?;
    if m.crossposted {
        return Err(derr(
            400,
            40033,
            "This message has already been crossposted.",
        ));
    }
    m.crossposted = true;
    m.flags |= CROSSPOSTED;
    let m = m.clone();
    Ok((200, Some(message_json(st, &m))))
}

// ---- webhooks ----------------------------------------------------------------

fn execute_webhook(
    sh: &Shared,
    st: &mut State,
    id: u64,
    token: &str,
    q: &[(String, String)],
    body: &Value,
    attachments: Vec<Value>,
) -> Reply {
    let hook = webhook(st, id, token)?;
    let channel = st
        .channels
        .get(&hook.channel_id)
        .cloned()
        .ok_or_else(unknown_channel)?;
    let wait = query_get(q, "wait").is_some_and(|w| w.eq_ignore_ascii_case("true") || w == "1");
    let thread_id = match query_get(q, "thread_id") {
        Some(t) => Some(id_or_unknown_channel(t)?),
        None => None,
    };
    let thread_name = body
        .get("thread_name")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .map(str::to_string);
    validate_message(body, false, false, !attachments.is_empty())?;
    let body = &without_components_unless_asked(body, q);
    let target = match (channel.kind, thread_id, &thread_name) {
        (ChannelKind::Forum, Some(_), Some(_)) => {
            return Err(derr(
                400,
                220002,
                "Webhooks posted to forum channels cannot have both a thread_name and thread_id",
            ));
        }
        (ChannelKind::Forum, None, None) => {
            return Err(derr(
                400,
                220001,
                "Webhooks posted to forum channels must have a thread_name or thread_id",
            ));
        }
        (kind, None, Some(_)) if kind != ChannelKind::Forum => {
            return Err(derr(
                400,
                220003,
                "Webhooks can only create threads in forum channels",
            ));
        }
        (_, Some(t), _) => {
            let ok = st.channels.get(&t).is_some_and(|c| {
                c.kind
                    == ChannelKind::Thread {
                        parent: hook.channel_id,
                    }
            });
            if !ok {
                return Err(unknown_channel());
            }
            t
        }
        (_, None, Some(name)) => {
            // A new forum post: the thread's id is its first message's id.
            let tags = ids(body.get("applied_tags"));
            if channel.require_tag && tags.is_empty() {
                return Err(derr(
                    400,
                    40067,
                    "A tag is required to create a forum post in this channel",
                ));
            }
            let tid = sh.snowflake(st);
            st.channels.insert(
                tid,
                DcChannel {
                    id: tid,
                    guild_id: channel.guild_id,
                    kind: ChannelKind::Thread { parent: channel.id },
                    name: name.clone(),
                    access: Access::Ok,
                    available_tags: Vec::new(),
                    require_tag: false,
                    applied_tags: tags,
                },
            );
            tid
        }
        (_, None, None) => hook.channel_id,
    };
    let author = Author::Webhook {
        webhook_id: hook.id,
        username: body
            .get("username")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .unwrap_or(&hook.name)
            .to_string(),
        avatar_url: body
            .get("avatar_url")
            .and_then(Value::as_str)
            .map(str::to_string),
    };
    let mut m = new_message(sh, st, target, author, body, attachments);
    if thread_name.is_some() {
        // The forum post's id and its starter message's id are the same.
        m.id = target;
    }
    let j = push(st, m);
    if wait {
        Ok((200, Some(j)))
    } else {
        Ok((204, None))
    }
}

/// Webhooks not owned by an application (all of the fake's) ignore
/// `components` unless the request says `?with_components=true`.
fn without_components_unless_asked(body: &Value, q: &[(String, String)]) -> Value {
    let asked = query_get(q, "with_components").is_some_and(|w| w.eq_ignore_ascii_case("true"));
    let mut body = body.clone();
    if !asked && let Value::Object(o) = &mut body {
        o.remove("components");
    }
    body
}

fn id_or_unknown_channel(s: &str) -> Result<u64, DcError> {
    id(s).ok_or_else(unknown_channel)
}

/// A message of a webhook (or of an interaction, by its token).
fn webhook_message(
    st: &State,
    id: u64,
    token: &str,
    m: MsgRef,
    q: &[(String, String)],
) -> Result<DcMessage, DcError> {
    if let Some(iid) = interaction_by_token(st, id, token) {
        let i = st.interactions.get(&iid).ok_or_else(unknown_webhook)?;
        let mid = match m {
            MsgRef::Original => i.original.ok_or_else(unknown_message)?,
            MsgRef::Id(x) if i.original == Some(x) || i.followups.contains(&x) => x,
            MsgRef::Id(_) => return Err(unknown_message()),
        };
        return find(st, i.channel_id, mid)
            .cloned()
            .ok_or_else(unknown_message);
    }
    let hook = webhook(st, id, token)?;
    let MsgRef::Id(mid) = m else {
        return Err(unknown_message());
    };
    let channel = match query_get(q, "thread_id") {
        Some(t) => id_or_unknown_channel(t)?,
        None => hook.channel_id,
    };
    let msg = find(st, channel, mid)
        .cloned()
        .ok_or_else(unknown_message)?;
    match &msg.author {
        Author::Webhook { webhook_id, .. } if *webhook_id == hook.id => Ok(msg),
        _ => Err(unknown_message()),
    }
}

fn edit_webhook_message(
    sh: &Shared,
    st: &mut State,
    id: u64,
    token: &str,
    m: MsgRef,
    q: &[(String, String)],
    body: &Value,
) -> Reply {
    // A deferred interaction's original response is created by this edit.
    if m == MsgRef::Original
        && let Some(iid) = interaction_by_token(st, id, token)
        && let Some(i) = st.interactions.get(&iid).cloned()
        && i.original.is_none()
    {
        if i.callbacks.is_empty() {
            return Err(unknown_message());
        }
        if since(sh.clock.now(), i.created) > INTERACTION_TOKEN_LIFE {
            return Err(derr(401, 50027, "Invalid Webhook Token"));
        }
        validate_message(body, false, false, false)?;
        validate_buttons(body)?;
        // A deferred response's flags (ephemeral) carry over.
        let deferred_flags = i
            .callbacks
            .first()
            .and_then(|c| c.pointer("/data/flags"))
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let mut msg = new_message(
            sh,
            st,
            i.channel_id,
            Author::Interaction {
                interaction_id: iid,
            },
            body,
            Vec::new(),
        );
        msg.flags |= deferred_flags & EPHEMERAL;
        let mid = msg.id;
        let j = push(st, msg);
        if let Some(i) = st.interactions.get_mut(&iid) {
            i.original = Some(mid);
        }
        return Ok((200, Some(j)));
    }
    if let Some(iid) = interaction_by_token(st, id, token)
        && let Some(i) = st.interactions.get(&iid)
        && since(sh.clock.now(), i.created) > INTERACTION_TOKEN_LIFE
    {
        return Err(derr(401, 50027, "Invalid Webhook Token"));
    }
    let msg = webhook_message(st, id, token, m, q)?;
    validate_message(body, false, true, false)?;
    validate_buttons(body)?;
    let body = &if interaction_by_token(st, id, token).is_some() {
        // Application-owned: components are kept.
        body.clone()
    } else {
        without_components_unless_asked(body, q)
    };
    let Some(x) = find_mut(st, msg.channel_id, msg.id) else {
        return Err(unknown_message());
    };
    apply_edit(sh, x, body);
    let x = x.clone();
    Ok((200, Some(message_json(st, &x))))
}

// ---- interactions ------------------------------------------------------------

fn interaction_callback(
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

fn followup(sh: &Shared, st: &mut State, iid: u64, body: &Value, attachments: Vec<Value>) -> Reply {
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
fn validate_buttons(body: &Value) -> Result<(), DcError> {
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

// ---- direct messages ------------------------------------------------------------

fn create_dm(sh: &Shared, st: &mut State, body: &Value) -> Reply {
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
    let c = super::gateway::dm_channel(sh, st, user);
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

// ---- application commands ------------------------------------------------------

fn check_app(st: &State, app: u64, guild: Option<u64>) -> Result<(), DcError> {
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

fn put_commands(sh: &Shared, st: &mut State, app: u64, guild: Option<u64>, body: &Value) -> Reply {
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
