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

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use serenity::all::{
    ClientBuilder, CommandDataOptionValue, CommandInteraction, ComponentInteraction, Context,
    EventHandler, GatewayIntents, Interaction, Ready, User,
};
use serenity::http::HttpBuilder;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use url::Url;

use super::ratelimit::Settings;
use super::rest::{RestClient, RestError};
use crate::commands::{
    Button, COMMANDS, Caller, Cmd, Handler, Notifier, Platform, Reply, Role, parse_args,
};
use crate::format::discord::{DiscordMessage, escape_md_line};

mod files;

/// Answer at once when the command's reply is ready within this; else
/// defer. Discord drops a response that arrives later than 3 s after the
/// interaction: this leaves time for the callback itself.
pub const DEFER_AFTER: Duration = Duration::from_millis(1500);
/// How long an interaction token works for edits and follow-ups (Discord:
/// 15 minutes); later reports go to the caller's direct messages.
const TOKEN_LIFE: Duration = Duration::from_secs(14 * 60);
/// Message flag: only the caller sees it.
const EPHEMERAL: u64 = 1 << 6;
/// Message flag: no link previews under the message.
const SUPPRESS_EMBEDS: u64 = 1 << 2;
/// Characters per reply message (Discord: 2000), with room for escapes.
const TEXT_LIMIT: usize = 1900;
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
    center: Arc<dyn Handler>,
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

// ---------------------------------------------------------------- options

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OptKind {
    Str,
    Int { min: i64, max: i64 },
    Attachment,
}

impl OptKind {
    fn code(self) -> u8 {
        match self {
            OptKind::Str => 3,
            OptKind::Int { .. } => 4,
            OptKind::Attachment => 11,
        }
    }
}

struct Opt {
    name: &'static str,
    kind: OptKind,
    required: bool,
    about: &'static str,
}

const fn opt(name: &'static str, required: bool, about: &'static str) -> Opt {
    Opt {
        name,
        kind: OptKind::Str,
        required,
        about,
    }
}

const TARGETS: Opt = opt(
    "targets",
    false,
    "target names, separated by spaces (default: every target)",
);

/// The options of each command, in the order `parse_args` takes them.
fn options_of(command: &str) -> Vec<Opt> {
    match command {
        "pause" | "resume" => vec![opt("what", true, "a feed or target name")],
        "retry" => vec![opt("what", true, "a delivery id, a target name, or all")],
        "why" => vec![opt("url", true, "the article's URL")],
        "log" => vec![Opt {
            name: "n",
            kind: OptKind::Int { min: 1, max: 50 },
            required: false,
            about: "how many deliveries (default 10)",
        }],
        "subscribe" => vec![opt("url", true, "the feed's URL"), TARGETS],
        "unsubscribe" => vec![opt("what", true, "the feed's name")],
        "import" => vec![
            Opt {
                name: "file",
                kind: OptKind::Attachment,
                required: true,
                about: "the OPML file",
            },
            TARGETS,
        ],
        "preview" => vec![opt("url", true, "a page's or a feed's URL")],
        "publish" => vec![opt("url", true, "the page's URL"), TARGETS],
        "post" => vec![
            opt("text", false, "the message (Discord markdown)"),
            Opt {
                name: "attachment",
                kind: OptKind::Attachment,
                required: false,
                about: "an image to post",
            },
            TARGETS,
        ],
        "schedule" => vec![
            opt("time", true, "2026-12-01T09:00, 09:00 or +2h"),
            opt("url", true, "the page's URL"),
            TARGETS,
        ],
        "cancel" => vec![Opt {
            name: "id",
            kind: OptKind::Int {
                min: 1,
                max: i64::from(i32::MAX),
            },
            required: true,
            about: "the scheduled post's number (see /queue)",
        }],
        "retract" => vec![opt("what", true, "the article's URL or number")],
        _ => Vec::new(),
    }
}

/// The slash commands as Discord's bulk-overwrite endpoint takes them.
/// `global`: also usable in direct messages with the bot.
pub fn command_definitions(global: bool) -> Value {
    let list: Vec<Value> = COMMANDS
        .iter()
        .map(|c| {
            let options: Vec<Value> = options_of(c.name)
                .iter()
                .map(|o| {
                    let mut v = json!({
                        "type": o.kind.code(),
                        "name": o.name,
                        "description": o.about,
                        "required": o.required,
                    });
                    if let OptKind::Int { min, max } = o.kind {
                        v["min_value"] = json!(min);
                        v["max_value"] = json!(max);
                    }
                    v
                })
                .collect();
            let mut v = json!({
                "type": 1,
                "name": c.name,
                "description": c.about,
                "options": options,
            });
            if global {
                // Guild channels and the bot's DMs.
                v["contexts"] = json!([0, 1]);
                v["integration_types"] = json!([0]);
            }
            v
        })
        .collect();
    Value::Array(list)
}

