//! The command layer: what each command does. Platform-neutral: the
//! front-ends in `crier_bots::{telegram,discord}::commands` call it through
//! the [`Handler`] trait and show the [`Reply`]s.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crier_bots::Post;
use crier_storage::{Action, AuditEntry, DynamicFeed, IncomingArticle, Ingested, Op, Route, State};

use crate::config::{Config, FeedConfig, FeedKind, Str};
use crate::db::{Db, StoreError, now_ms};
use crate::engine::Engine;
use crate::poller::Poller;
use crate::sources::{self, Fetcher};
use crier_bots::commands::{
    Button, COMMANDS, Caller, Cmd, FollowUp, Handler, Platform, Preview, Reply, RetryWhat, Role,
};

mod opml_chat;

pub use opml_chat::EXPORT_FILE_NAME;

/// The feed name of articles editors publish.
pub const EDITOR_FEED: &str = "editor";
/// How long a Confirm/Cancel button stays valid.
const PENDING_TTL: Duration = Duration::from_secs(30 * 60);
/// At most one refusal per stranger per this long (no spam through us).
const REFUSAL_GAP: Duration = Duration::from_secs(60);
/// Command text kept in an audit row, in characters.
const AUDIT_COMMAND_CHARS: usize = 300;

/// At most `max` characters of `s` (cut on a character boundary), `…`
/// marking a cut.
fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}
/// How long a publish/retract report waits for the deliveries.
const FOLLOW_UP_WAIT: Duration = Duration::from_secs(10 * 60);

struct Pending {
    caller: String,
    url: String,
    post: Post,
    targets: Vec<String>,
    created: Instant,
}

pub struct Center {
    db: Db,
    engine: Arc<Engine>,
    poller: Arc<Poller>,
    cfg: Arc<Config>,
    fetcher: Fetcher,
    tz: chrono_tz::Tz,
    started: Instant,
    pending: Mutex<HashMap<String, Pending>>,
    refusals: crate::refusals::RefusalLimiter,
    fetch_slots: Arc<crate::fetch_slots::FetchSlots>,
}

