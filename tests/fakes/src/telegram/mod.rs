//! A loopback fake of the Telegram Bot API.
//!
//! Facts it follows (checked with the `search` tool; see also
//! `/work/shared/notes/platforms.md`):
//! - Every answer is `{"ok":true,"result":...}` or
//!   `{"ok":false,"error_code":N,"description":"...","parameters":{...}}`
//!   with the HTTP status equal to `error_code` (core.telegram.org/bots/api
//!   "Making requests").
//! - Error texts are the ones teloxide-core 0.13 matches in `ApiError`
//!   (src/errors.rs: "Bad Request: chat not found", "Forbidden: bot was
//!   kicked from the channel chat", "Bad Request: message is not modified:
//!   specified new message content and reply markup are exactly the same as
//!   a current content and reply markup of the message", "Bad Request:
//!   message to delete not found", "Bad Request: wrong file identifier/HTTP
//!   URL specified", "Bad Request: failed to get HTTP URL content", "Conflict:
//!   terminated by other getUpdates request; ...") and ones reported in
//!   issue trackers: "group chat was upgraded to a supergroup chat" with
//!   `parameters.migrate_to_chat_id` (TwiN/gatus#179), "message thread not
//!   found" (tdlib/telegram-bot-api#472), "not enough rights to send text
//!   messages to the chat" as a 400 (TelegramBotAPI/errors#5), "message can't
//!   be deleted for everyone" (backmeupplz/DeleteNudesBot#4), "there is no
//!   text/caption in the message to edit", "BOT_COMMAND_INVALID", "unsupported
//!   parse_mode", "can't parse reply keyboard markup JSON object".
//! - Flood limits are not documented; the Bot API FAQ speaks of about one
//!   message per second per chat, 20 per minute per group and 30 per second
//!   overall; a 429 carries `parameters.retry_after` in whole seconds.
//! - Method names are case-insensitive (teloxide sends `SendMessage`).
//! - `sendMediaGroup` and `deleteMessages`: see `handlers/album.rs`.
//! - `sendAudio`: see `handlers/audio.rs` (MP3/M4A, 20 MB by URL, the
//!   `Audio` object, "Not enough rights to send music to the chat" from
//!   TDLib's `MessageContent.cpp`).

mod handlers;
pub(crate) mod html;
pub mod params;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::Notify;

use crate::clock::Clock;
use crate::fault::{FaultQueue, FaultRule};
use crate::log::RequestRecord;
use crate::ratelimit::{SlidingLog, Window};
use crate::server::{self, Background, Server};

pub use handlers::audio::{AUDIO_DURATION, TgAudio, URL_AUDIO_SIZE};
pub use handlers::files::{GET_FILE_LIMIT, TgDocument};
pub use params::UploadedFile;

/// The kind of a chat.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChatKind {
    Private,
    Group,
    Supergroup,
    Channel,
}

impl ChatKind {
    fn api_name(self) -> &'static str {
        match self {
            ChatKind::Private => "private",
            ChatKind::Group => "group",
            ChatKind::Supergroup => "supergroup",
            ChatKind::Channel => "channel",
        }
    }

    /// Groups, supergroups and channels share the 20 messages/minute limit.
    fn is_multi_user(self) -> bool {
        !matches!(self, ChatKind::Private)
    }
}

/// Where the bot stands in a chat.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BotStatus {
    /// A member (an administrator allowed to post, in a channel).
    Member,
    /// Kicked (or, for a private chat, blocked by the user): 403.
    Kicked,
    /// Not (or no longer) a member: 403.
    NotMember,
    /// A member without the right to send messages: 400.
    NoRights,
    /// A group member who may send text but no media (photos, music,
    /// documents): the chat's or the member's restrictions; 400 for media.
    TextOnly,
}

/// A chat the test declared.
#[derive(Clone, Debug, PartialEq)]
pub struct TgChat {
    pub id: i64,
    pub kind: ChatKind,
    pub title: Option<String>,
    pub username: Option<String>,
    pub first_name: Option<String>,
    pub is_forum: bool,
    /// Forum topics (message thread ids) that exist.
    pub topics: BTreeSet<i64>,
    pub bot: BotStatus,
    /// Set when a group was upgraded to a supergroup.
    pub migrated_to: Option<i64>,
}

