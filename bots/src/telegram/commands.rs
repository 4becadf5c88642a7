//! The Telegram front-end of the command layer: long polling
//! (`getUpdates`), commands in private chats and as `/cmd@bot` in groups,
//! Confirm/Cancel as inline keyboards with callback queries, previews sent
//! exactly as the channel will show them, alerts to admins.

use std::collections::HashMap;
use std::future::IntoFuture;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::commands::{COMMANDS, Caller, Cmd, Handler, Notifier, Reply, ReplyFile, Role, Upload};
use crate::format::telegram::TelegramMessage;
use crate::telegram::{Limits, TelegramClient};
use teloxide::payloads::{
    EditMessageReplyMarkupSetters, GetUpdatesSetters, SendAudioSetters, SendDocumentSetters,
    SendMessageSetters, SendPhotoSetters, SetMyCommandsSetters,
};
use teloxide::prelude::Requester;
use teloxide::types::{
    AllowedUpdate, BotCommand, BotCommandScope, ChatId, InlineKeyboardButton, InlineKeyboardMarkup,
    InputFile, LinkPreviewOptions, Message, ParseMode, Recipient, UpdateKind,
};
use teloxide::utils::render::Renderer;
use tokio_util::sync::CancellationToken;

/// How long `/post` waits for the message to post.
const POST_WAIT: Duration = Duration::from_secs(10 * 60);
/// Telegram's text limit, for replies.
const TEXT_LIMIT: usize = 4000;

/// The front-end's settings.
#[derive(Debug, Clone, Default)]
pub struct FrontendOptions {
    pub admins: Vec<i64>,
    pub editors: Vec<i64>,
    /// Where alerts go; default: each admin's private chat.
    pub alerts_chat: Option<String>,
}

/// A `/post` waiting for its message: the targets, and since when.
type WaitingPost = (Vec<String>, Instant);

