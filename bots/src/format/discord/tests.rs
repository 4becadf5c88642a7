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
fn escapes_markdown_and_mentions() {
    let md = to_markdown(&[Block::Paragraph(vec![Span::plain(
        "# a *b* _c_ ~d~ `e` |f| [g](h) <@123> @everyone @here \\ 1. x",
    )])]);
    assert_eq!(
        md,
        "\\# a \\*b\\* \\_c\\_ \\~d\\~ \\`e\\` \\|f\\| \\[g\\](h) \\<@123> @\u{200B}everyone @\u{200B}here \\\\ 1. x"
    );
    let md = to_markdown(&[Block::Paragraph(vec![Span::plain(
        "12. x\n- y\n> z\nhttps://a.example/x_y_z",
    )])]);
    assert_eq!(md, "12\\. x\n\\- y\n\\> z\nhttps://a.example/x_y_z");
}

#[test]
fn styles_links_and_whitespace() {
    let md = to_markdown(&[Block::Paragraph(vec![
        s("bold ", Style::BOLD, None),
        s("it", Style::ITALIC, None),
        s(" link", Style::PLAIN, Some("https://x.example/a_(b)")),
        s(" code", Style::CODE, None),
    ])]);
    assert_eq!(
        md,
        "**bold** *it* [link](https://x.example/a_%28b%29) `code`"
    );
}

#[test]
fn url_text_is_not_masked() {
    let md = to_markdown(&[Block::Paragraph(vec![s(
        "https://shown.example/a_b",
        Style::PLAIN,
        Some("https://other.example/"),
    )])]);
    assert_eq!(md, "https://shown.example/a_b");
}

#[test]
fn adjacent_markers_are_separated() {
    let md = to_markdown(&[Block::Paragraph(vec![
        s("a", Style::ITALIC, None),
        s("b", Style::BOLD, None),
    ])]);
    assert_eq!(md, "*a*\u{200B}**b**");
    let md = to_markdown(&[Block::Paragraph(vec![
        s("a", Style::BOLD.union(Style::ITALIC), None),
        s("b", Style::BOLD, None),
    ])]);
    assert_eq!(md, "***a*b**");
}

#[test]
fn styles_close_at_line_ends() {
    let md = to_markdown(&[Block::Quote(vec![s("a\nb", Style::BOLD, None)])]);
    assert_eq!(md, "> **a**\n> **b**");
}

#[test]
fn minimal_fallback_is_small() {
    let m = DiscordMessage {
        content: None,
        embeds: vec![Embed {
            title: Some("T".into()),
            description: Some("x".repeat(5000)),
            ..Default::default()
        }],
        components: Vec::new(),
    };
    let f = minimal_fallback(&m);
    assert!(f.embeds.is_empty());
    assert!(utf16_len(f.content.as_deref().unwrap_or("")) <= CONTENT_LIMIT);
    assert!(
        crate::format::validate::discord_message(&serde_json::to_value(&f).unwrap_or_default())
            .is_ok()
    );
}

fn pictured(link: Option<&str>) -> Post {
    let img = |n: &str| format!(r#"<img src="https://site.example/{n}.jpg" alt="{n}">"#);
    Post {
        feed: "f".into(),
        title: "Five pictures".into(),
        link: link.map(Into::into),
        images: vec!["https://site.example/a.jpg".into()],
        content_html: Some(format!(
            "<p>First paragraph.</p>{}<p>Second paragraph.</p>{}{}{}{}<p>End.</p>",
            img("b"),
            img("c"),
            img("a"),
            img("d"),
            img("e")
        )),
        ..Post::default()
    }
}

fn full(gallery: bool) -> TargetFormat {
    TargetFormat {
        mode: Mode::Full,
        discord_gallery: gallery,
        ..TargetFormat::default()
    }
}

fn valid(msgs: &[DiscordMessage]) {
    for m in msgs {
        let v = serde_json::to_value(m).expect("json");
        crate::format::validate::discord_message(&v).expect("a valid message");
    }
}

#[test]
fn a_gallery_shows_four_distinct_pictures_sharing_the_link() {
    let link = "https://site.example/story";
    let msgs = render(
        &pictured(Some(link)),
        &FeedRenderOptions::default(),
        &full(true),
    )
    .expect("render");
    valid(&msgs);
    let first = &msgs[0].embeds;
    let pictures: Vec<&str> = first
        .iter()
        .filter_map(|e| e.image.as_ref().map(|i| i.url.as_str()))
        .collect();
    assert_eq!(
        pictures,
        [
            "https://site.example/a.jpg",
            "https://site.example/b.jpg",
            "https://site.example/c.jpg",
            "https://site.example/d.jpg"
        ],
        "the post's image first, each picture once, at most 4"
    );
    assert!(first.iter().all(|e| e.url.as_deref() == Some(link)));
    assert_eq!(first[0].title.as_deref(), Some("Five pictures"));
    let text: String = msgs
        .iter()
        .flat_map(|m| m.embeds.iter().filter_map(|e| e.description.clone()))
        .collect();
    assert!(!text.contains("b.jpg") && !text.contains("d.jpg"), "{text}");
    assert!(
        text.contains("e.jpg"),
        "the fifth stays in the text: {text}"
    );
}

#[test]
fn no_gallery_unless_asked_and_possible() {
    let link = Some("https://site.example/story");
    let off = render(&pictured(link), &FeedRenderOptions::default(), &full(false)).expect("off");
    assert_eq!(off[0].embeds.len(), 1);
    // Without a link the embeds cannot be joined into a grid.
    let unlinked = render(&pictured(None), &FeedRenderOptions::default(), &full(true)).expect("x");
    assert_eq!(unlinked[0].embeds.len(), 1);
    // One picture is no gallery.
    let mut one = pictured(link);
    one.content_html = Some("<p>Only text.</p>".into());
    let single = render(&one, &FeedRenderOptions::default(), &full(true)).expect("one");
    assert_eq!(single[0].embeds.len(), 1);
    // A thumbnail image setting is no gallery either.
    let thumb = TargetFormat {
        discord_image: DiscordImage::Thumbnail,
        ..full(true)
    };
    let t = render(&pictured(link), &FeedRenderOptions::default(), &thumb).expect("thumb");
    assert_eq!(t[0].embeds.len(), 1);
    valid(&off);
    valid(&unlinked);
}
