//! Rewrites applied before feed-rs reads a document: root-element
//! quirks it would reject and values known to make it panic.

/// Rewrites root-element quirks that feed-rs would reject: RSS 0.90's
/// Netscape namespace (read as RSS 1.0) and an `<rss>` root whose `version`
/// is missing or unusual (`0.93`, `0.94`, `2.00`, … read as 2.0).
pub(super) fn fix_root_quirks(text: &str) -> std::borrow::Cow<'_, str> {
    let mut out = std::borrow::Cow::Borrowed(text);
    const RSS090_NS: &str = "http://my.netscape.com/rdf/simple/0.9/";
    if out.contains(RSS090_NS) {
        out = std::borrow::Cow::Owned(out.replace(RSS090_NS, "http://purl.org/rss/1.0/"));
    }
    // Atom 0.3: the 1.0 namespace, and its date elements renamed.
    const ATOM03_NS: &str = "http://purl.org/atom/ns#";
    if out.contains(ATOM03_NS) {
        let mut t = out.replace(ATOM03_NS, "http://www.w3.org/2005/Atom");
        for (old, new) in [("issued", "published"), ("modified", "updated")] {
            t = t
                .replace(&format!("<{old}>"), &format!("<{new}>"))
                .replace(&format!("</{old}>"), &format!("</{new}>"));
        }
        out = std::borrow::Cow::Owned(t);
    }
    if out.contains("http://www.w3.org/2005/Atom")
        && let Some(re) = atom_type_re()
        && let std::borrow::Cow::Owned(fixed) = re.replace_all(&out, |c: &regex::Captures| {
            let value = c.get(3).or(c.get(4)).map_or("", |m| m.as_str());
            let lower = value.trim().to_ascii_lowercase();
            let ok = matches!(lower.as_str(), "text" | "html" | "xhtml")
                || lower.split_once('/').is_some_and(|(a, b)| {
                    let b = b.split(';').next().unwrap_or("").trim();
                    let token = |t: &str| {
                        !t.is_empty()
                            && t.chars()
                                .all(|ch| ch.is_ascii_alphanumeric() || "!#$&-^_.+".contains(ch))
                    };
                    token(a) && token(b)
                });
            let fixed = if ok { lower } else { "html".to_owned() };
            if fixed == value {
                c[0].to_owned()
            } else {
                format!("{}type=\"{}\"", &c[1], fixed)
            }
        })
    {
        out = std::borrow::Cow::Owned(fixed);
    }
    let Some(start) = find_rss_root(&out) else {
        return out;
    };
    let Some(len) = out[start..].find('>') else {
        return out;
    };
    let tag = &out[start..start + len];
    let Some(re) = version_re() else {
        return out;
    };
    let version = re
        .captures(tag)
        .and_then(|c| c.get(1).or(c.get(2)))
        .map(|m| m.as_str().to_owned());
    let fixed = match version.as_deref() {
        Some("2.0") | Some("0.91") | Some("0.92") => return out,
        Some(_) => re.replace(tag, " version=\"2.0\"").into_owned(),
        None => format!("<rss version=\"2.0\"{}", &tag[4..]),
    };
    let mut s = String::with_capacity(out.len() + 16);
    s.push_str(&out[..start]);
    s.push_str(&fixed);
    s.push_str(&out[start + len..]);
    std::borrow::Cow::Owned(s)
}

/// Defuses inputs known to panic feed-rs 3: it parses "normal play time"
/// values (`<itunes:duration>`, MediaRSS `start`/`end`/`time`) with
/// `parse::<u64>().unwrap()`, so a run of 20+ digits aborts the parse.
/// Such values (10+ digits, i.e. centuries) are replaced by `0`. A
/// `catch_unwind` around the parser remains as a second line of defence.
pub(super) fn defuse_panics(text: &str) -> std::borrow::Cow<'_, str> {
    use std::sync::OnceLock;
    static LONG: OnceLock<Option<regex::Regex>> = OnceLock::new();
    static ELEM: OnceLock<Option<regex::Regex>> = OnceLock::new();
    static ATTR: OnceLock<Option<regex::Regex>> = OnceLock::new();
    let long = LONG.get_or_init(|| regex::Regex::new(r"\d{10,}").ok());
    let Some(long) = long.as_ref() else {
        return std::borrow::Cow::Borrowed(text);
    };
    if !has_digit_run(text.as_bytes(), 10) {
        return std::borrow::Cow::Borrowed(text);
    }
    let elem = ELEM.get_or_init(|| {
        regex::Regex::new(r"(?is)(<(?:[a-z0-9_]+:)?duration\b[^>]*>)([^<]*)(</)").ok()
    });
    let attr = ATTR.get_or_init(|| {
        regex::Regex::new(r#"(?i)(\s(?:start|end|time)\s*=\s*)("[^"]*"|'[^']*')"#).ok()
    });
    let mut out = std::borrow::Cow::Borrowed(text);
    if let Some(elem) = elem.as_ref() {
        let replaced = elem.replace_all(&out, |c: &regex::Captures| {
            if long.is_match(&c[2]) {
                format!("{}0{}", &c[1], &c[3])
            } else {
                c[0].to_owned()
            }
        });
        if let std::borrow::Cow::Owned(o) = replaced {
            out = std::borrow::Cow::Owned(o);
        }
    }
    if let Some(attr) = attr.as_ref() {
        let replaced = attr.replace_all(&out, |c: &regex::Captures| {
            if long.is_match(&c[2]) {
                format!("{}\"0\"", &c[1])
            } else {
                c[0].to_owned()
            }
        });
        if let std::borrow::Cow::Owned(o) = replaced {
            out = std::borrow::Cow::Owned(o);
        }
    }
    out
}

/// Whether `bytes` holds `n` or more consecutive ASCII digits.
pub(super) fn has_digit_run(bytes: &[u8], n: usize) -> bool {
    let mut run = 0;
    for b in bytes {
        if b.is_ascii_digit() {
            run += 1;
            if run >= n {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
}

/// Byte offset of the `<rss` root start tag, skipping comments and PIs.
pub(super) fn find_rss_root(text: &str) -> Option<usize> {
    let mut pos = 0;
    while let Some(off) = text[pos..].find('<') {
        let at = pos + off;
        let rest = &text[at..];
        if rest.starts_with("<?") || rest.starts_with("<!") {
            let end = if rest.starts_with("<!--") {
                rest.find("-->").map(|e| e + 3)
            } else {
                rest.find('>').map(|e| e + 1)
            }?;
            pos = at + end;
            continue;
        }
        let is_rss = rest.starts_with("<rss")
            && rest[4..].starts_with(|c: char| c.is_whitespace() || c == '>' || c == '/');
        return is_rss.then_some(at);
    }
    None
}

/// The `type` attribute of Atom text constructs and content; feed-rs
/// rejects the whole feed on a value it cannot parse (`HTML`, `weird`).
pub(super) fn atom_type_re() -> Option<&'static regex::Regex> {
    static RE: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(
            r#"(<(?:[a-z]+:)?(?:content|summary|title|subtitle|rights|tagline)\b[^>]*?\s)type\s*=\s*(?:("([^"]*)")|'([^']*)')"#,
        )
        .ok()
    })
    .as_ref()
}

/// `version="…"` in a start tag (value in group 1 or 2).
pub(super) fn version_re() -> Option<&'static regex::Regex> {
    static RE: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    RE.get_or_init(|| regex::Regex::new(r#"\sversion\s*=\s*(?:"([^"]*)"|'([^']*)')"#).ok())
        .as_ref()
}
