//! Where the delivery log lives: an SQLite file (the default, `[storage]
//! path`) or a PostgreSQL database (`[storage] url`). Parsed once, from the
//! config or from `crier migrate`'s arguments; a PostgreSQL URL's password
//! never reaches a log line or an error message (`Display` and `Debug`
//! redact it).

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Context;
use crier_storage::Store;

/// A PostgreSQL connection URL (`postgres://` or `postgresql://`).
#[derive(Clone, PartialEq, Eq)]
pub struct PgUrl(String);

impl PgUrl {
    /// The URL with its password, for the driver only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `postgres://user:***@host:port/db` (no password, no query string:
    /// `options=` may carry anything).
    pub fn redacted(&self) -> String {
        match url::Url::parse(&self.0) {
            Ok(mut u) => {
                if u.password().is_some() {
                    let _ = u.set_password(Some("***"));
                }
                u.set_query(None);
                u.to_string()
            }
            Err(_) => "postgres://(unparseable)".into(),
        }
    }
}

impl fmt::Display for PgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for PgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PgUrl({})", self.redacted())
    }
}

/// The delivery log's place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DbLocation {
    Sqlite(PathBuf),
    Postgres(PgUrl),
}

/// True when `s` names a PostgreSQL database rather than a file.
pub fn is_postgres_url(s: &str) -> bool {
    let lower: String = s.trim_start().chars().take(13).collect::<String>();
    let lower = lower.to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql:/")
}

impl DbLocation {
    /// A PostgreSQL URL (checked: scheme, host, database) or an SQLite
    /// path, relative paths resolved against `base_dir`.
    pub fn parse(raw: &str, base_dir: &Path) -> Result<DbLocation, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("is empty".into());
        }
        if is_postgres_url(raw) {
            return parse_pg(raw).map(DbLocation::Postgres);
        }
        if raw.contains("://") {
            return Err(format!(
                "`{}` is neither a file path nor a postgres:// URL",
                redact_any(raw)
            ));
        }
        let p = Path::new(raw);
        Ok(DbLocation::Sqlite(if p.is_absolute() {
            p.to_path_buf()
        } else {
            base_dir.join(p)
        }))
    }

    /// Open it (creating the SQLite file's folder), applying migrations.
    pub fn open(&self) -> anyhow::Result<Store> {
        match self {
            DbLocation::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("cannot create the folder {}", dir.display()))?;
                }
                Store::open(path)
                    .with_context(|| format!("cannot open the database {}", path.display()))
            }
            DbLocation::Postgres(url) => Store::open_url(url.expose())
                .with_context(|| format!("cannot open the PostgreSQL database {url}")),
        }
    }

    /// The SQLite file, when it is one.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            DbLocation::Sqlite(p) => Some(p),
            DbLocation::Postgres(_) => None,
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, DbLocation::Postgres(_))
    }
}

impl fmt::Display for DbLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DbLocation::Sqlite(p) => write!(f, "{}", p.display()),
            DbLocation::Postgres(u) => write!(f, "{u}"),
        }
    }
}

fn parse_pg(raw: &str) -> Result<PgUrl, String> {
    let u = url::Url::parse(raw)
        .map_err(|e| format!("`{}` is not a valid PostgreSQL URL: {e}", redact_any(raw)))?;
    let shown = || PgUrl(raw.to_string()).redacted();
    match u.host_str() {
        Some(h) if !h.is_empty() => {}
        // libpq allows a socket directory in `?host=`; so does the driver.
        _ if u.query_pairs().any(|(k, _)| k == "host") => {}
        _ => return Err(format!("`{}` names no host", shown())),
    }
    let db = u.path().trim_start_matches('/');
    if db.is_empty() || db.contains('/') {
        return Err(format!(
            "`{}` names no database (postgres://user@host:5432/DATABASE)",
            shown()
        ));
    }
    // The driver wants the scheme in lower case.
    let at = raw.find("://").unwrap_or(0);
    Ok(PgUrl(format!(
        "{}{}",
        raw[..at].to_ascii_lowercase(),
        &raw[at..]
    )))
}

/// Some text that may hold `user:password@`: the password hidden.
fn redact_any(raw: &str) -> String {
    match (raw.find("://"), raw.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &raw[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &raw[..s + 3], &creds[..c], &raw[at..]),
                None => raw.to_string(),
            }
        }
        _ => raw.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_urls() {
        let base = Path::new("/etc/crier");
        assert_eq!(
            DbLocation::parse("crier.db", base).unwrap(),
            DbLocation::Sqlite(PathBuf::from("/etc/crier/crier.db"))
        );
        assert_eq!(
            DbLocation::parse("/var/lib/crier/x.db", base).unwrap(),
            DbLocation::Sqlite(PathBuf::from("/var/lib/crier/x.db"))
        );
        let pg = DbLocation::parse("postgres://crier:s3cret@db:5432/crier", base).unwrap();
        assert!(pg.is_postgres());
        let shown = pg.to_string();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("crier:***@db:5432/crier"), "{shown}");
        assert!(!format!("{pg:?}").contains("s3cret"));
        assert!(
            DbLocation::parse("PostgreSQL://u@h/d", base)
                .unwrap()
                .is_postgres()
        );
    }

    #[test]
    fn bad_urls_are_named_without_their_password() {
        let base = Path::new(".");
        for bad in [
            "postgres://u:pw@host",
            "postgres://u:pw@host/",
            "postgres://u:pw@/db",
            "mysql://u:pw@host/db",
            "postgres://u:pw@[zz/db",
        ] {
            let e = DbLocation::parse(bad, base).unwrap_err();
            assert!(!e.contains("pw@"), "{bad}: {e}");
        }
        assert!(DbLocation::parse("  ", base).is_err());
        // A socket directory in the query string is a host.
        assert!(DbLocation::parse("postgres:///crier?host=/run/postgresql", base).is_ok());
    }

    #[test]
    fn multibyte_text_is_not_cut_inside_a_character() {
        assert!(!is_postgres_url("ééééééé"));
        assert!(DbLocation::parse("日本語/データ.db", Path::new("/x")).is_ok());
    }
}
