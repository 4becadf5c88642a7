//! One scrub step for every error text that leaves an adapter: platform
//! secrets must never reach a log line, a stored error, `crier log` or an
//! alert, whatever the platform (or a proxy in front of it) echoes back.
//!
//! Removed: Telegram bot tokens (`123456789:AA…`), the `/bot<anything>/`
//! path segment Telegram's URLs carry the token in, Discord webhook and
//! interaction tokens (`/webhooks/<id>/<token>`, `/interactions/<id>/<token>`),
//! Discord bot tokens (`<base64>.<base64>.<base64>`) and `Bot <token>` /
//! `Bearer <token>` authorisation values.

use std::borrow::Cow;
use std::sync::{LazyLock, RwLock};

use regex::Regex;

use crate::target::DeliveryError;

/// What replaces a secret.
pub const HIDDEN: &str = "***";

struct Rule {
    re: Regex,
    with: &'static str,
}

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    let rule = |re: &str, with: &'static str| Rule {
        // The patterns are constants: a failure is a bug caught by the tests.
        re: Regex::new(re).unwrap_or_else(|e| panic!("scrub pattern {re:?}: {e}")),
        with,
    };
    vec![
        // `/bot<token>/Method` (any case, also URL-encoded slashes).
        rule(r"(?i)/bot[^/\s?#]+(/|%2F)", "/bot***$1"),
        // `/bot<token>` at the end of a text or before a query.
        rule(r"(?i)/bot[^/\s?#]{20,}", "/bot***"),
        // Telegram bot token anywhere: digits, a colon, 30+ url-safe chars.
        rule(r"\b[0-9]{5,}:[A-Za-z0-9_.-]{20,}", "***"),
        // Discord bot tokens: three base64url parts joined by dots.
        rule(
            r"\b[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{20,}",
            "***",
        ),
        // Authorisation header values.
        rule(r"(?i)\b(Bot|Bearer)\s+[A-Za-z0-9_.:-]{16,}", "$1 ***"),
    ]
});

/// Secrets the adapters were given (tokens, webhook tokens): hidden
/// wherever they appear, whatever their shape.
static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Hide `secret` from every scrubbed text from now on. Adapters register
/// the tokens they are built with. Too short a value is ignored (it would
/// hide ordinary words).
pub fn register_secret(secret: &str) {
    let secret = secret.trim();
    if secret.chars().count() < 8 {
        return;
    }
    let mut v = SECRETS.write().unwrap_or_else(|p| p.into_inner());
    if !v.iter().any(|s| s == secret) {
        v.push(secret.to_string());
    }
}

/// `text` with every platform secret replaced by `***`.
pub fn scrub(text: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(text);
    for s in SECRETS.read().unwrap_or_else(|p| p.into_inner()).iter() {
        if out.contains(s.as_str()) {
            out = Cow::Owned(out.replace(s.as_str(), HIDDEN));
        }
    }
    if let Cow::Owned(s) = mask_webhook_tokens(&out) {
        out = Cow::Owned(s);
    }
    for r in RULES.iter() {
        if let Cow::Owned(s) = r.re.replace_all(&out, r.with) {
            out = Cow::Owned(s);
        }
    }
    out
}

/// Discord webhook and interaction tokens (`/webhooks/<id>/<token>`,
/// `/interactions/<id>/<token>`): the segment after the id is hidden,
/// whatever the id looks like (a mistyped one too), at every occurrence —
/// also where one occurrence's "token" is the next one's `webhooks`
/// (a regex's matches could not overlap there).
fn mask_webhook_tokens(text: &str) -> Cow<'_, str> {
    let lower = text.to_ascii_lowercase(); // same byte offsets
    let ends = |from: usize| {
        text[from..]
            .char_indices()
            .find(|(_, c)| c.is_whitespace() || matches!(c, '/' | '?' | '#' | ')' | '"' | '\''))
            .map_or(text.len(), |(i, _)| from + i)
    };
    let mut hide: Vec<(usize, usize)> = Vec::new();
    for pat in ["/webhooks/", "/interactions/"] {
        for (at, _) in lower.match_indices(pat) {
            let id_start = at + pat.len();
            let id_end = ends(id_start);
            if id_end == id_start || !text[id_end..].starts_with('/') {
                continue;
            }
            let token_end = ends(id_end + 1);
            if token_end > id_end + 1 {
                hide.push((id_end + 1, token_end));
            }
        }
    }
    if hide.is_empty() {
        return Cow::Borrowed(text);
    }
    hide.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    for (start, end) in hide {
        if end <= pos {
            continue;
        }
        let start = start.max(pos);
        out.push_str(&text[pos..start]);
        out.push_str(HIDDEN);
        pos = end;
    }
    out.push_str(&text[pos..]);
    Cow::Owned(out)
}

