//! Routing: which targets an article goes to, and in which state its
//! delivery rows start (`pending`, or `filtered` naming the rule, or
//! `skipped` for a new feed's backlog).

use std::collections::HashMap;

use crier_bots::Post;
use crier_storage::{Route, State};
use regex::Regex;

use crate::config::{Config, FeedConfig, FilterConfig, PATTERN_SIZE_LIMIT};

/// Why a delivery row starts out skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Deliver.
    Deliver,
    /// The item was already in the feed when Crier first read it.
    Baseline,
}

/// A filter ready to run.
#[derive(Debug, Clone)]
pub struct Filter {
    /// `feed filter` or `route filter`, for the reason text.
    scope: String,
    include_categories: Vec<String>,
    exclude_categories: Vec<String>,
    include_keywords: Option<(Regex, Vec<String>)>,
    exclude_keywords: Option<(Regex, Vec<String>)>,
    include_regex: Option<Regex>,
    exclude_regex: Option<Regex>,
    languages: Vec<String>,
}

fn keywords_regex(words: &[crate::config::EnvString]) -> Option<(Regex, Vec<String>)> {
    let words: Vec<String> = words
        .iter()
        .map(|w| w.trim().to_string())
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        return None;
    }
    // Whole words/phrases, case-insensitive; escaped, so always valid.
    let alts: Vec<String> = words.iter().map(|w| regex::escape(w)).collect();
    let re = regex::RegexBuilder::new(&format!(r"(?i)\b(?:{})\b", alts.join("|")))
        .size_limit(PATTERN_SIZE_LIMIT * 8)
        .build()
        .ok()?;
    Some((re, words))
}

/// The text keyword and regex filters look at: title, summary (as text),
/// authors.
pub fn match_text(post: &Post) -> String {
    let mut s = post.title.clone();
    if let Some(summary) = &post.summary_html {
        s.push('\n');
        let frag = scraper::Html::parse_fragment(summary);
        for t in frag.root_element().text() {
            s.push_str(t);
        }
    }
    for a in &post.authors {
        s.push('\n');
        s.push_str(a);
    }
    s
}

