//! Where a feed is: the one resolver of feed locations (configured feeds,
//! `/subscribe` URLs matched against them, `inspect` and `preview`
//! arguments).

use std::path::Path;

use url::Url;

/// Resolve a feed location: an `http(s)://` URL (with a host) or a
/// `file://` URL as given, or a local path made absolute against
/// `base_dir` (itself taken against the current directory when relative).
/// Configured feeds pass the config file's folder, so a feed means the
/// same file wherever `crier` is started; command-line arguments pass
/// `"."`.
pub fn resolve_location(raw: &str, base_dir: &Path) -> Result<Url, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("empty URL".into());
    }
    if raw.contains("://") {
        let url = Url::parse(raw).map_err(|e| format!("invalid URL {raw:?}: {e}"))?;
        return match url.scheme() {
            "http" | "https" if url.host().is_some() => Ok(url),
            "http" | "https" => Err(format!("invalid URL {raw:?}: no host")),
            "file" => Ok(url),
            other => Err(format!(
                "invalid URL {raw:?}: scheme {other:?} is not supported (http, https, file)"
            )),
        };
    }
    let p = Path::new(raw);
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        let base = if base_dir.is_absolute() {
            base_dir.to_path_buf()
        } else {
            std::env::current_dir()
                .map_err(|e| format!("cannot resolve {raw:?}: {e}"))?
                .join(base_dir)
        };
        base.join(p)
    };
    Url::from_file_path(&abs).map_err(|()| format!("cannot use {raw:?} as a file path"))
}
