//! The Telegraph API client (<https://telegra.ph/api>): the account Crier
//! creates once (`createAccount`; its token kept in the core's key-value
//! store under [`TOKEN_KEY`], first writer wins), and the pages of long
//! articles (`createPage`, `editPage`). Every call is a form POST to
//! `<api_url>/<method>`; Telegraph answers HTTP 200 with
//! `{"ok":true,"result":…}` or `{"ok":false,"error":"…"}`.
//!
//! The access token is a secret: registered with the scrubber as soon as
//! it is known, sent in the body (never in a URL), never logged.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use url::Url;

use crate::format::telegram::TelegraphPage;
use crate::platform::KvStore;

/// Where the account token is kept.
pub const TOKEN_KEY: &str = "telegraph:token";
/// What a withdrawn article's page says instead.
pub const WITHDRAWN: &str = "This article was withdrawn.";

/// A failed Telegraph call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TelegraphError {
    /// Telegraph answered `ok: false` with this error text.
    Api(String),
    /// `FLOOD_WAIT_N`: wait this long.
    Flood(Duration),
    /// Telegraph could not be reached, or its answer not read (scrubbed).
    Down(String),
}

impl std::fmt::Display for TelegraphError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TelegraphError::Api(e) => write!(f, "Telegraph refused: {e}"),
            TelegraphError::Flood(d) => write!(f, "Telegraph asks to wait {}s", d.as_secs()),
            TelegraphError::Down(e) => write!(f, "Telegraph unreachable: {e}"),
        }
    }
}

/// A page Telegraph made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRef {
    /// `Title-12-31`.
    pub path: String,
    /// `https://telegra.ph/Title-12-31`.
    pub url: String,
}

/// One Telegraph account for every Telegram target of the bot.
pub struct TelegraphClient {
    http: reqwest::Client,
    api: Url,
    short_name: String,
    author_name: Option<String>,
    kv: Arc<dyn KvStore>,
    /// The token, once read or created.
    token: tokio::sync::Mutex<Option<String>>,
}

impl std::fmt::Debug for TelegraphClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the token.
        f.write_str("TelegraphClient")
    }
}

