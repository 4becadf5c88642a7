//! Fitting a document into a platform's length limit: splitting into
//! several messages at block boundaries, and truncating on a sentence or
//! word boundary with an ellipsis.
//!
//! Generic over a [`Dialect`], which measures a block the way the platform
//! counts (Telegram: visible UTF-16 units after entity parsing; Discord: the
//! markdown source). Blocks render independently and are joined by
//! [`sep`], so a document's length is the sum of its blocks' lengths and
//! separators.

use super::rich::{Block, Span, Style, push_text, trim_spans};
use super::text::{chunk_clusters, ends_sentence, utf16_len};

/// How a platform measures blocks.
pub(crate) trait Dialect {
    /// Length of one block, as the platform counts it.
    fn block_len(&self, b: &Block) -> usize;
}

/// The separator between two blocks: list items follow each other on the
/// next line, everything else is a paragraph apart.
pub(crate) fn sep(prev: &Block, next: &Block) -> &'static str {
    match (prev, next) {
        (Block::ListItem { .. }, Block::ListItem { .. }) => "\n",
        _ => "\n\n",
    }
}

/// Length of a whole document.
pub(crate) fn doc_len(d: &dyn Dialect, blocks: &[Block]) -> usize {
    let mut total = 0;
    for (i, b) in blocks.iter().enumerate() {
        if i > 0 {
            total += sep(&blocks[i - 1], b).len();
        }
        total += d.block_len(b);
    }
    total
}

/// Measures plain text (for summaries, before any platform is involved).
pub(crate) struct PlainText;

impl Dialect for PlainText {
    fn block_len(&self, b: &Block) -> usize {
        match b {
            Block::ListItem { marker, .. } => b.text_len() + utf16_len(marker) + 1,
            _ => b.text_len(),
        }
    }
}

/// The largest atom (UTF-16 units) before a word is cut into pieces.
const MAX_ATOM: usize = 120;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Brk {
    /// Inside a word (a too-long word cut in pieces, or a word continuing
    /// in the next span).
    Inside,
    Word,
    Sentence,
    Line,
}

#[derive(Debug, Clone)]
struct Atom {
    spans: Vec<Span>,
    len: usize,
    brk: Brk,
}

fn word_atoms(span: &Span, out: &mut Vec<Atom>) {
    let text = span.text.as_str();
    let mut start = 0;
    let b = text.as_bytes();
    let mut i = 0;
    while i < text.len() {
        // word
        while i < text.len() && !(b[i] as char).is_ascii_whitespace() {
            i += match text[i..].chars().next() {
                Some(c) if c.is_whitespace() => break,
                Some(c) => c.len_utf8(),
                None => 1,
            };
        }
        let word_end = i;
        // trailing whitespace
        let mut newline = false;
        while i < text.len() {
            match text[i..].chars().next() {
                Some(c) if c.is_whitespace() => {
                    newline |= c == '\n';
                    i += c.len_utf8();
                }
                _ => break,
            }
        }
        let piece = &text[start..i];
        if piece.is_empty() {
            break;
        }
        let brk = if i == word_end {
            Brk::Inside
        } else if newline {
            Brk::Line
        } else if ends_sentence(&text[start..word_end]) {
            Brk::Sentence
        } else {
            Brk::Word
        };
        let len = utf16_len(piece);
        if len > MAX_ATOM {
            let chunks = chunk_clusters(piece, MAX_ATOM);
            let n = chunks.len();
            for (k, c) in chunks.into_iter().enumerate() {
                out.push(Atom {
                    spans: vec![Span {
                        text: c.to_string(),
                        style: span.style,
                        link: span.link.clone(),
                    }],
                    len: utf16_len(c),
                    brk: if k + 1 == n { brk } else { Brk::Inside },
                });
            }
        } else {
            out.push(Atom {
                spans: vec![Span {
                    text: piece.to_string(),
                    style: span.style,
                    link: span.link.clone(),
                }],
                len,
                brk,
            });
        }
        start = i;
    }
}

