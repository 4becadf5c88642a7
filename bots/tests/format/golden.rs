//! Golden (snapshot) tests of the seed page and the seed feed items on
//! both platforms. Each golden file holds what a channel member sees, then
//! the exact payloads. Reviewed by eye; `UPDATE_GOLDEN=1` rewrites them.

use crier_bots::format::{
    DiscordImage, DiscordStyle, FeedRenderOptions, LinkPreview, Mode, TargetFormat, discord,
    telegram,
};
use crier_bots::{DigestItem, Post};

use crate::common::*;

fn dump_tg(msgs: &[telegram::TelegramMessage]) -> String {
    format!(
        "{}\n\n======== payloads ========\n{}\n",
        seen_telegram(msgs),
        serde_json::to_string_pretty(msgs).unwrap_or_default()
    )
}

fn dump_dc(msgs: &[discord::DiscordMessage]) -> String {
    format!(
        "{}\n\n======== payloads ========\n{}\n",
        seen_discord(msgs),
        serde_json::to_string_pretty(msgs).unwrap_or_default()
    )
}

fn full() -> TargetFormat {
    TargetFormat {
        mode: Mode::Full,
        ..TargetFormat::default()
    }
}

fn tg(post: &Post, fmt: &TargetFormat, name: &str) -> Vec<telegram::TelegramMessage> {
    let msgs = telegram::render(post, &FeedRenderOptions::default(), fmt)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_valid_telegram(&msgs);
    golden(name, &dump_tg(&msgs));
    msgs
}

fn dc(post: &Post, fmt: &TargetFormat, name: &str) -> Vec<discord::DiscordMessage> {
    let feed = FeedRenderOptions {
        color: Some(0xC0392B),
        ..FeedRenderOptions::default()
    };
    let msgs = discord::render(post, &feed, fmt).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_valid_discord(&msgs);
    golden(name, &dump_dc(&msgs));
    msgs
}

const NOISE: &[&str] = &[
    "Join Now",
    "WhatsApp Channel",
    "Telegram Group",
    "MUST READ",
    "Harris sends",
    "Discover more",
    "Subscribe",
    "Leave a Comment",
    "appeared first on",
    "Continue reading",
    "Type your email",
];

fn assert_clean(seen: &str) {
    for n in NOISE {
        assert!(!seen.contains(n), "noise {n:?} left in:\n{seen}");
    }
}

/// Every paragraph of the article body (minus the cross-link) must be
/// there, in order.
fn assert_whole_article(seen: &str) {
    let html = fixture("seed-article.html");
    let body = html
        .split("<div class=\"entry-content\">")
        .nth(1)
        .and_then(|s| s.split("</div>").next())
        .unwrap_or_default();
    let mut at = 0;
    let mut count = 0;
    for p in body.split("<p>").skip(1) {
        let text = p.split("</p>").next().unwrap_or_default();
        let pos = seen[at..]
            .find(text)
            .unwrap_or_else(|| panic!("missing paragraph {text:?}"));
        at += pos + text.len();
        count += 1;
    }
    assert_eq!(count, 11);
}

#[test]
fn seed_page_telegram() {
    let post = seed_page();
    let s = tg(
        &post,
        &TargetFormat::default(),
        "seed-page.telegram.summary.txt",
    );
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].method.as_str(), "sendPhoto");
    assert_clean(&seen_telegram(&s));
    let f = tg(&post, &full(), "seed-page.telegram.full.txt");
    assert_clean(&seen_telegram(&f));
    assert_whole_article(&seen_telegram(&f));
}

#[test]
fn seed_page_discord() {
    let post = seed_page();
    let s = dc(
        &post,
        &TargetFormat::default(),
        "seed-page.discord.summary.txt",
    );
    assert_clean(&seen_discord(&s));
    let f = dc(&post, &full(), "seed-page.discord.full.txt");
    assert_clean(&seen_discord(&f));
    assert_whole_article(&seen_discord(&f));
    let plain = TargetFormat {
        discord_style: DiscordStyle::Plain,
        read_more: true,
        ..TargetFormat::default()
    };
    let p = dc(&post, &plain, "seed-page.discord.plain.txt");
    assert_clean(&seen_discord(&p));
}

