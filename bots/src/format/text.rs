//! Small text helpers shared by the formatter: cleaning, lengths, URL and
//! hashtag sanitising, safe cut points.

use std::borrow::Cow;

use url::Url;

/// Start of a placeholder sentinel in template output (private use area).
pub(crate) const SENTINEL_OPEN: char = '\u{E000}';
/// End of a placeholder sentinel.
pub(crate) const SENTINEL_CLOSE: char = '\u{E001}';

/// Length in UTF-16 code units, as Telegram (and, conservatively, Discord)
/// count it.
pub(crate) fn utf16_len(s: &str) -> usize {
    // One unit per character (every byte that is not a continuation
    // byte), two for 4-byte characters (lead byte 0xF0 and above).
    s.bytes()
        .map(|b| usize::from((b & 0xC0) != 0x80) + usize::from(b >= 0xF0))
        .sum()
}

/// Characters that never reach a platform: C0/C1 controls other than tab
/// and newline, the formatter's own sentinels, BOMs, soft hyphens (a
/// browser hides them), and non-characters.
pub(crate) fn is_dropped_char(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{7F}'..='\u{9F}'
        | SENTINEL_OPEN | SENTINEL_CLOSE | '\u{FEFF}' | '\u{AD}' | '\u{FFFE}' | '\u{FFFF}')
}

/// A byte-level test for [`clean`]: any control byte, `\r`, or the UTF-8
/// lead of a dropped non-ASCII character.
fn needs_cleaning(b: &[u8]) -> bool {
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b'\t' | b'\n' => {}
            0..=0x1F | 0x7F => return true,
            0xC2 if matches!(b.get(i + 1), Some(0x80..=0x9F | 0xAD)) => return true,
            0xEE if b.get(i + 1) == Some(&0x80) && matches!(b.get(i + 2), Some(0x80 | 0x81)) => {
                return true;
            }
            0xEF if matches!(
                (b.get(i + 1), b.get(i + 2)),
                (Some(0xBB), Some(0xBF)) | (Some(0xBF), Some(0xBE | 0xBF))
            ) =>
            {
                return true;
            }
            _ => {}
        }
        i += 1;
    }
    false
}

/// Remove dropped characters and turn `\r\n`/`\r` into `\n`.
pub(crate) fn clean(s: &str) -> Cow<'_, str> {
    if !needs_cleaning(s.as_bytes()) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' {
            if chars.peek() != Some(&'\n') {
                out.push('\n');
            }
        } else if !is_dropped_char(c) {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Clean a plain one-line value (title, author…): dropped characters
/// removed, every run of whitespace (including newlines) collapsed to one
/// space, trimmed.
pub(crate) fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            space = !out.is_empty();
        } else if !is_dropped_char(c) {
            if space {
                out.push(' ');
                space = false;
            }
            out.push(c);
        }
    }
    out
}

/// True for characters a cut must never precede: combining marks, joiners,
/// variation selectors, emoji modifiers and tags. An approximation of
/// grapheme-cluster boundaries that is good enough to never split an emoji
/// sequence or detach an accent from its letter.
pub(crate) fn is_extend(c: char) -> bool {
    matches!(c,
        '\u{300}'..='\u{36F}' | '\u{483}'..='\u{489}' | '\u{591}'..='\u{5C7}'
        | '\u{610}'..='\u{61A}' | '\u{64B}'..='\u{65F}' | '\u{670}' | '\u{6D6}'..='\u{6ED}'
        | '\u{900}'..='\u{903}' | '\u{93A}'..='\u{94F}' | '\u{951}'..='\u{957}'
        | '\u{962}'..='\u{963}' | '\u{981}'..='\u{983}' | '\u{9BC}'..='\u{9CD}'
        | '\u{E31}' | '\u{E34}'..='\u{E3A}' | '\u{E47}'..='\u{E4E}'
        | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}' | '\u{200C}' | '\u{200D}'
        | '\u{20D0}'..='\u{20FF}' | '\u{302A}'..='\u{302F}' | '\u{3099}' | '\u{309A}'
        | '\u{FE00}'..='\u{FE0F}' | '\u{FE20}'..='\u{FE2F}'
        | '\u{1F3FB}'..='\u{1F3FF}' | '\u{E0020}'..='\u{E007F}' | '\u{E0100}'..='\u{E01EF}')
}

fn is_regional_indicator(c: char) -> bool {
    ('\u{1F1E6}'..='\u{1F1FF}').contains(&c)
}

/// May a string be cut between `prev` and `next`?
pub(crate) fn can_cut_between(prev: char, next: char) -> bool {
    !(is_extend(next)
        || prev == '\u{200D}'
        || (is_regional_indicator(prev) && is_regional_indicator(next)))
}