impl TgChat {
    fn to_json(&self) -> Value {
        let mut m = serde_json::Map::new();
        m.insert("id".into(), json!(self.id));
        m.insert("type".into(), json!(self.kind.api_name()));
        if let Some(t) = &self.title {
            m.insert("title".into(), json!(t));
        }
        if let Some(u) = &self.username {
            m.insert("username".into(), json!(u));
        }
        if let Some(f) = &self.first_name {
            m.insert("first_name".into(), json!(f));
        }
        if self.is_forum {
            m.insert("is_forum".into(), json!(true));
        }
        Value::Object(m)
    }
}

/// A Telegram user (for injected updates).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TgUser {
    pub id: i64,
    pub first_name: String,
    pub username: Option<String>,
    pub is_bot: bool,
}

impl TgUser {
    pub fn new(id: i64, first_name: &str) -> TgUser {
        TgUser {
            id,
            first_name: first_name.to_string(),
            username: None,
            is_bot: false,
        }
    }

    pub fn with_username(mut self, username: &str) -> TgUser {
        self.username = Some(username.to_string());
        self
    }

    fn to_json(&self) -> Value {
        let mut v = json!({"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name});
        if let (Some(u), Value::Object(m)) = (&self.username, &mut v) {
            m.insert("username".into(), json!(u));
        }
        v
    }
}

/// A message as a member of the chat sees it, with what the bot sent.
#[derive(Clone, Debug, PartialEq)]
pub struct TgMessage {
    pub chat_id: i64,
    pub message_id: i64,
    /// Sent by the bot (false for messages injected as a user's).
    pub from_bot: bool,
    /// The user who sent it, for injected messages.
    pub from: Option<TgUser>,
    /// `text` as the bot sent it (with markup), for text messages.
    pub text: Option<String>,
    /// `caption` as the bot sent it, for photos.
    pub caption: Option<String>,
    /// What members read: the text or caption after entity parsing.
    pub shown: String,
    /// The entities of `shown` (parsed from HTML, or given as `entities`).
    pub entities: Vec<Value>,
    pub parse_mode: Option<String>,
    /// The photo as given: a URL or a file id.
    pub photo: Option<String>,
    /// The photo, when uploaded as a file.
    pub photo_upload: Option<UploadedFile>,
    /// The album (`sendMediaGroup`) the message belongs to.
    pub media_group_id: Option<String>,
    /// An audio file (sent with `sendAudio`).
    pub audio: Option<TgAudio>,
    /// A document (a file sent with `sendDocument`, or a user's).
    pub document: Option<TgDocument>,
    pub reply_markup: Option<Value>,
    pub thread_id: Option<i64>,
    pub reply_to: Option<i64>,
    pub disable_notification: bool,
    pub protect_content: bool,
    pub link_preview_options: Option<Value>,
    /// Unix time it was sent (on the fake's clock; `age_message` moves it).
    pub date: i64,
    pub edit_date: Option<i64>,
    pub edit_count: u32,
    pub deleted: bool,
}

impl TgMessage {
    pub fn is_photo(&self) -> bool {
        self.photo.is_some() || self.photo_upload.is_some()
    }

    /// A photo, audio or document: a message with a caption, not a text.
    pub fn has_media(&self) -> bool {
        self.is_photo() || self.audio.is_some() || self.document.is_some()
    }
}

/// How a file URL (photo, audio) the test marked bad fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PhotoFailure {
    /// `Bad Request: wrong file identifier/HTTP URL specified`
    WrongIdentifier,
    /// `Bad Request: failed to get HTTP URL content`
    FetchFailed,
}

impl PhotoFailure {
    fn description(self) -> &'static str {
        match self {
            PhotoFailure::WrongIdentifier => {
                "Bad Request: wrong file identifier/HTTP URL specified"
            }
            PhotoFailure::FetchFailed => "Bad Request: failed to get HTTP URL content",
        }
    }
}

/// Flood limits. Only sending and editing methods count, and only the
/// requests that were applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TelegramLimits {
    /// Per chat (any kind). Default: 3 per 3 s (about one per second with a
    /// small burst).
    pub per_chat: Option<Window>,
    /// Per group, supergroup or channel. Default: 20 per minute.
    pub per_group: Option<Window>,
    /// For the whole bot. Default: 30 per second.
    pub global: Option<Window>,
}

impl Default for TelegramLimits {
    fn default() -> Self {
        TelegramLimits {
            per_chat: Some(Window::new(3, Duration::from_secs(3))),
            per_group: Some(Window::new(20, Duration::from_secs(60))),
            global: Some(Window::new(30, Duration::from_secs(1))),
        }
    }
}

