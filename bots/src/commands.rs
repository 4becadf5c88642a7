//! The platform-neutral command interface: who may do what, the
//! commands' syntax, and their replies. The platform front-ends
//! (`telegram::commands`, `discord::commands`) turn messages, slash
//! commands and button clicks into [`Cmd`]s for a [`Handler`] and show its
//! [`Reply`]s; the core implements the handler (it owns the delivery log).

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

use crate::target::Part;

/// What the core offers the front-ends.
#[async_trait::async_trait]
pub trait Handler: Send + Sync {
    /// The caller's role.
    fn role(&self, caller: &Caller) -> Role;
    /// The timezone of times in commands and replies.
    fn timezone(&self) -> chrono_tz::Tz;
    /// Run a command. `None`: say nothing (a repeated refusal).
    async fn handle(&self, caller: &Caller, cmd: Cmd) -> Option<Reply>;
    /// A button click (Confirm / Cancel).
    async fn button(&self, caller: &Caller, data: &str) -> Reply;
    /// Wait for a publish or retraction to be carried out, then report.
    async fn follow_up(&self, f: FollowUp) -> Reply;
}

/// A front-end that can message the admins (alerts).
#[async_trait::async_trait]
pub trait Notifier: Send + Sync {
    async fn notify_admins(&self, text: &str);
}

/// Where the status page's callers come from (they hold the listener's
/// access token); chat callers carry their platform's name.
pub const WEB: &str = "http";

/// Who sent a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The platform's name (`DynPlatform::name`), or [`WEB`].
    pub platform: &'static str,
    pub user_id: i64,
    /// A display name for the audit log and replies.
    pub name: String,
    /// Discord role ids of the member (empty on Telegram).
    pub roles: Vec<i64>,
}

impl Caller {
    /// `telegram:123` — the audit log's and pending confirmations' key.
    pub fn key(&self) -> String {
        format!("{}:{}", self.platform, self.user_id)
    }
}

/// What a caller may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Stranger,
    Editor,
    Admin,
}

/// `/retry` what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryWhat {
    Delivery(i64),
    Target(String),
    All,
}

/// A parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cmd {
    Help,
    // admins
    Status,
    Feeds,
    Targets,
    Pause(String),
    Resume(String),
    Retry(RetryWhat),
    Why(String),
    Log(usize),
    Subscribe {
        url: String,
        targets: Vec<String>,
    },
    Unsubscribe(String),
    /// `/import [targets…]` with an OPML file (the front-end finds it).
    Import {
        file: Upload,
        targets: Vec<String>,
    },
    /// `/export`: the watched feeds as an OPML file.
    Export,
    // editors (and admins)
    Preview(String),
    Publish {
        url: String,
        targets: Vec<String>,
    },
    /// An editor's own message; `html` uses the formatter's markup.
    Post {
        html: String,
        image: Option<String>,
        targets: Vec<String>,
        /// A stable key of the source message (de-duplication).
        source: String,
    },
    /// `/post [targets…]` before the content is known: the front-end
    /// takes the replied-to message, or the caller's next one.
    PostNext {
        targets: Vec<String>,
    },
    Schedule {
        at: i64,
        url: String,
        targets: Vec<String>,
    },
    Queue,
    Cancel(i64),
    Retract(String),
}

impl Cmd {
    /// The least role allowed to run it.
    pub fn needs(&self) -> Role {
        match self {
            Cmd::Help => Role::Stranger,
            Cmd::Preview(_)
            | Cmd::Publish { .. }
            | Cmd::Post { .. }
            | Cmd::PostNext { .. }
            | Cmd::Schedule { .. }
            | Cmd::Queue
            | Cmd::Cancel(_)
            | Cmd::Retract(_) => Role::Editor,
            _ => Role::Admin,
        }
    }

    /// Commands that change something are written to the audit log.
    pub fn changes_state(&self) -> bool {
        matches!(
            self,
            Cmd::Pause(_)
                | Cmd::Resume(_)
                | Cmd::Retry(_)
                | Cmd::Subscribe { .. }
                | Cmd::Unsubscribe(_)
                | Cmd::Import { .. }
                | Cmd::Publish { .. }
                | Cmd::Post { .. }
                | Cmd::Schedule { .. }
                | Cmd::Cancel(_)
                | Cmd::Retract(_)
        )
    }
}

