//! The Discord targets: a bot posting in a channel, or a webhook.
//!
//! Both go through one shared [`RestClient`] (and so one rate limiter and
//! one invalid-request guard, which Discord counts per IP). The formatter's
//! [`DiscordMessage`] is the stored part; this adapter adds, at send time,
//! what depends on the target: `allowed_mentions`, `flags`, the role ping,
//! `nonce` + `enforce_nonce` (bot), `username` / `avatar_url` /
//! `thread_name` / `applied_tags` (webhook).
//!
//! Message references ([`MessageRef::id`]) are `channel:message` for bot
//! messages and `message` or `message@thread` for webhook messages (what
//! the edit and delete calls need).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Map, Value, json};
use serenity::model::channel::MessageFlags;
use tokio::time::Instant;
use url::Url;

use super::rest::{CreatedMessage, RestClient, RestError, Webhook};
use crate::format::discord::{self as fmt_discord, CONTENT_LIMIT, DiscordMessage};
use crate::format::{FeedFormat, TargetFormat};
use crate::model::Post;
use crate::target::{DeliveryError, MessageRef, Part, RenderError, SendCtx, Sent, Target};

/// Crossposts Discord allows per announcement channel and hour.
pub const CROSSPOSTS_PER_HOUR: usize = 10;
/// Longest forum thread name.
pub const THREAD_NAME_LIMIT: usize = 100;
/// Longest `nonce`.
pub const NONCE_LIMIT: usize = 25;

/// Discord JSON error codes that make a target unusable until someone
/// fixes the channel, the webhook, the bot's permissions or the config:
/// every further post would fail the same way.
const GONE_CODES: &[(u64, &str)] = &[
    (10003, "the channel was deleted or the id is wrong"),
    (10004, "the bot is not in that server"),
    (10015, "the webhook was deleted"),
    (50001, "the bot cannot see the channel"),
    (
        50013,
        "the bot lacks a permission there (View Channel, Send Messages, Embed Links)",
    ),
    (50027, "the webhook URL's token is wrong"),
    (
        50008,
        "the channel is not a text channel (a forum needs a webhook with `forum = true`)",
    ),
    (
        220001,
        "the webhook posts to a forum channel: set `forum = true` or `thread_id`",
    ),
    (
        220002,
        "a forum webhook takes `forum` or `thread_id`, not both",
    ),
    (
        220003,
        "`forum = true` but the webhook's channel is not a forum",
    ),
    (40067, "the forum requires a tag: set `applied_tags`"),
];

/// Per-target posting options (from the target's config section).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiscordOptions {
    /// `SUPPRESS_NOTIFICATIONS`: post without a push notification.
    pub silent: bool,
    /// `SUPPRESS_EMBEDS` on messages without an embed of ours (plain
    /// style): hide the link previews of URLs in the text.
    pub suppress_embeds: bool,
    /// A role mentioned (and pinged) with each post: the only mention ever
    /// allowed.
    pub ping_role: Option<u64>,
    /// Bot targets in announcement channels: publish each message to the
    /// following servers (within Discord's hourly budget).
    pub crosspost: bool,
    /// Webhook: the name shown as author.
    pub username: Option<String>,
    /// Webhook: the avatar shown.
    pub avatar_url: Option<String>,
    /// Webhook: post into this thread.
    pub thread_id: Option<u64>,
    /// Webhook to a forum channel: each post opens a thread named after the
    /// article title (one message per post).
    pub forum: bool,
    /// Forum: tag ids applied to each new thread.
    pub applied_tags: Vec<u64>,
}

enum Dest {
    Channel { channel: String },
    Webhook { hook: Webhook },
}

/// A Discord channel (bot) or webhook target.
pub struct DiscordTarget {
    name: String,
    format: TargetFormat,
    rest: Arc<RestClient>,
    dest: Dest,
    opts: DiscordOptions,
    crossposts: Mutex<VecDeque<Instant>>,
    /// An alert for the engine to pick up (the guard tripped).
    alert: Mutex<Option<String>>,
}

impl std::fmt::Debug for DiscordTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the webhook token (Webhook's Debug hides it) or the bot token.
        let dest = match &self.dest {
            Dest::Channel { channel } => format!("channel {channel}"),
            Dest::Webhook { hook } => format!("{hook:?}"),
        };
        write!(f, "DiscordTarget({:?}, {dest})", self.name)
    }
}

