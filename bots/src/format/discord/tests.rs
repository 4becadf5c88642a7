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
