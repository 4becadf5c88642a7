//! The Telegram renderer.
//!
//! Output is **Telegram HTML** (`parse_mode: "HTML"`), not text + entities:
//! it is readable in logs and in the delivery log, stores as one string, and
//! [`super::validate::telegram_text`] checks it exactly as Telegram parses
//! it. Only `b i u s tg-spoiler code pre a blockquote` are emitted, nested
//! in one fixed order, with `&lt; &gt; &amp; &quot;` escapes; lengths are
//! measured in UTF-16 units of the text after entity parsing.
//!
//! Image strategy: when the article has an image and the whole post fits a
//! caption (1024), it is sent as a **photo with caption**
//! (`sendPhoto`); otherwise as **text with a large link preview of the
//! image shown above the text** (`link_preview_options` with the image
//! URL, `prefer_large_media`, `show_above_text`), so the picture is seen and
//! the text is whole. Long full-text posts are split at block boundaries
//! into several `sendMessage`s (preview on the first only, the optional
//! "Read more" button on the last).
//!
//! Gallery strategy (`telegram_gallery`, off by default): an article with
//! 2–10 distinct web pictures is sent as a **media group** (`sendMediaGroup`,
//! an album), the caption on the first picture; text beyond the caption
//! follows as text messages (see `gallery.rs`). A media group takes no
//! inline keyboard: the "Read more" button goes on the last text message,
//! and a post that is only an album has none.
//!
//! Audio strategy: when the post's audio file (the one its link line
//! shows) is MP3 or M4A of a declared length within the Bot API's 20 MB
//! for files sent by URL, and the post fits a caption, it is sent as an
//! **audio message with caption** (`sendAudio`) instead of a photo or text:
//! the caption leaves out the link line (the player is the audio) and the
//! article image (a thumbnail is only taken with an upload; Telegram shows
//! the file's own cover art). The message carries, outside its Bot API
//! parameters, the text message to send instead if Telegram refuses the
//! file ([`TelegramMessage::fallback`], [`media_to_text`]): the post as it
//! would be without the audio, as text with the link line.

use super::article::{Article, empty_post, prepared};
use super::images::web_image;
use super::layout::{self, doc_len};
use super::media::telegram_audio;
use super::options::{FeedRenderOptions, LinkPreview, Look, Mode, TargetFormat};
use super::rich::Block;
use super::template;
use crate::model::Post;
use crate::target::RenderError;

mod entities;
mod fallback;
mod gallery;
mod html;
mod message;
mod telegraph;

use super::fit::fit_summary;
pub use entities::{ENTITY_BYTES, MAX_ENTITIES};
use entities::{split_within_entity_budget, thin_entities};
use fallback::checked;
pub use fallback::{media_to_text, photo_to_text, plain_fallback};
pub use gallery::group_to_photo;
use html::{Tag, TgDialect, to_html, wanted};
pub use message::{
    CAPTION_LIMIT, InlineKeyboardButton, InlineKeyboardMarkup, InputMediaPhoto, LinkPreviewOptions,
    TEXT_LIMIT, TelegramMessage, TelegramMethod,
};
pub use telegraph::{TELEGRAPH_LINK_LABEL, TelegraphPage, with_link};

fn read_more(fmt: &TargetFormat, art: &Article) -> Option<InlineKeyboardMarkup> {
    if !fmt.read_more {
        return None;
    }
    let url = art.link.clone()?;
    let label = super::text::one_line(&fmt.read_more_label);
    let label = if label.is_empty() {
        "Read more".to_string()
    } else {
        super::text::truncate_words(&label, 64)
    };
    Some(InlineKeyboardMarkup {
        inline_keyboard: vec![vec![InlineKeyboardButton { text: label, url }]],
    })
}

fn preview_for(fmt: &TargetFormat, art: &Article) -> LinkPreviewOptions {
    match fmt.link_preview {
        LinkPreview::Image => match (web_image(art.image.as_ref()), &art.link) {
            (Some(img), _) => LinkPreviewOptions::large(img, true),
            (None, Some(link)) => LinkPreviewOptions::large(link, false),
            (None, None) => LinkPreviewOptions::disabled(),
        },
        LinkPreview::Article => match &art.link {
            Some(link) => LinkPreviewOptions::large(link, false),
            None => LinkPreviewOptions::disabled(),
        },
        LinkPreview::None => LinkPreviewOptions::disabled(),
    }
}

fn text_message(html: String, preview: LinkPreviewOptions) -> TelegramMessage {
    TelegramMessage {
        method: TelegramMethod::SendMessage,
        text: Some(html),
        photo: None,
        audio: None,
        caption: None,
        media: None,
        parse_mode: Some("HTML".into()),
        link_preview_options: Some(preview),
        reply_markup: None,
        fallback: None,
        telegraph: None,
    }
}

/// Render a post into the Telegram messages to send, in order.
///
/// * Summary mode: one message; the summary shrinks (then the whole post is
///   truncated on a sentence or word boundary, keeping a trailing link
///   line) until it fits.
/// * Full mode: one message when it fits, else several, split at block
///   boundaries, at most `max_parts` (the last one truncated if needed).
/// * Digest posts (non-empty `post.digest`): the digest template, split
///   like full mode.
/// * A post with a playable audio file that fits a caption: one audio
///   message (see [`audio_message`]).
/// * With `telegram_gallery`, a post with 2–10 pictures: a media group,
///   then the text beyond its caption (see `gallery.rs`).
/// * With `telegraph`, a full-mode post needing more than one message:
///   one summary message carrying the Telegraph page and the split
///   messages as its fallback (see `telegraph.rs`).
///
/// Every message passes [`super::validate::telegram_message`]; should one
/// not (a bug), its plain-text fallback is sent instead.
pub fn render(
    post: &Post,
    feed: &FeedRenderOptions,
    fmt: &TargetFormat,
) -> Result<Vec<TelegramMessage>, RenderError> {
    let art = prepared(post, feed, fmt);
    if art.is_empty(post) {
        return Err(empty_post(post));
    }
    let out: Vec<TelegramMessage> = render_article(post, &art, fmt)?
        .into_iter()
        .map(checked)
        .collect();
    if let Some(audio) = audio_message(post, &art, fmt, &out)? {
        return Ok(vec![checked(audio)]);
    }
    Ok(match telegraph::telegraph_post(post, &art, fmt, &out)? {
        Some(page) => vec![page],
        None => out,
    })
}

