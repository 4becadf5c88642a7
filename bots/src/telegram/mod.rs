//! The Telegram adapter: delivers, edits and deletes posts through
//! teloxide, pacing every request with [`ratelimit::RateLimiter`] so that flood
//! limits are honoured by design, and classifying Telegram's answers for
//! the delivery engine.

mod check;
pub mod commands;
pub mod config;
mod files;
pub mod platform;
pub mod ratelimit;
pub mod webhook;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use teloxide::ApiError;
use teloxide::RequestError;
use teloxide::payloads::{
    EditMessageCaptionSetters, EditMessageTextSetters, SendAudioSetters, SendMessageSetters,
    SendPhotoSetters,
};
use teloxide::prelude::Requester;
use teloxide::types::{
    ChatId, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, MessageId, ParseMode, Recipient,
    ThreadId,
};
use url::Url;

use crate::format::telegram::{self as tgfmt, TelegramMessage, TelegramMethod};
use crate::format::{FeedRenderOptions, TargetFormat};
use crate::model::Post;
use crate::target::{DeliveryError, MessageRef, Part, RenderError, SendCtx, Sent, Target};

pub use ratelimit::Limits;

/// One bot: the teloxide client and the flood limiter shared by every
/// Telegram target (the 30 messages/s limit is per bot).
pub struct TelegramClient {
    bot: teloxide::Bot,
    limiter: ratelimit::RateLimiter,
}

impl std::fmt::Debug for TelegramClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the token.
        f.write_str("TelegramClient")
    }
}

impl TelegramClient {
    /// `api_url` is the Bot API base (`https://api.telegram.org`, or a
    /// local Bot API server / a fake). `timeout` bounds each request.
    pub fn new(
        token: &str,
        api_url: &Url,
        limits: Limits,
        timeout: Duration,
    ) -> Result<Arc<TelegramClient>, String> {
        crate::scrub::register_secret(token);
        let http = teloxide::net::default_reqwest_settings()
            .timeout(timeout)
            .build()
            .map_err(|e| format!("cannot set up the HTTP client: {e}"))?;
        let bot = teloxide::Bot::with_client(token, http).set_api_url(api_url.clone());
        Ok(Arc::new(TelegramClient {
            bot,
            limiter: ratelimit::RateLimiter::new(limits),
        }))
    }

    /// The teloxide bot (for the commands front-end).
    pub fn bot(&self) -> &teloxide::Bot {
        &self.bot
    }

    pub fn limiter(&self) -> &ratelimit::RateLimiter {
        &self.limiter
    }
}

/// Per-target delivery options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TelegramOptions {
    /// `-100…` or `@username`.
    pub chat: String,
    /// Forum topic.
    pub thread: Option<i32>,
    /// `disable_notification`.
    pub silent: bool,
    /// `protect_content`.
    pub protect_content: bool,
}

pub struct TelegramTarget {
    name: String,
    client: Arc<TelegramClient>,
    /// The chat; replaced when a group migrates to a supergroup.
    chat: RwLock<String>,
    opts: TelegramOptions,
    format: TargetFormat,
}

/// Telegram's answer, classified.
#[derive(Debug)]
enum Failure {
    /// The text could not be parsed or was too long: resend as plain text.
    Entities(String),
    /// The photo or audio URL was rejected: resend as text (a photo with
    /// a preview, an audio file with its link line).
    Media(String),
    /// Editing: the message is of the other kind (text vs photo or audio).
    WrongKind(String),
    NotModified,
    Other(DeliveryError),
}

fn chat_recipient(chat: &str) -> Recipient {
    match chat.trim().parse::<i64>() {
        Ok(id) => Recipient::Id(ChatId(id)),
        Err(_) => Recipient::ChannelUsername(chat.trim().to_string()),
    }
}

/// Groups and channels have the 20 messages/minute limit; private chats
/// (positive ids) do not.
pub(crate) fn group_or_channel(chat: &str) -> bool {
    chat.trim().parse::<i64>().map(|id| id < 0).unwrap_or(true)
}

/// Classify a teloxide error; every text is scrubbed of secrets.
fn classify(e: RequestError) -> Failure {
    use crate::scrub::scrubbed;
    match classify_raw(e) {
        Failure::Entities(s) => Failure::Entities(scrubbed(s)),
        Failure::Media(s) => Failure::Media(scrubbed(s)),
        Failure::WrongKind(s) => Failure::WrongKind(scrubbed(s)),
        Failure::NotModified => Failure::NotModified,
        Failure::Other(e) => Failure::Other(e.scrubbed()),
    }
}