/// Cut inline content into atoms: words (with their trailing space), and
/// whole links as single atoms when they are short enough, so that a cut
/// never falls inside a word or a link.
fn atoms(spans: &[Span], max_link: usize) -> Vec<Atom> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < spans.len() {
        if let Some(href) = &spans[i].link {
            let mut j = i;
            while j < spans.len() && spans[j].link.as_ref() == Some(href) {
                j += 1;
            }
            let len: usize = spans[i..j].iter().map(|s| utf16_len(&s.text)).sum();
            if len <= max_link {
                let last = spans[j - 1].text.as_str();
                let trimmed = last.trim_end();
                let brk = if trimmed.len() == last.len() {
                    Brk::Inside
                } else if last[trimmed.len()..].contains('\n') {
                    Brk::Line
                } else if ends_sentence(trimmed) {
                    Brk::Sentence
                } else {
                    Brk::Word
                };
                out.push(Atom {
                    spans: spans[i..j].to_vec(),
                    len,
                    brk,
                });
                i = j;
                continue;
            }
        }
        word_atoms(&spans[i], &mut out);
        i += 1;
    }
    // A word continuing into the next span ("foo<b>bar</b>") must not be
    // split: the Inside mark on the first part says so.
    out
}

fn code_atoms(text: &str) -> Vec<Atom> {
    let mut out = Vec::new();
    for line in text.split_inclusive('\n') {
        let len = utf16_len(line);
        if len > MAX_ATOM {
            let chunks = chunk_clusters(line, MAX_ATOM);
            let n = chunks.len();
            for (k, c) in chunks.into_iter().enumerate() {
                out.push(Atom {
                    spans: vec![Span::plain(c)],
                    len: utf16_len(c),
                    brk: if k + 1 == n { Brk::Line } else { Brk::Inside },
                });
            }
        } else {
            out.push(Atom {
                spans: vec![Span::plain(line)],
                len,
                brk: Brk::Line,
            });
        }
    }
    out
}

/// Rebuild a block of the same kind from some of its atoms.
fn rebuild(proto: &Block, atoms: &[Atom], first: bool, tail: Option<&str>) -> Block {
    let mut spans: Vec<Span> = Vec::new();
    for a in atoms {
        for s in &a.spans {
            push_text(&mut spans, &s.text, s.style, s.link.as_deref());
        }
    }
    if let Block::Code { lang, .. } = proto {
        let mut text: String = spans.iter().map(|s| s.text.as_str()).collect();
        let trimmed = text.trim_end().len();
        text.truncate(trimmed);
        if let Some(t) = tail {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(t);
        }
        return Block::Code {
            lang: lang.clone(),
            text,
        };
    }
    trim_spans(&mut spans);
    if let Some(t) = tail {
        let ends_sentence = spans.last().is_some_and(|s| {
            s.text
                .chars()
                .last()
                .is_some_and(|c| matches!(c, '.' | '!' | '?' | '…' | '”' | '"' | '»'))
        });
        if ends_sentence {
            push_text(&mut spans, " ", Style::PLAIN, None);
        }
        // The ellipsis keeps the block's own style but never a link.
        let style = if matches!(proto, Block::Heading { .. }) {
            Style::PLAIN
        } else {
            spans
                .last()
                .map(|s| s.style.without(Style::CODE))
                .unwrap_or_default()
        };
        push_text(&mut spans, t, style, None);
    }
    match proto {
        Block::Paragraph(_) => Block::Paragraph(spans),
        Block::Heading { level, .. } => Block::Heading {
            level: *level,
            spans,
        },
        Block::ListItem { depth, marker, .. } => Block::ListItem {
            depth: *depth,
            marker: if first { marker.clone() } else { String::new() },
            spans,
        },
        Block::Quote(_) => Block::Quote(spans),
        Block::Code { .. } | Block::Image { .. } => Block::Paragraph(spans),
    }
}

