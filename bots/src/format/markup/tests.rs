use super::parser::snippet;
use super::*;

#[test]
fn snippet_never_cuts_inside_a_character() {
    // Byte 40 falls inside the 16th 'é'.
    let s = format!("<a title={}>", "é".repeat(30));
    let out = snippet(&s);
    assert!(s.starts_with(&out) && out.len() <= 40, "{out}");
    assert_eq!(snippet("<b>’</b>"), "<b>");
}

fn blocks(src: &str) -> Vec<Block> {
    resolve(&parse(src).pieces, &[], &[])
}

fn span(t: &str, style: Style, link: Option<&str>) -> Span {
    Span {
        text: t.into(),
        style,
        link: link.map(Into::into),
    }
}

#[test]
fn paragraphs_lines_and_styles() {
    let b = blocks(
        "<b><a href=\"https://x.example/a\">Title</a></b>\n\n\n  Body   text\nline 2  \n\n<i>src</i>\n",
    );
    assert_eq!(
        b,
        vec![
            Block::Paragraph(vec![span(
                "Title",
                Style::BOLD,
                Some("https://x.example/a")
            )]),
            Block::Paragraph(vec![Span::plain("Body text\nline 2")]),
            Block::Paragraph(vec![span("src", Style::ITALIC, None)]),
        ]
    );
}

#[test]
fn escaped_values_stay_literal() {
    let b = blocks(&escape("<b>x</b> & *y* ](z) </a>"));
    assert_eq!(
        b,
        vec![Block::Paragraph(vec![Span::plain(
            "<b>x</b> & *y* ](z) </a>"
        )])]
    );
}

#[test]
fn unknown_tags_are_text_and_reported() {
    let p = parse("<div>a</div> <b>b");
    assert_eq!(p.problems.len(), 3, "{:?}", p.problems);
    assert_eq!(
        resolve(&p.pieces, &[], &[]),
        vec![Block::Paragraph(vec![
            Span::plain("<div>a</div> "),
            span("b", Style::BOLD, None)
        ])]
    );
}

#[test]
fn bad_links_keep_text() {
    let b = blocks("<a href=\"javascript:alert(1)\">x</a> <a href=''>y</a>");
    assert_eq!(b, vec![Block::Paragraph(vec![Span::plain("x y")])]);
}

#[test]
fn slots_are_spliced_with_context() {
    let p = parse(&format!(
        "<blockquote><i>{}</i></blockquote>\n\nend",
        Slot::Summary.sentinel()
    ));
    let summary = vec![Block::Paragraph(vec![Span::plain("s1")])];
    let b = resolve(&p.pieces, &summary, &[]);
    assert_eq!(
        b,
        vec![
            Block::Quote(vec![span("s1", Style::ITALIC, None)]),
            Block::Paragraph(vec![Span::plain("end")])
        ]
    );
    assert!(p.problems.is_empty(), "{:?}", p.problems);
}

#[test]
fn pre_and_entities() {
    let b = blocks(
        "<pre><code class=\"language-rust\">a &lt; b\n  c</code></pre>&#128512;&amp;&bogus;",
    );
    assert_eq!(
        b,
        vec![
            Block::Code {
                lang: Some("rust".into()),
                text: "a < b\n  c".into()
            },
            Block::Paragraph(vec![Span::plain("😀&&bogus;")])
        ]
    );
}
