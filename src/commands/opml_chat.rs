//! Chat `/import` and `/export`: the OPML file of the watched feeds, in
//! and out of chat. The import plans and stores exactly as `crier feeds
//! import` does (`crate::opml`: duplicates skipped and reported, names made
//! unique, all or nothing), with the SSRF guard's address check on every
//! feed URL; the feeds are then watched at once, behind the guard for good,
//! like feeds added with `/subscribe`.

use crier_bots::commands::{Caller, IMPORT_MAX_BYTES, Reply, ReplyFile, Upload, too_big};

use super::{CommandCenter, dynamic_feed_config};
use crate::opml;
use crate::sources::{self, SourceError};

/// The file `/export` sends.
pub const EXPORT_FILE_NAME: &str = "crier-feeds.opml";

impl CommandCenter {
    pub(super) async fn import(&self, c: &Caller, file: Upload, targets: Vec<String>) -> Reply {
        let targets = match self.check_targets(targets) {
            Ok(t) => t,
            Err(r) => return r,
        };
        let (name, bytes) = match file {
            Upload::Missing => {
                return Reply::text(
                    "Send the OPML file with /import as its caption, or reply /import to the file.",
                );
            }
            Upload::Refused(why) => return Reply::text(why),
            Upload::Bytes { name, bytes } => (name, bytes),
            Upload::Url { name, url, size } => {
                if let Some(size) = size.filter(|s| *s > IMPORT_MAX_BYTES) {
                    return Reply::text(too_big(size));
                }
                match self.download(&url).await {
                    Ok(b) => (name, b),
                    Err(e) => return Reply::text(e),
                }
            }
        };
        if bytes.len() as u64 > IMPORT_MAX_BYTES {
            return Reply::text(too_big(bytes.len() as u64));
        }
        let Ok(text) = String::from_utf8(bytes) else {
            return Reply::text(format!(
                "Cannot import {name}: not a UTF-8 text file (OPML is XML). Nothing was imported."
            ));
        };
        let feeds = match opml::parse(text.trim_start_matches('\u{feff}')) {
            Ok(f) => f,
            Err(e) => {
                return Reply::text(format!("Cannot import {name}: {e}. Nothing was imported."));
            }
        };
        let dynamic = match self.db.call(|s| s.dynamic_feeds()).await {
            Ok(d) => d,
            Err(e) => return super::store_err(e),
        };
        let watched = self
            .poller
            .feeds()
            .into_iter()
            .map(|f| (f.feed.name.0.clone(), f.feed.url.0.clone()))
            .chain(dynamic.into_iter().map(|f| (f.name, f.url)));
        let mut existing = opml::Existing::new(watched);
        let guard = self.fetcher.config().guard.clone();
        let (rows, report) = opml::plan(
            &feeds,
            &mut existing,
            &targets,
            self.cfg.commands.subscribe_interval.0.as_millis() as i64,
            &c.key(),
            self.db.now_ms(),
            |u| guard.check(u),
        );
        let stored = rows.clone();
        if let Err(e) = self.db.call(move |s| s.add_dynamic_feeds(&stored)).await {
            tracing::error!(error = %e, "cannot store an OPML import");
            return Reply::text(format!(
                "Storage error: {e}. Nothing was imported; try again."
            ));
        }
        for row in &rows {
            if !self.poller.add_feed(dynamic_feed_config(row)) {
                tracing::warn!(feed = %row.name, "an imported feed's name is watched already");
            }
        }
        let mut s = format!(
            "From {name}: {}",
            crate::redact::redact_text(&report.summary())
        );
        if !rows.is_empty() {
            s.push_str(&format!(
                "\nThey post to {}; only articles newer than now will be posted.",
                targets.join(", ")
            ));
        }
        Reply::text(s)
    }

    /// A file from an attachment URL: through the SSRF guard (every
    /// redirect and DNS answer), at most [`IMPORT_MAX_BYTES`].
    async fn download(&self, url: &str) -> Result<Vec<u8>, String> {
        let shown = crate::redact::redact_url(url);
        let parsed =
            url::Url::parse(url).map_err(|_| format!("Cannot download {shown}: not a URL."))?;
        let mut spec = sources::FeedSpec::new("import", parsed.clone());
        spec.body_cap = IMPORT_MAX_BYTES;
        spec.guarded = true;
        match self.fetcher.get(&parsed, &spec, None, "*/*").await {
            Ok(r) => Ok(r.body),
            Err(SourceError::BodyTooLarge { .. }) => Err(format!(
                "The file is too big: /import takes OPML files up to {} KiB.",
                IMPORT_MAX_BYTES / 1024
            )),
            Err(e) => Err(format!(
                "Cannot download the file: {}. Nothing was imported.",
                crate::redact::redact_text(&e.to_string())
            )),
        }
    }

    /// Every watched http(s) feed as OPML. URLs are shown as in `/feeds`:
    /// credentials and secret-looking query values hidden.
    pub(super) async fn export(&self) -> Reply {
        let feeds = self.poller.feeds();
        let mut list: Vec<(String, String)> = Vec::new();
        let (mut local, mut hidden) = (0, 0);
        for f in &feeds {
            let url = f.feed.url.0.trim();
            let http = url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
            if !http {
                local += 1;
                continue;
            }
            let shown = crate::redact::redact_url(url);
            if shown != url {
                hidden += 1;
            }
            list.push((f.feed.name.0.clone(), shown));
        }
        let xml = opml::export(
            "Crier feeds",
            list.iter().map(|(n, u)| (n.as_str(), u.as_str())),
        );
        let dynamic = feeds.iter().filter(|f| f.dynamic).count();
        let mut text = format!(
            "{} feed{} ({} from config.toml, {} added from chat or by import).",
            list.len(),
            if list.len() == 1 { "" } else { "s" },
            feeds.len() - dynamic,
            dynamic
        );
        if local > 0 {
            text.push_str(&format!(
                "\n{local} local file feed(s) left out (not http(s))."
            ));
        }
        if hidden > 0 {
            text.push_str(&format!(
                "\n{hidden} URL(s) had credentials or query values hidden; `crier feeds export` on the server writes them whole."
            ));
        }
        Reply {
            text,
            file: Some(Box::new(ReplyFile {
                name: EXPORT_FILE_NAME.into(),
                bytes: xml.into_bytes(),
            })),
            ..Reply::default()
        }
    }
}
