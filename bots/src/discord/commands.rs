//! The Discord front-end of the command layer: one slash command per
//! [`COMMANDS`] entry (registered per guild when `guild_id` is set, else
//! globally), received over the gateway with serenity's client, answered
//! within Discord's 3-second interaction window, Confirm/Cancel as buttons,
//! alerts to a channel or each admin's direct messages.
//!
//! Who does what:
//! - serenity runs the gateway (HELLO, IDENTIFY with no intents, heartbeats,
//!   reconnects) and turns `INTERACTION_CREATE` into typed interactions.
//!   Its `Http` is used for nothing but `GET /gateway` at start: it is built
//!   with its rate limiter off (with the limiter on, serenity#1739 ignores
//!   the proxy setting that points it at `api_url`).
//! - Every other request (command registration, interaction callbacks,
//!   `@original` edits, follow-ups, DMs, alerts) goes through Crier's own
//!   [`RestClient`] and its rate limiter, as deliveries do: one code path in
//!   tests and production, where only the URLs differ.
//!
//! Answers are ephemeral (only the caller sees them, as in a private chat
//! with the Telegram bot), escape markdown and never ping anyone
//! (`allowed_mentions: {"parse": []}` on every message). A command whose
//! answer is not ready after [`DEFER_AFTER`] is deferred (response type 5,
//! "thinking…") and its answer then replaces the deferred response; the rest
//! of a reply (previews, long texts) follows as follow-up messages.
//!
//! This file: the front-end, the gateway, commands and buttons in, DMs
//! and alerts out. `definitions.rs`: the slash commands as registered;
//! `replies.rs`: replies as messages and the interaction responses;
//! `markdown.rs`: `/post`'s markdown as HTML; `files.rs`: attachments.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use serenity::all::{
    ClientBuilder, CommandDataOptionValue, CommandInteraction, ComponentInteraction, Context,
    EventHandler, GatewayIntents, Interaction, Ready, User,
};
use serenity::http::HttpBuilder;
use tokio_util::sync::CancellationToken;
use url::Url;

use super::ratelimit::Settings;
use super::rest::{RestClient, RestError};
use crate::commands::{COMMANDS, Caller, Cmd, Handler, Notifier, Reply, Role, parse_args};

mod definitions;
mod files;
mod markdown;
mod replies;

pub use definitions::command_definitions;
use definitions::options_of;
pub use markdown::markdown_html;
pub use replies::reply_messages;
use replies::{no_pings, text_chunks, text_message};

/// Answer at once when the command's reply is ready within this; else
/// defer. Discord drops a response that arrives later than 3 s after the
/// interaction: this leaves time for the callback itself.
pub const DEFER_AFTER: Duration = Duration::from_millis(1500);
/// Message flag: only the caller sees it.
const EPHEMERAL: u64 = 1 << 6;
/// How often a rate-limited reply is retried.
const RETRIES: usize = 3;

/// The front-end's settings (from `[discord]`).
#[derive(Debug, Clone, Default)]
pub struct FrontendOptions {
    /// Admin user ids: alerts go to their direct messages.
    pub admins: Vec<i64>,
    /// The application id; default: asked from `GET /applications/@me`.
    pub application_id: Option<i64>,
    /// Register the commands in this guild (they show at once) instead of
    /// globally.
    pub guild_id: Option<i64>,
    /// A channel for alerts instead of the admins' direct messages.
    pub alerts_channel: Option<i64>,
}

pub struct DiscordFrontend {
    rest: Arc<RestClient>,
    /// For serenity's gateway connection only.
    token: String,
    api_url: Url,
    handler: Arc<dyn Handler>,
    opts: FrontendOptions,
    app_id: OnceLock<u64>,
    /// Direct-message channels by user.
    dms: Mutex<HashMap<u64, String>>,
}

impl std::fmt::Debug for DiscordFrontend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token.
        write!(f, "DiscordFrontend({})", self.api_url)
    }
}

fn caller_of(user: &User, roles: Vec<i64>) -> Caller {
    Caller {
        platform: "discord",
        user_id: i64::try_from(user.id.get()).unwrap_or(i64::MAX),
        name: user
            .global_name
            .clone()
            .unwrap_or_else(|| user.name.clone()),
        roles,
    }
}

