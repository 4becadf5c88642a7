//! Media groups (albums): sent with `sendMediaGroup`, paced as one message
//! per picture, recorded as one reference holding every message id
//! (`chat:42+43+44`); a refused album is sent as its first photo, else as
//! text; deleted with `deleteMessages`.
//!
//! An edit changes the caption of the album's first message only (see
//! `edit_once`): the pictures themselves are not replaced
//! (`editMessageMedia`) and an album never gains or loses pictures.

use teloxide::payloads::SendMediaGroupSetters;
use teloxide::prelude::Requester;
use teloxide::types::{InputFile, InputMedia, InputMediaPhoto, MessageId, ParseMode, ThreadId};
use url::Url;

use super::TelegramTarget;
use crate::format::telegram::{self as tgfmt, TelegramMessage};
use crate::target::{DeliveryError, MessageRef, SendCtx, Sent};
use crate::telegram::classify::{Failure, classify, into_error};
use crate::telegram::wire::{chat_recipient, message_ref, message_url};

/// `deleteMessages` takes at most this many ids.
const DELETE_MAX: usize = 100;

/// The album's pictures as teloxide's `InputMedia`; a picture that is not
/// a URL refuses the whole album (as Telegram would).
fn input_media(m: &TelegramMessage) -> Result<Vec<InputMedia>, Failure> {
    let items = m.media.as_deref().unwrap_or_default();
    if items.len() < 2 {
        return Err(Failure::Media(
            "a media group needs 2 pictures or more".into(),
        ));
    }
    items
        .iter()
        .map(|item| {
            let url = Url::parse(&item.media)
                .map_err(|_| Failure::Media("a picture of the album is not a URL".into()))?;
            let mut photo = InputMediaPhoto::new(InputFile::url(url));
            if let Some(c) = item.caption.as_ref().filter(|c| !c.is_empty()) {
                photo = photo.caption(c.clone());
                if item
                    .parse_mode
                    .as_deref()
                    .is_some_and(|p| p.eq_ignore_ascii_case("html"))
                {
                    photo = photo.parse_mode(ParseMode::Html);
                }
            }
            Ok(InputMedia::Photo(photo))
        })
        .collect()
}

impl TelegramTarget {
    /// One `sendMediaGroup`, paced as one message per picture.
    pub(super) async fn send_group(&self, m: &TelegramMessage) -> Result<MessageRef, Failure> {
        let media = input_media(m)?;
        let chat = self.chat();
        let _slot = self.pace_n(&chat, media.len()).await;
        let mut req = self
            .client
            .bot
            .send_media_group(chat_recipient(&chat), media);
        if let Some(t) = self.opts.thread {
            req = req.message_thread_id(ThreadId(MessageId(t)));
        }
        if self.opts.silent {
            req = req.disable_notification(true);
        }
        if self.opts.protect_content {
            req = req.protect_content(true);
        }
        match req.await {
            Ok(sent) => {
                let Some(first) = sent.first() else {
                    return Err(Failure::Other(DeliveryError::Ambiguous(
                        "Telegram answered a media group with no message".into(),
                    )));
                };
                let ids: Vec<MessageId> = sent.iter().map(|s| s.id).collect();
                Ok(MessageRef {
                    id: message_ref(first.chat.id.0, &ids),
                    url: message_url(&first.chat, first.id),
                })
            }
            Err(e) => {
                let f = classify(e);
                self.penalize(&chat, &f);
                Err(f)
            }
        }
    }

    /// Telegram refused the album's pictures (a URL it cannot fetch, a
    /// chat that forbids photos): its first photo with the caption, else
    /// (that refused too, or photos are not allowed at all) the text with
    /// the first picture as a link preview.
    pub(super) async fn group_refused(
        &self,
        m: &TelegramMessage,
        why: &str,
        ctx: &SendCtx,
    ) -> Result<Sent, DeliveryError> {
        let no_photos = why.to_ascii_lowercase().contains("not enough rights");
        if !no_photos {
            tracing::warn!(target_name = %self.name, article = %ctx.article, reason = %why, "media group rejected; sending its first photo");
            match self.send_once(&tgfmt::group_to_photo(m)).await {
                Ok(r) => {
                    return Ok(Sent {
                        message: Some(r),
                        note: Some(format!(
                            "media group rejected ({why}); sent its first photo"
                        )),
                    });
                }
                Err(Failure::Media(_)) => {}
                Err(f) => return Err(into_error(f)),
            }
        }
        tracing::warn!(target_name = %self.name, article = %ctx.article, reason = %why, "media group rejected; sending as text with a link preview");
        let r = self
            .send_once(&tgfmt::media_to_text(m))
            .await
            .map_err(into_error)?;
        Ok(Sent {
            message: Some(r),
            note: Some(format!(
                "media group rejected ({why}); sent as text with a link preview"
            )),
        })
    }

    /// Delete every message of an album with `deleteMessages` (Telegram
    /// skips the ones it cannot find).
    pub(super) async fn delete_group(
        &self,
        chat: &str,
        ids: &[MessageId],
    ) -> Result<(), DeliveryError> {
        for chunk in ids.chunks(DELETE_MAX) {
            let _slot = self.pace(chat).await;
            if let Err(e) = self
                .client
                .bot
                .delete_messages(chat_recipient(chat), chunk.iter().copied())
                .await
            {
                let f = classify(e);
                self.penalize(chat, &f);
                return Err(into_error(f));
            }
        }
        Ok(())
    }
}
