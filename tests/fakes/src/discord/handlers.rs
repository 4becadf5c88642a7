//! Request handling of the fake Discord REST API.
//!
//! This file: errors and routes. One file per concern beside it:
//! `handler.rs` (the request path), `rate_limits.rs`, `shapes.rs` (JSON),
//! `lookup.rs`, `validation.rs`, `bot_routes.rs`, `webhooks.rs`,
//! `interactions.rs`, `dms.rs`, `app_commands.rs`, `perms.rs`.

use std::sync::Arc;

use axum::Router;
use serde_json::{Map, Value, json};

use super::{SUPPRESS_EMBEDS, SUPPRESS_NOTIFICATIONS, Shared};

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

mod app_commands;
mod bot_routes;
mod dms;
mod handler;
mod interactions;
mod lookup;
mod perms;
mod rate_limits;
mod shapes;
mod validation;
mod webhooks;

use handler::handle;
pub use perms::{
    ATTACH_FILES, BOT_ROLE_ID, EMBED_LINKS, READ_MESSAGE_HISTORY, SEND_MESSAGES, VIEW_CHANNEL,
};
pub(crate) use shapes::{bot_user, message_json};

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