fn block_atoms(b: &Block, max_link: usize) -> Vec<Atom> {
    match b {
        Block::Code { text, .. } => code_atoms(text),
        Block::Image { .. } => Vec::new(),
        _ => atoms(b.spans().unwrap_or(&[]), max_link),
    }
}

/// Strip links from an atom (used when a link's URL alone does not fit).
fn unlink(a: &Atom) -> Vec<Atom> {
    let mut out = Vec::new();
    for s in &a.spans {
        let plain = Span {
            text: s.text.clone(),
            style: s.style,
            link: None,
        };
        word_atoms(&plain, &mut out);
    }
    out
}

/// The longest prefix `atoms[i..j]` whose block (plus `tail`) fits
/// `budget`, cut at the best boundary. Returns `j`, or `i` when not even one
/// atom fits.
fn best_cut(
    d: &dyn Dialect,
    proto: &Block,
    atoms: &[Atom],
    i: usize,
    first: bool,
    budget: usize,
    tail: Option<&str>,
) -> usize {
    // Truncation (with a tail) accepts a shorter piece to end on a
    // sentence; splitting wants fuller parts.
    let truncating = tail.is_some();
    // Upper bound: the platform's measure is never below the text length.
    let tail_len = tail.map(utf16_len).unwrap_or(0);
    let mut hi = i;
    let mut acc = 0;
    while hi < atoms.len() && acc + atoms[hi].len + tail_len <= budget {
        acc += atoms[hi].len;
        hi += 1;
    }
    let fits = |j: usize| d.block_len(&rebuild(proto, &atoms[i..j], first, tail)) <= budget;
    if hi == i || !fits(i + 1) {
        return i;
    }
    let (mut lo, mut hi) = (i + 1, hi);
    // Invariant: fits(lo); find the largest fitting j in [lo, hi].
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if fits(mid) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    let j = lo;
    if j == atoms.len() {
        return j;
    }
    // Prefer a line break, then a sentence end, in the latter part of the
    // piece; then any word boundary; a cut inside a word only as a last
    // resort.
    let span = j - i;
    let floor = i + if truncating { span * 2 / 5 } else { span / 2 };
    for want in [Brk::Line, Brk::Sentence] {
        if let Some(k) = (floor.max(i + 1)..=j)
            .rev()
            .find(|&k| atoms[k - 1].brk >= want)
        {
            return k;
        }
    }
    if let Some(k) = (i + 1..=j).rev().find(|&k| atoms[k - 1].brk >= Brk::Word) {
        return k;
    }
    j
}

/// Split one block that is longer than `limit` into pieces that fit.
fn split_block(d: &dyn Dialect, b: &Block, limit: usize) -> Vec<Block> {
    let mut atoms = block_atoms(b, limit / 2);
    let mut out = Vec::new();
    let mut i = 0;
    let mut first = true;
    let mut guard = 0;
    while i < atoms.len() {
        guard += 1;
        if guard > atoms.len() * 4 + 16 {
            break;
        }
        let j = best_cut(d, b, &atoms, i, first, limit, None);
        if j == i {
            // Not even one atom fits: drop its link, or cut it smaller.
            let a = atoms[i].clone();
            let replacement = if a.spans.iter().any(|s| s.link.is_some()) {
                unlink(&a)
            } else {
                let text: String = a.spans.iter().map(|s| s.text.as_str()).collect();
                let style = a.spans.first().map(|s| s.style).unwrap_or_default();
                let pieces = chunk_clusters(&text, (a.len / 4).max(1));
                if pieces.len() <= 1 {
                    // A single cluster that cannot fit: skip it.
                    atoms.remove(i);
                    continue;
                }
                pieces
                    .into_iter()
                    .map(|p| Atom {
                        spans: vec![Span {
                            text: p.to_string(),
                            style,
                            link: None,
                        }],
                        len: utf16_len(p),
                        brk: Brk::Inside,
                    })
                    .collect()
            };
            atoms.splice(i..=i, replacement);
            continue;
        }
        let piece = rebuild(b, &atoms[i..j], first, None);
        if !piece.is_blank() {
            out.push(piece);
            first = false;
        }
        i = j;
    }
    out
}