/// The post as an audio message, when its audio file is one `sendAudio`
/// takes by URL ([`telegram_audio`]) and the post, without its link line,
/// fits a caption; `text` is the post rendered without audio (one message,
/// else no audio message), kept as the fallback in text form. Digests
/// never are audio.
fn audio_message(
    post: &Post,
    art: &Article,
    fmt: &TargetFormat,
    text: &[TelegramMessage],
) -> Result<Option<TelegramMessage>, RenderError> {
    let ([fallback], true) = (text, post.digest.is_empty()) else {
        return Ok(None);
    };
    let Some(audio) = telegram_audio(post) else {
        return Ok(None);
    };
    // The same template without the link line (nor any other file's).
    let bare = Post {
        enclosures: Vec::new(),
        ..post.clone()
    };
    let pieces = template::pieces(Look::Telegram, fmt, &bare, art)?;
    let d = TgDialect;
    let mut blocks = if matches!(fmt.mode, Mode::Full) {
        super::markup::resolve(&pieces, &art.summary, &art.content)
    } else {
        fit_summary(&d, &pieces, art, TEXT_LIMIT).0
    };
    if doc_len(&d, &blocks) > CAPTION_LIMIT {
        return Ok(None);
    }
    thin_entities(&mut blocks);
    let (html, _) = to_html(&blocks);
    Ok(Some(TelegramMessage {
        method: TelegramMethod::SendAudio,
        text: None,
        photo: None,
        audio: Some(audio),
        caption: (!html.is_empty()).then_some(html),
        media: None,
        parse_mode: Some("HTML".into()),
        link_preview_options: None,
        reply_markup: read_more(fmt, art),
        fallback: Some(Box::new(photo_to_text(fallback))),
        telegraph: None,
    }))
}

/// The post as photo or text messages (no audio).
fn render_article(
    post: &Post,
    art: &Article,
    fmt: &TargetFormat,
) -> Result<Vec<TelegramMessage>, RenderError> {
    let pictures = gallery::pictures(fmt, post, art, telegram_audio(post).is_some());
    let grouped;
    let art = if pictures.is_empty() {
        art
    } else {
        grouped = gallery::without_pictures(art, &pictures);
        &grouped
    };
    let pieces = template::pieces(Look::Telegram, fmt, post, art)?;
    let d = TgDialect;
    let full = matches!(fmt.mode, Mode::Full) || !post.digest.is_empty();
    let photo_ok = fmt.photo && art.image.is_some() && post.digest.is_empty();

    let blocks = if full {
        super::markup::resolve(&pieces, &art.summary, &art.content)
    } else {
        fit_summary(&d, &pieces, art, TEXT_LIMIT).0
    };
    if !pictures.is_empty() {
        let mut out = gallery::group_post(&d, blocks, &pictures, fmt.max_parts);
        if let Some(last) = out.last_mut()
            && last.method == TelegramMethod::SendMessage
        {
            last.reply_markup = read_more(fmt, art);
        }
        return Ok(out);
    }
    if blocks.is_empty() && !photo_ok {
        return Err(RenderError(format!(
            "nothing to publish for {:?}: no title, text or link",
            post.label()
        )));
    }
    let total = doc_len(&d, &blocks);
    let button = read_more(fmt, art);

    let mut out = Vec::new();
    if photo_ok && total <= CAPTION_LIMIT {
        let mut blocks = blocks;
        thin_entities(&mut blocks);
        let (html, _) = to_html(&blocks);
        out.push(TelegramMessage {
            method: TelegramMethod::SendPhoto,
            text: None,
            photo: art.image.clone(),
            audio: None,
            caption: (!html.is_empty()).then_some(html),
            media: None,
            parse_mode: Some("HTML".into()),
            link_preview_options: None,
            reply_markup: None,
            fallback: None,
            telegraph: None,
        });
    } else {
        let mut parts = if full {
            split_within_entity_budget(&d, blocks, TEXT_LIMIT)
        } else {
            // Summary mode is one message (fit_summary made it fit).
            let mut blocks = blocks;
            thin_entities(&mut blocks);
            vec![blocks]
        };
        let max = fmt.max_parts.max(1);
        if parts.len() > max {
            let rest: Vec<Block> = parts.drain(max - 1..).flatten().collect();
            let mut last = layout::truncate(&d, rest, TEXT_LIMIT);
            thin_entities(&mut last);
            parts.push(last);
        }
        for (i, part) in parts.into_iter().enumerate() {
            let (html, _) = to_html(&part);
            let preview = if i == 0 {
                preview_for(fmt, art)
            } else {
                LinkPreviewOptions::disabled()
            };
            out.push(text_message(html, preview));
        }
    }
    if let Some(last) = out.last_mut() {
        last.reply_markup = button;
    }
    Ok(out)
}

#[cfg(test)]
mod gallery_tests;
#[cfg(test)]
mod telegraph_tests;
#[cfg(test)]
mod tests;
