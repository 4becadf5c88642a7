//! The Discord renderer.
//!
//! Default output: one **embed** — title (≤ 256) linking to the article,
//! description (≤ 4096) from the template, author, footer with the source,
//! timestamp, large image (or thumbnail), colour per feed/target — plus an
//! optional `content` (≤ 2000) and an optional "Read more" link button,
//! all within the 6000-character embed total. A plain-text variant (no
//! embed, `content` split at 2000) exists for targets configured that way.
//!
//! Markdown special characters of article text are backslash-escaped
//! (`\ * _ ~ ` | [ ] <` everywhere; `# > - +` and `1.` at a line start);
//! inline links become masked links `[text](url)`; `@everyone`/`@here`
//! get a zero-width space after the `@` and `<` is escaped, so no
//! `<@…>`, `<#…>` or `<t:…>` can form. (The adapter also sends
//! `allowed_mentions: {"parse": []}`.) Lengths are counted in UTF-16
//! units, never less than Discord's own count.

use super::article::{Article, empty_post, prepared};
use super::images::web_image;
use super::layout::{self, Dialect};
use super::options::{DiscordImage, DiscordStyle, FeedRenderOptions, Look, Mode, TargetFormat};
use super::rich::Block;
use super::template;
use super::text::{one_line, truncate_words, utf16_len};
use crate::model::Post;
use crate::target::RenderError;

mod fallback;
mod markdown;
mod message;

use fallback::checked;
pub use fallback::minimal_fallback;
pub(crate) use markdown::{
    MdDialect, defuse_mentions, escape_md_line, to_markdown, unescape_markdown,
};
pub use message::{
    AUTHOR_LIMIT, ActionRow, Button, CONTENT_LIMIT, DESCRIPTION_LIMIT, DiscordMessage,
    EMBEDS_TOTAL_LIMIT, Embed, EmbedAuthor, EmbedField, EmbedFooter, EmbedMedia, FOOTER_LIMIT,
    TITLE_LIMIT,
};

fn button_row(fmt: &TargetFormat, art: &Article) -> Vec<ActionRow> {
    if !fmt.read_more {
        return Vec::new();
    }
    let Some(url) = art.link.clone().filter(|u| u.len() <= 512) else {
        return Vec::new();
    };
    let label = one_line(&fmt.read_more_label);
    let label = if label.is_empty() {
        "Read more".to_string()
    } else {
        truncate_words(&label, 80)
    };
    vec![ActionRow {
        kind: 1,
        components: vec![Button {
            kind: 2,
            style: 5,
            label,
            url,
        }],
    }]
}

/// Fit a plain one-line value, escaped for markdown, into `limit`.
fn fit_escaped(text: &str, limit: usize) -> String {
    let mut max = limit;
    loop {
        let cut = truncate_words(text, max);
        let esc = escape_md_line(&cut);
        if utf16_len(&esc) <= limit || max == 0 {
            return esc;
        }
        max = max.saturating_sub((utf16_len(&esc) - limit).max(1));
    }
}

/// The post as rendered parts of at most `limit` each (at most
/// `max_parts`, the last truncated). Rendered once when it fits whole.
fn md_parts(d: &dyn Dialect, blocks: Vec<Block>, limit: usize, max_parts: usize) -> Vec<String> {
    if blocks.is_empty() {
        return Vec::new();
    }
    let md = to_markdown(&blocks);
    if utf16_len(&md) <= limit {
        return vec![md];
    }
    cap_parts(d, layout::split(d, blocks, limit), max_parts, limit)
        .iter()
        .map(|p| to_markdown(p))
        .collect()
}

fn cap_parts(
    d: &dyn Dialect,
    mut parts: Vec<Vec<Block>>,
    max: usize,
    limit: usize,
) -> Vec<Vec<Block>> {
    let max = max.max(1);
    if parts.len() > max {
        let rest: Vec<Block> = parts.drain(max - 1..).flatten().collect();
        parts.push(layout::truncate(d, rest, limit));
    }
    parts
}

/// Pictures one message's gallery shows (Discord's grid holds 4).
const GALLERY_MAX: usize = 4;

/// The pictures of the post's gallery (the first is the embed's own
/// image), when the target asks for one and the post has 2 or more: embed
/// style with the large image, a titled article with a link (the embeds
/// of a grid share the URL), not a digest. Else empty.
fn gallery(fmt: &TargetFormat, post: &Post, art: &Article) -> Vec<String> {
    let wanted = fmt.discord_gallery
        && matches!(fmt.discord_style, DiscordStyle::Embed)
        && matches!(fmt.discord_image, DiscordImage::Large)
        && art.link.is_some()
        && !art.title.is_empty()
        && post.digest.is_empty()
        && web_image(art.image.as_ref()).is_some();
    if !wanted {
        return Vec::new();
    }
    art.web_gallery(GALLERY_MAX)
}

