//! Files of the command front-end: the OPML document an admin sends with
//! `/import` (`getFile`, then the download from
//! `<api_url>/file/bot<token>/<file_path>`, which teloxide builds), and
//! files sent back with a reply (`sendDocument`, a multipart upload).
//!
//! The download URL holds the bot token: it never leaves this module, and
//! errors are scrubbed. The front-end downloads the file itself (the core
//! never sees the URL); the size is checked three times: the size the
//! message declares, the size `getFile` declares, and the bytes as they
//! arrive.

use futures::StreamExt;
use teloxide::net::Download;
use teloxide::prelude::Requester;
use teloxide::types::Document;

use crate::commands::{IMPORT_MAX_BYTES, Upload, too_big};

/// The document's content, or why it was not taken.
pub(crate) async fn download(bot: &teloxide::Bot, doc: &Document) -> Upload {
    let name = doc
        .file_name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| "the file".into());
    let declared = u64::from(doc.file.size);
    if declared > IMPORT_MAX_BYTES {
        return Upload::Refused(too_big(declared));
    }
    let file = match bot.get_file(doc.file.id.clone()).await {
        Ok(f) => f,
        Err(e) => {
            let e = crate::scrub::scrubbed(super::redact_error(&e));
            tracing::warn!(error = %e, "Telegram getFile failed for an /import");
            return Upload::Refused(format!(
                "Telegram did not hand over the file: {e}. Nothing was imported."
            ));
        }
    };
    let size = u64::from(file.meta.size);
    if size > IMPORT_MAX_BYTES {
        return Upload::Refused(too_big(size));
    }
    let mut stream = bot.download_file_stream(&file.path);
    let mut bytes: Vec<u8> = Vec::with_capacity(size.min(IMPORT_MAX_BYTES) as usize);
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(c) => {
                let total = bytes.len() as u64 + c.len() as u64;
                if total > IMPORT_MAX_BYTES {
                    return Upload::Refused(too_big(total));
                }
                bytes.extend_from_slice(&c);
            }
            Err(e) => {
                let e = crate::scrub::scrubbed(e.to_string());
                tracing::warn!(error = %e, "downloading an /import file from Telegram failed");
                return Upload::Refused(format!(
                    "Cannot download the file from Telegram: {e}. Nothing was imported."
                ));
            }
        }
    }
    Upload::Bytes { name, bytes }
}
