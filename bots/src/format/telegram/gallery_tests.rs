//! Media groups (`telegram_gallery`): when an article becomes an album,
//! its caption, the text that follows, and the validator's rules.

use serde_json::json;

use super::*;
use crate::format::validate::telegram_message;

fn img(name: &str) -> String {
    format!(r#"<p>About {name}.</p><img src="https://pics.example/{name}.jpg" alt="{name}">"#)
}

/// An article whose body shows `n` distinct pictures, then `extra`.
fn pictured(n: usize, extra: &str) -> Post {
    let body: String = (0..n).map(|i| img(&format!("p{i}"))).collect();
    Post {
        feed: "feed".into(),
        title: "Three days on the ridge".into(),
        link: Some("https://site.example/ridge".into()),
        content_html: Some(format!("{body}{extra}")),
        ..Post::default()
    }
}

fn fmt(gallery: bool, mode: Mode) -> TargetFormat {
    TargetFormat {
        telegram_gallery: gallery,
        mode,
        ..TargetFormat::default()
    }
}

fn rendered(post: &Post, fmt: &TargetFormat) -> Vec<TelegramMessage> {
    render(post, &FeedRenderOptions::default(), fmt).expect("render")
}

fn urls(m: &TelegramMessage) -> Vec<String> {
    m.media.iter().flatten().map(|i| i.media.clone()).collect()
}

fn valid(msgs: &[TelegramMessage]) {
    for m in msgs {
        telegram_message(m.method.as_str(), &m.params())
            .unwrap_or_else(|v| panic!("{v}: {:?}", m.params()));
    }
}

#[test]
fn a_gallery_is_one_album_with_the_caption_on_its_first_picture() {
    let out = rendered(&pictured(3, ""), &fmt(true, Mode::Summary));
    assert_eq!(out.len(), 1, "{out:?}");
    let m = &out[0];
    assert_eq!(m.method, TelegramMethod::SendMediaGroup);
    assert_eq!(
        urls(m),
        ["p0", "p1", "p2"].map(|p| format!("https://pics.example/{p}.jpg"))
    );
    let media = m.media.as_deref().unwrap_or_default();
    assert!(media.iter().all(|i| i.kind == "photo"));
    let first = &media[0];
    assert!(
        first
            .caption
            .as_deref()
            .is_some_and(|c| c.contains("Three days on the ridge")),
        "{first:?}"
    );
    assert_eq!(first.parse_mode.as_deref(), Some("HTML"));
    assert!(
        media[1..]
            .iter()
            .all(|i| i.caption.is_none() && i.parse_mode.is_none())
    );
    valid(&out);
    // The Bot API parameters: `media` only (the caption is inside).
    let p = m.params();
    assert!(p.get("caption").is_none() && p.get("parse_mode").is_none());
    assert_eq!(p["media"][0]["type"], json!("photo"));
    assert_eq!(m.message_count(), 3);
    assert!(
        m.summary().starts_with("sendMediaGroup (3 photos)"),
        "{}",
        m.summary()
    );
    // A stored payload reads back the same.
    assert_eq!(
        TelegramMessage::from_payload(&m.to_part().payload).as_ref(),
        Some(m)
    );
}

#[test]
fn no_album_unless_asked_and_possible() {
    // Off (the default): today's photo with caption.
    let out = rendered(&pictured(3, ""), &TargetFormat::default());
    assert_eq!(out[0].method, TelegramMethod::SendPhoto);
    assert!(out.iter().all(|m| m.media.is_none()));
    // One picture is no album.
    let out = rendered(&pictured(1, ""), &fmt(true, Mode::Summary));
    assert_eq!(out[0].method, TelegramMethod::SendPhoto);
    // Two are.
    let out = rendered(&pictured(2, ""), &fmt(true, Mode::Summary));
    assert_eq!(out[0].method, TelegramMethod::SendMediaGroup);
    // A digest never is.
    let mut digest = pictured(3, "");
    digest.digest = vec![crate::model::DigestItem {
        title: "One".into(),
        link: Some("https://site.example/1".into()),
    }];
    let out = rendered(&digest, &fmt(true, Mode::Summary));
    assert!(
        out.iter()
            .all(|m| m.method != TelegramMethod::SendMediaGroup)
    );
}

#[test]
fn an_album_holds_ten_pictures_at_most() {
    let out = rendered(&pictured(12, ""), &fmt(true, Mode::Full));
    assert_eq!(out[0].method, TelegramMethod::SendMediaGroup);
    assert_eq!(urls(&out[0]).len(), 10);
    assert_eq!(urls(&out[0])[9], "https://pics.example/p9.jpg");
    valid(&out);
}

#[test]
fn text_beyond_the_caption_follows_as_text_messages() {
    let long: String = (0..12)
        .map(|i| {
            format!(
                "<p>Paragraph {i}: {}</p>",
                "The path climbs on. ".repeat(12)
            )
        })
        .collect();
    let out = rendered(
        &pictured(3, &long),
        &TargetFormat {
            read_more: true,
            ..fmt(true, Mode::Full)
        },
    );
    assert!(out.len() >= 2, "{out:?}");
    assert_eq!(out[0].method, TelegramMethod::SendMediaGroup);
    let caption =
        crate::format::validate::telegram_text(out[0].body(), Some("HTML"), CAPTION_LIMIT)
            .expect("a caption within 1024");
    assert!(caption > 500, "the caption is used: {caption}");
    for m in &out[1..] {
        assert_eq!(m.method, TelegramMethod::SendMessage);
        assert_eq!(m.link_preview_options, Some(LinkPreviewOptions::disabled()));
    }
    // Nothing lost, nothing repeated, in order.
    let shown: String = out
        .iter()
        .map(|m| crate::format::validate::parse_telegram_html(m.body()).map(|p| p.text))
        .collect::<Result<Vec<_>, _>>()
        .expect("html")
        .join("\n");
    for i in 0..12 {
        assert_eq!(
            shown.matches(&format!("Paragraph {i}:")).count(),
            1,
            "{shown}"
        );
    }
    // The album's pictures are not repeated as image lines.
    assert!(!shown.contains("p1.jpg") && !out[1..].iter().any(|m| m.body().contains("p1.jpg")));
    // The button goes on the last text message; an album has none.
    assert!(out[0].reply_markup.is_none());
    assert!(out.last().is_some_and(|m| m.reply_markup.is_some()));
    valid(&out);
    // max_parts counts the album.
    let capped = rendered(
        &pictured(3, &long),
        &TargetFormat {
            max_parts: 2,
            ..fmt(true, Mode::Full)
        },
    );
    assert_eq!(capped.len(), 2);
    valid(&capped);
    let one = rendered(
        &pictured(3, &long),
        &TargetFormat {
            max_parts: 1,
            ..fmt(true, Mode::Full)
        },
    );
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].method, TelegramMethod::SendMediaGroup);
    valid(&one);
}