/// Split `s` into pieces of at most `max` UTF-16 units each, cutting only
/// where [`can_cut_between`] allows (a piece may exceed `max` only when a
/// single cluster does).
pub(crate) fn chunk_clusters(s: &str, max: usize) -> Vec<&str> {
    let max = max.max(8);
    let mut out = Vec::new();
    let mut start = 0;
    let mut len = 0;
    let mut last_cut: Option<usize> = None;
    let mut prev: Option<char> = None;
    for (i, c) in s.char_indices() {
        if let Some(p) = prev
            && can_cut_between(p, c)
        {
            last_cut = Some(i);
        }
        let w = c.len_utf16();
        if len + w > max
            && let Some(cut) = last_cut
            && cut > start
        {
            out.push(&s[start..cut]);
            len = utf16_len(&s[cut..i]);
            start = cut;
            last_cut = None;
        }
        len += w;
        prev = Some(c);
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

/// The longest prefix of `s` of at most `max` UTF-16 units, ending where a
/// cut is allowed.
pub(crate) fn prefix_utf16(s: &str, max: usize) -> &str {
    let mut len = 0;
    let mut end = 0;
    let mut prev: Option<char> = None;
    for (i, c) in s.char_indices() {
        if let Some(p) = prev
            && can_cut_between(p, c)
        {
            end = i;
        }
        len += c.len_utf16();
        if len > max {
            return &s[..end];
        }
        prev = Some(c);
    }
    s
}

/// Shorten a one-line plain value to at most `max` UTF-16 units, on a word
/// boundary when there is one in the last third, ending with `…`.
pub(crate) fn truncate_words(s: &str, max: usize) -> String {
    if utf16_len(s) <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let head = prefix_utf16(s, max - 1);
    let at_word_end = s[head.len()..].starts_with(char::is_whitespace);
    let cut = match head.rfind(char::is_whitespace) {
        _ if at_word_end => head,
        Some(i) if utf16_len(&head[..i]) * 3 >= max * 2 => &head[..i],
        _ => head,
    };
    let mut out = cut
        .trim_end_matches(|c: char| {
            c.is_whitespace() || matches!(c, ',' | ';' | ':' | '-' | '–' | '—')
        })
        .to_string();
    out.push('…');
    out
}

/// Does this word end a sentence? (`.`, `!`, `?`, `…`, possibly followed by
/// closing quotes or brackets; not an abbreviation like `U.S.` or `Dr.`)
pub(crate) fn ends_sentence(word: &str) -> bool {
    let w = word.trim_end();
    let core = w.trim_end_matches(['"', '\'', '”', '’', '»', ')', ']']);
    let Some(last) = core.chars().last() else {
        return false;
    };
    match last {
        '!' | '?' | '…' | '。' | '！' | '？' => true,
        '.' => {
            let stem = core.trim_end_matches('.');
            let stem = stem.trim_start_matches(['"', '\'', '“', '‘', '«', '(', '[']);
            if stem.is_empty() || stem.contains('.') {
                return false;
            }
            let n = stem.chars().count();
            if n == 1 && stem.chars().all(char::is_uppercase) {
                return false;
            }
            !matches!(
                stem,
                "Mr" | "Mrs"
                    | "Ms"
                    | "Dr"
                    | "St"
                    | "vs"
                    | "Jr"
                    | "Sr"
                    | "Prof"
                    | "Gen"
                    | "No"
                    | "etc"
            )
        }
        _ => false,
    }
}

/// Validate and normalise a link target: absolute `http`/`https` only
/// (relative ones are resolved against `base`), no in-page anchors, at most
/// 2048 bytes once serialised. Everything else (`javascript:`, `data:`,
/// `mailto:`…) gives `None`: the text is kept, the link dropped.
pub(crate) fn sanitize_url(href: &str, base: Option<&Url>) -> Option<String> {
    let invisible = |c: char| c.is_control() || matches!(c, '\u{200B}'..='\u{200D}' | '\u{FEFF}');
    let href = href.trim();
    let href: Cow<'_, str> = if href.contains(invisible) {
        Cow::Owned(href.chars().filter(|c| !invisible(*c)).collect())
    } else {
        Cow::Borrowed(href)
    };
    if href.is_empty() || href.starts_with('#') || href.len() > 4096 {
        return None;
    }
    let url = match Url::parse(&href) {
        Ok(u) => u,
        Err(url::ParseError::RelativeUrlWithoutBase) => base?.join(&href).ok()?,
        Err(_) => return None,
    };
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return None;
    }
    let s = String::from(url);
    if s.len() > 2048 {
        return None;
    }
    Some(s)
}

