//! How the command line speaks: config values in config words, the
//! warnings a loadable config still deserves, usage errors (exit 2).

use std::path::Path;

use crate::config::{Config, FilterConfig};

/// A mistake in the command line (exit code 2), as opposed to a runtime
/// failure (exit code 1).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The error for a config file that is not there: where it was looked for
/// and how to name another one.
pub fn missing_config(path: &Path) -> String {
    let shown = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    format!(
        "no config file at {} (pass --config PATH or set CRIER_CONFIG; the README's set-up section shows a minimal one)",
        shown.display()
    )
}

/// What is legal but probably not meant.
pub fn config_warnings(cfg: &Config) -> Vec<String> {
    let mut w = Vec::new();
    if cfg.feeds.is_empty() {
        w.push(format!(
            "{}: no [[feeds]]: nothing will be read (feeds added from chat with /subscribe or `crier feeds import` still are)",
            cfg.file.display()
        ));
    }
    if cfg.targets.is_empty() {
        w.push(format!(
            "{}: no [[targets]]: nothing will be posted",
            cfg.file.display()
        ));
    }
    w.extend(cfg.warnings.iter().map(|e| e.to_string()));
    w
}

/// `--target NAME` must name a configured target (or one the delivery log
/// knows); the error lists the valid names.
pub fn known_target(
    name: Option<&str>,
    configured: &[String],
    store: &crier_storage::Store,
) -> anyhow::Result<()> {
    let Some(name) = name else { return Ok(()) };
    if configured.iter().any(|t| t == name) {
        return Ok(());
    }
    let in_log = !store
        .log(&crier_storage::LogQuery {
            limit: 1,
            target: Some(name.to_string()),
            ..Default::default()
        })?
        .is_empty();
    if in_log {
        return Ok(());
    }
    Err(UsageError(format!(
        "no target named {name:?} (configured: {})",
        if configured.is_empty() {
            "none".to_string()
        } else {
            configured.join(", ")
        }
    ))
    .into())
}

/// The second-instance refusal names the process holding the lock: the
/// lock file holds its PID (when the lock code writes it there).
pub fn with_lock_holder(message: &str, db: &Path) -> String {
    if !message.contains("already running") || message.contains("PID") {
        return message.to_string();
    }
    let mut lock = db.as_os_str().to_owned();
    lock.push(".lock");
    let pid = std::fs::read_to_string(&lock)
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u32>().ok());
    match pid {
        Some(pid) => format!("{message} (held by PID {pid})"),
        None => message.to_string(),
    }
}

/// A value as it is written in `config.toml` (`"auto"`, `3`, `["a", "b"]`).
pub fn toml_value<T: serde::Serialize>(v: &T) -> String {
    match toml::Value::try_from(v) {
        Ok(v) => v.to_string(),
        Err(_) => "?".to_string(),
    }
}

/// A filter in config words: `exclude_categories = ["Sport"], include_regex = "…"`.
pub fn filter(f: &FilterConfig) -> String {
    let Ok(toml::Value::Table(t)) = toml::Value::try_from(f) else {
        return "?".to_string();
    };
    t.iter()
        .filter(|(_, v)| !matches!(v, toml::Value::Array(a) if a.is_empty()))
        .map(|(k, v)| format!("{k} = {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_filters_read_as_config() {
        assert_eq!(toml_value(&crate::config::FeedKind::Auto), "\"auto\"");
        assert_eq!(
            toml_value(&crate::config::FeedKind::WordPress),
            "\"wordpress\""
        );
        let f: FilterConfig =
            toml::from_str("exclude_categories = [\"Sport\"]\ninclude_regex = \"^Breaking\"")
                .unwrap();
        let s = filter(&f);
        assert!(s.contains("exclude_categories = [\"Sport\"]"), "{s}");
        assert!(s.contains("include_regex = \"^Breaking\""), "{s}");
        assert!(!s.contains("include_keywords"), "{s}");
    }

    #[test]
    fn the_refusal_names_the_pid_in_the_lock_file() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("crier.db");
        let msg = "another crier is already running on crier.db";
        assert_eq!(with_lock_holder(msg, &db), msg, "no lock file: as is");
        std::fs::write(dir.path().join("crier.db.lock"), "4242\n").unwrap();
        assert_eq!(
            with_lock_holder(msg, &db),
            format!("{msg} (held by PID 4242)")
        );
        assert_eq!(with_lock_holder("other error", &db), "other error");
        let named = "another crier (PID 7) is already running";
        assert_eq!(with_lock_holder(named, &db), named, "never twice");
    }

    #[test]
    fn a_missing_config_says_where_it_looked_and_how_to_pass_one() {
        let m = missing_config(Path::new("nowhere/config.toml"));
        assert!(
            m.contains("nowhere/config.toml") && m.contains("--config"),
            "{m}"
        );
        assert!(
            Path::new(m.split_whitespace().nth(4).unwrap_or("")).is_absolute(),
            "{m}"
        );
    }
}
