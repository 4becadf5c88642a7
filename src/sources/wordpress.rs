//! WordPress: detecting the REST API and reading `wp/v2/posts?_embed`.
//!
//! The REST API gives what RSS lacks: the featured image, category and tag
//! names, the author's name and the `modified` time. Its posts carry the
//! same `guid` and `link` as the site's RSS items, so identity keys match
//! whichever route read an article.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde_json::Value;
use url::Url;

use super::html::{
    absolutize, attr, bounded_html, decode_text, images_in_html, resolve_relative_urls,
    tags_with_attrs,
};
use super::identity::{Candidate, build_items, dominant_key_type};
use super::{DocumentFormat, FeedMeta, ParsedDocument, SourceError};
use crier_bots::Post;

/// The link relation WordPress uses to advertise its REST API.
pub const API_REL: &str = "https://api.w.org/";

/// The API root from an HTTP `Link` header such as
/// `<https://site/wp-json/>; rel="https://api.w.org/"`.
pub fn api_root_from_link_header(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        let is_api = params.split(';').any(|p| {
            let p = p.trim();
            p.strip_prefix("rel=")
                .map(|v| v.trim_matches('"') == API_REL)
                .unwrap_or(false)
        });
        (is_api && Url::parse(target).is_ok()).then(|| target.to_owned())
    })
}

/// The API root from an HTML page's `<link rel="https://api.w.org/">`.
pub fn api_root_from_html(html: &str, base: &Url) -> Option<String> {
    tags_with_attrs(html, "link").iter().find_map(|a| {
        (attr(a, "rel")? == API_REL)
            .then(|| absolutize(attr(a, "href")?, Some(base)))
            .flatten()
    })
}

/// The first feed advertised by an HTML page (`<link rel="alternate"
/// type="application/rss+xml|atom+xml|feed+json">`), comment feeds last.
pub fn feed_link_from_html(html: &str, base: &Url) -> Option<String> {
    let mut feeds: Vec<(bool, String)> = Vec::new();
    for a in tags_with_attrs(html, "link") {
        let rel = attr(&a, "rel").unwrap_or("").to_ascii_lowercase();
        let ty = attr(&a, "type").unwrap_or("").to_ascii_lowercase();
        if !rel.split_whitespace().any(|r| r == "alternate")
            || !(ty.contains("rss") || ty.contains("atom") || ty.contains("feed+json"))
        {
            continue;
        }
        let Some(href) = attr(&a, "href").and_then(|h| absolutize(h, Some(base))) else {
            continue;
        };
        let title = attr(&a, "title").unwrap_or("").to_ascii_lowercase();
        let comments = title.contains("comment") || href.contains("/comments/");
        feeds.push((comments, href));
    }
    feeds.sort_by_key(|(comments, _)| *comments);
    feeds.into_iter().next().map(|(_, href)| href)
}

/// The API root guessed from a site or feed URL: the part before
/// `/wp-json/` when present, else `<origin>/wp-json/`.
pub fn derive_api_root(url: &Url) -> Url {
    let mut root = url.clone();
    root.set_query(None);
    root.set_fragment(None);
    let path = url.path();
    let new_path = match path.find("/wp-json") {
        Some(i) => format!("{}/wp-json/", &path[..i]),
        None => "/wp-json/".to_owned(),
    };
    root.set_path(&new_path);
    root
}

/// The posts endpoint for an API root, with `_embed`, newest-modified first.
/// Handles the `?rest_route=/` form of sites without pretty permalinks.
pub fn posts_endpoint(root: &Url, per_page: u32) -> Url {
    let mut url = root.clone();
    let rest_route = url
        .query_pairs()
        .find(|(k, _)| k == "rest_route")
        .map(|(_, v)| v.into_owned());
    match rest_route {
        Some(route) => {
            let route = format!("{}/wp/v2/posts", route.trim_end_matches('/'));
            url.set_query(Some(&format!(
                "rest_route={route}&_embed&orderby=modified&per_page={per_page}"
            )));
        }
        None => {
            if !url.path().ends_with('/') {
                let p = format!("{}/", url.path());
                url.set_path(&p);
            }
            if let Ok(joined) = url.join("wp/v2/posts") {
                url = joined;
            }
            url.set_query(Some(&format!(
                "_embed&orderby=modified&per_page={per_page}"
            )));
        }
    }
    url
}

/// The RSS feed to fall back on: the configured URL when it is a feed,
/// else the site's `/feed/` next to the API root.
pub fn fallback_feed_url(spec_url: &Url, api_root: Option<&Url>) -> Url {
    let path = spec_url.path().to_ascii_lowercase();
    let query = spec_url.query().unwrap_or("");
    if path.contains("/feed")
        || path.ends_with(".xml")
        || path.ends_with(".rss")
        || path.ends_with(".atom")
        || query.contains("feed=")
    {
        return spec_url.clone();
    }
    let root = api_root
        .cloned()
        .unwrap_or_else(|| derive_api_root(spec_url));
    if root.query().is_some_and(|q| q.contains("rest_route")) {
        let mut u = root.clone();
        u.set_query(Some("feed=rss2"));
        return u;
    }
    let mut u = root.clone();
    let p = root.path();
    let site = p.find("/wp-json").map_or("", |i| &p[..i]).to_owned();
    u.set_path(&format!("{site}/feed/"));
    u
}

