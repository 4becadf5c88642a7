//! Strict validators of each platform's output. Used by the formatter's
//! tests and by the fake servers in `tests/fakes`, which reject what the
//! real platforms would reject, with the real error texts.
//!
//! **Telegram.** [`telegram_text`] implements the Bot API HTML parser the
//! way TDLib does (`td/telegram/MessageEntity.cpp`, `parse_html`): the
//! same tag set, attribute syntax, entity decoding, nesting rules and error
//! texts (`Unsupported start tag "div" at byte offset 0`, `Unmatched end
//! tag …`, `Can't find end tag corresponding to start tag "b"`…), then
//! counts UTF-16 units of the resulting text. On top of what Telegram
//! rejects, it also rejects what Telegram would silently *alter*, so that
//! a renderer bug cannot hide; those messages end with
//! `(crier strict check)`:
//! a `&` that starts no entity (Telegram shows it literally), a named
//! entity other than `&lt; &gt; &amp; &quot;`, any tag inside
//! `<code>`/`<pre>` (except `<code>` directly in `<pre>`), nested
//! `<blockquote>`s or links, `<a>` without a non-empty absolute
//! `http(s)`/`tg`/`mailto` `href`.
//!
//! **Discord.** [`discord_message`] checks every documented limit and
//! answers with a body shaped like Discord's 50035 "Invalid Form Body"
//! (or 50006 "Cannot send an empty message"). Lengths are counted in
//! UTF-16 units, which is never less than Discord's own character count,
//! so whatever passes here passes there.

use std::fmt;

use serde_json::{Map, Value, json};

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
    let len = super::text::utf16_len(&visible);
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
/// `editMessageText`, `sendPhoto`, `editMessageCaption`; method names are
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
        "sendphoto" | "editmessagecaption" => {
            if m == "sendphoto" && get_str("photo").is_none_or(|p| p.trim().is_empty()) {
                return Err(TelegramViolation::new(
                    "Bad Request: there is no photo in the request",
                ));
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

// ----- Discord ----------------------------------------------------------------

/// A Discord rejection. `errors` is shaped like Discord's `errors` object
/// (for 50035 Invalid Form Body); `code`/`message` are the top-level ones.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscordViolation {
    /// Discord's nested `errors` object (empty for 50006).
    pub errors: Value,
    /// 50035 (Invalid Form Body) or 50006 (Cannot send an empty message).
    pub code: u32,
    /// `Invalid Form Body` or `Cannot send an empty message`.
    pub message: String,
}

impl fmt::Display for DiscordViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.message, self.code, self.errors)
    }
}

impl std::error::Error for DiscordViolation {}

impl DiscordViolation {
    /// The full HTTP 400 body Discord would send.
    pub fn body(&self) -> Value {
        let mut v = json!({"code": self.code, "message": self.message});
        if self.errors.as_object().is_some_and(|o| !o.is_empty())
            && let Some(o) = v.as_object_mut()
        {
            o.insert("errors".into(), self.errors.clone());
        }
        v
    }
}

struct Errs(Value);

impl Errs {
    fn add(&mut self, path: &[&str], code: &str, message: String) {
        let mut cur = &mut self.0;
        for p in path {
            if !cur.is_object() {
                *cur = Value::Object(Map::new());
            }
            let Some(obj) = cur.as_object_mut() else {
                return;
            };
            cur = obj
                .entry((*p).to_string())
                .or_insert_with(|| Value::Object(Map::new()));
        }
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        let Some(obj) = cur.as_object_mut() else {
            return;
        };
        let list = obj
            .entry("_errors")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Some(a) = list.as_array_mut() {
            a.push(json!({"code": code, "message": message}));
        }
    }

    fn max_len(&mut self, path: &[&str], s: &str, max: usize) {
        if super::text::utf16_len(s) > max {
            self.add(
                path,
                "BASE_TYPE_MAX_LENGTH",
                format!("Must be {max} or fewer in length."),
            );
        }
    }