pub struct TelegramFrontend {
    client: Arc<TelegramClient>,
    handler: Arc<dyn Handler>,
    admins: Vec<i64>,
    editors: Vec<i64>,
    alerts_chat: Option<String>,
    username: Mutex<Option<String>>,
    /// `/post` waiting for its message: (chat, user) → (targets, since).
    waiting_posts: Mutex<HashMap<(i64, i64), WaitingPost>>,
}

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
    /// A front-end on its own client (long polls outlast delivery
    /// timeouts).
    pub fn new(
        token: &str,
        api_url: &url::Url,
        opts: FrontendOptions,
        handler: Arc<dyn Handler>,
    ) -> Result<Arc<TelegramFrontend>, String> {
        // Long polls wait 25 s: the client must wait longer.
        let client =
            TelegramClient::new(token, api_url, Limits::default(), Duration::from_secs(60))?;
        Ok(Arc::new(TelegramFrontend {
            client,
            handler,
            admins: opts.admins,
            editors: opts.editors,
            alerts_chat: opts.alerts_chat,
            username: Mutex::new(None),
            waiting_posts: Mutex::new(HashMap::new()),
        }))
    }

    pub(crate) fn bot(&self) -> &teloxide::Bot {
        self.client.bot()
    }

    /// One request to `chat`, paced by the bot's flood limiter; a 429 is
    /// waited out (a few times) rather than losing the reply.
    async fn paced<T, F, Fut>(
        &self,
        chat: &str,
        mut request: F,
    ) -> Result<T, teloxide::RequestError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, teloxide::RequestError>>,
    {
        let limiter = self.client.limiter();
        let mut attempt = 0;
        loop {
            limiter.acquire(chat, super::group_or_channel(chat)).await;
            match request().await {
                Err(teloxide::RequestError::RetryAfter(s)) if attempt < 3 => {
                    attempt += 1;
                    limiter.penalize(chat, s.duration());
                }
                other => return other,
            }
        }
    }

    /// Register the command lists: editors and admins see theirs in their
    /// private chats; everyone else sees /help only.
    async fn register_commands(&self) {
        let list = |role: Role| -> Vec<BotCommand> {
            COMMANDS
                .iter()
                .filter(|c| c.role <= role)
                .map(|c| BotCommand::new(c.name, c.about))
                .collect()
        };
        let bot = self.bot();
        if let Err(e) = bot.set_my_commands(list(Role::Stranger)).await {
            tracing::warn!(error = %crate::scrub::scrub(&e.to_string()), "cannot register the Telegram commands");
        }
        for (users, role) in [(&self.editors, Role::Editor), (&self.admins, Role::Admin)] {
            for u in users {
                let r = bot
                    .set_my_commands(list(role))
                    .scope(BotCommandScope::Chat {
                        chat_id: Recipient::Id(ChatId(*u)),
                    })
                    .await;
                if let Err(e) = r {
                    // The user has not started a chat with the bot yet.
                    tracing::debug!(user = u, error = %crate::scrub::scrub(&e.to_string()), "cannot set a user's command list");
                }
            }
        }
    }

    /// Long-poll until `shutdown`.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        self.hello(&shutdown).await;
        // Back from webhook mode: getUpdates answers 409 while a webhook is set.
        if let Err(e) = self.bot().delete_webhook().await {
            tracing::warn!(error = %crate::scrub::scrubbed(super::redact_error(&e)), "Telegram deleteWebhook failed; getUpdates may be refused");
        }
        self.poll(shutdown).await;
    }

    /// getMe and the command lists, before updates arrive. Until the bot
    /// knows its user name, commands addressed to a bot (`/cmd@name`) are
    /// ignored: they may be for another bot; getMe is retried with backoff.
    pub(crate) async fn hello(self: &Arc<Self>, shutdown: &CancellationToken) {
        if !self.learn_username().await {
            let me = self.clone();
            let stop = shutdown.clone();
            tokio::spawn(async move {
                let mut wait = Duration::from_secs(1);
                loop {
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = stop.cancelled() => return,
                    }
                    if me.learn_username().await {
                        return;
                    }
                    wait = (wait * 2).min(Duration::from_secs(300));
                }
            });
        }
        self.register_commands().await;
    }

    async fn poll(self: Arc<Self>, shutdown: CancellationToken) {
        let mut offset: i32 = 0;
        let mut backoff = Duration::from_secs(1);
        loop {
            let req = self
                .bot()
                .get_updates()
                .offset(offset)
                .timeout(25)
                .allowed_updates(vec![AllowedUpdate::Message, AllowedUpdate::CallbackQuery]);
            let res = tokio::select! {
                r = req => r,
                _ = shutdown.cancelled() => return,
            };
            let updates = match res {
                Ok(u) => {
                    backoff = Duration::from_secs(1);
                    u
                }
                Err(teloxide::RequestError::Api(teloxide::ApiError::InvalidToken)) => {
                    // Retrying cannot help: say it once, stop listening.
                    tracing::error!(
                        "Telegram rejects the bot token (Unauthorized): chat commands are off until it is fixed ({})",
                        crate::check::hint("unauthorized", "").unwrap_or_default()
                    );
                    return;
                }
                Err(e) => {
                    let e = crate::scrub::scrubbed(super::redact_error(&e));
                    tracing::warn!(error = %e, "Telegram getUpdates failed; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = shutdown.cancelled() => return,
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(60));
                    continue;
                }
            };
            for u in updates {
                offset = offset.max(u.id.0 as i32 + 1);
                let me = self.clone();
                // Each update on its own task: a slow /publish fetch does
                // not hold up the others.
                crate::panics::spawn_contained("telegram update", async move {
                    me.update(u.kind).await
                });
            }
        }
    }

    /// `getMe`: true once the bot's user name is known.
    async fn learn_username(&self) -> bool {
        match self.bot().get_me().await {
            Ok(me) => {
                *self.username.lock().unwrap_or_else(|p| p.into_inner()) = me.user.username.clone();
                tracing::info!(bot = ?me.user.username, "Telegram commands: listening");
                true
            }
            Err(e) => {
                tracing::warn!(error = %crate::scrub::scrub(&e.to_string()), "Telegram getMe failed; commands addressed to a bot (/cmd@name) are ignored until it answers; retrying");
                false
            }
        }
    }

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
                    Some(d) => super::files::download(self.bot(), d).await,
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

    /// Send a reply: previews first, then the text with its buttons; a
    /// follow-up report later.
    async fn reply(self: &Arc<Self>, chat: i64, r: Reply) {
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
                    if let Some(m) = TelegramMessage::from_payload(&part.payload) {
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
    async fn send_text(&self, chat: i64, text: &str, buttons: &[crate::commands::Button]) {
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