impl TelegraphClient {
    /// `api` is the API base (`https://api.telegra.ph`, or a fake);
    /// `author_name`, when set, is every page's author line.
    pub fn new(
        api: &Url,
        short_name: &str,
        author_name: Option<String>,
        kv: Arc<dyn KvStore>,
        timeout: Duration,
    ) -> Result<Arc<TelegraphClient>, String> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| format!("cannot set up the HTTP client: {e}"))?;
        Ok(Arc::new(TelegraphClient {
            http,
            api: api.clone(),
            short_name: short_name.trim().to_string(),
            author_name: author_name.filter(|a| !a.trim().is_empty()),
            kv,
            token: tokio::sync::Mutex::new(None),
        }))
    }

    /// One API call; `ok: false` is [`TelegraphError::Api`] (or `Flood`).
    async fn call(&self, method: &str, form: &[(&str, &str)]) -> Result<Value, TelegraphError> {
        let base = self.api.as_str().trim_end_matches('/');
        let url = format!("{base}/{method}");
        let res = self
            .http
            .post(&url)
            .form(form)
            .send()
            .await
            .map_err(|e| TelegraphError::Down(describe(&e)))?;
        let status = res.status();
        let body = res
            .text()
            .await
            .map_err(|e| TelegraphError::Down(describe(&e)))?;
        let v: Value = serde_json::from_str(&body).map_err(|_| {
            let head: String = crate::scrub::scrub(&body).chars().take(120).collect();
            TelegraphError::Down(format!("unreadable answer (HTTP {status}): {head}"))
        })?;
        if v.get("ok").and_then(Value::as_bool) == Some(true) {
            return Ok(v.get("result").cloned().unwrap_or(Value::Null));
        }
        let error = v
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("no error text")
            .to_string();
        let error = crate::scrub::scrubbed(error);
        if let Some(n) = error.strip_prefix("FLOOD_WAIT_")
            && let Ok(secs) = n.trim().parse::<u64>()
        {
            return Err(TelegraphError::Flood(Duration::from_secs(secs.max(1))));
        }
        Err(TelegraphError::Api(error))
    }

    /// `createAccount`: a new account's token.
    async fn create_account(&self) -> Result<String, TelegraphError> {
        let mut form = vec![("short_name", self.short_name.as_str())];
        if let Some(a) = &self.author_name {
            form.push(("author_name", a));
        }
        let v = self.call("createAccount", &form).await?;
        let token = v
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| TelegraphError::Down("createAccount answered no access_token".into()))?;
        crate::scrub::register_secret(token);
        Ok(token.to_string())
    }

    /// The account's token: known, stored, or made now (and stored; when
    /// another instance stored one first, that one).
    async fn token(&self, renew: bool) -> Result<String, TelegraphError> {
        let mut held = self.token.lock().await;
        if !renew {
            if let Some(t) = held.as_ref() {
                return Ok(t.clone());
            }
            match self.kv.get(TOKEN_KEY).await {
                Ok(Some(t)) if !t.trim().is_empty() => {
                    crate::scrub::register_secret(&t);
                    *held = Some(t.clone());
                    return Ok(t);
                }
                Ok(_) => {}
                Err(e) => return Err(TelegraphError::Down(format!("the token store: {e}"))),
            }
        }
        let made = self.create_account().await?;
        let kept = if renew {
            // The stored token was refused: replace it.
            self.kv
                .put(TOKEN_KEY, &made)
                .await
                .map_err(|e| TelegraphError::Down(format!("the token store: {e}")))?;
            made
        } else {
            self.kv
                .put_once(TOKEN_KEY, &made)
                .await
                .map_err(|e| TelegraphError::Down(format!("the token store: {e}")))?
        };
        crate::scrub::register_secret(&kept);
        *held = Some(kept.clone());
        Ok(kept)
    }

    /// A call that needs the token; `ACCESS_TOKEN_INVALID` makes a new
    /// account once and tries again.
    async fn authed(&self, method: &str, form: &[(&str, &str)]) -> Result<Value, TelegraphError> {
        let mut renew = false;
        loop {
            let token = self.token(renew).await?;
            let mut full = vec![("access_token", token.as_str())];
            full.extend_from_slice(form);
            match self.call(method, &full).await {
                Err(TelegraphError::Api(e)) if e == "ACCESS_TOKEN_INVALID" && !renew => {
                    tracing::warn!(
                        "the stored Telegraph token was refused; creating a new account"
                    );
                    renew = true;
                }
                other => return other,
            }
        }
    }

    fn page_form<'a>(
        &'a self,
        page: &'a TelegraphPage,
        content: &'a str,
    ) -> Vec<(&'a str, &'a str)> {
        let mut form = vec![("title", page.title.as_str()), ("content", content)];
        if let Some(a) = self.author_name.as_deref().or(page.author_name.as_deref()) {
            form.push(("author_name", a));
        }
        if let Some(u) = &page.author_url {
            form.push(("author_url", u));
        }
        form.push(("return_content", "false"));
        form
    }

    /// `createPage`.
    pub async fn create_page(&self, page: &TelegraphPage) -> Result<PageRef, TelegraphError> {
        let content = page.content.to_string();
        let v = self
            .authed("createPage", &self.page_form(page, &content))
            .await?;
        let path = v.get("path").and_then(Value::as_str).unwrap_or("");
        let url = v.get("url").and_then(Value::as_str).unwrap_or("");
        if path.is_empty() || url.is_empty() {
            return Err(TelegraphError::Down(
                "createPage answered no path or url".into(),
            ));
        }
        Ok(PageRef {
            path: path.to_string(),
            url: url.to_string(),
        })
    }

    /// `editPage/<path>`.
    pub async fn edit_page(&self, path: &str, page: &TelegraphPage) -> Result<(), TelegraphError> {
        let content = page.content.to_string();
        let mut form = self.page_form(page, &content);
        form.push(("path", path));
        let method = format!("editPage/{}", path_segment(path));
        self.authed(&method, &form).await.map(|_| ())
    }

    /// The page at `path` with its content replaced by [`WITHDRAWN`].
    pub async fn withdraw(&self, path: &str) -> Result<(), TelegraphError> {
        let page = TelegraphPage {
            title: "Withdrawn".into(),
            author_name: None,
            author_url: None,
            content: serde_json::json!([{"tag": "p", "children": [WITHDRAWN]}]),
            fallback: Vec::new(),
        };
        self.edit_page(path, &page).await
    }
}

/// A page path as one URL path segment (Telegraph's are `[A-Za-z0-9-]`;
/// anything else is percent-encoded).
fn path_segment(path: &str) -> String {
    url::form_urlencoded::byte_serialize(path.as_bytes()).collect()
}

/// A network error without its URL (no secret is in it, but it says
/// nothing useful either).
fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    crate::scrub::scrubbed(format!("{what}: {e}"))
}
