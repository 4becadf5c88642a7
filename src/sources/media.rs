//! What a feed offers beyond title/summary/content, as pure functions:
//!
//! - `feedburner:origLink` (and the like): the article's own address
//!   instead of the FeedBurner redirector;
//! - Media RSS (`media:group`, `media:description`, `media:title`,
//!   `media:content`: YouTube, Vimeo, podcasts): a video entry with no
//!   summary gets its description, one with no link gets the video's;
//! - enclosures and Media RSS contents of audio or video: the post's
//!   [`Enclosure`]s (images are already the post's images).

use crier_bots::format::escape_html;
use crier_bots::model::{Enclosure, Post};
use url::Url;

use super::html::absolutize;

/// Elements that carry an item's original link, by local name.
pub(crate) const ORIG_LINK: &[&str] = &["origLink"];

/// At most this many enclosures per post.
const MAX_ENCLOSURES: usize = 10;

/// Plain text (a Media RSS description) as HTML: escaped, line breaks kept.
fn plain_to_html(text: &str) -> String {
    let escaped = escape_html(text.trim());
    escaped
        .split("\n\n")
        .map(|p| format!("<p>{}</p>", p.trim().replace('\n', "<br>")))
        .collect()
}

fn text_to_html(t: &feed_rs::model::Text) -> Option<String> {
    let s = t.content.trim();
    if s.is_empty() {
        return None;
    }
    if t.content_type.essence().to_string() == "text/html" {
        Some(s.to_string())
    } else {
        Some(plain_to_html(s))
    }
}

/// The MIME type of a Media RSS content, if it is audio or video.
fn av_enclosure(c: &feed_rs::model::MediaContent) -> Option<Enclosure> {
    let url = c.url.as_ref()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let e = Enclosure {
        url: url.to_string(),
        mime: c.content_type.as_ref().map(|t| t.essence().to_string()),
        length: c.size.filter(|n| *n > 0),
    };
    e.kind().map(|_| e)
}

/// Adds an RSS `<enclosure>` read beside feed-rs (which loses it next to
/// a `<media:content>`): audio or video only, once, within the cap.
pub(crate) fn add_rss_enclosure(
    post: &mut Post,
    base: &Url,
    (url, mime, length): &super::extras::RawEnclosure,
) {
    let Some(url) = absolutize(url, Some(base)) else {
        return;
    };
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return;
    }
    let e = Enclosure {
        url,
        mime: mime.as_ref().map(|m| m.trim().to_ascii_lowercase()),
        length: length.filter(|n| *n > 0),
    };
    if post.enclosures.len() < MAX_ENCLOSURES
        && e.kind().is_some()
        && !post.enclosures.iter().any(|x| x.url == e.url)
    {
        post.enclosures.push(e);
    }
}

/// Fills in what the entry's Media RSS and enclosures offer and the post
/// lacks (called once per entry, before identity and hashes are computed).
pub(crate) fn apply_entry(entry: &feed_rs::model::Entry, base: &Url, post: &mut Post) {
    for m in &entry.media {
        for c in &m.content {
            if post.enclosures.len() >= MAX_ENCLOSURES {
                break;
            }
            if let Some(e) = av_enclosure(c)
                && !post.enclosures.iter().any(|x| x.url == e.url)
            {
                post.enclosures.push(e);
            }
        }
    }
    // JSON Feed attachments and Atom `rel="enclosure"` links.
    for l in &entry.links {
        if post.enclosures.len() >= MAX_ENCLOSURES {
            break;
        }
        let is_enclosure = l.rel.as_deref() == Some("enclosure")
            || l.media_type
                .as_deref()
                .is_some_and(|t| t.starts_with("audio/") || t.starts_with("video/"));
        if !is_enclosure {
            continue;
        }
        let Some(url) = absolutize(&l.href, Some(base)) else {
            continue;
        };
        let e = Enclosure {
            url,
            mime: l.media_type.clone(),
            length: l.length.filter(|n| *n > 0),
        };
        if e.kind().is_some() && !post.enclosures.iter().any(|x| x.url == e.url) {
            post.enclosures.push(e);
        }
    }
    if post.summary_html.is_none() && post.content_html.is_none() {
        post.summary_html = entry
            .media
            .iter()
            .find_map(|m| m.description.as_ref().and_then(text_to_html));
    }
    if post.title.trim().is_empty()
        && let Some(t) = entry.media.iter().find_map(|m| m.title.as_ref())
    {
        post.title = t.content.trim().to_string();
    }
    if post.link.is_none() {
        post.link = entry
            .media
            .iter()
            .flat_map(|m| m.content.iter())
            .filter_map(|c| c.url.as_ref())
            .find_map(|u| absolutize(u.as_str(), Some(base)));
    }
}

