//! What feed-rs drops, read from the document text beside it: the
//! channel's `sy:` update hint, `xml:base` of the root and of each Atom
//! entry, RSS 1.0 `dc:subject`, each item's `itunes:image`, JSON Feed
//! images.

use std::time::Duration;

use super::html::decode_text;

/// `sy:updatePeriod` × `sy:updateFrequency` from the channel head, as an
/// interval hint (RSS 1.0 syndication module).
pub(super) fn sy_update_hint(text: &str) -> Option<Duration> {
    let head_end = text.find("<item").unwrap_or(text.len()).min(64 * 1024);
    // The cap may fall inside a multi-byte character: cut on a boundary.
    let head = super::text::head(text, head_end);
    let period = between(head, "updatePeriod>", "<")?
        .trim()
        .to_ascii_lowercase();
    let freq: u64 = between(head, "updateFrequency>", "<")
        .and_then(|f| f.trim().parse().ok())
        .filter(|f| *f > 0)
        .unwrap_or(1);
    let secs: u64 = match period.as_str() {
        "hourly" => 3600,
        "daily" => 86_400,
        "weekly" => 7 * 86_400,
        "monthly" => 30 * 86_400,
        "yearly" => 365 * 86_400,
        _ => return None,
    };
    Some(Duration::from_secs(secs / freq))
}

pub(super) fn between<'a>(s: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = s.find(open)? + open.len();
    let end = s[start..].find(close)?;
    Some(&s[start..start + end])
}

/// The `xml:base` of the root element, if any.
pub(super) fn root_xml_base(text: &str) -> Option<String> {
    let mut reader = quick_xml::Reader::from_str(text);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(e)) | Ok(quick_xml::events::Event::Empty(e)) => {
                let attr = e.try_get_attribute("xml:base").ok().flatten()?;
                return Some(attr.value.replace("&amp;", "&"));
            }
            Ok(quick_xml::events::Event::Eof) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

#[cfg(test)]
/// The `xml:base` of each Atom `<entry>`, in document order (feed-rs only
/// keeps the one on `<content>`).
pub(super) fn atom_entry_bases(text: &str) -> Vec<Option<String>> {
    use quick_xml::events::Event;
    let mut out = Vec::new();
    if !text.contains("xml:base") {
        return out;
    }
    let mut reader = quick_xml::Reader::from_str(text);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                let qname = e.name();
                let name: &str = qname.as_ref();
                if name.rsplit(':').next() == Some("entry") {
                    let base = e
                        .try_get_attribute("xml:base")
                        .ok()
                        .flatten()
                        .map(|a| a.value.replace("&amp;", "&"));
                    out.push(base);
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => {}
        }
    }
    out
}

#[cfg(test)]
/// Dublin Core `<dc:subject>` values per RSS item, in document order
/// (feed-rs drops them; RSS 1.0 feeds carry their categories there).
pub(super) fn dc_subjects(text: &str) -> Vec<Vec<String>> {
    use quick_xml::events::Event;
    let mut out: Vec<Vec<String>> = Vec::new();
    if !text.contains("subject") {
        return out;
    }
    let mut reader = quick_xml::Reader::from_str(text);
    let mut subject: Option<String> = None;
    let mut in_item = false;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let qname = e.name();
                let name: &str = qname.as_ref();
                let local = name.rsplit(':').next().unwrap_or(name);
                if local == "item" {
                    in_item = true;
                    out.push(Vec::new());
                } else if in_item && name.ends_with(":subject") {
                    subject = Some(String::new());
                }
            }
            Ok(Event::End(e)) => {
                let qname = e.name();
                let name: &str = qname.as_ref();
                if name.rsplit(':').next() == Some("item") {
                    in_item = false;
                }
                if let (Some(raw), Some(list)) = (subject.take(), out.last_mut()) {
                    let v = decode_text(&raw);
                    if !v.is_empty() && !list.contains(&v) {
                        list.push(v);
                    }
                }
            }
            Ok(Event::Text(t)) => {
                if let Some(buf) = subject.as_mut() {
                    buf.push_str(&t);
                }
            }
            Ok(Event::CData(t)) => {
                if let Some(buf) = subject.as_mut() {
                    buf.push_str(&quick_xml::escape::escape(&*t));
                }
            }
            Ok(Event::GeneralRef(r)) => {
                if let Some(buf) = subject.as_mut() {
                    buf.push('&');
                    buf.push_str(&r);
                    buf.push(';');
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => {}
        }
    }
    out
}

