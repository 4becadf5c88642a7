//! The Bot API HTML parser, as TDLib parses it (`parse_html` in
//! `td/telegram/MessageEntity.cpp`): tags, attributes, character entities
//! and nesting, with TDLib's exact error texts, plus Crier's stricter checks.

use super::{Entity, ParsedHtml, TELEGRAM_MAX_ENTITIES};

const TG_TAGS: &[&str] = &[
    "a",
    "b",
    "strong",
    "i",
    "em",
    "s",
    "strike",
    "del",
    "u",
    "ins",
    "tg-spoiler",
    "tg-emoji",
    "span",
    "pre",
    "code",
    "blockquote",
];

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n' | 0 | 0x0B)
}

const STRICT: &str = "(crier strict check)";

/// Decode an HTML entity at `pos` like TDLib: `&lt; &gt; &amp; &quot;` and
/// numeric references; the `;` is optional. `Err` for a surrogate.
fn decode_entity(b: &[u8], pos: usize) -> Option<(u32, usize, bool)> {
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    let mut end = pos + 1;
    let mut res: u64 = 0;
    if at(pos + 1) == b'#' {
        end += 1;
        if at(pos + 2) == b'x' {
            end += 1;
            while at(end).is_ascii_hexdigit() {
                res = (res * 16 + (at(end) as char).to_digit(16).unwrap_or(0) as u64)
                    .min(u64::MAX / 32);
                end += 1;
            }
        } else {
            while at(end).is_ascii_digit() {
                res = (res * 10 + (at(end) - b'0') as u64).min(u64::MAX / 32);
                end += 1;
            }
        }
        if res == 0 || res >= 0x10ffff || end - pos >= 10 {
            return None;
        }
    } else {
        while at(end).is_ascii_alphabetic() {
            end += 1;
        }
        res = match &b[pos + 1..end] {
            b"lt" => '<' as u64,
            b"gt" => '>' as u64,
            b"amp" => '&' as u64,
            b"quot" => '"' as u64,
            _ => return None,
        };
    }
    let semi = at(end) == b';';
    Some((res as u32, if semi { end + 1 } else { end }, semi))
}

struct OpenTag {
    tag: String,
    arg: String,
    expandable: bool,
    offset: usize,
    start: usize,
    begin: usize,
}

