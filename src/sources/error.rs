//! Per-feed errors: one clear line each, with a transient/permanent verdict.

use std::time::Duration;

/// Why reading one source failed. `Display` gives one line fit for a log,
/// for `crier inspect` and for the reason stored with a paused feed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// The server answered with a non-success status.
    #[error("HTTP {status}{}", retry_after.map(|d| format!(" (retry after {}s)", d.as_secs())).unwrap_or_default())]
    Http {
        /// The status code.
        status: u16,
        /// The server's `Retry-After`, when it sent one in seconds.
        retry_after: Option<Duration>,
    },
    /// The body (after content decoding) is larger than the feed's cap.
    #[error("body over cap of {cap} bytes")]
    BodyTooLarge {
        /// The cap that was exceeded, in bytes.
        cap: u64,
    },
    /// The document is not a feed (`got` says what it looked like, e.g. `HTML`).
    #[error("not a feed: got {got}")]
    NotAFeed {
        /// What the document looked like instead.
        got: String,
    },
    /// The document looked like a feed but could not be parsed.
    #[error("parse error{}: {message}", line.map(|l| format!(" at line {l}")).unwrap_or_default())]
    Parse {
        /// 1-based line of the error, when known.
        line: Option<u64>,
        /// What went wrong.
        message: String,
    },
    /// The connect or total timeout elapsed.
    #[error("timeout")]
    Timeout,
    /// The host name did not resolve.
    #[error("DNS: cannot resolve {host}")]
    Dns {
        /// The host that did not resolve.
        host: String,
    },
    /// The TCP/TLS connection failed (refused, reset, TLS error…).
    #[error("connection failed: {message}")]
    Connect {
        /// The underlying reason.
        message: String,
    },
    /// More redirects than the configured maximum.
    #[error("too many redirects")]
    TooManyRedirects,
    /// The URL is not usable (bad syntax, unsupported scheme…).
    #[error("invalid URL: {message}")]
    InvalidUrl {
        /// What is wrong with it.
        message: String,
    },
    /// The SSRF guard or the scheme rule refused a URL (a request, a
    /// redirect or a discovered URL).
    #[error("refused: {message}")]
    Refused {
        /// Which URL and why (the URL redacted).
        message: String,
    },
    /// Reading a local file failed.
    #[error("file: {message}")]
    File {
        /// The underlying reason.
        message: String,
    },
    /// Anything else (request building, body stream broken…).
    #[error("{message}")]
    Other {
        /// The underlying reason.
        message: String,
        /// Whether a later retry may succeed.
        transient: bool,
    },
}

impl SourceError {
    /// Whether retrying later may help (network trouble, 5xx, 429, timeouts).
    /// Permanent errors (404, 410, not a feed, parse errors, over cap, bad
    /// URL) are unlikely to heal by themselves; the core may pause sooner.
    pub fn is_transient(&self) -> bool {
        match self {
            SourceError::Http { status, .. } => {
                *status >= 500 || *status == 429 || *status == 408 || *status == 425
            }
            SourceError::Timeout | SourceError::Dns { .. } | SourceError::Connect { .. } => true,
            SourceError::Other { transient, .. } => *transient,
            SourceError::BodyTooLarge { .. }
            | SourceError::NotAFeed { .. }
            | SourceError::Parse { .. }
            | SourceError::TooManyRedirects
            | SourceError::InvalidUrl { .. }
            | SourceError::Refused { .. }
            | SourceError::File { .. } => false,
        }
    }

    /// The opposite of [`SourceError::is_transient`].
    pub fn is_permanent(&self) -> bool {
        !self.is_transient()
    }

    /// A short stable machine name for the error class (`http`, `timeout`,
    /// `body_too_large`, `not_a_feed`, `parse`, `dns`, `connect`,
    /// `too_many_redirects`, `invalid_url`, `refused`, `file`, `other`).
    pub fn kind(&self) -> &'static str {
        match self {
            SourceError::Http { .. } => "http",
            SourceError::BodyTooLarge { .. } => "body_too_large",
            SourceError::NotAFeed { .. } => "not_a_feed",
            SourceError::Parse { .. } => "parse",
            SourceError::Timeout => "timeout",
            SourceError::Dns { .. } => "dns",
            SourceError::Connect { .. } => "connect",
            SourceError::TooManyRedirects => "too_many_redirects",
            SourceError::InvalidUrl { .. } => "invalid_url",
            SourceError::Refused { .. } => "refused",
            SourceError::File { .. } => "file",
            SourceError::Other { .. } => "other",
        }
    }

    /// The server's `Retry-After` delay, if it gave one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            SourceError::Http { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    pub(crate) fn parse(message: impl Into<String>) -> Self {
        SourceError::Parse {
            line: None,
            message: message.into(),
        }
    }

    /// Classifies a reqwest error into one line.
    pub(crate) fn from_reqwest(err: &reqwest::Error, url: &url::Url) -> Self {
        if err.is_timeout() {
            return SourceError::Timeout;
        }
        if err.is_redirect() {
            let mut source = std::error::Error::source(err);
            while let Some(s) = source {
                if let Some(r) = s.downcast_ref::<super::guard::GuardRefusal>() {
                    return SourceError::Refused {
                        message: r.0.clone(),
                    };
                }
                source = s.source();
            }
            return SourceError::TooManyRedirects;
        }
        if let Some(status) = err.status() {
            return SourceError::Http {
                status: status.as_u16(),
                retry_after: None,
            };
        }
        // reqwest names the URL in its errors: credentials in it are masked.
        let chain = crate::redact::redact_text(&error_chain(err));
        if err.is_connect() {
            let lower = chain.to_ascii_lowercase();
            if lower.contains("dns")
                || lower.contains("failed to lookup")
                || lower.contains("name or service not known")
                || lower.contains("no address")
            {
                return SourceError::Dns {
                    host: url.host_str().unwrap_or_default().to_string(),
                };
            }
            return SourceError::Connect { message: chain };
        }
        if err.is_builder() {
            return SourceError::InvalidUrl { message: chain };
        }
        SourceError::Other {
            message: chain,
            transient: true,
        }
    }
}

/// Joins an error and its sources into one line.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out.replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_one_line_and_classified() {
        let e = SourceError::Http {
            status: 404,
            retry_after: None,
        };
        assert_eq!(e.to_string(), "HTTP 404");
        assert!(e.is_permanent());
        let e = SourceError::Http {
            status: 503,
            retry_after: Some(Duration::from_secs(120)),
        };
        assert_eq!(e.to_string(), "HTTP 503 (retry after 120s)");
        assert!(e.is_transient());
        let e = SourceError::Parse {
            line: Some(12),
            message: "unexpected end".into(),
        };
        assert_eq!(e.to_string(), "parse error at line 12: unexpected end");
        assert_eq!(
            SourceError::NotAFeed { got: "HTML".into() }.to_string(),
            "not a feed: got HTML"
        );
        assert!(SourceError::Timeout.is_transient());
        assert!(SourceError::BodyTooLarge { cap: 10 }.is_permanent());
    }
}
