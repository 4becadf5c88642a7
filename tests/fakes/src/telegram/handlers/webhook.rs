//! Webhooks: `setWebhook`, `deleteWebhook`, `getWebhookInfo`, and the
//! delivery of queued updates by POSTing them to the webhook, as Telegram
//! does (core.telegram.org/bots/api#setwebhook):
//! - the update is the request's JSON body; `secret_token`, when set, comes
//!   back in `X-Telegram-Bot-Api-Secret-Token`;
//! - an update is retried until the webhook answers 2xx; the failure shows
//!   in `getWebhookInfo` as `last_error_date` / `last_error_message`
//!   ("Wrong response from the webhook: 401 Unauthorized");
//! - `getUpdates` is refused with 409 while a webhook is set;
//! - the URL must be HTTPS on port 443, 80, 88 or 8443 — except, in this
//!   fake only, on a loopback host (tests serve plain HTTP on any port);
//! - `secret_token`: 1–256 characters of `A-Z a-z 0-9 _ -`.

use std::sync::Weak;
use std::time::Duration;

use serde_json::{Value, json};

use super::{Reply, Shared, State, bad, err};
use crate::telegram::params::Params;

/// The webhook a bot has set.
#[derive(Debug, Clone)]
pub(crate) struct Webhook {
    pub(crate) url: String,
    pub(crate) secret_token: Option<String>,
    pub(crate) allowed_updates: Option<Value>,
    pub(crate) last_error: Option<(i64, String)>,
}

pub(super) fn conflict() -> Reply {
    Err(err(
        409,
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
    ))
}

fn loopback(u: &url::Url) -> bool {
    match u.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

pub(super) fn set(st: &mut State, p: &Params) -> Reply {
    let raw = p.str("url").unwrap_or_default();
    if raw.is_empty() {
        st.webhook = None;
        return Ok(json!(true));
    }
    let Ok(u) = url::Url::parse(&raw) else {
        return Err(bad(
            "Bad Request: bad webhook: Failed to resolve host: Name or service not known",
        ));
    };
    if !loopback(&u) {
        if u.scheme() != "https" {
            return Err(bad(
                "Bad Request: bad webhook: An HTTPS URL must be provided for webhook",
            ));
        }
        if !matches!(u.port_or_known_default(), Some(80 | 88 | 443 | 8443)) {
            return Err(bad(
                "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443",
            ));
        }
    }
    let secret = p.str("secret_token");
    if let Some(s) = &secret
        && (s.is_empty()
            || s.len() > 256
            || !s
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'))
    {
        return Err(bad(
            "Bad Request: secret token contains unallowed characters",
        ));
    }
    let allowed = p.json("allowed_updates").ok().flatten();
    if p.bool("drop_pending_updates") {
        st.updates.clear();
    }
    st.webhook = Some(Webhook {
        url: raw,
        secret_token: secret,
        allowed_updates: allowed,
        last_error: None,
    });
    Ok(json!(true))
}

pub(super) fn delete(st: &mut State, p: &Params) -> Reply {
    st.webhook = None;
    if p.bool("drop_pending_updates") {
        st.updates.clear();
    }
    Ok(json!(true))
}

pub(super) fn info(st: &State) -> Reply {
    let mut v = json!({
        "url": st.webhook.as_ref().map(|w| w.url.clone()).unwrap_or_default(),
        "has_custom_certificate": false,
        "pending_update_count": st.updates.len(),
    });
    if let (Some(w), Value::Object(m)) = (&st.webhook, &mut v) {
        m.insert("max_connections".into(), json!(40));
        m.insert("ip_address".into(), json!("127.0.0.1"));
        if let Some(a) = &w.allowed_updates {
            m.insert("allowed_updates".into(), a.clone());
        }
        if let Some((date, msg)) = &w.last_error {
            m.insert("last_error_date".into(), json!(date));
            m.insert("last_error_message".into(), json!(msg));
        }
    }
    Ok(v)
}

/// POST queued updates to the webhook, oldest first, one at a time, while
/// the fake lives.
pub(crate) async fn deliver(shared: Weak<Shared>) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_default();
    let mut backoff = Duration::from_millis(50);
    loop {
        let Some(sh) = shared.upgrade() else { return };
        let next = {
            let st = sh.lock();
            st.webhook
                .as_ref()
                .and_then(|w| st.updates.front().map(|u| (w.clone(), u.clone())))
        };
        let Some((hook, update)) = next else {
            // Holds the fake for at most this wait after its last clone goes.
            let _ = tokio::time::timeout(Duration::from_millis(100), sh.updates_changed.notified())
                .await;
            continue;
        };
        let mut req = client.post(&hook.url).json(&update);
        if let Some(s) = &hook.secret_token {
            req = req.header("X-Telegram-Bot-Api-Secret-Token", s);
        }
        let outcome = match req.send().await {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => Err(format!("Wrong response from the webhook: {}", r.status())),
            Err(e) if e.is_connect() => Err("Connection refused".to_string()),
            Err(e) if e.is_timeout() => Err("Read timeout expired".to_string()),
            Err(_) => Err("Connection reset by peer".to_string()),
        };
        let id = update.get("update_id").cloned();
        let failed = {
            let mut st = sh.lock();
            match outcome {
                Ok(()) => {
                    if st.updates.front().and_then(|u| u.get("update_id").cloned()) == id {
                        st.updates.pop_front();
                    }
                    false
                }
                Err(msg) => {
                    let now = sh.clock.unix();
                    if let Some(w) = st.webhook.as_mut() {
                        w.last_error = Some((now, msg));
                    }
                    true
                }
            }
        };
        drop(sh);
        if failed {
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(2));
        } else {
            backoff = Duration::from_millis(50);
        }
    }
}
