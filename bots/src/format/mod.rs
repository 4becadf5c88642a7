//! The common formatter: article HTML → sanitised rich text → per-platform
//! output within each platform's limits.
//!
//! # Pipeline
//!
//! 1. **Sanitise** ([`sanitize_html`]): the post's HTML is parsed with
//!    html5ever; scripts, styles, forms, iframes, comments, hidden elements
//!    and tracking pixels are dropped; unknown tags are unwrapped;
//!    whitespace is collapsed as a browser shows it; `<br>`, `<p>`, `<li>`…
//!    become line and block structure. A whole page is narrowed to its
//!    article body first.
//! 2. **Boilerplate removal**: default rules (social "Join Now" boxes,
//!    "MUST READ"/"Also read" cross-links, newsletter prompts, "Leave a
//!    Comment", "The post … appeared first on …", share buttons, related
//!    posts, ads) plus the feed's own [`FeedFormat::drop_selectors`] and
//!    [`FeedFormat::drop_patterns`].
//! 3. **Rich text** ([`rich`]): blocks (paragraph, heading, list item,
//!    quote, code, image) of spans (text with bold/italic/underline/
//!    strike/spoiler/code flags and a link).
//! 4. **Template** ([`TargetFormat::template`], minijinja): every value is
//!    escaped, so no title, author or category can inject formatting; the
//!    output is a tiny neutral markup (see [Template markup](#template-markup)).
//! 5. **Platform renderer** with the platform's limits:
//!    [`telegram::render`] (Telegram HTML) and [`discord::render`]
//!    (embeds/markdown), splitting or truncating at safe boundaries.
//!    [`terminal`] shows the result as a channel member would see it, and
//!    [`validate`] checks it strictly, as the platforms would.
//!
//! # Template markup
//!
//! A template writes the tags `<b>`, `<i>`, `<u>`, `<s>`, `<spoiler>`,
//! `<code>`, `<a href>`, `<pre>`, `<blockquote>` and `<br>`; a blank line
//! separates paragraphs, a single newline breaks the line, runs of spaces
//! collapse. `<spoiler>` may also be written `<tg-spoiler>` or
//! `<span class="tg-spoiler">`; `<pre><code class="language-x">` gives a
//! code block with a language. Links must be absolute `http(s)` URLs
//! (anything else keeps its text and loses the link). Entities `&lt; &gt;
//! &amp; &quot; &#39;`, numeric ones and a few named ones are decoded. The
//! same template works on both platforms. At send time unknown markup is
//! shown as text; [`TargetFormat::check`] reports it. Placeholders:
//!
//! | placeholder | value |
//! |---|---|
//! | `title` | the post title (one line, at most 1000 characters) |
//! | `link` | the article URL (`""` when none) |
//! | `summary` | block placeholder: the summary (the feed's, or the first paragraphs of the content) cut at `summary_length` |
//! | `summary_text` | the same, as plain text |
//! | `content` | block placeholder: the whole sanitised article |
//! | `author`, `authors` | authors joined with `, `; the list |
//! | `feed`, `source` | the feed name; the source title (falls back to the feed name) |
//! | `categories`, `hashtags` | the list; `#World #UnitedStates …` (at most [`TargetFormat::hashtags`], readable ones, see `hashtags.rs`) |
//! | `date`, `updated_date` | published/updated date in `date_format` and `timezone` |
//! | `published`, `updated` | RFC 3339 timestamps |
//! | `image` | the main image URL (`""` when none) |
//! | `media_url`, `media_label` | the post's first audio or video file and its label (`🎧 Listen (MP3, 34 MB)`); `""` when none |
//! | `language` | the post language tag |
//! | `digest` | digest items, each with `title` and `link` |
//!
//! `summary` and `content` stand for whole paragraphs: put them on their
//! own line (styles around them apply to all their text). Jinja's
//! `trim_blocks` and `lstrip_blocks` are on.

pub mod discord;
mod hashtags;
mod images;
mod layout;
mod markup;
mod media;
mod nesting;
mod repair;
pub mod rich;
mod rules;
mod sanitize;
pub mod telegram;
mod template;
pub mod terminal;
mod text;
pub mod validate;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::model::{DigestItem, Post};
use rich::Block;
use text::{one_line, sanitize_url, truncate_words};