/// What a create/edit request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Send,
    Edit,
    Delete,
}

/// Where a message sits, from its [`MessageRef`].
#[derive(Debug, Clone, PartialEq, Eq)]
enum Located {
    Channel {
        channel: String,
        message: String,
    },
    Webhook {
        message: String,
        thread: Option<String>,
    },
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit())
}

impl DiscordTarget {
    /// A bot posting in `channel`. `rest` must carry the bot token.
    pub fn bot(
        name: impl Into<String>,
        format: TargetFormat,
        rest: Arc<RestClient>,
        channel: u64,
        opts: DiscordOptions,
    ) -> DiscordTarget {
        DiscordTarget {
            name: name.into(),
            format,
            rest,
            dest: Dest::Channel {
                channel: channel.to_string(),
            },
            opts,
            crossposts: Mutex::new(VecDeque::new()),
            alert: Mutex::new(None),
        }
    }

    /// A webhook (`https://discord.com/api/webhooks/ID/TOKEN`). Forum
    /// targets post one message per article (`max_parts` is 1): every
    /// message would otherwise open a thread of its own.
    pub fn webhook(
        name: impl Into<String>,
        mut format: TargetFormat,
        rest: Arc<RestClient>,
        url: &Url,
        opts: DiscordOptions,
    ) -> Result<DiscordTarget, String> {
        let hook = Webhook::parse(url)?;
        if opts.forum {
            format.max_parts = 1;
        }
        Ok(DiscordTarget {
            name: name.into(),
            format,
            rest,
            dest: Dest::Webhook { hook },
            opts,
            crossposts: Mutex::new(VecDeque::new()),
            alert: Mutex::new(None),
        })
    }

    fn is_webhook(&self) -> bool {
        matches!(self.dest, Dest::Webhook { .. })
    }

    /// The request body: the formatter's message plus the target's rules.
    fn body(&self, m: &DiscordMessage, op: Op, extra: &Map<String, Value>) -> Value {
        let mut o = match serde_json::to_value(m) {
            Ok(Value::Object(o)) => o,
            _ => Map::new(),
        };
        // The role is pinged by a post's first message only.
        let role = self
            .opts
            .ping_role
            .filter(|_| !extra.contains_key("part_index"));
        let content = with_role_ping(m.content.as_deref(), role);
        match (op, content) {
            (_, Some(c)) => {
                o.insert("content".into(), Value::String(c));
            }
            (Op::Edit, None) => {
                o.insert("content".into(), Value::String(String::new()));
            }
            _ => {}
        }
        if op == Op::Edit {
            // An edit replaces the message: clear what the new form lacks.
            o.entry("embeds").or_insert_with(|| json!([]));
            o.entry("components").or_insert_with(|| json!([]));
        }
        o.insert(
            "allowed_mentions".into(),
            match role {
                Some(r) => json!({"parse": [], "roles": [r.to_string()]}),
                None => json!({"parse": []}),
            },
        );
        let suppress = self.opts.suppress_embeds && m.embeds.is_empty();
        let mut flags = MessageFlags::empty();
        if suppress {
            flags |= MessageFlags::SUPPRESS_EMBEDS;
        }
        // Only SUPPRESS_EMBEDS can be changed by an edit.
        if self.opts.silent && op == Op::Send {
            flags |= MessageFlags::SUPPRESS_NOTIFICATIONS;
        }
        if !flags.is_empty() {
            o.insert("flags".into(), json!(flags.bits()));
        }
        if op == Op::Send && self.is_webhook() {
            if let Some(u) = &self.opts.username {
                o.insert("username".into(), json!(u));
            }
            if let Some(a) = &self.opts.avatar_url {
                o.insert("avatar_url".into(), json!(a));
            }
            if self.opts.forum {
                if let Some(n) = extra.get("thread_name") {
                    o.insert("thread_name".into(), n.clone());
                }
                if !self.opts.applied_tags.is_empty() {
                    let tags: Vec<String> =
                        self.opts.applied_tags.iter().map(u64::to_string).collect();
                    o.insert("applied_tags".into(), json!(tags));
                }
            }
        }
        Value::Object(o)
    }

