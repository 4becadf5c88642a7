//! A loopback fake of the Discord REST API (v10).
//!
//! Facts it follows (checked with the `search` tool):
//! - Error bodies `{"message": "...", "code": N}` and the JSON error codes
//!   table (discord-api-docs docs/topics/opcodes-and-status-codes.md):
//!   10003 Unknown Channel, 10008 Unknown Message, 10015 Unknown Webhook,
//!   10062 Unknown interaction, 40033 already crossposted, 40060 interaction
//!   already acknowledged, 50001 Missing Access, 50005 cannot edit another
//!   user's message, 50006 empty message, 50008 non-text channel, 50013
//!   Missing Permissions, 50024 wrong channel type, 50027 invalid webhook
//!   token, 50035 Invalid Form Body (with an `errors` object), 50109 invalid
//!   JSON, 220001-220003 webhooks and forum channels.
//! - Rate limits (docs/topics/rate-limits.md): per-route buckets keyed by
//!   the top-level resource (channel, webhook); headers `X-RateLimit-Limit`,
//!   `-Remaining`, `-Reset` (epoch seconds, float), `-Reset-After` (float),
//!   `-Bucket`; on 429 also `Retry-After` and `X-RateLimit-Scope`
//!   (`user`/`global`/`shared`), `X-RateLimit-Global: true` for the global
//!   limit, and the body `{"message": "You are being rate limited.",
//!   "retry_after": 64.57, "global": false}`; 50 requests/s globally for a
//!   bot (interaction endpoints excluded); 10,000 invalid requests (401, 403,
//!   429 except `shared`) per 10 minutes get an IP banned.
//! - `nonce` up to 25 characters (`BASE_TYPE_MAX_LENGTH`, "Must be 25 or
//!   fewer in length."), `enforce_nonce` de-duplicates for a few minutes
//!   per author; webhook executions have no nonce.
//! - `allowed_mentions`: `parse` with `users`/`roles` and a `users`/`roles`
//!   list are mutually exclusive (`MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE`).
//! - Webhooks not owned by an application ignore `components` unless the
//!   execution or edit asks `?with_components=true`
//!   (discord-api-types `RESTPostAPIWebhookWithTokenJSONBody.components`).
//! - Crossposting: announcement channels only; about 10 per hour per
//!   channel (synzen/MonitoRSS#184, discordjs/discord.js#4956).
//! - Interactions (docs/interactions/receiving-and-responding.md): the
//!   initial response must reach Discord within 3 seconds of the
//!   interaction (else `10062 Unknown interaction`); its token then works
//!   for 15 minutes (edits of `@original`, follow-ups). Response types: 4
//!   message, 5 deferred message, 6 deferred update, 7 update the
//!   component's message; `flags: 64` makes a response ephemeral.
//! - The gateway ([`gateway`]): HELLO, IDENTIFY, READY, heartbeats, and
//!   `INTERACTION_CREATE` dispatches shaped as Discord sends them.

mod cdn;
pub mod gateway;
mod handlers;
pub use handlers::{
    ATTACH_FILES, BOT_ROLE_ID, EMBED_LINKS, READ_MESSAGE_HISTORY, SEND_MESSAGES, VIEW_CHANNEL,
};

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use crate::clock::Clock;
use crate::fault::{FaultQueue, FaultRule};
use crate::log::RequestRecord;
use crate::ratelimit::{FixedBucket, Window};
use crate::server::{self, Background, Server};

/// Message flag: do not show embeds.
pub const SUPPRESS_EMBEDS: u64 = 1 << 2;
/// Message flag: a silent message (no push notification).
pub const SUPPRESS_NOTIFICATIONS: u64 = 1 << 12;
/// Message flag: published to following channels.
pub const CROSSPOSTED: u64 = 1 << 0;
/// Message flag: only the user who ran the command sees it (interaction
/// responses and follow-ups only).
pub const EPHEMERAL: u64 = 1 << 6;
/// How long after an interaction its initial response may come.
pub const INTERACTION_WINDOW: Duration = Duration::from_secs(3);
/// How long an interaction token works for edits and follow-ups.
pub const INTERACTION_TOKEN_LIFE: Duration = Duration::from_secs(15 * 60);