#[test]
fn a_summary_too_long_for_a_caption_continues_as_text() {
    let long: String = (0..6)
        .map(|i| format!("<p>Part {i}: {}</p>", "Wind on the scree. ".repeat(15)))
        .collect();
    let out = rendered(
        &pictured(2, &long),
        &TargetFormat {
            summary_length: 3000,
            ..fmt(true, Mode::Summary)
        },
    );
    assert_eq!(out.len(), 2, "{out:?}");
    assert_eq!(out[0].method, TelegramMethod::SendMediaGroup);
    assert_eq!(out[1].method, TelegramMethod::SendMessage);
    valid(&out);
}

#[test]
fn a_refused_album_becomes_its_first_photo_or_text() {
    let out = rendered(&pictured(3, ""), &fmt(true, Mode::Summary));
    let photo = group_to_photo(&out[0]);
    assert_eq!(photo.method, TelegramMethod::SendPhoto);
    assert_eq!(photo.photo.as_deref(), Some("https://pics.example/p0.jpg"));
    assert_eq!(photo.caption.as_deref(), Some(out[0].body()));
    valid(&[photo]);
    let text = media_to_text(&out[0]);
    assert_eq!(text.method, TelegramMethod::SendMessage);
    assert_eq!(text.text.as_deref(), Some(out[0].body()));
    let preview = text.link_preview_options.clone().unwrap_or_default();
    assert_eq!(preview.url.as_deref(), Some("https://pics.example/p0.jpg"));
    valid(&[text]);
    // Plain text keeps the album, caption on the first only.
    let plain = plain_fallback(&out[0]);
    assert_eq!(plain.method, TelegramMethod::SendMediaGroup);
    let media = plain.media.as_deref().unwrap_or_default();
    assert!(
        media[0]
            .caption
            .as_deref()
            .is_some_and(|c| !c.contains('<'))
    );
    assert!(media.iter().all(|i| i.parse_mode.is_none()));
    assert!(media[1..].iter().all(|i| i.caption.is_none()));
    valid(&[plain]);
}