/// Whether `url` is the site's main feed (or its home page) for the API
/// root `api_root`: only then do the REST API's posts (the whole site) say
/// the same as the feed. Category, tag, author, search and comment feeds
/// are not switched to the REST API by auto-detection.
pub fn is_main_feed(url: &Url, api_root: &Url) -> bool {
    if url.host_str() != api_root.host_str() {
        return false;
    }
    let root_path = api_root.path();
    let site = root_path.find("/wp-json").map_or("", |i| &root_path[..i]);
    let path = url.path().trim_end_matches('/');
    let rest = path.strip_prefix(site).unwrap_or(path);
    let query = url.query().unwrap_or("");
    if query.contains("feed=") {
        // Plain permalinks: `/?feed=rss2` is the main feed, with nothing else.
        return rest.is_empty()
            && !query.contains("cat=")
            && !query.contains("tag=")
            && !query.contains("author=")
            && !query.contains("s=");
    }
    matches!(
        rest,
        "" | "/feed" | "/feed/rss2" | "/feed/rss" | "/feed/atom" | "/feed/rdf"
    )
}

fn s<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str()
}

fn wp_date(v: &Value, gmt_field: &str, local_field: &str) -> Option<DateTime<Utc>> {
    if let Some(t) = s(v, &[gmt_field])
        && let Ok(n) = NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S")
    {
        return Some(Utc.from_utc_datetime(&n));
    }
    s(v, &[local_field]).and_then(super::dates::parse_date)
}

