//! Bot API parameters: from the query string, a JSON body, a
//! form-urlencoded body or a multipart body (text fields; file parts are
//! recorded by name, size and file name). In the three non-JSON forms,
//! structured parameters (`reply_markup`, `entities`, ...) arrive as JSON
//! strings, as the Bot API documents ("Making requests").

use std::collections::HashMap;

use serde_json::{Map, Value};

/// An uploaded file part of a multipart request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadedFile {
    pub file_name: Option<String>,
    pub size: usize,
    /// The content, as uploaded.
    pub bytes: Vec<u8>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Params {
    pub(crate) map: Map<String, Value>,
    pub(crate) files: HashMap<String, UploadedFile>,
}

/// Telegram answers a body it cannot read with this (400).
pub(crate) const CANT_PARSE_JSON: &str = "Bad Request: can't parse JSON object";

impl Params {
    pub(crate) fn parse(
        query: Option<&str>,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<Params, &'static str> {
        let mut p = Params::default();
        if let Some(q) = query {
            for (k, v) in url::form_urlencoded::parse(q.as_bytes()) {
                p.map.insert(k.into_owned(), Value::String(v.into_owned()));
            }
        }
        let ct = content_type.unwrap_or("").to_ascii_lowercase();
        let essence = ct.split(';').next().unwrap_or("").trim().to_string();
        if body.iter().all(|b| b.is_ascii_whitespace()) {
            return Ok(p);
        }
        match essence.as_str() {
            "application/json" => {
                let v: Value = serde_json::from_slice(body).map_err(|_| CANT_PARSE_JSON)?;
                let Value::Object(obj) = v else {
                    return Err(CANT_PARSE_JSON);
                };
                p.map.extend(obj);
            }
            "multipart/form-data" => {
                let boundary = content_type
                    .and_then(boundary_of)
                    .ok_or("Bad Request: can't parse multipart/form-data request")?;
                parse_multipart(body, &boundary, &mut p)
                    .ok_or("Bad Request: can't parse multipart/form-data request")?;
            }
            _ => {
                // Telegram treats anything else like a form (curl -d ...).
                for (k, v) in url::form_urlencoded::parse(body) {
                    p.map.insert(k.into_owned(), Value::String(v.into_owned()));
                }
            }
        }
        Ok(p)
    }

    pub(crate) fn has(&self, key: &str) -> bool {
        self.map.get(key).is_some_and(|v| !v.is_null()) || self.files.contains_key(key)
    }

    /// A scalar as a string (numbers and bools are written out).
    pub(crate) fn str(&self, key: &str) -> Option<String> {
        match self.map.get(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// An integer; `Err` when present but not an integer.
    pub(crate) fn int(&self, key: &str) -> Result<Option<i64>, ()> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or(()),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => s.trim().parse::<i64>().map(Some).map_err(|_| ()),
            Some(_) => Err(()),
        }
    }

    pub(crate) fn bool(&self, key: &str) -> bool {
        match self.map.get(key) {
            Some(Value::Bool(b)) => *b,
            Some(Value::Number(n)) => n.as_i64().unwrap_or(0) != 0,
            Some(Value::String(s)) => matches!(s.trim(), "true" | "True" | "1"),
            _ => false,
        }
    }

    /// A JSON-serialized parameter: an object/array, or a string holding one.
    /// `Err` when it is a string that is not JSON.
    pub(crate) fn json(&self, key: &str) -> Result<Option<Value>, ()> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => serde_json::from_str(s).map(Some).map_err(|_| ()),
            Some(v) => Ok(Some(v.clone())),
        }
    }

    /// The parameters as a JSON object, for the request log.
    pub(crate) fn to_value(&self) -> Value {
        let mut m = self.map.clone();
        for (k, f) in &self.files {
            m.insert(
                k.clone(),
                serde_json::json!({"upload": f.file_name, "size": f.size}),
            );
        }
        Value::Object(m)
    }
}

fn boundary_of(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|part| {
        let (k, v) = part.split_once('=')?;
        if k.trim().eq_ignore_ascii_case("boundary") {
            Some(v.trim().trim_matches('"').to_string())
        } else {
            None
        }
    })
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > hay.len() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// A small multipart/form-data reader: enough for what HTTP clients send.
fn parse_multipart(body: &[u8], boundary: &str, p: &mut Params) -> Option<()> {
    let delim = format!("--{boundary}").into_bytes();
    let mut pos = find(body, &delim, 0)? + delim.len();
    loop {
        // After a delimiter: "--" ends the body, else CRLF and a part.
        if body.get(pos..pos + 2) == Some(b"--") {
            return Some(());
        }
        if body.get(pos..pos + 2) == Some(b"\r\n") {
            pos += 2;
        }
        let head_end = find(body, b"\r\n\r\n", pos)?;
        let head = std::str::from_utf8(&body[pos..head_end]).ok()?;
        let content_start = head_end + 4;
        let mut next_delim = b"\r\n".to_vec();
        next_delim.extend_from_slice(&delim);
        let content_end = find(body, &next_delim, content_start)?;
        let content = &body[content_start..content_end];
        let mut name = None;
        let mut file_name = None;
        let mut is_file = false;
        for line in head.split("\r\n") {
            let Some((h, v)) = line.split_once(':') else {
                continue;
            };
            if !h.trim().eq_ignore_ascii_case("content-disposition") {
                continue;
            }
            for attr in v.split(';').skip(1) {
                let Some((k, val)) = attr.split_once('=') else {
                    continue;
                };
                let val = val.trim().trim_matches('"').to_string();
                match k.trim().to_ascii_lowercase().as_str() {
                    "name" => name = Some(val),
                    "filename" => {
                        is_file = true;
                        file_name = Some(val);
                    }
                    _ => {}
                }
            }
        }
        if let Some(name) = name {
            if is_file {
                p.files.insert(
                    name,
                    UploadedFile {
                        file_name,
                        size: content.len(),
                        bytes: content.to_vec(),
                    },
                );
            } else {
                let text = String::from_utf8_lossy(content).into_owned();
                p.map.insert(name, Value::String(text));
            }
        }
        pos = content_end + next_delim.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_form_query_and_multipart() {
        let p = Params::parse(
            Some("chat_id=1"),
            Some("application/json"),
            br#"{"text":"hi","reply_markup":{"inline_keyboard":[]}}"#,
        )
        .unwrap_or_default();
        assert_eq!(p.str("chat_id").as_deref(), Some("1"));
        assert_eq!(p.str("text").as_deref(), Some("hi"));
        assert!(matches!(p.json("reply_markup"), Ok(Some(Value::Object(_)))));

        let p = Params::parse(
            None,
            Some("application/x-www-form-urlencoded"),
            b"chat_id=%40news&text=a+b&disable_notification=true",
        )
        .unwrap_or_default();
        assert_eq!(p.str("chat_id").as_deref(), Some("@news"));
        assert_eq!(p.str("text").as_deref(), Some("a b"));
        assert!(p.bool("disable_notification"));

        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"chat_id\"\r\n\r\n-100\r\n--XyZ\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n\x01\x02\x03\r\n--XyZ--\r\n";
        let p = Params::parse(None, Some("multipart/form-data; boundary=XyZ"), body)
            .unwrap_or_default();
        assert_eq!(p.int("chat_id"), Ok(Some(-100)));
        assert_eq!(p.files.get("photo").map(|f| f.size), Some(3));

        assert_eq!(
            Params::parse(None, Some("application/json"), b"{nope").err(),
            Some(CANT_PARSE_JSON)
        );
    }
}
