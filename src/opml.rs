//! OPML in and out: `crier feeds import|export`, chat `/import` `/export`.
//!
//! Imported feeds live in the database like feeds added with `/subscribe`
//! (`dynamic_feeds`): the config file is never rewritten, `crier run`
//! watches them beside the config's feeds, `/unsubscribe` removes one.
//! An import is all or nothing (one transaction); feeds whose URL is
//! already watched (or repeated in the file) are skipped and reported.

use std::collections::BTreeSet;

use crier_storage::{DynamicFeed, Store};

/// One feed found in an OPML file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpmlFeed {
    /// The outline's `title`, else its `text`.
    pub title: String,
    pub url: String,
    /// The folders it sits in, outermost first (`News/World`).
    pub folder: String,
}

/// The feeds of an OPML document, nested folders included.
pub fn parse(text: &str) -> Result<Vec<OpmlFeed>, String> {
    let doc = opml::OPML::from_str(text).map_err(|e| format!("not a valid OPML file: {e}"))?;
    let mut out = Vec::new();
    fn walk(outlines: &[opml::Outline], folder: &mut Vec<String>, out: &mut Vec<OpmlFeed>) {
        for o in outlines {
            let title = o
                .title
                .clone()
                .filter(|t| !t.trim().is_empty())
                .unwrap_or_else(|| o.text.clone());
            if let Some(url) = o
                .xml_url
                .as_deref()
                .map(str::trim)
                .filter(|u| !u.is_empty())
            {
                out.push(OpmlFeed {
                    title: title.trim().to_string(),
                    url: url.to_string(),
                    folder: folder.join("/"),
                });
            }
            if !o.outlines.is_empty() {
                folder.push(title.trim().to_string());
                walk(&o.outlines, folder, out);
                folder.pop();
            }
        }
    }
    walk(&doc.body.outlines, &mut Vec::new(), &mut out);
    if out.is_empty() {
        return Err("the OPML file lists no feeds (no outline has an xmlUrl)".into());
    }
    Ok(out)
}

/// What an import did (or would do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// `(name, url)` of the feeds added.
    pub added: Vec<(String, String)>,
    /// `(url, why)` of the feeds skipped.
    pub skipped: Vec<(String, String)>,
}

impl ImportReport {
    pub fn summary(&self) -> String {
        let mut s = format!(
            "imported {} feed{}",
            self.added.len(),
            if self.added.len() == 1 { "" } else { "s" }
        );
        for (name, url) in &self.added {
            s.push_str(&format!("\n  + {name}  {url}"));
        }
        if !self.skipped.is_empty() {
            s.push_str(&format!("\nskipped {}:", self.skipped.len()));
            for (url, why) in &self.skipped {
                s.push_str(&format!("\n  - {url}: {why}"));
            }
        }
        s
    }
}

/// A feed name from a title: lowercase words joined by `-`.
fn slug(title: &str) -> String {
    let mut s = String::new();
    for c in title.chars() {
        if c.is_alphanumeric() {
            s.extend(c.to_lowercase());
        } else if !s.ends_with('-') && !s.is_empty() {
            s.push('-');
        }
    }
    let s: String = s.trim_matches('-').chars().take(40).collect();
    let s = s.trim_end_matches('-').to_string();
    if s.is_empty() { "feed".to_string() } else { s }
}

fn url_key(u: &str) -> String {
    crate::sources::normalize_link(u, None).unwrap_or_else(|| u.trim().to_string())
}

/// The feeds already watched: `(name, url)`.
pub struct Existing {
    pub names: BTreeSet<String>,
    pub urls: BTreeSet<String>,
}

impl Existing {
    pub fn new(watched: impl IntoIterator<Item = (String, String)>) -> Existing {
        let mut e = Existing {
            names: BTreeSet::new(),
            urls: BTreeSet::new(),
        };
        for (n, u) in watched {
            e.names.insert(n);
            e.urls.insert(url_key(&u));
        }
        e
    }
}

/// Decide what to add: every URL checked by `check_url` (http(s); the SSRF
/// guard for chat imports), duplicates skipped, names made unique.
pub fn plan(
    feeds: &[OpmlFeed],
    existing: &mut Existing,
    targets: &[String],
    interval_ms: i64,
    added_by: &str,
    now: i64,
    check_url: impl Fn(&url::Url) -> Result<(), String>,
) -> (Vec<DynamicFeed>, ImportReport) {
    let mut rows = Vec::new();
    let mut report = ImportReport::default();
    for f in feeds {
        let parsed = match url::Url::parse(&f.url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => u,
            Ok(_) | Err(_) => {
                report
                    .skipped
                    .push((f.url.clone(), "not an http(s) URL".into()));
                continue;
            }
        };
        if let Err(e) = check_url(&parsed) {
            report.skipped.push((f.url.clone(), e));
            continue;
        }
        // Stored as the URL parser writes it: control characters and
        // spaces percent-encoded (a raw NUL would make the export, and
        // any XML we write from it, unreadable).
        let url = parsed.to_string();
        if !existing.urls.insert(url_key(&url)) {
            report
                .skipped
                .push((f.url.clone(), "already watched".into()));
            continue;
        }
        let base = slug(if f.title.is_empty() {
            parsed.host_str().unwrap_or("feed")
        } else {
            &f.title
        });
        let mut name = base.clone();
        let mut i = 2;
        while existing.names.contains(&name) {
            name = format!("{base}-{i}");
            i += 1;
        }
        existing.names.insert(name.clone());
        report.added.push((name.clone(), url.clone()));
        rows.push(DynamicFeed {
            name,
            url,
            targets: targets.to_vec(),
            interval_ms,
            added_by: added_by.to_string(),
            added_at: now,
        });
    }
    (rows, report)
}

