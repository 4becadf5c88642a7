//! The link line of a post's audio or video file (a podcast episode, a
//! video enclosure): the `media_url` and `media_label` placeholders; and
//! whether Telegram can send that file as an audio message.

use super::text::sanitize_url;
use crate::model::{Enclosure, Post};

/// The largest file the Bot API fetches by URL for `sendAudio` (20 MB;
/// 50 MB is for uploads only).
pub const AUDIO_URL_LIMIT: u64 = 20 * 1024 * 1024;

/// A size for people: `34 MB`, `820 KB`.
fn human_size(bytes: u64) -> Option<String> {
    const KB: u64 = 1_000;
    const MB: u64 = 1_000_000;
    match bytes {
        0 => None,
        b if b >= MB => Some(format!("{} MB", (b + MB / 2) / MB)),
        b => Some(format!("{} KB", b.div_ceil(KB))),
    }
}

/// The file format shown to people: `MP3`, `M4A`, `MP4`.
fn format_name(mime: Option<&str>, url: &str) -> Option<String> {
    let from_mime = match mime.unwrap_or("").to_ascii_lowercase().as_str() {
        "audio/mpeg" | "audio/mp3" => Some("MP3"),
        "audio/mp4" | "audio/x-m4a" | "audio/m4a" => Some("M4A"),
        "audio/ogg" => Some("OGG"),
        "audio/opus" => Some("OPUS"),
        "video/mp4" => Some("MP4"),
        "video/webm" => Some("WEBM"),
        _ => None,
    };
    from_mime.map(str::to_string).or_else(|| {
        let path = url.split(['?', '#']).next().unwrap_or("");
        let name = path.rsplit('/').next().unwrap_or("");
        let (_, ext) = name.rsplit_once('.')?;
        (ext.len() <= 4 && ext.chars().all(|c| c.is_ascii_alphanumeric()))
            .then(|| ext.to_ascii_uppercase())
    })
}

/// The first audio or video file of the post with a usable URL: the file
/// the link line shows.
fn first_media(post: &Post) -> Option<(&Enclosure, &'static str, String)> {
    post.enclosures
        .iter()
        .find_map(|e| Some((e, e.kind()?, sanitize_url(&e.url, None)?)))
}

/// The URL of the post's audio file when Telegram can send it as an audio
/// message (`sendAudio` by URL): the file the link line shows is audio,
/// MP3 or M4A (the only formats `sendAudio` takes; by MIME type, else the
/// file name), and its declared length is known and at most
/// [`AUDIO_URL_LIMIT`]. Feeds often declare a length of 0: unknown.
pub(crate) fn telegram_audio(post: &Post) -> Option<String> {
    let (e, kind, url) = first_media(post)?;
    let playable = matches!(
        format_name(e.mime.as_deref(), &url).as_deref(),
        Some("MP3" | "M4A")
    );
    let length = e.length.filter(|n| *n > 0)?;
    (kind == "audio" && playable && length <= AUDIO_URL_LIMIT).then_some(url)
}

/// The first audio or video file of the post: its URL and a label
/// (`🎧 Listen (MP3, 34 MB)`, `▶ Watch (MP4)`).
pub(crate) fn media_line(post: &Post) -> Option<(String, String)> {
    first_media(post).map(|(e, kind, url)| {
        let verb = if kind == "audio" {
            "🎧 Listen"
        } else {
            "▶ Watch"
        };
        let details: Vec<String> = [
            format_name(e.mime.as_deref(), &url),
            e.length.and_then(human_size),
        ]
        .into_iter()
        .flatten()
        .collect();
        let label = if details.is_empty() {
            verb.to_string()
        } else {
            format!("{verb} ({})", details.join(", "))
        };
        (url, label)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(url: &str, mime: Option<&str>, length: Option<u64>) -> Post {
        Post {
            enclosures: vec![Enclosure {
                url: url.into(),
                mime: mime.map(Into::into),
                length,
            }],
            ..Post::default()
        }
    }

    #[test]
    fn audio_messages_are_mp3_or_m4a_of_a_known_size_within_20_mb() {
        let mp3 = "https://cdn.example/ep.mp3";
        let ok = Some(mp3.to_string());
        assert_eq!(
            telegram_audio(&with(mp3, Some("audio/mpeg"), Some(812_000))),
            ok
        );
        assert_eq!(
            telegram_audio(&with(mp3, Some("audio/mp3"), Some(AUDIO_URL_LIMIT))),
            ok
        );
        assert_eq!(telegram_audio(&with(mp3, None, Some(1_000))), ok);
        let m4a = "https://cdn.example/ep.m4a?x=1";
        for mime in ["audio/mp4", "audio/x-m4a", "audio/m4a", "AUDIO/X-M4A"] {
            assert_eq!(
                telegram_audio(&with(m4a, Some(mime), Some(1_000))),
                Some(m4a.to_string()),
                "{mime}"
            );
        }
        // Too big, unknown or zero length.
        assert_eq!(
            telegram_audio(&with(mp3, Some("audio/mpeg"), Some(25_000_000))),
            None
        );
        assert_eq!(
            telegram_audio(&with(mp3, Some("audio/mpeg"), Some(AUDIO_URL_LIMIT + 1))),
            None
        );
        assert_eq!(telegram_audio(&with(mp3, Some("audio/mpeg"), None)), None);
        assert_eq!(
            telegram_audio(&with(mp3, Some("audio/mpeg"), Some(0))),
            None
        );
        // Formats sendAudio does not take, and video.
        let ogg = "https://cdn.example/ep.ogg";
        assert_eq!(
            telegram_audio(&with(ogg, Some("audio/ogg"), Some(1_000))),
            None
        );
        assert_eq!(
            telegram_audio(&with(mp3, Some("audio/ogg"), Some(1_000))),
            None
        );
        let flac = "https://cdn.example/ep.flac";
        assert_eq!(telegram_audio(&with(flac, None, Some(1_000))), None);
        let mp4 = "https://cdn.example/v.mp4";
        assert_eq!(
            telegram_audio(&with(mp4, Some("video/mp4"), Some(1_000))),
            None
        );
        // Only the file the link line shows: a video before the MP3 wins.
        let mut both = with(mp4, Some("video/mp4"), Some(1_000));
        both.enclosures
            .extend(with(mp3, Some("audio/mpeg"), Some(1_000)).enclosures);
        assert_eq!(telegram_audio(&both), None);
        assert_eq!(telegram_audio(&Post::default()), None);
    }

    #[test]
    fn labels() {
        let post = Post {
            enclosures: vec![
                Enclosure {
                    url: "https://cdn.example/ep1.jpg".into(),
                    mime: Some("image/jpeg".into()),
                    length: None,
                },
                Enclosure {
                    url: "https://cdn.example/ep1.mp3".into(),
                    mime: Some("audio/mpeg".into()),
                    length: Some(34_123_456),
                },
            ],
            ..Post::default()
        };
        assert_eq!(
            media_line(&post),
            Some((
                "https://cdn.example/ep1.mp3".into(),
                "🎧 Listen (MP3, 34 MB)".into()
            ))
        );
        let video = Post {
            enclosures: vec![Enclosure {
                url: "https://cdn.example/v.webm?x=1".into(),
                mime: None,
                length: Some(0),
            }],
            ..Post::default()
        };
        assert_eq!(
            media_line(&video).map(|(_, l)| l),
            Some("▶ Watch (WEBM)".into())
        );
        assert_eq!(media_line(&Post::default()), None);
    }
}
