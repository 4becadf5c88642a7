//! Boilerplate rules: which elements and which blocks of an article body
//! are noise. A default set (compiled once) plus each feed's own
//! selectors and patterns (compiled once per distinct rule set and cached).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use regex::{RegexSet, RegexSetBuilder};
use scraper::{ElementRef, Selector};

use super::dom::{attr, classes};
use super::options::FeedRenderOptions;

/// Classes whose elements are dropped by default (exact class names).
const DROP_CLASSES: &[&str] = &[
    // social / messenger "join" boxes and share buttons
    "social-join-box",
    "sharedaddy",
    "sd-sharing-enabled",
    "sd-block",
    "sd-like",
    "share-buttons",
    "share-links",
    "social-share",
    "social-sharing",
    "social-buttons",
    "share-this",
    "sharethis-inline-share-buttons",
    "addtoany_share_save_container",
    "a2a_kit",
    "heateor_sss_sharing_container",
    "essb_links",
    "shared-counts-wrap",
    "swp_social_panel",
    "jetpack-likes-widget-wrapper",
    "wp-block-social-links",
    // newsletter / subscribe prompts
    "jetpack-subscribe-modal",
    "jetpack-subscribe",
    "wp-block-jetpack-subscriptions",
    "jetpack_subscription_widget",
    "newsletter-signup",
    "newsletter-form",
    "newsletter-box",
    "mc4wp-form",
    "subscribe-box",
    "subscription-box",
    "subscription-widget-wrap",
    "subscription-widget",
    // comments
    "comment-respond",
    "comments-area",
    "comment-form",
    "comments",
    // cross-links / related posts
    "jp-relatedposts",
    "related-posts",
    "related_posts",
    "yarpp-related",
    "crp_related",
    "rp4wp-related-posts",
    "must-read",
    "also-read",
    "read-also",
    "read-more-links",
    "post-navigation",
    "nav-links",
    "wp-embedded-content",
    // ads
    "adsbygoogle",
    "advertisement",
    "ad-container",
    "ad-slot",
    // visually hidden helpers
    "screen-reader-text",
    "sr-only",
    "visually-hidden",
];

/// Element ids dropped by default.
const DROP_IDS: &[&str] = &["respond", "comments", "jp-relatedposts", "subscribe"];

/// Default text patterns (case-insensitive, on a block's whitespace-
/// normalised text). Every pattern is anchored, and only blocks of at most
/// [`DEFAULT_PATTERN_MAX_LEN`] characters are tried, so that a real
/// paragraph of article text cannot match. (Long counted repetitions are
/// avoided: they blow up the lazy DFA and force the slow PikeVM.) Word boundaries are ASCII
/// (`(?-u:\b)`) so the lazy DFA can run them (a Unicode `\b` forces the
/// slow PikeVM).
const DROP_PATTERNS: &[&str] = &[
    // "MUST READ: ☞ …", "Also read – …", "Related: …"
    r"^(must read|also read|read also|also see|see also|read more|related|related posts?|related articles?|related stories|recommended|don['’]?t miss|trending( now)?|you may (also )?like|top stories)\s*[:：\-–—☞➡→»▶|].*$",
    // WordPress feed footer
    r"^the post .+ appeared first on .+$",
    // "WhatsApp Channel Join Now", "Telegram Group Join Now"
    r"^(whatsapp|telegram|facebook|twitter|x|instagram|google news|youtube|linkedin|threads)( channel| group| page| community)?\s*[:\-–—|]?\s*(join|follow|subscribe|like)( us)?( now| here)?[!.]?$",
    // "Join our WhatsApp channel for …", "Follow us on Google News"
    r"^(join|follow) (us|our)(?-u:\b).{0,80}(?-u:\b)(whatsapp|telegram|channel|group|google news|facebook|twitter|instagram)(?-u:\b).{0,60}$",
    // subscribe / newsletter prompts
    r"^discover more from(?-u:\b).*$",
    r"^subscribe( now)? to (get|keep reading|our|receive|continue)(?-u:\b).*$",
    r"^(sign up|subscribe|register) (for|to) (our|the|a)(?-u:\b).{0,40}(?-u:\b)newsletter(?-u:\b).*$",
    r"^(get|receive) (the latest|our) .{0,60}(in|to) your (inbox|email)(?-u:\b).*$",
    r"^type your email(?-u:\b).{0,20}$",
    // "Thanks for reading X! Subscribe for free to receive new posts…"
    r"^thanks for reading(?-u:\b).{1,120}(?-u:\b)subscribe(?-u:\b).{0,160}$",
    r"^subscribe( now| for free| here)?[!.]?$",
    // comment / share / misc. widgets
    r"^(continue reading|leave a (comment|reply)|post a comment|add a comment|\d+ comments?|comments?|no comments( yet)?|share|share this( article| post| story)?|share on \w{1,20}|click to share on .{1,40}|like this|like loading\.{0,3}|loading\.{0,3}|advertisement|sponsored( content)?|print( this)?( page| article)?|tweet|email this)\s*[:!.…]?$",
];

