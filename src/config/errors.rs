//! Config errors: where (file, line, key path) and what, every problem
//! of a file at once, never echoing a secret.

use std::fmt;
use std::path::PathBuf;

/// A configuration error, ready to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    /// The key path, e.g. `feeds[0].interval`; empty for file-level errors.
    pub key: String,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if !self.key.is_empty() {
            write!(f, ": {}", self.key)?;
        }
        // No credentials of a URL, no platform token, whatever the message.
        write!(f, ": {}", crate::redact::redact_text(&self.message))
    }
}

impl std::error::Error for ConfigError {}

/// Several errors found in one pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// The 1-based line of a byte offset.
pub(super) fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

pub use crier_bots::config::read::did_you_mean;

/// Config errors echo values (a mistyped URL, an unknown platform name):
/// whatever follows `/webhooks/<id>/` or `/interactions/<id>/` anywhere
/// in the file is a token, hidden from every message however the message
/// quotes it (percent-encoded, cut, run into other text). Tokens of 8+
/// characters of the token alphabet; the scrub rules apply as well.
pub(super) fn hide_webhook_tokens(text: &str, errors: &mut [ConfigError]) {
    let mut tokens: Vec<&str> = Vec::new();
    let lower = text.to_ascii_lowercase(); // same byte offsets
    for pat in ["/webhooks/", "/interactions/"] {
        for (at, _) in lower.match_indices(pat) {
            let rest = &text[at + pat.len()..];
            let Some((_, after_id)) = rest.split_once('/') else {
                continue;
            };
            let end = after_id
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                .unwrap_or(after_id.len());
            let token = &after_id[..end];
            if token.len() >= 8 && !tokens.contains(&token) {
                tokens.push(token);
            }
        }
    }
    // Longest first: a token that holds another is hidden whole.
    tokens.sort_by_key(|t| std::cmp::Reverse(t.len()));
    let hide = |s: &str| {
        let mut m = crier_bots::scrub::scrubbed(s);
        for t in &tokens {
            if m.contains(t) {
                m = m.replace(t, crier_bots::scrub::HIDDEN);
            }
        }
        m
    };
    for e in errors.iter_mut() {
        e.message = hide(&e.message);
        // A key path can hold one too (a key named after the token).
        e.key = hide(&e.key);
    }
}
