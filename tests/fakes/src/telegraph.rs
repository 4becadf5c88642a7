//! A loopback Telegraph API (<https://telegra.ph/api>), for tests: every
//! method at `/<method>` and `/<method>/<path>`, by GET (query) or POST
//! (form or JSON), answering HTTP 200 with `{"ok":true,"result":…}` or
//! `{"ok":false,"error":"…"}` like the real one.
//!
//! - `createAccount` (`short_name` 1–32 characters) → an `access_token`.
//! - `createPage` (`access_token`, `title`, `content`: a JSON array of
//!   nodes, `author_name`, `author_url`, `return_content`): the node
//!   grammar, size and title are checked strictly with
//!   `crier_bots::format::validate::{telegraph_title, telegraph_content}`;
//!   the page gets a path `Title-MM-DD` (`-2`, `-3`… when taken) and
//!   `url` = `<base>/<path>`.
//! - `editPage/<path>`: the account's own pages only; `getPage/<path>`.
//!
//! Error texts used: `ACCESS_TOKEN_INVALID`, `PAGE_NOT_FOUND`,
//! `TITLE_TOO_LONG`, `CONTENT_TOO_BIG` and `FLOOD_WAIT_N` (the API's);
//! `SHORT_NAME_REQUIRED`, `TITLE_REQUIRED`, `CONTENT_REQUIRED`,
//! `PAGE_ACCESS_DENIED` follow the API's naming but are unconfirmed; a
//! malformed node answers `CONTENT_FORMAT_INVALID: … (crier strict
//! check)`.
//!
//! Test controls: [`FakeTelegraph::set_down`] (HTTP 502 with an HTML page,
//! as a proxy in front of a dead service), [`FakeTelegraph::fail_next`]
//! (the next call answers this error), [`FakeTelegraph::revoke_tokens`].

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use rand::Rng;
use serde_json::{Value, json};

use crate::server::{self, Background, Server};
use crier_bots::format::validate::{telegraph_content, telegraph_title};

/// One page.
#[derive(Debug, Clone, PartialEq)]
pub struct TelegraphPage {
    pub path: String,
    pub title: String,
    pub author_name: Option<String>,
    pub author_url: Option<String>,
    /// The nodes, as sent.
    pub content: Value,
    /// The account that made it.
    pub token: String,
    /// How many times it was edited.
    pub edits: u32,
    pub views: u64,
}

/// One call: the method (without the path) and its parameters.
#[derive(Debug, Clone)]
pub struct TelegraphCall {
    pub method: String,
    pub path: Option<String>,
    pub params: HashMap<String, String>,
}

#[derive(Default)]
struct State0 {
    base: String,
    accounts: HashMap<String, String>,
    pages: HashMap<String, TelegraphPage>,
    calls: Vec<TelegraphCall>,
    down: bool,
    fail_next: Vec<String>,
}

type Shared = Arc<Mutex<State0>>;

fn lock(s: &Shared) -> MutexGuard<'_, State0> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

/// The running fake; dropping it stops the server.
pub struct FakeTelegraph {
    shared: Shared,
    server: Arc<Server>,
}

impl std::fmt::Debug for FakeTelegraph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FakeTelegraph")
    }
}

impl FakeTelegraph {
    /// Start on 127.0.0.1, port 0, on the current runtime.
    pub async fn start() -> io::Result<FakeTelegraph> {
        let shared: Shared = Arc::default();
        let app = Router::new()
            .route("/{method}", any(without_path))
            .route("/{method}/{*path}", any(with_path))
            .with_state(shared.clone());
        let server = server::serve(app).await?;
        lock(&shared).base = format!("http://{}", server.addr);
        Ok(FakeTelegraph {
            shared,
            server: Arc::new(server),
        })
    }

    /// Start on a runtime thread of its own.
    pub fn start_background() -> io::Result<Background<FakeTelegraph>> {
        server::background("fake-telegraph", FakeTelegraph::start)
    }

    /// The API base (`telegraph.api_url`): `http://127.0.0.1:PORT`.
    pub fn api_url(&self) -> String {
        format!("http://{}", self.server.addr)
    }

    /// Every call so far.
    pub fn calls(&self) -> Vec<TelegraphCall> {
        lock(&self.shared).calls.clone()
    }

