//! Media groups (`gallery = true`): an article with 2–10 pictures as one
//! `sendMediaGroup` (an album), the caption on the first picture; the text
//! beyond a caption follows as text messages without a preview (the
//! pictures are already shown).

use super::entities::{split_within_entity_budget, thin_entities};
use super::message::{InputMediaPhoto, LinkPreviewOptions, TelegramMessage, TelegramMethod};
use super::{CAPTION_LIMIT, TEXT_LIMIT, text_message, to_html};
use crate::format::article::{Article, GALLERY_MAX};
use crate::format::images::web_image;
use crate::format::layout::{self, Dialect, doc_len};
use crate::format::options::TargetFormat;
use crate::format::rich::Block;
use crate::model::Post;

// A media group holds 2 to 10 pictures (`Article::web_gallery`,
// `GALLERY_MAX`).

/// The pictures of the post's media group, when the target asks for one
/// and the post has 2 or more web pictures: not a digest, not a post sent
/// as an audio message (`audio`), its main image a web picture (a Telegram
/// file id has no URL to group). At most [`GALLERY_MAX`]; else empty.
pub(super) fn pictures(fmt: &TargetFormat, post: &Post, art: &Article, audio: bool) -> Vec<String> {
    let wanted = fmt.telegram_gallery
        && !audio
        && post.digest.is_empty()
        && web_image(art.image.as_ref()).is_some();
    if !wanted {
        return Vec::new();
    }
    art.web_gallery(GALLERY_MAX)
}

/// The article without the group's pictures as image lines (they are in
/// the album).
pub(super) fn without_pictures(art: &Article, pictures: &[String]) -> Article {
    let mut a = art.clone();
    a.content.retain(|b| {
        !matches!(b, Block::Image { src, .. }
            if pictures.iter().any(|g| crate::format::images::same_picture(src, g)))
    });
    a
}

/// The post as a media group followed by the text that does not fit its
/// caption: the caption is the document's beginning, split at a block
/// boundary within [`CAPTION_LIMIT`]; the rest is split into text messages
/// (at most `max_parts` messages in all, the last one truncated).
pub(super) fn group_post(
    d: &dyn Dialect,
    blocks: Vec<Block>,
    pictures: &[String],
    max_parts: usize,
) -> Vec<TelegramMessage> {
    let max = max_parts.max(1);
    let (mut caption, rest) = if doc_len(d, &blocks) <= CAPTION_LIMIT {
        (blocks, Vec::new())
    } else if max == 1 {
        (layout::truncate(d, blocks, CAPTION_LIMIT), Vec::new())
    } else {
        let mut parts = split_within_entity_budget(d, blocks, CAPTION_LIMIT).into_iter();
        let first = parts.next().unwrap_or_default();
        let rest: Vec<Block> = parts.flatten().collect();
        let mut more = split_within_entity_budget(d, rest, TEXT_LIMIT);
        if 1 + more.len() > max {
            let tail: Vec<Block> = more.drain(max - 2..).flatten().collect();
            let mut last = layout::truncate(d, tail, TEXT_LIMIT);
            thin_entities(&mut last);
            more.push(last);
        }
        (first, more)
    };
    thin_entities(&mut caption);
    let (html, _) = to_html(&caption);
    let mut out = vec![media_group(pictures, html)];
    for part in rest {
        let (html, _) = to_html(&part);
        out.push(text_message(html, LinkPreviewOptions::disabled()));
    }
    out
}

/// A `sendMediaGroup` of `pictures`, `caption` (HTML) on the first.
pub(super) fn media_group(pictures: &[String], caption: String) -> TelegramMessage {
    let mut media: Vec<InputMediaPhoto> =
        pictures.iter().map(|p| InputMediaPhoto::photo(p)).collect();
    if let Some(first) = media.first_mut()
        && !caption.is_empty()
    {
        first.caption = Some(caption);
        first.parse_mode = Some("HTML".into());
    }
    TelegramMessage {
        method: TelegramMethod::SendMediaGroup,
        text: None,
        photo: None,
        audio: None,
        caption: None,
        media: Some(media),
        parse_mode: None,
        link_preview_options: None,
        reply_markup: None,
        fallback: None,
        telegraph: None,
    }
}

/// A media group as the photo message of its first picture, with its
/// caption: what is sent when Telegram refuses the group, and what an edit
/// changes (the caption of the group's first message).
pub fn group_to_photo(m: &TelegramMessage) -> TelegramMessage {
    if m.method != TelegramMethod::SendMediaGroup {
        return m.clone();
    }
    let first = m.first_media();
    TelegramMessage {
        method: TelegramMethod::SendPhoto,
        text: None,
        photo: first.map(|f| f.media.clone()),
        audio: None,
        caption: first.and_then(|f| f.caption.clone()),
        media: None,
        parse_mode: first.and_then(|f| f.parse_mode.clone()),
        link_preview_options: None,
        reply_markup: m.reply_markup.clone(),
        fallback: None,
        telegraph: None,
    }
}
