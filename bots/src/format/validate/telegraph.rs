//! Telegraph pages (`createPage` / `editPage`): the node grammar of
//! <https://telegra.ph/api#Node> — a node is a string or
//! `{"tag", "attrs"?, "children"?}` with one of the documented tags and
//! only `href`/`src` attributes — the content size (64 KB of JSON) and the
//! title's length (1–256 characters).
//!
//! Error texts: `TITLE_TOO_LONG` and `CONTENT_TOO_BIG` are the API's own;
//! `TITLE_REQUIRED` and `CONTENT_REQUIRED` follow the API's naming but
//! were not confirmed; Telegraph's texts for a malformed node were not
//! confirmed either, so those checks answer with
//! `CONTENT_FORMAT_INVALID: … (crier strict check)`.

use serde_json::Value;

/// The tags a Telegraph node may have.
pub const TELEGRAPH_TAGS: [&str; 24] = [
    "a",
    "aside",
    "b",
    "blockquote",
    "br",
    "code",
    "em",
    "figcaption",
    "figure",
    "h3",
    "h4",
    "hr",
    "i",
    "iframe",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "strong",
    "u",
    "ul",
    "video",
];

/// The content of one page, as JSON: at most this many bytes.
pub const TELEGRAPH_CONTENT_MAX: usize = 64 * 1024;
/// A page title: 1 to this many characters.
pub const TELEGRAPH_TITLE_MAX: usize = 256;
/// Nodes nested deeper than this are refused (a bound of Crier's own).
const DEPTH_MAX: usize = 64;

/// Check a page's title: `TITLE_REQUIRED` (empty) or `TITLE_TOO_LONG`.
pub fn telegraph_title(title: &str) -> Result<(), String> {
    let n = title.trim().chars().count();
    if n == 0 {
        return Err("TITLE_REQUIRED".into());
    }
    if title.chars().count() > TELEGRAPH_TITLE_MAX {
        return Err("TITLE_TOO_LONG".into());
    }
    Ok(())
}

/// Check a page's content: a non-empty JSON array of valid nodes, at most
/// [`TELEGRAPH_CONTENT_MAX`] bytes as JSON.
pub fn telegraph_content(content: &Value) -> Result<(), String> {
    let Some(nodes) = content.as_array() else {
        return Err(strict("the content is not an array of nodes"));
    };
    if nodes.is_empty() {
        return Err("CONTENT_REQUIRED".into());
    }
    let size = serde_json::to_string(content).map_or(usize::MAX, |s| s.len());
    if size > TELEGRAPH_CONTENT_MAX {
        return Err("CONTENT_TOO_BIG".into());
    }
    nodes.iter().try_for_each(|n| node(n, 0))
}

fn strict(what: &str) -> String {
    format!("CONTENT_FORMAT_INVALID: {what} (crier strict check)")
}

fn node(n: &Value, depth: usize) -> Result<(), String> {
    if depth > DEPTH_MAX {
        return Err(strict("nodes nested too deep"));
    }
    let obj = match n {
        Value::String(_) => return Ok(()),
        Value::Object(o) => o,
        _ => return Err(strict("a node is neither a string nor an element")),
    };
    for key in obj.keys() {
        if !matches!(key.as_str(), "tag" | "attrs" | "children") {
            return Err(strict(&format!("unknown node field {key:?}")));
        }
    }
    let Some(tag) = obj.get("tag").and_then(Value::as_str) else {
        return Err(strict("an element without a tag"));
    };
    if !TELEGRAPH_TAGS.contains(&tag) {
        return Err(strict(&format!("tag {tag:?} is not allowed")));
    }
    if let Some(attrs) = obj.get("attrs") {
        let Some(attrs) = attrs.as_object() else {
            return Err(strict("attrs is not an object"));
        };
        for (k, v) in attrs {
            if !matches!(k.as_str(), "href" | "src") {
                return Err(strict(&format!("attribute {k:?} is not allowed")));
            }
            if !v.is_string() {
                return Err(strict(&format!("attribute {k:?} is not a string")));
            }
        }
    }
    match obj.get("children") {
        None => Ok(()),
        Some(Value::Array(children)) => children.iter().try_for_each(|c| node(c, depth + 1)),
        Some(_) => Err(strict("children is not an array")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_node_grammar() {
        let good = json!([
            {"tag": "p", "children": ["a ", {"tag": "a", "attrs": {"href": "https://x.example/"}, "children": ["link"]}]},
            {"tag": "figure", "children": [{"tag": "img", "attrs": {"src": "https://x.example/a.jpg"}}]},
            {"tag": "hr"}
        ]);
        assert_eq!(telegraph_content(&good), Ok(()));
        for bad in [
            json!([]),
            json!({"tag": "p"}),
            json!([{"tag": "div"}]),
            json!([{"tag": "a", "attrs": {"class": "x"}}]),
            json!([{"tag": "p", "children": "text"}]),
            json!([{"children": []}]),
            json!([3]),
        ] {
            assert!(telegraph_content(&bad).is_err(), "{bad}");
        }
        let big = json!([{"tag": "p", "children": ["x".repeat(TELEGRAPH_CONTENT_MAX)]}]);
        assert_eq!(telegraph_content(&big), Err("CONTENT_TOO_BIG".into()));
        assert!(telegraph_title("").is_err());
        assert!(telegraph_title(&"é".repeat(256)).is_ok());
        assert_eq!(
            telegraph_title(&"é".repeat(257)),
            Err("TITLE_TOO_LONG".into())
        );
    }
}
