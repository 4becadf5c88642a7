//! What the Telegram front-end sends: replies (split if long, buttons as
//! an inline keyboard), files, previews exactly as the channel will show
//! them, and alerts to the admins.

use std::future::IntoFuture;
use std::sync::Arc;

use crate::commands::{Notifier, Reply, ReplyFile};
use crate::format::telegram::{TelegramMessage, TelegramMethod, group_to_photo};
use teloxide::payloads::{
    SendAudioSetters, SendDocumentSetters, SendMessageSetters, SendPhotoSetters,
};
use teloxide::prelude::Requester;
use teloxide::types::{
    ChatId, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, LinkPreviewOptions, ParseMode,
    Recipient,
};

use super::TelegramFrontend;

/// Telegram's text limit, for replies.
const TEXT_LIMIT: usize = 4000;

fn recipient(chat: &str) -> Recipient {
    match chat.trim().parse::<i64>() {
        Ok(id) => Recipient::Id(ChatId(id)),
        Err(_) => Recipient::ChannelUsername(chat.trim().to_string()),
    }
}

fn no_preview() -> LinkPreviewOptions {
    LinkPreviewOptions {
        is_disabled: true,
        url: None,
        prefer_small_media: false,
        prefer_large_media: false,
        show_above_text: false,
    }
}

/// Split a long reply at line boundaries.
fn chunks(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in text.lines() {
        if cur.encode_utf16().count() + line.encode_utf16().count() + 1 > TEXT_LIMIT
            && !cur.is_empty()
        {
            out.push(std::mem::take(&mut cur));
        }
        let mut line = line.to_string();
        while line.encode_utf16().count() > TEXT_LIMIT {
            let cut: String = line.chars().take(TEXT_LIMIT / 2).collect();
            line = line[cut.len()..].to_string();
            out.push(cut);
        }
        if !cur.is_empty() {
            cur.push('\n');
        }
        cur.push_str(&line);
    }
    if !cur.trim().is_empty() {
        out.push(cur);
    }
    out
}

impl TelegramFrontend {
    /// Send a reply: previews first, then the text with its buttons; a
    /// follow-up report later.
    pub(super) async fn reply(self: &Arc<Self>, chat: i64, r: Reply) {
        let bot = self.bot();
        for p in &r.previews {
            if p.platform == "telegram" && !p.parts.is_empty() {
                let label = format!("Preview — {} (Telegram):", p.target);
                let _ = self
                    .paced(&chat.to_string(), || {
                        bot.send_message(ChatId(chat), label.clone()).into_future()
                    })
                    .await;
                for part in &p.parts {
                    let Some(m) = TelegramMessage::from_payload(&part.payload) else {
                        continue;
                    };
                    if m.method == TelegramMethod::SendMediaGroup {
                        // An album is previewed as its first photo (one
                        // message), after a line saying so.
                        let note = format!(
                            "(an album of {} photos; the first one with its caption:)",
                            m.message_count()
                        );
                        let _ = self
                            .paced(&chat.to_string(), || {
                                bot.send_message(ChatId(chat), note.clone()).into_future()
                            })
                            .await;
                        self.send_native(chat, &group_to_photo(&m)).await;
                    } else {
                        self.send_native(chat, &m).await;
                    }
                }
            } else {
                let text = format!("Preview — {} ({}):\n{}", p.target, p.platform, p.text);
                for c in chunks(&text) {
                    let _ = self
                        .paced(&chat.to_string(), || {
                            bot.send_message(ChatId(chat), c.clone())
                                .link_preview_options(no_preview())
                                .into_future()
                        })
                        .await;
                }
            }
        }
        self.send_text(chat, &r.text, &r.buttons).await;
        if let Some(f) = &r.file {
            self.send_file(chat, f).await;
        }
        if let Some(f) = r.follow_up {
            let me = self.clone();
            crate::panics::spawn_contained("telegram follow-up", async move {
                let report = me.handler.follow_up(f).await;
                me.send_text(chat, &report.text, &[]).await;
            });
        }
    }

    /// Plain text (split if long), the buttons on the last message.
    pub(super) async fn send_text(
        &self,
        chat: i64,
        text: &str,
        buttons: &[crate::commands::Button],
    ) {
        let bot = self.bot();
        let parts = chunks(text);
        let n = parts.len();
        for (i, c) in parts.into_iter().enumerate() {
            let keyboard = (i + 1 == n && !buttons.is_empty()).then(|| {
                let row: Vec<InlineKeyboardButton> = buttons
                    .iter()
                    .map(|b| InlineKeyboardButton::callback(b.label.clone(), b.data.clone()))
                    .collect();
                InlineKeyboardMarkup::new(vec![row])
            });
            let res = self
                .paced(&chat.to_string(), || {
                    let mut req = bot
                        .send_message(ChatId(chat), c.clone())
                        .link_preview_options(no_preview());
                    if let Some(k) = &keyboard {
                        req = req.reply_markup(k.clone());
                    }
                    req.into_future()
                })
                .await;
            if let Err(e) = res {
                tracing::warn!(chat, error = %crate::scrub::scrub(&e.to_string()), "cannot send a command reply");
            }
        }
    }