/// The kind of a channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChannelKind {
    Text,
    Announcement,
    Forum,
    /// A thread (or forum post) in a parent channel.
    Thread {
        parent: u64,
    },
    /// The bot's direct-message channel with a user.
    Dm {
        recipient: u64,
    },
}

/// What the bot may do in a channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Ok,
    /// 403 `{"message": "Missing Access", "code": 50001}`
    MissingAccess,
    /// 403 `{"message": "Missing Permissions", "code": 50013}`
    MissingPermissions,
}

/// A channel the test declared (or a thread a webhook created).
#[derive(Clone, Debug, PartialEq)]
pub struct DcChannel {
    pub id: u64,
    pub guild_id: u64,
    pub kind: ChannelKind,
    pub name: String,
    pub access: Access,
    /// Forum tags that exist (forum channels).
    pub available_tags: Vec<u64>,
    /// A forum that requires a tag on every post.
    pub require_tag: bool,
    /// Tags applied (forum posts).
    pub applied_tags: Vec<u64>,
}

/// A webhook bound to a channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DcWebhook {
    pub id: u64,
    pub token: String,
    pub channel_id: u64,
    pub name: String,
    pub deleted: bool,
}

/// Who posted a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Author {
    /// The bot user.
    Bot,
    /// A webhook, with the name and avatar it posted under.
    Webhook {
        webhook_id: u64,
        username: String,
        avatar_url: Option<String>,
    },
    /// An interaction response or follow-up (posted as the bot user).
    Interaction { interaction_id: u64 },
}

/// A message as channel members see it, with what the client sent.
#[derive(Clone, Debug, PartialEq)]
pub struct DcMessage {
    pub id: u64,
    /// The channel it shows in (a thread id for thread and forum posts).
    pub channel_id: u64,
    pub author: Author,
    pub content: String,
    pub embeds: Vec<Value>,
    pub components: Vec<Value>,
    pub attachments: Vec<Value>,
    pub flags: u64,
    pub tts: bool,
    pub nonce: Option<Value>,
    /// Who was pinged, after `allowed_mentions`.
    pub mention_everyone: bool,
    pub mention_roles: Vec<u64>,
    pub mention_users: Vec<u64>,
    /// The `allowed_mentions` object sent, if any.
    pub allowed_mentions: Option<Value>,
    pub timestamp: SystemTime,
    pub edited_timestamp: Option<SystemTime>,
    pub edit_count: u32,
    pub deleted: bool,
    pub crossposted: bool,
}

impl DcMessage {
    pub fn is_silent(&self) -> bool {
        self.flags & SUPPRESS_NOTIFICATIONS != 0
    }
    pub fn embeds_suppressed(&self) -> bool {
        self.flags & SUPPRESS_EMBEDS != 0
    }
    /// True when the message pinged anyone at all.
    pub fn pinged_anyone(&self) -> bool {
        self.mention_everyone || !self.mention_roles.is_empty() || !self.mention_users.is_empty()
    }
}

/// An interaction the test created, and what the app answered.
#[derive(Clone, Debug, PartialEq)]
pub struct DcInteraction {
    pub id: u64,
    pub token: String,
    pub channel_id: u64,
    /// 2: a slash command; 3: a component (button) click.
    pub kind: u8,
    /// The user who caused it (0 for [`FakeDiscord::add_interaction`]).
    pub user_id: u64,
    /// A button click: the message the button is on.
    pub message_id: Option<u64>,
    /// When it was dispatched (the fake's clock).
    pub created: SystemTime,
    /// How long after `created` the accepted initial response came.
    pub answered_after: Option<Duration>,
    /// Initial responses refused because they came after the 3-second
    /// window (`10062 Unknown interaction`).
    pub late_callbacks: u32,
    /// The callback bodies received (normally one).
    pub callbacks: Vec<Value>,
    /// The original response message, once there is one.
    pub original: Option<u64>,
    /// Follow-up message ids.
    pub followups: Vec<u64>,
}

