//! Lexing for the markup parser: one tag and its attributes, character
//! entities, a code block's language, and case-insensitive search.

/// A recognised tag.
#[derive(Debug)]
pub(super) struct TagTok {
    pub(super) name: String,
    pub(super) closing: bool,
    pub(super) attrs: Vec<(String, String)>,
}

/// Parse a tag at the start of `s`: `<name attr="v" …>` or `</name>`.
pub(super) fn parse_tag(s: &str) -> Option<(TagTok, usize)> {
    let b = s.as_bytes();
    let mut i = 1;
    let closing = b.get(i) == Some(&b'/');
    if closing {
        i += 1;
    }
    let name_start = i;
    while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'-') {
        i += 1;
    }
    if i == name_start {
        return None;
    }
    let name = s[name_start..i].to_ascii_lowercase();
    let mut attrs = Vec::new();
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        match b.get(i)? {
            b'>' => {
                return Some((
                    TagTok {
                        name,
                        closing,
                        attrs,
                    },
                    i + 1,
                ));
            }
            b'/' if b.get(i + 1) == Some(&b'>') => {
                return Some((
                    TagTok {
                        name,
                        closing,
                        attrs,
                    },
                    i + 2,
                ));
            }
            _ if closing => return None,
            _ => {}
        }
        let an = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && !matches!(b[i], b'=' | b'>' | b'/') {
            i += 1;
        }
        if i == an {
            return None;
        }
        let attr = s[an..i].to_ascii_lowercase();
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if b.get(i) == Some(&b'=') {
            i += 1;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            match b.get(i)? {
                q @ (b'"' | b'\'') => {
                    let q = *q;
                    let vs = i + 1;
                    let ve = vs + s[vs..].bytes().position(|c| c == q)?;
                    value = decode_all(&s[vs..ve]);
                    i = ve + 1;
                }
                _ => {
                    let vs = i;
                    while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' {
                        i += 1;
                    }
                    value = decode_all(&s[vs..i]);
                }
            }
        }
        attrs.push((attr, value));
    }
}

/// Decode one entity at the start of `s` (which starts with `&`). Returns
/// the character (if any) and how many bytes were consumed.
pub(crate) fn decode_entity(s: &str) -> (Option<char>, usize) {
    let b = s.as_bytes();
    let mut i = 1;
    if b.get(1) == Some(&b'#') {
        i = 2;
        let hex = matches!(b.get(2), Some(b'x' | b'X'));
        if hex {
            i = 3;
        }
        let ds = i;
        while i < b.len()
            && i - ds < 8
            && (if hex {
                b[i].is_ascii_hexdigit()
            } else {
                b[i].is_ascii_digit()
            })
        {
            i += 1;
        }
        if i == ds {
            return (None, 1);
        }
        let n = u32::from_str_radix(&s[ds..i], if hex { 16 } else { 10 }).ok();
        if b.get(i) == Some(&b';') {
            i += 1;
        }
        return match n.and_then(char::from_u32) {
            Some(c) if c != '\0' => (Some(c), i),
            _ => (None, 1),
        };
    }
    while i < b.len() && i < 12 && b[i].is_ascii_alphanumeric() {
        i += 1;
    }
    if b.get(i) != Some(&b';') {
        return (None, 1);
    }
    let c = match &s[1..i] {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{A0}',
        "mdash" => '—',
        "ndash" => '–',
        "hellip" => '…',
        "laquo" => '«',
        "raquo" => '»',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "middot" => '·',
        "bull" => '•',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "deg" => '°',
        "euro" => '€',
        "times" => '×',
        "rarr" => '→',
        "larr" => '←',
        _ => return (None, 1),
    };
    (Some(c), i + 1)
}

/// Decode every entity in an attribute value.
pub(super) fn decode_all(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s.as_bytes()[i] == b'&' {
            let (c, n) = decode_entity(&s[i..]);
            match c {
                Some(c) => out.push(c),
                None => out.push('&'),
            }
            i += n;
        } else {
            let Some(c) = s[i..].chars().next() else {
                break;
            };
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

pub(super) fn lang_of(attrs: &[(String, String)]) -> Option<String> {
    attrs.iter().find_map(|(k, v)| {
        let l = match k.as_str() {
            "class" => v
                .split_whitespace()
                .find_map(|c| c.strip_prefix("language-"))?,
            "lang" => v.as_str(),
            _ => return None,
        };
        let ok = !l.is_empty()
            && l.len() <= 32
            && l.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+' | '#' | '.'));
        ok.then(|| l.to_ascii_lowercase())
    })
}

pub(super) fn find_ci(hay: &str, needle: &str) -> Option<usize> {
    let n = needle.len();
    hay.as_bytes()
        .windows(n)
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}