// ---------------------------------------------------------------- markdown

/// An editor's Discord markdown as the formatter's HTML (bold, italic,
/// underline, strike, code, code blocks, links, quotes, headings; `\`
/// escapes). Anything else stays text.
pub fn markdown_html(md: &str) -> String {
    use regex::Regex;
    static RULES: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    let rules = RULES.get_or_init(|| {
        [
            (
                r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)",
                r#"<a href="$2">$1</a>"#,
            ),
            (r"(?s)\*\*(.+?)\*\*", "<b>$1</b>"),
            (r"(?s)__(.+?)__", "<u>$1</u>"),
            (r"(?s)~~(.+?)~~", "<s>$1</s>"),
            (r"(?s)\|\|(.+?)\|\|", "$1"),
            (r"\*([^*\n]+)\*", "<i>$1</i>"),
            (r"(^|[^\w])_([^_\n]+)_($|[^\w])", "$1<i>$2</i>$3"),
        ]
        .into_iter()
        .filter_map(|(re, to)| Regex::new(re).ok().map(|r| (r, to)))
        .collect()
    });
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    // Code and escaped characters are set aside first (as private-use
    // placeholders), so that no rule touches them.
    let mut kept: Vec<String> = Vec::new();
    let keep = |html: String, kept: &mut Vec<String>| -> String {
        kept.push(html);
        format!("\u{E000}{}\u{E001}", kept.len() - 1)
    };
    let mut text = String::with_capacity(md.len());
    let mut rest = md.replace(['\u{E000}', '\u{E001}'], "");
    while let Some(start) = rest.find("```") {
        let after = &rest[start + 3..];
        let Some(end) = after.find("```") else { break };
        let mut code = &after[..end];
        // ```lang\n…```: drop the language line.
        if let Some((first, body)) = code.split_once('\n')
            && !first.contains(' ')
        {
            code = body;
        }
        text.push_str(&rest[..start]);
        let placeholder = keep(format!("<pre>{}</pre>", esc(code.trim_end())), &mut kept);
        text.push_str(&placeholder);
        rest = after[end + 3..].to_string();
    }
    text.push_str(&rest);
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek().is_some_and(|n| n.is_ascii_punctuation()) => {
                let n = chars.next().unwrap_or('\\');
                out.push_str(&keep(esc(&n.to_string()), &mut kept));
            }
            '`' => {
                let code: String = chars.clone().take_while(|&x| x != '`').collect();
                if chars.clone().nth(code.chars().count()) == Some('`') && !code.is_empty() {
                    for _ in 0..=code.chars().count() {
                        chars.next();
                    }
                    out.push_str(&keep(format!("<code>{}</code>", esc(&code)), &mut kept));
                } else {
                    out.push('`');
                }
            }
            _ => out.push(c),
        }
    }
    let mut html = esc(&out);
    for (re, to) in rules {
        html = re.replace_all(&html, *to).into_owned();
    }
    // Line forms: headings (bold), quotes, then line breaks.
    let mut lines: Vec<String> = Vec::new();
    let mut quote: Vec<String> = Vec::new();
    for line in html.split('\n') {
        let t = line.trim_start();
        if let Some(q) = t.strip_prefix("&gt; ") {
            quote.push(q.to_string());
            continue;
        }
        if !quote.is_empty() {
            lines.push(format!(
                "<blockquote>{}</blockquote>",
                std::mem::take(&mut quote).join("<br>")
            ));
        }
        let heading = ["### ", "## ", "# "].iter().find_map(|h| t.strip_prefix(h));
        match heading {
            Some(h) => lines.push(format!("<b>{h}</b>")),
            None => lines.push(line.to_string()),
        }
    }
    if !quote.is_empty() {
        lines.push(format!("<blockquote>{}</blockquote>", quote.join("<br>")));
    }
    let mut html = lines.join("<br>");
    html = html.replace("</blockquote><br>", "</blockquote>");
    // Put the set-aside pieces back.
    let mut done = String::with_capacity(html.len());
    let mut rest = html.as_str();
    while let Some(i) = rest.find('\u{E000}') {
        done.push_str(&rest[..i]);
        let tail = &rest[i + '\u{E000}'.len_utf8()..];
        let Some(j) = tail.find('\u{E001}') else {
            rest = tail;
            continue;
        };
        if let Some(piece) = tail[..j].parse::<usize>().ok().and_then(|n| kept.get(n)) {
            done.push_str(piece);
        }
        rest = &tail[j + '\u{E001}'.len_utf8()..];
    }
    done.push_str(rest);
    done
}

