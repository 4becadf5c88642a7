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

/// A position in a block's spans: span index and byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pos {
    span: usize,
    byte: usize,
}

/// An unbreakable unit of a block: a contiguous range of its spans' text
/// (a word with its trailing space, a whole link, a code line, or a piece
/// of a too-long word).
#[derive(Debug, Clone, Copy)]
struct Atom {
    start: Pos,
    end: Pos,
    len: usize,
    brk: Brk,
    /// Render without links (a link whose URL alone does not fit).
    unlinked: bool,
}

/// A block being cut: the prototype (for its kind) and the spans atoms
/// point into.
struct Cutting<'a> {
    proto: &'a Block,
    src: std::borrow::Cow<'a, [Span]>,
}

impl<'a> Cutting<'a> {
    fn new(b: &'a Block) -> Self {
        let src = match b {
            Block::Code { text, .. } => std::borrow::Cow::Owned(vec![Span::plain(text.as_str())]),
            _ => std::borrow::Cow::Borrowed(b.spans().unwrap_or(&[])),
        };
        Cutting { proto: b, src }
    }
}

fn brk_of(word: &str, ws: &str) -> Brk {
    if ws.is_empty() {
        Brk::Inside
    } else if ws.contains('\n') {
        Brk::Line
    } else if ends_sentence(word) {
        Brk::Sentence
    } else {
        Brk::Word
    }
}

/// Word atoms of `spans[si].text[from..to]`.
fn word_atoms(
    spans: &[Span],
    si: usize,
    from: usize,
    to: usize,
    unlinked: bool,
    out: &mut Vec<Atom>,
) {
    let text = &spans[si].text[from..to];
    let mut start = 0;
    let mut i = 0;
    while i < text.len() {
        let word_start = i;
        for (k, c) in text[i..].char_indices() {
            if c.is_whitespace() {
                i = word_start + k;
                break;
            }
            i = word_start + k + c.len_utf8();
        }
        let word_end = i;
        for (k, c) in text[i..].char_indices() {
            if !c.is_whitespace() {
                i = word_end + k;
                break;
            }
            i = word_end + k + c.len_utf8();
        }
        if i == start {
            break;
        }
        let piece = &text[start..i];
        let brk = brk_of(&text[start..word_end], &text[word_end..i]);
        let len = utf16_len(piece);
        if len > MAX_ATOM {
            let chunks = chunk_clusters(piece, MAX_ATOM);
            let n = chunks.len();
            let mut off = from + start;
            for (k, c) in chunks.into_iter().enumerate() {
                out.push(Atom {
                    start: Pos {
                        span: si,
                        byte: off,
                    },
                    end: Pos {
                        span: si,
                        byte: off + c.len(),
                    },
                    len: utf16_len(c),
                    brk: if k + 1 == n { brk } else { Brk::Inside },
                    unlinked,
                });
                off += c.len();
            }
        } else {
            out.push(Atom {
                start: Pos {
                    span: si,
                    byte: from + start,
                },
                end: Pos {
                    span: si,
                    byte: from + i,
                },
                len,
                brk,
                unlinked,
            });
        }
        start = i;
    }
}

/// Cut inline content into atoms: words (with their trailing space), and
/// whole links as single atoms when they are short enough, so that a cut
/// never falls inside a word or a link. A word continuing into the next
/// span ("foo<b>bar</b>") is marked [`Brk::Inside`] so it is not split.
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
                out.push(Atom {
                    start: Pos { span: i, byte: 0 },
                    end: Pos {
                        span: j - 1,
                        byte: last.len(),
                    },
                    len,
                    brk: brk_of(trimmed, &last[trimmed.len()..]),
                    unlinked: false,
                });
                i = j;
                continue;
            }
        }
        word_atoms(spans, i, 0, spans[i].text.len(), false, &mut out);
        i += 1;
    }
    out
}

fn code_atoms(text: &str) -> Vec<Atom> {
    let mut out = Vec::new();
    let mut off = 0;
    for line in text.split_inclusive('\n') {
        let len = utf16_len(line);
        if len > MAX_ATOM {
            let chunks = chunk_clusters(line, MAX_ATOM);
            let n = chunks.len();
            for (k, c) in chunks.into_iter().enumerate() {
                out.push(Atom {
                    start: Pos { span: 0, byte: off },
                    end: Pos {
                        span: 0,
                        byte: off + c.len(),
                    },
                    len: utf16_len(c),
                    brk: if k + 1 == n { Brk::Line } else { Brk::Inside },
                    unlinked: false,
                });
                off += c.len();
            }
        } else {
            out.push(Atom {
                start: Pos { span: 0, byte: off },
                end: Pos {
                    span: 0,
                    byte: off + line.len(),
                },
                len,
                brk: Brk::Line,
                unlinked: false,
            });
            off += line.len();
        }
    }
    out
}

