//! Documents: `sendDocument` (a multipart upload, a known `file_id` or an
//! HTTP URL), `getFile` and the file download at
//! `/file/bot<token>/<file_path>`, and users' documents for injected
//! updates.
//!
//! Facts followed (core.telegram.org/bots/api, "getFile", "sendDocument",
//! "Sending files"): `getFile` answers a `File` (`file_id`,
//! `file_unique_id`, `file_size`, `file_path`) for files up to 20 MB,
//! else "Bad Request: file is too big"; an unknown id is "Bad Request:
//! invalid file_id"; the path is valid for at least an hour and is
//! downloaded with `GET /file/bot<token>/<file_path>`. Uploads are up to
//! 50 MB (else 413); a caption is 0–1024 characters after entity parsing;
//! no document is "Bad Request: there is no document in the request".

use std::sync::Arc;

use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::super::params::{Params, UploadedFile};
use super::super::{FakeTelegram, Shared, State, TgUser, new_file_id};
use super::{
    Action, Reply, bad, captioned_message, check_access, check_thread, err, finish, message_json,
    resolve_chat,
};
use crate::log::RequestRecord;

/// `getFile` refuses files larger than this (20 MB).
pub const GET_FILE_LIMIT: u64 = 20 * 1024 * 1024;
/// `sendDocument` takes uploads up to this (50 MB).
const UPLOAD_LIMIT: usize = 50 * 1024 * 1024;

/// A document as a message shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TgDocument {
    pub file_id: String,
    pub file_unique_id: String,
    pub file_name: Option<String>,
    pub mime_type: Option<String>,
    /// The size Telegram reports (`file_size`).
    pub file_size: u64,
}

impl TgDocument {
    pub(crate) fn to_json(&self) -> Value {
        let mut v = json!({
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
        });
        if let Some(n) = &self.file_name {
            v["file_name"] = json!(n);
        }
        if let Some(m) = &self.mime_type {
            v["mime_type"] = json!(m);
        }
        v
    }
}

/// A file the fake holds.
#[derive(Clone, Debug)]
pub(crate) struct StoredFile {
    pub(crate) doc: TgDocument,
    pub(crate) bytes: Vec<u8>,
    /// Set by `getFile`: the download path.
    pub(crate) path: Option<String>,
}

fn mime_of(name: Option<&str>) -> Option<String> {
    let ext = name?.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(
        match ext.as_str() {
            "opml" => "text/x-opml",
            "xml" => "application/xml",
            "txt" => "text/plain",
            "pdf" => "application/pdf",
            _ => "application/octet-stream",
        }
        .to_string(),
    )
}

fn store(st: &mut State, name: Option<&str>, bytes: Vec<u8>, declared: u64) -> TgDocument {
    let file_id = new_file_id(st).replace("FAKEFILEID", "FAKEDOCUMENT");
    let doc = TgDocument {
        file_unique_id: format!("AgAD{}", st.file_counter),
        file_id: file_id.clone(),
        file_name: name.map(str::to_string),
        mime_type: mime_of(name),
        file_size: declared,
    };
    st.files.insert(
        file_id,
        StoredFile {
            doc: doc.clone(),
            bytes,
            path: None,
        },
    );
    doc
}

pub(crate) fn get_file(st: &mut State, p: &Params) -> Reply {
    let id = p.str("file_id").unwrap_or_default();
    let Some(f) = st.files.get_mut(id.trim()) else {
        return Err(bad("Bad Request: invalid file_id"));
    };
    if f.doc.file_size > GET_FILE_LIMIT {
        return Err(bad("Bad Request: file is too big"));
    }
    let n = f.doc.file_unique_id.clone();
    let ext = f
        .doc
        .file_name
        .as_deref()
        .and_then(|n| n.rsplit_once('.'))
        .map(|(_, e)| format!(".{e}"))
        .unwrap_or_default();
    let path = f
        .path
        .get_or_insert_with(|| format!("documents/file_{n}{ext}"))
        .clone();
    Ok(json!({
        "file_id": f.doc.file_id,
        "file_unique_id": f.doc.file_unique_id,
        "file_size": f.doc.file_size,
        "file_path": path,
    }))
}

