//! The platform-neutral Post model: what the core hands to the formatter and
//! the adapters. It knows nothing of Telegram or Discord.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One thing to publish: an article from a feed, a page an editor handed
/// over, an editor's own message, or a digest of several articles.
///
/// HTML fields hold the source's HTML as found (already resolved against the
/// article's base URL by the sources layer); the formatter sanitises them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Post {
    /// Name of the feed (or source label such as `editor`) the post came from.
    pub feed: String,
    /// Human title of the source (the feed's or site's title), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_title: Option<String>,
    /// Plain-text title (entities already decoded). May be empty.
    #[serde(default)]
    pub title: String,
    /// Canonical link to the article.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// Summary / description, as HTML (may be plain text, which is valid HTML).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary_html: Option<String>,
    /// Full content, as HTML.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_html: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authors: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<DateTime<Utc>>,
    /// Absolute image URLs, the main (featured) image first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<String>,
    /// BCP 47 language tag (`en`, `en-US`), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Non-empty for a digest post: the articles it combines, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub digest: Vec<DigestItem>,
    /// Audio and video files attached to the article (podcast episodes,
    /// videos): RSS enclosures, Media RSS contents.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enclosures: Vec<Enclosure>,
    /// The title was made from the text (a title-less item, titled from its
    /// first words for lists and logs): a post shows the text only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub title_from_text: bool,
}

/// An audio or video file attached to an article.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enclosure {
    /// Absolute `http(s)` URL of the file.
    pub url: String,
    /// Its MIME type (`audio/mpeg`, `video/mp4`), if the feed says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime: Option<String>,
    /// Its size in bytes, if the feed says (often 0 or wrong).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u64>,
}

impl Enclosure {
    /// `audio`, `video` or `None`, from the MIME type or the file name.
    pub fn kind(&self) -> Option<&'static str> {
        let mime = self.mime.as_deref().unwrap_or("").to_ascii_lowercase();
        if mime.starts_with("audio/") {
            return Some("audio");
        }
        if mime.starts_with("video/") {
            return Some("video");
        }
        let path = self
            .url
            .split(['?', '#'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        if [
            ".mp3", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".wav", ".flac",
        ]
        .iter()
        .any(|e| path.ends_with(e))
        {
            Some("audio")
        } else if [".mp4", ".m4v", ".mov", ".webm", ".mkv"]
            .iter()
            .any(|e| path.ends_with(e))
        {
            Some("video")
        } else {
            None
        }
    }
}

/// One line of a digest post.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestItem {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

impl Post {
    /// The main image, if any.
    pub fn image(&self) -> Option<&str> {
        self.images.first().map(String::as_str)
    }

    /// A short label for logs: the title, else the link, else the feed.
    pub fn label(&self) -> &str {
        if !self.title.trim().is_empty() {
            &self.title
        } else if let Some(link) = &self.link {
            link
        } else {
            &self.feed
        }
    }
}
