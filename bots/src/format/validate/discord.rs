//! The Discord validator: every documented limit of a message body, with
//! errors shaped like Discord's 50035 "Invalid Form Body".

use std::fmt;

use serde_json::{Map, Value, json};

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
        if crate::format::text::utf16_len(s) > max {
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
                let n = crate::format::text::utf16_len(s);
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
                                total += crate::format::text::utf16_len(s);
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
