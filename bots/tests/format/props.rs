//! Property tests: generated HTML (unbalanced tags, unknown tags, hostile
//! attributes) and Unicode (emoji, combining marks, RTL, astral plane,
//! zero-width, controls) — every rendering passes the strict validator and
//! nothing panics.

use proptest::prelude::*;

use crier_bots::format::validate::{discord_message, parse_telegram_html, telegram_text};
use crier_bots::format::{
    DiscordImage, DiscordStyle, FeedRenderOptions, LinkPreview, Mode, TargetFormat, discord,
    telegram, terminal, validate,
};
use crier_bots::{DigestItem, Post};

use crate::common::*;

fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z]{1,12} ".prop_map(|s| s),
        2 => any::<String>(),
        1 => "[\\PC]{0,40}",
        3 => prop::sample::select(vec![
            "😀", "👍🏽", "🇯🇵🇺🇦", "👨‍👩‍👧", "e\u{301}\u{302}", "مرحبا بالعالم ", "שלום ", "\u{202E}rtl\u{202C}", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
            "\u{200B}", "\u{200D}", "\u{FEFF}", "\u{AD}", "\u{0}", "\u{7}", "\r\n", "\n", "\t", "   ", "\u{A0}",
            "&amp;", "&lt;", "&nbsp;", "&#128512;", "&#xD800;", "&bogus;", "&", "<", ">", "\"", "'",
            "*", "_", "`", "```", "|", "||", "~", "[", "](", ")", "\\", "#", "> ", "- ", "1. ", "@everyone", "@here",
            "<@1234567890>", "Sentence ends here. ", "U.S. ", "…", "\u{E000}C\u{E001}", "\u{E000}S\u{E001}",
            "{{ title }}", "{% if %}",
        ])
        .prop_map(str::to_string),
    ]
}

fn tag() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "<p>",
        "</p>",
        "<div>",
        "</div>",
        "<b>",
        "</b>",
        "<strong>",
        "<i>",
        "</i>",
        "<em>",
        "<u>",
        "<s>",
        "<del>",
        "<code>",
        "</code>",
        "<pre>",
        "</pre>",
        "<pre><code class=\"language-rust\">",
        "<kbd>",
        "<a href=\"https://x.example/a?b=1&amp;c=\\\"2\\\"\">",
        "<a href=\"/rel/path\">",
        "<a href=\"javascript:alert(1)\">",
        "<a href=\"#top\">",
        "<a>",
        "</a>",
        "<ul>",
        "</ul>",
        "<ol start=\"7\">",
        "</ol>",
        "<li>",
        "</li>",
        "<blockquote>",
        "</blockquote>",
        "<h1>",
        "</h1>",
        "<h3>",
        "</h3>",
        "<br>",
        "<br/>",
        "<hr>",
        "<img src=\"https://x.example/i.png\" alt=\"pic\">",
        "<img src=\"data:x\">",
        "<img width=1 height=1 src=\"/p.gif\">",
        "<img class=\"emoji\" alt=\"😀\" src=\"https://s.w.org/images/core/emoji/x.png\">",
        "<figure>",
        "<figcaption>",
        "</figcaption>",
        "</figure>",
        "<table><tr><td>",
        "</td><td>",
        "</td></tr></table>",
        "<script>",
        "</script>",
        "<style>",
        "</style>",
        "<!--",
        "-->",
        "<iframe>",
        "<form><input>",
        "<svg><text>",
        "<span class=\"spoiler\">",
        "</span>",
        "<tg-spoiler>",
        "<unknown-tag x=y>",
        "</unknown-tag>",
        "<q>",
        "</q>",
        "<div class=\"sharedaddy\">",
        "<p class=\"must-read\">",
        "<p hidden>",
        "<sup>",
        "<html><body>",
        "<head><title>",
        "<![CDATA[",
        "]]>",
        "<",
    ])
    .prop_map(str::to_string)
}

fn html() -> impl Strategy<Value = String> {
    prop::collection::vec(prop_oneof![3 => piece(), 2 => tag()], 0..120).prop_map(|v| v.concat())
}

fn title() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 0..12).prop_map(|v| v.concat())
}

fn formats() -> Vec<TargetFormat> {
    let d = TargetFormat::default();
    vec![
        d.clone(),
        TargetFormat {
            mode: Mode::Full,
            read_more: true,
            telegraph: true,
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
            discord_style: DiscordStyle::Plain,
            template: Some("<blockquote><i>{{ summary }}</i></blockquote>\n<b>{{ title }}</b> {{ author }}\n{{ content }}\n<a href=\"{{ link }}\">{{ title }}</a>".into()),
            ..d
        },
    ]
}

