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

    fn channel_route(template: &'static str, channel: &str) -> RouteKey {
        RouteKey {
            template,
            major: channel.to_string(),
        }
    }

    pub async fn create_message(
        &self,
        channel: &str,
        body: &Value,
    ) -> Result<CreatedMessage, RestError> {
        let url = format!("{}/v10/channels/{channel}/messages", self.api);
        self.call_message(
            Method::POST,
            url,
            Self::channel_route("POST /channels/{}/messages", channel),
            Some(body),
            true,
            "empty answer",
        )
        .await
    }

    pub async fn edit_message(
        &self,
        channel: &str,
        message: &str,
        body: &Value,
    ) -> Result<CreatedMessage, RestError> {
        let url = format!("{}/v10/channels/{channel}/messages/{message}", self.api);
        self.call_message(
            Method::PATCH,
            url,
            Self::channel_route("PATCH /channels/{}/messages/{}", channel),
            Some(body),
            true,
            "empty answer",
        )
        .await
    }

    pub async fn delete_message(&self, channel: &str, message: &str) -> Result<(), RestError> {
        let url = format!("{}/v10/channels/{channel}/messages/{message}", self.api);
        self.call(
            Method::DELETE,
            url,
            Self::channel_route("DELETE /channels/{}/messages/{}", channel),
            None,
            true,
        )
        .await
        .map(|_| ())
    }

    /// Publish a message of an announcement channel to the following
    /// channels. Never waits for the route's rate limit (the crosspost
    /// bucket resets hourly): a limited route is [`RestError::Busy`].
    pub async fn crosspost(&self, channel: &str, message: &str) -> Result<(), RestError> {
        let url = format!(
            "{}/v10/channels/{channel}/messages/{message}/crosspost",
            self.api
        );
        self.call_with(
            Method::POST,
            url,
            Self::channel_route("POST /channels/{}/messages/{}/crosspost", channel),
            Body::Empty,
            true,
            false,
        )
        .await
        .map(|_| ())
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

    /// Execute a webhook with `?wait=true`, so the message can be edited
    /// and deleted later.
    pub async fn execute_webhook(
        &self,
        w: &Webhook,
        body: &Value,
        thread: Option<&str>,
    ) -> Result<CreatedMessage, RestError> {
        self.call_message(
            Method::POST,
            Self::webhook_url(w, "", thread, true, true),
            Self::webhook_route("POST /webhooks/{}/{}", w),
            Some(body),
            false,
            "empty answer to ?wait=true",
        )
        .await
    }

    pub async fn edit_webhook_message(
        &self,
        w: &Webhook,
        message: &str,
        body: &Value,
        thread: Option<&str>,
    ) -> Result<CreatedMessage, RestError> {
        self.call_message(
            Method::PATCH,
            Self::webhook_url(w, &format!("/messages/{message}"), thread, false, true),
            Self::webhook_route("PATCH /webhooks/{}/{}/messages/{}", w),
            Some(body),
            false,
            "empty answer",
        )
        .await
    }

    pub async fn delete_webhook_message(
        &self,
        w: &Webhook,
        message: &str,
        thread: Option<&str>,
    ) -> Result<(), RestError> {
        self.call(
            Method::DELETE,
            Self::webhook_url(w, &format!("/messages/{message}"), thread, false, false),
            Self::webhook_route("DELETE /webhooks/{}/{}/messages/{}", w),
            None,
            false,
        )
        .await
        .map(|_| ())
    }
}

/// The command layer's endpoints: application commands, interaction
/// responses (initial callback, `@original`, follow-ups) and direct
/// messages. Interaction tokens are secrets like webhook tokens: they only
/// travel in URLs, which errors never show.
impl RestClient {
    fn app_route(template: &'static str, app: u64) -> RouteKey {
        RouteKey {
            template,
            major: app.to_string(),
        }
    }

    /// `GET /applications/@me` (the application id, when not configured).
    /// `GET {api}/v10{path}` with the bot token (reads for `crier check
    /// --online`: `/users/@me`, `/channels/{id}`, a guild's roles…);
    /// `major` is the route's top-level resource.
    pub async fn get_json(
        &self,
        template: &'static str,
        major: &str,
        path: &str,
    ) -> Result<Value, RestError> {
        let url = format!("{}/v10{path}", self.api);
        let route = RouteKey {
            template,
            major: major.to_string(),
        };
        self.call(Method::GET, url, route, None, true)
            .await?
            .ok_or_else(|| RestError::Decode("empty answer".into()))
    }

