//! Credentials in URLs never reach a message: userinfo (`user:password@`)
//! and query values (`?api_key=…`) are replaced by `***` wherever a URL is
//! shown — `crier check`, `/feeds`, poll errors stored in the database,
//! logs, config errors. Platform tokens are scrubbed as well
//! ([`crier_bots::scrub`]). One helper for the whole core: the sources side
//! uses [`redact_url`] too.

use std::sync::LazyLock;

use regex::Regex;

const HIDDEN: &str = "***";

/// `url` with its userinfo and query values hidden (and platform tokens
/// scrubbed). Text that is not a URL is only scrubbed.
pub fn redact_url(url: &str) -> String {
    let Ok(mut u) = url::Url::parse(url.trim()) else {
        return crier_bots::scrub::scrubbed(url);
    };
    if u.username().is_empty() && u.password().is_none() && u.query().is_none() {
        // Nothing to hide: the text as given (no re-encoding).
        return crier_bots::scrub::scrubbed(url);
    }
    if !u.username().is_empty() {
        let _ = u.set_username(HIDDEN);
    }
    if u.password().is_some() {
        let _ = u.set_password(Some(HIDDEN));
    }
    if u.query().is_some() {
        let hidden: Vec<String> = u
            .query()
            .unwrap_or_default()
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, v)) if !v.is_empty() => format!("{k}={HIDDEN}"),
                _ => kv.to_string(),
            })
            .collect();
        u.set_query(Some(&hidden.join("&")));
    }
    crier_bots::scrub::scrubbed(u.as_str())
}

static URL_IN_TEXT: LazyLock<Regex> = LazyLock::new(|| {
    // A constant pattern: a failure is a bug the tests catch.
    Regex::new(r#"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>`]+"#)
        .unwrap_or_else(|e| panic!("URL pattern: {e}"))
});

/// Every URL in a free text redacted with [`redact_url`], the rest
/// scrubbed of platform tokens.
pub fn redact_text(text: &str) -> String {
    let replaced = URL_IN_TEXT.replace_all(text, |c: &regex::Captures<'_>| {
        let m = &c[0];
        // Keep trailing punctuation out of the URL (`see http://x/a).`).
        let end = m
            .trim_end_matches(['.', ',', ')', ';', ':', '!', '?'])
            .len();
        format!("{}{}", redact_url(&m[..end]), &m[end..])
    });
    crier_bots::scrub::scrubbed(replaced.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_and_query_values_are_hidden() {
        assert_eq!(
            redact_url("https://user:pa55@feeds.example/rss?api_key=SECRET&page=2"),
            "https://***:***@feeds.example/rss?api_key=***&page=***"
        );
        assert_eq!(
            redact_url("https://feeds.example/rss.xml"),
            "https://feeds.example/rss.xml"
        );
        assert_eq!(
            redact_url("https://discord.com/api/webhooks/1/TOKENTOKENTOKEN"),
            "https://discord.com/api/webhooks/1/***"
        );
    }

    #[test]
    fn urls_inside_text_are_redacted() {
        let t = r#"invalid URL "ftp://bob:hunter2@h/x?token=abc": scheme "ftp" is not supported; see https://a.example/?k=v."#;
        let r = redact_text(t);
        assert!(!r.contains("hunter2") && !r.contains("abc"), "{r}");
        assert!(r.ends_with("see https://a.example/?k=***."), "{r}");
        assert_eq!(redact_text("no url here"), "no url here");
    }
}