    /// A file (`/export`) as a document.
    async fn send_file(&self, chat: i64, f: &ReplyFile) {
        let bot = self.bot();
        let res = self
            .paced(&chat.to_string(), || {
                let doc = InputFile::memory(f.bytes.clone()).file_name(f.name.clone());
                bot.send_document(ChatId(chat), doc)
                    .disable_content_type_detection(true)
                    .into_future()
            })
            .await;
        if let Err(e) = res {
            tracing::warn!(chat, error = %crate::scrub::scrub(&e.to_string()), "cannot send a file");
        }
    }

    /// A preview exactly as the channel will show it.
    async fn send_native(&self, chat: i64, m: &TelegramMessage) {
        let bot = self.bot();
        let html = m
            .parse_mode
            .as_deref()
            .is_some_and(|p| p.eq_ignore_ascii_case("html"));
        let res = self
            .paced(&chat.to_string(), || async {
                match (&m.photo, &m.caption, &m.text) {
                    (Some(photo), caption, _) => match url::Url::parse(photo) {
                        Ok(u) => {
                            let mut req = bot.send_photo(ChatId(chat), InputFile::url(u));
                            if let Some(c) = caption {
                                req = req.caption(c.clone());
                            }
                            if html {
                                req = req.parse_mode(ParseMode::Html);
                            }
                            req.await.map(|_| ())
                        }
                        Err(_) => Ok(()),
                    },
                    (None, caption, None) if m.audio.is_some() => {
                        match url::Url::parse(m.audio.as_deref().unwrap_or("")) {
                            Ok(u) => {
                                let mut req = bot.send_audio(ChatId(chat), InputFile::url(u));
                                if let Some(c) = caption {
                                    req = req.caption(c.clone());
                                }
                                if html {
                                    req = req.parse_mode(ParseMode::Html);
                                }
                                req.await.map(|_| ())
                            }
                            Err(_) => Ok(()),
                        }
                    }
                    (None, _, Some(text)) => {
                        let mut req = bot.send_message(ChatId(chat), text.clone());
                        if html {
                            req = req.parse_mode(ParseMode::Html);
                        }
                        if let Some(p) = &m.link_preview_options {
                            req = req.link_preview_options(LinkPreviewOptions {
                                is_disabled: p.is_disabled.unwrap_or(false),
                                url: p.url.clone(),
                                prefer_small_media: p.prefer_small_media.unwrap_or(false),
                                prefer_large_media: p.prefer_large_media.unwrap_or(false),
                                show_above_text: p.show_above_text.unwrap_or(false),
                            });
                        }
                        req.await.map(|_| ())
                    }
                    _ => Ok(()),
                }
            })
            .await;
        if let Err(e) = res {
            tracing::warn!(chat, error = %crate::scrub::scrub(&e.to_string()), "cannot send a preview");
        }
    }
}

#[async_trait::async_trait]
impl Notifier for TelegramFrontend {
    async fn notify_admins(&self, text: &str) {
        let bot = self.bot();
        let chats: Vec<Recipient> = match &self.alerts_chat {
            Some(c) => vec![recipient(c)],
            None => self
                .admins
                .iter()
                .map(|a| Recipient::Id(ChatId(*a)))
                .collect(),
        };
        for chat in chats {
            let key = chat.to_string();
            for c in chunks(text) {
                let res = self
                    .paced(&key, || {
                        bot.send_message(chat.clone(), c.clone())
                            .link_preview_options(no_preview())
                            .into_future()
                    })
                    .await;
                if let Err(e) = res {
                    tracing::warn!(error = %crate::scrub::scrub(&e.to_string()), "cannot send an alert on Telegram");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_replies_split_between_characters() {
        for ch in ["é", "’", "😀"] {
            let line = ch.repeat(TEXT_LIMIT * 2 + 3);
            let parts = chunks(&format!("first\n{line}"));
            assert!(parts.len() >= 2, "{ch}");
            assert!(parts.iter().all(|p| p.encode_utf16().count() <= TEXT_LIMIT));
            assert!(parts.concat().contains(&line), "{ch}");
        }
    }
}
