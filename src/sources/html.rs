//! Small HTML helpers: plain text from a title, resolving relative URLs in
//! an HTML fragment without re-serializing it, finding the first image,
//! cutting hostile nesting before a document is parsed ([`limit_nesting`]).

use regex::{Captures, Regex};
use std::sync::OnceLock;
use url::Url;

fn url_attr_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r#"(?i)(\s(?:href|src|poster|data-src|data-lazy-src)\s*=\s*)(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))"#,
        )
        .expect("static regex")
    })
}

fn srcset_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r#"(?i)(\ssrcset\s*=\s*)(?:"([^"]*)"|'([^']*)')"#).expect("static regex")
    })
}

fn img_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r#"(?is)<img\b([^>]*)>"#).expect("static regex"))
}

fn attr_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r#"(?is)(?:^|\s)([a-z_:][-a-z0-9_:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))"#,
        )
        .expect("static regex")
    })
}

/// Resolves one URL reference against `base`; `None` when it is already
/// absolute (or a pure fragment) and needs no change.
pub(crate) fn resolve_ref(value: &str, base: &Url) -> Option<String> {
    let v = value.trim();
    if v.is_empty() || v.starts_with('#') {
        return None;
    }
    match Url::parse(v) {
        Ok(_) => None,
        Err(url::ParseError::RelativeUrlWithoutBase) => {
            // Attribute values may still hold `&amp;`: decode before joining.
            let decoded = v.replace("&amp;", "&");
            base.join(&decoded)
                .ok()
                .map(|u| u.to_string().replace('&', "&amp;"))
        }
        Err(_) => None,
    }
}

/// Makes an absolute URL of `value` against `base` (no HTML escaping).
pub(crate) fn absolutize(value: &str, base: Option<&Url>) -> Option<String> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    match Url::parse(v) {
        Ok(u) => Some(u.to_string()),
        Err(url::ParseError::RelativeUrlWithoutBase) => {
            base.and_then(|b| b.join(v).ok()).map(|u| u.to_string())
        }
        Err(_) => None,
    }
}

/// Rewrites relative `href`/`src`/`srcset`/`poster` attribute values of an
/// HTML fragment to absolute URLs against `base`, leaving the rest of the
/// markup byte for byte as it was.
pub fn resolve_relative_urls(html: &str, base: &Url) -> String {
    if !html.contains('=') {
        return html.to_owned();
    }
    let step = url_attr_re().replace_all(html, |c: &Captures| {
        let value = c
            .get(2)
            .or(c.get(3))
            .or(c.get(4))
            .map_or("", |m| m.as_str());
        match resolve_ref(value, base) {
            Some(abs) => format!("{}\"{}\"", &c[1], abs),
            None => c[0].to_owned(),
        }
    });
    srcset_re()
        .replace_all(&step, |c: &Captures| {
            let value = c.get(2).or(c.get(3)).map_or("", |m| m.as_str());
            let mut changed = false;
            let parts: Vec<String> = value
                .split(',')
                .map(|candidate| {
                    let candidate = candidate.trim();
                    let (url, descriptor) = candidate
                        .split_once(char::is_whitespace)
                        .unwrap_or((candidate, ""));
                    match resolve_ref(url, base) {
                        Some(abs) => {
                            changed = true;
                            if descriptor.is_empty() {
                                abs
                            } else {
                                format!("{abs} {}", descriptor.trim())
                            }
                        }
                        None => candidate.to_owned(),
                    }
                })
                .collect();
            if changed {
                format!("{}\"{}\"", &c[1], parts.join(", "))
            } else {
                c[0].to_owned()
            }
        })
        .into_owned()
}

/// Decodes the few entities an attribute value may carry.
fn decode_attr(value: &str) -> String {
    if value.contains('&') {
        decode_text(value)
    } else {
        value.to_owned()
    }
}

/// The `src` of every `<img>` in an HTML fragment, absolute against `base`,
/// in document order. Lazy-loading placeholders (`data:` URIs) give way to
/// `data-src`/`data-lazy-src`.
pub fn images_in_html(html: &str, base: Option<&Url>) -> Vec<String> {
    let mut out = Vec::new();
    if !html.contains("<img") && !html.contains("<IMG") {
        return out;
    }
    for img in img_re().captures_iter(html) {
        let attrs = &img[1];
        let mut src = None;
        let mut lazy = None;
        for a in attr_re().captures_iter(attrs) {
            let name = a[1].to_ascii_lowercase();
            let value = a
                .get(2)
                .or(a.get(3))
                .or(a.get(4))
                .map_or("", |m| m.as_str());
            match name.as_str() {
                "src" => src = Some(value.to_owned()),
                "data-src" | "data-lazy-src" => lazy = Some(value.to_owned()),
                _ => {}
            }
        }
        let chosen = match (src, lazy) {
            (Some(s), Some(l)) if s.starts_with("data:") || s.trim().is_empty() => Some(l),
            (Some(s), _) if !s.starts_with("data:") => Some(s),
            (_, Some(l)) => Some(l),
            _ => None,
        };
        if let Some(abs) = chosen.and_then(|c| absolutize(&decode_attr(&c), base)) {
            out.push(abs);
        }
    }
    out
}

