//! Hostile content: injection through every placeholder, `javascript:`
//! links, enormous titles, empty content, huge bodies.

use crier_bots::format::validate::parse_telegram_html;
use crier_bots::format::{DiscordStyle, FeedRenderOptions, Mode, TargetFormat, discord, telegram};
use crier_bots::{DigestItem, Post};

use crate::common::*;

const PAYLOADS: &[&str] = &[
    "<b>bold</b>",
    "*star*",
    "_under_",
    "](https://evil.example/x)",
    "@everyone",
    "@here",
    "</a>",
    "<@123456789012345678>",
    "<#123456789012345678>",
    "`tick`",
    "||spoil||",
    "~~strike~~",
    "&lt;amp&gt;",
    "{{ 7*7 }}",
    "{% raw %}",
    "# heading",
    "> quote",
    "<a href=\"https://evil.example/y\">evil</a>",
    "\u{E000}C\u{E001}",
];

fn hostile_post(payload: &str) -> Post {
    Post {
        feed: format!("feed {payload}"),
        source_title: Some(format!("Source {payload}")),
        title: format!("Title {payload} end"),
        link: Some("https://site.example/article".into()),
        summary_html: Some(format!("<p>Summary {}</p>", html_escape(payload))),
        content_html: Some(format!(
            "<p>CONTENT-MARKER {} body</p>",
            html_escape(payload)
        )),
        authors: vec![format!("Author {payload}")],
        categories: vec![format!("Cat {payload}"), "World".into()],
        published: chrono::DateTime::from_timestamp(1_675_221_164, 0),
        updated: None,
        images: vec!["https://site.example/i.jpg".into()],
        language: Some(payload.to_string()),
        digest: Vec::new(),
        enclosures: Vec::new(),
        title_from_text: false,
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A template that uses every placeholder.
fn all_placeholders() -> TargetFormat {
    TargetFormat {
        template: Some(
            r#"<b><a href="{{ link }}">{{ title }}</a></b>
{{ author }} | {{ authors|join(", ") }} | {{ feed }} | {{ source }}
{{ categories|join(", ") }} {{ hashtags }} {{ date }} {{ published }} {{ image }} {{ language }}
{{ summary_text }}

{{ summary }}

{{ content }}"#
                .into(),
        ),
        ..TargetFormat::default()
    }
}

fn tg_entities_ok(text: &str, payload: &str) {
    let p = parse_telegram_html(text).unwrap_or_default();
    for e in &p.entities {
        if let Some(u) = &e.url {
            assert!(
                !u.contains("evil.example"),
                "injected link {u} from {payload:?}"
            );
        }
    }
    let bold: Vec<_> = p.entities.iter().filter(|e| e.kind == "bold").collect();
    assert!(bold.len() <= 1, "injected bold from {payload:?}: {text}");
    assert_eq!(
        p.entities
            .iter()
            .filter(|e| e.kind == "spoiler" || e.kind == "code")
            .count(),
        0
    );
}

#[test]
fn no_placeholder_can_inject_formatting_on_telegram() {
    for fmt in [TargetFormat::default(), all_placeholders()] {
        for payload in PAYLOADS {
            let post = hostile_post(payload);
            let msgs = telegram::render(&post, &FeedRenderOptions::default(), &fmt)
                .unwrap_or_else(|e| panic!("{payload}: {e}"));
            assert_valid_telegram(&msgs);
            for m in &msgs {
                tg_entities_ok(m.body(), payload);
            }
            let seen = parse_telegram_html(msgs[0].body()).unwrap_or_default().text;
            let literal = payload.replace(['\u{E000}', '\u{E001}'], "");
            assert!(
                seen.contains(&format!("Title {literal} end")),
                "{payload:?} not literal in {seen}"
            );
            assert_eq!(
                seen.matches("CONTENT-MARKER").count(),
                usize::from(fmt.template.is_some()),
                "{seen}"
            );
            assert!(!seen.contains("49"), "template injection: {seen}");
        }
    }
}

/// Every occurrence of `needle` in markdown must be neutralised: preceded
/// by a backslash at its first markdown character, or broken by a
/// zero-width space.
fn md_neutral(md: &str, payload: &str) {
    for (bad, why) in [
        ("](https://evil.example", "masked link"),
        ("<@1", "user mention"),
        ("<#1", "channel mention"),
        ("@everyone", "everyone ping"),
        ("@here", "here ping"),
    ] {
        for (i, _) in md.match_indices(bad) {
            let escaped = i > 0 && &md[i - 1..i] == "\\";
            assert!(escaped, "{why} from {payload:?} in {md}");
        }
    }
    for bad in ["*star*", "_under_", "`tick`", "||spoil||", "~~strike~~"] {
        assert!(
            !md.contains(bad),
            "{bad} from {payload:?} unescaped in {md}"
        );
    }
}

#[test]
fn no_placeholder_can_inject_formatting_on_discord() {
    for style in [DiscordStyle::Embed, DiscordStyle::Plain] {
        for base in [TargetFormat::default(), all_placeholders()] {
            let fmt = TargetFormat {
                discord_style: style,
                content_template: Some("{{ title }} {{ author }} {{ hashtags }}".into()),
                ..base
            };
            for payload in PAYLOADS {
                let post = hostile_post(payload);
                let msgs = discord::render(&post, &FeedRenderOptions::default(), &fmt)
                    .unwrap_or_else(|e| panic!("{payload}: {e}"));
                assert_valid_discord(&msgs);
                for m in &msgs {
                    let mut texts: Vec<String> = m.content.iter().cloned().collect();
                    for e in &m.embeds {
                        texts.extend(e.title.clone());
                        texts.extend(e.description.clone());
                        if let Some(a) = &e.author {
                            assert!(
                                !a.name.contains("@everyone") && !a.name.contains("@here"),
                                "{}",
                                a.name
                            );
                        }
                        if let Some(f) = &e.footer {
                            assert!(
                                !f.text.contains("@everyone") && !f.text.contains("@here"),
                                "{}",
                                f.text
                            );
                        }
                    }
                    for t in texts {
                        md_neutral(&t, payload);
                        assert!(!t.contains("49"), "template injection: {t}");
                    }
                }
            }
        }
    }
}

#[test]
fn digest_items_cannot_inject() {
    let post = Post {
        feed: "f".into(),
        title: "Digest *x*".into(),
        digest: PAYLOADS
            .iter()
            .map(|p| DigestItem {
                title: p.to_string(),
                link: Some("javascript:alert(1)".into()),
            })
            .collect(),
        ..Post::default()
    };
    let t = telegram::render(
        &post,
        &FeedRenderOptions::default(),
        &TargetFormat::default(),
    )
    .unwrap_or_default();
    assert_valid_telegram(&t);
    for m in &t {
        let p = parse_telegram_html(m.body()).unwrap_or_default();
        assert!(
            p.entities.iter().all(|e| e.kind == "bold"),
            "{:?}",
            p.entities
        );
    }
    let d = discord::render(
        &post,
        &FeedRenderOptions::default(),
        &TargetFormat::default(),
    )
    .unwrap_or_default();
    assert_valid_discord(&d);
    for m in &d {
        for e in &m.embeds {
            md_neutral(e.description.as_deref().unwrap_or(""), "digest");
            assert!(
                !e.description
                    .as_deref()
                    .unwrap_or("")
                    .contains("javascript")
            );
        }
    }
}

#[test]
fn javascript_links_are_dropped() {
    let post = Post {
        feed: "f".into(),
        title: "T".into(),
        link: Some("javascript:alert(document.cookie)".into()),
        content_html: Some(
            concat!(
                "<p><a href='javascript:alert(1)'>one</a> <a href=' JaVaScRiPt:alert(2)'>two</a> ",
                "<a href='java&#x0A;script:alert(3)'>three</a> <a href='data:text/html,<script>x</script>'>four</a> ",
                "<a href='vbscript:msgbox(5)'>five</a> <a href='https://ok.example/'>six</a></p>",
                "<img src='javascript:alert(7)'><img src='https://ok.example/i.png' alt='pic'>"
            )
            .into(),
        ),
        images: vec!["javascript:alert(8)".into()],
        ..Post::default()
    };
    let fmt = TargetFormat {
        mode: Mode::Full,
        read_more: true,
        ..TargetFormat::default()
    };
    let t = telegram::render(&post, &FeedRenderOptions::default(), &fmt).unwrap_or_default();
    assert_valid_telegram(&t);
    let all = serde_json::to_string(&t).unwrap_or_default().to_lowercase();
    assert!(!all.contains("script:") && !all.contains("data:"), "{all}");
    assert!(all.contains("https://ok.example/"));
    assert!(
        t.iter().all(|m| m.reply_markup.is_none()),
        "button without a safe link"
    );
    for m in &t {
        let seen = parse_telegram_html(m.body()).unwrap_or_default().text;
        if seen.contains("one") {
            assert!(seen.contains("one two three four five six"), "{seen}");
        }
    }
    let d = discord::render(&post, &FeedRenderOptions::default(), &fmt).unwrap_or_default();
    assert_valid_discord(&d);
    let all = serde_json::to_string(&d).unwrap_or_default().to_lowercase();
    assert!(!all.contains("script:") && !all.contains("data:"), "{all}");
    assert!(d.iter().all(|m| m.components.is_empty()));
}

#[test]
fn enormous_titles_are_cut() {
    for title in [
        "word ".repeat(40_000),
        "😀".repeat(50_000),
        "x".repeat(200_000),
        "مرحبا بالعالم ".repeat(10_000),
    ] {
        let post = Post {
            feed: "f".into(),
            title: title.clone(),
            link: Some("https://site.example/a".into()),
            content_html: Some("<p>Body text.</p>".into()),
            ..Post::default()
        };
        for fmt in [
            TargetFormat::default(),
            TargetFormat {
                mode: Mode::Full,
                ..TargetFormat::default()
            },
        ] {
            let t =
                telegram::render(&post, &FeedRenderOptions::default(), &fmt).unwrap_or_default();
            assert_valid_telegram(&t);
            let seen = parse_telegram_html(t[0].body()).unwrap_or_default().text;
            assert!(seen.contains('…'));
            assert!(
                seen.contains("Body text."),
                "body lost behind an enormous title"
            );
            let d = discord::render(&post, &FeedRenderOptions::default(), &fmt).unwrap_or_default();
            assert_valid_discord(&d);
            let e_title = d[0].embeds[0].title.clone().unwrap_or_default();
            assert!(e_title.ends_with('…'));
            assert!(e_title.encode_utf16().count() <= 256);
        }
    }
}

#[test]
fn empty_content() {
    let nothing = Post {
        feed: "f".into(),
        ..Post::default()
    };
    assert!(
        telegram::render(
            &nothing,
            &FeedRenderOptions::default(),
            &TargetFormat::default()
        )
        .is_err()
    );
    assert!(
        discord::render(
            &nothing,
            &FeedRenderOptions::default(),
            &TargetFormat::default()
        )
        .is_err()
    );
    let blank = Post {
        feed: "f".into(),
        title: "   ".into(),
        content_html: Some(
            "<p> &nbsp; </p><script>x</script><div class='sharedaddy'>Share</div>".into(),
        ),
        summary_html: Some("".into()),
        ..Post::default()
    };
    assert!(
        telegram::render(
            &blank,
            &FeedRenderOptions::default(),
            &TargetFormat::default()
        )
        .is_err()
    );
    let title_only = Post {
        feed: "f".into(),
        title: "Just a title".into(),
        ..Post::default()
    };
    for mode in [Mode::Summary, Mode::Full] {
        let fmt = TargetFormat {
            mode,
            ..TargetFormat::default()
        };
        let t =
            telegram::render(&title_only, &FeedRenderOptions::default(), &fmt).unwrap_or_default();
        assert_valid_telegram(&t);
        let d =
            discord::render(&title_only, &FeedRenderOptions::default(), &fmt).unwrap_or_default();
        assert_valid_discord(&d);
    }
    let image_only = Post {
        feed: "f".into(),
        images: vec!["https://site.example/i.jpg".into()],
        ..Post::default()
    };
    let t = telegram::render(
        &image_only,
        &FeedRenderOptions::default(),
        &TargetFormat::default(),
    )
    .unwrap_or_default();
    assert_valid_telegram(&t);
    assert_eq!(t[0].method.as_str(), "sendPhoto");
    let d = discord::render(
        &image_only,
        &FeedRenderOptions::default(),
        &TargetFormat::default(),
    )
    .unwrap_or_default();
    assert_valid_discord(&d);
}

#[test]
fn truncation_keeps_the_link_line() {
    let post = Post {
        feed: "f".into(),
        title: "T".into(),
        link: Some("https://site.example/a".into()),
        content_html: Some(format!(
            "<p>{}</p>",
            "Sentence number one is here. ".repeat(1000)
        )),
        ..Post::default()
    };
    let fmt = TargetFormat {
        summary_length: 50_000,
        template: Some("{{ summary }}\n\n<a href=\"{{ link }}\">Read the article</a>".into()),
        ..TargetFormat::default()
    };
    let t = telegram::render(&post, &FeedRenderOptions::default(), &fmt).unwrap_or_default();
    assert_valid_telegram(&t);
    assert_eq!(t.len(), 1);
    let p = parse_telegram_html(t[0].body()).unwrap_or_default();
    assert!(p.text.ends_with("Read the article"), "{}", p.text);
    assert!(
        p.text.contains("here. …"),
        "{}",
        &p.text[p.text.len().saturating_sub(80)..]
    );
    assert!(
        p.entities
            .iter()
            .any(|e| e.url.as_deref() == Some("https://site.example/a"))
    );
    let d = discord::render(&post, &FeedRenderOptions::default(), &fmt).unwrap_or_default();
    assert_valid_discord(&d);
    let desc = d[0].embeds[0].description.clone().unwrap_or_default();
    assert!(
        desc.ends_with("[Read the article](https://site.example/a)"),
        "{desc}"
    );
}

#[test]
fn full_text_splits_into_valid_parts_without_cutting_words() {
    let para = "The quick brown fox jumps over the lazy dog near the riverbank. ";
    let html: String = (0..60)
        .map(|i| format!("<p><b>Paragraph {i}.</b> {}<a href='https://l.example/{i}'>a link in paragraph {i}</a>.</p>", para.repeat(3)))
        .collect();
    let post = Post {
        feed: "f".into(),
        title: "Long".into(),
        link: Some("https://site.example/a".into()),
        content_html: Some(html),
        images: vec!["https://site.example/i.jpg".into()],
        ..Post::default()
    };
    let fmt = TargetFormat {
        mode: Mode::Full,
        read_more: true,
        ..TargetFormat::default()
    };
    let t = telegram::render(&post, &FeedRenderOptions::default(), &fmt).unwrap_or_default();
    assert!(t.len() > 2);
    assert_valid_telegram(&t);
    assert!(
        t[0].link_preview_options
            .as_ref()
            .and_then(|p| p.url.as_deref())
            == Some("https://site.example/i.jpg")
    );
    assert!(
        t[1..]
            .iter()
            .all(|m| m.link_preview_options.as_ref().and_then(|p| p.is_disabled) == Some(true))
    );
    assert!(t[..t.len() - 1].iter().all(|m| m.reply_markup.is_none()));
    assert!(t.last().is_some_and(|m| m.reply_markup.is_some()));
    let mut all = String::new();
    for m in &t {
        let p = parse_telegram_html(m.body()).unwrap_or_default();
        // Each part starts and ends on a paragraph.
        assert!(
            p.text.starts_with("Paragraph") || p.text.starts_with("Long"),
            "{}",
            &p.text[..40]
        );
        for e in p.entities.iter().filter(|e| e.kind == "text_link") {
            let text: String = p.text[e.start..e.end].to_string();
            if e.url.as_deref() != Some("https://site.example/a") {
                assert!(text.starts_with("a link in paragraph"), "cut link {text:?}");
            }
        }
        all.push_str(&p.text);
        all.push('\n');
    }
    for i in 0..60 {
        assert!(
            all.contains(&format!("a link in paragraph {i}.")),
            "paragraph {i} lost"
        );
    }
    for style in [DiscordStyle::Embed, DiscordStyle::Plain] {
        let fmt = TargetFormat {
            discord_style: style,
            ..fmt.clone()
        };
        let d = discord::render(&post, &FeedRenderOptions::default(), &fmt).unwrap_or_default();
        assert!(d.len() > 1);
        assert_valid_discord(&d);
        let all = seen_discord(&d);
        for i in 0..60 {
            assert!(
                all.contains(&format!("a link in paragraph {i}")),
                "paragraph {i} lost"
            );
        }
    }
}

#[test]
fn one_megabyte_body() {
    let mut html = String::with_capacity(1 << 20);
    let mut n: u64 = 42;
    let words = [
        "alpha",
        "βeta",
        "😀",
        "مرحبا",
        "e\u{301}",
        "👍🏽",
        "*x*",
        "<b>b</b>",
        "&amp;",
        "𝔘𝔫𝔦",
    ];
    while html.len() < 1 << 20 {
        html.push_str("<p>");
        for _ in 0..60 {
            n = n
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            html.push_str(words[(n >> 33) as usize % words.len()]);
            html.push(' ');
        }
        if n.is_multiple_of(7) {
            html.push_str(&"Z".repeat(5000));
        }
        html.push_str("</p>");
    }
    let post = Post {
        feed: "f".into(),
        title: "Huge".into(),
        link: Some("https://site.example/a".into()),
        content_html: Some(html),
        ..Post::default()
    };
    for mode in [Mode::Summary, Mode::Full] {
        for style in [DiscordStyle::Embed, DiscordStyle::Plain] {
            let fmt = TargetFormat {
                mode,
                discord_style: style,
                ..TargetFormat::default()
            };
            let t =
                telegram::render(&post, &FeedRenderOptions::default(), &fmt).unwrap_or_default();
            assert_valid_telegram(&t);
            assert!(t.len() <= fmt.max_parts);
            let d = discord::render(&post, &FeedRenderOptions::default(), &fmt).unwrap_or_default();
            assert_valid_discord(&d);
            assert!(d.len() <= fmt.max_parts);
        }
    }
}

#[test]
fn fallbacks_are_accepted() {
    let post = seed_page();
    let t = telegram::render(
        &post,
        &FeedRenderOptions::default(),
        &TargetFormat::default(),
    )
    .unwrap_or_default();
    let plain = telegram::plain_fallback(&t[0]);
    assert!(plain.parse_mode.is_none());
    assert_valid_telegram(std::slice::from_ref(&plain));
    assert!(plain.body().contains("Japan and NATO pledge"));
    let text = telegram::photo_to_text(&t[0]);
    assert_eq!(text.method.as_str(), "sendMessage");
    assert_valid_telegram(&[text]);
    let fmt = TargetFormat {
        mode: Mode::Full,
        ..TargetFormat::default()
    };
    let d = discord::render(&post, &FeedRenderOptions::default(), &fmt).unwrap_or_default();
    let min = discord::minimal_fallback(&d[0]);
    assert!(min.embeds.is_empty());
    assert_valid_discord(&[min]);
}

#[test]
fn feed_rules_apply() {
    let post = Post {
        feed: "f".into(),
        title: "T".into(),
        content_html: Some(
            "<p>Keep me.</p><div class='promo'>Buy our stuff</div><p>Sponsored by ACME</p><p>Also keep.</p>".into(),
        ),
        ..Post::default()
    };
    let feed = FeedRenderOptions {
        drop_selectors: vec![".promo".into()],
        drop_patterns: vec!["^sponsored by".into()],
        ..FeedRenderOptions::default()
    };
    let fmt = TargetFormat {
        mode: Mode::Full,
        ..TargetFormat::default()
    };
    let t = telegram::render(&post, &feed, &fmt).unwrap_or_default();
    let seen = seen_telegram(&t);
    assert!(seen.contains("Keep me.") && seen.contains("Also keep."));
    assert!(
        !seen.contains("Buy our") && !seen.contains("ACME"),
        "{seen}"
    );
    let t = telegram::render(&post, &FeedRenderOptions::default(), &fmt).unwrap_or_default();
    assert!(
        seen_telegram(&t).contains("ACME"),
        "rules leak between feeds"
    );
}

#[test]
fn link_dense_text_stays_within_the_entity_budget() {
    let words: String = (0..900)
        .map(|i| {
            format!(
                "<a href='https://links.example/{i}/{}'>w{i}</a> <b>b{i}</b> ",
                "p".repeat(120)
            )
        })
        .collect();
    let post = Post {
        feed: "f".into(),
        title: "Links".into(),
        link: Some("https://site.example/a".into()),
        content_html: Some(format!("<p>{words}</p>")),
        images: vec!["https://site.example/i.jpg".into()],
        ..Post::default()
    };
    for mode in [Mode::Summary, Mode::Full] {
        let fmt = TargetFormat {
            mode,
            summary_length: 3000,
            max_parts: 100,
            ..TargetFormat::default()
        };
        let t = telegram::render(&post, &FeedRenderOptions::default(), &fmt).unwrap_or_default();
        assert_valid_telegram(&t);
        if mode == Mode::Full {
            // Nothing lost: every word is still there, most still linked.
            let mut text = String::new();
            let mut links = 0;
            for m in &t {
                let p = parse_telegram_html(m.body()).unwrap_or_default();
                links += p.entities.iter().filter(|e| e.kind == "text_link").count();
                text.push_str(&p.text);
            }
            for i in [0, 450, 899] {
                assert!(text.contains(&format!("w{i} b{i}")), "word {i} lost");
            }
            assert!(links > 800, "only {links} links kept");
        }
    }
}

#[test]
fn dates_use_the_target_format_and_timezone() {
    let post = seed_page();
    let fmt = TargetFormat {
        template: Some("{{ title }}\n{{ date }} | {{ published }}".into()),
        timezone: chrono_tz::Asia::Tokyo,
        date_format: "%d.%m.%Y %H:%M %Z".into(),
        ..TargetFormat::default()
    };
    assert_eq!(fmt.check(crier_bots::format::Look::Telegram), Ok(()));
    let t = telegram::render(&post, &FeedRenderOptions::default(), &fmt).unwrap_or_default();
    let seen = parse_telegram_html(t[0].body()).unwrap_or_default().text;
    assert!(
        seen.ends_with("01.02.2023 12:12 JST | 2023-02-01T03:12:44+00:00"),
        "{seen}"
    );
}

/// Many short headings with links and styles, more than fit the parts: the
/// last part gathers the rest, and thinning it must also drop the bold a
/// heading carries as a whole (found by `one_megabyte_generated_bodies`:
/// 127 entities in one message).
#[test]
fn a_rest_of_many_headings_stays_within_the_entity_budget() {
    let mut html = String::new();
    for i in 0..3000 {
        html.push_str(&format!(
            "<h1><a href=\"/rel/{i}\"><s>Heading {i} with some words</s></a></h1>"
        ));
    }
    let post = Post {
        feed: "f".into(),
        title: "Headings".into(),
        link: Some("https://site.example/post".into()),
        content_html: Some(html),
        ..Post::default()
    };
    let fmt = TargetFormat {
        mode: Mode::Full,
        ..TargetFormat::default()
    };
    let t = telegram::render(&post, &FeedRenderOptions::default(), &fmt).unwrap_or_default();
    assert_valid_telegram(&t);
    assert!(t.len() <= fmt.max_parts);
}
