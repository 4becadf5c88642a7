//! JSON Feed before the strict parser: the version URL feed readers accept
//! (1.0 and 1.1 under `http://` or `https://`, or none at all when the
//! document has `items`) and the item cap.

/// A JSON Feed ready for the strict parser, and its value for the lenient
/// reader.
pub(crate) struct PreparedJson {
    /// The document re-serialised: version normalised, items capped.
    pub text: String,
    /// The parsed document (items capped).
    pub value: serde_json::Value,
}

/// `None` unless `body` is a JSON object with an `items` array (then it is
/// a feed, whatever its version says).
pub(crate) fn prepare(body: &str, max_items: usize) -> Option<PreparedJson> {
    let mut value: serde_json::Value = serde_json::from_str(body).ok()?;
    let obj = value.as_object_mut()?;
    let items = obj.get_mut("items")?.as_array_mut()?;
    items.truncate(max_items);
    let version = obj
        .get("version")
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let normalised = match version.trim_end_matches('/') {
        "https://jsonfeed.org/version/1" | "http://jsonfeed.org/version/1" | "" => {
            "https://jsonfeed.org/version/1"
        }
        "https://jsonfeed.org/version/1.1" | "http://jsonfeed.org/version/1.1" => {
            "https://jsonfeed.org/version/1.1"
        }
        _ => "",
    };
    if !normalised.is_empty() {
        obj.insert("version".into(), serde_json::Value::from(normalised));
    }
    let text = serde_json::to_string(&value).ok()?;
    Some(PreparedJson { text, value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_normalised_and_items_capped() {
        let p = prepare(
            r#"{"version":"http://jsonfeed.org/version/1","items":[{"id":"1"},{"id":"2"}]}"#,
            1,
        )
        .expect("a feed");
        assert_eq!(p.value["version"], "https://jsonfeed.org/version/1");
        assert_eq!(p.value["items"].as_array().map(Vec::len), Some(1));
        let p = prepare(r#"{"items":[]}"#, 5).expect("a feed");
        assert_eq!(p.value["version"], "https://jsonfeed.org/version/1");
        let p = prepare(
            r#"{"version":"http://jsonfeed.org/version/1.1/","items":[]}"#,
            5,
        )
        .expect("a feed");
        assert_eq!(p.value["version"], "https://jsonfeed.org/version/1.1");
        assert!(prepare(r#"{"title":"no items"}"#, 5).is_none());
        assert!(prepare(r#"[1,2]"#, 5).is_none());
    }
}
