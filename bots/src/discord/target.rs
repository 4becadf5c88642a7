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
//!
//! This file: the [`Target`] impl and the calls. `payload.rs` builds the
//! JSON bodies, `errors.rs` classifies Discord's answers.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Map, Value, json};
use tokio::time::Instant;
use url::Url;

use super::rest::{CreatedMessage, RestClient, RestError, Webhook};
use crate::format::discord::{self as fmt_discord, DiscordMessage};
use crate::format::{FeedRenderOptions, TargetFormat};
use crate::model::Post;
use crate::target::{DeliveryError, MessageRef, Part, RenderError, SendCtx, Sent, Target};

mod errors;
mod payload;

pub use payload::{NONCE_LIMIT, THREAD_NAME_LIMIT, nonce, thread_name};

/// Crossposts Discord allows per announcement channel and hour.
pub const CROSSPOSTS_PER_HOUR: usize = 10;

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

    /// Test hook: how many crossposts the hourly budget counts now.
    pub fn crossposts_this_hour(&self) -> usize {
        self.crossposts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }
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

    /// Bot channels share the bot's global budget; a webhook's limits are
    /// its own.
    fn sender(&self) -> String {
        match self.dest {
            Dest::Channel { .. } => "discord".into(),
            Dest::Webhook { .. } => format!("discord_webhook:{}", self.name),
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

    fn render(&self, post: &Post, feed: &FeedRenderOptions) -> Result<Vec<Part>, RenderError> {
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

    pub(super) fn rest() -> Arc<RestClient> {
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

    pub(super) fn bot(opts: DiscordOptions) -> DiscordTarget {
        DiscordTarget::bot("b", TargetFormat::default(), rest(), 123, opts)
    }

    pub(super) fn hook_with(format: TargetFormat, opts: DiscordOptions) -> DiscordTarget {
        let url = Url::parse(
            "https://discord.com/api/webhooks/123456789012345678/SECRET-webhook-token_0123456789",
        )
        .expect("url");
        DiscordTarget::webhook("w", format, rest(), &url, opts).expect("hook")
    }

    pub(super) fn hook(opts: DiscordOptions) -> DiscordTarget {
        hook_with(TargetFormat::default(), opts)
    }

    pub(super) fn status(status: u16, code: Option<u64>) -> RestError {
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
}