/// Split a document into parts of at most `limit` each, at block
/// boundaries (an oversized block is cut at line, sentence or word
/// boundaries). A heading is never left at the end of a part.
pub(crate) fn split(d: &dyn Dialect, blocks: Vec<Block>, limit: usize) -> Vec<Vec<Block>> {
    let mut parts: Vec<Vec<Block>> = Vec::new();
    let mut cur: Vec<Block> = Vec::new();
    let mut cur_len = 0;
    let place =
        |b: Block, parts: &mut Vec<Vec<Block>>, cur: &mut Vec<Block>, cur_len: &mut usize| {
            let bl = d.block_len(&b);
            let add = match cur.last() {
                Some(prev) => sep(prev, &b).len() + bl,
                None => bl,
            };
            if cur.is_empty() || *cur_len + add <= limit {
                *cur_len += add;
                cur.push(b);
                return;
            }
            // Start a new part; carry a trailing heading over with us.
            let mut carry = Vec::new();
            if cur.len() > 1 && matches!(cur.last(), Some(Block::Heading { .. })) {
                carry.extend(cur.pop());
            }
            parts.push(std::mem::take(cur));
            *cur = carry;
            *cur_len = doc_len(d, cur);
            let add = match cur.last() {
                Some(prev) => sep(prev, &b).len() + bl,
                None => bl,
            };
            if *cur_len + add > limit && !cur.is_empty() {
                parts.push(std::mem::take(cur));
                *cur_len = 0;
            }
            *cur_len += if cur.is_empty() { bl } else { add };
            cur.push(b);
        };
    for b in blocks {
        if d.block_len(&b) > limit {
            for piece in split_block(d, &b, limit) {
                place(piece, &mut parts, &mut cur, &mut cur_len);
            }
        } else {
            place(b, &mut parts, &mut cur, &mut cur_len);
        }
    }
    if !cur.is_empty() {
        parts.push(cur);
    }
    parts
}

/// The smallest room worth starting a truncated block in.
const MIN_TAIL_ROOM: usize = 40;

/// Truncate a document to `limit`, ending on a sentence or word boundary
/// with `…`. Whole blocks are kept while they fit.
pub(crate) fn truncate(d: &dyn Dialect, blocks: Vec<Block>, limit: usize) -> Vec<Block> {
    if doc_len(d, &blocks) <= limit {
        return blocks;
    }
    let mut out: Vec<Block> = Vec::new();
    let mut used = 0;
    for b in blocks {
        let s = out.last().map(|p| sep(p, &b).len()).unwrap_or(0);
        let bl = d.block_len(&b);
        if used + s + bl <= limit {
            used += s + bl;
            out.push(b);
            continue;
        }
        let room = limit.saturating_sub(used + s);
        if room >= MIN_TAIL_ROOM.min(limit) && !matches!(b, Block::Image { .. }) {
            let atoms = block_atoms(&b, room / 2);
            let j = best_cut(d, &b, &atoms, 0, true, room, Some("…"));
            if j > 0 {
                out.push(rebuild(&b, &atoms[..j], true, Some("…")));
                return out;
            }
        }
        // No room to start this block: mark the cut on the previous one.
        if let Some(last) = out.pop() {
            let before = used - d.block_len(&last);
            let room = limit.saturating_sub(before);
            let atoms = block_atoms(&last, room / 2);
            let mut with = rebuild(&last, &atoms, true, Some("…"));
            if d.block_len(&with) > room {
                let j = best_cut(d, &last, &atoms, 0, true, room, Some("…"));
                with = if j > 0 {
                    rebuild(&last, &atoms[..j], true, Some("…"))
                } else {
                    last
                };
            }
            out.push(with);
        }
        return out;
    }
    out
}