    /// The calls of one method.
    pub fn calls_to(&self, method: &str) -> Vec<TelegraphCall> {
        self.calls()
            .into_iter()
            .filter(|c| c.method.eq_ignore_ascii_case(method))
            .collect()
    }

    /// Every page, in no order.
    pub fn pages(&self) -> Vec<TelegraphPage> {
        lock(&self.shared).pages.values().cloned().collect()
    }

    /// One page.
    pub fn page(&self, path: &str) -> Option<TelegraphPage> {
        lock(&self.shared).pages.get(path).cloned()
    }

    /// How many accounts were made.
    pub fn accounts(&self) -> usize {
        lock(&self.shared).accounts.len()
    }

    /// While down, every call answers HTTP 502 with an HTML page.
    pub fn set_down(&self, down: bool) {
        lock(&self.shared).down = down;
    }

    /// The next call answers `{"ok":false,"error":error}` (queued: several
    /// calls fail in turn).
    pub fn fail_next(&self, error: &str) {
        lock(&self.shared).fail_next.push(error.to_string());
    }

    /// Forget every account's token (as `revokeAccessToken` would): their
    /// calls answer `ACCESS_TOKEN_INVALID`.
    pub fn revoke_tokens(&self) {
        lock(&self.shared).accounts.clear();
    }
}

async fn without_path(
    State(s): State<Shared>,
    Path(method): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(&s, &method, None, q, &headers, &body)
}

