//! A single web page an editor hands over by URL: title, description,
//! canonical link, image, author, dates and body, from Open Graph, Twitter
//! cards, JSON-LD (`NewsArticle` & co.), then `<title>` / first paragraph.

use chrono::{DateTime, Utc};
use scraper::{ElementRef, Html, Selector};
use serde_json::Value;
use url::Url;

use super::dates::parse_date;
use super::encoding::{charset_from_content_type, decode};
use super::fetch::Fetcher;
use super::html::{
    MAX_NESTING, absolutize, collapse_ws, decode_text, images_in_html, limit_nesting,
    normalize_language, resolve_relative_urls,
};
use super::{FeedSpec, SourceError};
use crier_bots::Post;
use crier_bots::format::escape_html;

/// Selectors tried, in order, for the article body.
const BODY_SELECTORS: &[&str] = &[
    ".entry-content",
    "[itemprop=articleBody]",
    ".post-content",
    ".article-body",
    ".article-content",
    ".story-body",
    "article",
    "main",
];

const ARTICLE_TYPES: &[&str] = &[
    "NewsArticle",
    "Article",
    "BlogPosting",
    "ReportageNewsArticle",
    "AnalysisNewsArticle",
    "OpinionNewsArticle",
    "Report",
    "WebPage",
];

fn sel(s: &str) -> Option<Selector> {
    Selector::parse(s).ok()
}

/// Fetches a page (same client, User-Agent, cap and timeouts as feeds) and
/// extracts it. An answer that is not HTML is still read as HTML.
pub async fn fetch_page(fetcher: &Fetcher, url: &Url) -> Result<Post, SourceError> {
    let spec = FeedSpec {
        name: String::new(),
        url: url.clone(),
        kind: super::FeedKind::Feed,
        user_agent: None,
        headers: Vec::new(),
        body_cap: fetcher.config().body_cap,
        guarded: false,
    };
    let raw = fetcher
        .get(
            url,
            &spec,
            None,
            "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
        )
        .await?;
    let charset = raw
        .content_type
        .as_deref()
        .and_then(charset_from_content_type);
    Ok(extract_with_charset(&raw.body, charset, &raw.url))
}

/// Extracts a post from an HTML page at `url` (never fails: missing fields
/// stay empty). `feed` is left empty for the caller to set.
pub fn extract(html: &[u8], url: &Url) -> Post {
    extract_with_charset(html, None, url)
}

struct Meta {
    pairs: Vec<(String, String)>,
}

impl Meta {
    fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, v)| k == key && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
    }
    fn all(&self, key: &str) -> impl Iterator<Item = &str> {
        self.pairs
            .iter()
            .filter(move |(k, v)| k == key && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
    }
}