    async fn create(
        &self,
        m: &DiscordMessage,
        extra: &Map<String, Value>,
        ctx: &SendCtx,
    ) -> Result<(CreatedMessage, MessageRef), RestError> {
        let mut body = self.body(m, Op::Send, extra);
        match &self.dest {
            Dest::Channel { channel } => {
                if let Value::Object(o) = &mut body {
                    o.insert("nonce".into(), json!(nonce(ctx.delivery_id, m)));
                    o.insert("enforce_nonce".into(), json!(true));
                }
                let c = self.rest.create_message(channel, &body).await?;
                let chan = if c.channel_id.is_empty() {
                    channel.clone()
                } else {
                    c.channel_id.clone()
                };
                let url = c
                    .guild_id
                    .as_ref()
                    .map(|g| format!("https://discord.com/channels/{g}/{chan}/{}", c.id));
                let r = MessageRef {
                    id: format!("{chan}:{}", c.id),
                    url,
                };
                Ok((c, r))
            }
            Dest::Webhook { hook } => {
                let thread = self.opts.thread_id.map(|t| t.to_string());
                let c = self
                    .rest
                    .execute_webhook(hook, &body, thread.as_deref())
                    .await?;
                // A forum post is a new thread: the message shows there.
                let thread = thread.or_else(|| {
                    (self.opts.forum && !c.channel_id.is_empty()).then(|| c.channel_id.clone())
                });
                let id = match &thread {
                    Some(t) => format!("{}@{t}", c.id),
                    None => c.id.clone(),
                };
                let url = c
                    .guild_id
                    .as_ref()
                    .map(|g| format!("https://discord.com/channels/{g}/{}/{}", c.channel_id, c.id));
                Ok((c, MessageRef { id, url }))
            }
        }
    }

    async fn patch(
        &self,
        at: &Located,
        m: &DiscordMessage,
        extra: &Map<String, Value>,
    ) -> Result<(), RestError> {
        let body = self.body(m, Op::Edit, extra);
        match (&self.dest, at) {
            (_, Located::Channel { channel, message }) => self
                .rest
                .edit_message(channel, message, &body)
                .await
                .map(|_| ()),
            (Dest::Webhook { hook }, Located::Webhook { message, thread }) => self
                .rest
                .edit_webhook_message(hook, message, &body, thread.as_deref())
                .await
                .map(|_| ()),
            // `locate` only yields webhook references for webhook targets.
            (Dest::Channel { .. }, Located::Webhook { .. }) => Err(RestError::Status {
                status: 400,
                code: None,
                message: "a webhook message cannot be edited by the bot".into(),
                errors: None,
                retry_after: None,
                global: false,
            }),
        }
    }

    fn locate(&self, r: &MessageRef) -> Result<Located, DeliveryError> {
        let bad = || {
            DeliveryError::Rejected(format!(
                "{:?} is not a Discord message reference of this target",
                r.id
            ))
        };
        match &self.dest {
            Dest::Channel { .. } => {
                let (c, m) = r.id.split_once(':').ok_or_else(bad)?;
                if !digits(c) || !digits(m) {
                    return Err(bad());
                }
                Ok(Located::Channel {
                    channel: c.into(),
                    message: m.into(),
                })
            }
            Dest::Webhook { .. } => {
                let (m, t) = match r.id.split_once('@') {
                    Some((m, t)) => (m, Some(t)),
                    None => (r.id.as_str(), None),
                };
                if !digits(m) || t.is_some_and(|t| !digits(t)) {
                    return Err(bad());
                }
                Ok(Located::Webhook {
                    message: m.into(),
                    thread: t.map(str::to_string),
                })
            }
        }
    }