// ---------------------------------------------------------------- messages

/// Escaped text split into messages at line boundaries.
fn text_chunks(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in text.lines() {
        let mut line = escape_md_line(line);
        while line.chars().count() > TEXT_LIMIT {
            let mut cut: String = line.chars().take(TEXT_LIMIT).collect();
            // Do not separate a backslash from what it escapes.
            let trailing = cut.chars().rev().take_while(|&c| c == '\\').count();
            if trailing % 2 == 1 {
                cut.pop();
            }
            line = line[cut.len()..].to_string();
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            out.push(cut);
        }
        if !cur.is_empty() && cur.chars().count() + line.chars().count() + 1 > TEXT_LIMIT {
            out.push(std::mem::take(&mut cur));
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

/// Plain text shown verbatim in code blocks, split to fit.
fn code_chunks(head: &str, text: &str) -> Vec<String> {
    // A code block ends at ```: break such runs with a zero-width space.
    let text = text.replace("```", "`\u{200B}`\u{200B}`");
    let room = TEXT_LIMIT
        .saturating_sub(head.chars().count() + 10)
        .max(100);
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in text.lines() {
        let mut line = line.to_string();
        while line.chars().count() > room {
            let cut: String = line.chars().take(room).collect();
            line = line[cut.len()..].to_string();
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            out.push(cut);
        }
        if !cur.is_empty() && cur.chars().count() + line.chars().count() + 1 > room {
            out.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push('\n');
        }
        cur.push_str(&line);
    }
    if !cur.is_empty() || out.is_empty() {
        out.push(cur);
    }
    out.into_iter()
        .map(|c| format!("{head}\n```\n{c}\n```"))
        .collect()
}

fn no_pings() -> Value {
    json!({"parse": []})
}

/// A text message (already escaped).
fn text_message(content: String, flags: u64) -> Value {
    json!({
        "content": content,
        "allowed_mentions": no_pings(),
        "flags": flags | SUPPRESS_EMBEDS,
    })
}

/// Confirm/Cancel as an action row; `custom_id` is the button's data.
fn button_row(buttons: &[Button]) -> Value {
    let items: Vec<Value> = buttons
        .iter()
        .filter(|b| (1..=100).contains(&b.data.chars().count()))
        .take(5)
        .enumerate()
        .map(|(i, b)| {
            json!({
                "type": 2,
                // The first (Confirm) green, the others grey.
                "style": if i == 0 { 3 } else { 2 },
                "label": b.label.chars().take(80).collect::<String>(),
                "custom_id": b.data,
            })
        })
        .collect();
    json!([{"type": 1, "components": items}])
}

/// A reply as Discord messages: previews first (Discord targets exactly as
/// they will post, other platforms as text), then the text, its buttons on
/// the last message.
pub fn reply_messages(r: &Reply, flags: u64) -> Vec<Value> {
    let mut out = Vec::new();
    for p in &r.previews {
        let native = matches!(p.platform, "discord" | "discord_webhook") && !p.parts.is_empty();
        if native {
            out.push(text_message(
                escape_md_line(&format!("Preview — {} (Discord):", p.target)),
                flags,
            ));
            for part in &p.parts {
                let Some(m) = DiscordMessage::from_payload(&part.payload) else {
                    continue;
                };
                let mut v = serde_json::to_value(&m).unwrap_or_else(|_| json!({}));
                v["allowed_mentions"] = no_pings();
                if flags != 0 {
                    v["flags"] = json!(flags);
                }
                out.push(v);
            }
        } else {
            let head = escape_md_line(&format!("Preview — {} ({}):", p.target, p.platform));
            for c in code_chunks(&head, &p.text) {
                out.push(text_message(c, flags));
            }
        }
    }
    let chunks = text_chunks(&r.text);
    let n = chunks.len();
    for (i, c) in chunks.into_iter().enumerate() {
        let mut m = text_message(c, flags);
        if i + 1 == n && !r.buttons.is_empty() {
            m["components"] = button_row(&r.buttons);
        }
        out.push(m);
    }
    if n == 0 && !r.buttons.is_empty() {
        let mut m = text_message("…".into(), flags);
        m["components"] = button_row(&r.buttons);
        out.push(m);
    }
    out
}

fn caller_of(user: &User, roles: Vec<i64>) -> Caller {
    Caller {
        platform: Platform::Discord,
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
        center: Arc<dyn Handler>,
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
            center,
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
        let tz = self.center.timezone();
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
                Ok(cmd) => me.center.handle(&c, cmd).await,
                // Usage help for people allowed to use the bot; a stranger
                // gets the (rate-limited) refusal.
                Err(usage) if me.center.role(&c) >= Role::Editor => Some(Reply::text(usage)),
                Err(_) => me.center.handle(&c, Cmd::Status).await,
            }
        });
        self.respond(ci.id.get(), &ci.token, caller, work).await;
    }

    /// Answer within the window: at once when the reply is ready, else a
    /// deferred response replaced by the reply when it is.
    async fn respond(
        self: &Arc<Self>,
        id: u64,
        token: &str,
        caller: Caller,
        mut work: JoinHandle<Option<Reply>>,
    ) {
        let Some(app) = self.application_id().await else {
            return;
        };
        let started = Instant::now();
        let reply = match tokio::time::timeout(DEFER_AFTER, &mut work).await {
            Ok(done) => {
                let reply = done.unwrap_or_else(|e| {
                    tracing::error!(error = %crate::scrub::scrub(&e.to_string()), "a Discord command failed");
                    Some(Reply::text("Something went wrong; see Crier's log."))
                });
                // `None`: say nothing (a repeated refusal).
                let Some(reply) = reply else { return };
                let mut msgs = reply_messages(&reply, EPHEMERAL).into_iter();
                let Some(first) = msgs.next() else { return };
                let body = json!({"type": 4, "data": first});
                if let Err(e) = self.rest.interaction_callback(id, token, &body).await {
                    tracing::warn!(error = %crate::scrub::scrub(&e.to_string()), "cannot answer a Discord command");
                    return;
                }
                self.followups(app, token, msgs).await;
                self.send_file(app, token, &reply).await;
                reply
            }
            Err(_) => {
                let body = json!({"type": 5, "data": {"flags": EPHEMERAL}});
                if let Err(e) = self.rest.interaction_callback(id, token, &body).await {
                    tracing::warn!(error = %crate::scrub::scrub(&e.to_string()), "cannot defer a Discord command");
                }
                let reply = work.await.unwrap_or_else(|e| {
                    tracing::error!(error = %crate::scrub::scrub(&e.to_string()), "a Discord command failed");
                    Some(Reply::text("Something went wrong; see Crier's log."))
                });
                let Some(reply) = reply else {
                    let _ = self.rest.delete_original(app, token).await;
                    return;
                };
                let mut msgs = reply_messages(&reply, EPHEMERAL).into_iter();
                let Some(first) = msgs.next() else {
                    let _ = self.rest.delete_original(app, token).await;
                    return;
                };
                let r = self
                    .retrying(|| self.rest.edit_original(app, token, &first))
                    .await;
                if let Err(e) = r {
                    tracing::warn!(error = %crate::scrub::scrub(&e.to_string()), "cannot send a deferred Discord reply");
                }
                self.followups(app, token, msgs).await;
                self.send_file(app, token, &reply).await;
                reply
            }
        };
        self.report_later(app, token.to_string(), started, caller, reply);
    }

    async fn followups(&self, app: u64, token: &str, msgs: impl Iterator<Item = Value>) {
        for m in msgs {
            if let Err(e) = self.retrying(|| self.rest.followup(app, token, &m)).await {
                tracing::warn!(error = %crate::scrub::scrub(&e.to_string()), "cannot send a Discord follow-up message");
            }
        }
    }

    /// A publish or retraction report, when the deliveries are done: as a
    /// follow-up while the interaction token works, else in the caller's
    /// direct messages.
    fn report_later(
        self: &Arc<Self>,
        app: u64,
        token: String,
        started: Instant,
        caller: Caller,
        reply: Reply,
    ) {
        let Some(f) = reply.follow_up else { return };
        let me = self.clone();
        crate::panics::spawn_contained("discord follow-up", async move {
            let report = me.center.follow_up(f).await;
            let msgs = reply_messages(&report, EPHEMERAL);
            if started.elapsed() < TOKEN_LIFE {
                let mut ok = true;
                for m in &msgs {
                    if let Err(e) = me.retrying(|| me.rest.followup(app, &token, m)).await {
                        tracing::warn!(error = %crate::scrub::scrub(&e.to_string()), "cannot send a report as a follow-up; sending it by DM");
                        ok = false;
                        break;
                    }
                }
                if ok {
                    return;
                }
            }
            if let Ok(user) = u64::try_from(caller.user_id) {
                me.direct(user, &reply_messages(&report, 0)).await;
            }
        });
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
        let reply = self.center.button(&caller, &ci.data.custom_id).await;
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
    use crate::commands::Preview;

    #[test]
    fn long_lines_split_between_characters() {
        for ch in ["ж", "’", "😀"] {
            let line = ch.repeat(TEXT_LIMIT * 2 + 7);
            let parts = text_chunks(&line);
            assert!(parts.len() >= 3, "{ch}");
            assert!(parts.iter().all(|p| p.chars().count() <= TEXT_LIMIT));
            assert_eq!(parts.concat(), line);
            let code = code_chunks("head", &line);
            assert!(code.len() >= 2, "{ch}");
        }
    }

    #[test]
    fn markdown_becomes_the_formatters_html() {
        assert_eq!(
            markdown_html("**Breaking**: the *bridge* is `open`"),
            "<b>Breaking</b>: the <i>bridge</i> is <code>open</code>"
        );
        assert_eq!(
            markdown_html("__u__ ~~s~~ _i_ snake_case [site](https://x.example/a_b)"),
            "<u>u</u> <s>s</s> <i>i</i> snake_case <a href=\"https://x.example/a_b\">site</a>"
        );
        assert_eq!(markdown_html("a < b & \\*c\\*"), "a &lt; b &amp; *c*");
        assert_eq!(
            markdown_html("# Title\n> quoted\n> more\nafter"),
            "<b>Title</b><br><blockquote>quoted<br>more</blockquote>after"
        );
        assert_eq!(
            markdown_html("```rust\nlet **x** = 1;\n```"),
            "<pre>let **x** = 1;</pre>"
        );
    }

    #[test]
    fn every_command_is_registered_with_typed_options() {
        let defs = command_definitions(false);
        let list = defs.as_array().expect("array");
        assert_eq!(list.len(), COMMANDS.len());
        for d in list {
            let desc = d["description"].as_str().expect("description");
            assert!((1..=100).contains(&desc.chars().count()), "{d}");
            // Required options come first (Discord refuses otherwise).
            let req: Vec<bool> = d["options"]
                .as_array()
                .expect("options")
                .iter()
                .map(|o| o["required"].as_bool().unwrap_or(false))
                .collect();
            assert!(req.windows(2).all(|w| w[0] || !w[1]), "{d}");
        }
        let log = list.iter().find(|d| d["name"] == "log").expect("log");
        assert_eq!(log["options"][0]["type"], 4);
        let post = list.iter().find(|d| d["name"] == "post").expect("post");
        assert_eq!(post["options"][1]["type"], 11);
        assert!(command_definitions(true)[0].get("contexts").is_some());
    }

    #[test]
    fn replies_escape_markdown_split_and_never_ping() {
        let r = Reply {
            text: "a *b* @everyone <@1>\n".repeat(200),
            buttons: vec![
                Button {
                    label: "Confirm".into(),
                    data: "pub:1".into(),
                },
                Button {
                    label: "Cancel".into(),
                    data: "no:1".into(),
                },
            ],
            previews: vec![Preview {
                target: "tg".into(),
                platform: "telegram",
                parts: Vec::new(),
                text: "```x```".into(),
            }],
            follow_up: None,
            file: None,
            refused: false,
        };
        let msgs = reply_messages(&r, EPHEMERAL);
        assert!(msgs.len() >= 3, "{msgs:?}");
        for m in &msgs {
            assert_eq!(m["allowed_mentions"], json!({"parse": []}));
            assert!(m["content"].as_str().expect("content").chars().count() <= 2000);
            assert_eq!(m["flags"].as_u64().unwrap_or(0) & EPHEMERAL, EPHEMERAL);
        }
        assert!(msgs[0]["content"].as_str().expect("c").contains("```\n`"));
        let last = msgs.last().expect("last");
        assert_eq!(last["components"][0]["components"][0]["custom_id"], "pub:1");
        assert_eq!(last["components"][0]["components"][0]["style"], 3);
        assert!(
            msgs[1]["content"]
                .as_str()
                .expect("c")
                .contains("a \\*b\\*")
        );
        assert!(
            msgs.iter()
                .all(|m| m.get("components").is_none() || std::ptr::eq(m, last))
        );
    }

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
