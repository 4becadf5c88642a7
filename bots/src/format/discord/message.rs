//! The Discord message value: [`DiscordMessage`] (a create-message or
//! execute-webhook body), its embeds, buttons and action rows, Discord's
//! length limits, and the conversion to and from a stored [`Part`].

use serde::{Deserialize, Serialize};

use super::markdown::unescape_markdown;
use crate::format::text::{truncate_words, utf16_len};
use crate::target::Part;

/// Message `content` limit.
pub const CONTENT_LIMIT: usize = 2000;
/// Embed title limit.
pub const TITLE_LIMIT: usize = 256;
/// Embed description limit.
pub const DESCRIPTION_LIMIT: usize = 4096;
/// Embed author name limit.
pub const AUTHOR_LIMIT: usize = 256;
/// Embed footer text limit.
pub const FOOTER_LIMIT: usize = 2048;
/// Total characters across all embeds of a message.
pub const EMBEDS_TOTAL_LIMIT: usize = 6000;

/// A Discord create-message / execute-webhook body (without
/// `allowed_mentions`, `flags`, `nonce`, `username`, `avatar_url`, which
/// the adapter adds).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscordMessage {
    /// Message text (markdown, ≤ 2000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Rich embeds (≤ 10, ≤ 6000 characters in total).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub embeds: Vec<Embed>,
    /// Action rows with link buttons.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<ActionRow>,
}

/// A rich embed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Embed {
    /// Title (markdown-escaped, ≤ 256), linking to `url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Description (markdown, ≤ 4096).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The article URL the title links to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// ISO 8601.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// 0xRRGGBB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<u32>,
    /// Footer: the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub footer: Option<EmbedFooter>,
    /// Large image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<EmbedMedia>,
    /// Thumbnail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail: Option<EmbedMedia>,
    /// Author line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<EmbedAuthor>,
    /// Fields (≤ 25).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<EmbedField>,
}

/// Embed footer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbedFooter {
    /// Plain text (≤ 2048; markdown is not rendered here).
    pub text: String,
}

/// Embed image or thumbnail.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbedMedia {
    /// Image URL.
    pub url: String,
}

/// Embed author.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbedAuthor {
    /// Plain text (≤ 256; markdown is not rendered here).
    pub name: String,
    /// Link of the author name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// Embed field (not produced by the renderer; accepted by the validator).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbedField {
    /// Field name (≤ 256).
    pub name: String,
    /// Field value (≤ 1024).
    pub value: String,
    /// Show inline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inline: Option<bool>,
}

/// An action row (`type: 1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionRow {
    /// Always 1.
    #[serde(rename = "type")]
    pub kind: u8,
    /// Up to 5 buttons.
    pub components: Vec<Button>,
}

/// A link button (`type: 2`, `style: 5`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    /// Always 2.
    #[serde(rename = "type")]
    pub kind: u8,
    /// Always 5 (link).
    pub style: u8,
    /// Label (≤ 80).
    pub label: String,
    /// Target URL (≤ 512).
    pub url: String,
}

impl Embed {
    /// Characters this embed counts towards the 6000 total.
    pub fn total_len(&self) -> usize {
        self.title.as_deref().map(utf16_len).unwrap_or(0)
            + self.description.as_deref().map(utf16_len).unwrap_or(0)
            + self
                .footer
                .as_ref()
                .map(|f| utf16_len(&f.text))
                .unwrap_or(0)
            + self
                .author
                .as_ref()
                .map(|a| utf16_len(&a.name))
                .unwrap_or(0)
            + self
                .fields
                .iter()
                .map(|f| utf16_len(&f.name) + utf16_len(&f.value))
                .sum::<usize>()
    }
}

impl DiscordMessage {
    /// A one-line description for logs.
    pub fn summary(&self) -> String {
        let head = self
            .embeds
            .first()
            .and_then(|e| e.title.clone().or_else(|| e.description.clone()))
            .or_else(|| self.content.clone())
            .unwrap_or_default();
        let first = head.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        let first = truncate_words(&unescape_markdown(first.trim()), 80);
        if self.embeds.is_empty() {
            format!("message {first:?}")
        } else {
            format!("embed {first:?}")
        }
    }

    /// Wrap as an opaque [`Part`] for the delivery engine.
    pub fn to_part(&self) -> Part {
        Part {
            payload: serde_json::to_value(self).unwrap_or_default(),
            summary: self.summary(),
        }
    }

    /// Read back a [`Part`] payload.
    pub fn from_payload(v: &serde_json::Value) -> Option<DiscordMessage> {
        serde_json::from_value(v.clone()).ok()
    }
}