/// [`extract`] honouring an HTTP charset.
pub fn extract_with_charset(html: &[u8], http_charset: Option<&str>, url: &Url) -> Post {
    let (text, _) = decode(html, http_charset, true);
    let doc = Html::parse_document(limit_nesting(&text, MAX_NESTING));

    let mut pairs = Vec::new();
    if let Some(s) = sel("meta") {
        for m in doc.select(&s) {
            let el = m.value();
            let key = el
                .attr("property")
                .or_else(|| el.attr("name"))
                .or_else(|| el.attr("itemprop"));
            if let (Some(k), Some(c)) = (key, el.attr("content")) {
                pairs.push((k.trim().to_ascii_lowercase(), c.to_owned()));
            }
        }
    }
    let meta = Meta { pairs };
    let ld = json_ld_article(&doc);
    let ld_str = |k: &str| ld.as_ref().and_then(|v| v.get(k)).and_then(ld_text);

    let base = {
        let b = sel("base[href]")
            .and_then(|s| doc.select(&s).next())
            .and_then(|b| b.value().attr("href"))
            .and_then(|h| url.join(h).ok());
        b.unwrap_or_else(|| url.clone())
    };
    let canonical = sel("link[rel=canonical]")
        .and_then(|s| doc.select(&s).next())
        .and_then(|l| l.value().attr("href"))
        .and_then(|h| absolutize(h, Some(&base)));
    let link = canonical
        .or_else(|| meta.get("og:url").and_then(|u| absolutize(u, Some(&base))))
        .or_else(|| ld_str("url").and_then(|u| absolutize(&u, Some(&base))))
        .unwrap_or_else(|| url.to_string());

    let body_el = BODY_SELECTORS
        .iter()
        .filter_map(|s| sel(s))
        .find_map(|s| doc.select(&s).next());
    let content_html = body_el
        .map(|el| resolve_relative_urls(el.inner_html().trim(), &base))
        .filter(|h| !h.is_empty());

    let title = meta
        .get("og:title")
        .or_else(|| meta.get("twitter:title"))
        .map(decode_text)
        .or_else(|| ld_str("headline").map(|h| decode_text(&h)))
        .or_else(|| {
            sel("title")
                .and_then(|s| doc.select(&s).next())
                .map(|t| collapse_ws(&t.text().collect::<String>()))
        })
        .or_else(|| {
            sel("h1")
                .and_then(|s| doc.select(&s).next())
                .map(|t| collapse_ws(&t.text().collect::<String>()))
        })
        .unwrap_or_default();

    let summary = meta
        .get("og:description")
        .or_else(|| meta.get("twitter:description"))
        .or_else(|| meta.get("description"))
        .map(decode_text)
        .or_else(|| ld_str("description").map(|d| decode_text(&d)))
        .or_else(|| first_paragraph(body_el.unwrap_or_else(|| doc.root_element())));
    let summary_html = summary.filter(|s| !s.is_empty()).map(|s| escape_html(&s));

    let mut images: Vec<String> = Vec::new();
    let mut push = |u: Option<String>| {
        if let Some(u) = u
            && !images.contains(&u)
        {
            images.push(u);
        }
    };
    push(
        meta.get("og:image:secure_url")
            .or_else(|| meta.get("og:image"))
            .or_else(|| meta.get("og:image:url"))
            .or_else(|| meta.get("twitter:image"))
            .or_else(|| meta.get("twitter:image:src"))
            .and_then(|u| absolutize(u, Some(&base))),
    );
    if let Some(img) = ld.as_ref().and_then(|v| v.get("image")) {
        push(ld_image(img).and_then(|u| absolutize(&u, Some(&base))));
    }
    if let Some(c) = &content_html {
        push(images_in_html(c, Some(&base)).into_iter().next());
    }

    let mut authors: Vec<String> = Vec::new();
    if let Some(a) = ld.as_ref().and_then(|v| v.get("author")) {
        for name in ld_names(a) {
            if !authors.contains(&name) {
                authors.push(name);
            }
        }
    }
    if authors.is_empty() {
        for a in meta
            .all("author")
            .chain(meta.all("article:author"))
            .chain(meta.all("twitter:creator"))
        {
            if a.starts_with("http") {
                continue;
            }
            let a = decode_text(a);
            if !a.is_empty() && !authors.contains(&a) {
                authors.push(a);
            }
        }
    }

    let date = |keys: &[&str], ld_key: &str| -> Option<DateTime<Utc>> {
        keys.iter()
            .find_map(|k| meta.get(k).and_then(parse_date))
            .or_else(|| ld_str(ld_key).and_then(|d| parse_date(&d)))
    };
    let published = date(
        &[
            "article:published_time",
            "datepublished",
            "pubdate",
            "dc.date",
            "date",
        ],
        "datePublished",
    )
    .or_else(|| {
        sel("time[datetime]")
            .and_then(|s| doc.select(&s).next())
            .and_then(|t| t.value().attr("datetime"))
            .and_then(parse_date)
    });
    let updated = date(
        &["article:modified_time", "og:updated_time", "datemodified"],
        "dateModified",
    )
    .filter(|u| Some(*u) != published);

    let mut categories: Vec<String> = Vec::new();
    for c in meta.all("article:section").chain(meta.all("article:tag")) {
        let c = decode_text(c);
        if !c.is_empty() && !categories.contains(&c) {
            categories.push(c);
        }
    }
    if categories.is_empty()
        && let Some(section) = ld_str("articleSection")
    {
        categories.push(decode_text(&section));
    }

    let language = sel("html")
        .and_then(|s| doc.select(&s).next())
        .and_then(|h| h.value().attr("lang"))
        .and_then(normalize_language)
        .or_else(|| meta.get("og:locale").and_then(normalize_language));
    let source_title = meta.get("og:site_name").map(decode_text).or_else(|| {
        ld.as_ref()
            .and_then(|v| v.get("publisher"))
            .and_then(|p| p.get("name"))
            .and_then(ld_text)
    });

    Post {
        feed: String::new(),
        source_title,
        title,
        link: Some(link),
        summary_html,
        content_html,
        authors,
        categories,
        published,
        updated,
        images,
        language,
        digest: Vec::new(),
        enclosures: Vec::new(),
        title_from_text: false,
    }
}

