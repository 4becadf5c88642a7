//! The tables and summaries the command line prints: `crier check`'s
//! summary, `crier log` and `crier log --audit`.

use crier_storage::{LogEntry, State};

use super::words;
use crate::config::Config;
use crate::text::clip;

/// The text `crier check` prints for a valid config.
pub fn check_summary(cfg: &Config) -> String {
    let mut s = String::new();
    s.push_str(&format!("{}: OK\n", cfg.file.display()));
    s.push_str(&format!("database: {}\n", cfg.db_location()));
    s.push_str(&format!("feeds ({}):\n", cfg.feeds.len()));
    for f in &cfg.feeds {
        let url = cfg
            .feed_location(f)
            .map(|u| crate::redact::redact_url(u.as_str()))
            .unwrap_or_else(|e| crate::redact::redact_text(&e));
        s.push_str(&format!(
            "  {}  {}  every {}  kind = {}  backfill = {}\n",
            f.name,
            url,
            humantime::format_duration(f.interval.0),
            words::toml_value(&f.kind),
            f.backfill
        ));
        if !f.filter.is_empty() {
            s.push_str(&format!("    filter: {}\n", words::filter(&f.filter)));
        }
    }
    s.push_str(&format!("targets ({}):\n", cfg.targets.len()));
    for t in &cfg.targets {
        let addr = t.address();
        s.push_str(&format!(
            "  {}  {}  {}{}\n",
            t.name,
            t.kind,
            addr,
            if t.silent { "  silent" } else { "" }
        ));
    }
    let routes: usize = cfg.feeds.iter().map(|f| f.targets.len()).sum();
    s.push_str(&format!("routes ({routes}):\n"));
    for f in &cfg.feeds {
        for t in &f.targets {
            let extra = f
                .routes
                .iter()
                .filter(|r| r.target.0 == t.0 && !r.filter.is_empty())
                .map(|r| format!("  ({})", words::filter(&r.filter)))
                .collect::<String>();
            s.push_str(&format!("  {} → {}{extra}\n", f.name, t));
        }
    }
    s
}

/// The table `crier log --audit` prints.
pub fn audit_table(rows: &[crier_storage::AuditEntry]) -> String {
    let mut out =
        String::from("TIME (UTC)           PLATFORM  USER                     COMMAND → OUTCOME\n");
    for e in rows {
        let when = chrono::DateTime::from_timestamp_millis(e.at)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default();
        let who = match &e.user_name {
            Some(n) => format!("{n} ({})", e.user_id),
            None => e.user_id.clone(),
        };
        out.push_str(&format!(
            "{when}  {:<8}  {:<23}  {} → {}\n",
            e.platform,
            clip(&who, 23),
            clip(&e.command, 60),
            clip(&e.outcome, 80)
        ));
    }
    if rows.is_empty() {
        out.push_str("(no commands yet)\n");
    }
    out
}

/// The table `crier log` prints.
pub fn log_table(rows: &[LogEntry]) -> String {
    let mut lines = vec![[
        "ID".to_string(),
        "UPDATED (UTC)".into(),
        "TARGET".into(),
        "STATE".into(),
        "JOB".into(),
        "TRIES".into(),
        "ARTICLE".into(),
        "DETAIL".into(),
    ]];
    for r in rows {
        let d = &r.delivery;
        let when = chrono::DateTime::from_timestamp_millis(d.updated_at)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default();
        let job = match d.action {
            crier_storage::Action::Post => format!("post#{}", d.part),
            crier_storage::Action::Edit => format!("edit r{}#{}", d.revision, d.part),
            crier_storage::Action::Delete => format!("delete#{}", d.part),
        };
        let mut detail = match d.state {
            State::Sent => d
                .message_id
                .clone()
                .map(|m| format!("message {m}"))
                .unwrap_or_default(),
            State::Failed | State::Pending | State::Sending => {
                d.last_error.clone().unwrap_or_default()
            }
            State::Filtered | State::Skipped => d.reason.clone().unwrap_or_default(),
        };
        if d.state == State::Sent
            && let Some(note) = &d.reason
        {
            detail = format!("{detail} ({note})");
        }
        if d.ambiguous {
            detail = format!("[ambiguous send] {detail}");
        }
        let title = if r.title.is_empty() {
            r.link.clone().unwrap_or_default()
        } else {
            r.title.clone()
        };
        lines.push([
            d.id.to_string(),
            when,
            d.target.clone(),
            d.state.to_string(),
            job,
            d.attempts.to_string(),
            clip(&title, 48),
            clip(&detail, 60),
        ]);
    }
    let mut widths = [0usize; 8];
    for l in &lines {
        for (i, c) in l.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    for l in &lines {
        let mut row = String::new();
        for (i, c) in l.iter().enumerate() {
            if i + 1 == l.len() {
                row.push_str(c);
            } else {
                row.push_str(c);
                row.push_str(&" ".repeat(widths[i] - c.chars().count() + 2));
            }
        }
        out.push_str(row.trim_end());
        out.push('\n');
    }
    if rows.is_empty() {
        out.push_str("(no deliveries)\n");
    }
    out
}
