//! What the Telegram front-end receives: callback queries (Confirm /
//! Cancel), commands in private chats and as `/cmd@bot` in groups, the
//! message a `/post` waits for, and a message's text as the formatter's
//! HTML markup.

use std::future::IntoFuture;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::commands::{Caller, Cmd, Reply, Role, Upload};
use teloxide::payloads::EditMessageReplyMarkupSetters;
use teloxide::prelude::Requester;
use teloxide::types::{InlineKeyboardMarkup, Message, UpdateKind};
use teloxide::utils::render::Renderer;

use super::TelegramFrontend;

/// How long `/post` waits for the message to post.
const POST_WAIT: Duration = Duration::from_secs(10 * 60);

/// A Telegram message (text or caption with entities) as the formatter's
/// HTML markup.
pub fn message_html(m: &Message) -> String {
    if let Some(text) = m.text() {
        return Renderer::new(text, m.entities().unwrap_or(&[])).as_html();
    }
    if let Some(caption) = m.caption() {
        return Renderer::new(caption, m.caption_entities().unwrap_or(&[])).as_html();
    }
    String::new()
}

impl TelegramFrontend {
    pub(crate) async fn update(self: Arc<Self>, kind: UpdateKind) {
        match kind {
            UpdateKind::Message(m) => self.message(m).await,
            UpdateKind::CallbackQuery(q) => {
                let caller = Caller {
                    platform: "telegram",
                    user_id: q.from.id.0 as i64,
                    name: q.from.full_name(),
                    roles: Vec::new(),
                };
                let _ = self.bot().answer_callback_query(q.id.clone()).await;
                let Some(data) = q.data.clone() else {
                    return;
                };
                let Some(msg) = q.message.as_ref() else {
                    return;
                };
                let chat = msg.chat().id;
                // Ownership first: someone else's press changes nothing.
                let reply = self.handler.button(&caller, &data).await;
                if reply.refused {
                    if !reply.text.is_empty() {
                        self.reply(chat.0, reply).await;
                    }
                    return;
                }
                // The buttons are used: remove them (paced: a busy group
                // answers 429).
                let bot = self.bot();
                let id = msg.id();
                let _ = self
                    .paced(&chat.0.to_string(), || {
                        bot.edit_message_reply_markup(chat, id)
                            .reply_markup(InlineKeyboardMarkup::default())
                            .into_future()
                    })
                    .await;
                self.reply(chat.0, reply).await;
            }
            _ => {}
        }
    }

    async fn message(self: Arc<Self>, m: Message) {
        let Some(user) = m.from.as_ref() else { return };
        let caller = Caller {
            platform: "telegram",
            user_id: user.id.0 as i64,
            name: user.full_name(),
            roles: Vec::new(),
        };
        let chat = m.chat.id.0;
        // A document's caption may be the command (`/import`).
        let text = m
            .text()
            .or_else(|| m.document().and(m.caption()))
            .unwrap_or("")
            .trim()
            .to_string();
        if !text.starts_with('/') {
            // The message a `/post` is waiting for?
            let waiting = {
                let mut w = self.waiting_posts.lock().unwrap_or_else(|p| p.into_inner());
                w.retain(|_, (_, t)| t.elapsed() < POST_WAIT);
                w.remove(&(chat, caller.user_id))
            };
            if let Some((targets, _)) = waiting {
                let cmd = self.post_of(&m, targets);
                if let Some(r) = self.handler.handle(&caller, cmd).await {
                    self.reply(chat, r).await;
                }
            }
            return;
        }
        let username = self
            .username
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let addressed = text
            .split_whitespace()
            .next()
            .is_some_and(|head| head.contains('@'));
        if username.is_none() && addressed {
            // Perhaps for another bot: unknown until getMe answers.
            return;
        }
        let parsed = crate::commands::parse(
            &text,
            username.as_deref(),
            chrono::Utc::now(),
            self.handler.timezone(),
        );
        let cmd = match parsed {
            Ok(Some(c)) => c,
            Ok(None) => return,
            Err(usage) => {
                // Usage help only for people allowed to use the bot.
                if self.handler.role(&caller) >= Role::Editor {
                    self.reply(chat, Reply::text(usage)).await;
                } else if let Some(r) = self.handler.handle(&caller, Cmd::Status).await {
                    // A stranger: the (rate-limited) refusal.
                    self.reply(chat, r).await;
                }
                return;
            }
        };
        let cmd = match cmd {
            Cmd::PostNext { targets } if self.handler.role(&caller) >= Role::Editor => {
                match m.reply_to_message() {
                    Some(original) => self.post_of(original, targets),
                    None => {
                        self.waiting_posts
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .insert((chat, caller.user_id), (targets.clone(), Instant::now()));
                        Cmd::PostNext { targets }
                    }
                }
            }
            // The file: sent with the command, or the message it replies
            // to. Downloaded for admins only (others are refused).
            Cmd::Import { targets, .. } if self.handler.role(&caller) >= Role::Admin => {
                let doc = m
                    .document()
                    .or_else(|| m.reply_to_message().and_then(|r| r.document()));
                let file = match doc {
                    Some(d) => crate::telegram::files::download(self.bot(), d).await,
                    None => Upload::Missing,
                };
                Cmd::Import { file, targets }
            }
            other => other,
        };
        // Admin answers (feed URLs, errors, the log) are for admins only:
        // asked in a group, they go to the admin's private chat.
        let private = chat != caller.user_id
            && cmd.needs() >= Role::Admin
            && self.handler.role(&caller) >= Role::Admin;
        if let Some(r) = self.handler.handle(&caller, cmd).await {
            if private {
                self.reply(caller.user_id, r).await;
                self.send_text(chat, "Answered in private.", &[]).await;
            } else {
                self.reply(chat, r).await;
            }
        }
    }

    fn post_of(&self, m: &Message, targets: Vec<String>) -> Cmd {
        let html = message_html(m);
        // A photo is known by its Telegram file id: Telegram targets send
        // it by that id; other platforms get the caption alone.
        let image = m
            .photo()
            .and_then(|sizes| sizes.iter().max_by_key(|p| p.width * p.height))
            .map(|p| format!("{}{}", crate::format::TELEGRAM_FILE, p.file.id));
        let html = html.replace('\n', "<br>");
        Cmd::Post {
            html,
            image,
            targets,
            source: format!("telegram:{}:{}", m.chat.id.0, m.id.0),
        }
    }
}
