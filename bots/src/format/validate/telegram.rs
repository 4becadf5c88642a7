//! The Telegram validator: the Bot API HTML parser (as TDLib parses it),
//! text and caption limits, and a call's parameters.

use std::fmt;

use serde_json::{Value, json};

/// A Telegram rejection: `description` is the exact text Telegram answers,
/// e.g. `Bad Request: message is too long`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelegramViolation {
    /// The `description` of Telegram's error body.
    pub description: String,
}

impl fmt::Display for TelegramViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.description)
    }
}

impl std::error::Error for TelegramViolation {}

impl TelegramViolation {
    fn new(d: impl Into<String>) -> Self {
        TelegramViolation {
            description: d.into(),
        }
    }

    /// The Bot API error body (`{"ok":false,"error_code":400,"description":…}`).
    pub fn body(&self) -> Value {
        json!({"ok": false, "error_code": 400, "description": self.description})
    }
}

/// Text limit of a message.
pub const TELEGRAM_TEXT_LIMIT: usize = 4096;
/// Limit of a caption.
pub const TELEGRAM_CAPTION_LIMIT: usize = 1024;

/// Telegram applies at most this many formatting entities per message and
/// silently ignores the rest (the strict validator rejects more).
pub const TELEGRAM_MAX_ENTITIES: usize = 100;

/// Approximate limit of the entities' total size (16 bytes each plus URLs):
/// beyond it Telegram answers `Bad Request: ENTITIES_TOO_LONG`
/// (tdlib/telegram-bot-api#165; the exact figure is not documented).
pub const TELEGRAM_ENTITY_BYTES: usize = 9500;

/// A formatting entity found by [`parse_telegram_html`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entity {
    /// Bot API entity type: `bold`, `italic`, `underline`, `strikethrough`,
    /// `spoiler`, `code`, `pre`, `text_link`, `blockquote`,
    /// `expandable_blockquote`, `custom_emoji`.
    pub kind: &'static str,
    /// Offset in UTF-16 units.
    pub offset: usize,
    /// Length in UTF-16 units.
    pub length: usize,
    /// `text_link` URL.
    pub url: Option<String>,
    /// `pre` language.
    pub language: Option<String>,
    /// Start of the entity's text, as a byte offset in [`ParsedHtml::text`].
    pub start: usize,
    /// End (exclusive) of the entity's text, as a byte offset.
    pub end: usize,
}

/// The result of parsing Telegram HTML.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParsedHtml {
    /// The text after entity parsing.
    pub text: String,
    /// Entities, in closing order.
    pub entities: Vec<Entity>,
}

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

/// Check a `text` or `caption` as Telegram would. `parse_mode` is `None`,
/// `Some("HTML")`… (`MarkdownV2`/`Markdown` are only length-checked, on the
/// raw text); `limit` is 4096 for texts, 1024 for captions. A text (limit
/// above 1024) must not be empty after parsing. Returns the length in
/// UTF-16 code units after entity parsing.
pub fn telegram_text(
    text: &str,
    parse_mode: Option<&str>,
    limit: usize,
) -> Result<usize, TelegramViolation> {
    let visible = match parse_mode {
        None | Some("") => std::borrow::Cow::Borrowed(text),
        Some(p) if p.eq_ignore_ascii_case("html") => match parse_telegram_html(text) {
            Ok(p) => {
                let bytes: usize = p
                    .entities
                    .iter()
                    .map(|e| 16 + e.url.as_ref().map_or(0, String::len))
                    .sum();
                if bytes > TELEGRAM_ENTITY_BYTES {
                    return Err(TelegramViolation::new("Bad Request: ENTITIES_TOO_LONG"));
                }
                std::borrow::Cow::Owned(p.text)
            }
            Err(e) => {
                return Err(TelegramViolation::new(format!(
                    "Bad Request: can't parse entities: {e}"
                )));
            }
        },
        Some(p) if p.eq_ignore_ascii_case("markdownv2") || p.eq_ignore_ascii_case("markdown") => {
            std::borrow::Cow::Borrowed(text)
        }
        Some(_) => {
            return Err(TelegramViolation::new(
                "Bad Request: unsupported parse_mode",
            ));
        }
    };
    if limit > TELEGRAM_CAPTION_LIMIT && visible.trim().is_empty() {
        return Err(TelegramViolation::new("Bad Request: message text is empty"));
    }
    let len = crate::format::text::utf16_len(&visible);
    if len > limit {
        return Err(TelegramViolation::new(if limit <= TELEGRAM_CAPTION_LIMIT {
            "Bad Request: message caption is too long"
        } else {
            "Bad Request: message is too long"
        }));
    }
    Ok(len)
}