fn first_paragraph(root: ElementRef<'_>) -> Option<String> {
    let s = sel("p")?;
    root.select(&s)
        .map(|p| collapse_ws(&p.text().collect::<String>()))
        .find(|t| t.chars().count() >= 40)
}

fn ld_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Array(a) => a.iter().find_map(ld_text),
        Value::Object(o) => o.get("name").or_else(|| o.get("@value")).and_then(ld_text),
        _ => None,
    }
}

fn ld_image(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Array(a) => a.iter().find_map(ld_image),
        Value::Object(o) => o
            .get("url")
            .or_else(|| o.get("contentUrl"))
            .and_then(ld_image),
        _ => None,
    }
}

fn ld_names(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![decode_text(s)],
        Value::Array(a) => a.iter().flat_map(ld_names).collect(),
        Value::Object(o) => o
            .get("name")
            .and_then(Value::as_str)
            .map(|n| vec![decode_text(n)])
            .unwrap_or_default(),
        _ => Vec::new(),
    }
    .into_iter()
    .filter(|n| !n.is_empty())
    .collect()
}

fn has_article_type(v: &Value) -> Option<usize> {
    let t = v.get("@type")?;
    let types: Vec<&str> = match t {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => return None,
    };
    types
        .iter()
        .filter_map(|t| ARTICLE_TYPES.iter().position(|a| a == t))
        .min()
}