/// Each item's (or entry's) original link, in document order: the text
/// of `feedburner:origLink` or a like element, when it is an absolute
/// `http(s)` URL.
pub(crate) fn orig_links(xml: &str) -> Vec<Option<String>> {
    use quick_xml::events::Event;
    let mut out: Vec<Option<String>> = Vec::new();
    if !ORIG_LINK.iter().any(|n| xml.contains(n)) {
        return out;
    }
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut in_item = false;
    let mut in_orig = false;
    let mut buf = String::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let qname = e.name();
                let name: &str = qname.as_ref();
                let local = name.rsplit(':').next().unwrap_or(name);
                if local == "item" || local == "entry" {
                    in_item = true;
                    out.push(None);
                } else if in_item && ORIG_LINK.contains(&local) {
                    in_orig = true;
                    buf.clear();
                }
            }
            Ok(Event::Text(t)) if in_orig => buf.push_str(&t),
            Ok(Event::CData(t)) if in_orig => buf.push_str(&t),
            Ok(Event::GeneralRef(r)) if in_orig => {
                let name = r.to_string();
                match name.as_str() {
                    "amp" | "#38" => buf.push('&'),
                    _ => {
                        buf.push('&');
                        buf.push_str(&name);
                        buf.push(';');
                    }
                }
            }
            Ok(Event::End(e)) => {
                let qname = e.name();
                let name: &str = qname.as_ref();
                let local = name.rsplit(':').next().unwrap_or(name);
                if local == "item" || local == "entry" {
                    in_item = false;
                } else if in_orig && ORIG_LINK.contains(&local) {
                    in_orig = false;
                    let text = std::mem::take(&mut buf);
                    if let (Some(slot), Ok(u)) = (out.last_mut(), Url::parse(text.trim()))
                        && matches!(u.scheme(), "http" | "https")
                        && slot.is_none()
                    {
                        *slot = Some(u.to_string());
                    }
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => {}
        }
    }
    out
}

/// The original links of a parsed document's items replace their
/// redirector links (the identity keys, computed from the feed's own
/// link, stay as they are). Applied only when every item was seen.
pub(crate) fn apply_orig_links(xml: &str, items: &mut [super::SourceItem]) {
    apply_links(orig_links(xml), items);
}

/// [`apply_orig_links`] with the links already read (by
/// [`super::extras::scan_xml`]).
pub(crate) fn apply_links(links: Vec<Option<String>>, items: &mut [super::SourceItem]) {
    if links.len() != items.len() {
        return;
    }
    for (item, link) in items.iter_mut().zip(links) {
        if let Some(l) = link {
            item.post.link = Some(l);
        }
    }
}

