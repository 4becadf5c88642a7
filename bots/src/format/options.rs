//! The formatting settings: per feed ([`FeedRenderOptions`]) and per target
//! ([`TargetFormat`]), with their modes and styles. A leaf: the renderers,
//! templates and article preparation read these; checking them (which
//! compiles rules and templates) lives in the parent module.

use serde::{Deserialize, Serialize};

/// Which renderer's rules a target formats with (the formatter's own
/// notion; a platform module says which looks its targets use).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Look {
    /// Telegram (Bot API).
    Telegram,
    /// Discord (bot or webhook).
    Discord,
}

/// How much of the article a post carries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// One message: title, summary (cut at `summary_length`), source.
    /// Over-long posts are truncated on a sentence or word boundary.
    #[default]
    Summary,
    /// The whole article, split into as many messages as needed (at most
    /// `max_parts`).
    Full,
}

/// Telegram link preview of a text message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkPreview {
    /// A large preview of the article's image, above the text (falls back
    /// to a preview of the article link when there is no image).
    #[default]
    Image,
    /// A preview of the article link, below the text.
    Article,
    /// No preview.
    None,
}

/// Discord message style.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiscordStyle {
    /// A rich embed (title, description, author, footer, image…).
    #[default]
    Embed,
    /// Plain message content (markdown), split at 2000 characters.
    Plain,
}

/// Where a Discord embed shows the article image.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiscordImage {
    /// Large image under the description.
    #[default]
    Large,
    /// Small thumbnail at the top right.
    Thumbnail,
    /// No image.
    None,
}

fn yes() -> bool {
    true
}

/// Per-feed formatting settings (from the feed's config section).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedRenderOptions {
    /// Extra CSS selectors whose elements are dropped from article bodies
    /// (e.g. `".promo-box"`, `"div[data-ad]"`).
    #[serde(default)]
    pub drop_selectors: Vec<String>,
    /// Extra text patterns (regular expressions, case-insensitive): blocks
    /// (paragraphs, headings, list items, quotes) whose whitespace-
    /// normalised text matches anywhere are dropped. Anchor with `^…$` to
    /// match whole blocks.
    #[serde(default)]
    pub drop_patterns: Vec<String>,
    /// Discord embed colour for this feed (0xRRGGBB); a target's `color`
    /// overrides it.
    #[serde(default)]
    pub color: Option<u32>,
    /// For posts whose HTML is a whole page: CSS selector of the element
    /// holding the article body (default: the first of
    /// `[itemprop=articleBody]`, `.entry-content`, `.post-content`,
    /// `.article-content`, `.article-body`, `.post-body`, `article`,
    /// `main`).
    #[serde(default)]
    pub content_selector: Option<String>,
    /// Apply the default boilerplate rules (default `true`).
    #[serde(default = "yes")]
    pub default_rules: bool,
}

impl Default for FeedRenderOptions {
    fn default() -> Self {
        FeedRenderOptions {
            drop_selectors: Vec::new(),
            drop_patterns: Vec::new(),
            color: None,
            content_selector: None,
            default_rules: true,
        }
    }
}

/// Per-target formatting settings. `TargetFormat::default()` is the
/// platform default (the default templates depend on the platform and the
/// Discord style, so one default serves both platforms).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TargetFormat {
    /// Article template (see the [module docs](self#template-markup)).
    /// Telegram: the whole text/caption; Discord embed style: the embed
    /// description; Discord plain style: the message. Default: the
    /// platform's default for the mode ([`TEXT_SUMMARY`], [`TEXT_FULL`],
    /// [`EMBED_SUMMARY`], [`EMBED_FULL`]).
    pub template: Option<String>,
    /// Template for digest posts. Default [`TEXT_DIGEST`] /
    /// [`EMBED_DIGEST`].
    pub digest_template: Option<String>,
    /// Discord embed style only: template for the message `content` above
    /// the embed (≤ 2000). Default: none.
    pub content_template: Option<String>,
    /// Summary (default) or full text.
    pub mode: Mode,
    /// Length of the `summary` placeholder, in characters (UTF-16 units).
    /// Default 500 (a Telegram post with a summary then fits a photo
    /// caption).
    pub summary_length: usize,
    /// `strftime` format of the `date` placeholder. Default
    /// `"%Y-%m-%d %H:%M %Z"`.
    pub date_format: String,
    /// IANA timezone of the `date` placeholder (chrono-tz name, e.g.
    /// `"Europe/Paris"`), parsed once. Default UTC.
    #[serde(with = "tz_name")]
    pub timezone: chrono_tz::Tz,
    /// Add a "Read more" URL button to the (last) message (Telegram inline
    /// keyboard, Discord link button). Default `false`.
    pub read_more: bool,
    /// The button's label. Default `"Read more"`.
    pub read_more_label: String,
    /// Telegram: send an article with an image as a photo with caption when
    /// the post fits 1024 characters. Default `true`.
    pub photo: bool,
    /// Telegram: link preview of text messages. Default
    /// [`LinkPreview::Image`].
    pub link_preview: LinkPreview,
    /// Discord: embed (default) or plain text.
    pub discord_style: DiscordStyle,
    /// Discord: large image (default), thumbnail or none.
    pub discord_image: DiscordImage,
    /// Discord: an article with several pictures shows up to 4 of them as
    /// a gallery (embeds sharing the article URL). Default `false`.
    pub discord_gallery: bool,
    /// Telegram: an article with 2 or more pictures is sent as a media
    /// group (`sendMediaGroup`, up to 10 photos, the caption on the first;
    /// text beyond the caption follows as text messages). Default `false`.
    pub telegram_gallery: bool,
    /// Telegram, full mode: an article too long for one message is
    /// published as a Telegraph page and posted as its summary with the
    /// page's link (Instant View); the split messages stay as the
    /// fallback. Default `false`.
    pub telegraph: bool,
    /// Discord embed colour (0xRRGGBB), overriding the feed's.
    pub color: Option<u32>,
    /// Full mode and digests: at most this many messages per post (the
    /// last one is truncated). Default 10.
    pub max_parts: usize,
    /// At most this many hashtags from the categories (the `hashtags`
    /// placeholder); 0 turns them off. Default 5.
    pub hashtags: usize,
}

impl Default for TargetFormat {
    fn default() -> Self {
        TargetFormat {
            template: None,
            digest_template: None,
            content_template: None,
            mode: Mode::Summary,
            summary_length: 500,
            date_format: "%Y-%m-%d %H:%M %Z".into(),
            timezone: chrono_tz::UTC,
            read_more: false,
            read_more_label: "Read more".into(),
            photo: true,
            link_preview: LinkPreview::Image,
            discord_style: DiscordStyle::Embed,
            discord_image: DiscordImage::Large,
            color: None,
            max_parts: 10,
            hashtags: 5,
            discord_gallery: false,
            telegram_gallery: false,
            telegraph: false,
        }
    }
}

/// A timezone as its IANA name in serialized settings.
mod tz_name {
    use serde::{Deserialize, Deserializer, Serializer, de};

    pub fn serialize<S: Serializer>(tz: &chrono_tz::Tz, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(tz.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<chrono_tz::Tz, D::Error> {
        let s = String::deserialize(d)?;
        s.trim()
            .parse()
            .map_err(|_| de::Error::custom(format!("unknown timezone {s:?}")))
    }
}