async fn with_path(
    State(s): State<Shared>,
    Path((method, path)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(&s, &method, Some(path), q, &headers, &body)
}

/// The query's and the body's parameters (a form or a JSON object; JSON
/// values that are not strings are kept as JSON text).
fn params(q: Option<String>, headers: &HeaderMap, body: &[u8]) -> HashMap<String, String> {
    let mut out: HashMap<String, String> = HashMap::new();
    if let Some(q) = q {
        out.extend(url::form_urlencoded::parse(q.as_bytes()).into_owned());
    }
    let json = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.contains("json"));
    if json {
        if let Ok(Value::Object(o)) = serde_json::from_slice::<Value>(body) {
            for (k, v) in o {
                let v = match v {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                out.insert(k, v);
            }
        }
    } else if !body.is_empty() {
        out.extend(url::form_urlencoded::parse(body).into_owned());
    }
    out
}

fn ok(result: Value) -> Response {
    axum::Json(json!({"ok": true, "result": result})).into_response()
}

fn err(error: &str) -> Response {
    axum::Json(json!({"ok": false, "error": error})).into_response()
}

fn handle(
    s: &Shared,
    method: &str,
    path: Option<String>,
    q: Option<String>,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let p = params(q, headers, body);
    let mut st = lock(s);
    st.calls.push(TelegraphCall {
        method: method.to_string(),
        path: path.clone(),
        params: p.clone(),
    });
    if st.down {
        return (
            StatusCode::BAD_GATEWAY,
            "<html><body><h1>502 Bad Gateway</h1></body></html>",
        )
            .into_response();
    }
    if !st.fail_next.is_empty() {
        let e = st.fail_next.remove(0);
        return err(&e);
    }
    match method.to_ascii_lowercase().as_str() {
        "createaccount" => create_account(&mut st, &p),
        "createpage" => create_page(&mut st, &p),
        "editpage" => edit_page(&mut st, path.as_deref(), &p),
        "getpage" => get_page(&st, path.as_deref(), &p),
        _ => err("UNKNOWN_METHOD (crier strict check)"),
    }
}

fn create_account(st: &mut State0, p: &HashMap<String, String>) -> Response {
    let short = p.get("short_name").map(|s| s.trim()).unwrap_or("");
    let n = short.chars().count();
    if n == 0 {
        return err("SHORT_NAME_REQUIRED");
    }
    if n > 32 {
        return err("SHORT_NAME_TOO_LONG");
    }
    let token: String = {
        let mut rng = rand::rng();
        (0..60)
            .map(|_| char::from(b"0123456789abcdef"[rng.random_range(0..16usize)]))
            .collect()
    };
    st.accounts.insert(token.clone(), short.to_string());
    ok(json!({
        "short_name": short,
        "author_name": p.get("author_name").cloned().unwrap_or_default(),
        "author_url": p.get("author_url").cloned().unwrap_or_default(),
        "access_token": token,
        "auth_url": format!("{}/auth/{}", st.base, &token[..12]),
    }))
}

/// The account's token, or the error to answer.
fn account(st: &State0, p: &HashMap<String, String>) -> Result<String, String> {
    match p.get("access_token") {
        Some(t) if st.accounts.contains_key(t) => Ok(t.clone()),
        _ => Err("ACCESS_TOKEN_INVALID".into()),
    }
}

/// Title, content and author fields checked; the content parsed.
fn page_fields(p: &HashMap<String, String>) -> Result<(String, Value), String> {
    let title = p.get("title").cloned().unwrap_or_default();
    telegraph_title(&title)?;
    let raw = p.get("content").map(String::as_str).unwrap_or("");
    if raw.trim().is_empty() {
        return Err("CONTENT_REQUIRED".into());
    }
    let content: Value = serde_json::from_str(raw)
        .map_err(|_| "CONTENT_FORMAT_INVALID: not JSON (crier strict check)".to_string())?;
    telegraph_content(&content)?;
    if p.get("author_name")
        .is_some_and(|a| a.chars().count() > 128)
    {
        return Err("AUTHOR_NAME_TOO_LONG".into());
    }
    Ok((title, content))
}

fn page_json(st: &State0, page: &TelegraphPage, content: bool) -> Value {
    let mut v = json!({
        "path": page.path,
        "url": format!("{}/{}", st.base, page.path),
        "title": page.title,
        "description": "",
        "views": page.views,
        "can_edit": true,
    });
    if let Some(a) = &page.author_name {
        v["author_name"] = json!(a);
    }
    if let Some(u) = &page.author_url {
        v["author_url"] = json!(u);
    }
    if content {
        v["content"] = page.content.clone();
    }
    v
}

fn wants_content(p: &HashMap<String, String>) -> bool {
    p.get("return_content").is_some_and(|v| v == "true")
}

fn slug(title: &str) -> String {
    let mut s = String::new();
    for c in title.chars() {
        if c.is_alphanumeric() {
            s.push(c);
        } else if !s.ends_with('-') && !s.is_empty() {
            s.push('-');
        }
    }
    let s: String = s.trim_end_matches('-').chars().take(60).collect();
    if s.is_empty() { "Page".into() } else { s }
}

fn create_page(st: &mut State0, p: &HashMap<String, String>) -> Response {
    let token = match account(st, p) {
        Ok(t) => t,
        Err(e) => return err(&e),
    };
    let (title, content) = match page_fields(p) {
        Ok(v) => v,
        Err(e) => return err(&e),
    };
    let stem = format!("{}-{}", slug(&title), chrono::Utc::now().format("%m-%d"));
    let mut path = stem.clone();
    let mut n = 1;
    while st.pages.contains_key(&path) {
        n += 1;
        path = format!("{stem}-{n}");
    }
    let page = TelegraphPage {
        path: path.clone(),
        title,
        author_name: p.get("author_name").cloned(),
        author_url: p.get("author_url").cloned(),
        content,
        token,
        edits: 0,
        views: 0,
    };
    let v = page_json(st, &page, wants_content(p));
    st.pages.insert(path, page);
    ok(v)
}

fn edit_page(st: &mut State0, path: Option<&str>, p: &HashMap<String, String>) -> Response {
    let token = match account(st, p) {
        Ok(t) => t,
        Err(e) => return err(&e),
    };
    let Some(path) = path.or(p.get("path").map(String::as_str)) else {
        return err("PAGE_NOT_FOUND");
    };
    let (title, content) = match page_fields(p) {
        Ok(v) => v,
        Err(e) => return err(&e),
    };
    let Some(page) = st.pages.get_mut(path) else {
        return err("PAGE_NOT_FOUND");
    };
    if page.token != token {
        return err("PAGE_ACCESS_DENIED");
    }
    page.title = title;
    page.content = content;
    page.author_name = p.get("author_name").cloned();
    page.author_url = p.get("author_url").cloned();
    page.edits += 1;
    let page = page.clone();
    ok(page_json(st, &page, wants_content(p)))
}

fn get_page(st: &State0, path: Option<&str>, p: &HashMap<String, String>) -> Response {
    let Some(page) = path
        .or(p.get("path").map(String::as_str))
        .and_then(|path| st.pages.get(path))
    else {
        return err("PAGE_NOT_FOUND");
    };
    ok(page_json(st, page, wants_content(p)))
}