    /// Publish a bot message to following channels; a failure only notes.
    async fn crosspost(&self, channel: &str, message: &str) -> Option<String> {
        let now = Instant::now();
        {
            let mut log = self.crossposts.lock().unwrap_or_else(|p| p.into_inner());
            while log
                .front()
                .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(3600))
            {
                log.pop_front();
            }
            if log.len() >= CROSSPOSTS_PER_HOUR {
                return Some(format!(
                    "not crossposted: Discord allows about {CROSSPOSTS_PER_HOUR} crossposts per channel per hour and they are used"
                ));
            }
            log.push_back(now);
        }
        match self.rest.crosspost(channel, message).await {
            Ok(()) => None,
            // Already published (a resend after an ambiguous answer).
            Err(RestError::Status {
                code: Some(40033), ..
            }) => None,
            Err(e) => {
                if let RestError::Guard { .. } = e {
                    self.report_guard(&e);
                }
                tracing::warn!(target_name = %self.name, error = %e, "crosspost failed; the post itself was delivered");
                Some(format!("not crossposted: {e}"))
            }
        }
    }

    fn report_guard(&self, e: &RestError) {
        if self.rest.limiter().take_guard_report() {
            *self.alert.lock().unwrap_or_else(|p| p.into_inner()) = Some(format!(
                "Discord's invalid-request guard tripped ({e}): every Discord request waits. Check the disabled targets and the bot's permissions."
            ));
            tracing::error!(target_name = %self.name, error = %e, "Discord invalid-request guard tripped: every Discord request waits (Discord bans an IP at 10,000 invalid requests in 10 minutes); check the disabled targets and the bot's permissions");
        }
    }

    /// Classify a failed call for the engine; every text is scrubbed of
    /// secrets.
    fn classify(&self, e: RestError, op: Op) -> DeliveryError {
        self.classify_raw(e, op).scrubbed()
    }

    fn classify_raw(&self, e: RestError, op: Op) -> DeliveryError {
        match e {
            RestError::Guard { wait, .. } => {
                self.report_guard(&e);
                DeliveryError::RateLimited {
                    retry_after: wait.max(Duration::from_secs(1)),
                }
            }
            RestError::Busy { wait } => DeliveryError::RateLimited { retry_after: wait },
            RestError::Network {
                sent: false,
                message,
            } => DeliveryError::Transient(format!("network error: {message}")),
            RestError::Network { sent: true, .. } | RestError::Decode(_) => {
                DeliveryError::Ambiguous(e.to_string())
            }
            RestError::Status {
                status,
                code,
                retry_after,
                ..
            } => {
                let text = e.to_string();
                if status == 429 {
                    return DeliveryError::RateLimited {
                        retry_after: Duration::from_secs_f64(
                            retry_after
                                .filter(|r| r.is_finite() && *r >= 0.0)
                                .unwrap_or(1.0)
                                .min(86_400.0),
                        ),
                    };
                }
                if let Some(c) = code
                    && let Some((_, why)) = GONE_CODES.iter().find(|(k, _)| *k == c)
                {
                    return DeliveryError::TargetGone(format!("{text} ({why})"));
                }
                if code == Some(10008) && op != Op::Send {
                    return DeliveryError::MessageGone(text);
                }
                match status {
                    401 => DeliveryError::TargetGone(format!(
                        "{text} (the bot token or the webhook URL was rejected)"
                    )),
                    403 => DeliveryError::TargetGone(text),
                    404 | 405 if code.unwrap_or(0) == 0 => DeliveryError::TargetGone(format!(
                        "{text} (no such API route: is [discord] api_url right?)"
                    )),
                    // A gateway timeout: the request may have been applied.
                    504 if op == Op::Send => DeliveryError::Ambiguous(text),
                    500..=599 | 408 => DeliveryError::Transient(text),
                    _ => DeliveryError::Rejected(text),
                }
            }
        }
    }

    fn read(part: &Part) -> Result<(DiscordMessage, Map<String, Value>), DeliveryError> {
        let m = DiscordMessage::from_payload(&part.payload).ok_or_else(|| {
            DeliveryError::Rejected("the stored part is not a Discord message".into())
        })?;
        let mut extra = Map::new();
        for k in ["thread_name", "part_index"] {
            if let Some(v) = part.payload.get(k) {
                extra.insert(k.into(), v.clone());
            }
        }
        Ok((m, extra))
    }

    fn invalid_form_body(&self, e: &RestError, ctx: &SendCtx, what: &str) -> Option<String> {
        let RestError::Status {
            code: Some(50035),
            errors,
            ..
        } = e
        else {
            return None;
        };
        let errors = errors
            .as_ref()
            .map(Value::to_string)
            .unwrap_or_else(|| "{}".into());
        tracing::error!(
            target_name = %self.name,
            article = %ctx.article,
            delivery = ctx.delivery_id,
            errors = %errors,
            "Discord rejected the {what} (50035 Invalid Form Body): a formatter bug; resending it in the minimal form"
        );
        Some(errors)
    }

    /// Test hook: how many crossposts the hourly budget counts now.
    pub fn crossposts_this_hour(&self) -> usize {
        self.crossposts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }
}

