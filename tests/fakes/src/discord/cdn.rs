//! The fake's attachment CDN: files users attach to slash commands (a test
//! registers them with [`FakeDiscord::upload`]) and files the app uploads
//! with a message (multipart `files[n]`), served at
//! `http://127.0.0.1:PORT/attachments/{channel}/{attachment}/{filename}`
//! with signed-looking `ex`/`is`/`hm` query parameters, as
//! `cdn.discordapp.com` serves them. An unknown path is a 404.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{FakeDiscord, Shared, State};

/// Store `bytes` and return their URL.
pub(crate) fn host(
    st: &mut State,
    channel: u64,
    id: u64,
    filename: &str,
    bytes: Vec<u8>,
) -> String {
    let safe: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let path = format!("/attachments/{channel}/{id}/{safe}");
    st.cdn.insert(path.clone(), bytes);
    format!(
        "{}{path}?ex={:08x}&is={:08x}&hm={:016x}&",
        st.cdn_base,
        id >> 22,
        id & 0xffff_ffff,
        id.wrapping_mul(0x9e37_79b9_7f4a_7c15)
    )
}

/// `GET /attachments/...`: the stored bytes, or `None` when the path is
/// not an attachment path.
pub(crate) fn serve(sh: &Arc<Shared>, method: &str, path: &str) -> Option<Response> {
    if !path.starts_with("/attachments/") {
        return None;
    }
    if method != "GET" {
        return Some(StatusCode::METHOD_NOT_ALLOWED.into_response());
    }
    let bytes = sh.lock().cdn.get(path).cloned();
    Some(match bytes {
        Some(b) => (
            [(header::CONTENT_TYPE, "application/octet-stream")],
            Body::from(b),
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            "This content is no longer available.",
        )
            .into_response(),
    })
}

impl FakeDiscord {
    /// Make a file a user can attach: a slash command's attachment option
    /// naming `filename` then carries this file (its real size, a URL on
    /// the fake's CDN).
    pub fn upload(&self, filename: &str, bytes: &[u8]) {
        self.shared
            .lock()
            .uploads
            .insert(filename.to_string(), bytes.to_vec());
    }

    /// The bytes behind an attachment URL the fake handed out.
    pub fn attachment_bytes(&self, url: &str) -> Option<Vec<u8>> {
        let u = url::Url::parse(url).ok()?;
        self.shared.lock().cdn.get(u.path()).cloned()
    }
}
