//! Subscription requests to a hub (§5.1): a form POST with hub.callback,
//! hub.mode, hub.topic, hub.lease_seconds and hub.secret. The hub answers
//! 202 Accepted and verifies the intent later (`callback.rs`).

use rand::Rng;
use url::Url;

/// The lease Crier asks for (the hub decides): ten days.
pub const ASKED_LEASE_SECS: u64 = 10 * 24 * 3600;

/// subscribe / unsubscribe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Subscribe,
    Unsubscribe,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Subscribe => "subscribe",
            Mode::Unsubscribe => "unsubscribe",
        }
    }
}

/// 32 random bytes in hex: callback ids and hub secrets (unguessable).
pub fn random_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    hex::encode(bytes)
}

/// The callback URL of a subscription: `public_url` + `/websub/<id>`.
pub fn callback_url(public_url: &Url, callback_id: &str) -> Url {
    let mut url = public_url.clone();
    let path = format!("{}/websub/{callback_id}", url.path().trim_end_matches('/'));
    url.set_path(&path);
    url.set_query(None);
    url.set_fragment(None);
    url
}

/// One subscription request. `Err` is a line for the log (no secret, no
/// callback URL: both are in the request only).
pub async fn request(
    client: &reqwest::Client,
    hub: &Url,
    mode: Mode,
    topic: &str,
    callback: &Url,
    secret: &str,
) -> Result<(), String> {
    let body = {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("hub.callback", callback.as_str())
            .append_pair("hub.mode", mode.as_str())
            .append_pair("hub.topic", topic);
        if mode == Mode::Subscribe {
            form.append_pair("hub.lease_seconds", &ASKED_LEASE_SECS.to_string())
                .append_pair("hub.secret", secret);
        }
        form.finish()
    };
    let resp = client
        .post(hub.clone())
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(body)
        .send()
        .await
        .map_err(|e| {
            format!(
                "the hub {} cannot be reached: {}",
                crate::redact::redact_url(hub.as_str()),
                crate::redact::redact_text(&e.without_url().to_string())
            )
        })?;
    let status = resp.status();
    if status.is_success() {
        return Ok(());
    }
    let body = resp.text().await.unwrap_or_default();
    let said = crate::sources::text::head(body.trim(), 200);
    Err(format!(
        "the hub {} answered {status}: {}",
        crate::redact::redact_url(hub.as_str()),
        crate::redact::redact_text(said)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_urls_keep_the_public_path_and_tokens_differ() {
        let base = Url::parse("https://bot.example/crier/?x=1").unwrap();
        assert_eq!(
            callback_url(&base, "abc").as_str(),
            "https://bot.example/crier/websub/abc"
        );
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
    }
}
