//! Text helpers for what Crier prints (terminal tables, the status page,
//! chat replies).

/// At most `n` characters on one line: line breaks and tabs become spaces,
/// a longer text ends with `…` (never cut inside a character).
pub fn clip(s: &str, n: usize) -> String {
    let s = s.replace(['\n', '\r', '\t'], " ");
    if s.chars().count() <= n {
        return s;
    }
    let mut out: String = s.chars().take(n.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn clip_cuts_between_characters() {
        assert_eq!(super::clip("’’’’’", 3), "’’…");
        assert_eq!(super::clip("a😀b😀c", 4), "a😀b…");
        assert_eq!(super::clip("éé", 2), "éé");
        assert_eq!(super::clip("a\nb", 5), "a b");
    }
}
