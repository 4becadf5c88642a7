//! The Telegram target: sends, edits and deletes one post's messages in
//! one chat, paced by the bot's flood limiter, falling back to plain text
//! or to text when Telegram rejects the markup or the media. Media groups
//! (albums) are in `delivery/group.rs`.

mod group;
mod telegraph;

use std::sync::{Arc, RwLock};

use teloxide::payloads::{
    EditMessageCaptionSetters, EditMessageTextSetters, SendAudioSetters, SendMessageSetters,
    SendPhotoSetters,
};
use teloxide::prelude::Requester;
use teloxide::types::{InputFile, MessageId, ThreadId};
use url::Url;

use super::classify::{Failure, classify, into_error};
use super::ratelimit::Slot;
use super::telegraph::{PageRef, TelegraphClient};
use super::wire::{
    chat_recipient, group_or_channel, html, keyboard, message_ref, message_url, other_kind,
    parse_ref, preview_options, split_page,
};
use super::{TelegramClient, TelegramOptions, check};
use crate::format::telegram::{self as tgfmt, TelegramMessage, TelegramMethod};
use crate::format::{FeedRenderOptions, TargetFormat};
use crate::model::Post;
use crate::target::{DeliveryError, MessageRef, Part, RenderError, SendCtx, Sent, Target};

pub struct TelegramTarget {
    name: String,
    client: Arc<TelegramClient>,
    /// The chat; replaced when a group migrates to a supergroup.
    chat: RwLock<String>,
    opts: TelegramOptions,
    format: TargetFormat,
    /// Long articles as Telegraph pages (`telegraph = true` under `crier
    /// run`); `None`: their split messages are sent.
    telegraph: Option<Arc<TelegraphClient>>,
    /// Pages made for a delivery whose Telegram message is not sent yet
    /// (a retry reuses the page instead of making another).
    pages: std::sync::Mutex<std::collections::HashMap<i64, PageRef>>,
    /// Split messages already sent for a delivery whose others are not (a
    /// retry sends the rest only).
    split_sent: std::sync::Mutex<std::collections::HashMap<i64, Vec<MessageRef>>>,
}

impl TelegramTarget {
    pub fn new(
        name: impl Into<String>,
        client: Arc<TelegramClient>,
        opts: TelegramOptions,
        format: TargetFormat,
    ) -> TelegramTarget {
        TelegramTarget {
            name: name.into(),
            client,
            chat: RwLock::new(opts.chat.clone()),
            opts,
            format,
            telegraph: None,
            pages: Default::default(),
            split_sent: Default::default(),
        }
    }

    /// Publish long articles through this Telegraph account (targets with
    /// `telegraph = true`).
    pub fn with_telegraph(mut self, telegraph: Option<Arc<TelegraphClient>>) -> TelegramTarget {
        self.telegraph = telegraph;
        self
    }

    fn chat(&self) -> String {
        self.chat
            .read()
            .map(|c| c.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// Wait for one message to `chat`; hold the slot until it is answered.
    async fn pace(&self, chat: &str) -> Slot<'_> {
        self.pace_n(chat, 1).await
    }

    /// Wait for `n` messages sent at once (a media group's pictures).
    async fn pace_n(&self, chat: &str, n: usize) -> Slot<'_> {
        self.client
            .limiter
            .acquire_n(chat, group_or_channel(chat), n)
            .await
    }

    fn penalize(&self, chat: &str, f: &Failure) {
        if let Failure::Other(DeliveryError::RateLimited { retry_after }) = f {
            self.client.limiter.penalize(chat, *retry_after);
        }
    }

    /// One send request (no fallbacks).
    async fn send_once(&self, m: &TelegramMessage) -> Result<MessageRef, Failure> {
        if m.method == TelegramMethod::SendMediaGroup {
            return self.send_group(m).await;
        }
        let chat = self.chat();
        let _slot = self.pace(&chat).await;
        let bot = &self.client.bot;
        let to = chat_recipient(&chat);
        let thread = self.opts.thread.map(|t| ThreadId(MessageId(t)));
        // What every send shares: markup, keyboard, topic, silence,
        // protection (each payload has its own setters trait).
        macro_rules! common {
            ($req:ident) => {{
                if let Some(p) = html(m) {
                    $req = $req.parse_mode(p);
                }
                if let Some(k) = keyboard(m) {
                    $req = $req.reply_markup(k);
                }
                if let Some(t) = thread {
                    $req = $req.message_thread_id(t);
                }
                if self.opts.silent {
                    $req = $req.disable_notification(true);
                }
                if self.opts.protect_content {
                    $req = $req.protect_content(true);
                }
                $req.await
            }};
        }
        let res = match m.method {
            TelegramMethod::SendMessage => {
                let mut req = bot.send_message(to, m.text.clone().unwrap_or_default());
                if let Some(o) = preview_options(m) {
                    req = req.link_preview_options(o);
                }
                common!(req)
            }
            TelegramMethod::SendPhoto => {
                let photo = m.photo.as_deref().unwrap_or("");
                let file = match crate::format::telegram_file(photo) {
                    Some(id) => InputFile::file_id(teloxide::types::FileId(id.to_string())),
                    None => InputFile::url(
                        Url::parse(photo)
                            .map_err(|_| Failure::Media("the photo is not a URL".into()))?,
                    ),
                };
                let mut req = bot.send_photo(to, file);
                if let Some(c) = &m.caption {
                    req = req.caption(c.clone());
                }
                common!(req)
            }
            TelegramMethod::SendAudio => {
                let url = Url::parse(m.audio.as_deref().unwrap_or(""))
                    .map_err(|_| Failure::Media("the audio is not a URL".into()))?;
                let mut req = bot.send_audio(to, InputFile::url(url));
                if let Some(c) = &m.caption {
                    req = req.caption(c.clone());
                }
                common!(req)
            }
            TelegramMethod::SendMediaGroup => {
                return Err(Failure::Other(DeliveryError::Rejected(
                    "a media group is sent by send_group".into(),
                )));
            }
        };
        match res {
            Ok(msg) => Ok(MessageRef {
                id: message_ref(msg.chat.id.0, &[msg.id]),
                url: message_url(&msg.chat, msg.id),
            }),
            Err(e) => {
                let f = classify(e);
                self.penalize(&chat, &f);
                Err(f)
            }
        }
    }