fn quoted(v: &[String]) -> String {
    v.iter()
        .map(|s| format!("{s:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Filter {
    pub fn new(scope: impl Into<String>, f: &FilterConfig) -> Filter {
        let lower = |v: &[crate::config::EnvString]| -> Vec<String> {
            v.iter().map(|s| s.trim().to_lowercase()).collect()
        };
        Filter {
            scope: scope.into(),
            include_categories: lower(&f.include_categories),
            exclude_categories: lower(&f.exclude_categories),
            include_keywords: keywords_regex(&f.include_keywords),
            exclude_keywords: keywords_regex(&f.exclude_keywords),
            include_regex: f.include_regex.as_ref().map(|p| p.0.clone()),
            exclude_regex: f.exclude_regex.as_ref().map(|p| p.0.clone()),
            languages: lower(&f.languages),
        }
    }

    /// `None` when the post passes; else the rule that stopped it.
    pub fn check(&self, post: &Post, text: &str) -> Option<String> {
        let cats: Vec<String> = post
            .categories
            .iter()
            .map(|c| c.trim().to_lowercase())
            .collect();
        let scope = &self.scope;
        if !self.include_categories.is_empty()
            && !cats.iter().any(|c| self.include_categories.contains(c))
        {
            return Some(format!(
                "{scope}: include_categories: none of {} among the article's categories",
                quoted(&self.include_categories)
            ));
        }
        if let Some(c) = cats.iter().find(|c| self.exclude_categories.contains(c)) {
            return Some(format!("{scope}: exclude_categories: category {c:?}"));
        }
        if let Some((re, words)) = &self.include_keywords
            && !re.is_match(text)
        {
            return Some(format!(
                "{scope}: include_keywords: none of {} found",
                quoted(words)
            ));
        }
        if let Some((re, _)) = &self.exclude_keywords
            && let Some(m) = re.find(text)
        {
            return Some(format!("{scope}: exclude_keywords: found {:?}", m.as_str()));
        }
        if let Some(re) = &self.include_regex
            && !re.is_match(text)
        {
            return Some(format!(
                "{scope}: include_regex: {:?} does not match",
                re.as_str()
            ));
        }
        if let Some(re) = &self.exclude_regex
            && re.is_match(text)
        {
            return Some(format!("{scope}: exclude_regex: {:?} matches", re.as_str()));
        }
        if !self.languages.is_empty()
            && let Some(lang) = post.language.as_deref().map(|l| l.trim().to_lowercase())
        {
            let primary = lang.split(['-', '_']).next().unwrap_or(&lang).to_string();
            let ok = self.languages.iter().any(|l| *l == lang || *l == primary);
            if !ok {
                return Some(format!(
                    "{scope}: languages: {lang:?} is not one of {}",
                    quoted(&self.languages)
                ));
            }
        }
        None
    }
}

/// Routing for every configured feed.
#[derive(Debug, Clone, Default)]
pub struct Router {
    /// feed → (target → filters to pass, in order).
    feeds: HashMap<String, Vec<(String, Vec<Filter>)>>,
}

impl Router {
    pub fn new(cfg: &Config) -> Router {
        let mut feeds = HashMap::new();
        for f in &cfg.feeds {
            feeds.insert(f.name.0.clone(), Router::feed_routes(f));
        }
        Router { feeds }
    }

    fn feed_routes(f: &FeedConfig) -> Vec<(String, Vec<Filter>)> {
        f.targets
            .iter()
            .map(|t| {
                let mut filters = Vec::new();
                if !f.filter.is_empty() {
                    filters.push(Filter::new("feed filter", &f.filter));
                }
                for r in f.routes.iter().filter(|r| r.target == *t) {
                    if !r.filter.is_empty() {
                        filters.push(Filter::new(format!("route filter ({})", t.0), &r.filter));
                    }
                }
                (t.0.clone(), filters)
            })
            .collect()
    }

    /// Targets of a feed.
    pub fn targets(&self, feed: &str) -> Vec<String> {
        self.feeds
            .get(feed)
            .map(|v| v.iter().map(|(t, _)| t.clone()).collect())
            .unwrap_or_default()
    }

    /// The delivery rows of a new article from `feed`.
    pub fn routes(&self, feed: &FeedConfig, post: &Post, admission: Admission) -> Vec<Route> {
        let built;
        let routes = match self.feeds.get(&feed.name.0) {
            Some(r) => r,
            None => {
                // A feed added from chat: routes built on the fly.
                built = Router::feed_routes(feed);
                &built
            }
        };
        let mut text: Option<String> = None;
        routes
            .iter()
            .map(|(target, filters)| {
                if admission == Admission::Baseline {
                    return Route::with_state(
                        target.clone(),
                        State::Skipped,
                        format!(
                            "already in the feed when Crier first read it (backfill = {})",
                            feed.backfill
                        ),
                    );
                }
                for f in filters {
                    let t = text.get_or_insert_with(|| match_text(post));
                    if let Some(rule) = f.check(post, t) {
                        return Route::with_state(target.clone(), State::Filtered, rule);
                    }
                }
                Route::pending(target.clone())
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{EnvString, Pattern};

    fn post() -> Post {
        Post {
            feed: "f".into(),
            title: "Japan and NATO pledge to strengthen cooperation".into(),
            summary_html: Some("<p>Leaders <b>pledged</b> support.</p>".into()),
            authors: vec!["Desk".into()],
            categories: vec!["World".into(), "Japan".into()],
            language: Some("en-US".into()),
            ..Post::default()
        }
    }

    fn strs(v: &[&str]) -> Vec<EnvString> {
        v.iter().map(|s| EnvString(s.to_string())).collect()
    }

    fn check(f: FilterConfig) -> Option<String> {
        let p = post();
        Filter::new("feed filter", &f).check(&p, &match_text(&p))
    }

    #[test]
    fn categories_are_case_insensitive() {
        assert_eq!(
            check(FilterConfig {
                include_categories: strs(&["world"]),
                ..Default::default()
            }),
            None
        );
        let r = check(FilterConfig {
            include_categories: strs(&["Sports"]),
            ..Default::default()
        })
        .expect("filtered");
        assert!(r.contains("include_categories"), "{r}");
        let r = check(FilterConfig {
            exclude_categories: strs(&["JAPAN"]),
            ..Default::default()
        })
        .expect("filtered");
        assert_eq!(r, "feed filter: exclude_categories: category \"japan\"");
    }

    #[test]
    fn keywords_match_whole_words_in_title_summary_and_author() {
        assert_eq!(
            check(FilterConfig {
                include_keywords: strs(&["pledged"]),
                ..Default::default()
            }),
            None,
            "summary text, tags stripped"
        );
        assert!(
            check(FilterConfig {
                include_keywords: strs(&["pan"]),
                ..Default::default()
            })
            .is_some(),
            "not a substring match"
        );
        let r = check(FilterConfig {
            exclude_keywords: strs(&["desk"]),
            ..Default::default()
        })
        .expect("filtered");
        assert!(r.contains("found \"Desk\""), "{r}");
        // Regex metacharacters in keywords are literal.
        assert!(
            check(FilterConfig {
                include_keywords: strs(&["N.TO"]),
                ..Default::default()
            })
            .is_some()
        );
    }

    #[test]
    fn regexes_and_languages() {
        assert_eq!(
            check(FilterConfig {
                include_regex: Some(Pattern::new("(?i)nato|otan").expect("re")),
                languages: strs(&["en"]),
                ..Default::default()
            }),
            None
        );
        let r = check(FilterConfig {
            exclude_regex: Some(Pattern::new("NATO").expect("re")),
            ..Default::default()
        })
        .expect("filtered");
        assert!(r.contains("exclude_regex"), "{r}");
        let r = check(FilterConfig {
            languages: strs(&["fr", "de"]),
            ..Default::default()
        })
        .expect("filtered");
        assert!(r.contains("\"en-us\" is not one of"), "{r}");
        // Unknown language passes.
        let mut p = post();
        p.language = None;
        let f = Filter::new(
            "x",
            &FilterConfig {
                languages: strs(&["fr"]),
                ..Default::default()
            },
        );
        assert_eq!(f.check(&p, &match_text(&p)), None);
    }

    #[test]
    fn patterns_are_size_limited() {
        // A pattern whose compiled form is enormous is refused, not run.
        assert!(Pattern::new(r"(\w{1000}){1000}").is_err());
    }
}