#[test]
fn seed_feed_items_telegram() {
    let posts = seed_feed();
    assert_eq!(posts.len(), 2);
    let s = tg(
        &posts[0],
        &TargetFormat::default(),
        "seed-feed-1.telegram.summary.txt",
    );
    assert_clean(&seen_telegram(&s));
    let f = tg(&posts[0], &full(), "seed-feed-1.telegram.full.txt");
    assert_clean(&seen_telegram(&f));
    assert_whole_article(&seen_telegram(&f));
    let with_button = TargetFormat {
        read_more: true,
        link_preview: LinkPreview::Article,
        photo: false,
        ..TargetFormat::default()
    };
    tg(
        &posts[0],
        &with_button,
        "seed-feed-1.telegram.text-button.txt",
    );
    let s2 = tg(
        &posts[1],
        &TargetFormat::default(),
        "seed-feed-2.telegram.summary.txt",
    );
    let seen = seen_telegram(&s2);
    assert!(seen.contains("region & will remain"), "{seen}");
    assert!(seen.contains("climate <and> supply-chain"), "{seen}");
}

#[test]
fn seed_feed_items_discord() {
    let posts = seed_feed();
    let s = dc(
        &posts[0],
        &TargetFormat::default(),
        "seed-feed-1.discord.summary.txt",
    );
    assert_clean(&seen_discord(&s));
    let f = dc(&posts[0], &full(), "seed-feed-1.discord.full.txt");
    assert_clean(&seen_discord(&f));
    assert_whole_article(&seen_discord(&f));
    let thumb = TargetFormat {
        discord_image: DiscordImage::Thumbnail,
        read_more: true,
        content_template: Some("New on {{ source }}: {{ hashtags }}".into()),
        ..TargetFormat::default()
    };
    dc(
        &posts[0],
        &thumb,
        "seed-feed-1.discord.thumbnail-content.txt",
    );
    let s2 = dc(
        &posts[1],
        &TargetFormat::default(),
        "seed-feed-2.discord.summary.txt",
    );
    let seen = seen_discord(&s2);
    assert!(seen.contains("climate <and> supply-chain"), "{seen}");
}

fn digest_post() -> Post {
    let mut items: Vec<DigestItem> = seed_feed()
        .into_iter()
        .map(|p| DigestItem {
            title: p.title,
            link: p.link,
        })
        .collect();
    items.push(DigestItem {
        title: "An item *without* a link <b>and markup</b>".into(),
        link: None,
    });
    Post {
        feed: "meritnews24".into(),
        source_title: Some("Meritnews24".into()),
        title: "Today on Meritnews24".into(),
        digest: items,
        ..Post::default()
    }
}

#[test]
fn digest_both_platforms() {
    let post = digest_post();
    tg(&post, &TargetFormat::default(), "digest.telegram.txt");
    dc(&post, &TargetFormat::default(), "digest.discord.txt");
}

#[test]
fn long_digest_is_split_within_limits() {
    let mut post = digest_post();
    post.digest = (0..400)
        .map(|i| DigestItem {
            title: format!("Headline number {i} about something that happened today in the world"),
            link: Some(format!(
                "https://news.example/{i}/a-rather-long-slug-for-this-story"
            )),
        })
        .collect();
    let fmt = TargetFormat {
        max_parts: 100,
        ..TargetFormat::default()
    };
    let t = telegram::render(&post, &FeedRenderOptions::default(), &fmt).unwrap_or_default();
    assert!(t.len() > 1);
    assert_valid_telegram(&t);
    let seen = seen_telegram(&t);
    for i in [0, 199, 399] {
        assert!(
            seen.contains(&format!("Headline number {i} about")),
            "item {i} lost"
        );
    }
    let d = discord::render(&post, &FeedRenderOptions::default(), &fmt).unwrap_or_default();
    assert!(d.len() > 1);
    assert_valid_discord(&d);
    let seen = seen_discord(&d);
    for i in [0, 199, 399] {
        assert!(
            seen.contains(&format!("Headline number {i} about")),
            "item {i} lost"
        );
    }
}

/// The same page handed over as its `<article>` element only (no page to
/// narrow down): the boilerplate rules alone must clean it, and the
/// duplicated headline must go.
#[test]
fn seed_article_element_without_page_narrowing() {
    let html = fixture("seed-article.html");
    let start = html.find("<article").unwrap_or(0);
    let end = html
        .find("</article>")
        .map(|e| e + "</article>".len())
        .unwrap_or(html.len());
    let mut post = seed_page();
    post.content_html = Some(html[start..end].to_string());
    let full = full();
    let t = telegram::render(&post, &FeedRenderOptions::default(), &full).unwrap_or_default();
    assert_valid_telegram(&t);
    let seen = seen_telegram(&t);
    assert_clean(&seen);
    assert_whole_article(&seen);
    assert_eq!(
        seen.matches("Japan and NATO pledge to strengthen").count(),
        1,
        "headline repeated:\n{seen}"
    );
    // And with every default rule off, the noise is there: the rules do the work.
    let raw = FeedRenderOptions {
        default_rules: false,
        ..FeedRenderOptions::default()
    };
    let t = telegram::render(&post, &raw, &full).unwrap_or_default();
    assert!(seen_telegram(&t).contains("Join Now"));
}
