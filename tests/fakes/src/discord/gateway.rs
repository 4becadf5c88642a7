//! The fake Discord gateway: a websocket on 127.0.0.1 that speaks the v10
//! protocol as far as a bot answering slash commands needs, and lets a test
//! run commands and click buttons as a user would.
//!
//! Protocol (discord-api-docs docs/events/gateway.md): the server sends op
//! 10 HELLO `{heartbeat_interval}`; the client sends op 2 IDENTIFY `{token,
//! intents, properties, shard}` (a wrong token closes with 4004, a second
//! IDENTIFY with 4005); the server answers op 0 READY `{v, user, guilds,
//! session_id, resume_gateway_url, shard, application}`; op 1 heartbeats are
//! answered with op 11; a RESUME (op 6) gets op 9 INVALID_SESSION `false`
//! (the client identifies again). Dispatches are op 0 with a sequence
//! number `s` and the event name `t`.
//!
//! `INTERACTION_CREATE` payloads follow the interaction object of
//! docs/interactions/receiving-and-responding.md: `id`, `application_id`,
//! `type` (2 slash command, 3 component), `data`, `guild_id` + `member`
//! (with the member's `roles`) in a guild or `user` in DMs, `channel_id`,
//! `token`, `version`, `app_permissions`, `locale`, `entitlements`,
//! `context`, `attachment_size_limit`. Options are typed from the command
//! as the app registered it: a command or option that was not registered
//! cannot be run, as in Discord's client.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use futures::{SinkExt, StreamExt};
use serde_json::{Map, Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::{
    Access, ChannelKind, DcChannel, DcInteraction, DcMessage, FakeDiscord, Shared, State, handlers,
    interaction_token,
};

/// The heartbeat interval HELLO announces.
pub const HEARTBEAT_INTERVAL_MS: u64 = 41_250;
/// The attachment size limit interactions carry (10 MiB).
const ATTACHMENT_SIZE_LIMIT: u64 = 10 << 20;

/// An event for one session: (event name, data).
type Dispatch = (String, Value);

#[derive(Default)]
pub(super) struct GwState {
    /// Identified sessions and their dispatch queues.
    sessions: Vec<(u64, mpsc::UnboundedSender<Dispatch>)>,
    identifies: Vec<Identify>,
    next_session: u64,
    heartbeats: u64,
}

/// What a client sent in IDENTIFY (the token is checked, not kept).
#[derive(Clone, Debug, PartialEq)]
pub struct Identify {
    /// The gateway intents bit set.
    pub intents: u64,
    pub shard: Option<Value>,
    pub properties: Value,
}

/// The running websocket listener; stops with the last `FakeDiscord` clone.
pub(super) struct GwServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for GwServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Who runs a command or clicks a button.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invoker {
    pub user_id: u64,
    pub username: String,
    /// The member's role ids (guild channels only).
    pub roles: Vec<u64>,
    /// The guild channel it happens in; `None`: the user's DMs with the bot.
    pub channel: Option<u64>,
}

impl Invoker {
    /// A guild member in `channel` with these roles.
    pub fn member(user_id: u64, username: &str, channel: u64, roles: &[u64]) -> Invoker {
        Invoker {
            user_id,
            username: username.to_string(),
            roles: roles.to_vec(),
            channel: Some(channel),
        }
    }

    /// A user in their direct messages with the bot.
    pub fn dm(user_id: u64, username: &str) -> Invoker {
        Invoker {
            user_id,
            username: username.to_string(),
            roles: Vec::new(),
            channel: None,
        }
    }
}

fn text(v: &Value) -> WsMessage {
    WsMessage::Text(v.to_string())
}

async fn close(ws: &mut tokio_tungstenite::WebSocketStream<TcpStream>, code: u16, reason: &str) {
    let _ = ws
        .send(WsMessage::Close(Some(CloseFrame {
            code: CloseCode::from(code),
            reason: reason.to_string().into(),
        })))
        .await;
}

async fn connection(sh: Arc<Shared>, stream: TcpStream, url: String) {
    let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    let hello =
        json!({"op": 10, "s": null, "t": null, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}});
    if ws.send(text(&hello)).await.is_err() {
        return;
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<Dispatch>();
    let mut seq: u64 = 0;
    let mut session: Option<u64> = None;
    loop {
        tokio::select! {
            m = ws.next() => {
                let v: Value = match m {
                    Some(Ok(WsMessage::Text(t))) => serde_json::from_str(&t).unwrap_or(Value::Null),
                    Some(Ok(WsMessage::Binary(b))) => serde_json::from_slice(&b).unwrap_or(Value::Null),
                    Some(Ok(WsMessage::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => continue,
                };
                let answer = match v.get("op").and_then(Value::as_u64) {
                    Some(1) => {
                        sh.lock().gateway.heartbeats += 1;
                        Some(json!({"op": 11, "s": null, "t": null, "d": null}))
                    }
                    Some(2) => {
                        let d = &v["d"];
                        // Discord takes the token with or without "Bot "
                        // (serenity sends it with).
                        let token = d.get("token").and_then(Value::as_str).unwrap_or("");
                        if token.strip_prefix("Bot ").unwrap_or(token) != sh.token {
                            close(&mut ws, 4004, "Authentication failed.").await;
                            break;
                        }
                        if session.is_some() {
                            close(&mut ws, 4005, "Already authenticated.").await;
                            break;
                        }
                        let (id, guilds) = {
                            let mut st = sh.lock();
                            st.gateway.identifies.push(Identify {
                                intents: d.get("intents").and_then(Value::as_u64).unwrap_or(0),
                                shard: d.get("shard").cloned(),
                                properties: d.get("properties").cloned().unwrap_or(Value::Null),
                            });
                            st.gateway.next_session += 1;
                            let id = st.gateway.next_session;
                            st.gateway.sessions.push((id, tx.clone()));
                            (id, st.guilds.clone())
                        };
                        session = Some(id);
                        seq += 1;
                        Some(json!({
                            "op": 0, "s": seq, "t": "READY",
                            "d": {
                                "v": 10,
                                "user": handlers::bot_user(),
                                "guilds": guilds.iter().map(|g| json!({"id": g.to_string(), "unavailable": true})).collect::<Vec<_>>(),
                                "session_id": format!("fake-session-{id}"),
                                "resume_gateway_url": url,
                                "shard": d.get("shard").cloned().unwrap_or(json!([0, 1])),
                                "application": {"id": FakeDiscord::APPLICATION_ID.to_string(), "flags": 0},
                            }
                        }))
                    }
                    // Sessions are not kept: RESUME gets INVALID_SESSION,
                    // and the client identifies again.
                    Some(6) => Some(json!({"op": 9, "s": null, "t": null, "d": false})),
                    _ => None,
                };
                if let Some(a) = answer
                    && ws.send(text(&a)).await.is_err()
                {
                    break;
                }
            }
            Some((t, d)) = rx.recv() => {
                seq += 1;
                if ws.send(text(&json!({"op": 0, "s": seq, "t": t, "d": d}))).await.is_err() {
                    break;
                }
            }
        }
    }
    if let Some(id) = session {
        sh.lock().gateway.sessions.retain(|(s, _)| *s != id);
    }
}

fn user_json(who: &Invoker) -> Value {
    json!({
        "id": who.user_id.to_string(),
        "username": who.username,
        "discriminator": "0",
        "global_name": who.username,
        "avatar": null,
        "public_flags": 0,
    })
}

/// The bot's DM channel with `user`, created on first use.
pub(super) fn dm_channel(sh: &Shared, st: &mut State, user: u64) -> u64 {
    if let Some(c) = st
        .channels
        .values()
        .find(|c| c.kind == ChannelKind::Dm { recipient: user })
    {
        return c.id;
    }
    let id = sh.snowflake(st);
    st.channels.insert(
        id,
        DcChannel {
            id,
            guild_id: 0,
            kind: ChannelKind::Dm { recipient: user },
            name: String::new(),
            access: Access::Ok,
            available_tags: Vec::new(),
            require_tag: false,
            applied_tags: Vec::new(),
        },
    );
    id
}

fn content_type(filename: &str) -> &'static str {
    let lower = filename.to_ascii_lowercase();
    match lower.rsplit('.').next().unwrap_or("") {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "pdf" => "application/pdf",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

impl FakeDiscord {
    /// Start the websocket gateway on 127.0.0.1; from now on `GET /gateway`
    /// and `GET /gateway/bot` answer its `ws://` URL. Returns that URL.
    pub async fn start_gateway(&self) -> io::Result<String> {
        if let Some(g) = self
            .gateway
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            return Ok(format!("ws://{}", g.addr));
        }
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let url = format!("ws://{addr}");
        let sh = self.shared.clone();
        let u = url.clone();
        let task = tokio::spawn(async move {
            let mut conns = JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((stream, _)) = accepted else { continue };
                        let _ = stream.set_nodelay(true);
                        conns.spawn(connection(sh.clone(), stream, u.clone()));
                    }
                    Some(_) = conns.join_next(), if !conns.is_empty() => {}
                }
            }
        });
        *self.gateway.lock().unwrap_or_else(|p| p.into_inner()) = Some(GwServer { addr, task });
        self.set_gateway_url(&url);
        Ok(url)
    }

    /// Identified gateway sessions now connected.
    pub fn gateway_sessions(&self) -> usize {
        self.shared.lock().gateway.sessions.len()
    }

    /// Every IDENTIFY received.
    pub fn identifies(&self) -> Vec<Identify> {
        self.shared.lock().gateway.identifies.clone()
    }

    /// Heartbeats received.
    pub fn heartbeats(&self) -> u64 {
        self.shared.lock().gateway.heartbeats
    }

    /// Send a dispatch to every session; how many got it.
    pub fn dispatch_event(&self, t: &str, d: Value) -> usize {
        let st = self.shared.lock();
        st.gateway
            .sessions
            .iter()
            .filter(|(_, tx)| tx.send((t.to_string(), d.clone())).is_ok())
            .count()
    }

    /// The bot's DM channel with a user (created on first use).
    pub fn dm_channel(&self, user: u64) -> u64 {
        let mut st = self.shared.lock();
        dm_channel(&self.shared, &mut st, user)
    }

    /// Messages the bot sent to a user's DMs.
    pub fn dms(&self, user: u64) -> Vec<DcMessage> {
        let c = self.dm_channel(user);
        self.visible(c)
    }

    /// The base of an interaction payload.
    fn interaction_base(
        &self,
        st: &mut State,
        who: &Invoker,
        kind: u8,
        data: Value,
    ) -> (DcInteraction, Value) {
        let channel_id = match who.channel {
            Some(c) => c,
            None => dm_channel(&self.shared, st, who.user_id),
        };
        let id = self.shared.snowflake(st);
        let token = interaction_token(id);
        let mut o = Map::new();
        o.insert("id".into(), json!(id.to_string()));
        o.insert(
            "application_id".into(),
            json!(FakeDiscord::APPLICATION_ID.to_string()),
        );
        o.insert("type".into(), json!(kind));
        o.insert("data".into(), data);
        o.insert("channel_id".into(), json!(channel_id.to_string()));
        o.insert("token".into(), json!(token));
        o.insert("version".into(), json!(1));
        o.insert("app_permissions".into(), json!("2248473465835073"));
        o.insert("locale".into(), json!("en-US"));
        o.insert("entitlements".into(), json!([]));
        o.insert("attachment_size_limit".into(), json!(ATTACHMENT_SIZE_LIMIT));
        match who.channel {
            Some(c) => {
                let guild = st
                    .channels
                    .get(&c)
                    .map(|c| c.guild_id)
                    .unwrap_or(FakeDiscord::GUILD_ID);
                o.insert("guild_id".into(), json!(guild.to_string()));
                o.insert("guild_locale".into(), json!("en-US"));
                o.insert("context".into(), json!(0));
                o.insert(
                    "channel".into(),
                    json!({"id": c.to_string(), "type": 0, "name": format!("channel-{c}")}),
                );
                o.insert(
                    "member".into(),
                    json!({
                        "user": user_json(who),
                        "nick": null,
                        "avatar": null,
                        "roles": who.roles.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
                        "joined_at": "2024-01-01T00:00:00.000000+00:00",
                        "premium_since": null,
                        "deaf": false,
                        "mute": false,
                        "flags": 0,
                        "pending": false,
                        "permissions": "1071698660929",
                        "communication_disabled_until": null,
                    }),
                );
            }
            None => {
                o.insert("context".into(), json!(1));
                o.insert(
                    "channel".into(),
                    json!({"id": channel_id.to_string(), "type": 1}),
                );
                o.insert("user".into(), user_json(who));
            }
        }
        let i = DcInteraction {
            id,
            token,
            channel_id,
            kind,
            user_id: who.user_id,
            message_id: None,
            created: self.shared.clock.now(),
            answered_after: None,
            late_callbacks: 0,
            callbacks: Vec::new(),
            original: None,
            followups: Vec::new(),
        };
        (i, Value::Object(o))
    }

    /// Run the slash command `/name` with options (`name`, value) as `who`.
    /// Values are typed from the registered command: strings as given,
    /// integers parsed, an attachment option takes a file name (or an
    /// `http(s)` URL) of an uploaded file. Fails when the command or an
    /// option was not registered, a required option is missing, or no
    /// gateway session is connected.
    pub fn run_command(
        &self,
        who: &Invoker,
        name: &str,
        options: &[(&str, &str)],
    ) -> Result<DcInteraction, String> {
        let mut st = self.shared.lock();
        let guild = who.channel.map(|c| {
            st.channels
                .get(&c)
                .map(|c| c.guild_id)
                .unwrap_or(FakeDiscord::GUILD_ID)
        });
        let find = |list: Option<&Vec<Value>>| -> Option<Value> {
            list?
                .iter()
                .find(|c| c.get("name").and_then(Value::as_str) == Some(name))
                .cloned()
        };
        // Guild commands show in their guild only; global ones everywhere
        // (DMs too, unless registered without the DM context).
        let cmd = guild
            .and_then(|g| find(st.commands.get(&Some(g))))
            .or_else(|| {
                find(st.commands.get(&None)).filter(|c| {
                    who.channel.is_some()
                        || c.get("dm_permission").and_then(Value::as_bool) != Some(false)
                })
            })
            .ok_or_else(|| format!("/{name} is not registered where {who:?} is"))?;
        let defs = cmd
            .get("options")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for (k, _) in options {
            if !defs
                .iter()
                .any(|d| d.get("name").and_then(Value::as_str) == Some(k))
            {
                return Err(format!("/{name} has no option {k:?}"));
            }
        }
        let channel_for_files = who.channel.unwrap_or(0);
        let mut opts = Vec::new();
        let mut attachments = Map::new();
        for d in &defs {
            let oname = d.get("name").and_then(Value::as_str).unwrap_or("");
            let kind = d.get("type").and_then(Value::as_u64).unwrap_or(3);
            let required = d.get("required").and_then(Value::as_bool).unwrap_or(false);
            let Some((_, raw)) = options.iter().find(|(k, _)| *k == oname) else {
                if required {
                    return Err(format!("/{name}: the option {oname:?} is required"));
                }
                continue;
            };
            let value = match kind {
                3 => json!(raw),
                4 => {
                    let n: i64 = raw
                        .parse()
                        .map_err(|_| format!("/{name} {oname}: {raw:?} is not an integer"))?;
                    let min = d.get("min_value").and_then(Value::as_i64);
                    let max = d.get("max_value").and_then(Value::as_i64);
                    if min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m) {
                        return Err(format!("/{name} {oname}: {n} is out of range"));
                    }
                    json!(n)
                }
                5 => json!(*raw == "true"),
                10 => json!(
                    raw.parse::<f64>()
                        .map_err(|_| format!("/{name} {oname}: {raw:?} is not a number"))?
                ),
                11 if st.uploads.contains_key(*raw) => {
                    let aid = self.shared.snowflake(&mut st);
                    let bytes = st.uploads.get(*raw).cloned().unwrap_or_default();
                    let size = bytes.len();
                    let url = super::cdn::host(&mut st, channel_for_files, aid, raw, bytes);
                    attachments.insert(
                        aid.to_string(),
                        json!({
                            "id": aid.to_string(),
                            "filename": raw,
                            "size": size,
                            "url": url,
                            "proxy_url": url,
                            "content_type": content_type(raw),
                        }),
                    );
                    json!(aid.to_string())
                }
                11 => {
                    let aid = self.shared.snowflake(&mut st);
                    let (filename, url) = if raw.starts_with("http://")
                        || raw.starts_with("https://")
                    {
                        let f = raw.rsplit('/').next().unwrap_or("file").to_string();
                        (f, raw.to_string())
                    } else {
                        (
                            raw.to_string(),
                            format!(
                                "https://cdn.discordapp.com/attachments/{channel_for_files}/{aid}/{raw}"
                            ),
                        )
                    };
                    attachments.insert(
                        aid.to_string(),
                        json!({
                            "id": aid.to_string(),
                            "filename": filename,
                            "size": 48_213,
                            "url": url,
                            "proxy_url": url.replace("cdn.discordapp.com", "media.discordapp.net"),
                            "content_type": content_type(&filename),
                            "width": 1200,
                            "height": 800,
                        }),
                    );
                    json!(aid.to_string())
                }
                other => return Err(format!("/{name} {oname}: option type {other} not faked")),
            };
            opts.push(json!({"name": oname, "type": kind, "value": value}));
        }
        let mut data = json!({
            "id": cmd.get("id").cloned().unwrap_or(json!("0")),
            "name": name,
            "type": 1,
            "options": opts,
        });
        if let Some(g) = cmd.get("guild_id") {
            data["guild_id"] = g.clone();
        }
        if !attachments.is_empty() {
            data["resolved"] = json!({"attachments": attachments});
        }
        let (i, payload) = self.interaction_base(&mut st, who, 2, data);
        st.interactions.insert(i.id, i.clone());
        drop(st);
        if self.dispatch_event("INTERACTION_CREATE", payload) == 0 {
            return Err("no gateway session is connected".into());
        }
        Ok(i)
    }

    /// Click the button `custom_id` on message `message_id` as `who`.
    /// Fails when the message has no such (non-link) button, is ephemeral
    /// and not `who`'s, or no gateway session is connected.
    pub fn click(
        &self,
        who: &Invoker,
        message_id: u64,
        custom_id: &str,
    ) -> Result<DcInteraction, String> {
        let mut st = self.shared.lock();
        let msg = st
            .messages
            .values()
            .flatten()
            .find(|m| m.id == message_id && !m.deleted)
            .cloned()
            .ok_or_else(|| format!("no message {message_id}"))?;
        let has = msg.components.iter().any(|row| {
            row.get("components")
                .and_then(Value::as_array)
                .is_some_and(|b| {
                    b.iter().any(|b| {
                        b.get("custom_id").and_then(Value::as_str) == Some(custom_id)
                            && b.get("disabled").and_then(Value::as_bool) != Some(true)
                    })
                })
        });
        if !has {
            return Err(format!(
                "message {message_id} has no button {custom_id:?}: {:?}",
                msg.components
            ));
        }
        if msg.flags & super::EPHEMERAL != 0
            && let super::Author::Interaction { interaction_id } = msg.author
            && st
                .interactions
                .get(&interaction_id)
                .is_some_and(|i| i.user_id != who.user_id)
        {
            return Err("only the user who ran the command sees that ephemeral message".into());
        }
        let mut who = who.clone();
        who.channel = st
            .channels
            .get(&msg.channel_id)
            .filter(|c| !matches!(c.kind, ChannelKind::Dm { .. }))
            .map(|c| c.id);
        let message = handlers::message_json(&st, &msg);
        let data = json!({"custom_id": custom_id, "component_type": 2});
        let (mut i, mut payload) = self.interaction_base(&mut st, &who, 3, data);
        payload["message"] = message;
        i.message_id = Some(message_id);
        st.interactions.insert(i.id, i.clone());
        drop(st);
        if self.dispatch_event("INTERACTION_CREATE", payload) == 0 {
            return Err("no gateway session is connected".into());
        }
        Ok(i)
    }
}