pub use template::{EMBED_DIGEST, EMBED_FULL, EMBED_SUMMARY, TEXT_DIGEST, TEXT_FULL, TEXT_SUMMARY};

/// The platform a target formats for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
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
pub struct FeedFormat {
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

impl Default for FeedFormat {
    fn default() -> Self {
        FeedFormat {
            drop_selectors: Vec::new(),
            drop_patterns: Vec::new(),
            color: None,
            content_selector: None,
            default_rules: true,
        }
    }
}

impl FeedFormat {
    /// Compile the rules; `Err` lists every invalid selector or pattern
    /// (for `crier check`; at send time invalid rules are skipped).
    pub fn check(&self) -> Result<(), String> {
        let (_, mut errors) = rules::compile(self);
        if self.color.is_some_and(|c| c > 0xFF_FFFF) {
            errors.push("color must be at most 0xFFFFFF".into());
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
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
    /// `"Europe/Paris"`). Default `"UTC"`.
    pub timezone: String,
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
            timezone: "UTC".into(),
            read_more: false,
            read_more_label: "Read more".into(),
            photo: true,
            link_preview: LinkPreview::Image,
            discord_style: DiscordStyle::Embed,
            discord_image: DiscordImage::Large,
            color: None,
            max_parts: 10,
            hashtags: 5,
        }
    }
}

impl TargetFormat {
    /// Validate the settings and compile the templates this target will
    /// use on `platform`, rendering them against sample posts. `Err`
    /// describes every problem (syntax errors with their line, unknown
    /// placeholders, unsupported markup, bad timezone or date format…);
    /// `crier check` prefixes it with the target name.
    pub fn check(&self, platform: Platform) -> Result<(), String> {
        let mut errors = Vec::new();
        if self.timezone.trim().parse::<chrono_tz::Tz>().is_err() {
            errors.push(format!("unknown timezone {:?}", self.timezone));
        }
        {
            use std::fmt::Write as _;
            let mut s = String::new();
            let sample = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
            if write!(s, "{}", sample.format(&self.date_format)).is_err() {
                errors.push(format!("invalid date_format {:?}", self.date_format));
            }
        }
        if self.max_parts == 0 || self.max_parts > 100 {
            errors.push("max_parts must be between 1 and 100".into());
        }
        if self.hashtags > 30 {
            errors.push("hashtags must be at most 30".into());
        }
        if self.summary_length > 100_000 {
            errors.push("summary_length must be at most 100000".into());
        }
        if self.color.is_some_and(|c| c > 0xFF_FFFF) {
            errors.push("color must be at most 0xFFFFFF".into());
        }
        if one_line(&self.read_more_label).is_empty() {
            errors.push("read_more_label must not be empty".into());
        }
        let mut templates: Vec<(&str, &str)> = vec![
            ("template", template::source_for(platform, self, false)),
            (
                "digest_template",
                template::source_for(platform, self, true),
            ),
        ];
        if platform == Platform::Discord
            && let Some(c) = self.content_template.as_deref()
        {
            templates.push(("content_template", c));
        }
        for (name, src) in templates {
            if let Err(e) = template::check(src, self) {
                errors.push(format!("{name}: {e}"));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }

    /// The template source this target uses for ordinary (not digest)
    /// posts on `platform` (for `crier preview` and documentation).
    pub fn template_source(&self, platform: Platform) -> &str {
        template::source_for(platform, self, false)
    }
}

/// Images given as `tg-file:<file id>` are a photo Telegram already has
/// (an editor's `/post` of a photo): Telegram targets send it by its id;
/// other platforms cannot show it and leave it out.
pub const TELEGRAM_FILE: &str = "tg-file:";

/// The file id of a `tg-file:` image.
pub fn telegram_file(image: &str) -> Option<&str> {
    image.trim().strip_prefix(TELEGRAM_FILE).filter(|id| {
        !id.is_empty()
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    })
}

/// The image as a web URL (not a Telegram file).
pub(crate) fn web_image(image: Option<&String>) -> Option<&String> {
    image.filter(|i| telegram_file(i).is_none())
}

/// Sanitise article HTML into rich text, applying the feed's rules (the
/// pipeline's first two steps; useful for previews and debugging).
/// `base` resolves relative links and images.
pub fn sanitize_html(html: &str, base: Option<&str>, feed: &FeedFormat) -> Vec<Block> {
    let base = base.and_then(|b| Url::parse(b).ok());
    sanitize::sanitize(html, base.as_ref(), &rules::for_feed(feed))
}

static SAFETY_NET: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many rendered messages failed the formatter's own validation (a
/// formatter bug) and were replaced by their fallback form since the
/// process started. Always 0 unless there is a bug; exposed for tests and
/// metrics.
pub fn safety_net_count() -> u64 {
    SAFETY_NET.load(std::sync::atomic::Ordering::Relaxed)
}

static SAFETY_NET_LAST: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());

/// The violation the safety net caught last, with the start of the message
/// (for tests' failure messages; empty when it was never used).
pub fn safety_net_last() -> String {
    SAFETY_NET_LAST
        .lock()
        .map(|s| s.clone())
        .unwrap_or_default()
}

pub(crate) fn safety_net_used(violation: &str, body: &str) {
    SAFETY_NET.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    if let Ok(mut last) = SAFETY_NET_LAST.lock() {
        let head: String = body.chars().take(300).collect();
        *last = format!("{violation} in: {head}");
    }
}

/// Upper bound of the `title` placeholder.
const TITLE_MAX: usize = 1000;

/// Everything the templates and renderers need from a post, prepared once.
#[derive(Debug, Clone, Default)]
pub(crate) struct Article {
    pub title: String,
    pub link: Option<String>,
    pub source: String,
    pub author: String,
    pub image: Option<String>,
    pub summary: Vec<Block>,
    pub content: Vec<Block>,
}

/// `title` (without a closing "…") is how the text of `blocks` begins.
fn title_repeats_text<'a>(title: &str, blocks: impl Iterator<Item = &'a Block>) -> bool {
    let head = norm(title.trim_end().trim_end_matches('…').trim_end());
    if head.is_empty() {
        return false;
    }
    let mut text = String::new();
    for b in blocks {
        if text.len() > head.len() + 8 {
            break;
        }
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(&b.plain_text());
    }
    norm(&text).starts_with(&head)
}

fn norm(s: &str) -> String {
    one_line(s).to_lowercase()
}

/// A summary the source cut short ends with `[…]`, `[...]` or `…`.
fn strip_cut_marker(mut blocks: Vec<Block>) -> (Vec<Block>, bool) {
    let Some(spans) = blocks.last_mut().and_then(Block::spans_mut) else {
        return (blocks, false);
    };
    let Some(last) = spans.last_mut() else {
        return (blocks, false);
    };
    let t = last.text.trim_end();
    for marker in ["[…]", "[...]", "[&hellip;]", "…", "..."] {
        if let Some(rest) = t.strip_suffix(marker) {
            last.text = rest.trim_end().to_string();
            rich::trim_spans(spans);
            return (blocks, true);
        }
    }
    (blocks, false)
}

/// Blocks with leftover entities decoded, mojibake repaired and "read
/// more" tails removed; `true` when the last block lost a tail.
fn repaired(mut blocks: Vec<Block>) -> (Vec<Block>, bool) {
    repair::repair_blocks(&mut blocks);
    let cut = repair::strip_read_more(&mut blocks);
    (blocks, cut)
}

/// The first paragraphs of the content, about `len` characters.
fn first_paragraphs(content: &[Block], len: usize) -> Vec<Block> {
    let mut out = Vec::new();
    let mut have = 0;
    let mut prev_image = false;
    for b in content {
        let after_image = std::mem::replace(&mut prev_image, matches!(b, Block::Image { .. }));
        match b {
            Block::Paragraph(spans) => {
                // A caption under a picture is not the article's text.
                if after_image && spans.iter().all(|s| s.style.contains(rich::Style::ITALIC)) {
                    continue;
                }
            }
            Block::Quote(_) | Block::ListItem { .. } => {}
            _ => continue,
        }
        if have > 0 && (have >= len || len - have < 80) {
            break;
        }
        have += b.text_len() + 2;
        out.push(b.clone());
    }
    out
}

fn summary_blocks(
    post: &Post,
    content: &[Block],
    rules: &rules::Rules,
    base: Option<&Url>,
    len: usize,
) -> Vec<Block> {
    if len == 0 {
        return Vec::new();
    }
    let has_content = content.iter().any(|b| matches!(b, Block::Paragraph(_)));
    // A feed excerpt cut short ("… [&#8230;]") is replaced by the first
    // paragraphs of the content anyway: no need to parse it.
    let raw_cut = post.summary_html.as_deref().is_some_and(|s| {
        let s = s.trim_end();
        [
            "[&#8230;]",
            "[&hellip;]",
            "[…]",
            "[...]",
            "&#8230;",
            "&hellip;",
            "…",
            "...",
        ]
        .iter()
        .any(|m| s.ends_with(m))
    });
    if raw_cut && has_content {
        return layout::truncate(&layout::PlainText, first_paragraphs(content, len), len);
    }
    let from_feed = post
        .summary_html
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(|h| sanitize::sanitize(&repair::fix_mojibake(h), base, rules))
        .unwrap_or_default();
    let (mut from_feed, tail_cut) = repaired(from_feed);
    // The post's photo is shown apart: a summary never lists pictures.
    from_feed.retain(|b| !matches!(b, Block::Image { .. }));
    repair::drop_link_lists(&mut from_feed);
    let (mut from_feed, marker) = strip_cut_marker(from_feed);
    // A theme's "Read more →" after an unfinished sentence means the text
    // was cut too.
    let cut = marker
        || tail_cut
            && !from_feed
                .last()
                .map(Block::plain_text)
                .and_then(|t| t.split_whitespace().last().map(text::ends_sentence))
                .unwrap_or(true);
    let blocks = if from_feed.iter().all(Block::is_blank) || (cut && has_content) {
        first_paragraphs(content, len)
    } else {
        if cut && let Some(spans) = from_feed.last_mut().and_then(Block::spans_mut) {
            rich::push_text(spans, "…", rich::Style::PLAIN, None);
        }
        from_feed
    };
    layout::truncate(&layout::PlainText, blocks, len)
}

/// Prepare a post: sanitise its HTML, find its image, build its summary.
pub(crate) fn prepare(post: &Post, feed: &FeedFormat, fmt: &TargetFormat) -> Article {
    let rules = rules::for_feed(feed);
    let link = post.link.as_deref().and_then(|l| sanitize_url(l, None));
    let base = link.as_deref().and_then(|l| Url::parse(l).ok());
    let title = truncate_words(&one_line(&repair::repair_text(&post.title)), TITLE_MAX);
    let content = post
        .content_html
        .as_deref()
        .map(|h| sanitize::sanitize(&repair::fix_mojibake(h), base.as_ref(), &rules))
        .unwrap_or_default();
    let (mut content, _) = repaired(content);
    // A title-less item (a micro post) is titled by the sources from its
    // first words, for lists and logs; posted, that title would repeat the
    // text right below it, so the post goes out untitled, as written.
    let title = if post.title_from_text && title_repeats_text(&title, content.iter()) {
        String::new()
    } else {
        title
    };
    // A page's own headline repeats the title.
    if !title.is_empty()
        && let Some(first) = content
            .iter()
            .position(|b| !matches!(b, Block::Image { .. }))
        && matches!(content[first], Block::Heading { .. } | Block::Paragraph(_))
        && content[first].text_len() <= title.len() + 16
        && norm(&content[first].plain_text()) == norm(&title)
    {
        content.remove(first);
    }
    // A thumbnail (the first image of a WordPress body is often one) is
    // never the post's photo.
    let image = post
        .images
        .iter()
        .filter(|i| !images::is_noise(&i.to_ascii_lowercase(), None, None))
        .find_map(|i| {
            sanitize_url(i, base.as_ref())
                .or_else(|| telegram_file(i).map(|_| i.trim().to_string()))
        })
        .or_else(|| {
            content.iter().find_map(|b| match b {
                Block::Image { src, .. } => Some(src.clone()),
                _ => None,
            })
        });
    let summary = summary_blocks(post, &content, &rules, base.as_ref(), fmt.summary_length);
    // The same for a title made from the summary.
    let title = if post.title_from_text && title_repeats_text(&title, summary.iter()) {
        String::new()
    } else {
        title
    };
    if let Some(img) = &image {
        content
            .retain(|b| !matches!(b, Block::Image { src, .. } if images::same_picture(src, img)));
    }
    let source = post
        .source_title
        .as_deref()
        .map(|s| one_line(&repair::repair_text(s)))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| one_line(&post.feed));
    let author = post
        .authors
        .iter()
        .map(|a| one_line(a))
        .filter(|a| !a.is_empty())
        .take(10)
        .collect::<Vec<_>>()
        .join(", ");
    Article {
        title,
        link,
        source: truncate_words(&source, 200),
        author: truncate_words(&author, 200),
        image,
        summary,
        content,
    }
}

