//! Telegraph pages (`telegraph = true`): when a long article becomes one
//! summary message carrying its page, the page's nodes, and when it stays
//! today's split.

use serde_json::{Value, json};

use super::*;
use crate::format::validate::{telegram_message, telegraph_content, telegraph_title};

fn long_body(paragraphs: usize) -> String {
    let p = "<p>The ridge walk took three days, with nights in huts and a long descent to the lake on the last afternoon.</p>";
    p.repeat(paragraphs)
}

fn post(body: &str) -> Post {
    Post {
        feed: "feed".into(),
        source_title: Some("Loopback News".into()),
        title: "Three days on the ridge".into(),
        link: Some("https://site.example/ridge".into()),
        summary_html: Some("<p>Three days on the ridge, told day by day.</p>".into()),
        content_html: Some(body.to_string()),
        authors: vec!["Ada".into()],
        ..Post::default()
    }
}

fn fmt(telegraph: bool) -> TargetFormat {
    TargetFormat {
        telegraph,
        mode: Mode::Full,
        ..TargetFormat::default()
    }
}

fn rendered(post: &Post, fmt: &TargetFormat) -> Vec<TelegramMessage> {
    render(post, &FeedRenderOptions::default(), fmt).expect("render")
}

fn page_of(m: &TelegramMessage) -> &TelegraphPage {
    m.telegraph.as_deref().expect("a Telegraph page")
}

/// Every node of `v` with this tag, depth first.
fn tagged<'a>(v: &'a Value, tag: &str, out: &mut Vec<&'a Value>) {
    match v {
        Value::Array(a) => a.iter().for_each(|n| tagged(n, tag, out)),
        Value::Object(o) => {
            if o.get("tag").and_then(Value::as_str) == Some(tag) {
                out.push(v);
            }
            if let Some(c) = o.get("children") {
                tagged(c, tag, out);
            }
        }
        _ => {}
    }
}

fn count(v: &Value, tag: &str) -> usize {
    let mut out = Vec::new();
    tagged(v, tag, &mut out);
    out.len()
}

#[test]
fn a_long_article_is_one_summary_carrying_its_page_and_the_split() {
    let p = post(&long_body(80));
    let split = rendered(&p, &fmt(false));
    assert!(split.len() > 1, "the article needs several messages");
    let out = rendered(&p, &fmt(true));
    assert_eq!(out.len(), 1, "{out:?}");
    let m = &out[0];
    assert_eq!(m.method, TelegramMethod::SendMessage);
    let page = page_of(m);
    assert_eq!(page.title, "Three days on the ridge");
    assert_eq!(page.author_name.as_deref(), Some("Ada"));
    assert_eq!(
        page.author_url.as_deref(),
        Some("https://site.example/ridge")
    );
    assert_eq!(page.fallback, split, "the fallback is today's split");
    assert_eq!(telegraph_content(&page.content), Ok(()));
    assert_eq!(telegraph_title(&page.title), Ok(()));
    assert_eq!(
        count(&page.content, "p"),
        81,
        "80 paragraphs and the source line"
    );
    // The Bot API parameters leave the page out; with the link the
    // summary passes the strict validator and previews the page.
    assert!(m.params().get("telegraph").is_none());
    let sent = with_link(m, "https://telegra.ph/Three-days-on-the-ridge-12-06");
    assert!(sent.telegraph.is_none());
    telegram_message("sendMessage", &sent.params()).expect("valid");
    let text = sent.text.as_deref().unwrap_or("");
    assert!(text.contains("<b>Three days on the ridge</b>"), "{text}");
    assert!(text.contains("told day by day"), "{text}");
    assert!(
        text.ends_with(
            r#"<a href="https://telegra.ph/Three-days-on-the-ridge-12-06">Read in Instant View</a>"#
        ),
        "{text}"
    );
    let preview = sent.link_preview_options.expect("a preview");
    assert_eq!(
        preview.url.as_deref(),
        Some("https://telegra.ph/Three-days-on-the-ridge-12-06")
    );
    assert_ne!(preview.is_disabled, Some(true));
    // The stored part reads back whole.
    let back = TelegramMessage::from_payload(&m.to_part().payload).expect("payload");
    assert_eq!(&back, m);
}