/// Truncate, but keep the last block when it is a short one carrying a
/// link (a "Read more" line, the source line): the link must survive.
pub(crate) fn truncate_keep_tail(
    d: &dyn Dialect,
    mut blocks: Vec<Block>,
    limit: usize,
) -> Vec<Block> {
    if doc_len(d, &blocks) <= limit {
        return blocks;
    }
    let keep = blocks.len() > 1
        && blocks.last().is_some_and(|b| {
            b.spans()
                .is_some_and(|s| s.iter().any(|s| s.link.is_some()))
                && d.block_len(b) <= limit / 4
        });
    if !keep {
        return truncate(d, blocks, limit);
    }
    let Some(tail) = blocks.pop() else {
        return blocks;
    };
    let tl = d.block_len(&tail) + 2;
    let mut head = truncate(d, blocks, limit.saturating_sub(tl));
    head.push(tail);
    // The separator might differ (list items): make sure.
    while doc_len(d, &head) > limit && head.len() > 1 {
        head.remove(head.len() - 2);
    }
    head
}

#[cfg(test)]
mod tests {
    use super::*;

    fn para(t: &str) -> Block {
        Block::Paragraph(vec![Span::plain(t)])
    }

    #[test]
    fn split_at_block_boundaries() {
        let blocks = vec![
            para(&"a".repeat(40)),
            para(&"b".repeat(40)),
            para(&"c".repeat(40)),
        ];
        let parts = split(&PlainText, blocks, 90);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].len(), 2);
        for p in &parts {
            assert!(doc_len(&PlainText, p) <= 90);
        }
    }

    #[test]
    fn long_paragraph_splits_on_sentences_without_cutting_words() {
        let text = "One two three four. ".repeat(30);
        let parts = split(&PlainText, vec![para(&text)], 100);
        assert!(parts.len() > 5);
        for p in &parts {
            let t = p[0].plain_text();
            assert!(doc_len(&PlainText, p) <= 100);
            assert!(t.ends_with("four."), "{t:?}");
            assert!(t.starts_with("One"), "{t:?}");
        }
    }

    #[test]
    fn links_are_not_cut() {
        let spans = vec![
            Span::plain("x ".repeat(30)),
            Span {
                text: "a link with several words".into(),
                style: Style::PLAIN,
                link: Some("https://l.example/".into()),
            },
            Span::plain(" tail"),
        ];
        let parts = split(&PlainText, vec![Block::Paragraph(spans)], 70);
        for p in &parts {
            for s in p[0].spans().unwrap_or(&[]) {
                if s.link.is_some() {
                    assert_eq!(s.text, "a link with several words");
                }
            }
        }
    }

    #[test]
    fn truncate_ends_with_ellipsis_on_word() {
        let out = truncate(
            &PlainText,
            vec![para(
                "alpha beta gamma delta epsilon zeta eta theta iota kappa",
            )],
            45,
        );
        let t = out[0].plain_text();
        assert!(t.ends_with('…'), "{t}");
        assert!(utf16_len(&t) <= 45);
        assert!(!t.contains("thet…"));
    }

    #[test]
    fn truncate_prefers_sentence_end() {
        let out = truncate(
            &PlainText,
            vec![para(
                "First sentence is here. Second sentence goes on and on and on",
            )],
            50,
        );
        assert_eq!(out[0].plain_text(), "First sentence is here. …");
    }

    #[test]
    fn giant_word_is_chunked() {
        let w = "😀".repeat(3000);
        let parts = split(&PlainText, vec![para(&w)], 1000);
        assert!(parts.len() >= 6);
        let total: String = parts.iter().map(|p| p[0].plain_text()).collect();
        assert_eq!(total, w);
    }

    #[test]
    fn keep_tail() {
        let tail = Block::Paragraph(vec![Span {
            text: "Read more".into(),
            style: Style::PLAIN,
            link: Some("https://x.example/".into()),
        }]);
        let out = truncate_keep_tail(
            &PlainText,
            vec![para(&"word ".repeat(100)), tail.clone()],
            120,
        );
        assert_eq!(out.last(), Some(&tail));
        assert!(doc_len(&PlainText, &out) <= 120);
    }
}