    /// One edit request: text or caption (and keyboard) of `id`. A media
    /// group's edit is its first picture's caption (the pictures stay).
    async fn edit_once(
        &self,
        chat: &str,
        id: MessageId,
        m: &TelegramMessage,
    ) -> Result<(), Failure> {
        let photo;
        let m = if m.method == TelegramMethod::SendMediaGroup {
            photo = tgfmt::group_to_photo(m);
            &photo
        } else {
            m
        };
        let _slot = self.pace(chat).await;
        let bot = &self.client.bot;
        let to = chat_recipient(chat);
        let res = match m.method {
            TelegramMethod::SendMessage => {
                let mut req = bot.edit_message_text(to, id, m.text.clone().unwrap_or_default());
                if let Some(p) = html(m) {
                    req = req.parse_mode(p);
                }
                if let Some(o) = preview_options(m) {
                    req = req.link_preview_options(o);
                }
                if let Some(k) = keyboard(m) {
                    req = req.reply_markup(k);
                }
                req.await.map(|_| ())
            }
            TelegramMethod::SendPhoto
            | TelegramMethod::SendAudio
            | TelegramMethod::SendMediaGroup => {
                let mut req = bot.edit_message_caption(to, id);
                if let Some(c) = &m.caption {
                    req = req.caption(c.clone());
                }
                if let Some(p) = html(m) {
                    req = req.parse_mode(p);
                }
                if let Some(k) = keyboard(m) {
                    req = req.reply_markup(k);
                }
                req.await.map(|_| ())
            }
        };
        res.map_err(|e| {
            let f = classify(e);
            self.penalize(chat, &f);
            f
        })
    }

    fn payload(part: &Part) -> Result<TelegramMessage, DeliveryError> {
        TelegramMessage::from_payload(&part.payload)
            .ok_or_else(|| DeliveryError::Rejected("not a Telegram payload".into()))
    }
}

#[async_trait::async_trait]
impl Target for TelegramTarget {
    fn name(&self) -> &str {
        &self.name
    }

    async fn check(&self) -> Vec<crate::check::Problem> {
        let chat = self.chat.read().map(|c| c.clone()).unwrap_or_default();
        check::check(&self.client.bot, &chat).await
    }