impl Article {
    /// Nothing to show: no title, text, link or image (and not a digest).
    pub(crate) fn is_empty(&self, post: &Post) -> bool {
        self.title.is_empty()
            && self.link.is_none()
            && self.image.is_none()
            && self.summary.is_empty()
            && self.content.is_empty()
            && post.digest.is_empty()
    }
}

/// The error for a post with nothing to show.
pub(crate) fn empty_post(post: &Post) -> crate::target::RenderError {
    crate::target::RenderError(format!(
        "nothing to publish for {:?}: no title, text, link or image",
        post.label()
    ))
}

/// What a prepared [`Article`] depends on (compared in full on a cache hit,
/// so a hash collision can never hand over the wrong article).
#[derive(Debug, Clone, PartialEq)]
struct PrepKey {
    post: Post,
    feed: FeedFormat,
    summary_length: usize,
}

/// How many prepared articles are kept.
const PREP_CACHE: usize = 8;

/// [`prepare`], through a small cache: the engine renders each post once
/// per target, and every target needs the same sanitised article. Digest
/// items and dates are not used by `prepare` and are left out of the key.
pub(crate) fn prepared(
    post: &Post,
    feed: &FeedFormat,
    fmt: &TargetFormat,
) -> std::sync::Arc<Article> {
    use std::sync::{Arc, Mutex, OnceLock};
    type Cache = Mutex<std::collections::VecDeque<(PrepKey, Arc<Article>)>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let key = PrepKey {
        post: Post {
            digest: Vec::new(),
            published: None,
            updated: None,
            categories: Vec::new(),
            language: None,
            ..post.clone()
        },
        feed: FeedFormat {
            color: None,
            ..feed.clone()
        },
        summary_length: fmt.summary_length,
    };
    let cache = CACHE.get_or_init(Default::default);
    if let Ok(c) = cache.lock()
        && let Some((_, art)) = c.iter().find(|(k, _)| *k == key)
    {
        return art.clone();
    }
    let art = Arc::new(prepare(post, feed, fmt));
    if let Ok(mut c) = cache.lock() {
        if c.len() >= PREP_CACHE {
            c.pop_front();
        }
        c.push_back((key, art.clone()));
    }
    art
}