impl TelegramLimits {
    /// No flood control at all.
    pub fn unlimited() -> TelegramLimits {
        TelegramLimits {
            per_chat: None,
            per_group: None,
            global: None,
        }
    }
}

/// A command list set with `setMyCommands`, with its scope.
#[derive(Clone, Debug, PartialEq)]
pub struct CommandSet {
    /// The `scope` object (`{"type":"default"}` when absent).
    pub scope: Value,
    pub language_code: String,
    pub commands: Vec<Value>,
}

/// An injected callback query and its answer.
#[derive(Clone, Debug, PartialEq)]
pub struct CallbackRecord {
    pub id: String,
    pub chat_id: i64,
    pub message_id: i64,
    pub data: String,
    /// The `answerCallbackQuery` parameters, once answered.
    pub answer: Option<Value>,
}

#[derive(Default)]
struct RateState {
    per_chat: HashMap<i64, SlidingLog>,
    per_group: HashMap<i64, SlidingLog>,
    global: SlidingLog,
}

struct State {
    chats: BTreeMap<i64, TgChat>,
    messages: BTreeMap<i64, Vec<TgMessage>>,
    next_message_id: HashMap<i64, i64>,
    limits: TelegramLimits,
    rate: RateState,
    faults: FaultQueue,
    requests: Vec<RequestRecord>,
    updates: VecDeque<Value>,
    next_update_id: i64,
    poll_generation: u64,
    /// File URLs that fail (`sendPhoto`, `sendAudio`).
    bad_urls: HashMap<String, PhotoFailure>,
    known_file_ids: BTreeSet<String>,
    file_counter: u64,
    /// Documents by file id (users' uploads and the bot's).
    files: BTreeMap<String, handlers::files::StoredFile>,
    commands: Vec<CommandSet>,
    callbacks: BTreeMap<String, CallbackRecord>,
    callback_counter: u64,
    webhook: Option<handlers::webhook::Webhook>,
}

pub(crate) struct Shared {
    token: String,
    bot_id: i64,
    clock: Clock,
    started: Instant,
    state: Mutex<State>,
    updates_changed: Notify,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The fake Telegram Bot API. Cheap to clone; the server stops when the
/// last clone is dropped.
#[derive(Clone)]
pub struct FakeTelegram {
    shared: Arc<Shared>,
    server: Arc<Server>,
}

impl std::fmt::Debug for FakeTelegram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeTelegram")
            .field("addr", &self.server.addr)
            .finish()
    }
}

impl FakeTelegram {
    /// The token the fake accepts by default. Shaped like a bot token (id,
    /// colon, secret) but plainly not one: the secret has dots.
    pub const TOKEN: &'static str = "7000000001:TEST.crier.fake.telegram.token";
    /// The bot's user name (`getMe`).
    pub const BOT_USERNAME: &'static str = "crier_test_bot";

    /// Start on the current tokio runtime, with [`Self::TOKEN`].
    pub async fn start() -> io::Result<FakeTelegram> {
        Self::start_with_token(Self::TOKEN).await
    }

    /// Start with another token (its digits before `:` are the bot's id).
    pub async fn start_with_token(token: &str) -> io::Result<FakeTelegram> {
        let bot_id = token
            .split(':')
            .next()
            .and_then(|s| s.parse::<i64>().ok())
            .unwrap_or(7_000_000_001);
        let shared = Arc::new(Shared {
            token: token.to_string(),
            bot_id,
            clock: Clock::new(),
            started: Instant::now(),
            state: Mutex::new(State {
                chats: BTreeMap::new(),
                messages: BTreeMap::new(),
                next_message_id: HashMap::new(),
                limits: TelegramLimits::default(),
                rate: RateState::default(),
                faults: FaultQueue::default(),
                requests: Vec::new(),
                updates: VecDeque::new(),
                next_update_id: 100_000_001,
                poll_generation: 0,
                bad_urls: HashMap::new(),
                known_file_ids: BTreeSet::new(),
                file_counter: 0,
                files: BTreeMap::new(),
                commands: Vec::new(),
                callbacks: BTreeMap::new(),
                callback_counter: 0,
                webhook: None,
            }),
            updates_changed: Notify::new(),
        });
        tokio::spawn(handlers::webhook::deliver(Arc::downgrade(&shared)));
        let router = handlers::router(shared.clone());
        let server = server::serve(router).await?;
        Ok(FakeTelegram {
            shared,
            server: Arc::new(server),
        })
    }

