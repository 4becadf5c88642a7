//! Access to everything but health: the `[http] token` as a bearer header
//! (scripts, Prometheus) or a login cookie (the page's login form). Each
//! browser session has its own CSRF token that the page's forms carry.
//! Without a configured token (allowed on loopback only) every caller is
//! let in, but actions still need a session and its CSRF token.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Form, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use maud::{DOCTYPE, html};
use rand::Rng;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::HttpState;

pub const COOKIE: &str = "crier_session";
/// A session lasts this long.
const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// At most this many live sessions (the oldest go first).
const MAX_SESSIONS: usize = 256;

struct Session {
    csrf: String,
    created: Instant,
}

/// The browser sessions of the page.
#[derive(Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
    /// Wrong tokens (sign-in form or bearer header), per client address
    /// and minute: guessing the token is slowed to a few tries a minute.
    wrong_tokens: crate::websub::limit::PerMinute,
}

/// Wrong tokens one address may try per minute (sign-in form and bearer
/// header together); then it is refused, 429, until the minute is over.
pub const WRONG_TOKENS_PER_MINUTE: u32 = 10;

impl Sessions {
    /// `ip` gave too many wrong tokens this minute.
    fn locked_out(&self, ip: &str) -> bool {
        self.wrong_tokens.count(ip) >= WRONG_TOKENS_PER_MINUTE
    }

    fn wrong_token(&self, ip: &str) {
        self.wrong_tokens.allow(ip, u32::MAX);
    }
}

/// How a request was let in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    /// A bearer token: no browser, no CSRF check.
    Bearer,
    /// A browser session (its id).
    Session(String),
    /// No token is configured and no session yet.
    Open,
}

fn random_hex() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    hex::encode(bytes)
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new session; returns its id.
    pub fn create(&self) -> String {
        let mut m = self.lock();
        m.retain(|_, s| s.created.elapsed() < SESSION_TTL);
        while m.len() >= MAX_SESSIONS {
            let Some(oldest) = m
                .iter()
                .min_by_key(|(_, s)| s.created)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            m.remove(&oldest);
        }
        let id = random_hex();
        m.insert(
            id.clone(),
            Session {
                csrf: random_hex(),
                created: Instant::now(),
            },
        );
        id
    }

    fn valid(&self, id: &str) -> bool {
        self.lock()
            .get(id)
            .is_some_and(|s| s.created.elapsed() < SESSION_TTL)
    }

    /// The CSRF token of a live session.
    pub fn csrf(&self, id: &str) -> Option<String> {
        self.lock()
            .get(id)
            .filter(|s| s.created.elapsed() < SESSION_TTL)
            .map(|s| s.csrf.clone())
    }

    /// True when `token` is the session's CSRF token.
    pub fn check_csrf(&self, id: &str, token: &str) -> bool {
        self.csrf(id)
            .is_some_and(|c| bool::from(c.as_bytes().ct_eq(token.as_bytes())))
    }

    pub fn remove(&self, id: &str) {
        self.lock().remove(id);
    }
}

fn same_secret(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The session id in the request's cookies.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
}

/// Who the request comes from, if it may pass.
pub fn identify(st: &HttpState, headers: &HeaderMap) -> Option<Who> {
    let token = st.cfg.http.token();
    if let (Some(t), Some(auth)) = (token, headers.get(header::AUTHORIZATION)) {
        let given = auth.to_str().ok()?.strip_prefix("Bearer ")?.trim();
        return same_secret(given, t).then_some(Who::Bearer);
    }
    if let Some(id) = session_cookie(headers).filter(|id| st.sessions.valid(id)) {
        return Some(Who::Session(id));
    }
    token.is_none().then_some(Who::Open)
}

/// The middleware of [`super::Access::Token`] mounts.
pub async fn require(State(st): State<Arc<HttpState>>, mut req: Request, next: Next) -> Response {
    let bearer = req.headers().contains_key(header::AUTHORIZATION);
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    if bearer && ip.as_deref().is_some_and(|ip| st.sessions.locked_out(ip)) {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "60")],
            Json(serde_json::json!({"error": "too many wrong tokens from this address: try again in a minute"})),
        )
            .into_response();
    }
    match identify(&st, req.headers()) {
        Some(who) => {
            req.extensions_mut().insert(who);
            next.run(req).await
        }
        None => {
            if bearer && let Some(ip) = &ip {
                tracing::warn!(remote = %ip, "HTTP: wrong access token");
                st.sessions.wrong_token(ip);
            }
            let wants_html = req
                .headers()
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|a| a.contains("text/html"));
            if wants_html && req.method() == axum::http::Method::GET {
                return Redirect::to("/login").into_response();
            }
            let mut res = (
                StatusCode::UNAUTHORIZED,
                Json(serde_json::json!({"error": "the access token is missing or wrong (Authorization: Bearer <[http] token>)"})),
            )
                .into_response();
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            res
        }
    }
}

/// `Set-Cookie` for a session.
pub fn cookie_header(id: &str) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
        SESSION_TTL.as_secs()
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub fn routes(state: Arc<HttpState>) -> Router {
    Router::new()
        .route("/login", get(login_form).post(login))
        .route("/logout", axum::routing::post(logout))
        .with_state(state)
}

fn login_page(message: Option<&str>) -> Html<String> {
    Html(
        html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    link rel="icon" href="data:,";
                    title { "Crier — sign in" }
                    style { (super::page::CSS) }
                }
                body {
                    main {
                        h1 { "Crier" }
                        @if let Some(m) = message { p.bad { (m) } }
                        form method="post" action="/login" {
                            label for="token" { "Access token ([http] token)" }
                            input #token type="password" name="token" autocomplete="current-password" required;
                            button #signin type="submit" { "Sign in" }
                        }
                    }
                }
            }
        }
        .into_string(),
    )
}

async fn login_form() -> Html<String> {
    login_page(None)
}

#[derive(Deserialize)]
struct LoginForm {
    token: String,
}

async fn login(
    State(st): State<Arc<HttpState>>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    Form(f): Form<LoginForm>,
) -> Response {
    let ip = remote.ip().to_string();
    if st.sessions.locked_out(&ip) {
        tracing::warn!(%remote, "status page: sign-in refused, too many wrong tokens this minute");
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "60")],
            login_page(Some(
                "Too many wrong tokens from this address: try again in a minute.",
            )),
        )
            .into_response();
    }
    let ok = match st.cfg.http.token() {
        Some(t) => same_secret(f.token.trim(), t),
        None => true,
    };
    if !ok {
        st.sessions.wrong_token(&ip);
        tracing::warn!(%remote, "status page: wrong token at sign-in");
        return (StatusCode::UNAUTHORIZED, login_page(Some("Wrong token."))).into_response();
    }
    let id = st.sessions.create();
    let mut res = Redirect::to("/").into_response();
    res.headers_mut()
        .insert(header::SET_COOKIE, cookie_header(&id));
    res
}

async fn logout(State(st): State<Arc<HttpState>>, headers: HeaderMap) -> Response {
    if let Some(id) = session_cookie(&headers) {
        st.sessions.remove(&id);
    }
    let mut res = Redirect::to("/login").into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("crier_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    res
}
