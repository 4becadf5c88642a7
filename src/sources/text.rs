//! Char-boundary-safe helpers for outside text: never slice a `&str` at a
//! byte offset that may fall inside a character; titles of title-less
//! items from their first words.

use super::SourceItem;
use super::html::decode_text;

/// The largest char boundary of `s` at or below `max` bytes.
pub fn floor_boundary(s: &str, max: usize) -> usize {
    if max >= s.len() {
        return s.len();
    }
    let mut end = max;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    end
}

/// The first `max` bytes of `s` at most, cut on a char boundary.
pub fn head(s: &str, max: usize) -> &str {
    &s[..floor_boundary(s, max)]
}

/// The first words of `text` (whitespace collapsed) within `max_chars`
/// characters, cut at a word boundary (a single over-long word is cut on a
/// char boundary), with `…` when something was left out. Feed readers title
/// title-less items this way.
pub fn first_words(text: &str, max_chars: usize) -> String {
    let mut out = String::new();
    let mut count = 0usize;
    let mut cut = false;
    for word in text.split_whitespace() {
        let n = word.chars().count();
        let sep = usize::from(!out.is_empty());
        if count + sep + n > max_chars {
            if out.is_empty() {
                out.extend(word.chars().take(max_chars.saturating_sub(1)));
            }
            cut = true;
            break;
        }
        if sep == 1 {
            out.push(' ');
        }
        out.push_str(word);
        count += sep + n;
    }
    if cut {
        out.push('…');
    }
    out
}

/// Longest title made from a summary (characters).
pub const SUMMARY_TITLE_CHARS: usize = 80;

/// Titles title-less items from their summary's (else content's) first
/// words, as feed readers do. Applied after keys and content hashes are
/// computed, so items read before this existed keep their identity and
/// hash.
pub(crate) fn title_untitled(items: &mut [SourceItem]) {
    for item in items {
        let p = &mut item.post;
        if !p.title.trim().is_empty() {
            continue;
        }
        let text = p
            .summary_html
            .as_deref()
            .map(decode_text)
            .filter(|t| !t.trim().is_empty())
            .or_else(|| p.content_html.as_deref().map(decode_text))
            .unwrap_or_default();
        p.title = first_words(&text, SUMMARY_TITLE_CHARS);
        p.title_from_text = !p.title.is_empty();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_never_cuts_inside_a_character() {
        let s = "ab’cd"; // ’ is 3 bytes at 2..5
        for n in 0..=s.len() + 2 {
            let h = head(s, n);
            assert!(s.starts_with(h));
            assert!(h.len() <= n);
        }
        assert_eq!(head(s, 3), "ab");
        assert_eq!(head(s, 5), "ab’");
        assert_eq!(head("", 4), "");
    }

    #[test]
    fn first_words_cut_at_a_word() {
        assert_eq!(first_words("  Hello   big\nworld ", 40), "Hello big world");
        assert_eq!(first_words("Hello big world", 10), "Hello big…");
        assert_eq!(
            first_words("Ünïcödé wörds everywhere", 14),
            "Ünïcödé wörds…"
        );
        assert_eq!(first_words("Supercalifragilistic", 6), "Super…");
        assert_eq!(first_words("", 10), "");
    }
}