/// The largest OPML file `/import` takes (an OPML of a few hundred feeds
/// is tens of KiB; Telegram's `getFile` would allow 20 MB).
pub const IMPORT_MAX_BYTES: u64 = 1 << 20;

/// The OPML file of an `/import`, as the front-end found it.
#[derive(Clone, PartialEq, Eq)]
pub enum Upload {
    /// The command came without a file.
    Missing,
    /// The file's content, read by the front-end (Telegram: from the Bot
    /// API's file endpoint, whose URL holds the token).
    Bytes { name: String, bytes: Vec<u8> },
    /// A file the core fetches through the SSRF guard (a Discord
    /// attachment URL), with the size the platform declared.
    Url {
        name: String,
        url: String,
        size: Option<u64>,
    },
    /// The front-end could not take it (too big, a download error): why.
    Refused(String),
}

impl std::fmt::Debug for Upload {
    // The audit line: never the content, never a URL's query (signed
    // attachment URLs carry one).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Upload::Missing => write!(f, "no file"),
            Upload::Bytes { name, bytes } => write!(f, "{name:?} ({} bytes)", bytes.len()),
            Upload::Url { name, .. } => write!(f, "{name:?} (attachment)"),
            Upload::Refused(why) => write!(f, "refused file: {why}"),
        }
    }
}

/// The refusal of a file over [`IMPORT_MAX_BYTES`].
pub fn too_big(size: u64) -> String {
    format!(
        "The file is too big ({} KiB): /import takes OPML files up to {} KiB.",
        size.div_ceil(1024),
        IMPORT_MAX_BYTES / 1024
    )
}

/// A command's description for help texts and platform registration.
pub struct CommandSpec {
    pub name: &'static str,
    pub usage: &'static str,
    pub about: &'static str,
    pub role: Role,
}

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "help",
        usage: "/help",
        about: "what you can do here",
        role: Role::Stranger,
    },
    CommandSpec {
        name: "status",
        usage: "/status",
        about: "uptime, feeds, targets, queue, last 24 h",
        role: Role::Admin,
    },
    CommandSpec {
        name: "feeds",
        usage: "/feeds",
        about: "feeds and their health",
        role: Role::Admin,
    },
    CommandSpec {
        name: "targets",
        usage: "/targets",
        about: "targets and their state",
        role: Role::Admin,
    },
    CommandSpec {
        name: "pause",
        usage: "/pause <feed or target>",
        about: "stop polling a feed or posting to a target",
        role: Role::Admin,
    },
    CommandSpec {
        name: "resume",
        usage: "/resume <feed or target>",
        about: "resume (and re-enable) a feed or target",
        role: Role::Admin,
    },
    CommandSpec {
        name: "retry",
        usage: "/retry <delivery id | target | all>",
        about: "re-queue failed deliveries",
        role: Role::Admin,
    },
    CommandSpec {
        name: "why",
        usage: "/why <article URL>",
        about: "what happened to an article on each target",
        role: Role::Admin,
    },
    CommandSpec {
        name: "log",
        usage: "/log [n]",
        about: "the last deliveries",
        role: Role::Admin,
    },
    CommandSpec {
        name: "subscribe",
        usage: "/subscribe <feed URL> [targets…]",
        about: "watch a new feed",
        role: Role::Admin,
    },
    CommandSpec {
        name: "unsubscribe",
        usage: "/unsubscribe <feed>",
        about: "stop watching a feed added from chat",
        role: Role::Admin,
    },
    CommandSpec {
        name: "import",
        usage: "/import [targets…] (caption of an OPML file, or a reply to one)",
        about: "watch the feeds of an OPML file",
        role: Role::Admin,
    },
    CommandSpec {
        name: "export",
        usage: "/export",
        about: "the watched feeds as an OPML file",
        role: Role::Admin,
    },
    CommandSpec {
        name: "preview",
        usage: "/preview <URL>",
        about: "how a page or a feed's newest item would look",
        role: Role::Editor,
    },
    CommandSpec {
        name: "publish",
        usage: "/publish <URL> [targets…]",
        about: "publish a page, after a preview",
        role: Role::Editor,
    },
    CommandSpec {
        name: "post",
        usage: "/post [targets…] (reply to a message, or send it next)",
        about: "cross-post your own message",
        role: Role::Editor,
    },
    CommandSpec {
        name: "schedule",
        usage: "/schedule <time> <URL> [targets…]",
        about: "publish later (time: 2026-12-01T09:00, 09:00 or +2h)",
        role: Role::Editor,
    },
    CommandSpec {
        name: "queue",
        usage: "/queue",
        about: "scheduled posts",
        role: Role::Editor,
    },
    CommandSpec {
        name: "cancel",
        usage: "/cancel <id>",
        about: "cancel a scheduled post",
        role: Role::Editor,
    },
    CommandSpec {
        name: "retract",
        usage: "/retract <URL or id>",
        about: "delete an article's messages everywhere",
        role: Role::Editor,
    },
];

