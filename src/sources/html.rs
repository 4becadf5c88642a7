//! Small HTML helpers: plain text from a title, resolving relative URLs in
//! an HTML fragment without re-serializing it, finding the first image,
//! cutting hostile nesting before a document is parsed ([`limit_nesting`]).

use regex::Regex;
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
    // With a scheme the parse either succeeds or fails for another reason
    // than a missing base: nothing to resolve either way.
    if v.starts_with("https://") || v.starts_with("http://") {
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
    let step = if html.contains('\u{17f}') {
        // `ſ` matches `s` case-insensitively: only the regex knows.
        replace_attr_values(html, url_attr_re(), |value| resolve_ref(value, base))
    } else {
        replace_url_attrs(html, |value| resolve_ref(value, base))
    };
    replace_attr_values(&step, srcset_re(), |value| resolve_srcset(value, base)).into_owned()
}

/// A `srcset` value with its relative candidates resolved against
/// `base`; `None` when nothing changed.
fn resolve_srcset(value: &str, base: &Url) -> Option<String> {
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
    changed.then(|| parts.join(", "))
}

/// What [`replace_attr_values`] does with [`url_attr_re`], without the
/// regex (which scans every byte): each `=` is looked at, and a match is
/// one of the attribute names, preceded by whitespace, before it. The same
/// matches, left to right, for text without `ſ` (U+017F, which the
/// regex's case folding equates with `s`).
fn replace_url_attrs<'a>(
    html: &'a str,
    mut new_value: impl FnMut(&str) -> Option<String>,
) -> std::borrow::Cow<'a, str> {
    const NAMES: [&[u8]; 5] = [b"href", b"src", b"poster", b"data-src", b"data-lazy-src"];
    let mut out = String::new();
    let mut last = 0;
    let mut from = 0;
    // Where the previous match ended: matches do not overlap.
    let mut resume = 0;
    while let Some(off) = html[from..].find('=') {
        let eq = from + off;
        from = eq + 1;
        let before = html[..eq].trim_end();
        let b = before.as_bytes();
        let Some(start) = NAMES.iter().find_map(|name| {
            let at = b.len().checked_sub(name.len())?;
            if !b[at..].eq_ignore_ascii_case(name) {
                return None;
            }
            // Names are ASCII: `at` is a char boundary.
            let ws = before[..at].chars().next_back()?;
            let start = at - ws.len_utf8();
            (ws.is_whitespace() && start >= resume).then_some(start)
        }) else {
            continue;
        };
        let after = &html[eq + 1..];
        let value_at = eq + 1 + (after.len() - after.trim_start().len());
        let rest = &html[value_at..];
        let (value, end) = match rest.chars().next() {
            Some(q @ ('"' | '\'')) => match rest[1..].find(q) {
                Some(close) => (&rest[1..1 + close], value_at + close + 2),
                None => continue,
            },
            Some(_) => {
                let len = rest
                    .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '>'))
                    .unwrap_or(rest.len());
                if len == 0 {
                    continue;
                }
                (&rest[..len], value_at + len)
            }
            None => continue,
        };
        from = end;
        resume = end;
        if let Some(v) = new_value(value) {
            out.push_str(&html[last..start]);
            out.push_str(&html[start..value_at]);
            out.push('"');
            out.push_str(&v);
            out.push('"');
            last = end;
        }
    }
    if last == 0 {
        return std::borrow::Cow::Borrowed(html);
    }
    out.push_str(&html[last..]);
    std::borrow::Cow::Owned(out)
}

/// Rewrites the attribute values matched by `re` (`name = value`, the
/// value quoted or not) to `"new"` where `new_value` gives one, leaving
/// the rest of `html` as it was. Reads each match's text itself instead of
/// asking the regex for capture groups, which costs several times more.
fn replace_attr_values<'a>(
    html: &'a str,
    re: &Regex,
    mut new_value: impl FnMut(&str) -> Option<String>,
) -> std::borrow::Cow<'a, str> {
    let mut out = String::new();
    let mut last = 0;
    for m in re.find_iter(html) {
        let text = m.as_str();
        let Some(eq) = text.find('=') else {
            continue;
        };
        let after = &text[eq + 1..];
        let prefix_len = eq + 1 + (after.len() - after.trim_start().len());
        let raw = &text[prefix_len..];
        let value = match raw.as_bytes().first() {
            Some(q @ (b'"' | b'\'')) if raw.len() >= 2 && raw.as_bytes()[raw.len() - 1] == *q => {
                &raw[1..raw.len() - 1]
            }
            _ => raw,
        };
        if let Some(v) = new_value(value) {
            out.push_str(&html[last..m.start()]);
            out.push_str(&text[..prefix_len]);
            out.push('"');
            out.push_str(&v);
            out.push('"');
            last = m.end();
        }
    }
    if last == 0 {
        return std::borrow::Cow::Borrowed(html);
    }
    out.push_str(&html[last..]);
    std::borrow::Cow::Owned(out)
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
    image_srcs(html, base).collect()
}