#[test]
fn a_short_article_or_summary_mode_or_no_telegraph_is_unchanged() {
    let short = post("<p>Only one paragraph.</p>");
    assert_eq!(rendered(&short, &fmt(true)), rendered(&short, &fmt(false)));
    assert!(rendered(&short, &fmt(true))[0].telegraph.is_none());
    let long = post(&long_body(80));
    let summary = TargetFormat {
        mode: Mode::Summary,
        ..fmt(true)
    };
    let out = rendered(&long, &summary);
    assert_eq!(out.len(), 1);
    assert!(out[0].telegraph.is_none());
    assert!(
        rendered(&long, &fmt(false))
            .iter()
            .all(|m| m.telegraph.is_none())
    );
}

#[test]
fn content_over_64_kb_is_not_a_page() {
    let huge = post(&long_body(700));
    let out = rendered(&huge, &fmt(true));
    assert!(out.len() > 1, "the split, as today");
    assert!(out.iter().all(|m| m.telegraph.is_none()));
}

#[test]
fn headings_lists_quotes_code_links_and_images_become_nodes() {
    let body = format!(
        r#"<h2>Day one</h2><p>We left <b>early</b> with <a href="https://maps.example/r">the map</a>,<br>on foot.</p>
<h4>Gear</h4><ul><li>boots</li><li>rope<ul><li>30 m</li></ul></li></ul><ol><li>first</li><li>second</li></ol>
<blockquote>Never again.</blockquote><pre>ssh hut@ridge</pre><p>Run <code>ls</code>.</p>
<figure><img src="https://pics.example/hut.jpg" alt="The hut at dusk"></figure>{}"#,
        long_body(40)
    );
    let p = Post {
        images: vec!["https://pics.example/lead.jpg".into()],
        ..post(&body)
    };
    let out = rendered(&p, &fmt(true));
    assert_eq!(out.len(), 1, "{out:?}");
    let c = &page_of(&out[0]).content;
    assert_eq!(telegraph_content(c), Ok(()));
    let nodes = c.as_array().expect("array");
    // The lead picture first (the text does not show it).
    assert_eq!(
        nodes[0],
        json!({"tag": "figure", "children": [{"tag": "img", "attrs": {"src": "https://pics.example/lead.jpg"}}]})
    );
    assert_eq!(nodes[1], json!({"tag": "h3", "children": ["Day one"]}));
    assert_eq!(
        nodes[2],
        json!({"tag": "p", "children": [
            "We left ", {"tag": "b", "children": ["early"]}, " with ",
            {"tag": "a", "attrs": {"href": "https://maps.example/r"}, "children": ["the map"]},
            ",", {"tag": "br"}, "on foot."
        ]})
    );
    assert_eq!(nodes[3], json!({"tag": "h4", "children": ["Gear"]}));
    let mut lists = Vec::new();
    tagged(c, "ul", &mut lists);
    assert_eq!(lists.len(), 2, "a list and the one nested in it");
    assert_eq!(count(c, "ol"), 1, "{c:#}");
    assert_eq!(count(c, "li"), 5);
    let mut quotes = Vec::new();
    tagged(c, "blockquote", &mut quotes);
    assert_eq!(quotes[0]["children"], json!(["Never again."]));
    let mut pre = Vec::new();
    tagged(c, "pre", &mut pre);
    assert_eq!(pre[0]["children"], json!(["ssh hut@ridge"]));
    let mut code = Vec::new();
    tagged(c, "code", &mut code);
    assert_eq!(
        code.first().map(|c| &c["children"]),
        Some(&json!(["ls"])),
        "{c:#}"
    );
    let mut figures = Vec::new();
    tagged(c, "figure", &mut figures);
    assert_eq!(figures.len(), 2);
    assert_eq!(
        figures[1]["children"],
        json!([{"tag": "img", "attrs": {"src": "https://pics.example/hut.jpg"}},
               {"tag": "figcaption", "children": ["The hut at dusk"]}])
    );
    // The last node links to the original.
    assert_eq!(
        nodes.last(),
        Some(&json!({"tag": "p", "children": [
            {"tag": "a", "attrs": {"href": "https://site.example/ridge"}, "children": ["Loopback News"]}
        ]}))
    );
}

#[test]
fn a_long_title_is_cut_to_256_characters_on_a_word() {
    let p = Post {
        title: "Ridge ".repeat(60),
        ..post(&long_body(80))
    };
    let out = rendered(&p, &fmt(true));
    let title = &page_of(&out[0]).title;
    assert!(title.chars().count() <= 256, "{}", title.chars().count());
    assert_eq!(telegraph_title(title), Ok(()));
}
