//! Text safe for logs: URLs without credentials, times for people.

/// Query parameters whose values are secrets.
const SECRET_PARAMS: &[&str] = &[
    "token",
    "key",
    "apikey",
    "api_key",
    "secret",
    "password",
    "pass",
    "sig",
    "signature",
    "auth",
    "access_token",
    "code",
];

/// A URL with its user, password and secret-looking query values replaced
/// by `REDACTED`. Text that is not a URL (a file path) is returned as is.
pub fn url(raw: &str) -> String {
    let Ok(mut u) = url::Url::parse(raw) else {
        return raw.to_string();
    };
    if !u.username().is_empty() {
        let _ = u.set_username("REDACTED");
    }
    if u.password().is_some() {
        let _ = u.set_password(Some("REDACTED"));
    }
    if u.query().is_some() {
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| {
                let secret = SECRET_PARAMS
                    .iter()
                    .any(|s| k.to_ascii_lowercase().contains(s));
                let v = if secret {
                    "REDACTED".to_string()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        u.query_pairs_mut().clear().extend_pairs(pairs);
    }
    u.to_string()
}

/// `text` (an error that may quote `url`) with the URL's secrets — user,
/// password, secret-looking query values, raw or decoded — replaced by
/// `REDACTED`.
pub fn secrets_in(text: &str, raw_url: &str) -> String {
    let Ok(u) = url::Url::parse(raw_url) else {
        return text.to_string();
    };
    let mut secrets: Vec<String> = Vec::new();
    if !u.username().is_empty() {
        secrets.push(u.username().to_string());
    }
    if let Some(p) = u.password() {
        secrets.push(p.to_string());
    }
    for (k, v) in u.query_pairs() {
        let k = k.to_ascii_lowercase();
        if SECRET_PARAMS.iter().any(|s| k.contains(s)) && !v.is_empty() {
            secrets.push(v.into_owned());
        }
    }
    if let Some(q) = u.query() {
        for pair in q.split('&') {
            if let Some((k, v)) = pair.split_once('=') {
                let k = k.to_ascii_lowercase();
                if SECRET_PARAMS.iter().any(|s| k.contains(s)) && !v.is_empty() {
                    secrets.push(v.to_string());
                }
            }
        }
    }
    // Longest first, so a secret that contains another goes whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out = text.to_string();
    for s in secrets.iter().filter(|s| s.len() >= 3) {
        out = out.replace(s.as_str(), "REDACTED");
    }
    out
}

/// `2026-12-04T15:00:00Z (in 30s)` for unix milliseconds.
pub fn when(ms: i64) -> String {
    let at = chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default();
    let secs = ((ms - crate::db::now_ms()).max(0) + 999) / 1000;
    format!(
        "{at} (in {})",
        humantime::format_duration(std::time::Duration::from_secs(secs as u64))
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn credentials_are_hidden() {
        let r = super::url("https://bob:hunter2@example.com/feed?token=abc&page=2&api_key=zz");
        assert!(
            !r.contains("hunter2") && !r.contains("abc") && !r.contains("zz"),
            "{r}"
        );
        assert!(
            r.contains("page=2") && r.contains("example.com/feed"),
            "{r}"
        );
        assert_eq!(super::url("feeds/local.xml"), "feeds/local.xml");
        let e = super::secrets_in(
            "error sending request for url (http://127.0.0.1:9/f?token=s3cr3t&page=1): refused",
            "http://bob:hunter2@127.0.0.1:9/f?token=s3cr3t&page=1",
        );
        assert!(!e.contains("s3cr3t") && e.contains("page=1"), "{e}");
        assert!(super::when(crate::db::now_ms() + 30_000).contains("(in 3"));
    }
}