/// Rate limits, per route bucket and global. `None` disables one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DiscordLimits {
    /// `POST /channels/{id}/messages`, per channel. Default 5 / 5 s.
    pub create_message: Option<Window>,
    /// `PATCH /channels/{id}/messages/{mid}`, per channel. Default 5 / 5 s.
    pub edit_message: Option<Window>,
    /// `DELETE /channels/{id}/messages/{mid}`, per channel. Default 5 / 1 s.
    pub delete_message: Option<Window>,
    /// Every `/webhooks/{id}/{token}...` route, per webhook. Default 5 / 2 s.
    pub webhook: Option<Window>,
    /// Crossposts per announcement channel. Default 10 / hour.
    pub crosspost: Option<Window>,
    /// Any other route, per route. Default 50 / 1 s.
    pub other: Option<Window>,
    /// All bot-authenticated requests. Default 50 / 1 s.
    pub global: Option<Window>,
}

impl Default for DiscordLimits {
    fn default() -> Self {
        DiscordLimits {
            create_message: Some(Window::new(5, Duration::from_secs(5))),
            edit_message: Some(Window::new(5, Duration::from_secs(5))),
            delete_message: Some(Window::new(5, Duration::from_secs(1))),
            webhook: Some(Window::new(5, Duration::from_secs(2))),
            crosspost: Some(Window::new(10, Duration::from_secs(3600))),
            other: Some(Window::new(50, Duration::from_secs(1))),
            global: Some(Window::new(50, Duration::from_secs(1))),
        }
    }
}

impl DiscordLimits {
    /// No rate limits at all (no rate-limit headers either).
    pub fn unlimited() -> DiscordLimits {
        DiscordLimits {
            create_message: None,
            edit_message: None,
            delete_message: None,
            webhook: None,
            crosspost: None,
            other: None,
            global: None,
        }
    }
}

struct State {
    channels: BTreeMap<u64, DcChannel>,
    guilds: Vec<u64>,
    webhooks: BTreeMap<u64, DcWebhook>,
    messages: BTreeMap<u64, Vec<DcMessage>>,
    interactions: BTreeMap<u64, DcInteraction>,
    commands: BTreeMap<Option<u64>, Vec<Value>>,
    nonces: HashMap<(u64, String), (u64, SystemTime)>,
    nonce_window: Duration,
    buckets: HashMap<(String, String), FixedBucket>,
    global: Option<FixedBucket>,
    limits: DiscordLimits,
    faults: FaultQueue,
    requests: Vec<RequestRecord>,
    invalid: Vec<SystemTime>,
    gateway_url: String,
    snowflake_seq: u64,
    gateway: gateway::GwState,
    /// Attachment files by CDN path, and where the CDN is.
    cdn: BTreeMap<String, Vec<u8>>,
    cdn_base: String,
    /// Files users can attach, by file name ([`FakeDiscord::upload`]).
    uploads: HashMap<String, Vec<u8>>,
}

pub(crate) struct Shared {
    token: String,
    clock: Clock,
    started: Instant,
    state: Mutex<State>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A realistic snowflake (milliseconds since 2015 << 22 | sequence).
    fn snowflake(&self, st: &mut State) -> u64 {
        st.snowflake_seq += 1;
        let ms = crate::clock::since(self.clock.now(), discord_epoch()).as_millis() as u64;
        (ms << 22) | (st.snowflake_seq & 0x3f_ffff)
    }
}

fn discord_epoch() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(1_420_070_400_000)
}

