use super::*;
use crate::format::rich::{Span, Style};

fn s(t: &str, style: Style, link: Option<&str>) -> Span {
    Span {
        text: t.into(),
        style,
        link: link.map(Into::into),
    }
}

#[test]
fn nesting_is_canonical() {
    let blocks = vec![Block::Paragraph(vec![
        s("a", Style::BOLD, None),
        s("b", Style::BOLD.union(Style::ITALIC), None),
        s("c", Style::ITALIC, None),
        s("d<&>", Style::PLAIN, Some("https://x.example/?a=1&b=\"2\"")),
        s("e", Style::CODE.union(Style::BOLD), None),
    ])];
    let (html, len) = to_html(&blocks);
    assert_eq!(
        html,
        "<b>a<i>b</i></b><i>c</i><a href=\"https://x.example/?a=1&amp;b=&quot;2&quot;\">d&lt;&amp;&gt;</a><code>e</code>"
    );
    assert_eq!(len, 8);
    assert!(crate::format::validate::telegram_text(&html, Some("HTML"), 4096).is_ok());
}

#[test]
fn entity_cost_matches_what_telegram_parses() {
    let blocks = vec![
        Block::Heading {
            level: 2,
            spans: vec![
                s("h", Style::PLAIN, None),
                s("l", Style::ITALIC, Some("https://h.example/")),
            ],
        },
        Block::Paragraph(vec![
            s("a", Style::BOLD, None),
            s(
                "b",
                Style::BOLD.union(Style::ITALIC),
                Some("https://x.example/"),
            ),
            s("c", Style::CODE, None),
            s("d", Style::SPOILER.union(Style::STRIKE), None),
        ]),
        Block::Quote(vec![s("q", Style::UNDERLINE, None)]),
        Block::Code {
            lang: Some("rust".into()),
            text: "x".into(),
        },
        Block::Image {
            src: "https://i.example/p.png".into(),
            alt: String::new(),
        },
    ];
    let (html, _) = to_html(&blocks);
    let parsed = crate::format::validate::parse_telegram_html(&html).unwrap_or_default();
    let (n, bytes) = entities::entity_cost(&blocks);
    assert_eq!(n, parsed.entities.len(), "{html}");
    let expected: usize = parsed
        .entities
        .iter()
        .map(|e| 16 + e.url.as_ref().map_or(0, String::len))
        .sum();
    assert_eq!(bytes, expected);
}

#[test]
fn plain_fallback_strips_markup() {
    let m = text_message("<b>a &amp; b</b>".into(), LinkPreviewOptions::disabled());
    let p = plain_fallback(&m);
    assert_eq!(p.text.as_deref(), Some("a & b"));
    assert_eq!(p.parse_mode, None);
}

#[test]
fn photo_becomes_text_with_preview() {
    let m = TelegramMessage {
        method: TelegramMethod::SendPhoto,
        text: None,
        photo: Some("https://i.example/p.jpg".into()),
        audio: None,
        caption: Some("<b>x</b>".into()),
        media: None,
        parse_mode: Some("HTML".into()),
        link_preview_options: None,
        reply_markup: None,
        fallback: None,
        telegraph: None,
    };
    let t = photo_to_text(&m);
    assert_eq!(t.method, TelegramMethod::SendMessage);
    assert_eq!(t.text.as_deref(), Some("<b>x</b>"));
    let p = t.link_preview_options.unwrap_or_default();
    assert_eq!(p.url.as_deref(), Some("https://i.example/p.jpg"));
    assert_eq!(p.show_above_text, Some(true));
}

fn podcast(mime: &str, url: &str, length: Option<u64>, summary: &str) -> Post {
    Post {
        feed: "pod".into(),
        source_title: Some("The Show".into()),
        title: "Ep. 7: Frost".into(),
        link: Some("https://pod.example/7".into()),
        summary_html: Some(summary.into()),
        images: vec!["https://pod.example/ep7.jpg".into()],
        enclosures: vec![crate::model::Enclosure {
            url: url.into(),
            mime: Some(mime.into()),
            length,
        }],
        ..Post::default()
    }
}

fn rendered(post: &Post, fmt: &TargetFormat) -> Vec<TelegramMessage> {
    render(post, &FeedRenderOptions::default(), fmt).expect("render")
}

const MP3: &str = "https://cdn.pod.example/ep7.mp3";