    fn platform(&self) -> &'static str {
        "telegram"
    }

    fn sent_elsewhere(&self, ago: &[std::time::Duration]) {
        let chat = self.chat();
        self.client
            .limiter
            .seed(&chat, group_or_channel(&chat), ago);
    }

    fn render(&self, post: &Post, feed: &FeedRenderOptions) -> Result<Vec<Part>, RenderError> {
        let mut parts = Vec::new();
        for m in tgfmt::render(post, feed, &self.format)? {
            match &m.telegraph {
                // No Telegraph here (`crier preview`, `check`): the split.
                Some(page) if self.telegraph.is_none() => {
                    parts.extend(page.fallback.iter().map(TelegramMessage::to_part));
                }
                _ => parts.push(m.to_part()),
            }
        }
        Ok(parts)
    }

    async fn send(&self, part: &Part, ctx: &SendCtx) -> Result<Sent, DeliveryError> {
        let m = Self::payload(part)?;
        if let Some(page) = &m.telegraph {
            return self.send_telegraph(&m, page, ctx).await;
        }
        match self.send_once(&m).await {
            Ok(r) => Ok(Sent {
                message: Some(r),
                note: None,
            }),
            Err(Failure::Media(why)) if m.method == TelegramMethod::SendMediaGroup => {
                self.group_refused(&m, &why, ctx).await
            }
            Err(Failure::Media(why)) => {
                let text = tgfmt::media_to_text(&m);
                let (what, how) = if m.method == TelegramMethod::SendAudio {
                    ("audio", "as text with the link line")
                } else {
                    ("photo", "as text with a link preview")
                };
                tracing::warn!(target_name = %self.name, article = %ctx.article, reason = %why, "{what} rejected; sending {how}");
                let r = self.send_once(&text).await.map_err(into_error)?;
                Ok(Sent {
                    message: Some(r),
                    note: Some(format!("{what} rejected ({why}); sent {how}")),
                })
            }
            Err(Failure::Entities(why)) => {
                // The formatter guarantees this cannot happen; if it does,
                // nothing is lost: plain text within limits.
                tracing::error!(target_name = %self.name, article = %ctx.article, delivery = ctx.delivery_id, reason = %why, "Telegram rejected the formatted text; resending as plain text");
                let plain = tgfmt::plain_fallback(&m);
                let r = match self.send_once(&plain).await {
                    Err(Failure::Media(_)) => self
                        .send_once(&tgfmt::plain_fallback(&tgfmt::media_to_text(&m)))
                        .await
                        .map_err(into_error)?,
                    other => other.map_err(into_error)?,
                };
                Ok(Sent {
                    message: Some(r),
                    note: Some(format!("formatting rejected ({why}); sent as plain text")),
                })
            }
            Err(f) => Err(into_error(f)),
        }
    }

    async fn edit(
        &self,
        message: &MessageRef,
        part: &Part,
        ctx: &SendCtx,
    ) -> Result<Sent, DeliveryError> {
        let m = Self::payload(part)?;
        let (base, page) = split_page(message);
        if m.telegraph.is_some() || page.is_some() {
            return self.edit_telegraph(message, &base, page, &m, ctx).await;
        }
        let (chat, ids) = parse_ref(message)?;
        // An album's text is its first message's caption.
        let id = *ids
            .first()
            .ok_or_else(|| DeliveryError::Rejected(format!("no message in {:?}", message.id)))?;
        let ok = || Sent {
            message: Some(message.clone()),
            note: None,
        };
        match self.edit_once(&chat, id, &m).await {
            Ok(()) | Err(Failure::NotModified) => Ok(ok()),
            Err(Failure::WrongKind(why)) => {
                let other = other_kind(&m);
                match self.edit_once(&chat, id, &other).await {
                    Ok(()) | Err(Failure::NotModified) => Ok(Sent {
                        message: Some(message.clone()),
                        note: Some(format!("{why}; edited as the message's own kind")),
                    }),
                    Err(f) => Err(into_error(f)),
                }
            }
            Err(Failure::Entities(why)) => {
                tracing::error!(target_name = %self.name, article = %ctx.article, delivery = ctx.delivery_id, reason = %why, "Telegram rejected the formatted edit; editing as plain text");
                match self.edit_once(&chat, id, &tgfmt::plain_fallback(&m)).await {
                    Ok(()) | Err(Failure::NotModified) => Ok(Sent {
                        message: Some(message.clone()),
                        note: Some(format!("formatting rejected ({why}); edited as plain text")),
                    }),
                    Err(f) => Err(into_error(f)),
                }
            }
            Err(f) => Err(into_error(f)),
        }
    }

    async fn delete(&self, message: &MessageRef, ctx: &SendCtx) -> Result<(), DeliveryError> {
        if let (base, Some(url)) = split_page(message) {
            self.withdraw_page(&url, ctx).await?;
            return self.delete(&base, ctx).await;
        }
        let (chat, ids) = parse_ref(message)?;
        let id = match ids.as_slice() {
            [one] => *one,
            _ => return self.delete_group(&chat, &ids).await,
        };
        let _slot = self.pace(&chat).await;
        match self
            .client
            .bot
            .delete_message(chat_recipient(&chat), id)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => {
                let f = classify(e);
                self.penalize(&chat, &f);
                Err(into_error(f))
            }
        }
    }

    fn preview_request(&self, part: &Part) -> serde_json::Value {
        let Some(m) = TelegramMessage::from_payload(&part.payload) else {
            return serde_json::json!({ "body": part.payload });
        };
        let mut params = m.params();
        if let Some(o) = params.as_object_mut() {
            let chat = self.chat();
            let chat_id = match chat.parse::<i64>() {
                Ok(id) => serde_json::json!(id),
                Err(_) => serde_json::json!(chat),
            };
            o.insert("chat_id".into(), chat_id);
            if let Some(t) = self.opts.thread {
                o.insert("message_thread_id".into(), serde_json::json!(t));
            }
            if self.opts.silent {
                o.insert("disable_notification".into(), serde_json::json!(true));
            }
            if self.opts.protect_content {
                o.insert("protect_content".into(), serde_json::json!(true));
            }
        }
        serde_json::json!({ "method": m.method.as_str(), "params": params })
    }

    fn set_address(&self, address: &str) {
        match self.chat.write() {
            Ok(mut c) => *c = address.to_string(),
            Err(p) => *p.into_inner() = address.to_string(),
        }
    }
}