fn tg_url_ok(u: &str) -> bool {
    url::Url::parse(u).is_ok_and(|u| matches!(u.scheme(), "http" | "https" | "tg"))
}

/// Check the parameters of a Bot API call (`sendMessage`,
/// `editMessageText`, `sendPhoto`, `sendAudio`, `editMessageCaption`; method names are
/// case-insensitive, as Telegram's are): text vs caption and their limits,
/// `parse_mode`, `link_preview_options`, the inline keyboard's URL
/// buttons. Other methods pass.
pub fn telegram_message(method: &str, params: &Value) -> Result<(), TelegramViolation> {
    let m = method.to_ascii_lowercase();
    let get_str = |k: &str| params.get(k).and_then(Value::as_str);
    let pm = match params.get("parse_mode") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => {
            return Err(TelegramViolation::new(
                "Bad Request: unsupported parse_mode",
            ));
        }
    };
    match m.as_str() {
        "sendmessage" | "editmessagetext" => {
            let Some(text) = get_str("text") else {
                return Err(TelegramViolation::new("Bad Request: message text is empty"));
            };
            telegram_text(text, pm, TELEGRAM_TEXT_LIMIT)?;
        }
        "sendphoto" | "sendaudio" | "editmessagecaption" => {
            for (method, file) in [("sendphoto", "photo"), ("sendaudio", "audio")] {
                if m == method && get_str(file).is_none_or(|p| p.trim().is_empty()) {
                    return Err(TelegramViolation::new(format!(
                        "Bad Request: there is no {file} in the request"
                    )));
                }
            }
            if let Some(c) = get_str("caption") {
                telegram_text(c, pm, TELEGRAM_CAPTION_LIMIT)?;
            }
        }
        _ => return Ok(()),
    }
    if let Some(lp) = params.get("link_preview_options") {
        let ok = lp.is_null()
            || lp.as_object().is_some_and(|o| {
                o.get("url").is_none_or(|u| u.as_str().is_some())
                    && [
                        "is_disabled",
                        "prefer_small_media",
                        "prefer_large_media",
                        "show_above_text",
                    ]
                    .iter()
                    .all(|k| o.get(*k).is_none_or(Value::is_boolean))
            });
        if !ok {
            return Err(TelegramViolation::new(
                "Bad Request: can't parse link preview options JSON object",
            ));
        }
    }
    if let Some(rm) = params.get("reply_markup").filter(|v| !v.is_null()) {
        let Some(rows) = rm.get("inline_keyboard").and_then(Value::as_array) else {
            return Err(TelegramViolation::new(
                "Bad Request: can't parse reply keyboard markup JSON object",
            ));
        };
        for row in rows {
            let Some(buttons) = row.as_array() else {
                return Err(TelegramViolation::new(
                    "Bad Request: can't parse reply keyboard markup JSON object",
                ));
            };
            for bt in buttons {
                if bt
                    .get("text")
                    .and_then(Value::as_str)
                    .is_none_or(|t| t.is_empty())
                {
                    return Err(TelegramViolation::new(
                        "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
                    ));
                }
                match bt.get("url").and_then(Value::as_str) {
                    Some(u) if tg_url_ok(u) => {}
                    Some(_) => {
                        return Err(TelegramViolation::new("Bad Request: BUTTON_URL_INVALID"));
                    }
                    None if bt.get("callback_data").is_some() => {}
                    None => {
                        return Err(TelegramViolation::new(
                            "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
                        ));
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(html: &str) -> String {
        match parse_telegram_html(html) {
            Err(e) => e,
            Ok(p) => panic!("accepted {html:?}: {p:?}"),
        }
    }

    #[test]
    fn tdlib_error_texts() {
        assert_eq!(
            err("🏟 🏟&lt;<abacaba"),
            "Unclosed start tag at byte offset 13"
        );
        assert_eq!(
            err("🏟 🏟&lt;<abac aba>"),
            "Unsupported start tag \"abac\" at byte offset 13"
        );
        assert_eq!(
            err("🏟 🏟&lt;<abac>"),
            "Unsupported start tag \"abac\" at byte offset 13"
        );
        assert_eq!(
            err("🏟 🏟&lt;<i   =aba>"),
            "Empty attribute name in the tag \"i\" at byte offset 13"
        );
        assert_eq!(
            err("🏟 🏟&lt;<i    aba>"),
            "Can't find end tag corresponding to start tag \"i\""
        );
        assert_eq!(
            err("🏟 🏟&lt;<i    aba  =  "),
            "Unclosed start tag \"i\" at byte offset 13"
        );
        assert_eq!(
            err("🏟 🏟&lt;<i    aba  =  190azAz-.,"),
            "Unexpected end of name token at byte offset 27"
        );
        assert_eq!(
            err("🏟 🏟&lt;<i    aba  =  \"&lt;&gt;&quot;>"),
            "Unclosed start tag at byte offset 13"
        );
        assert_eq!(err("🏟 🏟&lt;</"), "Unexpected end tag at byte offset 13");
        assert_eq!(
            err("🏟 🏟&lt;<b></b></"),
            "Unexpected end tag at byte offset 20"
        );
        assert_eq!(
            err("🏟 🏟&lt;<i>a</i   "),
            "Unclosed end tag at byte offset 17"
        );
        assert_eq!(
            err("🏟 🏟&lt;<i>a</em   >"),
            "Unmatched end tag at byte offset 17, expected \"</i>\", found \"</em>\""
        );
        assert_eq!(
            err("<div>x</div>"),
            "Unsupported start tag \"div\" at byte offset 0"
        );
        assert_eq!(
            err("<span>x</span>"),
            "Tag \"span\" must have class \"tg-spoiler\" at byte offset 0"
        );
        assert_eq!(
            err("<tg-emoji emoji-id=\"x\">y</tg-emoji>"),
            "Invalid custom emoji identifier specified"
        );
        assert!(err("&#xDFDF;").starts_with("Text contains invalid Unicode characters"));
    }

    #[test]
    fn tdlib_accepted_forms() {
        let p = parse_telegram_html("🏟 🏟<i>🏟 &lt🏟</i>").unwrap_or_default();
        assert_eq!(p.text, "🏟 🏟🏟 <🏟");
        assert_eq!(
            (
                p.entities[0].kind,
                p.entities[0].offset,
                p.entities[0].length
            ),
            ("italic", 5, 6)
        );
        let p = parse_telegram_html("<blockquote   expandable>a&lt;<pre  >b;</></>")
            .unwrap_or_default();
        assert_eq!(p.text, "a<b;");
        assert!(p.entities.iter().any(|e| e.kind == "expandable_blockquote"));
        let p = parse_telegram_html("<pre><code class=\"language-rust\">x</code></pre>")
            .unwrap_or_default();
        assert_eq!(p.text, "x");
        let p =
            parse_telegram_html("<span class=\"tg-spoiler\">s</span><tg-spoiler>t</tg-spoiler>")
                .unwrap_or_default();
        assert_eq!(p.entities.len(), 2);
    }

    #[test]
    fn strict_additions() {
        assert!(err("AT&T").contains("strict"));
        assert!(err("a&nbsp;b").contains("Unsupported HTML entity"));
        assert!(err("<code><b>x</b></code>").contains("inside \"code\""));
        assert!(err("<blockquote><blockquote>x</blockquote></blockquote>").contains("nested"));
        assert!(err("<a>x</a>").contains("href"));
        assert!(err("<a href=\"javascript:alert(1)\">x</a>").contains("href"));
    }

    #[test]
    fn entity_count_and_size() {
        let many = "<b>x</b> ".repeat(101);
        assert!(err(&many).contains("101 formatting entities"));
        assert!(parse_telegram_html(&"<b>x</b> ".repeat(100)).is_ok());
        let url = format!("https://x.example/{}", "a".repeat(200));
        let heavy = format!("<a href=\"{url}\">x</a> ").repeat(60);
        assert_eq!(
            telegram_text(&heavy, Some("HTML"), 4096).map_err(|e| e.description),
            Err("Bad Request: ENTITIES_TOO_LONG".into())
        );
    }

    #[test]
    fn lengths_and_texts() {
        let ok = telegram_text("<b>😀</b>", Some("HTML"), 4096);
        assert_eq!(ok, Ok(2));
        let long = "😀".repeat(2049);
        assert_eq!(
            telegram_text(&long, None, 4096).map_err(|e| e.description),
            Err("Bad Request: message is too long".into())
        );
        assert_eq!(
            telegram_text(&"a".repeat(1025), None, 1024).map_err(|e| e.description),
            Err("Bad Request: message caption is too long".into())
        );
        assert_eq!(
            telegram_text("<b> </b>", Some("HTML"), 4096).map_err(|e| e.description),
            Err("Bad Request: message text is empty".into())
        );
        assert_eq!(telegram_text("", None, 1024), Ok(0));
        assert_eq!(
            telegram_text("<p>x</p>", Some("HTML"), 4096).map_err(|e| e.description),
            Err(
                "Bad Request: can't parse entities: Unsupported start tag \"p\" at byte offset 0"
                    .into()
            )
        );
        // Escaped markup is counted after decoding.
        assert_eq!(
            telegram_text(&"&lt;".repeat(4096), Some("HTML"), 4096),
            Ok(4096)
        );
    }

    #[test]
    fn telegram_message_checks() {
        let ok = json!({"text": "<b>x</b>", "parse_mode": "HTML", "reply_markup": {"inline_keyboard": [[{"text": "Read", "url": "https://x.example/"}]]}});
        assert!(telegram_message("SendMessage", &ok).is_ok());
        let bad = json!({"text": "x", "reply_markup": {"inline_keyboard": [[{"text": "Read", "url": "javascript:x"}]]}});
        assert_eq!(
            telegram_message("sendMessage", &bad).map_err(|e| e.description),
            Err("Bad Request: BUTTON_URL_INVALID".into())
        );
        let photo = json!({"caption": "a".repeat(1025)});
        assert!(telegram_message("sendPhoto", &photo).is_err());
        let photo = json!({"photo": "https://i.example/x.jpg", "caption": "a".repeat(1025)});
        assert_eq!(
            telegram_message("sendPhoto", &photo).map_err(|e| e.description),
            Err("Bad Request: message caption is too long".into())
        );
        let audio = json!({"caption": "<b>x</b>", "parse_mode": "HTML"});
        assert_eq!(
            telegram_message("SendAudio", &audio).map_err(|e| e.description),
            Err("Bad Request: there is no audio in the request".into())
        );
        let audio = json!({"audio": "https://a.example/x.mp3", "caption": "<b>x</b>", "parse_mode": "HTML"});
        assert!(telegram_message("sendAudio", &audio).is_ok());
        let audio = json!({"audio": "https://a.example/x.mp3", "caption": "a".repeat(1025)});
        assert_eq!(
            telegram_message("sendaudio", &audio).map_err(|e| e.description),
            Err("Bad Request: message caption is too long".into())
        );
    }
}
