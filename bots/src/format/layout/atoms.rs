//! A block's text as atoms: the pieces (words, whole link texts, code
//! lines, chunks of an overlong word) a block may be cut between, each with
//! the kind of break that follows it.

use super::{Atom, Brk, MAX_ATOM, Pos};
use crate::format::rich::{Block, Span};
use crate::format::text::{chunk_clusters, ends_sentence, utf16_len};

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
pub(super) fn word_atoms(
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

pub(super) fn block_atoms(b: &Block, max_link: usize) -> Vec<Atom> {
    match b {
        Block::Code { text, .. } => code_atoms(text),
        Block::Image { .. } => Vec::new(),
        _ => atoms(b.spans().unwrap_or(&[]), max_link),
    }
}