#[test]
fn the_validator_knows_albums() {
    let photo = |u: &str| json!({"type": "photo", "media": u});
    let err = |p: serde_json::Value| {
        telegram_message("sendMediaGroup", &p)
            .err()
            .map(|v| v.description)
            .unwrap_or_default()
    };
    let two = json!([
        {"type": "photo", "media": "https://a.example/1.jpg", "caption": "<b>x</b>", "parse_mode": "HTML"},
        photo("https://a.example/2.jpg"),
    ]);
    assert!(telegram_message("sendMediaGroup", &json!({ "media": two })).is_ok());
    // As a form sends it: a string holding the JSON.
    assert!(telegram_message("SendMediaGroup", &json!({ "media": two.to_string() })).is_ok());
    assert_eq!(
        err(json!({})),
        "Bad Request: parameter \"media\" is required"
    );
    assert_eq!(
        err(json!({"media": "[{"})),
        "Bad Request: can't parse media JSON object"
    );
    assert_eq!(
        err(json!({"media": {"type": "photo"}})),
        "Bad Request: expected an Array of InputMedia"
    );
    assert_eq!(
        err(json!({"media": []})),
        "Bad Request: there is no messages to send"
    );
    assert!(err(json!({"media": [photo("https://a.example/1.jpg")]})).contains("2-10 items"));
    let eleven: Vec<_> = (0..11)
        .map(|i| photo(&format!("https://a.example/{i}.jpg")))
        .collect();
    assert_eq!(
        err(json!({ "media": eleven })),
        "Bad Request: too much messages to send as an album"
    );
    assert_eq!(
        err(json!({"media": [photo("https://a.example/1.jpg"), 3]})),
        "Bad Request: can't parse InputMedia: expected an Object"
    );
    assert_eq!(
        err(json!({"media": [photo("https://a.example/1.jpg"), {"type": "photo"}]})),
        "Bad Request: can't parse InputMedia: media not found"
    );
    assert_eq!(
        err(
            json!({"media": [photo("https://a.example/1.jpg"), {"type": "animation", "media": "https://a.example/a.gif"}]})
        ),
        "Bad Request: can't parse InputMedia: type \"animation\" can't be used in sendMediaGroup"
    );
    assert_eq!(
        err(
            json!({"media": [photo("https://a.example/1.jpg"), {"type": "sticker", "media": "x"}]})
        ),
        "Bad Request: can't parse InputMedia: type \"sticker\" is unsupported"
    );
    // A caption only on the first; parsed like sendPhoto's; 1024 at most.
    assert!(err(json!({"media": [photo("https://a.example/1.jpg"), {"type": "photo", "media": "https://a.example/2.jpg", "caption": "late"}]})).contains("other than the first"));
    assert_eq!(
        err(
            json!({"media": [{"type": "photo", "media": "https://a.example/1.jpg", "caption": "<div>x</div>", "parse_mode": "HTML"}, photo("https://a.example/2.jpg")]})
        ),
        "Bad Request: can't parse InputMedia: Can't parse entities: Unsupported start tag \"div\" at byte offset 0"
    );
    assert_eq!(
        err(
            json!({"media": [{"type": "photo", "media": "https://a.example/1.jpg", "caption": "x".repeat(1025)}, photo("https://a.example/2.jpg")]})
        ),
        "Bad Request: message caption is too long"
    );
    // Documents group with documents only.
    assert!(err(json!({"media": [photo("https://a.example/1.jpg"), {"type": "document", "media": "https://a.example/d.pdf"}]})).contains("grouped only"));
    assert!(telegram_message("sendMediaGroup", &json!({"media": [{"type": "video", "media": "https://a.example/v.mp4"}, photo("https://a.example/1.jpg")]})).is_ok());
}