    /// Start on a runtime of its own, on its own thread: for plain `#[test]`s
    /// that block (e.g. while a `crier` subprocess runs).
    pub fn start_background() -> io::Result<Background<FakeTelegram>> {
        server::background("fake-telegram", FakeTelegram::start)
    }

    /// `start_background` with another token.
    pub fn start_background_with_token(token: &str) -> io::Result<Background<FakeTelegram>> {
        let token = token.to_string();
        server::background("fake-telegram", move || async move {
            FakeTelegram::start_with_token(&token).await
        })
    }

    /// What teloxide's `Bot::set_api_url` takes: `http://127.0.0.1:PORT/`.
    pub fn api_url(&self) -> String {
        format!("http://{}/", self.server.addr)
    }

    /// The token this fake accepts.
    pub fn token(&self) -> &str {
        &self.shared.token
    }

    /// The bot's user id (`getMe`).
    pub fn bot_id(&self) -> i64 {
        self.shared.bot_id
    }

    /// The fake's clock (skew it for age-based rules).
    pub fn clock(&self) -> &Clock {
        &self.shared.clock
    }

    // ---- chats -------------------------------------------------------

    fn add_chat(&self, chat: TgChat) {
        self.shared.lock().chats.insert(chat.id, chat);
    }

    /// Declare a channel (ids look like `-100...`); the bot may post.
    pub fn add_channel(&self, id: i64, username: Option<&str>) {
        self.add_chat(TgChat {
            id,
            kind: ChatKind::Channel,
            title: Some(format!("Channel {id}")),
            username: username.map(|u| u.trim_start_matches('@').to_string()),
            first_name: None,
            is_forum: false,
            topics: BTreeSet::new(),
            bot: BotStatus::Member,
            migrated_to: None,
        });
    }

    /// Declare a basic group.
    pub fn add_group(&self, id: i64, title: &str) {
        self.add_chat(TgChat {
            id,
            kind: ChatKind::Group,
            title: Some(title.to_string()),
            username: None,
            first_name: None,
            is_forum: false,
            topics: BTreeSet::new(),
            bot: BotStatus::Member,
            migrated_to: None,
        });
    }

    /// Declare a supergroup; a forum has the given topics (thread ids).
    pub fn add_supergroup(&self, id: i64, username: Option<&str>, forum: bool, topics: &[i64]) {
        self.add_chat(TgChat {
            id,
            kind: ChatKind::Supergroup,
            title: Some(format!("Supergroup {id}")),
            username: username.map(|u| u.trim_start_matches('@').to_string()),
            first_name: None,
            is_forum: forum,
            topics: topics.iter().copied().collect(),
            bot: BotStatus::Member,
            migrated_to: None,
        });
    }

    /// Declare a private chat with a user.
    pub fn add_private(&self, user: &TgUser) {
        self.add_chat(TgChat {
            id: user.id,
            kind: ChatKind::Private,
            title: None,
            username: user.username.clone(),
            first_name: Some(user.first_name.clone()),
            is_forum: false,
            topics: BTreeSet::new(),
            bot: BotStatus::Member,
            migrated_to: None,
        });
    }

    /// Add a forum topic to a supergroup.
    pub fn add_topic(&self, chat_id: i64, thread_id: i64) {
        if let Some(c) = self.shared.lock().chats.get_mut(&chat_id) {
            c.topics.insert(thread_id);
        }
    }

    /// Change where the bot stands in a chat.
    pub fn set_bot_status(&self, chat_id: i64, status: BotStatus) {
        if let Some(c) = self.shared.lock().chats.get_mut(&chat_id) {
            c.bot = status;
        }
    }

    /// Upgrade a group to a supergroup `new_id` (declared if absent): the
    /// old id then answers `group chat was upgraded to a supergroup chat`.
    pub fn migrate_group(&self, group_id: i64, new_id: i64) {
        let mut st = self.shared.lock();
        let Some(old) = st.chats.get_mut(&group_id) else {
            return;
        };
        old.migrated_to = Some(new_id);
        let title = old.title.clone();
        st.chats.entry(new_id).or_insert(TgChat {
            id: new_id,
            kind: ChatKind::Supergroup,
            title,
            username: None,
            first_name: None,
            is_forum: false,
            topics: BTreeSet::new(),
            bot: BotStatus::Member,
            migrated_to: None,
        });
    }

    /// A declared chat.
    pub fn chat(&self, id: i64) -> Option<TgChat> {
        self.shared.lock().chats.get(&id).cloned()
    }

    // ---- photos ------------------------------------------------------