    /// `GET /webhooks/{id}/{token}`: the webhook, if it still exists.
    pub async fn get_webhook(&self, w: &Webhook) -> Result<Value, RestError> {
        self.call(
            Method::GET,
            Self::webhook_url(w, "", None, false, false),
            Self::webhook_route("GET /webhooks/{}/{}", w),
            None,
            false,
        )
        .await?
        .ok_or_else(|| RestError::Decode("empty answer".into()))
    }

    pub async fn current_application(&self) -> Result<Value, RestError> {
        let url = format!("{}/v10/applications/@me", self.api);
        self.call(
            Method::GET,
            url,
            Self::app_route("GET /applications/@me", 0),
            None,
            true,
        )
        .await?
        .ok_or_else(|| RestError::Decode("empty answer".into()))
    }

    /// Replace the application's slash commands: in one guild (they show
    /// at once) or globally.
    pub async fn bulk_overwrite_commands(
        &self,
        app: u64,
        guild: Option<u64>,
        commands: &Value,
    ) -> Result<Value, RestError> {
        let (url, route) = match guild {
            Some(g) => (
                format!("{}/v10/applications/{app}/guilds/{g}/commands", self.api),
                Self::app_route("PUT /applications/{}/guilds/{}/commands", app),
            ),
            None => (
                format!("{}/v10/applications/{app}/commands", self.api),
                Self::app_route("PUT /applications/{}/commands", app),
            ),
        };
        self.call(Method::PUT, url, route, Some(commands), true)
            .await?
            .ok_or_else(|| RestError::Decode("empty answer".into()))
    }

    /// The initial response to an interaction (within 3 seconds of it).
    pub async fn interaction_callback(
        &self,
        interaction: u64,
        token: &str,
        body: &Value,
    ) -> Result<(), RestError> {
        let url = format!(
            "{}/v10/interactions/{interaction}/{token}/callback",
            self.api
        );
        self.call(
            Method::POST,
            url,
            RouteKey {
                template: "POST /interactions/{}/{}/callback",
                major: interaction.to_string(),
            },
            Some(body),
            false,
        )
        .await
        .map(|_| ())
    }

    fn interaction_route(template: &'static str, token: &str) -> RouteKey {
        RouteKey {
            template,
            major: token.to_string(),
        }
    }

    /// Edit the original response (after a deferred one: create it).
    pub async fn edit_original(
        &self,
        app: u64,
        token: &str,
        body: &Value,
    ) -> Result<CreatedMessage, RestError> {
        let url = format!("{}/v10/webhooks/{app}/{token}/messages/@original", self.api);
        self.call_message(
            Method::PATCH,
            url,
            Self::interaction_route("PATCH /webhooks/{}/{}/messages/@original", token),
            Some(body),
            false,
            "empty answer",
        )
        .await
    }

    pub async fn delete_original(&self, app: u64, token: &str) -> Result<(), RestError> {
        let url = format!("{}/v10/webhooks/{app}/{token}/messages/@original", self.api);
        self.call(
            Method::DELETE,
            url,
            Self::interaction_route("DELETE /webhooks/{}/{}/messages/@original", token),
            None,
            false,
        )
        .await
        .map(|_| ())
    }

    /// A follow-up message of an interaction (for 15 minutes after it).
    pub async fn followup(
        &self,
        app: u64,
        token: &str,
        body: &Value,
    ) -> Result<CreatedMessage, RestError> {
        let url = format!("{}/v10/webhooks/{app}/{token}", self.api);
        self.call_message(
            Method::POST,
            url,
            Self::interaction_route("POST /webhooks/{}/{}", token),
            Some(body),
            false,
            "empty answer",
        )
        .await
    }