/// The first of [`images_in_html`], without reading the other `<img>`s.
pub fn first_image_in_html(html: &str, base: Option<&Url>) -> Option<String> {
    image_srcs(html, base).next()
}

fn image_srcs<'a>(html: &'a str, base: Option<&'a Url>) -> impl Iterator<Item = String> + 'a {
    let any = html.contains("<img") || html.contains("<IMG");
    img_re()
        .captures_iter(if any { html } else { "" })
        .filter_map(move |img| {
            let attrs = img.get(1).map_or("", |m| m.as_str());
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
                    "src" => src = Some(value),
                    "data-src" | "data-lazy-src" => lazy = Some(value),
                    _ => {}
                }
            }
            let chosen = match (src, lazy) {
                (Some(s), Some(l)) if s.starts_with("data:") || s.trim().is_empty() => Some(l),
                (Some(s), _) if !s.starts_with("data:") => Some(s),
                (_, Some(l)) => Some(l),
                _ => None,
            };
            chosen.and_then(|c| absolutize(&decode_attr(c), base))
        })
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
    let mut text = if s.contains('<') {
        let fragment = scraper::Html::parse_fragment(limit_nesting(s, 64));
        fragment.root_element().text().collect::<String>()
    } else if s.contains('&') {
        match decode_refs(s) {
            Some(t) => t,
            None => {
                let fragment = scraper::Html::parse_fragment(s);
                fragment.root_element().text().collect::<String>()
            }
        }
    } else {
        s.to_owned()
    };
    // One more round for double-escaped entities (`&amp;#8217;`).
    if text.contains('&') && text.contains(';') {
        text = match decode_refs(&text) {
            Some(t) => t,
            None => {
                let fragment = scraper::Html::parse_fragment(&text.replace('<', "&lt;"));
                fragment.root_element().text().collect::<String>()
            }
        };
    }
    collapse_ws(&text)
}

