//! What Telegram shows for an HTML text: the plain text and its
//! `MessageEntity` list (offsets and lengths in UTF-16 code units). Only
//! used to build realistic answers and to compare edits ("message is not
//! modified" compares the result, not the markup); *rejecting* bad HTML is
//! the formatter's validator's job. Anything this reader cannot follow is
//! shown as plain text.

use serde_json::{Value, json};

struct Open {
    tag: String,
    entity: Option<Value>,
    start: usize,
}

fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

fn decode_entity(name: &str) -> Option<char> {
    match name {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "quot" => Some('"'),
        _ => {
            let num = name.strip_prefix('#')?;
            let code = if let Some(hex) = num.strip_prefix(['x', 'X']) {
                u32::from_str_radix(hex, 16).ok()?
            } else {
                num.parse::<u32>().ok()?
            };
            char::from_u32(code)
        }
    }
}

fn attr(attrs: &str, name: &str) -> Option<String> {
    // name="value" or name='value' or name=value
    let lower = attrs.to_ascii_lowercase();
    let mut search = 0;
    while let Some(i) = lower[search..].find(name) {
        let at = search + i;
        let rest = attrs[at + name.len()..].trim_start();
        if let Some(rest) = rest.strip_prefix('=') {
            let rest = rest.trim_start();
            let (q, body) = match rest.chars().next() {
                Some(c @ ('"' | '\'')) => (Some(c), &rest[1..]),
                _ => (None, rest),
            };
            let end = match q {
                Some(c) => body.find(c).unwrap_or(body.len()),
                None => body.find(char::is_whitespace).unwrap_or(body.len()),
            };
            return Some(unescape(&body[..end]));
        }
        search = at + name.len();
    }
    None
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        match after
            .find(';')
            .and_then(|j| Some((j, decode_entity(&after[..j])?)))
        {
            Some((j, c)) => {
                out.push(c);
                rest = &after[j + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity_for(tag: &str, attrs: &str) -> Option<Value> {
    let t = match tag {
        "b" | "strong" => "bold",
        "i" | "em" => "italic",
        "u" | "ins" => "underline",
        "s" | "strike" | "del" => "strikethrough",
        "tg-spoiler" => "spoiler",
        "span" => {
            return attr(attrs, "class")
                .filter(|c| c == "tg-spoiler")
                .map(|_| json!({"type": "spoiler"}));
        }
        "code" => "code",
        "pre" => "pre",
        "blockquote" => {
            let expandable = attrs.to_ascii_lowercase().contains("expandable");
            return Some(
                json!({"type": if expandable { "expandable_blockquote" } else { "blockquote" }}),
            );
        }
        "a" => {
            let href = attr(attrs, "href")?;
            return Some(json!({"type": "text_link", "url": href}));
        }
        "tg-emoji" => {
            let id = attr(attrs, "emoji-id")?;
            return Some(json!({"type": "custom_emoji", "custom_emoji_id": id}));
        }
        _ => return None,
    };
    Some(json!({"type": t}))
}

/// Plain text and entities of an HTML-formatted text; `None` when the
/// markup cannot be followed.
pub(crate) fn parse(html: &str) -> Option<(String, Vec<Value>)> {
    let mut text = String::new();
    let mut len16 = 0usize;
    let mut stack: Vec<Open> = Vec::new();
    let mut entities: Vec<(usize, Value)> = Vec::new();
    let mut rest = html;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('<') {
            let end = after.find('>')?;
            let inner = after[..end].trim();
            rest = &after[end + 1..];
            if let Some(name) = inner.strip_prefix('/') {
                let name = name.trim().to_ascii_lowercase();
                let open = stack.pop()?;
                if open.tag != name {
                    return None;
                }
                if let Some(mut e) = open.entity {
                    let length = len16 - open.start;
                    if length > 0 {
                        if let Value::Object(m) = &mut e {
                            m.insert("offset".into(), json!(open.start));
                            m.insert("length".into(), json!(length));
                        }
                        entities.push((open.start, e));
                    }
                }
                continue;
            }
            let (name, attrs) = match inner.find(char::is_whitespace) {
                Some(i) => (&inner[..i], &inner[i..]),
                None => (inner, ""),
            };
            let name = name.to_ascii_lowercase();
            let mut entity = entity_for(&name, attrs);
            if name == "code"
                && let Some(parent) = stack.last_mut()
                && parent.tag == "pre"
            {
                // <pre><code class="language-x">: the language goes on the pre.
                if let Some(lang) = attr(attrs, "class")
                    .and_then(|c| c.strip_prefix("language-").map(str::to_string))
                    && let Some(Value::Object(m)) = &mut parent.entity
                {
                    m.insert("language".into(), json!(lang));
                }
                entity = None;
            }
            stack.push(Open {
                tag: name,
                entity,
                start: len16,
            });
        } else if let Some(after) = rest.strip_prefix('&') {
            let end = after.find(';')?;
            let c = decode_entity(&after[..end])?;
            text.push(c);
            len16 += c.len_utf16();
            rest = &after[end + 1..];
        } else {
            let end = rest.find(['<', '&']).unwrap_or(rest.len());
            let chunk = &rest[..end];
            text.push_str(chunk);
            len16 += utf16_len(chunk);
            rest = &rest[end..];
        }
    }
    if !stack.is_empty() {
        return None;
    }
    // Telegram lists entities by offset, outer before inner.
    entities.sort_by_key(|(start, _)| *start);
    Some((text, entities.into_iter().map(|(_, e)| e).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bold_link_and_escapes() {
        let (t, e) =
            parse(r#"<b>Hi</b> &amp; <a href="https://x.y/?a=1&amp;b=2">link</a> 😀<i>x</i>"#)
                .unwrap_or_default();
        assert_eq!(t, "Hi & link 😀x");
        assert_eq!(e.len(), 3);
        assert_eq!(e[0], json!({"type":"bold","offset":0,"length":2}));
        assert_eq!(
            e[1],
            json!({"type":"text_link","url":"https://x.y/?a=1&b=2","offset":5,"length":4})
        );
        // The emoji counts 2 UTF-16 units.
        assert_eq!(e[2], json!({"type":"italic","offset":12,"length":1}));
    }

    #[test]
    fn pre_language_and_bad_nesting() {
        let (t, e) =
            parse(r#"<pre><code class="language-rust">fn</code></pre>"#).unwrap_or_default();
        assert_eq!(t, "fn");
        assert_eq!(
            e,
            vec![json!({"type":"pre","language":"rust","offset":0,"length":2})]
        );
        assert!(parse("<b><i>x</b></i>").is_none());
        assert!(parse("<b>x").is_none());
    }
}
