//! WebSub discovery (§4): the hub and the topic (`rel="self"`) from the
//! HTTP `Link` header, else from the feed itself (Atom `<link>`, RSS
//! `<atom:link>`). The header wins, as the recommendation says. Only the
//! feed's head is read: discovery stops at the first item or entry.

use url::Url;

use crate::sources::{FeedSpec, Fetcher};

/// A feed's hub and topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovered {
    pub hub: Url,
    pub topic: Url,
}

/// `rel="hub"` and `rel="self"` links found in one place.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Links {
    pub hubs: Vec<Url>,
    pub this: Option<Url>,
}

fn http(u: Url) -> Option<Url> {
    matches!(u.scheme(), "http" | "https").then_some(u)
}

fn add(links: &mut Links, rel: &str, href: &str, base: &Url) {
    let Some(url) = base.join(href.trim()).ok().and_then(http) else {
        return;
    };
    for r in rel.split_ascii_whitespace() {
        if r.eq_ignore_ascii_case("hub") && !links.hubs.contains(&url) {
            links.hubs.push(url.clone());
        } else if r.eq_ignore_ascii_case("self") && links.this.is_none() {
            links.this = Some(url.clone());
        }
    }
}

/// The links of a `Link` header (RFC 8288): `<url>; rel="hub", <url>; rel=self`.
pub fn from_link_header(value: &str, base: &Url) -> Links {
    let mut links = Links::default();
    let mut rest = value;
    while let Some(start) = rest.find('<') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('>') else { break };
        let target = &after[..end];
        let params_and_more = &after[end + 1..];
        // Parameters run to the next link (a comma outside quotes).
        let mut in_quotes = false;
        let mut cut = params_and_more.len();
        for (i, c) in params_and_more.char_indices() {
            match c {
                '"' => in_quotes = !in_quotes,
                ',' if !in_quotes => {
                    cut = i;
                    break;
                }
                _ => {}
            }
        }
        let params = &params_and_more[..cut];
        for p in params.split(';') {
            if let Some((k, v)) = p.split_once('=')
                && k.trim().eq_ignore_ascii_case("rel")
            {
                add(&mut links, v.trim().trim_matches('"'), target, base);
            }
        }
        rest = &params_and_more[cut..];
    }
    links
}

/// The links of a feed document's head (`<link rel="hub" href="…"/>`,
/// whatever the namespace prefix).
pub fn from_document(body: &[u8], base: &Url) -> Links {
    use quick_xml::events::Event;
    let mut links = Links::default();
    let mut reader = quick_xml::Reader::from_reader(body);
    {
        let c = reader.config_mut();
        c.check_end_names = false;
        c.allow_unmatched_ends = true;
    }
    let mut buf = Vec::new();
    let mut errors = 0;
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                let name = e.local_name();
                let name = name.as_ref();
                if name == "item" || name == "entry" {
                    break;
                }
                if name == "link" {
                    let mut rel = None;
                    let mut href = None;
                    for a in e.attributes().with_checks(false).flatten() {
                        let value = a
                            .normalized_value(quick_xml::XmlVersion::default())
                            .map(|v| v.into_owned())
                            .unwrap_or_else(|_| a.value.to_string());
                        match a.key.local_name().as_ref() {
                            "rel" => rel = Some(value),
                            "href" => href = Some(value),
                            _ => {}
                        }
                    }
                    if let (Some(rel), Some(href)) = (rel, href) {
                        add(&mut links, &rel, &href, base);
                    }
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(_) => {
                errors += 1;
                if errors > 100 {
                    break;
                }
            }
        }
        buf.clear();
    }
    links
}

/// Fetch the feed (through the spec's guard) and find its hub and topic.
/// `Ok(None)`: the feed names no hub.
pub async fn discover(fetcher: &Fetcher, spec: &FeedSpec) -> Result<Option<Discovered>, String> {
    let raw = fetcher
        .get(
            &spec.url,
            spec,
            None,
            "application/atom+xml, application/rss+xml, application/xml;q=0.9, */*;q=0.1",
        )
        .await
        .map_err(|e| crate::redact::redact_text(&e.to_string()))?;
    let header = raw
        .link
        .as_deref()
        .map(|h| from_link_header(h, &raw.url))
        .unwrap_or_default();
    let doc = from_document(&raw.body, &raw.url);
    let hub = header.hubs.into_iter().chain(doc.hubs).next();
    let topic = header.this.or(doc.this).unwrap_or(raw.url);
    Ok(hub.map(|hub| Discovered { hub, topic }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("http://site.example/feed/").unwrap()
    }

    #[test]
    fn link_headers_give_hub_and_self() {
        let l = from_link_header(
            r#"<https://hub.example/>; rel="hub", </feed/atom>; rel="self", <https://api.w.org/x>; rel="https://api.w.org/""#,
            &base(),
        );
        assert_eq!(l.hubs, vec![Url::parse("https://hub.example/").unwrap()]);
        assert_eq!(l.this.unwrap().as_str(), "http://site.example/feed/atom");
        let l = from_link_header(r#"<http://h.example/a,b>; rel="self hub""#, &base());
        assert_eq!(l.hubs.len(), 1);
        assert_eq!(l.this.unwrap().as_str(), "http://h.example/a,b");
        assert_eq!(from_link_header("garbage <", &base()), Links::default());
        assert_eq!(
            from_link_header("<file:///etc/passwd>; rel=hub", &base()),
            Links::default()
        );
    }

    #[test]
    fn feeds_name_their_hub_in_the_head_only() {
        let rss = br#"<?xml version="1.0"?><rss xmlns:atom="http://www.w3.org/2005/Atom"><channel>
            <link>http://site.example/</link>
            <atom:link rel="hub" href="https://pubsubhubbub.appspot.com/"/>
            <atom:link rel="self" href="http://site.example/feed/?a=1&amp;b=2" type="application/rss+xml"/>
            <item><atom:link rel="hub" href="https://evil.example/"/></item></channel></rss>"#;
        let l = from_document(rss, &base());
        assert_eq!(
            l.hubs,
            vec![Url::parse("https://pubsubhubbub.appspot.com/").unwrap()]
        );
        assert_eq!(
            l.this.unwrap().as_str(),
            "http://site.example/feed/?a=1&b=2"
        );
        let atom = br#"<feed xmlns="http://www.w3.org/2005/Atom"><link rel="hub" href="/hub"/><entry/></feed>"#;
        let l = from_document(atom, &base());
        assert_eq!(l.hubs[0].as_str(), "http://site.example/hub");
        assert!(l.this.is_none());
        assert_eq!(from_document(b"\xff\xfe<<<", &base()), Links::default());
    }
}