/// First words of blocks the default patterns can match (lowercase).
const TRIGGER_WORDS: &[&str] = &[
    "must",
    "also",
    "read",
    "see",
    "related",
    "recommended",
    "don't",
    "don’t",
    "dont",
    "trending",
    "you",
    "top",
    "whatsapp",
    "telegram",
    "facebook",
    "twitter",
    "x",
    "instagram",
    "google",
    "youtube",
    "linkedin",
    "threads",
    "join",
    "follow",
    "discover",
    "subscribe",
    "sign",
    "register",
    "get",
    "receive",
    "type",
    "thanks",
    "continue",
    "leave",
    "post",
    "add",
    "comments",
    "comment",
    "no",
    "share",
    "click",
    "like",
    "loading",
    "advertisement",
    "sponsored",
    "print",
    "tweet",
    "email",
];

/// The compiled default text patterns.
fn default_patterns() -> &'static RegexSet {
    static SET: OnceLock<RegexSet> = OnceLock::new();
    SET.get_or_init(|| {
        RegexSetBuilder::new(DROP_PATTERNS)
            .case_insensitive(true)
            .build()
            // The patterns are constants covered by tests; an empty set is
            // the harmless fallback.
            .unwrap_or_else(|_| RegexSet::empty())
    })
}

/// The longest block text the default patterns can match (they are all
/// bounded); longer blocks skip them.
const DEFAULT_PATTERN_MAX_LEN: usize = 900;

/// Selectors tried, in order, to find the article body in a whole page.
pub(crate) fn content_roots() -> &'static [Selector] {
    static ROOTS: OnceLock<Vec<Selector>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        [
            "[itemprop=\"articleBody\"]",
            ".entry-content",
            ".post-content",
            ".article-content",
            ".article-body",
            ".post-body",
            "article",
            "main",
            "[role=\"main\"]",
        ]
        .iter()
        .filter_map(|s| Selector::parse(s).ok())
        .collect()
    })
}

/// A feed's rules, compiled.
#[derive(Debug, Default)]
pub(crate) struct Rules {
    /// Apply the default rules too.
    pub defaults: bool,
    /// The feed's drop selectors, combined into one selector list.
    pub selectors: Option<Selector>,
    /// The feed's drop patterns.
    pub patterns: Option<RegexSet>,
    /// Where the article body is in a whole page.
    pub content: Option<Selector>,
}

impl Rules {
    /// Is this element boilerplate?
    pub fn drops_element(&self, el: &ElementRef<'_>) -> bool {
        let v = el.value();
        if self.defaults {
            if let Some(id) = attr(v, "id")
                && DROP_IDS.contains(&id.trim())
            {
                return true;
            }
            if classes(v).any(|c| DROP_CLASSES.contains(&c)) {
                return true;
            }
        }
        self.selectors.as_ref().is_some_and(|s| s.matches(el))
    }

