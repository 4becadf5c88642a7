//! Fitting a summary-mode post into a platform's limit (used by both
//! renderers).

use super::article::Article;
use super::layout::{self, Dialect, doc_len};
use super::rich::Block;

/// Summary mode: the resolved post and its length, shrinking the summary
/// (and the content, if the template uses it) until the post fits `limit`,
/// then, as a last resort, truncating the whole post on a sentence or word
/// boundary while keeping a short trailing link line.
pub(crate) fn fit_summary(
    d: &dyn Dialect,
    pieces: &[super::markup::Piece],
    art: &Article,
    limit: usize,
) -> (Vec<Block>, usize) {
    use super::markup::{Piece, Slot};
    let blocks = super::markup::resolve(pieces, &art.summary, &art.content);
    let len = doc_len(d, &blocks);
    if len <= limit {
        return (blocks, len);
    }
    let uses = |s: Slot| {
        pieces
            .iter()
            .any(|p| matches!(p, Piece::Slot { slot, .. } if *slot == s))
    };
    let (use_summary, use_content) = (uses(Slot::Summary), uses(Slot::Content));
    let mut summary = art.summary.clone();
    let mut content = if use_content {
        art.content.clone()
    } else {
        Vec::new()
    };
    let mut len = len;
    for _ in 0..6 {
        let excess = len - limit;
        let s_len = if use_summary { doc_len(d, &summary) } else { 0 };
        let c_len = if use_content { doc_len(d, &content) } else { 0 };
        if s_len >= c_len && s_len > 0 {
            summary = shrink(d, summary, s_len, excess);
        } else if c_len > 0 {
            content = shrink(d, content, c_len, excess);
        } else {
            break;
        }
        let blocks = super::markup::resolve(pieces, &summary, &content);
        len = doc_len(d, &blocks);
        if len <= limit {
            return (blocks, len);
        }
    }
    let blocks = super::markup::resolve(pieces, &summary, &content);
    let blocks = layout::truncate_keep_tail(d, blocks, limit);
    let len = doc_len(d, &blocks);
    (blocks, len)
}

fn shrink(d: &dyn Dialect, blocks: Vec<Block>, len: usize, excess: usize) -> Vec<Block> {
    let target = len.saturating_sub(excess + 16);
    if target < 40 {
        return Vec::new();
    }
    layout::truncate(d, blocks, target)
}
