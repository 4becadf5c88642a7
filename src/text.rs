//! Text helpers for what Crier prints (terminal tables, the status page,
//! chat replies, the audit log). Two cuts, never inside a character:
//! [`clip`] (one line, `n` characters in all) and [`truncate_chars`] (the
//! text as it is, `max` characters kept before the `…`).

/// At most `n` characters on one line: line breaks and tabs become spaces,
/// a longer text ends with `…` (the `…` counts among the `n`).
pub fn clip(s: &str, n: usize) -> String {
    let s = s.replace(['\n', '\r', '\t'], " ");
    if s.chars().count() <= n {
        return s;
    }
    truncate_chars(&s, n.saturating_sub(1))
}

/// The first `max` characters of `s`, line breaks kept, then `…` if
/// anything was cut (so up to `max + 1` characters).
pub fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        // `i` starts a character: a boundary.
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::{clip, truncate_chars};

    #[test]
    fn clip_cuts_between_characters() {
        assert_eq!(clip("’’’’’", 3), "’’…");
        assert_eq!(clip("a😀b😀c", 4), "a😀b…");
        assert_eq!(clip("éé", 2), "éé");
        assert_eq!(clip("a\nb", 5), "a b");
        assert_eq!(clip("abc", 0), "…");
        assert_eq!(clip("", 0), "");
    }

    #[test]
    fn truncate_chars_keeps_max_characters_and_line_breaks() {
        assert_eq!(truncate_chars("’’’’’", 3), "’’’…");
        assert_eq!(truncate_chars("a😀b😀c", 4), "a😀b😀…");
        assert_eq!(truncate_chars("a😀b😀c", 5), "a😀b😀c");
        assert_eq!(truncate_chars("éé", 2), "éé");
        assert_eq!(truncate_chars("a\nb\nc", 3), "a\nb…");
        assert_eq!(truncate_chars("abc", 0), "…");
        assert_eq!(truncate_chars("", 0), "");
        // A combining mark is a character of its own.
        assert_eq!(truncate_chars("e\u{301}x", 1), "e…");
    }
}