fn is_rate_limited(e: &RestError) -> bool {
    matches!(e, RestError::Status { status: 429, .. })
}

/// The `api_url` without its `/api` (serenity appends `/api/v10/...`):
/// `None` for Discord itself.
fn serenity_proxy(api_url: &Url) -> Option<String> {
    let s = api_url.as_str().trim_end_matches('/');
    let base = s.strip_suffix("/api").unwrap_or(s);
    (base != "https://discord.com").then(|| base.to_string())
}

impl DiscordFrontend {
    /// A front-end on its own REST client (its own limiter: interaction
    /// endpoints are outside Discord's global limit, and a delivery backlog
    /// must not hold a reply past the 3-second window).
    pub fn new(
        token: &str,
        api_url: &Url,
        settings: Settings,
        opts: FrontendOptions,
        handler: Arc<dyn Handler>,
    ) -> Result<Arc<DiscordFrontend>, String> {
        let rest = RestClient::new(
            api_url,
            Some(token.to_string()),
            settings,
            Duration::from_secs(30),
        )?;
        Ok(Arc::new(DiscordFrontend {
            rest: Arc::new(rest),
            token: token.to_string(),
            api_url: api_url.clone(),
            handler,
            app_id: OnceLock::new(),
            opts,
            dms: Mutex::new(HashMap::new()),
        }))
    }

    /// The application id: configured, or asked once.
    async fn application_id(&self) -> Option<u64> {
        if let Some(a) = self.app_id.get() {
            return Some(*a);
        }
        let id = match self.opts.application_id.and_then(|a| u64::try_from(a).ok()) {
            Some(a) => a,
            None => match self.rest.current_application().await {
                Ok(v) => match v.get("id") {
                    Some(Value::String(s)) => s.parse().ok()?,
                    Some(Value::Number(n)) => n.as_u64()?,
                    _ => return None,
                },
                Err(e) => {
                    tracing::warn!(error = %crate::scrub::scrub(&e.to_string()), "cannot read the Discord application id");
                    return None;
                }
            },
        };
        Some(*self.app_id.get_or_init(|| id))
    }

    async fn register_commands(&self, app: u64) {
        let guild = self.opts.guild_id.and_then(|g| u64::try_from(g).ok());
        let defs = command_definitions(guild.is_none());
        match self.rest.bulk_overwrite_commands(app, guild, &defs).await {
            Ok(_) => tracing::info!(
                commands = COMMANDS.len(),
                guild = ?guild,
                "Discord slash commands registered{}",
                if guild.is_none() { " globally (they may take a while to show)" } else { "" }
            ),
            Err(e) => {
                tracing::warn!(error = %crate::scrub::scrub(&e.to_string()), "cannot register the Discord slash commands")
            }
        }
    }