    /// Is a block with this (whitespace-normalised) text boilerplate?
    /// `defaults` says whether to try the default patterns (see
    /// [`Rules::may_be_default_noise`]).
    pub fn drops_text(&self, text: &str, defaults: bool) -> bool {
        if defaults
            && self.defaults
            && text.len() <= DEFAULT_PATTERN_MAX_LEN * 4
            && text.chars().count() <= DEFAULT_PATTERN_MAX_LEN
            && default_patterns().is_match(text)
        {
            return true;
        }
        self.patterns.as_ref().is_some_and(|p| p.is_match(text))
    }

    /// A cheap test before the default patterns: is the block short, and
    /// does its first word start one of them?
    pub fn may_be_default_noise(&self, block: &super::rich::Block) -> bool {
        if !self.defaults || block.text_len() > DEFAULT_PATTERN_MAX_LEN {
            return false;
        }
        let Some(spans) = block.spans() else {
            return false;
        };
        let first = spans
            .iter()
            .map(|s| s.text.trim_start())
            .find(|t| !t.is_empty())
            .unwrap_or("");
        let end = first
            .char_indices()
            .find(|(_, c)| !(c.is_alphanumeric() || *c == '\'' || *c == '’'))
            .map(|(i, _)| i)
            .unwrap_or(first.len());
        let word = &first[..end];
        if word.is_empty() || word.len() > 16 {
            return false;
        }
        if word.bytes().all(|b| b.is_ascii_digit()) {
            return true;
        }
        if word.eq_ignore_ascii_case("the") {
            return spans.iter().any(|s| s.text.contains("appeared first on"));
        }
        TRIGGER_WORDS.iter().any(|t| t.eq_ignore_ascii_case(word))
    }
}

fn compile_selector(s: &str) -> Result<Selector, String> {
    Selector::parse(s).map_err(|e| format!("invalid CSS selector {s:?}: {e}"))
}

fn compile_pattern(p: &str) -> Result<RegexSet, String> {
    RegexSetBuilder::new([p])
        .case_insensitive(true)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| format!("invalid drop pattern {p:?}: {e}"))
}

/// Compile a feed's rules. Invalid rules are skipped and reported in the
/// second value.
pub(crate) fn compile(feed: &FeedRenderOptions) -> (Rules, Vec<String>) {
    let mut errors = Vec::new();
    let valid: Vec<&str> = feed
        .drop_selectors
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .filter(|s| match compile_selector(s) {
            Ok(_) => true,
            Err(e) => {
                errors.push(e);
                false
            }
        })
        .collect();
    let selectors = if valid.is_empty() {
        None
    } else {
        Selector::parse(&valid.join(", ")).ok()
    };
    let pats: Vec<&str> = feed
        .drop_patterns
        .iter()
        .map(|s| s.as_str())
        .filter(|p| !p.trim().is_empty())
        .filter(|p| match compile_pattern(p) {
            Ok(_) => true,
            Err(e) => {
                errors.push(e);
                false
            }
        })
        .collect();
    let patterns = if pats.is_empty() {
        None
    } else {
        RegexSetBuilder::new(&pats)
            .case_insensitive(true)
            .size_limit(1 << 22)
            .build()
            .ok()
    };
    let content = match feed.content_selector.as_deref().map(str::trim) {
        Some(s) if !s.is_empty() => match compile_selector(s) {
            Ok(sel) => Some(sel),
            Err(e) => {
                errors.push(format!("content_selector: {e}"));
                None
            }
        },
        _ => None,
    };
    (
        Rules {
            defaults: feed.default_rules,
            selectors,
            patterns,
            content,
        },
        errors,
    )
}