/// `%XX` escapes decoded (teloxide sends the file path as one segment:
/// `documents%2Ffile_1.opml`, which Telegram reads as the path).
fn percent_decoded(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b[i], hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `GET /file/bot<token>/<file_path>` (`rest` is after `/file/bot`).
pub(crate) fn download(sh: &Arc<Shared>, mut rec: RequestRecord, rest: &str) -> Response {
    rec.name = "file".into();
    rec.path = "/file/bot<token>/…".into();
    let rest = percent_decoded(rest);
    let (token, path) = rest.split_once('/').unwrap_or((&rest, ""));
    if token != sh.token {
        return finish(sh, rec, Err(err(401, "Unauthorized")));
    }
    let found = {
        let st = sh.lock();
        st.files
            .values()
            .find(|f| f.path.as_deref() == Some(path))
            .map(|f| f.bytes.clone())
    };
    let Some(bytes) = found else {
        return finish(sh, rec, Err(err(404, "Not Found")));
    };
    rec.status = 200;
    sh.lock().requests.push(rec);
    (
        [(header::CONTENT_TYPE, "application/octet-stream")],
        Body::from(bytes),
    )
        .into_response()
}

pub(crate) fn send_document(sh: &Shared, st: &mut State, p: &Params) -> Reply {
    let chat = resolve_chat(st, p)?;
    check_access(&chat, Action::SendDocument)?;
    let thread = check_thread(&chat, p)?;
    // A part named `document`, or `document=attach://<part>` naming one
    // (teloxide uploads that way).
    let named = p.str("document").filter(|s| !s.trim().is_empty());
    let attached = named.as_deref().and_then(|n| n.strip_prefix("attach://"));
    let upload: Option<UploadedFile> = match attached {
        Some(part) => match p.files.get(part) {
            Some(f) => Some(f.clone()),
            None => {
                return Err(bad("Bad Request: wrong file identifier/HTTP URL specified"));
            }
        },
        None => p.files.get("document").cloned(),
    };
    let doc = match (&upload, named) {
        (Some(u), _) if u.size > UPLOAD_LIMIT => {
            return Err(err(413, "Request Entity Too Large"));
        }
        (Some(u), _) => {
            let name = u.file_name.clone();
            store(st, name.as_deref(), u.bytes.clone(), u.size as u64)
        }
        (None, Some(id)) => match st.files.get(id.trim()) {
            Some(f) => f.doc.clone(),
            None if id.starts_with("http://") || id.starts_with("https://") => TgDocument {
                file_id: new_file_id(st),
                file_unique_id: format!("AgAD{}", st.file_counter),
                file_name: id.rsplit('/').next().map(str::to_string),
                mime_type: None,
                file_size: 0,
            },
            None => {
                return Err(bad("Bad Request: wrong file identifier/HTTP URL specified"));
            }
        },
        (None, None) => return Err(bad("Bad Request: there is no document in the request")),
    };
    let mut m = captioned_message(sh, st, &chat, p, thread)?;
    m.document = Some(doc);
    let j = message_json(st, sh.bot_id, &m);
    st.messages.entry(chat.id).or_default().push(m);
    Ok(j)
}

impl FakeTelegram {
    /// Inject a user's document (`bytes` as the file) with an optional
    /// caption (a leading `/command` gets its `bot_command` entity).
    /// Returns `(update_id, message_id)`.
    pub fn user_sends_document(
        &self,
        chat_id: i64,
        from: &TgUser,
        file_name: &str,
        bytes: &[u8],
        caption: Option<&str>,
    ) -> (i64, i64) {
        self.user_sends_document_of_size(
            chat_id,
            from,
            file_name,
            bytes,
            bytes.len() as u64,
            caption,
        )
    }

    /// The same, with the size Telegram reports (`file_size`) given: a file
    /// over [`GET_FILE_LIMIT`] without sending megabytes around.
    pub fn user_sends_document_of_size(
        &self,
        chat_id: i64,
        from: &TgUser,
        file_name: &str,
        bytes: &[u8],
        file_size: u64,
        caption: Option<&str>,
    ) -> (i64, i64) {
        let doc = {
            let mut st = self.shared.lock();
            store(&mut st, Some(file_name), bytes.to_vec(), file_size)
        };
        self.user_message(chat_id, from, |m| {
            m.document = Some(doc);
            m.caption = caption.map(str::to_string);
            m.shown = caption.unwrap_or("").to_string();
            m.entities = caption
                .map(super::super::command_entities)
                .unwrap_or_default();
        })
    }

    /// The content of a document the bot sent (by its message).
    pub fn document_bytes(&self, chat_id: i64, message_id: i64) -> Option<Vec<u8>> {
        let st = self.shared.lock();
        let m = st
            .messages
            .get(&chat_id)?
            .iter()
            .find(|m| m.message_id == message_id)?;
        let id = &m.document.as_ref()?.file_id;
        st.files.get(id).map(|f| f.bytes.clone())
    }
}