/// Parses a `wp/v2/posts?_embed` response. An error object (`{"code":
/// "rest_disabled", …}`), non-JSON or HTML is [`SourceError::NotAFeed`].
pub fn parse_posts(bytes: &[u8], base: &Url) -> Result<ParsedDocument, SourceError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        let head = String::from_utf8_lossy(&bytes[..bytes.len().min(256)]).to_ascii_lowercase();
        if head.contains("<html") || head.contains("<!doctype") {
            SourceError::NotAFeed { got: "HTML".into() }
        } else {
            SourceError::Parse {
                line: Some(e.line() as u64),
                message: format!("WordPress API JSON: {e}"),
            }
        }
    })?;
    let posts = match &value {
        Value::Array(a) => a,
        Value::Object(o) => {
            let code = o.get("code").and_then(Value::as_str).unwrap_or("an object");
            return Err(SourceError::NotAFeed {
                got: format!("WordPress API error {code}"),
            });
        }
        _ => {
            return Err(SourceError::NotAFeed {
                got: "unexpected JSON from the WordPress API".into(),
            });
        }
    };
    let mut cands = Vec::with_capacity(posts.len());
    let mut out = Vec::with_capacity(posts.len());
    for p in posts {
        if !p.is_object() {
            continue;
        }
        let link = s(p, &["link"]).and_then(|l| absolutize(l, Some(base)));
        let guid = s(p, &["guid", "rendered"])
            .map(decode_text)
            .filter(|g| !g.is_empty());
        let item_base = link
            .as_deref()
            .and_then(|l| Url::parse(l).ok())
            .unwrap_or_else(|| base.clone());
        let title = s(p, &["title", "rendered"])
            .map(decode_text)
            .unwrap_or_default();
        let content_html = s(p, &["content", "rendered"])
            .filter(|c| !c.trim().is_empty())
            .map(|c| resolve_relative_urls(bounded_html(c), &item_base));
        let summary_html = s(p, &["excerpt", "rendered"])
            .filter(|c| !c.trim().is_empty())
            .map(|c| resolve_relative_urls(bounded_html(c.trim()), &item_base));
        let embedded = p.get("_embedded");
        let mut authors = Vec::new();
        if let Some(list) = embedded
            .and_then(|e| e.get("author"))
            .and_then(Value::as_array)
        {
            for a in list {
                if let Some(name) = s(a, &["name"]).map(decode_text).filter(|n| !n.is_empty())
                    && !authors.contains(&name)
                {
                    authors.push(name);
                }
            }
        }
        let mut categories = Vec::new();
        if let Some(groups) = embedded
            .and_then(|e| e.get("wp:term"))
            .and_then(Value::as_array)
        {
            for group in groups {
                for term in group.as_array().into_iter().flatten() {
                    if let Some(name) = s(term, &["name"])
                        .map(decode_text)
                        .filter(|n| !n.is_empty())
                        && !categories.contains(&name)
                    {
                        categories.push(name);
                    }
                }
            }
        }
        let mut images: Vec<String> = Vec::new();
        if let Some(media) = embedded
            .and_then(|e| e.get("wp:featuredmedia"))
            .and_then(Value::as_array)
            .and_then(|a| a.first())
        {
            let src = s(media, &["source_url"])
                .or_else(|| s(media, &["media_details", "sizes", "full", "source_url"]));
            if let Some(u) = src.and_then(|u| absolutize(u, Some(base))) {
                images.push(u);
            }
        }
        if let Some(u) =
            s(p, &["jetpack_featured_media_url"]).and_then(|u| absolutize(u, Some(base)))
            && !images.contains(&u)
        {
            images.push(u);
        }
        if let Some(first) = content_html
            .as_deref()
            .and_then(|c| images_in_html(c, Some(&item_base)).into_iter().next())
            && !images.contains(&first)
        {
            images.push(first);
        }
        let published = wp_date(p, "date_gmt", "date");
        let updated = wp_date(p, "modified_gmt", "modified").filter(|u| Some(*u) != published);
        cands.push(Candidate {
            guid,
            link: link.clone(),
        });
        out.push(Post {
            feed: String::new(),
            source_title: None,
            title,
            link,
            summary_html,
            content_html,
            authors,
            categories,
            published,
            updated,
            images,
            language: None,
            digest: Vec::new(),
            enclosures: Vec::new(),
            title_from_text: false,
        });
    }
    let items = build_items(&cands, out);
    let meta = FeedMeta {
        format: Some(DocumentFormat::WordPressApi),
        key_type: dominant_key_type(&items),
        encoding: "UTF-8".into(),
        ..FeedMeta::default()
    };
    Ok(ParsedDocument { meta, items })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).expect("url")
    }

    #[test]
    fn link_header_and_html_detection() {
        assert_eq!(
            api_root_from_link_header(
                r#"<https://site.example/wp-json/>; rel="https://api.w.org/", <https://site.example/?p=1>; rel=shortlink"#
            )
            .as_deref(),
            Some("https://site.example/wp-json/")
        );
        assert_eq!(api_root_from_link_header("<https://x/>; rel=next"), None);
        let html = r#"<head><link rel='https://api.w.org/' href='https://site.example/blog/wp-json/' />
            <link rel="alternate" type="application/rss+xml" title="Site &raquo; Comments Feed" href="/blog/comments/feed/">
            <link rel="alternate" type="application/rss+xml" title="Site &raquo; Feed" href="/blog/feed/"></head>"#;
        let base = u("https://site.example/blog/");
        assert_eq!(
            api_root_from_html(html, &base).as_deref(),
            Some("https://site.example/blog/wp-json/")
        );
        assert_eq!(
            feed_link_from_html(html, &base).as_deref(),
            Some("https://site.example/blog/feed/")
        );
    }

    #[test]
    fn endpoints_and_fallbacks() {
        assert_eq!(
            derive_api_root(&u("https://site.example/feed/")).as_str(),
            "https://site.example/wp-json/"
        );
        assert_eq!(
            posts_endpoint(&u("https://site.example/blog/wp-json/"), 20).as_str(),
            "https://site.example/blog/wp-json/wp/v2/posts?_embed&orderby=modified&per_page=20"
        );
        assert_eq!(
            posts_endpoint(&u("https://site.example/?rest_route=/"), 5).as_str(),
            "https://site.example/?rest_route=/wp/v2/posts&_embed&orderby=modified&per_page=5"
        );
        assert_eq!(
            fallback_feed_url(&u("https://site.example/feed/"), None).as_str(),
            "https://site.example/feed/"
        );
        assert_eq!(
            fallback_feed_url(
                &u("https://site.example/"),
                Some(&u("https://site.example/blog/wp-json/"))
            )
            .as_str(),
            "https://site.example/blog/feed/"
        );
    }

    #[test]
    fn only_main_feeds_switch() {
        let root = u("https://site.example/wp-json/");
        assert!(is_main_feed(&u("https://site.example/feed/"), &root));
        assert!(is_main_feed(&u("https://site.example/"), &root));
        assert!(is_main_feed(&u("https://site.example/?feed=rss2"), &root));
        assert!(!is_main_feed(
            &u("https://site.example/category/world/feed/"),
            &root
        ));
        assert!(!is_main_feed(
            &u("https://site.example/comments/feed/"),
            &root
        ));
        assert!(!is_main_feed(
            &u("https://site.example/?feed=rss2&cat=3"),
            &root
        ));
        assert!(!is_main_feed(&u("https://other.example/feed/"), &root));
        let sub = u("https://site.example/blog/wp-json/");
        assert!(is_main_feed(&u("https://site.example/blog/feed"), &sub));
    }

    #[test]
    fn error_object_is_not_a_feed() {
        let e = parse_posts(
            br#"{"code":"rest_disabled","message":"The REST API is disabled"}"#,
            &u("https://s.example/"),
        );
        assert_eq!(
            e,
            Err(SourceError::NotAFeed {
                got: "WordPress API error rest_disabled".into()
            })
        );
        assert!(matches!(
            parse_posts(b"<!DOCTYPE html><html></html>", &u("https://s.example/")),
            Err(SourceError::NotAFeed { .. })
        ));
    }
}