/// A hashtag from a category name: `United States` → `#UnitedStates`.
/// Letters, digits and `_` only; `None` when nothing is left or the tag
/// would be digits only (Telegram does not link those).
pub(crate) fn hashtag(category: &str) -> Option<String> {
    let mut tag = String::from("#");
    for c in category.chars() {
        if c.is_alphanumeric() || c == '_' {
            tag.push(c);
        }
    }
    if tag.len() == 1 || !tag.chars().skip(1).any(|c| !c.is_ascii_digit()) {
        return None;
    }
    if utf16_len(&tag) > 64 {
        return None;
    }
    Some(tag)
}

/// Escape text for HTML (Telegram HTML, article HTML built from plain
/// text): `& < >`, and `"` when `attr` (an attribute value). The one HTML
/// escaper of the workspace; template values are escaped by minijinja.
pub(crate) fn escape_into(s: &str, out: &mut String, attr: bool) {
    let mut last = 0;
    for (i, b) in s.bytes().enumerate() {
        let rep = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' if attr => "&quot;",
            _ => continue,
        };
        // `i` is at an ASCII byte: always a character boundary.
        out.push_str(&s[last..i]);
        out.push_str(rep);
        last = i + 1;
    }
    out.push_str(&s[last..]);
}

/// Plain text as HTML text: `& < >` escaped (see [`escape_into`]).
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    escape_into(s, &mut out, false);
    out
}

/// Text for an HTML attribute value (or text): `& < > "` escaped (see
/// [`escape_into`]).
pub(crate) fn escape_attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    escape_into(s, &mut out, true);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_counts_astral_as_two() {
        assert_eq!(utf16_len("a😀é"), 4);
        assert_eq!(utf16_len("abc"), 3);
    }

    #[test]
    fn clean_drops_controls_and_sentinels() {
        assert_eq!(clean("a\u{0}b\r\nc\rd\u{E000}e\u{AD}f"), "ab\nc\ndef");
        assert!(matches!(clean("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn one_line_collapses() {
        assert_eq!(one_line("  a \n\t b  "), "a b");
    }

    #[test]
    fn chunks_never_split_clusters() {
        let s = "👍🏽".repeat(50);
        for piece in chunk_clusters(&s, 9) {
            assert!(piece.starts_with('👍'), "{piece:?}");
        }
        let e = "e\u{301}".repeat(40);
        for piece in chunk_clusters(&e, 10) {
            assert!(piece.starts_with('e'));
        }
        let flags = "🇯🇵🇺🇦".repeat(10);
        let pieces = chunk_clusters(&flags, 9);
        assert!(pieces.iter().all(|p| p.chars().count() % 2 == 0));
    }

    #[test]
    fn truncate_words_cuts_on_space() {
        assert_eq!(
            truncate_words("hello brave new world", 16),
            "hello brave new…"
        );
        assert_eq!(truncate_words("short", 16), "short");
        assert_eq!(utf16_len(&truncate_words(&"x".repeat(100), 10)), 10);
    }

    #[test]
    fn sentences() {
        assert!(ends_sentence("war."));
        assert!(ends_sentence("ends.”"));
        assert!(ends_sentence("really?"));
        assert!(!ends_sentence("U.S."));
        assert!(!ends_sentence("Dr."));
        assert!(!ends_sentence("J."));
        assert!(!ends_sentence("word"));
    }

    #[test]
    fn urls() {
        let base = Url::parse("https://ex.example/a/b").ok();
        assert_eq!(
            sanitize_url("/c?d=1", base.as_ref()).as_deref(),
            Some("https://ex.example/c?d=1")
        );
        assert_eq!(sanitize_url("javascript:alert(1)", base.as_ref()), None);
        assert_eq!(sanitize_url(" JaVaScRiPt:alert(1)", None), None);
        assert_eq!(sanitize_url("java\nscript:alert(1)", base.as_ref()), None);
        assert_eq!(sanitize_url("data:text/html,x", None), None);
        assert_eq!(sanitize_url("#respond", base.as_ref()), None);
        assert_eq!(sanitize_url("mailto:a@b.c", None), None);
        assert_eq!(
            sanitize_url("https://ex.example/a b\"", None).as_deref(),
            Some("https://ex.example/a%20b%22")
        );
    }

    #[test]
    fn hashtags() {
        assert_eq!(hashtag("United States").as_deref(), Some("#UnitedStates"));
        assert_eq!(hashtag("C++"), Some("#C".into()));
        assert_eq!(hashtag("2023"), None);
        assert_eq!(hashtag("!!"), None);
        assert_eq!(hashtag("Ukraine").as_deref(), Some("#Ukraine"));
    }
}
