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
use super::text::{chunk_clusters, utf16_len};

mod atoms;
mod truncate;

use atoms::{block_atoms, word_atoms};
pub(crate) use truncate::{truncate, truncate_keep_tail};

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

#[cfg(test)]
mod tests;