    /// A follow-up message with a file (multipart: `payload_json` and
    /// `files[0]`).
    pub async fn followup_with_file(
        &self,
        app: u64,
        token: &str,
        payload: &Value,
        name: &str,
        bytes: &[u8],
    ) -> Result<CreatedMessage, RestError> {
        let url = format!("{}/v10/webhooks/{app}/{token}", self.api);
        let v = self
            .call_with(
                Method::POST,
                url,
                Self::interaction_route("POST /webhooks/{}/{}", token),
                Body::WithFile {
                    payload,
                    name,
                    bytes,
                },
                false,
                true,
            )
            .await?
            .ok_or_else(|| RestError::Decode("empty answer".into()))?;
        message_from(&v)
    }

    /// The bot's direct-message channel with a user.
    pub async fn create_dm(&self, user: u64) -> Result<String, RestError> {
        let url = format!("{}/v10/users/@me/channels", self.api);
        self.call_message(
            Method::POST,
            url,
            Self::app_route("POST /users/@me/channels", 0),
            Some(&serde_json::json!({"recipient_id": user.to_string()})),
            true,
            "empty answer",
        )
        .await
        .map(|c| c.id)
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
mod tests {
    use super::*;

    #[test]
    fn webhook_urls_parse_with_or_without_version() {
        let u = Url::parse("https://discord.com/api/webhooks/123456789012345678/abcDEF_tok-en")
            .expect("url");
        let w = Webhook::parse(&u).expect("webhook");
        assert_eq!(w.id, "123456789012345678");
        assert_eq!(w.token, "abcDEF_tok-en");
        assert_eq!(w.api, "https://discord.com/api");
        let u = Url::parse("http://127.0.0.1:8080/api/v10/webhooks/1/t").expect("url");
        assert_eq!(
            Webhook::parse(&u).expect("w").api,
            "http://127.0.0.1:8080/api"
        );
        assert!(
            Webhook::parse(&Url::parse("https://discord.com/api/channels/1").expect("u")).is_err()
        );
        assert!(
            format!("{w:?}").find("abcDEF").is_none(),
            "Debug hides the token"
        );
    }

    #[test]
    fn webhook_urls_wait_and_take_components() {
        let w = Webhook {
            id: "1".into(),
            token: "t".into(),
            api: "http://x/api".into(),
        };
        assert_eq!(
            RestClient::webhook_url(&w, "", Some("9"), true, true),
            "http://x/api/v10/webhooks/1/t?wait=true&thread_id=9&with_components=true"
        );
        assert_eq!(
            RestClient::webhook_url(&w, "/messages/5", None, false, false),
            "http://x/api/v10/webhooks/1/t/messages/5"
        );
    }

    #[tokio::test]
    async fn a_webhook_network_error_keeps_its_cause_without_the_token() {
        // A port nobody listens on: the connection is refused.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            l.local_addr().expect("addr").port()
        };
        let token = "T0KEN-abcdefghijklmnopqrstuvwxyz-0123456789-ABCDEFGHIJKLMNOPQR";
        let url =
            Url::parse(&format!("http://127.0.0.1:{port}/api/webhooks/123/{token}")).expect("url");
        let w = Webhook::parse(&url).expect("webhook");
        let api = Url::parse(&format!("http://127.0.0.1:{port}/api")).expect("api");
        let c = RestClient::new(&api, None, Settings::default(), Duration::from_secs(5))
            .expect("client");
        let e = c
            .execute_webhook(&w, &serde_json::json!({"content": "x"}), None)
            .await
            .expect_err("nothing listens");
        let RestError::Network { sent, message } = &e else {
            panic!("{e:?}");
        };
        assert!(!sent, "{e}");
        assert!(
            message.starts_with("cannot connect: ") && message.to_lowercase().contains("refused"),
            "the cause is kept: {message}"
        );
        assert!(!e.to_string().contains(token), "{e}");
    }

    #[test]
    fn tokens_are_redacted_from_errors() {
        let s = redact(
            "error sending request for url (https://discord.com/api/v10/webhooks/123/SECRETTOKEN?wait=true)",
        );
        assert!(!s.contains("SECRETTOKEN"), "{s}");
        assert!(s.contains("/webhooks/123/***?wait=true"), "{s}");
        let s = redact(
            "error sending request for url (http://x/api/v10/interactions/55/INTERACTIONTOKEN/callback)",
        );
        assert!(!s.contains("INTERACTIONTOKEN"), "{s}");
        assert!(s.contains("/interactions/55/***/callback"), "{s}");
    }
}
