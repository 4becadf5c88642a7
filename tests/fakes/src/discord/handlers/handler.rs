//! The handler: every request logged, faults, rate limits, the body read,
//! then dispatched to its route.

use std::sync::Arc;

use axum::extract::{Request, State as AxState};
use axum::http::{StatusCode, header};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::super::{FakeDiscord, Shared, State};
use super::app_commands::{check_app, put_commands};
use super::bot_routes::{create_message, crosspost, delete_bot_message, edit_bot_message};
use super::dms::create_dm;
use super::interactions::{followup, interaction_callback};
use super::lookup::{bot_channel, find, find_mut, interaction_by_token, webhook};
use super::rate_limits::{RateInfo, bucket_hash, json_response, limited, rate_headers, window_for};
use super::shapes::{bot_user, message_json, webhook_json};
use super::validation::array;
use super::webhooks::{edit_webhook_message, execute_webhook, webhook_message};
use super::{BODY_LIMIT, DcError, Reply, Route, derr, perms, route, unknown_message};
use crate::fault::Fault;
use crate::log::RequestRecord;
use crate::ratelimit::FixedBucket;
use crate::server::{ConnKill, read_body};
use crate::telegram::params::Params;

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

pub(super) async fn handle(AxState(sh): AxState<Arc<Shared>>, req: Request) -> Response {
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
    if let Some(r) = super::super::cdn::serve(&sh, &method, &path) {
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
                let url = super::super::cdn::host(&mut st, channel, id, &name, bytes);
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
pub(super) type Files = (Vec<Value>, Vec<Vec<u8>>);

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

pub(super) fn query_get<'a>(q: &'a [(String, String)], key: &str) -> Option<&'a str> {
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