/// Attributes (lowercased names, entity-decoded values) of every start
/// tag named `name` (e.g. `link`, `meta`) in `html`, in document order.
pub(crate) fn tags_with_attrs(html: &str, name: &str) -> Vec<Vec<(String, String)>> {
    static LINK: OnceLock<Option<Regex>> = OnceLock::new();
    static META: OnceLock<Option<Regex>> = OnceLock::new();
    let compiled;
    let re = match name {
        "link" => LINK
            .get_or_init(|| Regex::new(r"(?is)<link\b([^>]*)>").ok())
            .as_ref(),
        "meta" => META
            .get_or_init(|| Regex::new(r"(?is)<meta\b([^>]*)>").ok())
            .as_ref(),
        other => {
            compiled = Regex::new(&format!(r"(?is)<{other}\b([^>]*)>")).ok();
            compiled.as_ref()
        }
    };
    let Some(re) = re else {
        return Vec::new();
    };
    re.captures_iter(html)
        .map(|c| {
            attr_re()
                .captures_iter(&c[1])
                .map(|a| {
                    let value = a
                        .get(2)
                        .or(a.get(3))
                        .or(a.get(4))
                        .map_or("", |m| m.as_str());
                    (a[1].to_ascii_lowercase(), decode_attr(value))
                })
                .collect()
        })
        .collect()
}

/// The value of attribute `name` in a list from [`tags_with_attrs`].
pub(crate) fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// An HTML fragment cut where its element nesting exceeds
/// [`MAX_NESTING`]: hostile markup (thousands of nested
/// elements) would cost the formatter's HTML parser quadratic time.
pub fn bounded_html(html: &str) -> &str {
    limit_nesting(html, MAX_NESTING)
}

/// Titles, names and labels longer than this (bytes) are cut before
/// decoding: they are junk, and HTML parsing is not free.
pub const MAX_TEXT_LEN: usize = 8 * 1024;

/// Plain text of a title-like string: HTML entities decoded (also double
/// escaped ones such as `&amp;amp;`), tags dropped, whitespace collapsed;
/// at most [`MAX_TEXT_LEN`] bytes of input are read.
pub fn decode_text(s: &str) -> String {
    let mut end = s.len().min(MAX_TEXT_LEN);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    let s = &s[..end];
    let mut text = if s.contains('&') || s.contains('<') {
        let fragment = scraper::Html::parse_fragment(limit_nesting(s, 64));
        fragment.root_element().text().collect::<String>()
    } else {
        s.to_owned()
    };
    // One more round for double-escaped entities (`&amp;#8217;`).
    if text.contains('&') && text.contains(';') {
        let fragment = scraper::Html::parse_fragment(&text.replace('<', "&lt;"));
        text = fragment.root_element().text().collect::<String>();
    }
    collapse_ws(&text)
}

/// Canonical case of a BCP 47 tag: `en-us` → `en-US`, `zh_hant_tw` →
/// `zh-Hant-TW`. `None` for an empty or implausible tag.
pub fn normalize_language(tag: &str) -> Option<String> {
    let tag = tag.trim();
    if tag.is_empty() || tag.len() > 35 {
        return None;
    }
    let mut parts = Vec::new();
    for (i, part) in tag.split(['-', '_']).enumerate() {
        if part.is_empty() || !part.chars().all(|c| c.is_ascii_alphanumeric()) {
            return None;
        }
        let p = if i == 0 {
            part.to_ascii_lowercase()
        } else if part.len() == 2 && part.chars().all(|c| c.is_ascii_alphabetic()) {
            part.to_ascii_uppercase()
        } else if part.len() == 4 && part.chars().all(|c| c.is_ascii_alphabetic()) {
            let lower = part.to_ascii_lowercase();
            let mut chars = lower.chars();
            chars
                .next()
                .map(|f| f.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        } else {
            part.to_ascii_lowercase()
        };
        parts.push(p);
    }
    Some(parts.join("-"))
}

/// Collapses runs of whitespace into one space and trims.
pub(crate) fn collapse_ws(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Deepest element nesting parsed; the rest of a deeper page is dropped.
pub const MAX_NESTING: usize = 512;

/// The prefix of `html` whose (approximate) element nesting stays within
/// `max_depth`. The HTML parser checks scopes by walking the stack of open
/// elements, so a hostile page of thousands of nested `<div>`s costs
/// quadratic time (seconds for 200 KB); real pages nest a few dozen deep.
/// Void elements, self-closing tags and elements whose end tag is usually
/// implied (`p`, `li`, `td`, …) do not count.
pub fn limit_nesting(html: &str, max_depth: usize) -> &str {
    const NO_DEPTH: &[&str] = &[
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
        "source", "track", "wbr", "p", "li", "dt", "dd", "td", "th", "tr", "option", "!",
    ];
    let bytes = html.as_bytes();
    let mut depth: usize = 0;
    let mut i = 0;
    while let Some(off) = memchr_lt(&bytes[i..]) {
        let at = i + off;
        let rest = &bytes[at + 1..];
        i = at + 1;
        match rest.first() {
            Some(b'/') => depth = depth.saturating_sub(1),
            Some(c) if c.is_ascii_alphabetic() || *c == b'!' => {
                let name: String = rest
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric() || **c == b'!')
                    .take(16)
                    .map(|c| c.to_ascii_lowercase() as char)
                    .collect();
                let end = rest.iter().position(|c| *c == b'>').unwrap_or(rest.len());
                let self_closing = end > 0 && rest[end - 1] == b'/';
                if name == "script" || name == "style" {
                    // Skip raw text: find the matching end tag.
                    let close = format!("</{name}");
                    let lower_rest = &html[at..];
                    match find_ci(lower_rest, &close) {
                        Some(p) => i = at + p + close.len(),
                        None => return html,
                    }
                    continue;
                }
                if !self_closing && !NO_DEPTH.contains(&name.as_str()) && !name.starts_with('!') {
                    depth += 1;
                    if depth > max_depth {
                        return &html[..at];
                    }
                }
            }
            _ => {}
        }
    }
    html
}

fn memchr_lt(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|b| *b == b'<')
}