fn ago(ms: i64) -> String {
    let d = (now_ms() - ms).max(0) / 1000;
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

impl Center {
    pub fn new(
        db: Db,
        engine: Arc<Engine>,
        poller: Arc<Poller>,
        cfg: Arc<Config>,
    ) -> anyhow::Result<Arc<Center>> {
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
        let tz = cfg
            .commands
            .timezone
            .trim()
            .parse::<chrono_tz::Tz>()
            .unwrap_or(chrono_tz::UTC);
        Ok(Arc::new(Center {
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
        match c.platform {
            Platform::Telegram => match &self.cfg.telegram {
                Some(t) if t.admins.contains(&c.user_id) => Role::Admin,
                Some(t) if t.editors.contains(&c.user_id) => Role::Editor,
                _ => Role::Stranger,
            },
            Platform::Discord => match &self.cfg.discord {
                Some(d)
                    if d.admins.contains(&c.user_id)
                        || c.roles.iter().any(|r| d.admin_roles.contains(r)) =>
                {
                    Role::Admin
                }
                Some(d)
                    if d.editors.contains(&c.user_id)
                        || c.roles.iter().any(|r| d.editor_roles.contains(r)) =>
                {
                    Role::Editor
                }
                _ => Role::Stranger,
            },
            // The listener let the caller in with its access token.
            Platform::Web => Role::Admin,
        }
    }

    async fn audit(&self, c: &Caller, command: String, outcome: &str) {
        let e = AuditEntry {
            id: 0,
            at: now_ms(),
            platform: c.platform.as_str().into(),
            user_id: c.user_id.to_string(),
            user_name: Some(c.name.clone()),
            command: truncate_chars(&command, AUDIT_COMMAND_CHARS),
            outcome: truncate_chars(outcome, 500),
        };
        let keep = self.cfg.commands.audit_max_rows as usize;
        let before = now_ms().saturating_sub(self.cfg.commands.audit_max_age.0.as_millis() as i64);
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

    // ------------------------------------------------------------- admin

    async fn status(&self) -> Result<Reply, StoreError> {
        let feeds = self.poller.feeds();
        let states = self.db.call(|s| s.feed_states()).await?;
        let (mut ok, mut failing, mut paused) = (0, 0, 0);
        for f in &feeds {
            match states.iter().find(|s| s.feed == f.feed.name.0) {
                Some(s) if s.paused_reason.is_some() => paused += 1,
                Some(s) if s.consecutive_failures > 0 => failing += 1,
                _ => ok += 1,
            }
        }
        let (mut tok, mut tdis, mut tpaused) = (0, 0, 0);
        for t in self.all_targets() {
            match self.db.call(move |s| s.target_state(&t)).await? {
                Some(st) if st.disabled_reason.is_some() => tdis += 1,
                Some(st) if st.paused_reason.is_some() => tpaused += 1,
                _ => tok += 1,
            }
        }
        let since = now_ms() - 24 * 3_600_000;
        let c = self.db.call(move |s| s.counts(None, since)).await?;
        let up = human(self.started.elapsed().as_secs() as i64);
        Ok(Reply::text(format!(
            "Crier {} — up {up}\nFeeds: {ok} ok, {failing} failing, {paused} paused\nTargets: {tok} ok, {tdis} disabled, {tpaused} paused\nQueue: {} waiting\nLast 24 h: {} delivered, {} failed, {} filtered\nPanics since start: {}",
            env!("CARGO_PKG_VERSION"),
            c.queued,
            c.sent,
            c.failed,
            c.filtered,
            crate::supervise::panics_since_start()
        )))
    }

    async fn feeds(&self) -> Result<Reply, StoreError> {
        let states = self.db.call(|s| s.feed_states()).await?;
        let subs = self.db.call(|s| s.subscriptions()).await?;
        let mut s = String::new();
        for f in self.poller.feeds() {
            let st = states.iter().find(|x| x.feed == f.feed.name.0);
            let health = match st {
                None => "not polled yet".to_string(),
                Some(st) if st.paused_reason.is_some() => {
                    format!("PAUSED: {}", st.paused_reason.as_deref().unwrap_or(""))
                }
                Some(st) if st.consecutive_failures > 0 => format!(
                    "FAILING ({}×): {}",
                    st.consecutive_failures,
                    st.last_error.as_deref().unwrap_or("")
                ),
                Some(_) => "ok".to_string(),
            };
            s.push_str(&crate::redact::redact_text(&format!(
                "• {} [{}] — {health}\n  {}\n",
                f.feed.name,
                if f.dynamic { "from chat" } else { "config" },
                crate::redact::redact_url(&f.feed.url)
            )));
            if let Some(st) = st {
                let mut line = Vec::new();
                if let Some(t) = st.last_success_at {
                    line.push(format!("last success {}", ago(t)));
                }
                if let Some(t) = st.next_poll_at.filter(|_| st.paused_reason.is_none()) {
                    line.push(format!(
                        "next poll in {}",
                        human(((t - now_ms()) / 1000).max(0))
                    ));
                }
                if let Some(sub) = subs.iter().find(|x| x.feed == f.feed.name.0) {
                    line.push(crate::websub::describe(sub, now_ms()));
                }
                if !line.is_empty() {
                    s.push_str(&format!("  {}\n", line.join(", ")));
                }
            }
        }
        if s.is_empty() {
            s.push_str("No feeds.");
        }
        Ok(Reply::text(s.trim_end().to_string()))
    }

    async fn targets(&self) -> Result<Reply, StoreError> {
        let mut s = String::new();
        for name in self.all_targets() {
            let platform = self
                .engine
                .target(&name)
                .map(|t| t.target.platform())
                .unwrap_or("?");
            let n = name.clone();
            let st = self.db.call(move |s| s.target_state(&n)).await?;
            let n = name.clone();
            let c = self
                .db
                .call(move |s| s.counts(Some(&n), now_ms() - 24 * 3_600_000))
                .await?;
            let state = match &st {
                Some(st) if st.disabled_reason.is_some() => {
                    format!("DISABLED: {}", st.disabled_reason.as_deref().unwrap_or(""))
                }
                Some(st) if st.paused_reason.is_some() => {
                    format!("PAUSED: {}", st.paused_reason.as_deref().unwrap_or(""))
                }
                _ => "ok".into(),
            };
            s.push_str(&format!(
                "• {name} ({platform}) — {state}\n  {} waiting, {} delivered and {} failed in 24 h\n",
                c.queued, c.sent, c.failed
            ));
        }
        if s.is_empty() {
            s.push_str("No targets.");
        }
        Ok(Reply::text(s.trim_end().to_string()))
    }

    async fn pause(&self, c: &Caller, name: &str, pause: bool) -> Result<Reply, StoreError> {
        let now = now_ms();
        if self.poller.feed(name).is_some() {
            let n = name.to_string();
            let reason = format!("paused by {} ({})", c.name, c.key());
            let changed = self
                .db
                .call(move |s| {
                    let mut st = s
                        .feed_state(&n)?
                        .unwrap_or_else(|| crier_storage::FeedState {
                            feed: n.clone(),
                            fetch_state: "{}".into(),
                            ..Default::default()
                        });
                    let was = st.paused_reason.is_some();
                    if pause {
                        st.paused_reason = Some(reason.clone());
                    } else {
                        st.paused_reason = None;
                        st.consecutive_failures = 0;
                        st.next_poll_at = Some(now);
                    }
                    s.put_feed_state(&st, now)?;
                    Ok(was != pause)
                })
                .await?;
            if !pause {
                self.engine.alerts().close(&format!("feed-paused:{name}"));
                self.poller.wake(name);
            }
            return Ok(Reply::text(match (pause, changed) {
                (true, true) => format!("Feed {name} paused."),
                (true, false) => format!("Feed {name} was already paused."),
                (false, true) => format!("Feed {name} resumed; polling it now."),
                (false, false) => format!("Feed {name} was not paused."),
            }));
        }
        if self.engine.target(name).is_some() {
            let n = name.to_string();
            let reason = format!("paused by {} ({})", c.name, c.key());
            let changed = self
                .db
                .call(move |s| {
                    if pause {
                        s.set_target_paused(&n, Some(&reason), now)
                    } else {
                        let a = s.set_target_paused(&n, None, now)?;
                        let b = s.set_target_disabled(&n, None, now)?;
                        Ok(a || b)
                    }
                })
                .await?;
            if !pause {
                self.engine
                    .alerts()
                    .close(&format!("target-disabled:{name}"));
            }
            self.engine.wake(name);
            return Ok(Reply::text(match (pause, changed) {
                (true, true) => format!("Target {name} paused; its posts wait."),
                (true, false) => format!("Target {name} was already paused."),
                (false, true) => format!("Target {name} resumed; delivering what waited."),
                (false, false) => format!("Target {name} was neither paused nor disabled."),
            }));
        }
        Ok(Reply::text(format!("No feed or target named {name:?}.")))
    }

    async fn retry(&self, w: RetryWhat) -> Result<Reply, StoreError> {
        let now = now_ms();
        let (id, target) = match &w {
            RetryWhat::Delivery(id) => (Some(*id), None),
            RetryWhat::Target(t) => {
                if self.engine.target(t).is_none() {
                    return Ok(Reply::text(format!("No target named {t:?}.")));
                }
                (None, Some(t.clone()))
            }
            RetryWhat::All => (None, None),
        };
        let t = target.clone();
        let (n, targets) = self
            .db
            .call(move |s| s.requeue_failed(id, t.as_deref(), now))
            .await?;
        for t in &targets {
            self.engine.wake(t);
        }
        Ok(Reply::text(if n == 0 {
            "Nothing to retry: no failed deliveries there.".to_string()
        } else {
            format!(
                "Re-queued {n} failed deliver{} ({}).",
                if n == 1 { "y" } else { "ies" },
                targets.join(", ")
            )
        }))
    }

    async fn find_articles(&self, what: &str) -> Result<Vec<crier_storage::Article>, StoreError> {
        let what = what.trim().to_string();
        if let Ok(id) = what.trim_start_matches('#').parse::<i64>() {
            return Ok(self
                .db
                .call(move |s| s.article(id))
                .await?
                .into_iter()
                .collect());
        }
        let mut candidates = vec![what.clone()];
        if let Some(n) = sources::identity::normalize_link(&what, None) {
            candidates.push(n);
        }
        if let Some(stripped) = what.strip_suffix('/') {
            candidates.push(stripped.to_string());
        } else {
            candidates.push(format!("{what}/"));
        }
        self.db
            .call(move |s| {
                let mut out: Vec<crier_storage::Article> = Vec::new();
                for c in &candidates {
                    let by_key = s.article_by_key(EDITOR_FEED, &format!("link:{c}"))?;
                    for a in s.articles_by_link(c)?.into_iter().chain(by_key) {
                        if !out.iter().any(|x| x.id == a.id) {
                            out.push(a);
                        }
                    }
                }
                Ok(out)
            })
            .await
    }

    async fn why(&self, url: &str) -> Result<Reply, StoreError> {
        let articles = self.find_articles(url).await?;
        if articles.is_empty() {
            return Ok(Reply::text(format!("Crier has not seen {url}.")));
        }
        let mut s = String::new();
        for a in articles {
            s.push_str(&format!(
                "#{} {} (feed {}, first seen {})\n",
                a.id,
                a.title,
                a.feed,
                ago(a.first_seen_at)
            ));
            let id = a.id;
            let rows = self.db.call(move |s| s.deliveries_for_article(id)).await?;
            let mut targets: Vec<String> = rows.iter().map(|r| r.target.clone()).collect();
            targets.dedup();
            if targets.is_empty() {
                s.push_str("  routed to no target\n");
            }
            for t in targets {
                let mine: Vec<_> = rows.iter().filter(|r| r.target == t).collect();
                let post: Vec<_> = mine.iter().filter(|r| r.action == Action::Post).collect();
                let line = self.explain(&t, &post).await?;
                s.push_str(&format!("  • {t}: {line}\n"));
                for r in mine.iter().filter(|r| r.action != Action::Post) {
                    let what = match r.action {
                        Action::Edit => "edit",
                        _ => "delete",
                    };
                    s.push_str(&format!(
                        "    {what} part {}: {}{}\n",
                        r.part,
                        r.state,
                        r.reason
                            .as_deref()
                            .or(r.last_error.as_deref())
                            .map(|x| format!(" — {x}"))
                            .unwrap_or_default()
                    ));
                }
            }
        }
        Ok(Reply::text(s.trim_end().to_string()))
    }

    async fn explain(
        &self,
        target: &str,
        post: &[&&crier_storage::Delivery],
    ) -> Result<String, StoreError> {
        let Some(first) = post.first() else {
            return Ok("no post job".into());
        };
        Ok(match first.state {
            State::Filtered => format!(
                "filtered — {}",
                first.reason.as_deref().unwrap_or("by a rule")
            ),
            State::Skipped => format!("skipped — {}", first.reason.as_deref().unwrap_or("")),
            State::Failed => format!(
                "FAILED after {} attempts — {} (/retry {})",
                first.attempts,
                first.last_error.as_deref().unwrap_or(""),
                first.id
            ),
            _ if post.iter().all(|r| r.state == State::Sent) => {
                let links: Vec<String> = post
                    .iter()
                    .map(|r| {
                        r.message_url
                            .clone()
                            .or_else(|| r.message_id.clone().map(|m| format!("message {m}")))
                            .unwrap_or_else(|| "sent".into())
                    })
                    .collect();
                let mut s = format!(
                    "delivered {} — {}",
                    first.sent_at.map(ago).unwrap_or_default(),
                    links.join(", ")
                );
                if let Some(n) = post.iter().find_map(|r| r.reason.clone()) {
                    s.push_str(&format!(" ({n})"));
                }
                if post.iter().any(|r| r.ambiguous) {
                    s.push_str(" [an ambiguous send: a duplicate is possible]");
                }
                s
            }
            _ => {
                let t = target.to_string();
                let st = self.db.call(move |s| s.target_state(&t)).await?;
                let waiting_for = match st {
                    Some(st) if st.disabled_reason.is_some() => {
                        format!(
                            "the target is disabled: {}",
                            st.disabled_reason.unwrap_or_default()
                        )
                    }
                    Some(st) if st.paused_reason.is_some() => "the target is paused".to_string(),
                    _ => {
                        let pending = post.iter().find(|r| r.state != State::Sent);
                        match pending {
                            Some(r) if r.not_before.is_some_and(|t| t > now_ms()) => {
                                format!(
                                    "scheduled for {}",
                                    self.time(r.not_before.unwrap_or_default())
                                )
                            }
                            Some(r) if r.attempts > 0 => format!(
                                "retrying (attempt {}, next at {}) — {}",
                                r.attempts,
                                self.time(r.next_attempt_at),
                                r.last_error.as_deref().unwrap_or("")
                            ),
                            _ => "its turn in the target's queue".to_string(),
                        }
                    }
                };
                format!("waiting — {waiting_for}")
            }
        })
    }

    async fn log(&self, n: usize) -> Result<Reply, StoreError> {
        let rows = self
            .db
            .call(move |s| {
                s.log(&crier_storage::LogQuery {
                    limit: n,
                    ..Default::default()
                })
            })
            .await?;
        let mut s = String::new();
        for r in rows {
            let d = &r.delivery;
            let detail = match d.state {
                State::Sent => d
                    .message_url
                    .clone()
                    .or(d.message_id.clone())
                    .unwrap_or_default(),
                State::Failed | State::Pending | State::Sending => {
                    d.last_error.clone().unwrap_or_default()
                }
                _ => d.reason.clone().unwrap_or_default(),
            };
            let title: String = r.title.chars().take(50).collect();
            s.push_str(&format!(
                "#{} {} {} {} «{}» {}\n",
                d.id, d.target, d.state, d.action, title, detail
            ));
        }
        if s.is_empty() {
            s.push_str("No deliveries yet.");
        }
        Ok(Reply::text(s.trim_end().to_string()))
    }

    async fn subscribe(&self, c: &Caller, url: &str, targets: Vec<String>) -> Reply {
        let targets = match self.check_targets(targets) {
            Ok(t) => t,
            Err(r) => return r,
        };
        // Already watched: add the targets to that feed, not a second feed.
        if let Some(text) = crate::resubscribe::merge_into_existing(
            &self.db,
            &self.poller,
            &self.cfg,
            url,
            &targets,
        )
        .await
        {
            return Reply::text(text);
        }
        let report = sources::inspect::inspect(&self.fetcher, url).await;
        let doc = match report.result {
            Ok(d) if d.kind == sources::inspect::InspectKind::Feed => d,
            Ok(_) => {
                return Reply::text(format!(
                    "{url} is a page, not a feed (try /publish for a page)."
                ));
            }
            Err(e) => return Reply::text(format!("Cannot read {url}: {e}")),
        };
        let base = url::Url::parse(url)
            .ok()
            .and_then(|u| {
                u.host_str()
                    .map(|h| h.trim_start_matches("www.").to_string())
            })
            .unwrap_or_else(|| "feed".into());
        let mut name = base.clone();
        let mut i = 2;
        while self.poller.feed(&name).is_some() {
            name = format!("{base}-{i}");
            i += 1;
        }
        let rec = DynamicFeed {
            name: name.clone(),
            url: url.to_string(),
            targets: targets.clone(),
            interval_ms: self.cfg.commands.subscribe_interval.0.as_millis() as i64,
            added_by: c.key(),
            added_at: now_ms(),
        };
        let feed = dynamic_feed_config(&rec);
        match self.db.call(move |s| s.add_dynamic_feed(&rec)).await {
            Ok(true) => {}
            Ok(false) => return Reply::text(format!("A feed named {name} exists already.")),
            Err(e) => return store_err(e),
        }
        if !self.poller.add_feed(feed) {
            return Reply::text(format!("A feed named {name} exists already."));
        }
        Reply::text(format!(
            "Subscribed: feed {name} ({} items now; only new ones will be posted) → {}.",
            doc.items.len(),
            targets.join(", ")
        ))
    }

    async fn unsubscribe(&self, name: &str) -> Result<Reply, StoreError> {
        if let Err(e) = self.poller.remove_feed(name) {
            return Ok(Reply::text(e));
        }
        let n = name.to_string();
        self.db.call(move |s| s.remove_dynamic_feed(&n)).await?;
        Ok(Reply::text(format!("Unsubscribed from {name}.")))
    }

    // ------------------------------------------------------------ editors

    /// Fetch a page (or a feed's newest item) for an editor, through the
    /// SSRF guard.
    async fn fetch(&self, url: &str) -> Result<Post, String> {
        let report = sources::inspect::inspect(&self.fetcher, url).await;
        let doc = report
            .result
            .map_err(|e| format!("Cannot read {url}: {e}"))?;
        let mut items = doc.items;
        sources::sort_oldest_first(&mut items);
        let mut post = items
            .pop()
            .map(|i| i.post)
            .ok_or_else(|| format!("{url} has no article"))?;
        post.feed = EDITOR_FEED.into();
        Ok(post)
    }

    /// How a post looks on each of `targets`.
    pub fn previews(&self, post: &Post, targets: &[String]) -> Vec<Preview> {
        let ff = self.engine.feed_format(&post.feed);
        targets
            .iter()
            .filter_map(|t| {
                let rt = self.engine.target(t)?;
                let (parts, text) = match rt.target.render(post, &ff) {
                    Ok(parts) => {
                        let text = parts
                            .iter()
                            .map(|p| match p.payload.get("text").and_then(|x| x.as_str()) {
                                Some(t) if rt.target.platform() == "console" => t.to_string(),
                                _ => crier_bots::format::terminal::payload(&p.payload),
                            })
                            .collect::<Vec<_>>()
                            .join(&format!(
                                "\n{}\n",
                                crier_bots::format::terminal::NEXT_MESSAGE
                            ));
                        (parts, text)
                    }
                    Err(e) => (Vec::new(), format!("cannot render: {e}")),
                };
                Some(Preview {
                    target: t.clone(),
                    platform: rt.target.platform(),
                    parts,
                    text,
                })
            })
            .collect()
    }

    async fn publish(&self, c: &Caller, url: &str, targets: Vec<String>) -> Reply {
        let targets = match self.check_targets(targets) {
            Ok(t) => t,
            Err(r) => return r,
        };
        let post = match self.fetch(url).await {
            Ok(p) => p,
            Err(e) => return Reply::text(e),
        };
        let token = format!("{:08x}", rand::random::<u32>());
        let previews = self.previews(&post, &targets);
        let label = post.label().to_string();
        {
            let mut p = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            p.retain(|_, v| v.created.elapsed() < PENDING_TTL);
            p.insert(
                token.clone(),
                Pending {
                    caller: c.key(),
                    url: url.to_string(),
                    post,
                    targets: targets.clone(),
                    created: Instant::now(),
                },
            );
        }
        Reply {
            text: format!("Publish «{label}» to {}?", targets.join(", ")),
            buttons: vec![
                Button {
                    label: "Confirm".into(),
                    data: format!("pub:{token}"),
                },
                Button {
                    label: "Cancel".into(),
                    data: format!("no:{token}"),
                },
            ],
            previews,
            follow_up: None,
            file: None,
            refused: false,
        }
    }

    /// A Confirm/Cancel click.
    pub async fn button(&self, c: &Caller, data: &str) -> Reply {
        let (kind, token) = data.split_once(':').unwrap_or(("", ""));
        let pending = {
            let mut p = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            match p.get(token) {
                Some(x) if x.caller != c.key() => {
                    // Checked before anything changes; the refusal is
                    // rate-limited like the others.
                    drop(p);
                    tracing::warn!(caller = %c.key(), name = %c.name, "a button of someone else's question refused");
                    return match self.refusal(c) {
                        Some(_) => Reply::refusal("Only the editor who asked can confirm this."),
                        None => Reply::refusal(""),
                    };
                }
                Some(x) if x.created.elapsed() >= PENDING_TTL => {
                    p.remove(token);
                    return Reply::text("This confirmation has expired; send /publish again.");
                }
                Some(_) => p.remove(token),
                None => None,
            }
        };
        let Some(pending) = pending else {
            return Reply::text("Nothing to confirm (already done, cancelled or expired).");
        };
        if self.role(c) < Role::Editor {
            return self.refusal(c).unwrap_or_default();
        }
        let line = format!("/publish {}", pending.post.link.as_deref().unwrap_or(""));
        let reply = match kind {
            "pub" => {
                self.enqueue(pending.post, Some(&pending.url), &pending.targets, None)
                    .await
            }
            _ => Reply::text("Cancelled; nothing was published."),
        };
        self.audit(c, line, reply.text.lines().next().unwrap_or(""))
            .await;
        reply
    }

    /// Record an editor's article with delivery rows for `targets`.
    async fn enqueue(
        &self,
        post: Post,
        requested: Option<&str>,
        targets: &[String],
        not_before: Option<i64>,
    ) -> Reply {
        // The canonical link first, then the URL the editor gave (so that
        // /why and /retract work with either).
        let mut keys: Vec<String> = [post.link.as_deref(), requested]
            .into_iter()
            .flatten()
            .filter_map(|l| sources::identity::normalize_link(l, None))
            .map(|l| format!("link:{l}"))
            .collect();
        keys.dedup();
        if keys.is_empty() {
            keys.push(format!("hash:{}", sources::identity::content_hash(&post)));
        }
        let item = IncomingArticle {
            keys,
            content_hash: sources::identity::content_hash(&post),
            title: post.title.clone(),
            link: post.link.clone(),
            published_at: post.published.map(|t| t.timestamp_millis()),
            payload: match serde_json::to_string(&post) {
                Ok(p) => p,
                Err(e) => return Reply::text(format!("Cannot record the article: {e}")),
            },
            refresh_only: false,
        };
        let routes: Vec<Route> = targets
            .iter()
            .map(|t| {
                let mut r = Route::pending(t.clone());
                r.not_before = not_before;
                r
            })
            .collect();
        let label = post.label().to_string();
        let out = match self
            .db
            .call(move |s| s.ingest_one(EDITOR_FEED, &item, &routes, now_ms()))
            .await
        {
            Ok(o) => o,
            Err(e) => return store_err(e),
        };
        match out {
            Ingested::New { article_id } => {
                for t in targets {
                    self.engine.wake(t);
                }
                match not_before {
                    Some(at) => Reply::text(format!(
                        "Scheduled #{article_id} «{label}» for {} on {}. /cancel {article_id} to cancel.",
                        self.time(at),
                        targets.join(", ")
                    )),
                    None => Reply {
                        text: format!(
                            "Publishing #{article_id} «{label}» to {}…",
                            targets.join(", ")
                        ),
                        follow_up: Some(FollowUp::Published(article_id)),
                        refused: false,
                        ..Reply::default()
                    },
                }
            }
            Ingested::Updated { article_id, .. } => Reply::text(format!(
                "#{article_id} was published before; its posts are being updated with the new text."
            )),
            Ingested::Unchanged { article_id } => Reply::text(format!(
                "#{article_id} was published before, unchanged. /why {} tells where.",
                post.link.as_deref().unwrap_or("")
            )),
        }
    }

    async fn post(
        &self,
        _c: &Caller,
        html: String,
        image: Option<String>,
        targets: Vec<String>,
        source: String,
    ) -> Reply {
        let targets = match self.check_targets(targets) {
            Ok(t) => t,
            Err(r) => return r,
        };
        if html.trim().is_empty() && image.is_none() {
            return Reply::text("Nothing to post: the message is empty.");
        }
        let post = Post {
            feed: EDITOR_FEED.into(),
            summary_html: Some(html.clone()),
            content_html: Some(html),
            images: image.into_iter().collect(),
            ..Post::default()
        };
        // The source message is the identity: posting it twice is a no-op.
        let content_hash = sources::identity::content_hash(&post);
        let item = IncomingArticle {
            keys: vec![format!("post:{source}")],
            content_hash,
            title: String::new(),
            link: None,
            published_at: None,
            payload: serde_json::to_string(&post).unwrap_or_default(),
            refresh_only: false,
        };
        let routes: Vec<Route> = targets.iter().map(|t| Route::pending(t.clone())).collect();
        match self
            .db
            .call(move |s| s.ingest_one(EDITOR_FEED, &item, &routes, now_ms()))
            .await
        {
            Ok(Ingested::New { article_id }) => {
                for t in &targets {
                    self.engine.wake(t);
                }
                Reply {
                    text: format!("Posting #{article_id} to {}…", targets.join(", ")),
                    follow_up: Some(FollowUp::Published(article_id)),
                    refused: false,
                    ..Reply::default()
                }
            }
            Ok(other) => Reply::text(format!(
                "This message was posted before (#{}).",
                other.article_id()
            )),
            Err(e) => store_err(e),
        }
    }

    async fn schedule(&self, at: i64, url: &str, targets: Vec<String>) -> Reply {
        let targets = match self.check_targets(targets) {
            Ok(t) => t,
            Err(r) => return r,
        };
        match self.fetch(url).await {
            Ok(post) => self.enqueue(post, Some(url), &targets, Some(at)).await,
            Err(e) => Reply::text(e),
        }
    }

    async fn queue(&self) -> Result<Reply, StoreError> {
        let now = now_ms();
        let q = self.db.call(move |s| s.scheduled(now)).await?;
        if q.is_empty() {
            return Ok(Reply::text("No scheduled posts."));
        }
        let mut s = String::from("Scheduled:\n");
        for x in q {
            s.push_str(&format!(
                "#{} {} — «{}» → {}\n",
                x.article_id,
                self.time(x.due),
                x.title,
                x.targets.join(", ")
            ));
        }
        Ok(Reply::text(s.trim_end().to_string()))
    }

    async fn cancel(&self, c: &Caller, id: i64) -> Result<Reply, StoreError> {
        let reason = format!("cancelled by {} ({})", c.name, c.key());
        let n = self
            .db
            .call(move |s| s.cancel_scheduled(id, &reason, now_ms()))
            .await?;
        Ok(Reply::text(if n == 0 {
            format!("#{id} is not a scheduled post (see /queue).")
        } else {
            format!("Cancelled #{id}.")
        }))
    }

    async fn retract(&self, what: &str) -> Result<Reply, StoreError> {
        let articles = self.find_articles(what).await?;
        let Some(a) = articles.first() else {
            return Ok(Reply::text(format!("Crier has not seen {what}.")));
        };
        let id = a.id;
        let targets = self.db.call(move |s| s.retract(id, now_ms())).await?;
        for t in &targets {
            self.engine.wake(t);
        }
        Ok(Reply {
            text: if targets.is_empty() {
                format!("Retracted #{id} «{}»; it was not posted anywhere.", a.title)
            } else {
                format!(
                    "Retracting #{id} «{}»: deleting its messages on {}…",
                    a.title,
                    targets.join(", ")
                )
            },
            follow_up: (!targets.is_empty()).then_some(FollowUp::Retracted(id)),
            ..Reply::default()
        })
    }

    /// Wait for a publish or retraction to be carried out, then report.
    pub async fn follow_up(&self, f: FollowUp) -> Reply {
        let (id, action) = match f {
            FollowUp::Published(id) => (id, Action::Post),
            FollowUp::Retracted(id) => (id, Action::Delete),
        };
        let start = Instant::now();
        loop {
            let rows = match self.db.call(move |s| s.deliveries_for_article(id)).await {
                Ok(r) => r,
                Err(e) => return store_err(e),
            };
            let job: Vec<_> = rows.into_iter().filter(|r| r.action == action).collect();
            let done = job.iter().all(|r| {
                matches!(
                    r.state,
                    State::Sent | State::Failed | State::Skipped | State::Filtered
                )
            });
            if done || start.elapsed() > FOLLOW_UP_WAIT {
                return Reply::text(self.report(id, action, &job, done));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    fn report(
        &self,
        id: i64,
        action: Action,
        job: &[crier_storage::Delivery],
        done: bool,
    ) -> String {
        let mut s = match action {
            Action::Post => format!("#{id} published:\n"),
            _ => format!("#{id} retracted:\n"),
        };
        let mut targets: Vec<&str> = job.iter().map(|r| r.target.as_str()).collect();
        targets.dedup();
        for t in targets {
            let rows: Vec<_> = job.iter().filter(|r| r.target == t).collect();
            let line = if rows.iter().all(|r| r.state == State::Sent) {
                match action {
                    Action::Post => rows
                        .iter()
                        .filter(|r| r.op == Op::Send)
                        .map(|r| {
                            r.message_url
                                .clone()
                                .or(r.message_id.clone())
                                .unwrap_or_else(|| "sent".into())
                        })
                        .collect::<Vec<_>>()
                        .join(", "),
                    _ => format!("{} message(s) deleted", rows.len()),
                }
            } else {
                rows.iter()
                    .filter(|r| r.state != State::Sent)
                    .map(|r| {
                        format!(
                            "{}: {}",
                            r.state,
                            r.reason
                                .as_deref()
                                .or(r.last_error.as_deref())
                                .unwrap_or("waiting")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            s.push_str(&format!("• {t}: {line}\n"));
        }
        if !done {
            s.push_str("(still in progress; /why tells more later)\n");
        }
        s.trim_end().to_string()
    }
}

/// The config of a feed added from chat.
pub fn dynamic_feed_config(f: &DynamicFeed) -> FeedConfig {
    FeedConfig {
        name: Str(f.name.clone()),
        url: Str(f.url.clone()),
        interval: crate::config::Dur(Duration::from_millis(f.interval_ms.max(1000) as u64)),
        targets: f.targets.iter().map(|t| Str(t.clone())).collect(),
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
impl Handler for Center {
    fn role(&self, caller: &Caller) -> Role {
        Center::role(self, caller)
    }
    fn timezone(&self) -> chrono_tz::Tz {
        self.tz
    }
    async fn handle(&self, caller: &Caller, cmd: Cmd) -> Option<Reply> {
        Center::handle(self, caller, cmd).await
    }
    async fn button(&self, caller: &Caller, data: &str) -> Reply {
        Center::button(self, caller, data).await
    }
    async fn follow_up(&self, f: FollowUp) -> Reply {
        Center::follow_up(self, f).await
    }
}