/// The fake Discord REST API. Cheap to clone; the server stops when the
/// last clone is dropped.
#[derive(Clone)]
pub struct FakeDiscord {
    shared: Arc<Shared>,
    server: Arc<Server>,
    /// The websocket gateway, once started.
    gateway: Arc<Mutex<Option<gateway::GwServer>>>,
}

impl std::fmt::Debug for FakeDiscord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeDiscord")
            .field("addr", &self.server.addr)
            .finish()
    }
}

impl FakeDiscord {
    /// The bot token the fake accepts (`Authorization: Bot <TOKEN>`).
    /// Plainly not a Discord token.
    pub const TOKEN: &'static str = "FAKE.crier-test-discord-bot-token.not-real";
    /// The bot user's id, also the application id.
    pub const BOT_ID: u64 = 1_100_000_000_000_000_001;
    /// The application id (same as the bot user's, as on Discord).
    pub const APPLICATION_ID: u64 = Self::BOT_ID;
    /// The bot user's name.
    pub const BOT_USERNAME: &'static str = "Crier Test";
    /// The guild channels are declared in unless said otherwise.
    pub const GUILD_ID: u64 = 1_200_000_000_000_000_001;

    pub async fn start() -> io::Result<FakeDiscord> {
        Self::start_with_token(Self::TOKEN).await
    }

    pub async fn start_with_token(token: &str) -> io::Result<FakeDiscord> {
        let shared = Arc::new(Shared {
            token: token.to_string(),
            clock: Clock::new(),
            started: Instant::now(),
            state: Mutex::new(State {
                channels: BTreeMap::new(),
                guilds: vec![Self::GUILD_ID],
                webhooks: BTreeMap::new(),
                messages: BTreeMap::new(),
                interactions: BTreeMap::new(),
                commands: BTreeMap::new(),
                nonces: HashMap::new(),
                nonce_window: Duration::from_secs(5 * 60),
                buckets: HashMap::new(),
                global: None,
                limits: DiscordLimits::default(),
                faults: FaultQueue::default(),
                requests: Vec::new(),
                invalid: Vec::new(),
                gateway_url: "wss://gateway.discord.gg".into(),
                snowflake_seq: 0,
                gateway: gateway::GwState::default(),
                cdn: BTreeMap::new(),
                cdn_base: String::new(),
                uploads: HashMap::new(),
            }),
        });
        let router = handlers::router(shared.clone());
        let server = server::serve(router).await?;
        shared.lock().cdn_base = format!("http://{}", server.addr);
        Ok(FakeDiscord {
            shared,
            server: Arc::new(server),
            gateway: Arc::new(Mutex::new(None)),
        })
    }

    /// Start on a runtime thread of its own (for blocking tests).
    pub fn start_background() -> io::Result<Background<FakeDiscord>> {
        server::background("fake-discord", FakeDiscord::start)
    }

    pub fn start_background_with_token(token: &str) -> io::Result<Background<FakeDiscord>> {
        let token = token.to_string();
        server::background("fake-discord", move || async move {
            FakeDiscord::start_with_token(&token).await
        })
    }

    /// `http://127.0.0.1:PORT/api`: Crier calls `{api_url}/v10/...`.
    pub fn api_url(&self) -> String {
        format!("http://{}/api", self.server.addr)
    }