fn find_ci(haystack: &str, needle: &str) -> Option<usize> {
    let n = needle.len();
    haystack
        .as_bytes()
        .windows(n)
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://example.com/blog/feed/").expect("url")
    }

    #[test]
    fn resolves_relative_attributes_only() {
        let html = r##"<p><a href="/a?x=1&amp;y=2">a</a> <img src='img/b.png' srcset="s1.jpg 1x, https://cdn.example/s2.jpg 2x"> <a href="https://other.example/c">c</a> <a href="#top">t</a> <a href=d.html>d</a></p>"##;
        let out = resolve_relative_urls(html, &base());
        assert!(
            out.contains(r#"href="https://example.com/a?x=1&amp;y=2""#),
            "{out}"
        );
        assert!(
            out.contains(r#"src="https://example.com/blog/feed/img/b.png""#),
            "{out}"
        );
        assert!(
            out.contains(
                r#"srcset="https://example.com/blog/feed/s1.jpg 1x, https://cdn.example/s2.jpg 2x""#
            ),
            "{out}"
        );
        assert!(out.contains(r#"href="https://other.example/c""#));
        assert!(out.contains(r##"href="#top""##));
        assert!(
            out.contains(r#"href="https://example.com/blog/feed/d.html""#),
            "{out}"
        );
    }

    #[test]
    fn first_image_prefers_real_src() {
        let html =
            r#"<img src="data:image/gif;base64,R0l" data-lazy-src="/real.jpg"><IMG SRC="two.png">"#;
        assert_eq!(
            images_in_html(html, Some(&base())),
            vec![
                "https://example.com/real.jpg".to_string(),
                "https://example.com/blog/feed/two.png".to_string()
            ]
        );
    }

    #[test]
    fn hostile_titles_are_bounded() {
        let deep = format!("{}x{}", "<b>".repeat(50_000), "</b>".repeat(50_000));
        let start = std::time::Instant::now();
        let _ = decode_text(&deep);
        let long = "é".repeat(100_000);
        assert!(decode_text(&long).len() <= MAX_TEXT_LEN);
        assert!(
            start.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn languages() {
        assert_eq!(normalize_language("en-us").as_deref(), Some("en-US"));
        assert_eq!(normalize_language(" FR ").as_deref(), Some("fr"));
        assert_eq!(
            normalize_language("zh_hant_tw").as_deref(),
            Some("zh-Hant-TW")
        );
        assert_eq!(normalize_language("es-419").as_deref(), Some("es-419"));
        assert_eq!(normalize_language("en us"), None);
        assert_eq!(normalize_language(""), None);
    }

    #[test]
    fn decodes_titles() {
        assert_eq!(
            decode_text("Tom &amp; Jerry&#8217;s &eacute;t&eacute;"),
            "Tom & Jerry’s été"
        );
        assert_eq!(
            decode_text("Q&amp;amp;A &amp;#8220;x&amp;#8221;"),
            "Q&A “x”"
        );
        assert_eq!(decode_text("<b>Bold</b>   news\n"), "Bold news");
        assert_eq!(decode_text("a < b and c > d"), "a < b and c > d");
        assert_eq!(decode_text("AT&T"), "AT&T");
    }
}