fn classify_raw(e: RequestError) -> Failure {
    use DeliveryError as D;
    match e {
        RequestError::RetryAfter(s) => Failure::Other(D::RateLimited {
            retry_after: s.duration(),
        }),
        RequestError::MigrateToChatId(id) => Failure::Other(D::TargetMoved(id.0.to_string())),
        RequestError::Network(e) => {
            let msg = format!("network error: {}", describe(&e));
            if e.is_connect() {
                // Nothing reached Telegram.
                Failure::Other(D::Transient(msg))
            } else {
                // A timeout or a dropped connection after the request left.
                Failure::Other(D::Ambiguous(msg))
            }
        }
        RequestError::InvalidJson { raw, .. } => {
            // Usually a proxy's HTML error page (5xx): nothing was delivered.
            // Scrub before cutting: a cut token would escape the patterns.
            let mut s: String = crate::scrub::scrub(&raw).chars().take(120).collect();
            s = s.replace('\n', " ");
            Failure::Other(D::Transient(format!(
                "unreadable answer from Telegram: {s}"
            )))
        }
        RequestError::Io(e) => Failure::Other(D::Transient(format!("I/O error: {e}"))),
        RequestError::Api(api) => classify_api(api),
    }
}

/// A teloxide error as text without the bot token (network errors carry
/// the request URL, which holds it).
pub(crate) fn redact_error(e: &RequestError) -> String {
    match e {
        RequestError::Network(n) => format!("network error: {}", describe(n)),
        other => other.to_string(),
    }
}

/// A network error without its URL: the URL holds the bot token.
fn describe(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut s = String::from(if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    });
    let mut src = e.source();
    while let Some(cause) = src {
        s.push_str(": ");
        s.push_str(&cause.to_string());
        src = cause.source();
    }
    // Belt and braces: no `/bot<token>/` may survive.
    match s.find("/bot") {
        Some(i) => s[..i].to_string() + "/bot***",
        None => s,
    }
}

fn classify_api(api: ApiError) -> Failure {
    use DeliveryError as D;
    let text = api.to_string();
    match api {
        ApiError::MessageNotModified => Failure::NotModified,
        ApiError::CantParseEntities(_)
        | ApiError::MessageIsTooLong
        | ApiError::EditedMessageIsTooLong => Failure::Entities(text),
        ApiError::WrongFileIdOrUrl
        | ApiError::FailedToGetUrlContent
        | ApiError::WrongHttpUrl
        | ApiError::ImageProcessFailed
        | ApiError::WrongFileId
        | ApiError::PhotoAsInputFileRequired => Failure::Media(text),
        ApiError::ChatNotFound
        | ApiError::BotBlocked
        | ApiError::BotKicked
        | ApiError::BotKickedFromSupergroup
        | ApiError::BotKickedFromChannel
        | ApiError::NotEnoughRightsToPostMessages
        | ApiError::UserDeactivated
        | ApiError::CantInitiateConversation
        | ApiError::CantTalkWithBots
        | ApiError::GroupDeactivated
        | ApiError::InvalidToken => Failure::Other(D::TargetGone(text)),
        ApiError::MessageToEditNotFound
        | ApiError::MessageToDeleteNotFound
        | ApiError::MessageIdInvalid => Failure::Other(D::MessageGone(text)),
        ApiError::MessageCantBeEdited => Failure::Other(D::MessageGone(text)),
        ApiError::MessageCantBeDeleted => Failure::Other(D::NotDeletable(text)),
        ApiError::Unknown(desc) => classify_description(&desc),
        _ => Failure::Other(D::Rejected(text)),
    }
}