/// The site's own title from the WordPress REST API index (`/wp-json/`:
/// `{"name": "Site &amp; Co", …}`), entities decoded; `None` when the
/// answer has no usable name.
pub(crate) fn wp_site_title(bytes: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let name = v.get("name")?.as_str()?;
    let t = super::html::decode_text(name);
    let t = t.trim();
    (!t.is_empty() && t.chars().count() <= 200).then(|| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orig_links_in_document_order() {
        let xml = r#"<rss xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0"><channel>
            <item><link>http://feedproxy.google.com/~r/site/~3/abc/</link>
              <feedburner:origLink>https://site.example/2024/a/?utm=1&amp;x=2</feedburner:origLink></item>
            <item><link>https://site.example/b</link></item>
            <item><feedburner:origLink>javascript:alert(1)</feedburner:origLink></item>
        </channel></rss>"#;
        assert_eq!(
            orig_links(xml),
            vec![
                Some("https://site.example/2024/a/?utm=1&x=2".to_string()),
                None,
                None
            ]
        );
        assert!(orig_links("<rss><channel><item/></channel></rss>").is_empty());
    }

    fn parse(name: &str, bytes: &[u8]) -> Vec<Post> {
        let base = Url::parse("https://feeds.example/feed").expect("url");
        super::super::parse::parse_document(bytes, None, &base)
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .items
            .into_iter()
            .map(|i| i.post)
            .collect()
    }

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/snapshots/");

    fn fixture(name: &str) -> Vec<Post> {
        let bytes = std::fs::read(format!("{FIXTURES}{name}")).expect("fixture");
        parse(name, &bytes)
    }

    #[test]
    fn an_audio_enclosure_beside_a_media_content_image_is_kept() {
        let xml = br#"<?xml version="1.0"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>P</title><link>https://p.example/</link>
<item><title>Episode 7</title><link>https://p.example/7</link><guid>ep7</guid>
<description>Seven.</description>
<enclosure url="https://cdn.p.example/7.mp3" length="1200000" type="audio/mpeg"/>
<media:content url="https://p.example/art/7.jpg" medium="image" type="image/jpeg"/>
</item></channel></rss>"#;
        let posts = parse("enclosure-and-media-content", xml);
        assert_eq!(
            posts[0].enclosures.first().map(|e| e.url.as_str()),
            Some("https://cdn.p.example/7.mp3"),
            "{:?}",
            posts[0].enclosures
        );
    }

    #[test]
    fn feedburner_items_link_to_the_original() {
        let posts = fixture("feedburner-origlink.xml");
        assert_eq!(
            posts[0].link.as_deref(),
            Some("https://gadgetnotes.example/2024/12/04/e-ink-tablet-hands-on/")
        );
    }

    #[test]
    fn video_entries_get_their_description_and_link() {
        let posts = fixture("youtube-channel.xml");
        let p = &posts[0];
        assert_eq!(
            p.link.as_deref(),
            Some("https://www.youtube.com/watch?v=dQw4w9WgXcQ")
        );
        let summary = p.summary_html.as_deref().unwrap_or("");
        assert!(summary.starts_with("<p>One 4x8 sheet"), "{summary}");
        assert!(summary.contains("<br>02:15 Breaking down"), "{summary}");
        assert_eq!(
            p.image(),
            Some("https://i2.ytimg.com/vi/dQw4w9WgXcQ/hqdefault.jpg")
        );
        // The Flash player URL is no enclosure.
        assert!(p.enclosures.is_empty());
    }

    #[test]
    fn podcast_and_json_feed_audio_are_enclosures() {
        let ep = &fixture("podcast-episode.xml")[0];
        assert_eq!(
            ep.enclosures,
            vec![Enclosure {
                url: "https://media.longcommute.example/audio/lc142.mp3".into(),
                mime: Some("audio/mpeg".into()),
                length: Some(48_213_377),
            }]
        );
        let micro = fixture("jsonfeed-micro.json");
        let walk = micro
            .iter()
            .find(|p| p.link.as_deref() == Some("https://micro.example/2024/12/04/morning.html"))
            .expect("item");
        assert_eq!(
            walk.enclosures.first().map(|e| e.url.as_str()),
            Some("https://micro.example/uploads/2024/robin.mp3")
        );
        // An image enclosure is the article's image, not a file to play.
        let photo = &fixture("image-enclosure.xml")[0];
        assert!(photo.enclosures.is_empty());
        assert_eq!(
            photo.image(),
            Some("https://photoday.example/img/2024/12/aurora-tromso.jpg")
        );
    }

    #[test]
    fn wordpress_site_title() {
        let bytes = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/wordpress/api-root.json"
        ))
        .expect("fixture");
        assert_eq!(
            wp_site_title(&bytes).as_deref(),
            Some("Meritnews24 – World & Politics")
        );
        assert_eq!(wp_site_title(br#"{"name": "  "}"#), None);
        assert_eq!(wp_site_title(b"<html>"), None);
    }

    #[test]
    fn plain_descriptions_become_paragraphs() {
        assert_eq!(
            plain_to_html("Line <1>\nline 2\n\nNext & last"),
            "<p>Line &lt;1&gt;<br>line 2</p><p>Next &amp; last</p>"
        );
    }
}
