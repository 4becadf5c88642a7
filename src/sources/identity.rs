//! Article identity: keys that stay stable across polls, and content hashes.
//!
//! Every item gets every key that the document gives it *and* that is unique
//! within the document, most preferred first:
//! 1. `guid:<id>` — the RSS `<guid>`, Atom `<id>` or JSON Feed `id`, only when
//!    the document itself carries it (never an id invented by the parser);
//! 2. `link:<normalized link>` — scheme/host lowercased, fragment, default
//!    port and tracking parameters dropped;
//! 3. `hash:<sha256(title, date)>` — only when neither of the above exists.
//!
//! The core looks an article up by any of its keys: a feed that stops (or
//! starts) sending GUIDs still matches its old articles by link.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use url::Url;

use crier_bots::Post;

use super::SourceItem;

/// Which kind of key identifies an item (the type of its first key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyType {
    /// The document's own GUID / Atom id / JSON Feed id.
    Guid,
    /// The normalized article link.
    Link,
    /// A hash of title and date (last resort).
    Hash,
}

impl KeyType {
    /// The prefix used in keys of this type (`guid`, `link`, `hash`).
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::Guid => "guid",
            KeyType::Link => "link",
            KeyType::Hash => "hash",
        }
    }

    /// The type of a prefixed key (`"link:https://…"` → `Link`).
    pub fn of_key(key: &str) -> Option<KeyType> {
        match key.split_once(':')?.0 {
            "guid" => Some(KeyType::Guid),
            "link" => Some(KeyType::Link),
            "hash" => Some(KeyType::Hash),
            _ => None,
        }
    }
}

impl std::fmt::Display for KeyType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Query parameters dropped from links before they become keys.
const TRACKING_EXACT: &[&str] = &[
    "fbclid",
    "gclid",
    "gclsrc",
    "dclid",
    "msclkid",
    "yclid",
    "twclid",
    "igshid",
    "mc_cid",
    "mc_eid",
    "_hsenc",
    "_hsmi",
    "_ga",
    "_gl",
    "mkt_tok",
    "oly_anon_id",
    "oly_enc_id",
    "vero_id",
    "wickedid",
    "rb_clickid",
    "s_cid",
    "ncid",
    "cmpid",
    "ito",
    "sr_share",
];

fn is_tracking_param(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("utm_") || TRACKING_EXACT.contains(&lower.as_str())
}

/// What makes two feed URLs the same feed: the normalized link (see
/// [`normalize_link`]) without the http/https difference, a trailing `/`
/// or a leading `www.`. Two feeds with the same identity would post every
/// article twice.
pub fn feed_identity(url: &Url) -> String {
    let norm = normalize_link(url.as_str(), None).unwrap_or_else(|| url.to_string());
    let rest = norm
        .strip_prefix("https://")
        .or_else(|| norm.strip_prefix("http://"))
        .unwrap_or(&norm);
    let rest = rest.strip_prefix("www.").unwrap_or(rest);
    rest.trim_end_matches('/').to_owned()
}

/// Normalizes a link for use as an identity key: parses it (relative links
/// against `base`), lowercases scheme and host (the URL parser does that and
/// drops default ports), drops the fragment and tracking parameters
/// (`utm_*`, `fbclid`, `gclid`, …), and an empty query. Returns `None` for
/// an empty or unparsable link.
pub fn normalize_link(link: &str, base: Option<&Url>) -> Option<String> {
    let link = link.trim();
    if link.is_empty() {
        return None;
    }
    let mut url = match base {
        Some(base) => base.join(link).ok()?,
        None => Url::parse(link).ok()?,
    };
    url.set_fragment(None);
    if url.query().is_some() {
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| !is_tracking_param(k))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if kept.is_empty() {
            url.set_query(None);
        } else {
            // Re-serialize only when something was dropped, to keep the
            // original encoding of the query otherwise.
            let before = url.query_pairs().count();
            if kept.len() != before {
                url.query_pairs_mut().clear().extend_pairs(kept);
            }
        }
    }
    Some(url.to_string())
}

