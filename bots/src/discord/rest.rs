//! A small REST layer for the few Discord endpoints delivery needs, with
//! Crier's own rate limiter in front of every request.
//!
//! Why not serenity's `Http`: with serenity's rate limiter on, its proxy
//! setting is ignored (serenity#1739), so tests could not point it at a
//! fake; with the limiter off, a 429's headers and `retry_after` are not
//! exposed. Owning these calls keeps one rate-limit code path for tests and
//! production. serenity stays the library for the gateway and models.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use url::Url;

use super::ratelimit::{Blocked, RateLimiter, RouteKey, Settings};

mod app;
mod messages;

/// A failed REST call.
#[derive(Debug, Clone, PartialEq)]
pub enum RestError {
    /// The request never reached Discord (connection refused, DNS…), or it
    /// may have: `sent` tells whether the outcome is unknown.
    Network { sent: bool, message: String },
    /// Discord answered with an error.
    Status {
        status: u16,
        /// Discord's JSON error code (10003 Unknown Channel…), when given.
        code: Option<u64>,
        message: String,
        errors: Option<Value>,
        retry_after: Option<f64>,
        global: bool,
    },
    /// The invalid-request guard stopped the request.
    Guard { count: u32, wait: Duration },
    /// A request that must not wait (a crosspost) found its route limited
    /// for this long; it was not sent.
    Busy { wait: Duration },
    /// A success answer we could not read.
    Decode(String),
}

impl std::fmt::Display for RestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RestError::Network { sent, message } => write!(
                f,
                "network error{}: {message}",
                if *sent { " (outcome unknown)" } else { "" }
            ),
            RestError::Status {
                status,
                code,
                message,
                errors,
                ..
            } => {
                write!(f, "HTTP {status}")?;
                if let Some(c) = code {
                    write!(f, " code {c}")?;
                }
                write!(f, ": {message}")?;
                if let Some(e) = errors {
                    write!(f, " {e}")?;
                }
                Ok(())
            }
            RestError::Guard { count, wait } => write!(
                f,
                "invalid-request guard: {count} invalid requests in 10 minutes; sending paused for {}s",
                wait.as_secs()
            ),
            RestError::Busy { wait } => write!(
                f,
                "rate limited for another {}s; not sent",
                wait.as_secs_f64().ceil()
            ),
            RestError::Decode(m) => write!(f, "cannot read Discord's answer: {m}"),
        }
    }
}

/// A webhook, parsed from its URL.
#[derive(Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: String,
    pub token: String,
    /// `scheme://host[:port]/api`.
    pub api: String,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token is a secret: never print it.
        write!(f, "Webhook({} at {})", self.id, self.api)
    }
}

impl Webhook {
    /// Parse `https://discord.com/api[/vN]/webhooks/{id}/{token}`.
    pub fn parse(url: &Url) -> Result<Webhook, String> {
        let segs: Vec<&str> = url
            .path_segments()
            .map(|s| s.filter(|p| !p.is_empty()).collect())
            .unwrap_or_default();
        let pos = segs
            .iter()
            .position(|s| *s == "webhooks")
            .ok_or("not a webhook URL (no /webhooks/ in the path)")?;
        let (Some(id), Some(token)) = (segs.get(pos + 1), segs.get(pos + 2)) else {
            return Err("not a webhook URL (expected /webhooks/ID/TOKEN)".into());
        };
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
            return Err("the webhook id is not numeric".into());
        }
        let host = url.host_str().ok_or("the webhook URL has no host")?;
        let mut api = format!("{}://{}", url.scheme(), host);
        if let Some(port) = url.port() {
            api.push_str(&format!(":{port}"));
        }
        api.push_str("/api");
        crate::scrub::register_secret(token);
        Ok(Webhook {
            id: id.to_string(),
            token: token.to_string(),
            api,
        })
    }
}

/// What a created or edited message is known by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedMessage {
    pub id: String,
    pub channel_id: String,
    pub guild_id: Option<String>,
}

pub struct RestClient {
    http: reqwest::Client,
    api: String,
    token: Option<String>,
    limiter: RateLimiter,
}

impl std::fmt::Debug for RestClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RestClient({})", self.api)
    }
}