/// What the HTML parser makes of `s` as text (`<` taken literally): its
/// character references decoded and NULs dropped, for the common
/// references only (numeric ones of ordinary characters, a few named
/// ones); `None` when `s` holds another one, for the parser to decode. No
/// HTML tree is built: titles and names are mostly plain text.
fn decode_refs(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(['&', '\0']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(after_nul) = tail.strip_prefix('\0') {
            rest = after_nul;
            continue;
        }
        let after = &tail[1..];
        match after.as_bytes().first() {
            Some(b'#') => {
                let num = &after[1..];
                let (digits, radix, skip) = match num.strip_prefix(['x', 'X']) {
                    Some(hex) => (hex, 16, 2),
                    None => (num, 10, 1),
                };
                let n = digits
                    .bytes()
                    .take_while(|b| {
                        if radix == 16 {
                            b.is_ascii_hexdigit()
                        } else {
                            b.is_ascii_digit()
                        }
                    })
                    .count();
                if n == 0 || n > 8 || digits.as_bytes().get(n) != Some(&b';') {
                    return None;
                }
                let v = u32::from_str_radix(&digits[..n], radix).ok()?;
                let plain = matches!(v, 0x09 | 0x0A | 0x20..=0x7E | 0xA0..=0xD7FF | 0xE000..=0xFDCF | 0xFDF0..=0x10_FFFF)
                    && (v & 0xFFFE) != 0xFFFE;
                if !plain {
                    return None;
                }
                out.push(char::from_u32(v)?);
                rest = &after[skip + n + 1..];
            }
            Some(b) if b.is_ascii_alphanumeric() => {
                let n = after.bytes().take_while(u8::is_ascii_alphanumeric).count();
                if after.as_bytes().get(n) != Some(&b';') {
                    return None;
                }
                out.push_str(named_ref(&after[..n])?);
                rest = &after[n + 1..];
            }
            // `&` before anything else is a plain ampersand.
            _ => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Some(out)
}

/// The common named character references (with their `;`).
fn named_ref(name: &str) -> Option<&'static str> {
    Some(match name {
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "quot" => "\"",
        "apos" => "'",
        "nbsp" => "\u{a0}",
        "hellip" => "\u{2026}",
        "mdash" => "\u{2014}",
        "ndash" => "\u{2013}",
        "lsquo" => "\u{2018}",
        "rsquo" => "\u{2019}",
        "ldquo" => "\u{201c}",
        "rdquo" => "\u{201d}",
        "laquo" => "\u{ab}",
        "raquo" => "\u{bb}",
        "copy" => "\u{a9}",
        "reg" => "\u{ae}",
        "trade" => "\u{2122}",
        "euro" => "\u{20ac}",
        "bull" => "\u{2022}",
        "middot" => "\u{b7}",
        "eacute" => "\u{e9}",
        _ => return None,
    })
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
                // The name, lowercased, at most 16 bytes (no allocation).
                let mut buf = [0u8; 16];
                let mut len = 0;
                for c in rest
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric() || **c == b'!')
                    .take(16)
                {
                    buf[len] = c.to_ascii_lowercase();
                    len += 1;
                }
                let name = std::str::from_utf8(&buf[..len]).unwrap_or("");
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
                if !self_closing && !NO_DEPTH.contains(&name) && !name.starts_with('!') {
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

    /// `decode_text` as it was, the HTML parser on every string with `&`.
    fn decode_text_reference(s: &str) -> String {
        let s = &s[..floor(s, MAX_TEXT_LEN)];
        let mut text = if s.contains('&') || s.contains('<') {
            let fragment = scraper::Html::parse_fragment(limit_nesting(s, 64));
            fragment.root_element().text().collect::<String>()
        } else {
            s.to_owned()
        };
        if text.contains('&') && text.contains(';') {
            let fragment = scraper::Html::parse_fragment(&text.replace('<', "&lt;"));
            text = fragment.root_element().text().collect::<String>();
        }
        collapse_ws(&text)
    }

    fn floor(s: &str, max: usize) -> usize {
        let mut end = s.len().min(max);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        end
    }

    #[test]
    fn reference_decoding_without_the_html_parser_agrees() {
        const PIECES: &[&str] = &[
            "a",
            " ",
            "&",
            "&amp;",
            "&amp;amp;",
            "&#8217;",
            "&#x2019;",
            "&#X41;",
            "&#0;",
            "&#128;",
            "&#150;",
            "&#xD800;",
            "&#1114112;",
            "&nbsp;",
            "&copy",
            "&copy;",
            "&notin;",
            "&not",
            "AT&T",
            "&#;",
            "&#x;",
            "\0",
            "é",
            "&eacute;",
            "&Eacute;",
            "&lt;b&gt;",
            ";",
            "#",
            "&;",
            "&&",
            "\u{a0}",
            "\r\n",
            "&#65",
            "&#12345678901;",
            "&#x10FFFF;",
            "&#xFFFE;",
            "&#9;",
            "&#10;",
            "&#13;",
            "&hellip;",
            "&hellip",
            "&quot;",
            "&apos;",
            "&lt;",
            "&gt;",
            "&amp;#8217;",
            "&amp;lt;",
            "x",
            "&#x1F680;",
            "&#32;",
            "&#31;",
            "&#127;",
            "&#160;",
            "&ndash;",
            "&rsquo;",
            "&trade;",
            "&AMP;",
            "&amp",
            "&#38;",
            "&#x26;",
            "&#60;",
            "&#x3c;b&#x3e;",
            "Q&amp;A",
            "&a1;",
        ];
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        for _ in 0..20_000 {
            let len = 1 + next(8);
            let s: String = (0..len).map(|_| PIECES[next(PIECES.len())]).collect();
            assert_eq!(decode_text(&s), decode_text_reference(&s), "{s:?}");
        }
        for s in PIECES {
            assert_eq!(decode_text(s), decode_text_reference(s), "{s:?}");
        }
    }

    /// `resolve_relative_urls` as it was, with capture groups.
    fn resolve_reference(html: &str, base: &Url) -> String {
        use regex::Captures;
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
                if let Some(resolved) = resolve_srcset(value, base) {
                    format!("{}\"{}\"", &c[1], resolved)
                } else {
                    c[0].to_owned()
                }
            })
            .into_owned()
    }

    #[test]
    fn resolving_without_capture_groups_agrees() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut docs = vec![
            r#"<a HREF = 'x y'>a</a><img src=z.png srcset='a.png 1x, b.png 2x'><a href="">e</a>"#
                .to_string(),
            "<a href=\"/a\"><a href = \t\"b\"><img\nsrc=c data-src='d' poster=\"https://x/\">"
                .to_string(),
        ];
        for dir in ["snapshots", "feeds", "corpus"] {
            for entry in std::fs::read_dir(root.join(dir)).expect("dir").flatten() {
                if let Ok(text) = std::fs::read_to_string(entry.path()) {
                    docs.push(text);
                }
            }
        }
        for doc in &docs {
            assert_eq!(
                resolve_relative_urls(doc, &base()),
                resolve_reference(doc, &base()),
                "{}",
                &doc[..floor(doc, 200)]
            );
        }
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