    /// Connect to the gateway and answer commands until `shutdown`.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        let mut backoff = Duration::from_secs(1);
        let app = loop {
            if let Some(a) = self.application_id().await {
                break a;
            }
            // Once, after the first failure: is it the token?
            if backoff == Duration::from_secs(1)
                && self.app_id.get().is_none()
                && let Err(RestError::Status { status: 401, .. }) =
                    self.rest.current_application().await
            {
                // Retrying cannot help: say it once, stop listening.
                tracing::error!(
                    "Discord rejects the bot token (401): slash commands are off until it is fixed ({})",
                    crate::check::hint("unauthorized", "").unwrap_or_default()
                );
                return;
            }
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = shutdown.cancelled() => return,
            }
            backoff = (backoff * 2).min(Duration::from_secs(60));
        };
        self.register_commands(app).await;
        backoff = Duration::from_secs(1);
        loop {
            let mut http = HttpBuilder::new(&self.token)
                .application_id(app.into())
                .ratelimiter_disabled(true);
            if let Some(p) = serenity_proxy(&self.api_url) {
                http = http.proxy(p);
            }
            // Slash commands need no intent: interactions always arrive.
            let built = ClientBuilder::new_with_http(http.build(), GatewayIntents::empty())
                .event_handler(Events(self.clone()))
                .await;
            let started = Instant::now();
            match built {
                Ok(mut client) => {
                    let shards = client.shard_manager.clone();
                    tokio::select! {
                        r = client.start() => {
                            if let Err(e) = r {
                                tracing::warn!(error = %crate::scrub::scrub(&e.to_string()), "the Discord gateway connection stopped; reconnecting");
                            }
                        }
                        _ = shutdown.cancelled() => {
                            shards.shutdown_all().await;
                            return;
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %crate::scrub::scrub(&e.to_string()), "cannot set up the Discord gateway client")
                }
            }
            if started.elapsed() > Duration::from_secs(300) {
                backoff = Duration::from_secs(1);
            }
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = shutdown.cancelled() => return,
            }
            backoff = (backoff * 2).min(Duration::from_secs(60));
        }
    }

    /// A request, retried (the limiter waits out the 429) a few times.
    async fn retrying<T, F, Fut>(&self, mut request: F) -> Result<T, RestError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, RestError>>,
    {
        let mut attempt = 0;
        loop {
            match request().await {
                Err(e) if is_rate_limited(&e) && attempt < RETRIES => attempt += 1,
                other => return other,
            }
        }
    }

    /// The command and its options as a [`Cmd`]; `Err`: a usage line.
    fn command_of(&self, ci: &CommandInteraction) -> Result<Cmd, String> {
        let name = ci.data.name.as_str();
        let now = chrono::Utc::now();
        let tz = self.handler.timezone();
        let value = |o: &str| ci.data.options.iter().find(|x| x.name == o);
        if name == "import" {
            return Ok(files::import_of(ci));
        }
        if name == "post" {
            let text = value("text")
                .and_then(|o| o.value.as_str())
                .unwrap_or("")
                .to_string();
            let image = value("attachment")
                .and_then(|o| match &o.value {
                    CommandDataOptionValue::Attachment(id) => ci.data.resolved.attachments.get(id),
                    _ => None,
                })
                .map(|a| {
                    let image = a
                        .content_type
                        .as_deref()
                        .is_some_and(|t| t.starts_with("image/"));
                    (image, a.url.clone())
                });
            let image = match image {
                Some((true, url)) => Some(url),
                Some((false, _)) => return Err("Only images can be attached to /post.".into()),
                None => None,
            };
            let targets = value("targets")
                .and_then(|o| o.value.as_str())
                .map(|t| t.split_whitespace().map(str::to_string).collect())
                .unwrap_or_default();
            return Ok(Cmd::Post {
                html: markdown_html(&text),
                image,
                targets,
                source: format!("discord:{}", ci.id.get()),
            });
        }
        let mut args = Vec::new();
        for o in options_of(name) {
            let Some(v) = value(o.name) else { continue };
            match &v.value {
                CommandDataOptionValue::String(s) if o.name == "targets" => {
                    args.extend(s.split_whitespace().map(str::to_string));
                }
                CommandDataOptionValue::String(s) => args.push(s.trim().to_string()),
                CommandDataOptionValue::Integer(n) => args.push(n.to_string()),
                _ => {}
            }
        }
        parse_args(name, &args, now, tz)
    }

    async fn on_command(self: Arc<Self>, ci: CommandInteraction) {
        let roles = ci
            .member
            .as_ref()
            .map(|m| {
                m.roles
                    .iter()
                    .filter_map(|r| i64::try_from(r.get()).ok())
                    .collect()
            })
            .unwrap_or_default();
        let caller = caller_of(&ci.user, roles);
        let parsed = self.command_of(&ci);
        let me = self.clone();
        let c = caller.clone();
        let work = tokio::spawn(async move {
            match parsed {
                Ok(cmd) => me.handler.handle(&c, cmd).await,
                // Usage help for people allowed to use the bot; a stranger
                // gets the (rate-limited) refusal.
                Err(usage) if me.handler.role(&c) >= Role::Editor => Some(Reply::text(usage)),
                Err(_) => me.handler.handle(&c, Cmd::Status).await,
            }
        });
        self.respond(ci.id.get(), &ci.token, caller, work).await;
    }

    async fn on_component(self: Arc<Self>, ci: ComponentInteraction) {
        let roles = ci
            .member
            .as_ref()
            .map(|m| {
                m.roles
                    .iter()
                    .filter_map(|r| i64::try_from(r.get()).ok())
                    .collect()
            })
            .unwrap_or_default();
        let caller = caller_of(&ci.user, roles);
        let Some(app) = self.application_id().await else {
            return;
        };
        let token = ci.token.clone();
        // Acknowledge at once and take the buttons off the question: the
        // choice is made (only the caller sees an ephemeral message).
        let ack = json!({"type": 7, "data": {"components": []}});
        if let Err(e) = self
            .rest
            .interaction_callback(ci.id.get(), &token, &ack)
            .await
        {
            tracing::warn!(error = %crate::scrub::scrub(&e.to_string()), "cannot acknowledge a Discord button");
            return;
        }
        let started = Instant::now();
        let reply = self.handler.button(&caller, &ci.data.custom_id).await;
        if reply.refused && reply.text.is_empty() {
            return;
        }
        self.followups(app, &token, reply_messages(&reply, EPHEMERAL).into_iter())
            .await;
        self.report_later(app, token, started, caller, reply);
    }

    /// The DM channel with a user (cached).
    async fn dm_channel(&self, user: u64) -> Option<String> {
        if let Some(c) = self
            .dms
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&user)
        {
            return Some(c.clone());
        }
        match self.retrying(|| self.rest.create_dm(user)).await {
            Ok(c) => {
                self.dms
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(user, c.clone());
                Some(c)
            }
            Err(e) => {
                tracing::warn!(user, error = %crate::scrub::scrub(&e.to_string()), "cannot open a Discord DM");
                None
            }
        }
    }

    async fn send_to(&self, channel: &str, msgs: &[Value]) {
        for m in msgs {
            // Buttons in a channel message would outlive their interaction.
            let mut m = m.clone();
            if let Value::Object(o) = &mut m {
                o.remove("components");
            }
            if let Err(e) = self
                .retrying(|| self.rest.create_message(channel, &m))
                .await
            {
                tracing::warn!(channel, error = %crate::scrub::scrub(&e.to_string()), "cannot send a Discord message");
            }
        }
    }

    async fn direct(&self, user: u64, msgs: &[Value]) {
        if let Some(c) = self.dm_channel(user).await {
            self.send_to(&c, msgs).await;
        }
    }
}

