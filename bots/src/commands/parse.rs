//! The commands' syntax: `/cmd[@bot] args…` (or a slash command's name
//! and arguments) into a [`Cmd`], with a usage line when it does not
//! parse, and `/schedule`'s times in the configured timezone.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

use super::{Cmd, RetryWhat, Upload, spec};

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