    fn string<'v>(&mut self, path: &[&str], v: &'v Value) -> Option<&'v str> {
        match v {
            Value::String(s) => Some(s),
            Value::Null => None,
            other => {
                self.add(
                    path,
                    "BASE_TYPE_STRING",
                    format!("Could not interpret \"{other}\" as string."),
                );
                None
            }
        }
    }

    fn required_string(
        &mut self,
        path: &[&str],
        v: Option<&Value>,
        max: usize,
        min: usize,
    ) -> usize {
        match v.and_then(|v| self.string(path, v)) {
            None => {
                if v.is_none_or(Value::is_null) {
                    self.add(path, "BASE_TYPE_REQUIRED", "This field is required".into());
                }
                0
            }
            Some(s) => {
                let n = super::text::utf16_len(s);
                if n > max {
                    self.add(
                        path,
                        "BASE_TYPE_MAX_LENGTH",
                        format!("Must be {max} or fewer in length."),
                    );
                } else if n < min {
                    self.add(
                        path,
                        "BASE_TYPE_MIN_LENGTH",
                        format!("Must be {min} or more in length."),
                    );
                }
                n
            }
        }
    }

    fn url(&mut self, path: &[&str], v: Option<&Value>, schemes: &[&str]) {
        let Some(v) = v.filter(|v| !v.is_null()) else {
            return;
        };
        let Some(s) = self.string(path, v) else {
            return;
        };
        let ok = s.len() <= 2048
            && url::Url::parse(s).is_ok_and(|u| {
                schemes.contains(&u.scheme())
                    && (u.scheme() == "attachment" || u.host_str().is_some_and(|h| !h.is_empty()))
            });
        if !ok {
            self.add(
                path,
                "URL_TYPE_INVALID_URL",
                "Not a well formed URL.".into(),
            );
        }
    }
}