/// Hex SHA-256 of the parts, each length-prefixed (so `("ab","c")` and
/// `("a","bc")` differ).
pub(crate) fn hash_parts(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    hex::encode(&hasher.finalize()[..16])
}

/// The content hash of a post: what, when it changes for a known article,
/// makes it an **update** — title, summary, content and main image. Dates
/// are deliberately not part of it (a re-dated item is not an update).
pub fn content_hash(post: &Post) -> String {
    hash_parts(&[
        post.title.trim(),
        post.summary_html.as_deref().unwrap_or("").trim(),
        post.content_html.as_deref().unwrap_or("").trim(),
        post.image().unwrap_or(""),
    ])
}

/// Candidate identity of one item before uniqueness is checked.
#[derive(Debug, Default, Clone)]
pub(crate) struct Candidate {
    /// The document's own id, if it has one.
    pub guid: Option<String>,
    /// The item link (already absolute).
    pub link: Option<String>,
}

/// Assigns keys to a whole document: each candidate key is kept only when
/// no other item of the document shares it. Returns, per item, its keys
/// (most preferred first) and key type.
pub(crate) fn assign_keys(cands: &[Candidate], posts: &[Post]) -> Vec<(Vec<String>, KeyType)> {
    let guid_keys: Vec<Option<String>> = cands
        .iter()
        .map(|c| {
            c.guid
                .as_deref()
                .map(str::trim)
                .filter(|g| !g.is_empty())
                .map(|g| format!("guid:{g}"))
        })
        .collect();
    let link_keys: Vec<Option<String>> = cands
        .iter()
        .map(|c| {
            c.link
                .as_deref()
                .and_then(|l| normalize_link(l, None))
                .map(|l| format!("link:{l}"))
        })
        .collect();
    let hash_keys: Vec<String> = posts
        .iter()
        .map(|p| {
            let date = p
                .published
                .or(p.updated)
                .map(|d| d.to_rfc3339())
                .unwrap_or_default();
            // An untitled item is told apart by its text.
            let text = if p.title.trim().is_empty() {
                p.summary_html
                    .as_deref()
                    .or(p.content_html.as_deref())
                    .unwrap_or("")
            } else {
                ""
            };
            format!("hash:{}", hash_parts(&[p.title.trim(), &date, text]))
        })
        .collect();

    let mut counts: HashMap<&str, usize> = HashMap::new();
    for key in guid_keys.iter().chain(link_keys.iter()).flatten() {
        *counts.entry(key.as_str()).or_default() += 1;
    }
    for key in &hash_keys {
        *counts.entry(key.as_str()).or_default() += 1;
    }
    let unique = |k: &str| counts.get(k).copied() == Some(1);

    let mut out = Vec::with_capacity(cands.len());
    for i in 0..cands.len() {
        let mut keys = Vec::with_capacity(2);
        for key in [&guid_keys[i], &link_keys[i]].into_iter().flatten() {
            if unique(key) {
                keys.push(key.clone());
            }
        }
        if keys.is_empty() {
            // Unique, or a verbatim repeat of an earlier item (same title,
            // date and text): the caller drops such repeats.
            keys.push(hash_keys[i].clone());
        }
        let key_type = keys
            .first()
            .and_then(|k| KeyType::of_key(k))
            .unwrap_or(KeyType::Hash);
        out.push((keys, key_type));
    }
    out
}

/// Pairs posts with their keys and hashes, dropping verbatim repeats.
pub(crate) fn build_items(cands: &[Candidate], posts: Vec<Post>) -> Vec<SourceItem> {
    let keys = assign_keys(cands, &posts);
    let mut seen_hash_only = std::collections::HashSet::new();
    let mut items = Vec::with_capacity(posts.len());
    for (post, (keys, key_type)) in posts.into_iter().zip(keys) {
        if key_type == KeyType::Hash
            && let Some(k) = keys.first()
            && !seen_hash_only.insert(k.clone())
        {
            continue;
        }
        let content_hash = content_hash(&post);
        items.push(SourceItem {
            keys,
            key_type,
            content_hash,
            post,
        });
    }
    items
}