/// Rebuild a block of the same kind from a run of its atoms.
fn rebuild(c: &Cutting<'_>, atoms: &[Atom], first: bool, tail: Option<&str>) -> Block {
    let mut spans: Vec<Span> = Vec::new();
    for a in atoms {
        for si in a.start.span..=a.end.span {
            let Some(s) = c.src.get(si) else { break };
            let from = if si == a.start.span { a.start.byte } else { 0 };
            let to = if si == a.end.span {
                a.end.byte
            } else {
                s.text.len()
            };
            if let Some(t) = s.text.get(from..to) {
                let link = if a.unlinked { None } else { s.link.as_deref() };
                push_text(&mut spans, t, s.style, link);
            }
        }
    }
    if let Block::Code { lang, .. } = c.proto {
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
        let style = if matches!(c.proto, Block::Heading { .. }) {
            Style::PLAIN
        } else {
            spans
                .last()
                .map(|s| s.style.without(Style::CODE))
                .unwrap_or_default()
        };
        push_text(&mut spans, t, style, None);
    }
    match c.proto {
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

/// The longest prefix `atoms[i..j]` whose block (plus `tail`) fits
/// `budget`, cut at the best boundary. Returns `j`, or `i` when not even one
/// atom fits.
fn best_cut(
    d: &dyn Dialect,
    c: &Cutting<'_>,
    atoms: &[Atom],
    (i, first): (usize, bool),
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
    let fits = |j: usize| d.block_len(&rebuild(c, &atoms[i..j], first, tail)) <= budget;
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
    let c = Cutting::new(b);
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
        let j = best_cut(d, &c, &atoms, (i, first), limit, None);
        if j == i {
            // Not even one atom fits: drop its links, or cut it smaller.
            let a = atoms[i];
            let linked = !a.unlinked
                && (a.start.span..=a.end.span)
                    .any(|si| c.src.get(si).is_some_and(|s| s.link.is_some()));
            let mut replacement = Vec::new();
            if linked {
                for si in a.start.span..=a.end.span {
                    let Some(s) = c.src.get(si) else { break };
                    let from = if si == a.start.span { a.start.byte } else { 0 };
                    let to = if si == a.end.span {
                        a.end.byte
                    } else {
                        s.text.len()
                    };
                    word_atoms(&c.src, si, from, to, true, &mut replacement);
                }
            } else {
                let si = a.start.span;
                let text = c
                    .src
                    .get(si)
                    .and_then(|s| s.text.get(a.start.byte..a.end.byte))
                    .unwrap_or("");
                let pieces = chunk_clusters(text, (a.len / 4).max(1));
                if pieces.len() <= 1 {
                    // A single cluster that cannot fit: skip it.
                    atoms.remove(i);
                    continue;
                }
                let mut off = a.start.byte;
                for p in pieces {
                    replacement.push(Atom {
                        start: Pos {
                            span: si,
                            byte: off,
                        },
                        end: Pos {
                            span: si,
                            byte: off + p.len(),
                        },
                        len: utf16_len(p),
                        brk: Brk::Inside,
                        unlinked: true,
                    });
                    off += p.len();
                }
            }
            atoms.splice(i..=i, replacement);
            continue;
        }
        let piece = rebuild(&c, &atoms[i..j], first, None);
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
    let lens: Vec<usize> = blocks.iter().map(|b| d.block_len(b)).collect();
    let total: usize = lens.iter().sum::<usize>()
        + blocks
            .windows(2)
            .map(|w| sep(&w[0], &w[1]).len())
            .sum::<usize>();
    if total <= limit {
        return if blocks.is_empty() {
            Vec::new()
        } else {
            vec![blocks]
        };
    }
    for (b, bl) in blocks.into_iter().zip(lens) {
        if bl > limit {
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
            let c = Cutting::new(&b);
            let j = best_cut(d, &c, &atoms, (0, true), room, Some("…"));
            if j > 0 {
                let piece = rebuild(&c, &atoms[..j], true, Some("…"));
                out.push(piece);
                return out;
            }
        }
        // No room to start this block: mark the cut on the previous one.
        if let Some(last) = out.pop() {
            let before = used - d.block_len(&last);
            let room = limit.saturating_sub(before);
            let atoms = block_atoms(&last, room / 2);
            let c = Cutting::new(&last);
            let mut with = rebuild(&c, &atoms, true, Some("…"));
            if d.block_len(&with) > room {
                let j = best_cut(d, &c, &atoms, (0, true), room, Some("…"));
                if j > 0 {
                    with = rebuild(&c, &atoms[..j], true, Some("…"));
                } else {
                    drop(c);
                    with = last;
                }
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