/// Render a post into the Discord messages to send, in order.
///
/// * Embed style (default): the first message carries the embed's title,
///   link, author, image and the (start of the) description; the footer
///   and timestamp go on the last; full-text posts longer than one
///   description continue in further messages, one embed each. The
///   optional `content_template` becomes the first message's `content`.
/// * Plain style: `content` only, split at 2000.
///
/// Summary mode shrinks/truncates to one message; full mode and digests
/// split (at most `max_parts` messages).
pub fn render(
    post: &Post,
    feed: &FeedRenderOptions,
    fmt: &TargetFormat,
) -> Result<Vec<DiscordMessage>, RenderError> {
    let art = prepared(post, feed, fmt);
    if art.is_empty(post) {
        return Err(empty_post(post));
    }
    let gallery = gallery(fmt, post, &art);
    // The gallery's pictures are not repeated as image lines in the text.
    let art = if gallery.is_empty() {
        art
    } else {
        let mut a = (*art).clone();
        a.content.retain(|b| {
            !matches!(b, Block::Image { src, .. }
                if gallery.iter().any(|g| super::images::same_picture(src, g)))
        });
        std::sync::Arc::new(a)
    };
    let pieces = template::pieces(Look::Discord, fmt, post, &art)?;
    let d = MdDialect;
    let full = matches!(fmt.mode, Mode::Full) || !post.digest.is_empty();
    let buttons = button_row(fmt, &art);

    let mut out: Vec<DiscordMessage> = Vec::new();
    match fmt.discord_style {
        DiscordStyle::Plain => {
            let parts = if full {
                let blocks = super::markup::resolve(&pieces, &art.summary, &art.content);
                md_parts(&d, blocks, CONTENT_LIMIT, fmt.max_parts)
            } else {
                let (blocks, _) = super::fit::fit_summary(&d, &pieces, &art, CONTENT_LIMIT);
                md_parts(&d, blocks, CONTENT_LIMIT, 1)
            };
            for md in parts {
                if !md.trim().is_empty() {
                    out.push(DiscordMessage {
                        content: Some(md),
                        ..Default::default()
                    });
                }
            }
        }
        DiscordStyle::Embed => {
            let title_src = if art.title.is_empty() && !post.digest.is_empty() {
                art.source.clone()
            } else {
                art.title.clone()
            };
            let title = fit_escaped(&title_src, TITLE_LIMIT);
            let author = (!art.author.is_empty())
                .then(|| truncate_words(&defuse_mentions(&art.author), AUTHOR_LIMIT));
            let footer = (!art.source.is_empty())
                .then(|| truncate_words(&defuse_mentions(&art.source), FOOTER_LIMIT));
            let overhead = utf16_len(&title)
                + author.as_deref().map(utf16_len).unwrap_or(0)
                + footer.as_deref().map(utf16_len).unwrap_or(0);
            let limit = DESCRIPTION_LIMIT
                .min(EMBEDS_TOTAL_LIMIT.saturating_sub(overhead))
                .max(1);
            let parts = if full {
                let blocks = super::markup::resolve(&pieces, &art.summary, &art.content);
                md_parts(&d, blocks, limit, fmt.max_parts)
            } else {
                let (blocks, _) = super::fit::fit_summary(&d, &pieces, &art, limit);
                md_parts(&d, blocks, limit, 1)
            };
            let color = fmt.color.or(feed.color).map(|c| c & 0xFF_FFFF);
            let n = parts.len().max(1);
            let mut parts = parts.into_iter();
            for i in 0..n {
                let description = parts.next().filter(|s| !s.trim().is_empty());
                let mut e = Embed {
                    description,
                    color,
                    ..Default::default()
                };
                if i == 0 {
                    if !title.is_empty() {
                        e.title = Some(title.clone());
                        e.url = art.link.clone();
                    }
                    e.author = author.clone().map(|name| EmbedAuthor { name, url: None });
                    if let Some(img) = web_image(art.image.as_ref()) {
                        match fmt.discord_image {
                            DiscordImage::Large => e.image = Some(EmbedMedia { url: img.clone() }),
                            DiscordImage::Thumbnail => {
                                e.thumbnail = Some(EmbedMedia { url: img.clone() })
                            }
                            DiscordImage::None => {}
                        }
                    }
                }
                if i + 1 == n {
                    e.footer = footer.clone().map(|text| EmbedFooter { text });
                    // Years outside 1–9999 have no ISO 8601 form Discord reads
                    // (a feed dated `-004-12-01`: found by the feed fuzz target).
                    e.timestamp = post
                        .published
                        .filter(|t| (1..=9999).contains(&chrono::Datelike::year(t)))
                        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
                }
                let empty = e.title.is_none()
                    && e.description.is_none()
                    && e.image.is_none()
                    && e.thumbnail.is_none();
                // The rest of a gallery: embeds with only the same URL and
                // a picture, which Discord joins to the first as a grid.
                let more: Vec<Embed> = match (&e.url, i) {
                    (Some(link), 0) => gallery
                        .iter()
                        .skip(1)
                        .map(|url| Embed {
                            url: Some(link.clone()),
                            image: Some(EmbedMedia { url: url.clone() }),
                            ..Default::default()
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                if !empty {
                    out.push(DiscordMessage {
                        embeds: std::iter::once(e).chain(more).collect(),
                        ..Default::default()
                    });
                }
            }
            if let Some(src) = fmt.content_template.as_deref()
                && let Some(first) = out.first_mut()
            {
                let content = template::render_content(src, fmt, post, &art)?;
                let content = layout::truncate(&d, content, CONTENT_LIMIT);
                let md = to_markdown(&content);
                if !md.trim().is_empty() {
                    first.content = Some(md);
                }
            }
        }
    }
    if out.is_empty() {
        return Err(RenderError(format!(
            "nothing to publish for {:?}: no title, text, image or link",
            post.label()
        )));
    }
    if let Some(last) = out.last_mut() {
        last.components = buttons;
    }
    Ok(out.into_iter().map(checked).collect())
}

#[cfg(test)]
mod tests;
