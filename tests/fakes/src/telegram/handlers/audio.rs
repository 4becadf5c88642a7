//! Audio messages: `sendAudio` with an HTTP URL, a known `file_id` or an
//! upload.
//!
//! Facts followed (core.telegram.org/bots/api, "sendAudio", "Audio",
//! "Sending files"): the audio is MP3 or M4A; Telegram fetches a URL
//! itself (up to 20 MB for files other than photos) and may fail ("Bad
//! Request: failed to get HTTP URL content", "wrong file
//! identifier/HTTP URL specified"); a caption is 0–1024 characters after
//! entity parsing; no audio is "Bad Request: there is no audio in the
//! request"; the answer is a `Message` with an `Audio` (`file_id`,
//! `file_unique_id`, `duration`, `performer`, `title`, `file_name`,
//! `mime_type`, `file_size`). Without rights: TDLib's "Not enough rights
//! to send music to the chat" (`MessageContent.cpp`).

use serde_json::{Value, json};

use super::super::params::Params;
use super::super::{PhotoFailure, Shared, State, new_file_id};
use super::{
    Action, Reply, bad, captioned_message, check_access, check_thread, message_json, resolve_chat,
};

/// The size the fake reports for an audio file sent by URL (it fetches
/// nothing).
pub const URL_AUDIO_SIZE: u64 = 812_000;
/// The duration it reports, in seconds.
pub const AUDIO_DURATION: u64 = 184;

/// An audio file as a message shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TgAudio {
    /// The audio as the bot gave it: a URL or a file id (empty for an
    /// upload).
    pub source: String,
    pub file_id: String,
    pub file_unique_id: String,
    pub duration: u64,
    pub file_name: Option<String>,
    pub mime_type: Option<String>,
    pub file_size: u64,
}

impl TgAudio {
    pub(crate) fn to_json(&self) -> Value {
        let mut v = json!({
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "duration": self.duration,
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

/// `audio/mpeg` for `.mp3`, `audio/mp4` for `.m4a`.
fn mime_of(name: &str) -> Option<String> {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".mp3") {
        Some("audio/mpeg".into())
    } else if lower.ends_with(".m4a") {
        Some("audio/mp4".into())
    } else {
        None
    }
}

pub(crate) fn send_audio(sh: &Shared, st: &mut State, p: &Params) -> Reply {
    let chat = resolve_chat(st, p)?;
    check_access(&chat, Action::SendAudio)?;
    let thread = check_thread(&chat, p)?;
    let upload = p.files.get("audio").cloned();
    let audio = match (upload, p.str("audio").filter(|s| !s.trim().is_empty())) {
        (Some(u), _) => {
            let name = u.file_name.clone();
            TgAudio {
                source: String::new(),
                file_id: new_file_id(st).replace("FAKEFILEID", "FAKEAUDIO"),
                file_unique_id: format!("CQAD{}", st.file_counter),
                duration: AUDIO_DURATION,
                mime_type: name.as_deref().and_then(mime_of),
                file_name: name,
                file_size: u.size as u64,
            }
        }
        (None, Some(given)) => {
            if let Some(how) = st.bad_urls.get(&given) {
                return Err(bad(how.description()));
            }
            let lower = given.to_ascii_lowercase();
            let is_url = lower.starts_with("http://") || lower.starts_with("https://");
            if !is_url && !st.known_file_ids.contains(&given) {
                return Err(bad(PhotoFailure::WrongIdentifier.description()));
            }
            let path = given.split(['?', '#']).next().unwrap_or("");
            let name = is_url
                .then(|| path.rsplit('/').next().unwrap_or("").to_string())
                .filter(|n| !n.is_empty());
            TgAudio {
                file_id: if is_url {
                    new_file_id(st).replace("FAKEFILEID", "FAKEAUDIO")
                } else {
                    given.clone()
                },
                file_unique_id: format!("CQAD{}", st.file_counter),
                duration: AUDIO_DURATION,
                mime_type: name.as_deref().and_then(mime_of),
                file_name: name,
                file_size: URL_AUDIO_SIZE,
                source: given,
            }
        }
        (None, None) => return Err(bad("Bad Request: there is no audio in the request")),
    };
    let mut m = captioned_message(sh, st, &chat, p, thread)?;
    st.known_file_ids.insert(audio.file_id.clone());
    m.audio = Some(audio);
    let j = message_json(st, sh.bot_id, &m);
    st.messages.entry(chat.id).or_default().push(m);
    Ok(j)
}