fn message_from(v: &Value) -> Result<CreatedMessage, RestError> {
    let s = |k: &str| -> Option<String> {
        match v.get(k)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    Ok(CreatedMessage {
        id: s("id").ok_or_else(|| RestError::Decode("no message id".into()))?,
        channel_id: s("channel_id").unwrap_or_default(),
        guild_id: s("guild_id"),
    })
}

/// A request's body.
#[derive(Clone, Copy)]
enum Body<'a> {
    Empty,
    Json(&'a Value),
    /// A message with one file.
    WithFile {
        payload: &'a Value,
        name: &'a str,
        bytes: &'a [u8],
    },
}

impl RestClient {
    /// `api_url` is the base (`https://discord.com/api`); `/v10` is appended.
    pub fn new(
        api_url: &Url,
        token: Option<String>,
        settings: Settings,
        timeout: Duration,
    ) -> Result<RestClient, String> {
        if let Some(t) = &token {
            crate::scrub::register_secret(t);
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!(
                "DiscordBot (https://github.com/crier-bot/crier, ",
                env!("CARGO_PKG_VERSION"),
                ")"
            ))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(RestClient {
            http,
            api: api_url.as_str().trim_end_matches('/').to_string(),
            token,
            limiter: RateLimiter::new(settings),
        })
    }

    pub fn limiter(&self) -> &RateLimiter {
        &self.limiter
    }

    async fn call(
        &self,
        method: Method,
        url: String,
        route: RouteKey,
        body: Option<&Value>,
        bot_auth: bool,
    ) -> Result<Option<Value>, RestError> {
        let body = body.map_or(Body::Empty, Body::Json);
        self.call_with(method, url, route, body, bot_auth, true)
            .await
    }

    /// `wait`: wait for the route's rate limit (the normal case), or give
    /// up at once with [`RestError::Busy`].
    async fn call_with(
        &self,
        method: Method,
        url: String,
        route: RouteKey,
        body: Body<'_>,
        bot_auth: bool,
        wait: bool,
    ) -> Result<Option<Value>, RestError> {
        let acquired = if wait {
            self.limiter.acquire(&route).await
        } else {
            match self.limiter.try_acquire(&route) {
                Ok(None) => Ok(()),
                Ok(Some(wait)) => return Err(RestError::Busy { wait }),
                Err(e) => Err(e),
            }
        };
        if let Err(Blocked::Guard { count, wait }) = acquired {
            return Err(RestError::Guard { count, wait });
        }
        let mut req = self.http.request(method, &url);
        if bot_auth && let Some(t) = &self.token {
            req = req.header("Authorization", format!("Bot {t}"));
        }
        match body {
            Body::Empty => {}
            Body::Json(b) => req = req.json(b),
            Body::WithFile {
                payload,
                name,
                bytes,
            } => {
                // Discord's multipart form: the JSON as `payload_json`, the
                // file as `files[0]` (its `attachments[0]` entry has id 0).
                let part = reqwest::multipart::Part::bytes(bytes.to_vec())
                    .file_name(name.to_string())
                    .mime_str("application/octet-stream")
                    .map_err(|e| RestError::Network {
                        sent: false,
                        message: e.to_string(),
                    })?;
                let form = reqwest::multipart::Form::new()
                    .text("payload_json", payload.to_string())
                    .part("files[0]", part);
                req = req.multipart(form);
            }
        }
        let resp = req.send().await.map_err(|e| RestError::Network {
            // A refused connection never delivered anything; anything later may have.
            sent: !(e.is_connect() || e.is_builder()),
            message: describe(&e),
        })?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.map_err(|e| RestError::Network {
            sent: true,
            message: describe(&e),
        })?;
        let json: Option<Value> = if text.trim().is_empty() {
            None
        } else {
            serde_json::from_str(&text).ok()
        };
        let retry_after = json
            .as_ref()
            .and_then(|j| j.get("retry_after"))
            .and_then(Value::as_f64);
        let global = json
            .as_ref()
            .and_then(|j| j.get("global"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        self.limiter
            .update(&route, status.as_u16(), &headers, retry_after, global);
        if status.is_success() {
            return Ok(json);
        }
        let code = json
            .as_ref()
            .and_then(|j| j.get("code"))
            .and_then(Value::as_u64);
        let message = json
            .as_ref()
            .and_then(|j| j.get("message"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| {
                status
                    .canonical_reason()
                    .unwrap_or("unknown error")
                    .to_string()
            });
        Err(RestError::Status {
            status: status.as_u16(),
            code,
            message,
            errors: json.as_ref().and_then(|j| j.get("errors")).cloned(),
            retry_after: retry_after.or_else(|| {
                (status == StatusCode::TOO_MANY_REQUESTS)
                    .then(|| headers.get("retry-after")?.to_str().ok()?.parse().ok())
                    .flatten()
            }),
            global,
        })
    }

    /// A call answered by a message object.
    async fn call_message(
        &self,
        method: Method,
        url: String,
        route: RouteKey,
        body: Option<&Value>,
        bot_auth: bool,
        empty: &str,
    ) -> Result<CreatedMessage, RestError> {
        let v = self
            .call(method, url, route, body, bot_auth)
            .await?
            .ok_or_else(|| RestError::Decode(empty.into()))?;
        message_from(&v)
    }

    /// Webhook URLs carry `with_components=true`: without it Discord drops
    /// the `components` (our link button) of a webhook not owned by an
    /// application.
    fn webhook_url(
        w: &Webhook,
        tail: &str,
        thread: Option<&str>,
        wait: bool,
        components: bool,
    ) -> String {
        let mut url = format!("{}/v10/webhooks/{}/{}{tail}", w.api, w.id, w.token);
        let mut q = Vec::new();
        if wait {
            q.push("wait=true".to_string());
        }
        if let Some(t) = thread {
            q.push(format!("thread_id={t}"));
        }
        if components {
            q.push("with_components=true".to_string());
        }
        if !q.is_empty() {
            url.push('?');
            url.push_str(&q.join("&"));
        }
        url
    }

    fn webhook_route(template: &'static str, w: &Webhook) -> RouteKey {
        RouteKey {
            template,
            major: w.id.clone(),
        }
    }
}

/// Webhook tokens travel in URLs: keep them out of error texts.
fn redact(s: &str) -> String {
    crate::scrub::scrubbed(s)
}

/// A network error with its causes (the chain reqwest keeps behind its
/// one-line text) and without its URL or any token.
fn describe(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut s = String::from(if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else if e.is_body() || e.is_decode() {
        "the answer was cut off"
    } else {
        "request failed"
    });
    let mut src = e.source();
    while let Some(cause) = src {
        let c = cause.to_string();
        if !s.ends_with(&c) {
            s.push_str(": ");
            s.push_str(&c);
        }
        src = cause.source();
    }
    redact(&s)
}

#[cfg(test)]
mod tests;