/// Parse Telegram HTML like the Bot API does (plus the strict checks
/// described in the module documentation). The error is the text after
/// `Bad Request: can't parse entities: `.
pub fn parse_telegram_html(text: &str) -> Result<ParsedHtml, String> {
    let b = text.as_bytes();
    let n = b.len();
    let at = |i: usize| if i < n { b[i] } else { 0 };
    let mut out = ParsedHtml::default();
    let mut utf16 = 0usize;
    let mut nested: Vec<OpenTag> = Vec::new();
    let mut i = 0;
    while i < n {
        let c = b[i];
        if c == b'&' {
            match decode_entity(b, i) {
                Some((code, next, _)) => {
                    let Some(ch) = char::from_u32(code) else {
                        return Err("Text contains invalid Unicode characters after decoding HTML entities, check for unmatched surrogate code units".into());
                    };
                    out.text.push(ch);
                    utf16 += ch.len_utf16();
                    i = next;
                    continue;
                }
                None => {
                    let mut e = i + 1;
                    while at(e).is_ascii_alphanumeric() || at(e) == b'#' {
                        e += 1;
                    }
                    return Err(if at(e) == b';' && e > i + 1 {
                        format!(
                            "Unsupported HTML entity \"{}\" at byte offset {i}: only &lt; &gt; &amp; &quot; and numeric ones are decoded {STRICT}",
                            &text[i..=e]
                        )
                    } else {
                        format!("Unescaped \"&\" at byte offset {i}: write &amp; {STRICT}")
                    });
                }
            }
        }
        if c != b'<' {
            let Some(ch) = text[i..].chars().next() else {
                break;
            };
            out.text.push(ch);
            utf16 += ch.len_utf16();
            i += ch.len_utf8();
            continue;
        }
        let begin = i;
        i += 1;
        if at(i) != b'/' {
            while !is_space(at(i)) && at(i) != b'>' {
                i += 1;
            }
            if at(i) == 0 {
                return Err(format!("Unclosed start tag at byte offset {begin}"));
            }
            let tag = String::from_utf8_lossy(&b[begin + 1..i]).to_lowercase();
            if !TG_TAGS.contains(&tag.as_str()) {
                return Err(format!(
                    "Unsupported start tag \"{tag}\" at byte offset {begin}"
                ));
            }
            let mut arg = String::new();
            let mut expandable = false;
            let mut has_href = false;
            while at(i) != b'>' {
                while at(i) != 0 && is_space(at(i)) {
                    i += 1;
                }
                if at(i) == b'>' {
                    break;
                }
                let an = i;
                while !is_space(at(i)) && at(i) != b'=' && at(i) != b'>' {
                    i += 1;
                }
                let name = String::from_utf8_lossy(&b[an..i]).to_string();
                if name.is_empty() {
                    return Err(format!(
                        "Empty attribute name in the tag \"{tag}\" at byte offset {begin}"
                    ));
                }
                while at(i) != 0 && is_space(at(i)) {
                    i += 1;
                }
                if at(i) != b'=' {
                    // An attribute without a value.
                    if tag == "blockquote" && name == "expandable" {
                        expandable = true;
                    }
                    if at(i) == 0 {
                        return Err(format!(
                            "Unclosed start tag \"{tag}\" at byte offset {begin}"
                        ));
                    }
                    continue;
                }
                i += 1;
                while at(i) != 0 && is_space(at(i)) {
                    i += 1;
                }
                if at(i) == 0 {
                    return Err(format!(
                        "Unclosed start tag \"{tag}\" at byte offset {begin}"
                    ));
                }
                let mut value = String::new();
                if at(i) != b'\'' && at(i) != b'"' {
                    let tb = i;
                    while at(i).is_ascii_alphanumeric() || at(i) == b'.' || at(i) == b'-' {
                        i += 1;
                    }
                    value = String::from_utf8_lossy(&b[tb..i]).to_lowercase();
                    if !is_space(at(i)) && at(i) != b'>' {
                        return Err(format!("Unexpected end of name token at byte offset {tb}"));
                    }
                } else {
                    let q = at(i);
                    i += 1;
                    let vs = i;
                    let mut raw_end = i;
                    while at(i) != q && at(i) != 0 {
                        i += 1;
                        raw_end = i;
                    }
                    let raw = &text[vs..raw_end];
                    let rb = raw.as_bytes();
                    let mut k = 0;
                    while k < rb.len() {
                        if rb[k] == b'&'
                            && let Some((code, next, _)) = decode_entity(rb, k)
                            && let Some(ch) = char::from_u32(code)
                        {
                            value.push(ch);
                            k = next;
                            continue;
                        }
                        let Some(ch) = raw[k..].chars().next() else {
                            break;
                        };
                        value.push(ch);
                        k += ch.len_utf8();
                    }
                    if at(i) == q {
                        i += 1;
                    }
                }
                if at(i) == 0 {
                    return Err(format!("Unclosed start tag at byte offset {begin}"));
                }
                match (tag.as_str(), name.as_str()) {
                    ("a", "href") => {
                        arg = value;
                        has_href = true;
                    }
                    ("code", "class") => {
                        if let Some(l) = value.strip_prefix("language-") {
                            arg = l.to_string();
                        }
                    }
                    ("span", "class") => {
                        if let Some(l) = value.strip_prefix("tg-") {
                            arg = l.to_string();
                        }
                    }
                    ("tg-emoji", "emoji-id") => arg = value,
                    _ => {}
                }
            }
            if tag == "span" && arg != "spoiler" {
                return Err(format!(
                    "Tag \"span\" must have class \"tg-spoiler\" at byte offset {begin}"
                ));
            }
            // Strict checks.
            if let Some(code) = nested
                .iter()
                .rev()
                .find(|o| o.tag == "code" || o.tag == "pre")
            {
                let direct = nested.last().is_some_and(|l| l.tag == "pre");
                if !(tag == "code" && code.tag == "pre" && direct) {
                    return Err(format!(
                        "Tag \"{tag}\" can't be used inside \"{}\" at byte offset {begin}: Telegram drops formatting in code {STRICT}",
                        code.tag
                    ));
                }
            }
            if tag == "blockquote" && nested.iter().any(|o| o.tag == "blockquote") {
                return Err(format!(
                    "Blockquotes can't be nested at byte offset {begin} {STRICT}"
                ));
            }
            if tag == "a" {
                if nested.iter().any(|o| o.tag == "a") {
                    return Err(format!(
                        "Links can't be nested at byte offset {begin} {STRICT}"
                    ));
                }
                let ok = has_href
                    && url::Url::parse(&arg)
                        .is_ok_and(|u| matches!(u.scheme(), "http" | "https" | "tg" | "mailto"));
                if !ok {
                    return Err(format!(
                        "Tag \"a\" must have an absolute http(s), tg or mailto href at byte offset {begin} {STRICT}"
                    ));
                }
            }
            nested.push(OpenTag {
                tag,
                arg,
                expandable,
                offset: utf16,
                start: out.text.len(),
                begin,
            });
            i += 1;
        } else {
            if nested.is_empty() {
                return Err(format!("Unexpected end tag at byte offset {begin}"));
            }
            while !is_space(at(i)) && at(i) != b'>' {
                i += 1;
            }
            let end_name = String::from_utf8_lossy(&b[(begin + 2).min(i)..i]).to_lowercase();
            while is_space(at(i)) && at(i) != 0 {
                i += 1;
            }
            if at(i) != b'>' {
                return Err(format!("Unclosed end tag at byte offset {begin}"));
            }
            let Some(open) = nested.pop() else {
                return Err(format!("Unexpected end tag at byte offset {begin}"));
            };
            if !end_name.is_empty() && end_name != open.tag {
                return Err(format!(
                    "Unmatched end tag at byte offset {begin}, expected \"</{}>\", found \"</{end_name}>\"",
                    open.tag
                ));
            }
            if open.tag == "tg-emoji" && open.arg.parse::<i64>().map(|v| v <= 0).unwrap_or(true) {
                return Err("Invalid custom emoji identifier specified".into());
            }
            if utf16 > open.offset {
                let kind = match open.tag.as_str() {
                    "b" | "strong" => "bold",
                    "i" | "em" => "italic",
                    "u" | "ins" => "underline",
                    "s" | "strike" | "del" => "strikethrough",
                    "tg-spoiler" | "span" => "spoiler",
                    "tg-emoji" => "custom_emoji",
                    "a" => "text_link",
                    "pre" => "pre",
                    "code" => "code",
                    "blockquote" if open.expandable => "expandable_blockquote",
                    _ => "blockquote",
                };
                out.entities.push(Entity {
                    kind,
                    offset: open.offset,
                    length: utf16 - open.offset,
                    url: (kind == "text_link").then(|| open.arg.clone()),
                    language: (kind == "code" && !open.arg.is_empty()).then(|| open.arg.clone()),
                    start: open.start,
                    end: out.text.len(),
                });
            }
            let _ = open.begin;
            i += 1;
        }
    }
    if let Some(open) = nested.last() {
        return Err(format!(
            "Can't find end tag corresponding to start tag \"{}\"",
            open.tag
        ));
    }
    if out.entities.len() > TELEGRAM_MAX_ENTITIES {
        return Err(format!(
            "{} formatting entities: Telegram ignores all after the first {TELEGRAM_MAX_ENTITIES} {STRICT}",
            out.entities.len()
        ));
    }
    Ok(out)
}