/// Check a message create/edit or webhook execute body as Discord would:
/// `content` ≤ 2000; ≤ 10 embeds; per embed title ≤ 256, description ≤
/// 4096, ≤ 25 fields (name ≤ 256, value ≤ 1024, both required), footer text
/// ≤ 2048 (required), author name ≤ 256 (required), well-formed URLs,
/// ISO 8601 timestamp, colour ≤ 0xFFFFFF; 6000 characters across all
/// embeds; ≤ 5 action rows of ≤ 5 buttons (link buttons: `url` ≤ 512,
/// label ≤ 80); `nonce` ≤ 25; `username` 1–80; and not empty (no content,
/// embeds, components, attachments, stickers or poll → 50006).
pub fn discord_message(body: &Value) -> Result<(), DiscordViolation> {
    let mut e = Errs(Value::Object(Map::new()));
    let Some(obj) = body.as_object() else {
        e.add(
            &[],
            "DICT_TYPE_CONVERT",
            "Only dictionaries may be used in a DictType".into(),
        );
        return Err(DiscordViolation {
            errors: e.0,
            code: 50035,
            message: "Invalid Form Body".into(),
        });
    };
    let mut has_content = false;
    if let Some(c) = obj.get("content")
        && let Some(s) = e.string(&["content"], c)
    {
        e.max_len(&["content"], s, 2000);
        has_content = !s.trim().is_empty();
    }
    let mut has_embeds = false;
    if let Some(embeds) = obj.get("embeds").filter(|v| !v.is_null()) {
        match embeds.as_array() {
            None => e.add(&["embeds"], "BASE_TYPE_ARRAY", "Must be an array.".into()),
            Some(list) => {
                has_embeds = !list.is_empty();
                if list.len() > 10 {
                    e.add(
                        &["embeds"],
                        "BASE_TYPE_MAX_LENGTH",
                        "Must be 10 or fewer in length.".into(),
                    );
                }
                let mut total = 0usize;
                for (i, em) in list.iter().enumerate() {
                    let idx = i.to_string();
                    let p = |k: &'static str| [String::from("embeds"), idx.clone(), k.to_string()];
                    let Some(em) = em.as_object() else {
                        e.add(
                            &["embeds", &idx],
                            "DICT_TYPE_CONVERT",
                            "Only dictionaries may be used in a DictType".into(),
                        );
                        continue;
                    };
                    for (k, max) in [("title", 256usize), ("description", 4096)] {
                        if let Some(v) = em.get(k) {
                            let path = p(k);
                            let path: Vec<&str> = path.iter().map(String::as_str).collect();
                            if let Some(s) = e.string(&path, v) {
                                e.max_len(&path, s, max);
                                total += super::text::utf16_len(s);
                            }
                        }
                    }
                    e.url(&["embeds", &idx, "url"], em.get("url"), &["http", "https"]);
                    if let Some(ts) = em.get("timestamp").filter(|v| !v.is_null()) {
                        let ok = ts
                            .as_str()
                            .is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok());
                        if !ok {
                            e.add(
                                &["embeds", &idx, "timestamp"],
                                "DATE_TYPE_PARSE",
                                format!("Could not parse {ts}. Should be ISO8601."),
                            );
                        }
                    }
                    if let Some(c) = em.get("color").filter(|v| !v.is_null()) {
                        match c.as_i64() {
                            Some(n) if n > 0xFF_FFFF => e.add(
                                &["embeds", &idx, "color"],
                                "NUMBER_TYPE_MAX",
                                "int value should be less than or equal to 16777215.".into(),
                            ),
                            Some(n) if n < 0 => e.add(
                                &["embeds", &idx, "color"],
                                "NUMBER_TYPE_MIN",
                                "int value should be greater than or equal to 0.".into(),
                            ),
                            Some(_) => {}
                            None => e.add(
                                &["embeds", &idx, "color"],
                                "NUMBER_TYPE_COERCE",
                                format!("Value \"{c}\" is not int."),
                            ),
                        }
                    }
                    if let Some(f) = em.get("footer").filter(|v| !v.is_null()) {
                        total += e.required_string(
                            &["embeds", &idx, "footer", "text"],
                            f.get("text"),
                            2048,
                            1,
                        );
                        e.url(
                            &["embeds", &idx, "footer", "icon_url"],
                            f.get("icon_url"),
                            &["http", "https", "attachment"],
                        );
                    }
                    if let Some(a) = em.get("author").filter(|v| !v.is_null()) {
                        total += e.required_string(
                            &["embeds", &idx, "author", "name"],
                            a.get("name"),
                            256,
                            1,
                        );
                        e.url(
                            &["embeds", &idx, "author", "url"],
                            a.get("url"),
                            &["http", "https"],
                        );
                        e.url(
                            &["embeds", &idx, "author", "icon_url"],
                            a.get("icon_url"),
                            &["http", "https", "attachment"],
                        );
                    }
                    for k in ["image", "thumbnail"] {
                        if let Some(m) = em.get(k).filter(|v| !v.is_null()) {
                            if m.get("url").is_none_or(Value::is_null) {
                                e.add(
                                    &["embeds", &idx, k, "url"],
                                    "BASE_TYPE_REQUIRED",
                                    "This field is required".into(),
                                );
                            }
                            e.url(
                                &["embeds", &idx, k, "url"],
                                m.get("url"),
                                &["http", "https", "attachment"],
                            );
                        }
                    }
                    if let Some(fields) = em.get("fields").filter(|v| !v.is_null()) {
                        match fields.as_array() {
                            None => e.add(
                                &["embeds", &idx, "fields"],
                                "BASE_TYPE_ARRAY",
                                "Must be an array.".into(),
                            ),
                            Some(fl) => {
                                if fl.len() > 25 {
                                    e.add(
                                        &["embeds", &idx, "fields"],
                                        "BASE_TYPE_MAX_LENGTH",
                                        "Must be 25 or fewer in length.".into(),
                                    );
                                }
                                for (j, f) in fl.iter().enumerate() {
                                    let jdx = j.to_string();
                                    total += e.required_string(
                                        &["embeds", &idx, "fields", &jdx, "name"],
                                        f.get("name"),
                                        256,
                                        1,
                                    );
                                    total += e.required_string(
                                        &["embeds", &idx, "fields", &jdx, "value"],
                                        f.get("value"),
                                        1024,
                                        1,
                                    );
                                }
                            }
                        }
                    }
                }
                if total > 6000 {
                    e.add(
                        &["embeds"],
                        "MAX_EMBED_SIZE_EXCEEDED",
                        "Embed size exceeds maximum size of 6000".into(),
                    );
                }
            }
        }
    }
    let mut has_components = false;
    if let Some(rows) = obj.get("components").filter(|v| !v.is_null()) {
        match rows.as_array() {
            None => e.add(
                &["components"],
                "BASE_TYPE_ARRAY",
                "Must be an array.".into(),
            ),
            Some(rows) => {
                has_components = !rows.is_empty();
                if rows.len() > 5 {
                    e.add(
                        &["components"],
                        "BASE_TYPE_MAX_LENGTH",
                        "Must be 5 or fewer in length.".into(),
                    );
                }
                for (i, row) in rows.iter().enumerate() {
                    let idx = i.to_string();
                    if row.get("type").and_then(Value::as_u64) != Some(1) {
                        e.add(
                            &["components", &idx, "type"],
                            "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                            "Only action rows may be used at the top level.".into(),
                        );
                        continue;
                    }
                    let items = row
                        .get("components")
                        .and_then(Value::as_array)
                        .map(Vec::as_slice)
                        .unwrap_or(&[]);
                    if items.is_empty() {
                        e.add(
                            &["components", &idx, "components"],
                            "BASE_TYPE_MIN_LENGTH",
                            "Must be 1 or more in length.".into(),
                        );
                    }
                    if items.len() > 5 {
                        e.add(
                            &["components", &idx, "components"],
                            "BASE_TYPE_MAX_LENGTH",
                            "Must be 5 or fewer in length.".into(),
                        );
                    }
                    for (j, b) in items.iter().enumerate() {
                        let jdx = j.to_string();
                        if b.get("type").and_then(Value::as_u64) != Some(2) {
                            continue;
                        }
                        if let Some(l) = b.get("label").and_then(Value::as_str) {
                            e.max_len(&["components", &idx, "components", &jdx, "label"], l, 80);
                        }
                        if b.get("style").and_then(Value::as_u64) == Some(5) {
                            match b.get("url").and_then(Value::as_str) {
                                None => e.add(
                                    &["components", &idx, "components", &jdx, "url"],
                                    "BASE_TYPE_REQUIRED",
                                    "This field is required".into(),
                                ),
                                Some(u) => {
                                    e.max_len(
                                        &["components", &idx, "components", &jdx, "url"],
                                        u,
                                        512,
                                    );
                                    e.url(
                                        &["components", &idx, "components", &jdx, "url"],
                                        b.get("url"),
                                        &["http", "https", "discord"],
                                    );
                                }
                            }
                            if b.get("custom_id").is_some_and(|v| !v.is_null()) {
                                e.add(
                                    &["components", &idx, "components", &jdx, "custom_id"],
                                    "BUTTON_COMPONENT_CUSTOM_ID_NOT_ALLOWED",
                                    "A custom id cannot be specified for link buttons.".into(),
                                );
                            }
                        }
                    }
                }
            }
        }
    }
    if let Some(n) = obj.get("nonce").filter(|v| !v.is_null()) {
        match n {
            Value::String(s) => e.max_len(&["nonce"], s, 25),
            Value::Number(_) => {}
            _ => e.add(
                &["nonce"],
                "BASE_TYPE_STRING",
                format!("Could not interpret \"{n}\" as string."),
            ),
        }
    }
    if let Some(u) = obj.get("username").filter(|v| !v.is_null()) {
        e.required_string(&["username"], Some(u), 80, 1);
    }
    if e.0.as_object().is_some_and(|o| !o.is_empty()) {
        return Err(DiscordViolation {
            errors: e.0,
            code: 50035,
            message: "Invalid Form Body".into(),
        });
    }
    let other = ["attachments", "sticker_ids", "poll", "files"]
        .iter()
        .any(|k| {
            obj.get(*k)
                .is_some_and(|v| !v.is_null() && v.as_array().is_none_or(|a| !a.is_empty()))
        });
    if !has_content && !has_embeds && !has_components && !other {
        return Err(DiscordViolation {
            errors: Value::Object(Map::new()),
            code: 50006,
            message: "Cannot send an empty message".into(),
        });
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
    }

    #[test]
    fn discord_limits() {
        let v = json!({"content": "a".repeat(2001)});
        let e = discord_message(&v).err().map(|e| e.errors);
        assert_eq!(
            e,
            Some(
                json!({"content": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}]}})
            )
        );
        let v = json!({"embeds": [{"description": "a".repeat(4097)}]});
        let e = discord_message(&v).err().map(|e| e.errors);
        assert_eq!(
            e,
            Some(
                json!({"embeds": {"0": {"description": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 4096 or fewer in length."}]}}}})
            )
        );
        let big = json!({"description": "a".repeat(4000)});
        let v = json!({"embeds": [big, big]});
        let e = discord_message(&v).err().map(|e| e.errors);
        assert_eq!(
            e,
            Some(
                json!({"embeds": {"_errors": [{"code": "MAX_EMBED_SIZE_EXCEEDED", "message": "Embed size exceeds maximum size of 6000"}]}})
            )
        );
        let v = json!({"embeds": (0..11).map(|_| json!({"title": "t"})).collect::<Vec<_>>()});
        assert!(discord_message(&v).is_err());
        let v = json!({"embeds": [{"title": "t".repeat(257), "footer": {"text": "f".repeat(2049)}, "author": {}, "fields": [{"name": "", "value": "v".repeat(1025)}]}]});
        let e = discord_message(&v)
            .err()
            .map(|e| e.errors)
            .unwrap_or_default();
        assert!(e["embeds"]["0"]["title"]["_errors"].is_array());
        assert!(e["embeds"]["0"]["footer"]["text"]["_errors"].is_array());
        assert_eq!(
            e["embeds"]["0"]["author"]["name"]["_errors"][0]["code"],
            "BASE_TYPE_REQUIRED"
        );
        assert_eq!(
            e["embeds"]["0"]["fields"]["0"]["name"]["_errors"][0]["code"],
            "BASE_TYPE_MIN_LENGTH"
        );
        assert!(e["embeds"]["0"]["fields"]["0"]["value"]["_errors"].is_array());
        let v = json!({"embeds": [{"fields": (0..26).map(|_| json!({"name": "n", "value": "v"})).collect::<Vec<_>>()}]});
        assert!(discord_message(&v).is_err());
        let v = json!({"content": "   "});
        let e = discord_message(&v).err();
        assert_eq!(e.as_ref().map(|e| e.code), Some(50006));
        assert_eq!(
            e.map(|e| e.body()),
            Some(json!({"code": 50006, "message": "Cannot send an empty message"}))
        );
        let v = json!({"embeds": [{"title": "t", "url": "not a url", "color": 16777216}]});
        let e = discord_message(&v)
            .err()
            .map(|e| e.errors)
            .unwrap_or_default();
        assert_eq!(
            e["embeds"]["0"]["url"]["_errors"][0]["code"],
            "URL_TYPE_INVALID_URL"
        );
        assert_eq!(
            e["embeds"]["0"]["color"]["_errors"][0]["code"],
            "NUMBER_TYPE_MAX"
        );
        let v = json!({"content": "ok", "components": [{"type": 1, "components": [{"type": 2, "style": 5, "label": "L".repeat(81), "url": "https://x.example/"}]}]});
        assert!(discord_message(&v).is_err());
        let v = json!({"content": "ok", "nonce": "n".repeat(26)});
        assert!(discord_message(&v).is_err());
        assert!(discord_message(&json!({"content": "ok"})).is_ok());
    }
}