/// The compiled rules of a feed, from a process-wide cache keyed by the
/// rules themselves (so two feeds with the same rules share them).
pub(crate) fn for_feed(feed: &FeedRenderOptions) -> Arc<Rules> {
    static DEFAULT: OnceLock<Arc<Rules>> = OnceLock::new();
    static NONE: OnceLock<Arc<Rules>> = OnceLock::new();
    let custom = !feed.drop_selectors.is_empty()
        || !feed.drop_patterns.is_empty()
        || feed.content_selector.is_some();
    if !custom {
        let slot = if feed.default_rules { &DEFAULT } else { &NONE };
        return slot
            .get_or_init(|| {
                Arc::new(Rules {
                    defaults: feed.default_rules,
                    ..Rules::default()
                })
            })
            .clone();
    }
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Rules>>>> = OnceLock::new();
    let mut key = String::new();
    key.push(if feed.default_rules { '1' } else { '0' });
    for s in &feed.drop_selectors {
        key.push('\u{1}');
        key.push_str(s);
    }
    for p in &feed.drop_patterns {
        key.push('\u{2}');
        key.push_str(p);
    }
    if let Some(c) = &feed.content_selector {
        key.push('\u{3}');
        key.push_str(c);
    }
    let cache = CACHE.get_or_init(Default::default);
    if let Ok(map) = cache.lock()
        && let Some(r) = map.get(&key)
    {
        return r.clone();
    }
    let (rules, errors) = compile(feed);
    for e in &errors {
        tracing::warn!(feed_rule_error = %e, "ignoring an invalid formatting rule");
    }
    let rules = Arc::new(rules);
    if let Ok(mut map) = cache.lock() {
        if map.len() >= 512 {
            map.clear();
        }
        map.insert(key, rules.clone());
    }
    rules
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_patterns_compile() {
        assert_eq!(default_patterns().len(), DROP_PATTERNS.len());
    }

    #[test]
    fn default_patterns_catch_noise_and_spare_text() {
        let r = Rules {
            defaults: true,
            ..Rules::default()
        };
        for noise in [
            "WhatsApp Channel Join Now",
            "Telegram Group Join Now",
            "MUST READ: ☞ Harris sends clear message to APEC about U.S. roots in Indo-Pacific",
            "Also read: Something else",
            "The post Japan and NATO pledge appeared first on Meritnews24.",
            "Discover more from Meritnews24",
            "Subscribe to get the latest posts sent to your email.",
            "Subscribe now to keep reading and get access to the full archive.",
            "Leave a Comment",
            "Continue reading",
            "Share this:",
            "Click to share on Twitter (Opens in new window)",
            "Follow us on Google News for the latest updates",
        ] {
            assert!(r.drops_text(noise, true), "not dropped: {noise}");
            let b = crate::format::rich::Block::Paragraph(vec![crate::format::rich::Span::plain(
                noise,
            )]);
            assert!(r.may_be_default_noise(&b), "prefilter misses: {noise}");
        }
        for text in [
            "Japan will host the G7 summit in May, where Russia’s invasion of Ukraine and China’s role are expected to be the focus of discussions.",
            "Stoltenberg said the war in Ukraine concerns the security of all.",
            "Readers shared their stories with us.",
            "Share prices fell sharply on Monday after the announcement.",
            "Telegram said it would appeal the ruling.",
        ] {
            assert!(!r.drops_text(text, true), "dropped: {text}");
        }
        let off = Rules::default();
        assert!(!off.drops_text("Leave a Comment", true));
    }

    #[test]
    fn feed_rules_compile_and_report_errors() {
        let feed = FeedRenderOptions {
            drop_selectors: vec![".promo".into(), "div[".into()],
            drop_patterns: vec!["^sponsored by".into(), "(unclosed".into()],
            ..FeedRenderOptions::default()
        };
        let (rules, errors) = compile(&feed);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(rules.selectors.is_some());
        assert!(rules.drops_text("Sponsored by ACME", false));
        let cached = for_feed(&feed);
        assert!(Arc::ptr_eq(&cached, &for_feed(&feed)));
    }
}