#[cfg(test)]
/// Each RSS item's `<itunes:image href>` (a podcast episode's own art),
/// in document order. feed-rs reads it into a media object that it then
/// drops when the object has nothing else it counts (a title, content…).
pub(super) fn item_itunes_images(text: &str) -> Vec<Option<String>> {
    if !text.contains("itunes:image") {
        return Vec::new();
    }
    item_children(text, |name, e| {
        (name == "itunes:image").then(|| attr(e, "href")).flatten()
    })
    .into_iter()
    .map(|found| found.into_iter().next())
    .collect()
}

/// An RSS `<enclosure>` as written: URL, type, length.
pub(crate) type RawEnclosure = (String, Option<String>, Option<u64>);

#[cfg(test)]
/// Each RSS item's `<enclosure url type length>`s, in document order.
/// feed-rs loses an enclosure when the item also has a Media RSS
/// `<media:content>` (the podcast's file next to its cover art).
pub(super) fn item_enclosures(text: &str) -> Vec<Vec<RawEnclosure>> {
    if !text.contains("<enclosure") {
        return Vec::new();
    }
    item_children(text, |name, e| {
        if name != "enclosure" {
            return None;
        }
        let url = attr(e, "url")?;
        let length = attr(e, "length").and_then(|l| l.parse().ok());
        Some((url, attr(e, "type"), length))
    })
}

/// An attribute's value, trimmed, when set and not blank.
fn attr(e: &quick_xml::events::BytesStart<'_>, name: &str) -> Option<String> {
    e.try_get_attribute(name)
        .ok()
        .flatten()
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::default())
                .ok()
                .map(|v| v.trim().to_string())
        })
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
/// What `pick` finds among each RSS item's own children (not nested
/// elements'), per item in document order.
fn item_children<T>(
    text: &str,
    pick: impl Fn(&str, &quick_xml::events::BytesStart<'_>) -> Option<T>,
) -> Vec<Vec<T>> {
    use quick_xml::events::Event;
    let mut out: Vec<Vec<T>> = Vec::new();
    let mut reader = quick_xml::Reader::from_str(text);
    let mut depth_in_item = 0usize;
    loop {
        let (e, empty) = match reader.read_event() {
            Ok(Event::Start(e)) => (e, false),
            Ok(Event::Empty(e)) => (e, true),
            Ok(Event::End(_)) => {
                depth_in_item = depth_in_item.saturating_sub(1);
                continue;
            }
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => continue,
        };
        let qname = e.name();
        let name: &str = qname.as_ref();
        if depth_in_item == 0 && name.rsplit(':').next() == Some("item") {
            out.push(Vec::new());
            if !empty {
                depth_in_item = 1;
            }
            continue;
        }
        if depth_in_item > 0 {
            if depth_in_item == 1
                && let Some(found) = pick(name, &e)
                && let Some(slot) = out.last_mut()
            {
                slot.push(found);
            }
            if !empty {
                depth_in_item += 1;
            }
        }
    }
    out
}

/// JSON Feed `image` / `banner_image` per item (feed-rs drops them).
pub(super) fn json_feed_images(text: &str) -> Vec<Vec<String>> {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(text) else {
        return Vec::new();
    };
    v.get("items")
        .and_then(|i| i.as_array())
        .map(|items| {
            items
                .iter()
                .map(|item| {
                    ["image", "banner_image"]
                        .iter()
                        .filter_map(|k| item.get(*k).and_then(|u| u.as_str()).map(str::to_owned))
                        .collect()
                })
                .collect()
        })
        .unwrap_or_default()
}

pub(super) fn is_image_url(url: &str) -> bool {
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    [".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif", ".svg"]
        .iter()
        .any(|ext| path.ends_with(ext))
}

pub(super) fn push_unique(images: &mut Vec<String>, url: String) {
    if !url.is_empty() && !images.contains(&url) {
        images.push(url);
    }
}

/// Per-item facts feed-rs drops, each in document order (used only when
/// their count matches the entries).
pub(super) struct Extras {
    pub json_images: Vec<Vec<String>>,
    pub itunes_images: Vec<Option<String>>,
    pub enclosures: Vec<Vec<RawEnclosure>>,
    pub subjects: Vec<Vec<String>>,
    pub entry_bases: Vec<Option<String>>,
}

/// Which per-item facts [`scan_xml`] collects (each also needs its marker
/// in the text, as the separate readers did).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Wanted {
    /// `dc:subject` per item (RSS 0.9x/1.0/2.0).
    pub subjects: bool,
    /// `itunes:image` and `enclosure` per item (RSS 0.9x/2.0).
    pub item_children: bool,
    /// `xml:base` per Atom entry.
    pub entry_bases: bool,
}

