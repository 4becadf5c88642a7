//! The command layer: what each command does. Platform-neutral: the
//! front-ends in `crier_bots::{telegram,discord}::commands` call it through
//! the [`Handler`] trait and show the [`Reply`]s.
//!
//! This file: `CommandCenter`, dispatch, roles, refusals and the audit log. What
//! the commands do is in `status.rs`, `why.rs`, `admin.rs` (changes by
//! admins), `publish.rs` (editors' publishing) and `opml_chat.rs`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crier_storage::{AuditEntry, DynamicFeed};

use crate::config::{Config, EnvString, FeedConfig, FeedKind};
use crate::db::{Db, StoreError};
use crate::engine::Engine;
use crate::poller::Poller;
use crate::sources::{self, Fetcher};
use crate::text::truncate_chars;
use crier_bots::commands::{COMMANDS, Caller, Cmd, FollowUp, Handler, Reply, Role, WEB};

mod admin;
mod opml_chat;
mod publish;
mod status;
mod why;

pub use opml_chat::EXPORT_FILE_NAME;

/// The feed name of articles editors publish.
pub const EDITOR_FEED: &str = "editor";
/// At most one refusal per stranger per this long (no spam through us).
const REFUSAL_GAP: Duration = Duration::from_secs(60);
/// Command text kept in an audit row, in characters.
const AUDIT_COMMAND_CHARS: usize = 300;

pub struct CommandCenter {
    db: Db,
    engine: Arc<Engine>,
    poller: Arc<Poller>,
    cfg: Arc<Config>,
    fetcher: Fetcher,
    tz: chrono_tz::Tz,
    started: Instant,
    pending: Mutex<HashMap<String, publish::Pending>>,
    refusals: crate::refusals::RefusalLimiter,
    fetch_slots: Arc<crate::fetch_slots::FetchSlots>,
}

fn ago(ms: i64, now: i64) -> String {
    let d = (now - ms).max(0) / 1000;
    human(d) + " ago"
}

fn human(secs: i64) -> String {
    match secs {
        s if s < 90 => format!("{s}s"),
        s if s < 90 * 60 => format!("{}m", s / 60),
        s if s < 48 * 3600 => format!("{}h {}m", s / 3600, (s % 3600) / 60),
        s => format!("{}d", s / 86_400),
    }
}

fn store_err(e: StoreError) -> Reply {
    tracing::error!(error = %e, "storage error in a command");
    Reply::text(format!(
        "Storage error: {e}. Nothing was changed; try again."
    ))
}

impl CommandCenter {
    pub fn new(
        db: Db,
        engine: Arc<Engine>,
        poller: Arc<Poller>,
        cfg: Arc<Config>,
    ) -> anyhow::Result<Arc<CommandCenter>> {
        let fetcher = Fetcher::new(sources::FetcherConfig {
            connect_timeout: cfg.sources.connect_timeout.0,
            total_timeout: cfg.sources.timeout.0,
            default_user_agent: cfg.sources.user_agent.0.clone(),
            public_only: true,
            guard: sources::guard::GuardPolicy {
                allow_private: cfg.commands.allow_private_urls,
                allow_hosts: cfg.commands.allow_hosts.clone(),
            },
            body_cap: cfg.sources.body_cap,
            max_items: cfg.sources.max_items,
            ..sources::FetcherConfig::default()
        })
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        let tz = cfg.commands.timezone.0;
        Ok(Arc::new(CommandCenter {
            db,
            engine,
            poller,
            cfg,
            fetcher,
            tz,
            started: Instant::now(),
            pending: Mutex::new(HashMap::new()),
            refusals: crate::refusals::RefusalLimiter::new(REFUSAL_GAP),
            fetch_slots: crate::fetch_slots::FetchSlots::new(crate::fetch_slots::GLOBAL_LIMIT),
        }))
    }

    pub fn timezone(&self) -> chrono_tz::Tz {
        self.tz
    }

