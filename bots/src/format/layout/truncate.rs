//! Truncating a document to a length limit, ending on a sentence or word
//! boundary with `…`, optionally keeping a tail block (a link line).

use super::{Cutting, Dialect, atoms::block_atoms, best_cut, doc_len, rebuild, sep};
use crate::format::rich::Block;

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
