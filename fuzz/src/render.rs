//! The formatter's invariant: every rendering of any post, for either
//! platform, passes the strict validator, without the formatter's safety
//! net (a message that failed the formatter's own check is a bug too).

use crier_bots::Post;
use crier_bots::format::validate::{discord_message, telegram_message};
use crier_bots::format::{
    DiscordImage, DiscordStyle, FeedRenderOptions, LinkPreview, Mode, TargetFormat, discord,
    safety_net_count, telegram, terminal,
};

/// The target formats every post is rendered with: the default, full text,
/// plain Discord with few parts, a custom template, and galleries (Telegram
/// albums, Discord grids) with few parts.
fn formats() -> Vec<TargetFormat> {
    let d = TargetFormat::default();
    vec![
        d.clone(),
        TargetFormat {
            mode: Mode::Full,
            read_more: true,
            telegram_gallery: true,
            discord_gallery: true,
            telegraph: true,
            max_parts: 3,
            ..d.clone()
        },
        TargetFormat {
            mode: Mode::Full,
            read_more: true,
            ..d.clone()
        },
        TargetFormat {
            mode: Mode::Full,
            discord_style: DiscordStyle::Plain,
            link_preview: LinkPreview::None,
            photo: false,
            max_parts: 3,
            ..d.clone()
        },
        TargetFormat {
            summary_length: 3000,
            discord_image: DiscordImage::Thumbnail,
            template: Some(
                "<blockquote><i>{{ summary }}</i></blockquote>\n<b>{{ title }}</b> {{ author }}\n\
                 {{ content }}\n<a href=\"{{ link }}\">{{ title }}</a> {{ hashtags }} {{ date }}"
                    .into(),
            ),
            ..d
        },
    ]
}

/// How many formats [`check_post`] tries: `all` = every one, else the
/// default only (feeds with many items).
pub(crate) fn check_post(post: &Post, all: bool) {
    let formats = formats();
    let formats = if all { &formats[..] } else { &formats[..1] };
    let feed = FeedRenderOptions::default();
    for fmt in formats {
        let before = safety_net_count();
        match telegram::render(post, &feed, fmt) {
            Ok(msgs) => {
                assert!(!msgs.is_empty(), "Telegram: no message rendered");
                assert!(
                    msgs.len() <= fmt.max_parts.max(1),
                    "Telegram: {} parts > max_parts {}",
                    msgs.len(),
                    fmt.max_parts
                );
                for m in &msgs {
                    valid_telegram(m);
                    valid_telegram(&telegram::plain_fallback(m));
                    let _ = terminal::telegram(m);
                }
            }
            Err(e) => assert!(e.0.contains("nothing to publish"), "Telegram render: {e}"),
        }
        match discord::render(post, &feed, fmt) {
            Ok(msgs) => {
                assert!(!msgs.is_empty(), "Discord: no message rendered");
                for m in &msgs {
                    valid_discord(m);
                    valid_discord(&discord::minimal_fallback(m));
                    let _ = terminal::discord(m);
                }
            }
            Err(e) => assert!(e.0.contains("nothing to publish"), "Discord render: {e}"),
        }
        assert_eq!(
            safety_net_count(),
            before,
            "the formatter's safety net replaced an invalid message (a formatter bug)"
        );
    }
}

fn valid_telegram(m: &telegram::TelegramMessage) {
    if let Err(e) = telegram_message(m.method.as_str(), &m.params()) {
        panic!("invalid Telegram message: {}\n{m:#?}", e.description);
    }
}

fn valid_discord(m: &discord::DiscordMessage) {
    let v = serde_json::to_value(m).unwrap_or_default();
    if let Err(e) = discord_message(&v) {
        panic!("invalid Discord message: {}\n{m:#?}", e.errors);
    }
}