    fn time(&self, ms: i64) -> String {
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|t| {
                t.with_timezone(&self.tz)
                    .format("%Y-%m-%d %H:%M %Z")
                    .to_string()
            })
            .unwrap_or_default()
    }

    /// The caller's role from the config.
    pub fn role(&self, c: &Caller) -> Role {
        if c.platform == WEB {
            // The listener let the caller in with its access token.
            return Role::Admin;
        }
        match self.cfg.platform(c.platform) {
            Some(p) => match &p.section {
                Some(s) => p.platform.role(&**s, c),
                None => Role::Stranger,
            },
            None => Role::Stranger,
        }
    }

    async fn audit(&self, c: &Caller, command: String, outcome: &str) {
        let now = self.db.now_ms();
        let e = AuditEntry {
            id: 0,
            at: now,
            platform: c.platform.into(),
            user_id: c.user_id.to_string(),
            user_name: Some(c.name.clone()),
            command: truncate_chars(&command, AUDIT_COMMAND_CHARS),
            outcome: truncate_chars(outcome, 500),
        };
        let keep = self.cfg.commands.audit_max_rows as usize;
        let before = now.saturating_sub(self.cfg.commands.audit_max_age.0.as_millis() as i64);
        if let Err(err) = self
            .db
            .call(move |s| {
                s.audit(&e)?;
                s.prune_audit(before, keep)
            })
            .await
        {
            tracing::error!(error = %err, "cannot write the audit log");
        }
    }

    /// A refusal, at most once a minute per stranger (else `None`: stay silent).
    fn refusal(&self, c: &Caller) -> Option<Reply> {
        match self.refusals.check(&c.key()) {
            crate::refusals::Refusal::Log { .. } => {
                Some(Reply::text("Sorry, you are not allowed to do that."))
            }
            crate::refusals::Refusal::Silent => None,
        }
    }

    /// Run a command for a caller. `None`: say nothing (a repeated refusal).
    pub async fn handle(&self, c: &Caller, cmd: Cmd) -> Option<Reply> {
        let role = self.role(c);
        let line = describe(&cmd);
        if role < cmd.needs() {
            // Logged like the replies: once per stranger per window.
            let crate::refusals::Refusal::Log { swallowed } = self.refusals.check(&c.key()) else {
                return None;
            };
            let line = truncate_chars(&line, 200);
            tracing::warn!(caller = %c.key(), name = %c.name, command = %line, earlier_unlogged = swallowed, "command refused");
            let outcome = match swallowed {
                0 => "refused".to_string(),
                n => format!("refused (and {n} more refusals before, not logged)"),
            };
            self.audit(c, line, &outcome).await;
            return Some(Reply::text("Sorry, you are not allowed to do that."));
        }
        // Fetching commands: one in flight per user, a few in total.
        let _slot = match &cmd {
            Cmd::Preview(_)
            | Cmd::Publish { .. }
            | Cmd::Schedule { .. }
            | Cmd::Subscribe { .. }
            | Cmd::Import { .. } => match self.fetch_slots.take(&c.key()) {
                Ok(slot) => Some(slot),
                Err(busy) => return Some(Reply::text(busy)),
            },
            _ => None,
        };
        let changes = cmd.changes_state();
        let reply = self.run(c, role, cmd).await;
        if changes {
            let outcome = reply.text.lines().next().unwrap_or("").to_string();
            self.audit(c, line, &outcome).await;
        }
        Some(reply)
    }

    async fn run(&self, c: &Caller, role: Role, cmd: Cmd) -> Reply {
        match cmd {
            Cmd::Help => self.help(role),
            Cmd::Status => self.status().await.unwrap_or_else(store_err),
            Cmd::Feeds => self.feeds().await.unwrap_or_else(store_err),
            Cmd::Targets => self.targets().await.unwrap_or_else(store_err),
            Cmd::Pause(name) => self.pause(c, &name, true).await.unwrap_or_else(store_err),
            Cmd::Resume(name) => self.pause(c, &name, false).await.unwrap_or_else(store_err),
            Cmd::Retry(w) => self.retry(w).await.unwrap_or_else(store_err),
            Cmd::Why(url) => self.why(&url).await.unwrap_or_else(store_err),
            Cmd::Log(n) => self.log(n).await.unwrap_or_else(store_err),
            Cmd::Subscribe { url, targets } => self.subscribe(c, &url, targets).await,
            Cmd::Unsubscribe(name) => self.unsubscribe(&name).await.unwrap_or_else(store_err),
            Cmd::Import { file, targets } => self.import(c, file, targets).await,
            Cmd::Export => self.export().await,
            Cmd::Preview(url) => match self.fetch(&url).await {
                Ok(post) => Reply {
                    text: format!("Preview of {} on every target:", post.label()),
                    previews: self.previews(&post, &self.all_targets()),
                    ..Reply::default()
                },
                Err(e) => Reply::text(e),
            },
            Cmd::Publish { url, targets } => self.publish(c, &url, targets).await,
            Cmd::Post {
                html,
                image,
                targets,
                source,
            } => self.post(c, html, image, targets, source).await,
            Cmd::PostNext { .. } => {
                Reply::text("Send the message to post now (or reply /post to an existing message).")
            }
            Cmd::Schedule { at, url, targets } => self.schedule(at, &url, targets).await,
            Cmd::Queue => self.queue().await.unwrap_or_else(store_err),
            Cmd::Cancel(id) => self.cancel(c, id).await.unwrap_or_else(store_err),
            Cmd::Retract(what) => self.retract(&what).await.unwrap_or_else(store_err),
        }
    }

    fn help(&self, role: Role) -> Reply {
        if role == Role::Stranger {
            return Reply::text(
                "Crier publishes this site's articles. Commands are for its admins and editors.",
            );
        }
        let mut s = String::from("Commands:\n");
        for spec in COMMANDS.iter().filter(|s| s.role <= role) {
            s.push_str(&format!("{} — {}\n", spec.usage, spec.about));
        }
        Reply::text(s.trim_end().to_string())
    }

    fn all_targets(&self) -> Vec<String> {
        self.engine.target_names().map(str::to_string).collect()
    }

    fn check_targets(&self, names: Vec<String>) -> Result<Vec<String>, Reply> {
        if names.is_empty() {
            return Ok(self.all_targets());
        }
        let known = self.all_targets();
        let unknown: Vec<&String> = names.iter().filter(|n| !known.contains(n)).collect();
        if unknown.is_empty() {
            Ok(names)
        } else {
            Err(Reply::text(format!(
                "No target named {}. Targets: {}",
                unknown
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                known.join(", ")
            )))
        }
    }
}

