//! The safety net: every rendered message is validated ([`checked`]) and
//! replaced by the minimal form ([`minimal_fallback`]) if invalid.

use super::message::{CONTENT_LIMIT, DiscordMessage};
use crate::format::safety::safety_net_used;
use crate::format::text::{truncate_words, utf16_len};

pub(super) fn checked(m: DiscordMessage) -> DiscordMessage {
    let v = serde_json::to_value(&m).unwrap_or_default();
    match crate::format::validate::discord_message(&v) {
        Ok(()) => m,
        Err(e) => {
            safety_net_used(&e.errors.to_string(), &v.to_string());
            tracing::error!(errors = %e.errors, "formatter produced an invalid Discord message; sending the minimal form");
            minimal_fallback(&m)
        }
    }
}

/// The simplest message Discord will accept, from a rejected one (used on
/// 50035 Invalid Form Body): `content` only — the embed's title, link and
/// description as markdown, cut to 2000 — no embeds, no components.
pub fn minimal_fallback(m: &DiscordMessage) -> DiscordMessage {
    let mut lines: Vec<String> = Vec::new();
    if let Some(c) = &m.content {
        lines.push(c.clone());
    }
    for e in &m.embeds {
        if let Some(t) = &e.title {
            lines.push(format!("**{}**", t.trim()));
        }
        if let Some(u) = &e.url {
            lines.push(u.clone());
        }
        if let Some(d) = &e.description {
            lines.push(d.clone());
        }
        if let Some(img) = e.image.as_ref().or(e.thumbnail.as_ref()) {
            lines.push(img.url.clone());
        }
    }
    for row in &m.components {
        for b in &row.components {
            lines.push(b.url.clone());
        }
    }
    let mut text = lines.join("\n\n");
    if utf16_len(&text) > CONTENT_LIMIT {
        text = truncate_words(&text, CONTENT_LIMIT);
    }
    if text.trim().is_empty() {
        text = "…".into();
    }
    DiscordMessage {
        content: Some(text),
        embeds: Vec::new(),
        components: Vec::new(),
    }
}
