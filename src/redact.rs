//! Credentials never reach a message (errors, logs, alerts, replies,
//! `crier check`, `/feeds`, poll errors stored in the database): userinfo
//! (`user:password@`) becomes `***@`, and query values become `***` except
//! for a few well-known harmless keys (`feed`, `page`, `format`…), so
//! `?api_key=…`, `?token=…` and any key Crier does not know are never
//! shown. Platform tokens (Telegram `/bot<token>/`, Discord webhook tokens)
//! are scrubbed as well ([`crier_bots::scrub`]). One helper for the whole
//! core, the sources included.

use std::sync::OnceLock;

use url::Url;

/// Query keys whose values are shown (they select content, never
/// authenticate).
const HARMLESS_KEYS: &[&str] = &[
    "feed", "format", "type", "page", "paged", "p", "cat", "category", "tag", "lang", "hl",
    "per_page", "limit", "orderby", "order", "_embed", "output", "alt", "v", "version", "id", "q",
    "s", "sort", "num", "count", "rss", "atom",
];

const MASK: &str = "***";

/// `url` with its credentials masked. Text that is not an absolute URL is
/// returned as it is (it has no userinfo or query to hide) unless it looks
/// like one, in which case [`redact_text`] is applied.
pub fn redact_url(url: &str) -> String {
    match Url::parse(url.trim()) {
        Ok(u) => redact_parsed(&u),
        Err(_) => redact_text(url),
    }
}

/// A parsed URL with its credentials masked.
pub fn redact_parsed(url: &Url) -> String {
    let mut u = url.clone();
    if !u.username().is_empty() || u.password().is_some() {
        let _ = u.set_password(None);
        let _ = u.set_username(MASK);
    }
    if u.query().is_some() {
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| {
                let shown = HARMLESS_KEYS.contains(&k.to_ascii_lowercase().as_str());
                let v = if shown || v.is_empty() {
                    v.into_owned()
                } else {
                    MASK.to_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        if pairs.is_empty() {
            u.set_query(None);
        } else {
            let q = pairs
                .iter()
                .map(|(k, v)| {
                    let k: String = url::form_urlencoded::byte_serialize(k.as_bytes()).collect();
                    if v == MASK {
                        format!("{k}={MASK}")
                    } else {
                        let v: String =
                            url::form_urlencoded::byte_serialize(v.as_bytes()).collect();
                        format!("{k}={v}")
                    }
                })
                .collect::<Vec<_>>()
                .join("&");
            u.set_query(Some(&q));
        }
    }
    crier_bots::scrub::scrubbed(u.as_str())
}

/// Free text (an error chain, a log line) with every URL in it redacted.
pub fn redact_text(text: &str) -> String {
    static RE: OnceLock<Option<regex::Regex>> = OnceLock::new();
    let Some(re) = RE
        .get_or_init(|| regex::Regex::new(r#"(?i)\b[a-z][a-z0-9+.-]*://[^\s"'<>()\[\]{}]+"#).ok())
        .as_ref()
    else {
        return text.to_owned();
    };
    let replaced = re.replace_all(text, |c: &regex::Captures| {
        let m = &c[0];
        // Keep trailing punctuation out of the URL (`see http://x/a.`).
        let end = m.trim_end_matches(['.', ',', ';', ':', '!', '?']).len();
        match Url::parse(&m[..end]) {
            Ok(u) => format!("{}{}", redact_parsed(&u), &m[end..]),
            Err(_) => m.to_owned(),
        }
    });
    crier_bots::scrub::scrubbed(replaced.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_and_secret_query_values_are_masked() {
        assert_eq!(
            redact_url("https://ann:s3cret@feeds.example/rss?api_key=K123&feed=rss2"),
            "https://***@feeds.example/rss?api_key=***&feed=rss2"
        );
        assert_eq!(
            redact_url("https://feeds.example/f?token=abc&x=1"),
            "https://feeds.example/f?token=***&x=***"
        );
        assert_eq!(
            redact_url("https://only-user@feeds.example/"),
            "https://***@feeds.example/"
        );
        assert_eq!(
            redact_url("https://feeds.example/feed/"),
            "https://feeds.example/feed/"
        );
        let out = redact_url("http://u:p@h.example/?Secret=x");
        assert!(!out.contains("u:p") && !out.contains("=x"), "{out}");
    }

    #[test]
    fn urls_inside_text_are_masked() {
        let t = "error sending request for url (https://bob:hunter2@x.example/a?key=K9): refused";
        let out = redact_text(t);
        assert!(!out.contains("hunter2") && !out.contains("K9"), "{out}");
        assert!(out.contains("https://***@x.example/a?key=***"), "{out}");
        assert_eq!(redact_text("no url here"), "no url here");
    }

    #[test]
    fn platform_tokens_and_text_urls() {
        assert_eq!(
            redact_url("https://discord.com/api/webhooks/1/TOKENTOKENTOKEN"),
            "https://discord.com/api/webhooks/1/***"
        );
        let t = r#"invalid URL "ftp://bob:hunter2@h/x?token=abc": scheme "ftp" is not supported; see https://a.example/?k=v."#;
        let r = redact_text(t);
        assert!(!r.contains("hunter2") && !r.contains("abc"), "{r}");
        assert!(r.ends_with("see https://a.example/?k=***."), "{r}");
    }
}