/// The config of a feed added from chat.
pub fn dynamic_feed_config(f: &DynamicFeed) -> FeedConfig {
    FeedConfig {
        name: EnvString(f.name.clone()),
        url: EnvString(f.url.clone()),
        interval: crate::config::Dur(Duration::from_millis(f.interval_ms.max(1000) as u64)),
        targets: f.targets.iter().map(|t| EnvString(t.clone())).collect(),
        kind: FeedKind::Auto,
        backfill: 0,
        user_agent: None,
        headers: Default::default(),
        body_cap: None,
        drop_selectors: Vec::new(),
        drop_patterns: Vec::new(),
        color: None,
        content_selector: None,
        default_rules: true,
        filter: Default::default(),
        routes: Vec::new(),
        push: Default::default(),
        push_safety_interval: crate::config::Dur(Duration::from_secs(3600)),
        wordpress_hook_secret: None,
    }
}

/// The command as a line for the audit log.
fn describe(cmd: &Cmd) -> String {
    match cmd {
        Cmd::Post {
            source, targets, ..
        } => format!("/post {source} {}", targets.join(" ")),
        other => format!("{other:?}"),
    }
}

#[async_trait::async_trait]
impl Handler for CommandCenter {
    fn role(&self, caller: &Caller) -> Role {
        CommandCenter::role(self, caller)
    }
    fn timezone(&self) -> chrono_tz::Tz {
        self.tz
    }
    async fn handle(&self, caller: &Caller, cmd: Cmd) -> Option<Reply> {
        CommandCenter::handle(self, caller, cmd).await
    }
    async fn button(&self, caller: &Caller, data: &str) -> Reply {
        CommandCenter::button(self, caller, data).await
    }
    async fn follow_up(&self, f: FollowUp) -> Reply {
        CommandCenter::follow_up(self, f).await
    }
}