pub fn spec(name: &str) -> Option<&'static CommandSpec> {
    COMMANDS.iter().find(|c| c.name == name)
}

/// A reply button (Confirm / Cancel).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Button {
    pub label: String,
    /// Opaque data handed back to [`Handler::button`].
    pub data: String,
}

/// How a post will look on one target.
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    pub target: String,
    /// `telegram`, `discord`, `discord_webhook`, `console`.
    pub platform: &'static str,
    /// The exact rendered messages (to show natively on the same platform).
    pub parts: Vec<Part>,
    /// A textual rendering, for other platforms.
    pub text: String,
}

/// A command's answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reply {
    /// Plain text (no markup; front-ends escape nothing but send it as is).
    pub text: String,
    pub buttons: Vec<Button>,
    pub previews: Vec<Preview>,
    /// A report to send later (publish / retract summaries).
    pub follow_up: Option<FollowUp>,
    /// A file sent with the text (`/export`); boxed to keep `Reply` small.
    pub file: Option<Box<ReplyFile>>,
    /// The caller may not act on this (a button of someone else's
    /// question): the front-end leaves the question and its buttons as they
    /// are, and sends `text` only when it is not empty (refusals are
    /// rate-limited).
    pub refused: bool,
}

/// A file a reply carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplyFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// A report the front-end fetches later and sends to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowUp {
    Published(i64),
    Retracted(i64),
}

impl Reply {
    pub fn text(t: impl Into<String>) -> Reply {
        Reply {
            text: t.into(),
            ..Reply::default()
        }
    }

    /// A refusal (see [`Reply::refused`]); an empty text says nothing.
    pub fn refusal(t: impl Into<String>) -> Reply {
        Reply {
            text: t.into(),
            refused: true,
            ..Reply::default()
        }
    }
}