#[test]
fn a_small_mp3_is_an_audio_message_without_its_link_line() {
    let fmt = TargetFormat {
        read_more: true,
        ..TargetFormat::default()
    };
    let post = podcast("audio/mpeg", MP3, Some(12_000_000), "<p>Birdsong.</p>");
    let out = rendered(&post, &fmt);
    assert_eq!(out.len(), 1);
    let m = &out[0];
    assert_eq!(m.method, TelegramMethod::SendAudio);
    assert_eq!(m.audio.as_deref(), Some(MP3));
    assert_eq!(m.photo, None, "the image is not sent with the audio");
    let caption = m.caption.as_deref().unwrap_or("");
    assert!(caption.contains("Birdsong."), "{caption}");
    assert!(
        !caption.contains("Listen") && !caption.contains(MP3),
        "{caption}"
    );
    assert!(m.reply_markup.is_some(), "the read-more button stays");
    let params = m.params();
    assert!(params.get("fallback").is_none(), "{params}");
    assert!(crate::format::validate::telegram_message("sendAudio", &params).is_ok());
    // The fallback: the post as text, with the link line and the image
    // as a preview above it.
    let text = media_to_text(m);
    assert_eq!(text.method, TelegramMethod::SendMessage);
    let body = text.text.as_deref().unwrap_or("");
    assert!(
        body.contains("🎧 Listen (MP3, 12 MB)") && body.contains(MP3),
        "{body}"
    );
    let preview = text.link_preview_options.clone().unwrap_or_default();
    assert_eq!(preview.url.as_deref(), Some("https://pod.example/ep7.jpg"));
    assert_eq!(text.reply_markup, m.reply_markup);
    // A stored payload reads back with its fallback.
    let back = TelegramMessage::from_payload(&m.to_part().payload);
    assert_eq!(back.as_ref(), Some(m));
    // Full mode too; M4A too.
    let full = TargetFormat {
        mode: Mode::Full,
        ..TargetFormat::default()
    };
    assert_eq!(rendered(&post, &full)[0].method, TelegramMethod::SendAudio);
    let m4a = podcast(
        "audio/x-m4a",
        "https://c.example/e.m4a",
        Some(5_000),
        "<p>x</p>",
    );
    assert_eq!(rendered(&m4a, &fmt)[0].method, TelegramMethod::SendAudio);
}

#[test]
fn other_audio_keeps_the_link_line() {
    let fmt = TargetFormat::default();
    let cases = [
        (
            "25 MB",
            podcast("audio/mpeg", MP3, Some(25_000_000), "<p>x</p>"),
        ),
        (
            "unknown length",
            podcast("audio/mpeg", MP3, None, "<p>x</p>"),
        ),
        (
            "zero length",
            podcast("audio/mpeg", MP3, Some(0), "<p>x</p>"),
        ),
        (
            "OGG",
            podcast(
                "audio/ogg",
                "https://cdn.pod.example/ep7.ogg",
                Some(1_000),
                "<p>x</p>",
            ),
        ),
    ];
    for (why, post) in cases {
        let out = rendered(&post, &fmt);
        assert_eq!(out.len(), 1, "{why}");
        assert_eq!(out[0].method, TelegramMethod::SendPhoto, "{why}");
        assert!(
            out[0].body().contains("🎧 Listen"),
            "{why}: {}",
            out[0].body()
        );
    }
}

#[test]
fn a_post_too_long_for_a_caption_is_not_an_audio_message() {
    let long = format!("<p>{}</p>", "Birdsong at dawn. ".repeat(80));
    let fmt = TargetFormat {
        summary_length: 3000,
        ..TargetFormat::default()
    };
    let post = podcast("audio/mpeg", MP3, Some(1_000), &long);
    let out = rendered(&post, &fmt);
    assert_eq!(out[0].method, TelegramMethod::SendMessage, "{:?}", out[0]);
    assert!(out[0].body().contains("🎧 Listen (MP3, 1 KB)"));
    // Just within the caption limit, without the link line: audio.
    let short = format!("<p>{}</p>", "Birdsong at dawn. ".repeat(40));
    let out = rendered(&podcast("audio/mpeg", MP3, Some(1_000), &short), &fmt);
    assert_eq!(out[0].method, TelegramMethod::SendAudio, "{:?}", out[0]);
}

#[test]
fn an_audio_message_without_a_fallback_still_becomes_text() {
    let m = TelegramMessage {
        method: TelegramMethod::SendAudio,
        text: None,
        photo: None,
        audio: Some("https://a.example/x.mp3?a=1&b=2".into()),
        caption: Some("<b>x</b>".into()),
        media: None,
        parse_mode: Some("HTML".into()),
        link_preview_options: None,
        reply_markup: None,
        fallback: None,
        telegraph: None,
    };
    let t = media_to_text(&m);
    assert_eq!(
        t.text.as_deref(),
        Some("<b>x</b>\n\n<a href=\"https://a.example/x.mp3?a=1&amp;b=2\">🎧 Listen</a>")
    );
    assert!(crate::format::validate::telegram_message("sendMessage", &t.params()).is_ok());
    let p = plain_fallback(&m);
    assert_eq!(p.caption.as_deref(), Some("x"));
    assert_eq!(p.method, TelegramMethod::SendAudio);
}
