//! The link line of a post's audio or video file (a podcast episode, a
//! video enclosure): the `media_url` and `media_label` placeholders.

use super::text::sanitize_url;
use crate::model::Post;

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

/// The first audio or video file of the post: its URL and a label
/// (`🎧 Listen (MP3, 34 MB)`, `▶ Watch (MP4)`).
pub(crate) fn media_line(post: &Post) -> Option<(String, String)> {
    post.enclosures.iter().find_map(|e| {
        let kind = e.kind()?;
        let url = sanitize_url(&e.url, None)?;
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
        Some((url, label))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Enclosure;

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