/// Parse `/cmd[@bot] args…`. `Ok(None)`: not a command (or a command for
/// another bot). `Err`: a usage line to show.
pub fn parse(
    text: &str,
    bot_username: Option<&str>,
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> Result<Option<Cmd>, String> {
    let text = text.trim();
    let Some(rest) = text.strip_prefix('/') else {
        return Ok(None);
    };
    let mut words = rest.split_whitespace();
    let head = words.next().unwrap_or("");
    let (name, at) = match head.split_once('@') {
        Some((n, b)) => (n, Some(b)),
        None => (head, None),
    };
    if let (Some(at), Some(me)) = (at, bot_username)
        && !at.eq_ignore_ascii_case(me)
    {
        return Ok(None);
    }
    let args: Vec<String> = words.map(str::to_string).collect();
    parse_args(&name.to_ascii_lowercase(), &args, now, tz).map(Some)
}

fn usage(name: &str) -> String {
    match spec(name) {
        Some(s) => format!("Usage: {}", s.usage),
        None => format!("Unknown command /{name}. Send /help for the list."),
    }
}

/// Parse a command from its name and arguments (slash commands give them
/// separately).
pub fn parse_args(
    name: &str,
    args: &[String],
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> Result<Cmd, String> {
    let one = |args: &[String]| -> Result<String, String> {
        match args {
            [a] => Ok(a.clone()),
            _ => Err(usage(name)),
        }
    };
    Ok(match name {
        "help" | "start" => Cmd::Help,
        "status" => Cmd::Status,
        "feeds" => Cmd::Feeds,
        "targets" => Cmd::Targets,
        "pause" => Cmd::Pause(one(args)?),
        "resume" => Cmd::Resume(one(args)?),
        "retry" => {
            let a = one(args)?;
            Cmd::Retry(if a.eq_ignore_ascii_case("all") {
                RetryWhat::All
            } else if let Ok(id) = a.trim_start_matches('#').parse::<i64>() {
                RetryWhat::Delivery(id)
            } else {
                RetryWhat::Target(a)
            })
        }
        "why" => Cmd::Why(one(args)?),
        "log" => match args {
            [] => Cmd::Log(10),
            [n] => Cmd::Log(n.parse::<usize>().map_err(|_| usage(name))?.clamp(1, 50)),
            _ => return Err(usage(name)),
        },
        "subscribe" => match args {
            [url, targets @ ..] => Cmd::Subscribe {
                url: url.clone(),
                targets: targets.to_vec(),
            },
            _ => return Err(usage(name)),
        },
        "unsubscribe" => Cmd::Unsubscribe(one(args)?),
        "import" => Cmd::Import {
            file: Upload::Missing,
            targets: args.to_vec(),
        },
        "export" => match args {
            [] => Cmd::Export,
            _ => return Err(usage(name)),
        },
        "preview" => Cmd::Preview(one(args)?),
        "publish" => match args {
            [url, targets @ ..] => Cmd::Publish {
                url: url.clone(),
                targets: targets.to_vec(),
            },
            _ => return Err(usage(name)),
        },
        "schedule" => match args {
            [when, url, targets @ ..] => Cmd::Schedule {
                at: parse_time(when, now, tz).map_err(|e| format!("{e}. {}", usage(name)))?,
                url: url.clone(),
                targets: targets.to_vec(),
            },
            _ => return Err(usage(name)),
        },
        "queue" => Cmd::Queue,
        "cancel" => Cmd::Cancel(
            one(args)?
                .trim_start_matches('#')
                .parse()
                .map_err(|_| usage(name))?,
        ),
        "retract" => Cmd::Retract(one(args)?),
        "post" => Cmd::PostNext {
            targets: args.to_vec(),
        },
        other => return Err(usage(other)),
    })
}

/// A `/schedule` time: RFC 3339, `YYYY-MM-DDTHH:MM`, `YYYY-MM-DD`,
/// `HH:MM` (the next such time), or `+90m` / `+2h` / `+1d`. Local times
/// are in `tz`. Returns Unix milliseconds; the time must be in the future.
pub fn parse_time(s: &str, now: DateTime<Utc>, tz: chrono_tz::Tz) -> Result<i64, String> {
    let s = s.trim();
    let bad = || format!("cannot read the time {s:?}");
    let at: DateTime<Utc> = if let Some(rel) = s.strip_prefix('+') {
        let d = humantime::parse_duration(rel).map_err(|_| bad())?;
        // A duration past chrono's range (`+99999999y`) is unreadable, not a panic.
        chrono::Duration::from_std(d)
            .ok()
            .and_then(|d| now.checked_add_signed(d))
            .ok_or_else(bad)?
    } else if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        t.with_timezone(&Utc)
    } else if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M") {
        local(tz, t).ok_or_else(bad)?
    } else if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        local(tz, d.and_time(NaiveTime::MIN)).ok_or_else(bad)?
    } else if let Ok(t) = NaiveTime::parse_from_str(s, "%H:%M") {
        let today = now.with_timezone(&tz).date_naive();
        let mut at = local(tz, today.and_time(t)).ok_or_else(bad)?;
        if at <= now {
            at = local(tz, (today + chrono::Duration::days(1)).and_time(t)).ok_or_else(bad)?;
        }
        at
    } else {
        return Err(bad());
    };
    if at <= now {
        return Err(format!("{s} is in the past"));
    }
    Ok(at.timestamp_millis())
}