/// The best JSON-LD object of an article type (NewsArticle first), looking
/// into arrays and `@graph`.
fn json_ld_article(doc: &Html) -> Option<Value> {
    let s = sel(r#"script[type="application/ld+json"]"#)?;
    let mut best: Option<(usize, Value)> = None;
    for script in doc.select(&s) {
        let text: String = script.text().collect();
        let Ok(v) = serde_json::from_str::<Value>(text.trim()) else {
            continue;
        };
        let mut stack = vec![v];
        let mut budget = 1000;
        while let Some(v) = stack.pop() {
            budget -= 1;
            if budget == 0 {
                break;
            }
            match v {
                Value::Array(a) => stack.extend(a),
                Value::Object(ref o) => {
                    if let Some(g) = o.get("@graph") {
                        stack.push(g.clone());
                    }
                    if let Some(rank) = has_article_type(&v)
                        && best.as_ref().is_none_or(|(r, _)| rank < *r)
                    {
                        best = Some((rank, v));
                    }
                }
                _ => {}
            }
        }
    }
    best.map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_article_page() {
        let html = include_bytes!("../../tests/fixtures/seed-article.html");
        let url = Url::parse("https://meritnews24.example/2023/02/01/japan-and-nato-pledge-to-strengthen-cooperation/?utm_source=x")
            .expect("url");
        let post = extract(html, &url);
        assert_eq!(
            post.title,
            "Japan and NATO pledge to strengthen cooperation | Russian military cooperation has led to the tensest security environment since World War II"
        );
        assert_eq!(
            post.link.as_deref(),
            Some(
                "https://meritnews24.example/2023/02/01/japan-and-nato-pledge-to-strengthen-cooperation/"
            )
        );
        assert!(
            post.summary_html
                .as_deref()
                .is_some_and(|s| s.starts_with("Japan and NATO leaders pledged"))
        );
        assert_eq!(
            post.images,
            vec![
                "https://meritnews24.example/wp-content/uploads/2023/02/kishida-stoltenberg.jpg"
                    .to_string()
            ]
        );
        assert_eq!(post.authors, vec!["Meritnews24 Desk".to_string()]);
        assert_eq!(
            post.published.map(|d| d.to_rfc3339()).as_deref(),
            Some("2023-02-01T03:12:44+00:00")
        );
        assert_eq!(
            post.updated.map(|d| d.to_rfc3339()).as_deref(),
            Some("2023-02-01T05:40:02+00:00")
        );
        assert_eq!(post.categories, vec!["World".to_string()]);
        assert_eq!(post.language.as_deref(), Some("en-US"));
        assert_eq!(post.source_title.as_deref(), Some("Meritnews24"));
        let content = post.content_html.as_deref().unwrap_or("");
        // The body is .entry-content: no social boxes, no subscribe modal.
        assert!(content.contains("Japan will host the G7 summit in May"));
        assert!(!content.contains("WhatsApp Channel"));
        assert!(!content.contains("Subscribe"));
        assert!(!content.contains("Leave a Comment"));
    }

    #[test]
    fn fallbacks_without_metadata() {
        let html = br#"<html><head><title> Plain &amp; simple </title></head><body>
            <p>short</p><p>This is the first real paragraph of the page, long enough to be a summary.</p>
            <article><img src="/img/a.png"><p>Body <a href="rel/x">x</a></p></article></body></html>"#;
        let url = Url::parse("https://e.example/news/page.html").expect("url");
        let post = extract(html, &url);
        assert_eq!(post.title, "Plain & simple");
        assert_eq!(
            post.link.as_deref(),
            Some("https://e.example/news/page.html")
        );
        assert!(
            post.summary_html
                .as_deref()
                .is_some_and(|s| s.starts_with("Body"))
                || post.summary_html.is_none()
        );
        assert_eq!(post.images, vec!["https://e.example/img/a.png".to_string()]);
        assert!(
            post.content_html
                .as_deref()
                .is_some_and(|c| c.contains(r#"href="https://e.example/news/rel/x""#))
        );
    }

    #[test]
    fn json_ld_graph_and_twitter() {
        let html = br#"<html lang="de"><head>
            <meta name="twitter:title" content="Twitter title">
            <meta name="twitter:image" content="https://cdn.example/t.jpg">
            <script type="application/ld+json">{"@context":"https://schema.org","@graph":[
              {"@type":"WebSite","name":"Site"},
              {"@type":["NewsArticle"],"headline":"LD headline","datePublished":"2024-05-06T07:08:09+02:00",
               "author":[{"@type":"Person","name":"A. Author"},{"@type":"Person","name":"B. Author"}],
               "image":{"@type":"ImageObject","url":"https://cdn.example/ld.jpg"},
               "publisher":{"@type":"Organization","name":"Publisher"}}]}</script>
            <script type="application/ld+json">{ not json</script>
            </head><body><p>x</p></body></html>"#;
        let url = Url::parse("https://e.example/a").expect("url");
        let post = extract(html, &url);
        assert_eq!(post.title, "Twitter title");
        assert_eq!(
            post.authors,
            vec!["A. Author".to_string(), "B. Author".to_string()]
        );
        assert_eq!(
            post.images,
            vec![
                "https://cdn.example/t.jpg".to_string(),
                "https://cdn.example/ld.jpg".to_string()
            ]
        );
        assert_eq!(
            post.published.map(|d| d.to_rfc3339()).as_deref(),
            Some("2024-05-06T05:08:09+00:00")
        );
        assert_eq!(post.language.as_deref(), Some("de"));
        assert_eq!(post.source_title.as_deref(), Some("Publisher"));
    }

    #[test]
    fn deep_nesting_is_cut_not_quadratic() {
        let mut html = String::from(
            "<html><head><title>Deep</title></head><body><article><p>Intro paragraph that is long enough to be a summary of it.</p>",
        );
        html.push_str(&"<div>".repeat(20_000));
        html.push_str("deep");
        html.push_str(&"</div>".repeat(20_000));
        html.push_str("</article></body></html>");
        let start = std::time::Instant::now();
        let post = extract(
            html.as_bytes(),
            &Url::parse("https://e.example/").expect("url"),
        );
        assert!(
            start.elapsed() < std::time::Duration::from_secs(3),
            "{:?}",
            start.elapsed()
        );
        assert_eq!(post.title, "Deep");
        assert!(limit_nesting(&html, MAX_NESTING).len() < html.len());
        // Ordinary pages are not cut.
        let page =
            String::from_utf8_lossy(include_bytes!("../../tests/fixtures/seed-article.html"))
                .into_owned();
        assert_eq!(limit_nesting(&page, MAX_NESTING).len(), page.len());
        let scripts = "<div><script>if (a<b) { x = '<div><div>'; }</script></div><div>x</div>";
        assert_eq!(limit_nesting(scripts, 1), scripts);
        assert_eq!(limit_nesting("<div><div>x", 1), "<div>");
    }

    #[test]
    fn garbage_does_not_panic() {
        let url = Url::parse("https://e.example/").expect("url");
        for input in [
            &b""[..],
            b"\xff\xfe\x00<",
            b"<html><head><meta property=og:title>",
            b"{}",
        ] {
            let _ = extract(input, &url);
        }
    }
}