/// [`scrub`] into an owned string.
pub fn scrubbed(text: impl AsRef<str>) -> String {
    scrub(text.as_ref()).into_owned()
}

impl DeliveryError {
    /// The same error with every text scrubbed of secrets. Adapters return
    /// their errors through this; the engine applies it once more.
    pub fn scrubbed(self) -> DeliveryError {
        use DeliveryError as D;
        match self {
            D::RateLimited { retry_after } => D::RateLimited { retry_after },
            D::Transient(s) => D::Transient(scrubbed(s)),
            D::Ambiguous(s) => D::Ambiguous(scrubbed(s)),
            D::TargetGone(s) => D::TargetGone(scrubbed(s)),
            D::TargetMoved(s) => D::TargetMoved(scrubbed(s)),
            D::Rejected(s) => D::Rejected(scrubbed(s)),
            D::MessageGone(s) => D::MessageGone(scrubbed(s)),
            D::NotDeletable(s) => D::NotDeletable(scrubbed(s)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A bot token's shape (digits, colon, 35 url-safe characters), plainly fake.
    const TG: &str = concat!("123456789:", "FAKE-test-token-not-real-0123456789");

    #[test]
    fn telegram_paths_and_tokens() {
        let t = format!("<pre>Cannot POST /bot{TG}/GetMe</pre>");
        assert_eq!(scrub(&t), "<pre>Cannot POST /bot***/GetMe</pre>");
        let t = format!("token {TG} in text");
        assert_eq!(scrub(&t), "token *** in text");
        let t = "error for url (http://127.0.0.1:9/botWHATEVER/SendMessage)";
        assert_eq!(
            scrub(t),
            "error for url (http://127.0.0.1:9/bot***/SendMessage)"
        );
        let t = format!("GET /BOT{TG}%2Fgetme");
        assert_eq!(scrub(&t), "GET /bot***%2Fgetme");
    }

    #[test]
    fn discord_tokens() {
        // Overlapping shapes: every token after a `/webhooks/<id>/` goes.
        assert_eq!(
            scrub("x/webhooks/1234api/webhooks/123654/SeCrEtWeBhOoKtOkEn_0123456789 y"),
            "x/webhooks/1234api/***/123654/*** y"
        );
        assert_eq!(
            scrub("/Webhooks/é1/tök€n?wait=true"),
            "/Webhooks/é1/***?wait=true"
        );
        // A mistyped id (not digits) still hides the token after it.
        assert_eq!(
            scrub("hmgz://x.example/eqi/webhooks/1%EF%BF%BD5235/HfFiFpTcAtGxVvNjAx_0083584967\""),
            "hmgz://x.example/eqi/webhooks/1%EF%BF%BD5235/***\""
        );
        let wh = "https://discord.com/api/webhooks/123456789012345678/abcdefABCDEF-_0123456789abcdefABCDEF0123456789abcdefABCDEF0123?wait=true";
        assert_eq!(
            scrub(wh),
            "https://discord.com/api/webhooks/123456789012345678/***?wait=true"
        );
        let bot = "Authorization: Bot MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789";
        assert!(!scrub(bot).contains("abcdefghijklmnop"), "{}", scrub(bot));
        let t = "token MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789 here";
        assert_eq!(scrub(t), "token *** here");
    }

    #[test]
    fn registered_secrets_are_hidden_whatever_their_shape() {
        register_secret("odd.shaped~secret!value");
        assert_eq!(scrub("x odd.shaped~secret!value y"), "x *** y");
        register_secret("short");
        assert_eq!(scrub("a short text"), "a short text");
    }

    #[test]
    fn ordinary_text_is_untouched() {
        for t in [
            "Bad Request: chat not found",
            "HTTP 404 code 10003: Unknown Channel",
            "https://example.com/feed.xml?page=2",
            "about the robot/arm",
            "v1.2.3 released",
        ] {
            assert!(matches!(scrub(t), Cow::Borrowed(_)), "{t}");
        }
    }

    #[test]
    fn delivery_errors_are_scrubbed() {
        let e = DeliveryError::Transient(format!("unreadable answer: Cannot POST /bot{TG}/x"));
        assert_eq!(
            e.scrubbed().to_string(),
            "unreadable answer: Cannot POST /bot***/x"
        );
    }
}