/// `content` with the role mention in front (cut to fit 2000).
fn with_role_ping(content: Option<&str>, role: Option<u64>) -> Option<String> {
    let Some(role) = role else {
        return content.map(str::to_string);
    };
    let mention = format!("<@&{role}>");
    let Some(c) = content.filter(|c| !c.trim().is_empty()) else {
        return Some(mention);
    };
    let room = CONTENT_LIMIT.saturating_sub(utf16_len(&mention) + 1);
    Some(format!("{mention}\n{}", cut_utf16(c, room)))
}

fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// At most `max` UTF-16 units, ending with `…` when cut.
fn cut_utf16(s: &str, max: usize) -> String {
    if utf16_len(s) <= max {
        return s.to_string();
    }
    let mut out = String::new();
    let mut n = 0;
    for ch in s.chars() {
        if n + ch.len_utf16() + 1 > max {
            break;
        }
        n += ch.len_utf16();
        out.push(ch);
    }
    // A cut between a backslash and the character it escapes would leave
    // a dangling escape.
    if out.ends_with('\\') {
        out.pop();
    }
    out.push('…');
    out
}

/// The forum thread name for a post: its title on one line, ≤ 100
/// characters.
pub fn thread_name(post: &Post) -> String {
    let one_line = post
        .label()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let one_line = if one_line.is_empty() {
        "New post".to_string()
    } else {
        one_line
    };
    if one_line.chars().count() <= THREAD_NAME_LIMIT {
        return one_line;
    }
    let mut s: String = one_line.chars().take(THREAD_NAME_LIMIT - 1).collect();
    s = s.trim_end().to_string();
    s.push('…');
    s
}

/// The `nonce` of a bot message: the delivery row id (one row per part,
/// stable across retries and restarts) plus a hash of the message, ≤ 25
/// characters. The hash keeps a recreated database's row 1 from matching
/// another post's nonce within Discord's de-duplication window.
pub fn nonce(delivery_id: i64, m: &DiscordMessage) -> String {
    let text = serde_json::to_string(m).unwrap_or_default();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut id = delivery_id.unsigned_abs();
    let mut digits = Vec::new();
    loop {
        let d = (id % 36) as u32;
        digits.push(char::from_digit(d, 36).unwrap_or('0'));
        id /= 36;
        if id == 0 {
            break;
        }
    }
    let id: String = digits.into_iter().rev().collect();
    let n = format!("c{id}.{:010x}", h & 0xff_ffff_ffff);
    n.chars().take(NONCE_LIMIT).collect()
}

#[async_trait::async_trait]
impl Target for DiscordTarget {
    fn name(&self) -> &str {
        &self.name
    }

    async fn check(&self) -> Vec<crate::check::Problem> {
        match &self.dest {
            Dest::Channel { channel } => super::check::check_channel(&self.rest, channel).await,
            Dest::Webhook { hook } => super::check::check_webhook(&self.rest, hook).await,
        }
    }

