use super::*;
use crate::format::rich::Span;

fn rules() -> Rules {
    Rules {
        defaults: true,
        ..Rules::default()
    }
}

fn run(html: &str) -> Vec<Block> {
    sanitize(
        html,
        Url::parse("https://site.example/post/").ok().as_ref(),
        &rules(),
    )
}

fn para(t: &str) -> Block {
    Block::Paragraph(vec![Span::plain(t)])
}

#[test]
fn whitespace_is_normalised_like_a_browser() {
    let b = run("<p>  Hello \n\t <b>brave</b>   new\nworld  </p>");
    assert_eq!(
        b,
        vec![Block::Paragraph(vec![
            Span::plain("Hello "),
            Span {
                text: "brave".into(),
                style: Style::BOLD,
                link: None
            },
            Span::plain(" new world"),
        ])]
    );
}

#[test]
fn br_p_li_make_structure() {
    let b = run("a<br>b<p>c</p><ul><li>d</li><li>e<ul><li>f</li></ul>g</li></ul>");
    assert_eq!(b.len(), 6, "{b:#?}");
    assert_eq!(b[0], para("a\nb"));
    assert_eq!(b[1], para("c"));
    assert!(matches!(&b[2], Block::ListItem { depth: 0, marker, .. } if marker == "•"));
    assert!(matches!(&b[4], Block::ListItem { depth: 1, marker, .. } if marker == "◦"));
    assert!(matches!(&b[5], Block::ListItem { depth: 0, marker, .. } if marker.is_empty()));
}

#[test]
fn drops_scripts_styles_forms_iframes_comments_pixels() {
    let b = run(concat!(
        "<p>keep<script>alert(1)</script><style>p{}</style><!-- c --></p>",
        "<form><input value=x><button>Go</button></form>",
        "<iframe src='https://x.example'></iframe>",
        "<img src='https://pixel.wp.com/g.gif?x' width=1 height=1>",
        "<img src='https://site.example/a.gif' width='1' height='1'>",
        "<svg><text>svg text</text></svg>",
        "<p hidden>hidden</p><p style='display: none'>gone</p>",
    ));
    assert_eq!(b, vec![para("keep")]);
}

#[test]
fn unknown_tags_are_unwrapped() {
    let b = run("<p>a <custom-x>b</custom-x> <font color=red>c</font></p>");
    assert_eq!(b, vec![para("a b c")]);
}

#[test]
fn javascript_links_are_dropped_text_kept() {
    let b = run("<p><a href='javascript:alert(1)'>click</a> <a href='/x'>rel</a></p>");
    let Block::Paragraph(spans) = &b[0] else {
        panic!("{b:?}")
    };
    assert_eq!(spans[0].text, "click ");
    assert_eq!(spans[0].link, None);
    assert_eq!(spans[1].link.as_deref(), Some("https://site.example/x"));
}

#[test]
fn quotes_code_images() {
    let b = run(concat!(
        "<blockquote><p>q1</p><p>q2</p></blockquote>",
        "<pre><code class='language-rust'>fn main() {\n    x();\n}\n</code></pre>",
        "<figure><img src='/i.jpg' alt='A cat'><figcaption>Cap</figcaption></figure>",
        "<p>x<img class='emoji' alt='😀' src='https://s.w.org/images/core/emoji/1.png'>y</p>",
    ));
    assert_eq!(b[0], Block::Quote(vec![Span::plain("q1\n\nq2")]));
    assert_eq!(
        b[1],
        Block::Code {
            lang: Some("rust".into()),
            text: "fn main() {\n    x();\n}".into()
        }
    );
    assert_eq!(
        b[2],
        Block::Image {
            src: "https://site.example/i.jpg".into(),
            alt: "A cat".into()
        }
    );
    assert!(matches!(&b[3], Block::Paragraph(s) if s[0].style == Style::ITALIC));
    assert_eq!(b[4], para("x😀y"));
}

#[test]
fn whole_page_is_narrowed_to_the_article_body() {
    let b = run(
        "<!doctype html><html><body><header>Site</header><div class='entry-content'><p>Body</p></div><footer>F</footer></body></html>",
    );
    assert_eq!(b, vec![para("Body")]);
}

#[test]
fn deep_nesting_does_not_overflow() {
    let html = format!(
        "{}deep{}",
        "<div><span>".repeat(5000),
        "</span></div>".repeat(5000)
    );
    let b = run(&html);
    assert_eq!(b, vec![para("deep")]);
}

#[test]
fn boilerplate_elements_and_blocks_are_dropped() {
    let b = run(concat!(
        "<div class='social-join-box'><span>WhatsApp Channel</span> <a href='https://wa.example'>Join Now</a></div>",
        "<p>Real text.</p>",
        "<p>Telegram Group Join Now</p>",
        "<div class='sharedaddy'>Share this</div>",
        "<h3>Leave a Comment</h3>",
    ));
    assert_eq!(b, vec![para("Real text.")]);
}