/// Descriptions teloxide does not know, by their text.
fn classify_description(desc: &str) -> Failure {
    use DeliveryError as D;
    let d = desc.to_ascii_lowercase();
    let has = |s: &str| d.contains(s);
    if has("can't parse entities")
        || has("message is too long")
        || has("caption is too long")
        || has("entities_too_long")
        || has("message_too_long")
    {
        Failure::Entities(desc.to_string())
    } else if has("there is no text in the message to edit")
        || has("there is no caption in the message to edit")
    {
        Failure::WrongKind(desc.to_string())
    } else if has("wrong type of the web page content")
        || has("failed to get http url content")
        || has("wrong file identifier")
        || has("wrong remote file identifier")
        || has("photo_invalid")
        || has("audio_invalid")
    {
        Failure::Media(desc.to_string())
    } else if has("not enough rights")
        || has("chat not found")
        || has("bot was kicked")
        || has("bot is not a member")
        || has("have no rights")
        || has("chat_write_forbidden")
        || has("message thread not found")
        || has("topic_closed")
        || has("topic_deleted")
        || has("need administrator rights")
        || has("unauthorized")
    {
        Failure::Other(D::TargetGone(desc.to_string()))
    } else if has("message is not modified") {
        Failure::NotModified
    } else if has("message to edit not found")
        || has("message to delete not found")
        || has("message can't be edited")
    {
        Failure::Other(D::MessageGone(desc.to_string()))
    } else if has("message can't be deleted") {
        Failure::Other(D::NotDeletable(desc.to_string()))
    } else if d.starts_with("bad request")
        || d.starts_with("forbidden")
        || d.starts_with("conflict")
    {
        Failure::Other(D::Rejected(desc.to_string()))
    } else {
        // "Internal Server Error", "Bad Gateway"…: Telegram's 5xx.
        Failure::Other(D::Transient(format!("Telegram: {desc}")))
    }
}

fn keyboard(m: &TelegramMessage) -> Option<InlineKeyboardMarkup> {
    let markup = m.reply_markup.as_ref()?;
    let rows: Vec<Vec<InlineKeyboardButton>> = markup
        .inline_keyboard
        .iter()
        .map(|row| {
            row.iter()
                .filter_map(|b| {
                    Url::parse(&b.url)
                        .ok()
                        .map(|u| InlineKeyboardButton::url(b.text.clone(), u))
                })
                .collect::<Vec<_>>()
        })
        .filter(|r| !r.is_empty())
        .collect();
    (!rows.is_empty()).then(|| InlineKeyboardMarkup::new(rows))
}

fn preview_options(m: &TelegramMessage) -> Option<teloxide::types::LinkPreviewOptions> {
    let p = m.link_preview_options.as_ref()?;
    Some(teloxide::types::LinkPreviewOptions {
        is_disabled: p.is_disabled.unwrap_or(false),
        url: p.url.clone(),
        prefer_small_media: p.prefer_small_media.unwrap_or(false),
        prefer_large_media: p.prefer_large_media.unwrap_or(false),
        show_above_text: p.show_above_text.unwrap_or(false),
    })
}

fn html(m: &TelegramMessage) -> Option<ParseMode> {
    m.parse_mode
        .as_deref()
        .filter(|p| p.eq_ignore_ascii_case("html"))
        .map(|_| ParseMode::Html)
}

/// A link to a message, when Telegram has one.
fn message_url(chat: &teloxide::types::Chat, id: MessageId) -> Option<String> {
    if let Some(u) = chat.username() {
        return Some(format!("https://t.me/{u}/{}", id.0));
    }
    let s = chat.id.0.to_string();
    s.strip_prefix("-100")
        .map(|internal| format!("https://t.me/c/{internal}/{}", id.0))
}