    fn platform(&self) -> &'static str {
        match self.dest {
            Dest::Channel { .. } => "discord",
            Dest::Webhook { .. } => "discord_webhook",
        }
    }

    /// Bot messages carry `nonce` + `enforce_nonce`: a resend returns the
    /// first message. Webhook executions have no nonce.
    fn take_alert(&self) -> Option<(String, String)> {
        self.alert
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .map(|t| {
                // One incident per 10-minute window (the guard's own window).
                let window = chrono::Utc::now().timestamp() / 600;
                (format!("discord-invalid-request-guard:{window}"), t)
            })
    }

    fn preview_request(&self, part: &Part) -> Value {
        let Ok((m, extra)) = Self::read(part) else {
            return json!({ "body": part.payload });
        };
        let mut body = self.body(&m, Op::Send, &extra);
        let path = match &self.dest {
            Dest::Channel { channel } => {
                if let Value::Object(o) = &mut body {
                    o.insert("nonce".into(), json!("<per delivery>"));
                    o.insert("enforce_nonce".into(), json!(true));
                }
                format!("/channels/{channel}/messages")
            }
            Dest::Webhook { hook } => {
                let mut p = format!(
                    "/webhooks/{}/<token>?wait=true&with_components=true",
                    hook.id
                );
                if let Some(t) = self.opts.thread_id {
                    p.push_str(&format!("&thread_id={t}"));
                }
                p
            }
        };
        json!({ "method": "POST", "path": path, "body": body })
    }

    fn idempotent_send(&self) -> bool {
        !self.is_webhook()
    }

    fn render(&self, post: &Post, feed: &FeedFormat) -> Result<Vec<Part>, RenderError> {
        let messages = fmt_discord::render(post, feed, &self.format)?;
        let thread = self.opts.forum.then(|| thread_name(post));
        Ok(messages
            .iter()
            .enumerate()
            .map(|(i, m)| {
                // Beside the message: what the adapter needs at send time
                // (`from_payload` ignores these keys).
                let mut p = m.to_part();
                if let Value::Object(o) = &mut p.payload {
                    match (i, &thread) {
                        (0, Some(t)) => {
                            o.insert("thread_name".into(), json!(t));
                        }
                        (0, None) => {}
                        _ => {
                            o.insert("part_index".into(), json!(i));
                        }
                    }
                }
                p
            })
            .collect())
    }

    async fn send(&self, part: &Part, ctx: &SendCtx) -> Result<Sent, DeliveryError> {
        let (m, extra) = Self::read(part)?;
        let (created, reference, mut note) = match self.create(&m, &extra, ctx).await {
            Ok((c, r)) => (c, r, None),
            Err(e) => {
                let Some(errors) = self.invalid_form_body(&e, ctx, "message") else {
                    return Err(self.classify(e, Op::Send));
                };
                let fallback = fmt_discord::minimal_fallback(&m);
                match self.create(&fallback, &extra, ctx).await {
                    Ok((c, r)) => (
                        c,
                        r,
                        Some(format!(
                            "Discord rejected the message (50035 Invalid Form Body: {errors}); sent in the minimal form"
                        )),
                    ),
                    Err(e2) => return Err(self.classify(e2, Op::Send)),
                }
            }
        };
        if self.opts.crosspost
            && let Dest::Channel { channel } = &self.dest
        {
            let chan = if created.channel_id.is_empty() {
                channel.as_str()
            } else {
                created.channel_id.as_str()
            };
            if let Some(n) = self.crosspost(chan, &created.id).await {
                note = Some(match note {
                    Some(prev) => format!("{prev}; {n}"),
                    None => n,
                });
            }
        }
        Ok(Sent {
            message: Some(reference),
            note,
        })
    }

    async fn edit(
        &self,
        message: &MessageRef,
        part: &Part,
        ctx: &SendCtx,
    ) -> Result<Sent, DeliveryError> {
        let at = self.locate(message)?;
        let (m, extra) = Self::read(part)?;
        let note = match self.patch(&at, &m, &extra).await {
            Ok(()) => None,
            Err(e) => {
                let Some(errors) = self.invalid_form_body(&e, ctx, "edit") else {
                    return Err(self.classify(e, Op::Edit));
                };
                let fallback = fmt_discord::minimal_fallback(&m);
                self.patch(&at, &fallback, &extra)
                    .await
                    .map_err(|e2| self.classify(e2, Op::Edit))?;
                Some(format!(
                    "Discord rejected the edit (50035 Invalid Form Body: {errors}); edited in the minimal form"
                ))
            }
        };
        Ok(Sent {
            message: Some(message.clone()),
            note,
        })
    }

    async fn delete(&self, message: &MessageRef, _ctx: &SendCtx) -> Result<(), DeliveryError> {
        let at = self.locate(message)?;
        let r = match (&self.dest, &at) {
            (_, Located::Channel { channel, message }) => {
                self.rest.delete_message(channel, message).await
            }
            (Dest::Webhook { hook }, Located::Webhook { message, thread }) => {
                self.rest
                    .delete_webhook_message(hook, message, thread.as_deref())
                    .await
            }
            (Dest::Channel { .. }, Located::Webhook { .. }) => {
                return Err(DeliveryError::Rejected(
                    "a webhook message cannot be deleted by the bot".into(),
                ));
            }
        };
        r.map_err(|e| self.classify(e, Op::Delete))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discord::ratelimit::Settings;

    fn rest() -> Arc<RestClient> {
        Arc::new(
            RestClient::new(
                &Url::parse("http://127.0.0.1:9/api").expect("url"),
                Some("tok".into()),
                Settings::default(),
                Duration::from_secs(1),
            )
            .expect("client"),
        )
    }

    fn bot(opts: DiscordOptions) -> DiscordTarget {
        DiscordTarget::bot("b", TargetFormat::default(), rest(), 123, opts)
    }

    fn hook_with(format: TargetFormat, opts: DiscordOptions) -> DiscordTarget {
        let url = Url::parse(
            "https://discord.com/api/webhooks/123456789012345678/SECRET-webhook-token_0123456789",
        )
        .expect("url");
        DiscordTarget::webhook("w", format, rest(), &url, opts).expect("hook")
    }

    fn hook(opts: DiscordOptions) -> DiscordTarget {
        hook_with(TargetFormat::default(), opts)
    }

    fn status(status: u16, code: Option<u64>) -> RestError {
        RestError::Status {
            status,
            code,
            message: "m".into(),
            errors: None,
            retry_after: None,
            global: false,
        }
    }

    #[test]
    fn nonces_fit_and_are_stable() {
        let m = DiscordMessage {
            content: Some("x".into()),
            ..Default::default()
        };
        let n = nonce(i64::MAX, &m);
        assert!(n.chars().count() <= NONCE_LIMIT, "{n}");
        assert_eq!(n, nonce(i64::MAX, &m), "stable across retries");
        assert_ne!(nonce(1, &m), nonce(2, &m), "one per delivery row");
        let other = DiscordMessage {
            content: Some("y".into()),
            ..Default::default()
        };
        assert_ne!(nonce(1, &m), nonce(1, &other));
        assert!(nonce(1, &m).starts_with("c1."));
    }

    #[test]
    fn mentions_flags_and_role_pings() {
        let plain = DiscordMessage {
            content: Some("@\u{200B}everyone news".into()),
            ..Default::default()
        };
        let t = bot(DiscordOptions {
            silent: true,
            suppress_embeds: true,
            ..Default::default()
        });
        let b = t.body(&plain, Op::Send, &Map::new());
        assert_eq!(b["allowed_mentions"], json!({"parse": []}));
        assert_eq!(b["flags"], json!((1 << 12) | (1 << 2)));
        // An edit may change SUPPRESS_EMBEDS only.
        let b = t.body(&plain, Op::Edit, &Map::new());
        assert_eq!(b["flags"], json!(1 << 2));
        assert_eq!(b["embeds"], json!([]));

        // Our own embed is never suppressed.
        let embed = DiscordMessage {
            embeds: vec![Default::default()],
            ..Default::default()
        };
        let b = t.body(&embed, Op::Send, &Map::new());
        assert_eq!(b["flags"], json!(1 << 12));

        let t = bot(DiscordOptions {
            ping_role: Some(42),
            ..Default::default()
        });
        let b = t.body(&embed, Op::Send, &Map::new());
        assert_eq!(b["content"], json!("<@&42>"));
        assert_eq!(b["allowed_mentions"], json!({"parse": [], "roles": ["42"]}));
        assert!(b.get("flags").is_none());
        let long = DiscordMessage {
            content: Some("é".repeat(2000)),
            ..Default::default()
        };
        let b = t.body(&long, Op::Send, &Map::new());
        let c = b["content"].as_str().unwrap_or("");
        assert!(c.starts_with("<@&42>\n"));
        assert!(c.encode_utf16().count() <= CONTENT_LIMIT);
    }

    #[test]
    fn webhook_bodies_and_forum_threads() {
        let full = TargetFormat {
            mode: crate::format::Mode::Full,
            ..TargetFormat::default()
        };
        let forum = DiscordOptions {
            username: Some("News".into()),
            avatar_url: Some("https://x.example/a.png".into()),
            forum: true,
            applied_tags: vec![7, 8],
            ..Default::default()
        };
        let post = Post {
            title: format!("{}   tail", "word ".repeat(40)),
            content_html: Some("<p>A long sentence of the article body.</p>".repeat(400)),
            link: Some("https://x.example/a".into()),
            ..Default::default()
        };
        let ff = FeedFormat::default();
        let channel = hook_with(
            full.clone(),
            DiscordOptions {
                ping_role: Some(9),
                ..Default::default()
            },
        );
        let parts = channel.render(&post, &ff).expect("render");
        assert!(parts.len() > 1);
        // The role is pinged by the first message only, edits included.
        for op in [Op::Send, Op::Edit] {
            let bodies: Vec<Value> = parts
                .iter()
                .map(|p| {
                    let (m, extra) = DiscordTarget::read(p).expect("read");
                    channel.body(&m, op, &extra)
                })
                .collect();
            assert_eq!(bodies[0]["allowed_mentions"]["roles"], json!(["9"]));
            assert_eq!(bodies[0]["content"], json!("<@&9>"));
            for b in &bodies[1..] {
                assert_eq!(b["allowed_mentions"], json!({"parse": []}));
                assert!(!b.to_string().contains("<@&9>"));
                assert!(b.get("part_index").is_none(), "not sent to Discord");
            }
        }
        let t = hook_with(full, forum);
        let parts = t.render(&post, &ff).expect("render");
        assert_eq!(parts.len(), 1, "one message per forum post");
        let name = parts[0].payload["thread_name"].as_str().unwrap_or("");
        assert!(name.chars().count() <= THREAD_NAME_LIMIT && name.ends_with('…'));
        let (m, extra) = DiscordTarget::read(&parts[0]).expect("read");
        let b = t.body(&m, Op::Send, &extra);
        assert_eq!(b["thread_name"], json!(name));
        assert_eq!(b["applied_tags"], json!(["7", "8"]));
        assert_eq!(b["username"], json!("News"));
        assert_eq!(b["avatar_url"], json!("https://x.example/a.png"));
        assert!(b.get("nonce").is_none(), "webhooks have no nonce");
        let e = t.body(&m, Op::Edit, &extra);
        assert!(e.get("thread_name").is_none() && e.get("username").is_none());
        assert!(!t.idempotent_send());
        assert!(bot(DiscordOptions::default()).idempotent_send());
        assert!(!format!("{t:?}").contains("SECRET"), "{t:?}");
    }

    #[test]
    fn message_references() {
        let b = bot(DiscordOptions::default());
        let r = |id: &str| MessageRef {
            id: id.into(),
            url: None,
        };
        assert_eq!(
            b.locate(&r("1:2")),
            Ok(Located::Channel {
                channel: "1".into(),
                message: "2".into()
            })
        );
        assert!(b.locate(&r("2")).is_err());
        let w = hook(DiscordOptions::default());
        assert_eq!(
            w.locate(&r("5@9")),
            Ok(Located::Webhook {
                message: "5".into(),
                thread: Some("9".into())
            })
        );
        assert!(w.locate(&r("5@x")).is_err());
    }

    #[test]
    fn classification() {
        let t = bot(DiscordOptions::default());
        for code in [10003, 10015, 50001, 50013] {
            let s = if code < 50000 { 404 } else { 403 };
            assert!(matches!(
                t.classify(status(s, Some(code)), Op::Send),
                DeliveryError::TargetGone(_)
            ));
        }
        assert!(matches!(
            t.classify(status(401, Some(0)), Op::Send),
            DeliveryError::TargetGone(_)
        ));
        let mut limited = status(429, None);
        if let RestError::Status { retry_after, .. } = &mut limited {
            *retry_after = Some(2.5);
        }
        assert_eq!(
            t.classify(limited, Op::Send),
            DeliveryError::RateLimited {
                retry_after: Duration::from_millis(2500)
            }
        );
        assert!(matches!(
            t.classify(status(502, Some(0)), Op::Send),
            DeliveryError::Transient(_)
        ));
        assert!(matches!(
            t.classify(status(504, Some(0)), Op::Send),
            DeliveryError::Ambiguous(_)
        ));
        assert!(matches!(
            t.classify(status(404, Some(10008)), Op::Edit),
            DeliveryError::MessageGone(_)
        ));
        assert!(matches!(
            t.classify(status(404, Some(10008)), Op::Delete),
            DeliveryError::MessageGone(_)
        ));
        assert!(matches!(
            t.classify(status(400, Some(50006)), Op::Send),
            DeliveryError::Rejected(_)
        ));
        assert!(matches!(
            t.classify(
                RestError::Network {
                    sent: false,
                    message: "refused".into()
                },
                Op::Send
            ),
            DeliveryError::Transient(_)
        ));
        assert!(matches!(
            t.classify(
                RestError::Network {
                    sent: true,
                    message: "closed".into()
                },
                Op::Send
            ),
            DeliveryError::Ambiguous(_)
        ));
        assert!(matches!(
            t.classify(
                RestError::Guard {
                    count: 1000,
                    wait: Duration::from_secs(30)
                },
                Op::Send
            ),
            DeliveryError::RateLimited { .. }
        ));
    }
}
