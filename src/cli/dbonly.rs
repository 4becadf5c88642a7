//! The little of the config the database-only commands (`log`, `retry`,
//! `retract`) need: where the database is and which targets exist. Read
//! without validating the rest, so the platforms' tokens (`${TELEGRAM_TOKEN}`…)
//! need not be set to look at the delivery log.

use std::path::{Path, PathBuf};

use crate::config::expand_env;
use crate::dblocation::DbLocation;

/// What a database-only command knows of the config.
#[derive(Debug, Clone)]
pub struct DbConfig {
    /// The delivery log: an SQLite file or a PostgreSQL database.
    pub db: DbLocation,
    /// The configured targets' names (a name using an unset variable is
    /// left out).
    pub targets: Vec<String>,
    /// `(name, platform)` of the same targets, the platform as written.
    pub target_platforms: Vec<(String, String)>,
    /// The config's feeds: `(name, url)` as written (a value using an
    /// unset variable is left out).
    pub feeds: Vec<(String, String)>,
    /// `[commands] subscribe_interval`, in milliseconds (imported feeds'
    /// poll interval).
    pub subscribe_interval_ms: i64,
}

/// Read `path` for the database-only commands. Errors are config errors
/// (exit 2), one line each.
pub fn load(path: &Path) -> Result<DbConfig, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read the file: {e}", path.display()))?;
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| format!("{}: {}", path.display(), e.message().trim()))?;
    let base_dir = path
        .parent()
        .map(Path::to_path_buf)
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."));
    let storage_key = |key: &str| -> Result<Option<crate::config::EnvString>, String> {
        table
            .get("storage")
            .and_then(|s| s.get(key))
            .map(|v| {
                let raw = v.as_str().ok_or_else(|| {
                    format!("{}: storage.{key}: expected a string", path.display())
                })?;
                expand_env(raw, |k| std::env::var(k).ok())
                    .map(crate::config::EnvString)
                    .map_err(|e| format!("{}: storage.{key}: {e}", path.display()))
            })
            .transpose()
    };
    let storage = crate::config::StorageConfig {
        path: storage_key("path")?,
        url: storage_key("url")?.map(crate::config::Secret),
        lease: None,
    };
    let db = storage
        .location(&base_dir)
        .map_err(|(key, e)| format!("{}: storage.{key}: {e}", path.display()))?;
    let target_platforms: Vec<(String, String)> = table
        .get("targets")
        .and_then(|t| t.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|t| {
                    let name = t.get("name").and_then(|n| n.as_str())?;
                    let name = expand_env(name, |k| std::env::var(k).ok()).ok()?;
                    let platform = t
                        .get("platform")
                        .and_then(|p| p.as_str())
                        .unwrap_or_default()
                        .to_string();
                    Some((name, platform))
                })
                .collect()
        })
        .unwrap_or_default();
    let targets = target_platforms.iter().map(|(n, _)| n.clone()).collect();
    let expand = |v: Option<&toml::Value>| {
        v.and_then(|n| n.as_str())
            .and_then(|n| expand_env(n, |k| std::env::var(k).ok()).ok())
    };
    let feeds = table
        .get("feeds")
        .and_then(|t| t.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|f| Some((expand(f.get("name"))?, expand(f.get("url"))?)))
                .collect()
        })
        .unwrap_or_default();
    let subscribe_interval_ms = expand(
        table
            .get("commands")
            .and_then(|c| c.get("subscribe_interval")),
    )
    .and_then(|s| humantime::parse_duration(s.trim()).ok())
    .map(|d| d.as_millis().min(i64::MAX as u128) as i64)
    .unwrap_or(600_000);
    Ok(DbConfig {
        db,
        targets,
        target_platforms,
        feeds,
        subscribe_interval_ms,
    })
}

/// Open (creating its folder as needed) the database.
pub fn open_store(cfg: &DbConfig) -> anyhow::Result<crier_storage::Store> {
    cfg.db.open()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_database_path_and_target_names_without_the_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.toml");
        std::fs::write(
            &p,
            "[storage]\npath = \"state/x.db\"\n[telegram]\ntoken = \"${CRIER_DBONLY_UNSET_TOKEN}\"\n\
             [[targets]]\nname = \"news\"\nplatform = \"telegram\"\nchat = \"@news\"\n",
        )
        .unwrap();
        let c = load(&p).unwrap();
        assert_eq!(c.db, DbLocation::Sqlite(dir.path().join("state/x.db")));
        assert_eq!(c.targets, vec!["news".to_string()]);
    }

    #[test]
    fn a_broken_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.toml");
        std::fs::write(&p, "[storage\n").unwrap();
        let e = load(&p).unwrap_err();
        assert!(e.contains("config.toml"), "{e}");
    }
}