/// Sample posts `check` renders templates against.
pub(crate) fn samples() -> Vec<Post> {
    let full = Post {
        feed: "sample".into(),
        source_title: Some("Sample Source".into()),
        title: "Sample <title> & \"quotes\"".into(),
        link: Some("https://example.com/article".into()),
        summary_html: Some("<p>A summary.</p>".into()),
        content_html: Some("<p>First paragraph.</p><ul><li>item</li></ul>".into()),
        authors: vec!["A. Author".into()],
        categories: vec!["World".into(), "Tech News".into()],
        published: chrono::DateTime::from_timestamp(1_675_221_164, 0),
        updated: chrono::DateTime::from_timestamp(1_675_229_999, 0),
        images: vec!["https://example.com/image.jpg".into()],
        language: Some("en".into()),
        digest: Vec::new(),
        enclosures: Vec::new(),
        title_from_text: false,
    };
    let empty = Post {
        feed: "sample".into(),
        ..Post::default()
    };
    let digest = Post {
        feed: "sample".into(),
        title: "Digest".into(),
        digest: vec![
            DigestItem {
                title: "One".into(),
                link: Some("https://example.com/1".into()),
            },
            DigestItem {
                title: "Two".into(),
                link: None,
            },
        ],
        ..Post::default()
    };
    vec![full, empty, digest]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_check() {
        let f = TargetFormat::default();
        assert_eq!(f.check(Platform::Telegram), Ok(()));
        assert_eq!(f.check(Platform::Discord), Ok(()));
        let full = TargetFormat {
            mode: Mode::Full,
            discord_style: DiscordStyle::Plain,
            ..TargetFormat::default()
        };
        assert_eq!(full.check(Platform::Discord), Ok(()));
        assert_eq!(FeedFormat::default().check(), Ok(()));
    }

    #[test]
    fn check_reports_template_errors() {
        let bad = TargetFormat {
            template: Some("{{ title ".into()),
            ..TargetFormat::default()
        };
        let e = bad.check(Platform::Telegram).err().unwrap_or_default();
        assert!(e.contains("template:") && e.contains("syntax error"), "{e}");
        let typo = TargetFormat {
            template: Some("{{ tittle }}".into()),
            ..TargetFormat::default()
        };
        let e = typo.check(Platform::Telegram).err().unwrap_or_default();
        assert!(e.contains("undefined"), "{e}");
        let markup = TargetFormat {
            template: Some("<div>{{ title }}</div>".into()),
            ..TargetFormat::default()
        };
        let e = markup.check(Platform::Discord).err().unwrap_or_default();
        assert!(e.contains("unsupported tag <div>"), "{e}");
        let tz = TargetFormat {
            timezone: "Mars/Olympus".into(),
            date_format: "%Q".into(),
            ..TargetFormat::default()
        };
        let e = tz.check(Platform::Telegram).err().unwrap_or_default();
        assert!(e.contains("timezone") && e.contains("date_format"), "{e}");
    }

    #[test]
    fn feed_check_reports_bad_rules() {
        let f = FeedFormat {
            drop_selectors: vec!["<<".into()],
            ..FeedFormat::default()
        };
        assert!(f.check().is_err());
    }

    #[test]
    fn telegram_file_photos_go_to_telegram_only() {
        let post = Post {
            feed: "editor".into(),
            summary_html: Some("Flooded streets".into()),
            images: vec!["tg-file:AgACAgQAAxkBAAIB".into()],
            ..Post::default()
        };
        let tg = telegram::render(&post, &FeedFormat::default(), &TargetFormat::default())
            .expect("telegram");
        assert_eq!(tg[0].method, telegram::TelegramMethod::SendPhoto);
        assert_eq!(tg[0].photo.as_deref(), Some("tg-file:AgACAgQAAxkBAAIB"));
        let dc = discord::render(&post, &FeedFormat::default(), &TargetFormat::default())
            .expect("discord");
        let body = serde_json::to_string(&dc).expect("json");
        assert!(!body.contains("tg-file"), "{body}");
        // Without a URL to preview, the text fallback has no preview.
        let text = telegram::photo_to_text(&tg[0]);
        assert_eq!(
            text.link_preview_options,
            Some(telegram::LinkPreviewOptions::disabled())
        );
        assert!(telegram_file("tg-file:bad id").is_none());
    }

    #[test]
    fn target_format_deserialises_partially() {
        let f: TargetFormat =
            serde_json::from_value(serde_json::json!({"mode": "full", "timezone": "Europe/Paris"}))
                .unwrap_or_default();
        assert_eq!(f.mode, Mode::Full);
        assert_eq!(f.summary_length, 500);
        let g: FeedFormat = serde_json::from_value(serde_json::json!({})).unwrap_or_default();
        assert!(g.default_rules);
    }
}