fn parse_ref(r: &MessageRef) -> Result<(String, MessageId), DeliveryError> {
    let (chat, id) = r.id.rsplit_once(':').ok_or_else(|| {
        DeliveryError::Rejected(format!("malformed message reference {:?}", r.id))
    })?;
    let id: i32 = id
        .parse()
        .map_err(|_| DeliveryError::Rejected(format!("malformed message id {:?}", r.id)))?;
    Ok((chat.to_string(), MessageId(id)))
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
        }
    }

    fn chat(&self) -> String {
        self.chat
            .read()
            .map(|c| c.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    async fn pace(&self, chat: &str) {
        self.client
            .limiter
            .acquire(chat, group_or_channel(chat))
            .await;
    }

    fn penalize(&self, chat: &str, f: &Failure) {
        if let Failure::Other(DeliveryError::RateLimited { retry_after }) = f {
            self.client.limiter.penalize(chat, *retry_after);
        }
    }

    /// One send request (no fallbacks).
    async fn send_once(&self, m: &TelegramMessage) -> Result<MessageRef, Failure> {
        let chat = self.chat();
        self.pace(&chat).await;
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
        };
        match res {
            Ok(msg) => Ok(MessageRef {
                id: format!("{}:{}", msg.chat.id.0, msg.id.0),
                url: message_url(&msg.chat, msg.id),
            }),
            Err(e) => {
                let f = classify(e);
                self.penalize(&chat, &f);
                Err(f)
            }
        }
    }

    /// One edit request: text or caption (and keyboard) of `id`.
    async fn edit_once(
        &self,
        chat: &str,
        id: MessageId,
        m: &TelegramMessage,
    ) -> Result<(), Failure> {
        self.pace(chat).await;
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
            TelegramMethod::SendPhoto | TelegramMethod::SendAudio => {
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

fn into_error(f: Failure) -> DeliveryError {
    match f {
        Failure::Entities(e) | Failure::Media(e) | Failure::WrongKind(e) => {
            DeliveryError::Rejected(e)
        }
        Failure::NotModified => DeliveryError::Rejected("message is not modified".into()),
        Failure::Other(e) => e,
    }
}

/// The text message a caption edit becomes when the old message is text,
/// or the caption a text edit becomes when the old message is a photo or
/// an audio file.
fn other_kind(m: &TelegramMessage) -> TelegramMessage {
    match m.method {
        TelegramMethod::SendPhoto | TelegramMethod::SendAudio => tgfmt::media_to_text(m),
        TelegramMethod::SendMessage => {
            let as_caption = TelegramMessage {
                method: TelegramMethod::SendPhoto,
                text: None,
                photo: None,
                audio: None,
                caption: m.text.clone(),
                parse_mode: m.parse_mode.clone(),
                link_preview_options: None,
                reply_markup: m.reply_markup.clone(),
                fallback: None,
            };
            if crate::format::validate::telegram_text(
                as_caption.body(),
                as_caption.parse_mode.as_deref(),
                tgfmt::CAPTION_LIMIT,
            )
            .is_ok()
            {
                as_caption
            } else {
                tgfmt::plain_fallback(&as_caption)
            }
        }
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

    fn render(&self, post: &Post, feed: &FeedRenderOptions) -> Result<Vec<Part>, RenderError> {
        Ok(tgfmt::render(post, feed, &self.format)?
            .iter()
            .map(TelegramMessage::to_part)
            .collect())
    }

    async fn send(&self, part: &Part, ctx: &SendCtx) -> Result<Sent, DeliveryError> {
        let m = Self::payload(part)?;
        match self.send_once(&m).await {
            Ok(r) => Ok(Sent {
                message: Some(r),
                note: None,
            }),
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
        let (chat, id) = parse_ref(message)?;
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

    async fn delete(&self, message: &MessageRef, _ctx: &SendCtx) -> Result<(), DeliveryError> {
        let (chat, id) = parse_ref(message)?;
        self.pace(&chat).await;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(desc: &str) -> String {
        format!("{:?}", classify_description(desc))
    }

    #[test]
    fn descriptions_are_classified() {
        assert!(
            kind("Bad Request: not enough rights to send text messages to the chat")
                .contains("TargetGone")
        );
        assert!(kind("Bad Request: message thread not found").contains("TargetGone"));
        assert!(
            kind(
                "Bad Request: can't parse entities: Unsupported start tag \"div\" at byte offset 0"
            )
            .starts_with("Entities")
        );
        assert!(kind("Bad Request: message caption is too long").starts_with("Entities"));
        assert!(
            kind("Bad Request: there is no text in the message to edit").starts_with("WrongKind")
        );
        assert!(kind("Bad Request: wrong type of the web page content").starts_with("Media"));
        assert!(kind("Bad Request: failed to get HTTP URL content").starts_with("Media"));
        assert!(
            kind("Bad Request: message can't be deleted for everyone").contains("NotDeletable")
        );
        assert!(kind("Internal Server Error").contains("Transient"));
        assert!(kind("Bad Gateway").contains("Transient"));
        assert!(kind("Bad Request: something new").contains("Rejected"));
    }

    #[test]
    fn message_links() {
        let r = MessageRef {
            id: "-1001234:42".into(),
            url: None,
        };
        assert_eq!(
            parse_ref(&r).expect("ref"),
            ("-1001234".to_string(), MessageId(42))
        );
        assert!(group_or_channel("@news"));
        assert!(group_or_channel("-1001"));
        assert!(!group_or_channel("42"));
    }
}