/// What one streaming pass over a document reads: the first
/// well-formedness error (as [`super::parse`]'s `xml_error_line` reports
/// it) and the per-item facts feed-rs drops, each in document order. One
/// pass instead of one per fact: the results are those of the separate
/// readers (kept as references in the tests), which stop at the first
/// error too.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Scan {
    /// Line and message of the first well-formedness error.
    pub error: Option<(u64, String)>,
    pub subjects: Vec<Vec<String>>,
    pub itunes_images: Vec<Option<String>>,
    pub enclosures: Vec<Vec<RawEnclosure>>,
    pub entry_bases: Vec<Option<String>>,
    /// Per item or entry: its `feedburner:origLink` (see
    /// [`super::media::orig_links`]).
    pub orig_links: Vec<Option<String>>,
}

/// One pass of quick-xml over `text` collecting a [`Scan`].
pub(super) fn scan_xml(text: &str, wanted: Wanted) -> Scan {
    use quick_xml::events::Event;
    let subjects_on = wanted.subjects && text.contains("subject");
    let itunes_on = wanted.item_children && text.contains("itunes:image");
    let enclosures_on = wanted.item_children && text.contains("<enclosure");
    let bases_on = wanted.entry_bases && text.contains("xml:base");
    let orig_on = super::media::ORIG_LINK.iter().any(|n| text.contains(n));
    let mut scan = Scan::default();
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut depth: i64 = 0;
    let mut seen_root = false;
    // dc:subject state.
    let mut subject: Option<String> = None;
    let mut in_subject_item = false;
    // Item children state (itunes:image, enclosure).
    let mut depth_in_item = 0usize;
    let mut itunes: Vec<Vec<String>> = Vec::new();
    // origLink state.
    let mut in_orig_item = false;
    let mut in_orig = false;
    let mut orig_buf = String::new();
    loop {
        let (e, empty) = match reader.read_event() {
            Ok(Event::Start(e)) => {
                depth += 1;
                seen_root = true;
                (e, false)
            }
            Ok(Event::Empty(e)) => (e, true),
            Ok(Event::End(e)) => {
                depth -= 1;
                let qname = e.name();
                let name: &str = qname.as_ref();
                let local = name.rsplit(':').next().unwrap_or(name);
                if subjects_on {
                    if local == "item" {
                        in_subject_item = false;
                    }
                    if let (Some(raw), Some(list)) = (subject.take(), scan.subjects.last_mut()) {
                        let v = decode_text(&raw);
                        if !v.is_empty() && !list.contains(&v) {
                            list.push(v);
                        }
                    }
                }
                depth_in_item = depth_in_item.saturating_sub(1);
                if orig_on {
                    if local == "item" || local == "entry" {
                        in_orig_item = false;
                    } else if in_orig && super::media::ORIG_LINK.contains(&local) {
                        in_orig = false;
                        let text = std::mem::take(&mut orig_buf);
                        if let (Some(slot), Ok(u)) =
                            (scan.orig_links.last_mut(), url::Url::parse(text.trim()))
                            && matches!(u.scheme(), "http" | "https")
                            && slot.is_none()
                        {
                            *slot = Some(u.to_string());
                        }
                    }
                }
                continue;
            }
            Ok(Event::Text(t)) => {
                if let Some(buf) = subject.as_mut() {
                    buf.push_str(&t);
                }
                if in_orig {
                    orig_buf.push_str(&t);
                }
                continue;
            }
            Ok(Event::CData(t)) => {
                if let Some(buf) = subject.as_mut() {
                    buf.push_str(&quick_xml::escape::escape(&*t));
                }
                if in_orig {
                    orig_buf.push_str(&t);
                }
                continue;
            }
            Ok(Event::GeneralRef(r)) => {
                if let Some(buf) = subject.as_mut() {
                    buf.push('&');
                    buf.push_str(&r);
                    buf.push(';');
                }
                if in_orig {
                    let name = r.to_string();
                    match name.as_str() {
                        "amp" | "#38" => orig_buf.push('&'),
                        _ => {
                            orig_buf.push('&');
                            orig_buf.push_str(&name);
                            orig_buf.push(';');
                        }
                    }
                }
                continue;
            }
            Ok(Event::Eof) => {
                if seen_root && depth > 0 {
                    scan.error = Some((
                        super::parse::line_of(text, text.len()),
                        "unexpected end of document".into(),
                    ));
                }
                break;
            }
            Ok(_) => continue,
            Err(e) => {
                let pos = usize::try_from(reader.error_position()).unwrap_or(text.len());
                scan.error = Some((super::parse::line_of(text, pos), e.to_string()));
                break;
            }
        };
        let qname = e.name();
        let name: &str = qname.as_ref();
        let local = name.rsplit(':').next().unwrap_or(name);
        // dc:subject (start tags only).
        if subjects_on && !empty {
            if local == "item" {
                in_subject_item = true;
                scan.subjects.push(Vec::new());
            } else if in_subject_item && name.ends_with(":subject") {
                subject = Some(String::new());
            }
        }
        // xml:base of Atom entries (start and empty tags).
        if bases_on && local == "entry" {
            let base = e
                .try_get_attribute("xml:base")
                .ok()
                .flatten()
                .map(|a| a.value.replace("&amp;", "&"));
            scan.entry_bases.push(base);
        }
        // origLink (start tags only).
        if orig_on && !empty {
            if local == "item" || local == "entry" {
                in_orig_item = true;
                scan.orig_links.push(None);
            } else if in_orig_item && super::media::ORIG_LINK.contains(&local) {
                in_orig = true;
                orig_buf.clear();
            }
        }
        // The item's own children: itunes:image, enclosure.
        if itunes_on || enclosures_on {
            if depth_in_item == 0 && local == "item" {
                if itunes_on {
                    itunes.push(Vec::new());
                }
                if enclosures_on {
                    scan.enclosures.push(Vec::new());
                }
                if !empty {
                    depth_in_item = 1;
                }
            } else if depth_in_item > 0 {
                if depth_in_item == 1 {
                    if itunes_on
                        && name == "itunes:image"
                        && let Some(href) = attr(&e, "href")
                        && let Some(slot) = itunes.last_mut()
                    {
                        slot.push(href);
                    }
                    if enclosures_on
                        && name == "enclosure"
                        && let Some(url) = attr(&e, "url")
                        && let Some(slot) = scan.enclosures.last_mut()
                    {
                        let length = attr(&e, "length").and_then(|l| l.parse().ok());
                        slot.push((url, attr(&e, "type"), length));
                    }
                }
                if !empty {
                    depth_in_item += 1;
                }
            }
        }
    }
    scan.itunes_images = itunes
        .into_iter()
        .map(|found| found.into_iter().next())
        .collect();
    scan
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-pass scan gives what the separate readers gave, on every
    /// XML fixture (the error where `xml_error_line` finds one).
    #[test]
    fn one_pass_scan_matches_the_separate_readers() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut seen = 0;
        for dir in [
            "feeds",
            "snapshots",
            "corpus",
            "fuzz-regressions/feed",
            "wordpress",
        ] {
            let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
                continue;
            };
            for entry in entries.flatten() {
                let Ok(bytes) = std::fs::read(entry.path()) else {
                    continue;
                };
                let (text, _) = super::super::encoding::decode(&bytes, None, false);
                let body = super::super::encoding::strip_xml_declaration(&text);
                if !body.starts_with('<') {
                    continue;
                }
                let all = Wanted {
                    subjects: true,
                    item_children: true,
                    entry_bases: true,
                };
                let scan = scan_xml(body, all);
                assert_eq!(
                    scan.error,
                    super::super::parse::xml_error_line(body),
                    "{:?}",
                    entry.path()
                );
                if scan.error.is_some() {
                    continue;
                }
                let want = Scan {
                    error: None,
                    subjects: dc_subjects(body),
                    itunes_images: item_itunes_images(body),
                    enclosures: item_enclosures(body),
                    entry_bases: atom_entry_bases(body),
                    orig_links: super::super::media::orig_links(body),
                };
                assert_eq!(scan, want, "{:?}", entry.path());
                seen += 1;
            }
        }
        assert!(seen > 150, "{seen}");
    }
}
