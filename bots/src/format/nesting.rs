//! A nesting cap applied to article HTML before it is parsed.
//!
//! html5ever checks element scopes by walking its stack of open elements,
//! so thousands of nested elements cost quadratic time (20,000 nested
//! `<div>`s: seconds in a release build, minutes in a debug one — found by
//! the `format` fuzz target). Real articles nest a few dozen deep. Tags
//! deeper than the cap are dropped; their text is kept.

use std::borrow::Cow;

/// Elements deeper than this lose their tags (the sanitiser keeps structure
/// only to depth 200 anyway).
pub(crate) const MAX_TAG_DEPTH: usize = 256;

/// Elements that never hold content or whose end tag is usually left out:
/// they do not count towards the depth.
const FLAT: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr", "p", "li", "dt", "dd", "td", "th", "tr", "option",
];

/// `html` with the tags nested deeper than `max` removed (an approximate
/// depth: start tags count, end tags uncount, whatever they name).
/// Borrowed when nothing is that deep.
pub(crate) fn cap_nesting(html: &str, max: usize) -> Cow<'_, str> {
    let b = html.as_bytes();
    let mut out: Option<String> = None;
    let mut depth = 0usize;
    let mut copied = 0usize; // bytes of `html` already copied into `out`
    let mut i = 0usize;
    while let Some(off) = b[i..].iter().position(|c| *c == b'<') {
        let at = i + off;
        // Every tag ends at the next '>' (ASCII: a char boundary).
        let end = b[at..]
            .iter()
            .position(|c| *c == b'>')
            .map_or(b.len(), |e| at + e + 1);
        i = at + 1;
        let (closing, name_at) = match b.get(at + 1) {
            Some(b'/') => (true, at + 2),
            Some(c) if c.is_ascii_alphabetic() => (false, at + 1),
            _ => continue,
        };
        let name: String = b[name_at..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'-')
            .take(16)
            .map(|c| c.to_ascii_lowercase() as char)
            .collect();
        if !closing && (name == "script" || name == "style" || name == "textarea") {
            // Raw text: skip to its end tag.
            let close = format!("</{name}");
            match find_ascii_ci(&b[end.min(b.len())..], close.as_bytes()) {
                Some(p) => i = end + p + close.len(),
                None => break,
            }
            continue;
        }
        if FLAT.contains(&name.as_str()) || (!closing && b[at..end].ends_with(b"/>")) {
            continue;
        }
        let deep = if closing {
            let deep = depth > max;
            depth = depth.saturating_sub(1);
            deep
        } else {
            depth += 1;
            depth > max
        };
        if deep {
            let o = out.get_or_insert_with(|| String::with_capacity(html.len()));
            o.push_str(&html[copied..at]);
            copied = end;
            i = end;
        }
    }
    match out {
        None => Cow::Borrowed(html),
        Some(mut o) => {
            o.push_str(&html[copied..]);
            Cow::Owned(o)
        }
    }
}

fn find_ascii_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shallow_html_is_untouched() {
        let html = "<div><p>a<b>’</b><br><img src=x/></p></div><script>if (a<b) {}</script>";
        assert!(matches!(cap_nesting(html, 3), Cow::Borrowed(_)));
    }

    #[test]
    fn deep_tags_are_dropped_and_their_text_kept() {
        let html = "<div><div><div><i>é😀</i></div></div></div>tail";
        assert_eq!(cap_nesting(html, 2), "<div><div>é😀</div></div>tail");
    }

    #[test]
    fn twenty_thousand_nested_divs_become_shallow() {
        let html = format!("{}text{}", "<div>".repeat(20_000), "</div>".repeat(20_000));
        let capped = cap_nesting(&html, MAX_TAG_DEPTH);
        assert_eq!(capped.matches("<div>").count(), MAX_TAG_DEPTH);
        assert_eq!(capped.matches("</div>").count(), MAX_TAG_DEPTH);
        assert!(capped.contains("text"));
    }

    #[test]
    fn unterminated_tags_and_raw_text_do_not_panic() {
        for html in [
            "<",
            "<div",
            "</",
            "<script>never closed <div>",
            "<a<b<c",
            "<é<😀>",
        ] {
            let _ = cap_nesting(html, 0);
        }
        assert_eq!(cap_nesting("<b>x</b>", 0), "x");
    }
}