#[cfg(test)]
mod cache_tests {
    use super::*;

    #[test]
    fn prepared_articles_are_never_mixed_up() {
        let a = Post {
            feed: "f".into(),
            title: "T".into(),
            content_html: Some("<p>Alpha text.</p>".into()),
            ..Post::default()
        };
        let b = Post {
            content_html: Some("<p>Beta text.</p>".into()),
            ..a.clone()
        };
        let fmt = TargetFormat::default();
        let feed = FeedFormat::default();
        assert_eq!(
            prepared(&a, &feed, &fmt).content[0].plain_text(),
            "Alpha text."
        );
        assert_eq!(
            prepared(&b, &feed, &fmt).content[0].plain_text(),
            "Beta text."
        );
        assert_eq!(
            prepared(&a, &feed, &fmt).content[0].plain_text(),
            "Alpha text."
        );
        let short = TargetFormat {
            summary_length: 8,
            ..TargetFormat::default()
        };
        assert_ne!(
            prepared(&a, &feed, &short).summary,
            prepared(&a, &feed, &fmt).summary
        );
        let strict = FeedFormat {
            drop_patterns: vec!["alpha".into()],
            ..FeedFormat::default()
        };
        assert!(prepared(&a, &strict, &fmt).content.is_empty());
    }
}