/// Store the planned feeds, all or none.
pub fn store_all(store: &mut Store, rows: &[DynamicFeed]) -> anyhow::Result<()> {
    store
        .add_dynamic_feeds(rows)
        .map_err(|e| anyhow::anyhow!("nothing imported: {e}"))
}

/// An OPML document of `(name, url, folder)` feeds.
pub fn export<'a>(title: &str, feeds: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut doc = opml::OPML {
        head: Some(opml::Head {
            title: Some(title.to_string()),
            ..opml::Head::default()
        }),
        ..opml::OPML::default()
    };
    for (name, url) in feeds {
        doc.body.outlines.push(opml::Outline {
            text: name.to_string(),
            title: Some(name.to_string()),
            r#type: Some("rss".to_string()),
            xml_url: Some(url.to_string()),
            ..opml::Outline::default()
        });
    }
    let xml = doc
        .to_string()
        .unwrap_or_else(|_| "<opml version=\"2.0\"><body/></opml>".to_string());
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{xml}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const NESTED: &str = r#"<?xml version="1.0"?>
<opml version="2.0"><head><title>Old bot</title></head><body>
  <outline text="News">
    <outline text="World" title="World news" type="rss" xmlUrl="https://example.org/world/feed"/>
    <outline text="Local">
      <outline text="City hall" xmlUrl="https://example.org/city/feed/"/>
    </outline>
  </outline>
  <outline text="Sport" xmlUrl="https://example.org/sport/feed"/>
  <outline text="Again" xmlUrl="https://example.org/sport/feed"/>
  <outline text="Local file" xmlUrl="file:///etc/passwd"/>
</body></opml>"#;

    #[test]
    fn nested_folders_titles_and_urls_are_read() {
        let f = parse(NESTED).unwrap();
        assert_eq!(f.len(), 5);
        assert_eq!(f[0].title, "World news");
        assert_eq!(f[0].folder, "News");
        assert_eq!(f[1].folder, "News/Local");
        assert_eq!(f[1].url, "https://example.org/city/feed/");
    }

    #[test]
    fn duplicates_and_non_http_urls_are_skipped_and_reported() {
        let f = parse(NESTED).unwrap();
        let mut ex = Existing::new([(
            "world-news".to_string(),
            "https://other.example/x".to_string(),
        )]);
        let (rows, rep) = plan(&f, &mut ex, &["console".into()], 600_000, "cli", 0, |_| {
            Ok(())
        });
        let names: Vec<_> = rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["world-news-2", "city-hall", "sport"]);
        assert_eq!(rep.skipped.len(), 2, "{rep:?}");
        assert!(rep.summary().contains("already watched"));
        assert!(rep.summary().contains("not an http(s) URL"));
    }

    #[test]
    fn malformed_and_empty_files_are_clear_errors() {
        assert!(
            parse("<opml><body>")
                .unwrap_err()
                .contains("not a valid OPML")
        );
        assert!(
            parse("this is not xml")
                .unwrap_err()
                .contains("not a valid OPML")
        );
        let e = parse(r#"<opml version="2.0"><head/><body><outline text="x"/></body></opml>"#)
            .unwrap_err();
        assert!(e.contains("no feeds"), "{e}");
    }

    #[test]
    fn export_reads_back() {
        let xml = export(
            "Crier feeds",
            [
                ("a", "https://a.example/feed"),
                ("b & c", "https://b.example/rss?x=1&y=2"),
            ],
        );
        let back = parse(&xml).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[1].title, "b & c");
        assert_eq!(back[1].url, "https://b.example/rss?x=1&y=2");
    }

    #[test]
    fn control_characters_in_a_url_are_encoded_so_the_export_reads_back() {
        // Found by AFL: a NUL inside an imported URL made our own export
        // unreadable XML.
        let f = vec![OpmlFeed {
            title: "Sport".into(),
            url: "https://sport.example/\u{0}rss.xml".into(),
            folder: String::new(),
        }];
        let mut ex = Existing::new(Vec::<(String, String)>::new());
        let (rows, rep) = plan(&f, &mut ex, &["console".into()], 600_000, "cli", 0, |_| {
            Ok(())
        });
        assert_eq!(rep.added.len(), 1, "{rep:?}");
        assert_eq!(rows[0].url, "https://sport.example/%00rss.xml");
        let xml = export("x", rows.iter().map(|r| (r.name.as_str(), r.url.as_str())));
        assert_eq!(parse(&xml).expect("reads back")[0].url, rows[0].url);
    }
}