    /// Make `sendPhoto` with this URL fail as Telegram does when it cannot
    /// use it.
    pub fn fail_photo_url(&self, url: &str, how: PhotoFailure) {
        self.fail_url(url, how);
    }

    /// Make `sendAudio` with this URL fail as Telegram does when it cannot
    /// fetch it.
    pub fn fail_audio_url(&self, url: &str, how: PhotoFailure) {
        self.fail_url(url, how);
    }

    fn fail_url(&self, url: &str, how: PhotoFailure) {
        self.shared.lock().bad_urls.insert(url.to_string(), how);
    }

    // ---- limits and faults ------------------------------------------

    pub fn set_limits(&self, limits: TelegramLimits) {
        self.shared.lock().limits = limits;
    }

    pub fn limits(&self) -> TelegramLimits {
        self.shared.lock().limits
    }

    /// Queue a fault (see [`crate::Fault`]).
    pub fn inject(&self, rule: FaultRule) {
        self.shared.lock().faults.push(rule);
    }

    pub fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }

    /// Firings left in the fault queue.
    pub fn pending_faults(&self) -> usize {
        self.shared.lock().faults.pending()
    }

    // ---- records -----------------------------------------------------

    /// Every message of a chat, in order, deleted ones included.
    pub fn messages(&self, chat_id: i64) -> Vec<TgMessage> {
        self.shared
            .lock()
            .messages
            .get(&chat_id)
            .cloned()
            .unwrap_or_default()
    }

    /// What a member sees: the messages not deleted, in order.
    pub fn visible(&self, chat_id: i64) -> Vec<TgMessage> {
        self.messages(chat_id)
            .into_iter()
            .filter(|m| !m.deleted)
            .collect()
    }

    /// The bot's visible messages in a chat.
    pub fn bot_posts(&self, chat_id: i64) -> Vec<TgMessage> {
        self.visible(chat_id)
            .into_iter()
            .filter(|m| m.from_bot)
            .collect()
    }

    /// One message.
    pub fn message(&self, chat_id: i64, message_id: i64) -> Option<TgMessage> {
        self.shared
            .lock()
            .messages
            .get(&chat_id)?
            .iter()
            .find(|m| m.message_id == message_id)
            .cloned()
    }

    /// Make a message look `by` older (for the 48 h delete rule).
    pub fn age_message(&self, chat_id: i64, message_id: i64, by: Duration) {
        let mut st = self.shared.lock();
        if let Some(m) = st
            .messages
            .get_mut(&chat_id)
            .and_then(|v| v.iter_mut().find(|m| m.message_id == message_id))
        {
            m.date -= by.as_secs() as i64;
        }
    }

    /// Every request received, in order.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.lock().requests.clone()
    }

    /// Requests to one method (case-insensitive).
    pub fn requests_to(&self, method: &str) -> Vec<RequestRecord> {
        self.requests()
            .into_iter()
            .filter(|r| r.name.eq_ignore_ascii_case(method))
            .collect()
    }

    /// The command lists set with `setMyCommands`, current ones only.
    pub fn commands(&self) -> Vec<CommandSet> {
        self.shared.lock().commands.clone()
    }

    /// Injected callback queries and their answers.
    pub fn callbacks(&self) -> Vec<CallbackRecord> {
        self.shared.lock().callbacks.values().cloned().collect()
    }

    // ---- updates -----------------------------------------------------

    /// Queue a raw update; its `update_id` is assigned. Returns it.
    pub fn push_update(&self, mut update: Value) -> i64 {
        let id = {
            let mut st = self.shared.lock();
            let id = st.next_update_id;
            st.next_update_id += 1;
            if let Value::Object(m) = &mut update {
                m.insert("update_id".into(), json!(id));
            }
            st.updates.push_back(update);
            id
        };
        self.shared.updates_changed.notify_waiters();
        id
    }

    /// The webhook set with `setWebhook`: `(url, secret_token)`.
    pub fn webhook(&self) -> Option<(String, Option<String>)> {
        let st = self.shared.lock();
        st.webhook
            .as_ref()
            .map(|w| (w.url.clone(), w.secret_token.clone()))
    }

    /// Updates not yet confirmed with an `offset`.
    pub fn pending_updates(&self) -> Vec<Value> {
        self.shared.lock().updates.iter().cloned().collect()
    }

    fn user_message(
        &self,
        chat_id: i64,
        from: &TgUser,
        build: impl FnOnce(&mut TgMessage),
    ) -> (i64, i64) {
        let msg_json = {
            let mut st = self.shared.lock();
            let now = self.shared.clock.unix();
            let id = next_message_id(&mut st, chat_id);
            let mut m = TgMessage {
                chat_id,
                message_id: id,
                from_bot: false,
                from: Some(from.clone()),
                text: None,
                caption: None,
                shown: String::new(),
                entities: Vec::new(),
                parse_mode: None,
                photo: None,
                photo_upload: None,
                media_group_id: None,
                audio: None,
                document: None,
                reply_markup: None,
                thread_id: None,
                reply_to: None,
                disable_notification: false,
                protect_content: false,
                link_preview_options: None,
                date: now,
                edit_date: None,
                edit_count: 0,
                deleted: false,
            };
            build(&mut m);
            let j = handlers::message_json(&st, self.shared.bot_id, &m);
            st.messages.entry(chat_id).or_default().push(m);
            (id, j)
        };
        let (message_id, json) = msg_json;
        let update_id = self.push_update(json!({"message": json}));
        (update_id, message_id)
    }

    /// Inject a user's text message (a leading `/command` gets its
    /// `bot_command` entity). Returns `(update_id, message_id)`.
    pub fn user_says(&self, chat_id: i64, from: &TgUser, text: &str) -> (i64, i64) {
        self.user_message(chat_id, from, |m| {
            m.text = Some(text.to_string());
            m.shown = text.to_string();
            m.entities = command_entities(text);
        })
    }

    /// Inject a user's reply to a message.
    pub fn user_replies(
        &self,
        chat_id: i64,
        from: &TgUser,
        reply_to: i64,
        text: &str,
    ) -> (i64, i64) {
        self.user_message(chat_id, from, |m| {
            m.text = Some(text.to_string());
            m.shown = text.to_string();
            m.entities = command_entities(text);
            m.reply_to = Some(reply_to);
        })
    }

    /// Inject a user's photo with an optional caption.
    pub fn user_sends_photo(
        &self,
        chat_id: i64,
        from: &TgUser,
        caption: Option<&str>,
    ) -> (i64, i64) {
        let file_id = {
            let mut st = self.shared.lock();
            new_file_id(&mut st)
        };
        self.user_message(chat_id, from, |m| {
            m.photo = Some(file_id);
            m.caption = caption.map(str::to_string);
            m.shown = caption.unwrap_or("").to_string();
        })
    }

    /// Inject a press on an inline button of a message. Returns the
    /// callback query id.
    pub fn press_button(&self, chat_id: i64, message_id: i64, from: &TgUser, data: &str) -> String {
        let (id, update) = {
            let mut st = self.shared.lock();
            st.callback_counter += 1;
            let id = format!("{}", 4_000_000_000_000_000_000u64 + st.callback_counter);
            let msg = st
                .messages
                .get(&chat_id)
                .and_then(|v| v.iter().find(|m| m.message_id == message_id))
                .map(|m| handlers::message_json(&st, self.shared.bot_id, m));
            let message = msg.unwrap_or_else(|| {
                // An inaccessible message, as the Bot API sends it.
                let chat = st
                    .chats
                    .get(&chat_id)
                    .map(TgChat::to_json)
                    .unwrap_or_else(|| json!({"id": chat_id, "type": "private"}));
                json!({"chat": chat, "message_id": message_id, "date": 0})
            });
            st.callbacks.insert(
                id.clone(),
                CallbackRecord {
                    id: id.clone(),
                    chat_id,
                    message_id,
                    data: data.to_string(),
                    answer: None,
                },
            );
            let update = json!({"callback_query": {
                "id": id,
                "from": from.to_json(),
                "message": message,
                "chat_instance": format!("{}", -chat_id),
                "data": data,
            }});
            (id, update)
        };
        self.push_update(update);
        id
    }
}

fn command_entities(text: &str) -> Vec<Value> {
    if !text.starts_with('/') {
        return Vec::new();
    }
    let cmd = text.split_whitespace().next().unwrap_or("");
    vec![json!({"type": "bot_command", "offset": 0, "length": cmd.encode_utf16().count()})]
}

fn next_message_id(st: &mut State, chat_id: i64) -> i64 {
    let n = st.next_message_id.entry(chat_id).or_insert(1);
    let id = *n;
    *n += 1;
    id
}

fn new_file_id(st: &mut State) -> String {
    st.file_counter += 1;
    let id = format!("AgACAgIAAxkBAAI{:08}FAKEFILEID", st.file_counter);
    st.known_file_ids.insert(id.clone());
    id
}