fn check_all(post: &Post) {
    for fmt in formats() {
        match telegram::render(post, &FeedRenderOptions::default(), &fmt) {
            Ok(msgs) => {
                assert_valid_telegram(&msgs);
                assert!(msgs.len() <= fmt.max_parts.max(1));
                for m in &msgs {
                    let _ = terminal::telegram(m);
                    let plain = telegram::plain_fallback(m);
                    assert_valid_telegram(&[plain]);
                    // What a refused photo or audio file becomes.
                    assert_valid_telegram(&[telegram::media_to_text(m)]);
                    // A Telegraph post: the page passes Telegraph's checks,
                    // the summary with its link and the split are valid.
                    if let Some(page) = &m.telegraph {
                        assert_eq!(validate::telegraph_title(&page.title), Ok(()));
                        assert_eq!(validate::telegraph_content(&page.content), Ok(()));
                        assert_valid_telegram(&[telegram::with_link(
                            m,
                            "https://telegra.ph/A-12-31",
                        )]);
                        assert_valid_telegram(&page.fallback);
                    }
                }
            }
            Err(e) => assert!(e.0.contains("nothing to publish"), "{e}"),
        }
        match discord::render(post, &FeedRenderOptions::default(), &fmt) {
            Ok(msgs) => {
                assert_valid_discord(&msgs);
                for m in &msgs {
                    let _ = terminal::discord(m);
                    assert_valid_discord(&[discord::minimal_fallback(m)]);
                }
            }
            Err(e) => assert!(e.0.contains("nothing to publish"), "{e}"),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(120))]

    #[test]
    fn generated_html_always_renders_validly(content in html(), summary in html(), title in title(), author in title(), audio in any::<bool>()) {
        let post = Post {
            feed: "prop".into(),
            source_title: Some(author.clone()),
            title,
            link: Some("https://site.example/post".into()),
            summary_html: Some(summary),
            content_html: Some(content),
            authors: vec![author.clone()],
            categories: vec![author],
            images: vec!["https://site.example/i.jpg".into()],
            // Half the posts are podcast episodes (an audio message when short).
            enclosures: audio
                .then(|| crier_bots::model::Enclosure {
                    url: "https://site.example/ep.mp3".into(),
                    mime: Some("audio/mpeg".into()),
                    length: Some(1_000_000),
                })
                .into_iter()
                .collect(),
            ..Post::default()
        };
        check_all(&post);
    }

    #[test]
    fn generated_digests_render_validly(items in prop::collection::vec((title(), any::<bool>()), 0..60), title in title()) {
        let post = Post {
            feed: "prop".into(),
            title,
            digest: items
                .into_iter()
                .enumerate()
                .map(|(i, (t, l))| DigestItem { title: t, link: l.then(|| format!("https://x.example/{i}")) })
                .collect(),
            ..Post::default()
        };
        check_all(&post);
    }

    #[test]
    fn the_telegram_parser_never_panics(s in any::<String>(), h in html()) {
        let _ = parse_telegram_html(&s);
        let _ = parse_telegram_html(&h);
        let _ = telegram_text(&h, Some("HTML"), 4096);
    }

    #[test]
    fn arbitrary_templates_never_panic(t in "[\\PC{}<>%/ a-z\"=]{0,80}") {
        let fmt = TargetFormat { template: Some(t), ..TargetFormat::default() };
        let _ = fmt.check(crier_bots::format::Look::Telegram);
        let post = seed_page();
        if let Ok(m) = telegram::render(&post, &FeedRenderOptions::default(), &fmt) {
            assert_valid_telegram(&m);
        }
        if let Ok(m) = discord::render(&post, &FeedRenderOptions::default(), &fmt) {
            assert_valid_discord(&m);
        }
    }

    #[test]
    fn the_discord_validator_never_panics(content in any::<String>(), n in 0usize..15, t in any::<String>()) {
        let embeds: Vec<serde_json::Value> = (0..n)
            .map(|i| serde_json::json!({"title": t, "description": content, "color": i, "fields": [{"name": t, "value": 1}], "footer": null, "image": {"url": t}}))
            .collect();
        let _ = discord_message(&serde_json::json!({"content": content, "embeds": embeds}));
        let _ = discord_message(&serde_json::json!([content]));
        let _ = discord_message(&serde_json::json!({"embeds": content, "components": [{"type": 1, "components": [{"type": 2, "style": 5, "url": t}]}]}));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3))]

    /// Generated HTML repeated to a 1 MB body.
    #[test]
    fn one_megabyte_generated_bodies(seed in html(), title in title()) {
        let seed = if seed.len() < 64 { format!("{seed}<p>filler text for the body</p>") } else { seed };
        let mut body = String::with_capacity((1 << 20) + seed.len());
        while body.len() < 1 << 20 {
            body.push_str(&seed);
        }
        let post = Post {
            feed: "prop".into(),
            title,
            link: Some("https://site.example/post".into()),
            content_html: Some(body),
            ..Post::default()
        };
        for fmt in [
            TargetFormat::default(),
            TargetFormat { mode: Mode::Full, discord_style: DiscordStyle::Plain, ..TargetFormat::default() },
        ] {
            if let Ok(m) = telegram::render(&post, &FeedRenderOptions::default(), &fmt) {
                assert_valid_telegram(&m);
            }
            if let Ok(m) = discord::render(&post, &FeedRenderOptions::default(), &fmt) {
                assert_valid_discord(&m);
            }
        }
    }
}
