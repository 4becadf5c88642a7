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
//!    posts, ads) plus the feed's own [`FeedRenderOptions::drop_selectors`] and
//!    [`FeedRenderOptions::drop_patterns`].
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
//! | `media_url`, `media_label` | the post's first audio or video file and its label (`🎧 Listen (MP3, 34 MB)`); `""` when none, and in the caption of a Telegram audio message (the file is the message) |
//! | `language` | the post language tag |
//! | `digest` | digest items, each with `title` and `link` |
//!
//! `summary` and `content` stand for whole paragraphs: put them on their
//! own line (styles around them apply to all their text). Jinja's
//! `trim_blocks` and `lstrip_blocks` are on.

mod article;
pub mod discord;
mod dom;
mod fit;
mod hashtags;
mod images;
mod layout;
mod markup;
mod media;
mod nesting;
mod options;
mod repair;
pub mod rich;
mod rules;
mod safety;
mod sanitize;
pub mod telegram;
mod template;
pub mod terminal;
pub(crate) mod text;
pub mod validate;

use url::Url;

use rich::Block;

pub use images::{TELEGRAM_FILE, telegram_file};
pub use options::{
    DiscordImage, DiscordStyle, FeedRenderOptions, LinkPreview, Look, Mode, TargetFormat,
};
pub use safety::{safety_net_count, safety_net_last};
pub use text::escape_html;
use text::one_line;

pub use template::{EMBED_DIGEST, EMBED_FULL, EMBED_SUMMARY, TEXT_DIGEST, TEXT_FULL, TEXT_SUMMARY};

impl FeedRenderOptions {
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

impl TargetFormat {
    /// Validate the settings and compile the templates this target will
    /// use on `platform`, rendering them against sample posts. `Err`
    /// describes every problem (syntax errors with their line, unknown
    /// placeholders, unsupported markup, bad date format…);
    /// `crier check` prefixes it with the target name.
    pub fn check(&self, platform: Look) -> Result<(), String> {
        let errors: Vec<String> = self
            .problems(platform)
            .into_iter()
            .map(|(_, e)| e)
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }

    /// What `check` reports, each with the settings key it is about
    /// (`template`, `date_format`, …), so a config error can point at it.
    pub fn problems(&self, platform: Look) -> Vec<(&'static str, String)> {
        let mut errors = Vec::new();
        {
            use std::fmt::Write as _;
            let mut s = String::new();
            let sample = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
            if write!(s, "{}", sample.format(&self.date_format)).is_err() {
                errors.push((
                    "date_format",
                    format!("invalid date_format {:?}", self.date_format),
                ));
            }
        }
        if self.max_parts == 0 || self.max_parts > 100 {
            errors.push(("max_parts", "max_parts must be between 1 and 100".into()));
        }
        if self.hashtags > 30 {
            errors.push(("hashtags", "hashtags must be at most 30".into()));
        }
        if self.summary_length > 100_000 {
            errors.push((
                "summary_length",
                "summary_length must be at most 100000".into(),
            ));
        }
        if self.color.is_some_and(|c| c > 0xFF_FFFF) {
            errors.push(("color", "color must be at most 0xFFFFFF".into()));
        }
        if one_line(&self.read_more_label).is_empty() {
            errors.push((
                "read_more_label",
                "read_more_label must not be empty".into(),
            ));
        }
        let mut templates: Vec<(&'static str, &str)> = vec![
            ("template", template::source_for(platform, self, false)),
            (
                "digest_template",
                template::source_for(platform, self, true),
            ),
        ];
        if platform == Look::Discord
            && let Some(c) = self.content_template.as_deref()
        {
            templates.push(("content_template", c));
        }
        for (name, src) in templates {
            if let Err(e) = template::check(src, self) {
                errors.push((name, format!("{name}: {e}")));
            }
        }
        errors
    }

    /// The template source this target uses for ordinary (not digest)
    /// posts on `platform` (for `crier preview` and documentation).
    pub fn template_source(&self, platform: Look) -> &str {
        template::source_for(platform, self, false)
    }
}

/// Sanitise article HTML into rich text, applying the feed's rules (the
/// pipeline's first two steps; useful for previews and debugging).
/// `base` resolves relative links and images.
pub fn sanitize_html(html: &str, base: Option<&str>, feed: &FeedRenderOptions) -> Vec<Block> {
    let base = base.and_then(|b| Url::parse(b).ok());
    sanitize::sanitize(html, base.as_ref(), &rules::for_feed(feed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Post;

    #[test]
    fn defaults_check() {
        let f = TargetFormat::default();
        assert_eq!(f.check(Look::Telegram), Ok(()));
        assert_eq!(f.check(Look::Discord), Ok(()));
        let full = TargetFormat {
            mode: Mode::Full,
            discord_style: DiscordStyle::Plain,
            ..TargetFormat::default()
        };
        assert_eq!(full.check(Look::Discord), Ok(()));
        assert_eq!(FeedRenderOptions::default().check(), Ok(()));
    }

    #[test]
    fn check_reports_template_errors() {
        let bad = TargetFormat {
            template: Some("{{ title ".into()),
            ..TargetFormat::default()
        };
        let e = bad.check(Look::Telegram).err().unwrap_or_default();
        assert!(e.contains("template:") && e.contains("syntax error"), "{e}");
        let typo = TargetFormat {
            template: Some("{{ tittle }}".into()),
            ..TargetFormat::default()
        };
        let e = typo.check(Look::Telegram).err().unwrap_or_default();
        assert!(e.contains("undefined"), "{e}");
        let markup = TargetFormat {
            template: Some("<div>{{ title }}</div>".into()),
            ..TargetFormat::default()
        };
        let e = markup.check(Look::Discord).err().unwrap_or_default();
        assert!(e.contains("unsupported tag <div>"), "{e}");
        let tz = TargetFormat {
            date_format: "%Q".into(),
            ..TargetFormat::default()
        };
        let e = tz.check(Look::Telegram).err().unwrap_or_default();
        assert!(e.contains("date_format"), "{e}");
    }

    #[test]
    fn feed_check_reports_bad_rules() {
        let f = FeedRenderOptions {
            drop_selectors: vec!["<<".into()],
            ..FeedRenderOptions::default()
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
        let tg = telegram::render(
            &post,
            &FeedRenderOptions::default(),
            &TargetFormat::default(),
        )
        .expect("telegram");
        assert_eq!(tg[0].method, telegram::TelegramMethod::SendPhoto);
        assert_eq!(tg[0].photo.as_deref(), Some("tg-file:AgACAgQAAxkBAAIB"));
        let dc = discord::render(
            &post,
            &FeedRenderOptions::default(),
            &TargetFormat::default(),
        )
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
        assert_eq!(f.timezone, chrono_tz::Europe::Paris);
        assert_eq!(f.summary_length, 500);
        let g: FeedRenderOptions =
            serde_json::from_value(serde_json::json!({})).unwrap_or_default();
        assert!(g.default_rules);
    }
}