struct Events(Arc<DiscordFrontend>);

#[serenity::async_trait]
impl EventHandler for Events {
    async fn ready(&self, _ctx: Context, ready: Ready) {
        tracing::info!(bot = %ready.user.name, "Discord commands: listening");
    }

    async fn interaction_create(&self, _ctx: Context, interaction: Interaction) {
        let fe = self.0.clone();
        match interaction {
            Interaction::Command(ci) => {
                crate::panics::spawn_contained("discord command", fe.on_command(ci));
            }
            Interaction::Component(ci) => {
                crate::panics::spawn_contained("discord button", fe.on_component(ci));
            }
            _ => {}
        }
    }
}

#[async_trait::async_trait]
impl Notifier for DiscordFrontend {
    async fn notify_admins(&self, text: &str) {
        let msgs: Vec<Value> = text_chunks(text)
            .into_iter()
            .map(|c| text_message(c, 0))
            .collect();
        match self.opts.alerts_channel {
            Some(c) => self.send_to(&c.to_string(), &msgs).await,
            None => {
                for a in &self.opts.admins {
                    if let Ok(user) = u64::try_from(*a) {
                        self.direct(user, &msgs).await;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serenity_goes_to_the_configured_api() {
        let u = |s: &str| Url::parse(s).expect("url");
        assert_eq!(serenity_proxy(&u("https://discord.com/api")), None);
        assert_eq!(
            serenity_proxy(&u("http://127.0.0.1:8080/api")),
            Some("http://127.0.0.1:8080".into())
        );
    }
}
