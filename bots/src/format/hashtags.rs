//! Hashtags from a post's categories: a few readable tags, the most
//! specific first.
//!
//! - Catch-all categories (`Uncategorized`, `News`, `Featured`…) are left
//!   out: every post of the site has them.
//! - Categories named in the title (the most specific to this article)
//!   come first, then the others in the feed's order.
//! - A person filed as `Lastname, Firstname` becomes `#FirstnameLastname`
//!   (never `#LastnameFirstname`); other comma forms are dropped.
//! - A tag longer than [`MAX_TAG_CHARS`] characters is dropped (a
//!   60-character CamelCase run is not readable).
//! - A category path keeps its most specific part (`News > World >
//!   Europe`, `World/Europe` → `#Europe`), a community prefix goes
//!   (`r/woodworking` → `#woodworking`), and so does a trailing
//!   qualifier (`Mercury (planet)` → `#Mercury`).

use super::repair::repair_text;
use super::text::{hashtag, one_line};

/// Longest tag kept, in characters (without the `#`).
pub(crate) const MAX_TAG_CHARS: usize = 25;

/// Categories too broad to be worth a tag (lowercase).
const GENERIC: &[&str] = &[
    "uncategorized",
    "uncategorised",
    "non classé",
    "sin categoría",
    "allgemein",
    "general",
    "news",
    "latest",
    "latest news",
    "breaking",
    "breaking news",
    "featured",
    "feature",
    "featured posts",
    "top stories",
    "top story",
    "headlines",
    "home",
    "homepage",
    "main",
    "slider",
    "trending",
    "blog",
    "blogs",
    "posts",
    "articles",
    "stories",
    "misc",
    "other",
    "editor's pick",
    "editors picks",
    "editor’s pick",
];

/// A comma form: `Some(Some("Firstname Lastname"))` for `Lastname,
/// Firstname` (one capitalised word each side), `Some(None)` for other
/// comma forms (`Biden, Joseph R Jr`: dropped), `None` without a comma.
fn person_order(c: &str) -> Option<Option<String>> {
    let (last, first) = c.split_once(',')?;
    let (last, first) = (last.trim(), first.trim());
    let word = |w: &str| {
        !w.is_empty()
            && !w.contains(char::is_whitespace)
            && w.chars().next().is_some_and(char::is_uppercase)
            && w.chars()
                .all(|c| c.is_alphabetic() || c == '-' || c == '\'' || c == '’')
    };
    if word(last) && word(first) {
        Some(Some(format!("{first} {last}")))
    } else {
        Some(None)
    }
}

/// `Opening hours` → `OpeningHours`, `side-project` → `sideProject`:
/// each word after the first starts with a capital, so the joined tag
/// stays readable (`E-ink` stays `Eink`: a one-letter part is a prefix).
fn camel_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut part_len = 0;
    let mut upper_next = false;
    for c in name.chars() {
        if c.is_whitespace() || c == '-' || c == '_' {
            upper_next = part_len >= 2 || c.is_whitespace();
            part_len = 0;
            out.push(' ');
            continue;
        }
        if upper_next && out.trim().chars().next().is_some() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        upper_next = false;
        part_len += 1;
    }
    out
}

/// The most specific part of a category: the last step of a path (`>`,
/// `»`, `|`, a spaced ` / `, or a `/` between parts of 3+ characters —
/// `AC/DC` and `24/7` are names, not paths), without a one-letter
/// community prefix (`r/`, `u/`) or a trailing `(qualifier)`.
fn specific(c: &str) -> &str {
    let mut c = c.trim();
    if let Some((_, last)) = c.rsplit_once(['>', '»', '|']) {
        c = last.trim();
    } else if let Some((_, last)) = c.rsplit_once(" / ") {
        c = last.trim();
    } else if c.contains('/') {
        let parts: Vec<&str> = c.split('/').map(str::trim).collect();
        let prefix = parts.len() == 2 && parts[0].chars().count() == 1;
        if prefix || parts.iter().all(|p| p.chars().count() >= 3) {
            c = parts.last().copied().unwrap_or(c);
        }
    }
    if c.ends_with(')')
        && let Some(open) = c.rfind('(')
    {
        let head = c[..open].trim_end();
        if !head.is_empty() {
            c = head;
        }
    }
    c
}

/// At most `max` hashtags for `categories`, in order of preference.
pub(crate) fn hashtags(categories: &[String], title: &str, max: usize) -> Vec<String> {
    if max == 0 {
        return Vec::new();
    }
    let title = title.to_lowercase();
    let mut cands: Vec<(bool, String)> = Vec::new();
    for c in categories.iter().take(60) {
        let c = one_line(&repair_text(c));
        let c = specific(&c).to_string();
        if c.is_empty() || GENERIC.contains(&c.to_lowercase().as_str()) {
            continue;
        }
        let name = match person_order(&c) {
            Some(Some(natural)) => natural,
            Some(None) => continue,
            None => c,
        };
        let Some(tag) = hashtag(&camel_case(&name)) else {
            continue;
        };
        if tag.chars().count() - 1 > MAX_TAG_CHARS {
            continue;
        }
        if cands
            .iter()
            .any(|(_, t)| t.to_lowercase() == tag.to_lowercase())
        {
            continue;
        }
        let in_title = title.contains(&name.to_lowercase());
        cands.push((in_title, tag));
    }
    // Stable: named in the title first, then the feed's order.
    cands.sort_by_key(|(in_title, _)| !*in_title);
    cands.into_iter().map(|(_, t)| t).take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_few_readable_tags() {
        let cats = v(&[
            "News",
            "Uncategorized",
            "World",
            "Trump, Donald",
            "Biden, Joseph R Jr",
            "RussiaUkraineWarLatestUpdatesAndLiveCoverage",
            "Ukraine",
            "Energy",
            "Europe",
            "Gas Prices",
            "Winter",
        ]);
        let tags = hashtags(&cats, "Ukraine braces for a cold winter", 5);
        assert_eq!(
            tags,
            v(&["#Ukraine", "#Winter", "#World", "#DonaldTrump", "#Energy"])
        );
        assert_eq!(hashtags(&cats, "", 2), v(&["#World", "#DonaldTrump"]));
        assert!(hashtags(&cats, "", 0).is_empty());
        assert_eq!(
            hashtags(&v(&["Opening hours", "side-project", "E-ink"]), "", 5),
            v(&["#OpeningHours", "#sideProject", "#Eink"])
        );
    }

    #[test]
    fn paths_prefixes_and_qualifiers_keep_the_specific_part() {
        let cats = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            hashtags(
                &cats(&["News > World > Europe", "r/woodworking", "Mercury (planet)"]),
                "",
                5
            ),
            ["#Europe", "#woodworking", "#Mercury"]
        );
        assert_eq!(
            hashtags(
                &cats(&[
                    "World/Asia",
                    "Sport » Football",
                    "Tech | Gadgets",
                    "Culture / Film"
                ]),
                "",
                5
            ),
            ["#Asia", "#Football", "#Gadgets", "#Film"]
        );
        // Names with a slash are not paths; a lone qualifier stays.
        assert_eq!(
            hashtags(&cats(&["AC/DC", "24/7 Live", "(Video)"]), "", 5),
            ["#ACDC", "#247Live", "#Video"]
        );
        // A path's last step equal to another tag is one tag.
        assert_eq!(
            hashtags(&cats(&["Europe", "World > Europe"]), "", 5),
            ["#Europe"]
        );
        assert_eq!(specific("Ελλάδα > Αθήνα (πόλη)"), "Αθήνα");
    }
}
