//! Files of the Discord command front-end: the OPML attachment of
//! `/import` (its URL and declared size go to the core, which downloads it
//! through the SSRF guard) and a reply's file (`/export`), sent as an
//! ephemeral follow-up with the file attached (multipart `payload_json` +
//! `files[0]`).

use serde_json::json;
use serenity::all::{CommandDataOptionValue, CommandInteraction};

use super::{DiscordFrontend, EPHEMERAL, no_pings};
use crate::commands::{Cmd, Reply, Upload};

/// `/import file:<attachment> [targets]`.
pub(super) fn import_of(ci: &CommandInteraction) -> Cmd {
    let value = |o: &str| ci.data.options.iter().find(|x| x.name == o);
    let file = value("file")
        .and_then(|o| match &o.value {
            CommandDataOptionValue::Attachment(id) => ci.data.resolved.attachments.get(id),
            _ => None,
        })
        .map(|a| Upload::Url {
            name: a.filename.clone(),
            url: a.url.clone(),
            size: Some(u64::from(a.size)),
        })
        .unwrap_or(Upload::Missing);
    let targets = value("targets")
        .and_then(|o| o.value.as_str())
        .map(|t| t.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    Cmd::Import { file, targets }
}

impl DiscordFrontend {
    /// The reply's file, if any, as a follow-up message.
    pub(super) async fn send_file(&self, app: u64, token: &str, reply: &Reply) {
        let Some(f) = &reply.file else { return };
        let payload = json!({
            "content": "",
            "flags": EPHEMERAL,
            "allowed_mentions": no_pings(),
            "attachments": [{"id": 0, "filename": f.name}],
        });
        let r = self
            .retrying(|| {
                self.rest
                    .followup_with_file(app, token, &payload, &f.name, &f.bytes)
            })
            .await;
        if let Err(e) = r {
            tracing::warn!(error = %crate::scrub::scrub(&e.to_string()), "cannot send a file on Discord");
        }
    }
}
