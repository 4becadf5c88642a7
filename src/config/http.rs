//! `[http]`: the listener (health, metrics, status page, webhooks).

use std::net::SocketAddr;
use std::time::Duration;

use serde::Deserialize;

use super::values::{Dur, EnvString, HttpUrl, Secret};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// Where to listen, e.g. `"127.0.0.1:8080"`. Default: no listener.
    #[serde(default)]
    pub listen: Option<EnvString>,
    /// The address the outside world reaches the listener at (webhooks).
    #[serde(default)]
    pub public_url: Option<HttpUrl>,
    /// The access token of everything but `/healthz` and `/readyz`
    /// (bearer header, or the page's login form). Use `${CRIER_HTTP_TOKEN}`.
    #[serde(default)]
    pub token: Option<Secret>,
    /// `/readyz` fails when a worker or watcher has been on one step
    /// longer than this.
    #[serde(default = "default_stuck_after")]
    pub stuck_after: Dur,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: None,
            public_url: None,
            token: None,
            stuck_after: default_stuck_after(),
        }
    }
}

fn default_stuck_after() -> Dur {
    Dur(Duration::from_secs(300))
}

impl HttpConfig {
    /// The address to listen on, when the listener is on.
    pub fn listen_addr(&self) -> Option<Result<SocketAddr, String>> {
        let raw = self.listen.as_deref()?.trim();
        if raw.is_empty() {
            return None;
        }
        Some(raw.parse::<SocketAddr>().map_err(|e| {
            format!(
                "{raw:?} is not an address to listen on ({e}); write it like \"127.0.0.1:8080\""
            )
        }))
    }

    /// The access token, when set and not blank.
    pub fn token(&self) -> Option<&str> {
        self.token
            .as_ref()
            .map(Secret::expose)
            .filter(|t| !t.trim().is_empty())
    }

    /// Semantic errors as `(key, message)`.
    pub(super) fn errors(&self) -> Vec<(String, String)> {
        let mut errors = Vec::new();
        let addr = match self.listen_addr() {
            Some(Ok(a)) => Some(a),
            Some(Err(e)) => {
                errors.push(("http.listen".into(), e));
                None
            }
            None => None,
        };
        if let Some(a) = addr
            && !a.ip().is_loopback()
            && self.token().is_none()
        {
            errors.push((
                "http.token".into(),
                format!(
                    "the listener is bound to {a}, which is not a loopback address, but has no token: \
                     anyone who reaches it could pause feeds and retry deliveries. Set `token = \"${{CRIER_HTTP_TOKEN}}\"` \
                     or listen on 127.0.0.1"
                ),
            ));
        }
        if self.token().is_some_and(|t| t.trim().len() < 16) {
            errors.push((
                "http.token".into(),
                "the token is too short to be a secret: use at least 16 characters".into(),
            ));
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(listen: &str, token: Option<&str>) -> HttpConfig {
        HttpConfig {
            listen: Some(EnvString(listen.into())),
            token: token.map(|t| Secret(EnvString(t.into()))),
            ..HttpConfig::default()
        }
    }

    #[test]
    fn a_public_listener_needs_a_token() {
        assert!(cfg("127.0.0.1:8080", None).errors().is_empty());
        assert!(cfg("[::1]:8080", None).errors().is_empty());
        let e = cfg("0.0.0.0:8080", None).errors();
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(e[0].0, "http.token");
        assert!(e[0].1.contains("0.0.0.0:8080"), "{}", e[0].1);
        assert!(
            cfg("0.0.0.0:8080", Some("a-long-enough-secret"))
                .errors()
                .is_empty()
        );
        assert_eq!(cfg("nonsense", None).errors()[0].0, "http.listen");
    }
}