/// The most common key type among items (ties: the more preferred).
pub(crate) fn dominant_key_type(items: &[SourceItem]) -> Option<KeyType> {
    use KeyType::*;
    let count = |t| items.iter().filter(|i| i.key_type == t).count();
    let (g, l, h) = (count(Guid), count(Link), count(Hash));
    if items.is_empty() {
        None
    } else if g >= l && g >= h {
        Some(Guid)
    } else if l >= h {
        Some(Link)
    } else {
        Some(Hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_identity_ignores_scheme_www_and_trailing_slash() {
        let id = |s: &str| feed_identity(&Url::parse(s).expect("url"));
        assert_eq!(
            id("https://www.Blog.example/feed/"),
            id("http://blog.example/feed")
        );
        assert_eq!(
            id("https://blog.example/feed?utm_source=x"),
            id("https://blog.example/feed")
        );
        assert_ne!(
            id("https://blog.example/feed"),
            id("https://blog.example/comments/feed")
        );
    }

    #[test]
    fn normalizes_links() {
        assert_eq!(
            normalize_link(
                "HTTPS://Example.COM:443/a/b?utm_source=x&id=3&fbclid=abc#frag",
                None
            )
            .as_deref(),
            Some("https://example.com/a/b?id=3")
        );
        assert_eq!(
            normalize_link("https://example.com/a?utm_medium=rss&UTM_campaign=y", None).as_deref(),
            Some("https://example.com/a")
        );
        assert_eq!(
            normalize_link("https://example.com/a?b=%20c&d=1", None).as_deref(),
            Some("https://example.com/a?b=%20c&d=1")
        );
        let base = Url::parse("https://example.com/blog/feed/").ok();
        assert_eq!(
            normalize_link("../post-1/", base.as_ref()).as_deref(),
            Some("https://example.com/blog/post-1/")
        );
        assert_eq!(normalize_link("  ", None), None);
        assert_eq!(normalize_link("not a url", None), None);
    }

    fn post(title: &str) -> Post {
        Post {
            title: title.into(),
            ..Post::default()
        }
    }

    #[test]
    fn keys_only_when_unique_in_document() {
        let cands = vec![
            Candidate {
                guid: Some("same".into()),
                link: Some("https://e.com/1".into()),
            },
            Candidate {
                guid: Some("same".into()),
                link: Some("https://e.com/2?utm_source=a".into()),
            },
            Candidate {
                guid: None,
                link: Some("https://e.com/home".into()),
            },
            Candidate {
                guid: None,
                link: Some("https://e.com/home#x".into()),
            },
        ];
        let posts = vec![post("a"), post("b"), post("c"), post("d")];
        let keys = assign_keys(&cands, &posts);
        assert_eq!(keys[0].0, vec!["link:https://e.com/1"]);
        assert_eq!(keys[1].0, vec!["link:https://e.com/2"]);
        assert_eq!(keys[1].1, KeyType::Link);
        // Shared link: falls back to the title/date hash.
        assert_eq!(keys[2].1, KeyType::Hash);
        assert!(keys[2].0[0].starts_with("hash:"));
        assert_ne!(keys[2].0, keys[3].0);
    }

    #[test]
    fn guid_then_link() {
        let cands = vec![Candidate {
            guid: Some(" https://e.com/?p=1 ".into()),
            link: Some("https://e.com/post/".into()),
        }];
        let keys = assign_keys(&cands, &[post("t")]);
        assert_eq!(
            keys[0].0,
            vec!["guid:https://e.com/?p=1", "link:https://e.com/post/"]
        );
        assert_eq!(keys[0].1, KeyType::Guid);
    }

    #[test]
    fn content_hash_ignores_dates_but_not_content() {
        let mut a = post("Title");
        a.content_html = Some("<p>x</p>".into());
        let mut b = a.clone();
        b.published = chrono::DateTime::from_timestamp(1_000, 0);
        assert_eq!(content_hash(&a), content_hash(&b));
        b.content_html = Some("<p>y</p>".into());
        assert_ne!(content_hash(&a), content_hash(&b));
        let mut c = a.clone();
        c.images = vec!["https://e.com/i.jpg".into()];
        assert_ne!(content_hash(&a), content_hash(&c));
    }
}
