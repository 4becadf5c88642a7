//! The platform-neutral article both renderers start from: a post's HTML
//! sanitised, its image found, its summary built (once per post, through a
//! small cache), and the sample posts templates are checked against.

use url::Url;

use super::images::telegram_file;
use super::options::{FeedRenderOptions, TargetFormat};
use super::rich::Block;
use super::text::{one_line, sanitize_url, truncate_words};
use super::{images, layout, repair, rich, rules, sanitize, text};
use crate::model::{DigestItem, Post};

/// Pictures kept for a gallery (Telegram's media groups take 10).
pub(crate) const GALLERY_MAX: usize = 10;

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
    /// The article's distinct pictures, `image` first (at most
    /// [`GALLERY_MAX`]): the feed's images, then the body's.
    pub gallery: Vec<String>,
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
pub(crate) fn prepare(post: &Post, feed: &FeedRenderOptions, fmt: &TargetFormat) -> Article {
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
    let gallery = gallery(post, &content, image.as_deref(), base.as_ref());
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
        gallery,
        summary,
        content,
    }
}

/// The distinct web pictures of a post, `image` first: the feed's images
/// (noise left out), then the body's, one per picture (sizes of one
/// picture count once).
fn gallery(post: &Post, content: &[Block], image: Option<&str>, base: Option<&Url>) -> Vec<String> {
    let feed = post
        .images
        .iter()
        .filter(|i| !images::is_noise(&i.to_ascii_lowercase(), None, None))
        .filter_map(|i| sanitize_url(i, base));
    let body = content.iter().filter_map(|b| match b {
        Block::Image { src, .. } => Some(src.clone()),
        _ => None,
    });
    let mut out: Vec<String> = Vec::new();
    for src in image
        .map(str::to_string)
        .into_iter()
        .chain(feed)
        .chain(body)
    {
        if out.len() == GALLERY_MAX {
            break;
        }
        if !out.iter().any(|o| images::same_picture(o, &src)) {
            out.push(src);
        }
    }
    out
}

impl Article {
    /// The gallery's web pictures (not Telegram file ids), at most `max`;
    /// empty when fewer than 2 are left (no gallery of one).
    pub(crate) fn web_gallery(&self, max: usize) -> Vec<String> {
        let pictures: Vec<String> = self
            .gallery
            .iter()
            .filter(|g| super::images::web_image(Some(g)).is_some())
            .take(max)
            .cloned()
            .collect();
        if pictures.len() < 2 {
            return Vec::new();
        }
        pictures
    }

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
    feed: FeedRenderOptions,
    summary_length: usize,
}

/// How many prepared articles are kept.
const PREP_CACHE: usize = 8;

/// [`prepare`], through a small cache: the engine renders each post once
/// per target, and every target needs the same sanitised article. Digest
/// items and dates are not used by `prepare` and are left out of the key.
pub(crate) fn prepared(
    post: &Post,
    feed: &FeedRenderOptions,
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
        feed: FeedRenderOptions {
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
        let feed = FeedRenderOptions::default();
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
        let strict = FeedRenderOptions {
            drop_patterns: vec!["alpha".into()],
            ..FeedRenderOptions::default()
        };
        assert!(prepared(&a, &strict, &fmt).content.is_empty());
    }
}