fn local(tz: chrono_tz::Tz, t: NaiveDateTime) -> Option<DateTime<Utc>> {
    tz.from_local_datetime(&t)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-28T10:00:00Z")
            .expect("t")
            .with_timezone(&Utc)
    }

    fn p(s: &str) -> Result<Option<Cmd>, String> {
        parse(s, Some("crier_bot"), now(), chrono_tz::UTC)
    }

    #[test]
    fn commands_parse_with_or_without_the_bot_name() {
        assert_eq!(p("/status"), Ok(Some(Cmd::Status)));
        assert_eq!(p("/status@crier_bot"), Ok(Some(Cmd::Status)));
        assert_eq!(p("/status@other_bot"), Ok(None), "another bot's command");
        assert_eq!(p("hello"), Ok(None));
        assert_eq!(
            p("/publish https://x.example/a tg dc"),
            Ok(Some(Cmd::Publish {
                url: "https://x.example/a".into(),
                targets: vec!["tg".into(), "dc".into()]
            }))
        );
        assert_eq!(
            p("/retry 42"),
            Ok(Some(Cmd::Retry(RetryWhat::Delivery(42))))
        );
        assert_eq!(p("/retry all"), Ok(Some(Cmd::Retry(RetryWhat::All))));
        assert_eq!(
            p("/retry tg"),
            Ok(Some(Cmd::Retry(RetryWhat::Target("tg".into()))))
        );
        assert_eq!(p("/log"), Ok(Some(Cmd::Log(10))));
    }

    #[test]
    fn import_takes_targets_and_export_nothing() {
        assert_eq!(
            p("/import tg dc"),
            Ok(Some(Cmd::Import {
                file: Upload::Missing,
                targets: vec!["tg".into(), "dc".into()]
            }))
        );
        assert_eq!(p("/export"), Ok(Some(Cmd::Export)));
        assert_eq!(p("/export all"), Err("Usage: /export".into()));
        let import = Cmd::Import {
            file: Upload::Missing,
            targets: Vec::new(),
        };
        assert_eq!(import.needs(), Role::Admin);
        assert!(import.changes_state());
        assert_eq!(Cmd::Export.needs(), Role::Admin);
        assert!(!Cmd::Export.changes_state());
        // The audit line shows no content and no URL.
        let line = format!(
            "{:?}",
            Upload::Url {
                name: "feeds.opml".into(),
                url: "https://cdn.example/a?hm=secret".into(),
                size: Some(3)
            }
        );
        assert!(!line.contains("secret"), "{line}");
        assert!(too_big(2 << 20).contains("2048 KiB"));
    }

    #[test]
    fn bad_commands_get_a_usage_line() {
        assert_eq!(p("/pause"), Err("Usage: /pause <feed or target>".into()));
        assert_eq!(p("/log many"), Err("Usage: /log [n]".into()));
        assert!(
            p("/frobnicate")
                .unwrap_err()
                .contains("Unknown command /frobnicate")
        );
        assert!(
            p("/schedule soon https://x")
                .unwrap_err()
                .contains("cannot read the time")
        );
    }

    #[test]
    fn schedule_times() {
        let ms = |s: &str| parse_time(s, now(), chrono_tz::UTC);
        assert_eq!(ms("+2h"), Ok(now().timestamp_millis() + 7_200_000));
        assert_eq!(
            ms("2026-12-01T09:00"),
            Ok(DateTime::parse_from_rfc3339("2026-12-01T09:00:00Z")
                .expect("t")
                .timestamp_millis())
        );
        // 09:00 has passed today: tomorrow.
        assert_eq!(
            ms("09:00"),
            Ok(DateTime::parse_from_rfc3339("2026-11-29T09:00:00Z")
                .expect("t")
                .timestamp_millis())
        );
        assert!(ms("2020-01-01T00:00").unwrap_err().contains("in the past"));
        // A timezone shifts local times.
        let paris = parse_time("2026-12-01T09:00", now(), chrono_tz::Europe::Paris);
        assert_eq!(
            paris,
            Ok(DateTime::parse_from_rfc3339("2026-12-01T08:00:00Z")
                .expect("t")
                .timestamp_millis())
        );
    }

    /// Found by the `command` fuzz target: `+99999999y` overflowed chrono.
    #[test]
    fn a_time_beyond_chronos_range_is_a_usage_error_not_a_panic() {
        for t in ["+99999999y", "+18446744073709551615s"] {
            let e = parse_time(t, now(), chrono_tz::UTC).expect_err(t);
            assert!(e.contains("cannot read the time"), "{e}");
        }
        assert!(p("/schedule +99999999y https://news.example/a").is_err());
    }
}