    /// `http://127.0.0.1:PORT` (what serenity's `HttpBuilder::proxy` takes).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.server.addr)
    }

    pub fn token(&self) -> &str {
        &self.shared.token
    }

    pub fn clock(&self) -> &Clock {
        &self.shared.clock
    }

    /// A new realistic snowflake id.
    pub fn new_id(&self) -> u64 {
        let mut st = self.shared.lock();
        self.shared.snowflake(&mut st)
    }

    // ---- channels ----------------------------------------------------

    fn add_channel(&self, id: u64, kind: ChannelKind) {
        self.shared.lock().channels.insert(
            id,
            DcChannel {
                id,
                guild_id: Self::GUILD_ID,
                kind,
                name: format!("channel-{id}"),
                access: Access::Ok,
                available_tags: Vec::new(),
                require_tag: false,
                applied_tags: Vec::new(),
            },
        );
    }

    pub fn add_text_channel(&self, id: u64) {
        self.add_channel(id, ChannelKind::Text);
    }

    pub fn add_announcement_channel(&self, id: u64) {
        self.add_channel(id, ChannelKind::Announcement);
    }

    /// A forum channel with these tags.
    pub fn add_forum_channel(&self, id: u64, tags: &[u64]) {
        self.add_channel(id, ChannelKind::Forum);
        if let Some(c) = self.shared.lock().channels.get_mut(&id) {
            c.available_tags = tags.to_vec();
        }
    }

    /// Make a forum require a tag on every new post.
    pub fn set_forum_requires_tag(&self, id: u64, require: bool) {
        if let Some(c) = self.shared.lock().channels.get_mut(&id) {
            c.require_tag = require;
        }
    }

    /// A thread in a text or forum channel.
    pub fn add_thread(&self, parent: u64, id: u64) {
        self.add_channel(id, ChannelKind::Thread { parent });
    }

    pub fn set_access(&self, channel_id: u64, access: Access) {
        if let Some(c) = self.shared.lock().channels.get_mut(&channel_id) {
            c.access = access;
        }
    }

    /// Delete a channel (then `10003 Unknown Channel`).
    pub fn remove_channel(&self, channel_id: u64) {
        self.shared.lock().channels.remove(&channel_id);
    }

    /// Declare another guild the bot is in.
    pub fn add_guild(&self, guild_id: u64) {
        self.shared.lock().guilds.push(guild_id);
    }

    pub fn channel(&self, id: u64) -> Option<DcChannel> {
        self.shared.lock().channels.get(&id).cloned()
    }

    /// Threads (and forum posts) of a channel.
    pub fn threads(&self, parent: u64) -> Vec<DcChannel> {
        self.shared
            .lock()
            .channels
            .values()
            .filter(|c| c.kind == ChannelKind::Thread { parent })
            .cloned()
            .collect()
    }

    // ---- webhooks ----------------------------------------------------

    /// A webhook on a channel, with a realistic id and a 68-character token.
    pub fn add_webhook(&self, channel_id: u64) -> DcWebhook {
        let mut st = self.shared.lock();
        let id = self.shared.snowflake(&mut st);
        let token = webhook_token(id);
        let hook = DcWebhook {
            id,
            token,
            channel_id,
            name: "Crier".into(),
            deleted: false,
        };
        st.webhooks.insert(id, hook.clone());
        hook
    }

    /// Delete a webhook: its URL then answers `10015 Unknown Webhook`.
    pub fn delete_webhook(&self, id: u64) {
        if let Some(h) = self.shared.lock().webhooks.get_mut(&id) {
            h.deleted = true;
        }
    }

    /// The webhook's URL on this fake (`{api_url}/webhooks/{id}/{token}`).
    pub fn webhook_url(&self, hook: &DcWebhook) -> String {
        format!("{}/webhooks/{}/{}", self.api_url(), hook.id, hook.token)
    }

    // ---- interactions -----------------------------------------------

    /// Create an interaction (as if a user ran a command in `channel_id`);
    /// the app answers it with the callback and webhook routes.
    pub fn add_interaction(&self, channel_id: u64) -> DcInteraction {
        let mut st = self.shared.lock();
        let id = self.shared.snowflake(&mut st);
        let i = DcInteraction {
            id,
            token: interaction_token(id),
            channel_id,
            kind: 2,
            user_id: 0,
            message_id: None,
            created: self.shared.clock.now(),
            answered_after: None,
            late_callbacks: 0,
            callbacks: Vec::new(),
            original: None,
            followups: Vec::new(),
        };
        st.interactions.insert(id, i.clone());
        i
    }

    pub fn interaction(&self, id: u64) -> Option<DcInteraction> {
        self.shared.lock().interactions.get(&id).cloned()
    }

    // ---- configuration -----------------------------------------------

    pub fn set_limits(&self, limits: DiscordLimits) {
        let mut st = self.shared.lock();
        st.limits = limits;
        st.buckets.clear();
        st.global = None;
    }

    pub fn limits(&self) -> DiscordLimits {
        self.shared.lock().limits
    }

    /// How long `enforce_nonce` remembers a nonce (default 5 minutes).
    pub fn set_nonce_window(&self, window: Duration) {
        self.shared.lock().nonce_window = window;
    }

    /// What `GET /gateway` answers (default `wss://gateway.discord.gg`).
    pub fn set_gateway_url(&self, url: &str) {
        self.shared.lock().gateway_url = url.to_string();
    }

    pub fn inject(&self, rule: FaultRule) {
        self.shared.lock().faults.push(rule);
    }

    pub fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }

    pub fn pending_faults(&self) -> usize {
        self.shared.lock().faults.pending()
    }

    // ---- records -----------------------------------------------------

    /// Every message of a channel or thread, in order, deleted ones included.
    pub fn messages(&self, channel_id: u64) -> Vec<DcMessage> {
        self.shared
            .lock()
            .messages
            .get(&channel_id)
            .cloned()
            .unwrap_or_default()
    }

    /// How many messages members see in a channel or thread, without
    /// copying them (benchmarks count while Crier runs).
    pub fn visible_count(&self, channel_id: u64) -> usize {
        self.shared
            .lock()
            .messages
            .get(&channel_id)
            .map_or(0, |m| m.iter().filter(|m| !m.deleted).count())
    }

    /// What members see in a channel or thread.
    pub fn visible(&self, channel_id: u64) -> Vec<DcMessage> {
        self.messages(channel_id)
            .into_iter()
            .filter(|m| !m.deleted)
            .collect()
    }

    pub fn message(&self, message_id: u64) -> Option<DcMessage> {
        self.shared
            .lock()
            .messages
            .values()
            .flatten()
            .find(|m| m.id == message_id)
            .cloned()
    }

    /// Commands set with a bulk overwrite: `None` for global ones.
    pub fn commands(&self, guild_id: Option<u64>) -> Vec<Value> {
        self.shared
            .lock()
            .commands
            .get(&guild_id)
            .cloned()
            .unwrap_or_default()
    }

    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.lock().requests.clone()
    }

    /// Requests to one route (`create_message`, `execute_webhook`, ...).
    pub fn requests_to(&self, route: &str) -> Vec<RequestRecord> {
        self.requests()
            .into_iter()
            .filter(|r| r.name == route)
            .collect()
    }

    /// Invalid requests (401, 403, 429 except `shared` scope) so far.
    pub fn invalid_requests(&self) -> usize {
        self.shared.lock().invalid.len()
    }

    /// Invalid requests within the last `window` (Discord bans an IP at
    /// 10,000 per 10 minutes).
    pub fn invalid_requests_within(&self, window: Duration) -> usize {
        let now = self.shared.clock.now();
        self.shared
            .lock()
            .invalid
            .iter()
            .filter(|t| crate::clock::since(now, **t) <= window)
            .count()
    }
}

fn interaction_token(id: u64) -> String {
    format!("aW50ZXJhY3Rpb246{id}:{}", webhook_token(id ^ 0x5a5a))
}

/// A 68-character webhook token (serenity's `parse_webhook` wants 60-68).
fn webhook_token(seed: u64) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut x = seed ^ 0x9e37_79b9_7f4a_7c15;
    let mut s = String::from("FAKE");
    while s.len() < 68 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.push(ALPHABET[(x % 64) as usize] as char);
    }
    s
}
