//! Telegram's entity budget: at most [`MAX_ENTITIES`] formatting entities
//! and [`ENTITY_BYTES`] of them per message. Parts over the budget are
//! split smaller, then thinned (formatting, then links, dropped from the
//! end).

use super::{Tag, wanted};
use crate::format::layout::{self, Dialect};
use crate::format::rich::{Block, Span, Style};

/// Formatting entities the renderer allows itself per message. Telegram
/// applies at most 100 and silently ignores the rest; 10 are left for the
/// entities Telegram adds itself (hashtags, bare URLs).
pub const MAX_ENTITIES: usize = 90;

/// Budget for the entities' total size, in bytes (about 16 per entity plus
/// its URL). Telegram rejects a message whose entities are too large in
/// total with `Bad Request: ENTITIES_TOO_LONG`, at about 9500 bytes
/// (tdlib/telegram-bot-api#165); link-dense text reaches that well before
/// 4096 characters.
pub const ENTITY_BYTES: usize = 7000;

/// Walk the entities [`to_html`] will create for `blocks` (in order), with
/// their size; `keep` decides, for a span, whether its new entities fit
/// (returning `false` strips its style and link).
fn walk_entities(blocks: &mut [Block], mut keep: impl FnMut(usize, usize) -> bool) {
    fn spans_pass(spans: &mut [Span], extra: Style, keep: &mut impl FnMut(usize, usize) -> bool) {
        let mut open: Vec<(Option<String>, Style)> = Vec::new();
        for span in spans.iter_mut() {
            if span.text.is_empty() {
                continue;
            }
            let tags: Vec<(Option<String>, Style)> = wanted(span, extra)
                .into_iter()
                .map(|t| match t {
                    Tag::Link(l) => (Some(l.to_string()), Style::PLAIN),
                    Tag::Style(s) => (None, s),
                })
                .collect();
            let common = open.iter().zip(&tags).take_while(|(a, b)| a == b).count();
            let new = &tags[common..];
            let bytes: usize = new
                .iter()
                .map(|(l, _)| 16 + l.as_ref().map_or(0, String::len))
                .sum();
            if new.is_empty() || keep(new.len(), bytes) {
                open = tags;
            } else {
                span.style = Style::PLAIN;
                span.link = None;
                open.clear();
            }
        }
    }
    for b in blocks.iter_mut() {
        match b {
            Block::Paragraph(s) => spans_pass(s, Style::PLAIN, &mut keep),
            Block::Heading { spans, .. } => spans_pass(spans, Style::BOLD, &mut keep),
            Block::ListItem { spans, .. } => spans_pass(spans, Style::PLAIN, &mut keep),
            Block::Quote(s) => {
                if keep(1, 16) {
                    spans_pass(s, Style::PLAIN, &mut keep);
                } else {
                    let s = std::mem::take(s);
                    *b = Block::Paragraph(s);
                    if let Block::Paragraph(s) = b {
                        spans_pass(s, Style::PLAIN, &mut keep);
                    }
                }
            }
            Block::Code { lang, text } => {
                let n = 1 + usize::from(lang.is_some());
                if !keep(n, 16 * n) {
                    *b = Block::Paragraph(vec![Span::plain(std::mem::take(text))]);
                }
            }
            Block::Image { src, alt } => {
                if !keep(1, 16 + src.len()) {
                    let label = if alt.trim().is_empty() {
                        "Image"
                    } else {
                        alt.as_str()
                    };
                    *b = Block::Paragraph(vec![Span::plain(format!("🖼 {label}"))]);
                }
            }
        }
    }
}

/// Count of entities [`to_html`] creates for `blocks`, and their total
/// size (what [`walk_entities`] sees, without copying anything).
pub(super) fn entity_cost(blocks: &[Block]) -> (usize, usize) {
    fn spans_cost(spans: &[Span], extra: Style, n: &mut usize, bytes: &mut usize) {
        let mut open: Vec<Tag<'_>> = Vec::new();
        for span in spans.iter().filter(|s| !s.text.is_empty()) {
            let want = wanted(span, extra);
            let common = open.iter().zip(&want).take_while(|(a, b)| a == b).count();
            for t in &want[common..] {
                *n += 1;
                *bytes += 16 + if let Tag::Link(l) = t { l.len() } else { 0 };
            }
            open = want;
        }
    }
    let (mut n, mut bytes) = (0usize, 0usize);
    for b in blocks {
        match b {
            Block::Paragraph(s) | Block::ListItem { spans: s, .. } => {
                spans_cost(s, Style::PLAIN, &mut n, &mut bytes)
            }
            Block::Heading { spans, .. } => spans_cost(spans, Style::BOLD, &mut n, &mut bytes),
            Block::Quote(s) => {
                n += 1;
                bytes += 16;
                spans_cost(s, Style::PLAIN, &mut n, &mut bytes);
            }
            Block::Code { lang, .. } => {
                let k = 1 + usize::from(lang.is_some());
                n += k;
                bytes += 16 * k;
            }
            Block::Image { src, .. } => {
                n += 1;
                bytes += 16 + src.len();
            }
        }
    }
    (n, bytes)
}

/// Drop formatting (then links) from the end of the text when the
/// entities exceed [`MAX_ENTITIES`] or [`ENTITY_BYTES`].
pub(super) fn thin_entities(blocks: &mut [Block]) {
    let (n, bytes) = entity_cost(blocks);
    if n <= MAX_ENTITIES && bytes <= ENTITY_BYTES {
        return;
    }
    let (mut n, mut bytes) = (0, 0);
    walk_entities(blocks, |k, b| {
        if n + k <= MAX_ENTITIES && bytes + b <= ENTITY_BYTES {
            n += k;
            bytes += b;
            true
        } else {
            false
        }
    });
    // A heading is bold as a whole: stripping its spans leaves that bold
    // (one entity per heading), so a text of many short headings can still
    // be over. Such headings become plain paragraphs, from the end.
    loop {
        let (n, bytes) = entity_cost(blocks);
        if n <= MAX_ENTITIES && bytes <= ENTITY_BYTES {
            return;
        }
        let excess = (n.saturating_sub(MAX_ENTITIES)).max(1);
        let mut demoted = 0;
        for b in blocks.iter_mut().rev() {
            if demoted == excess {
                break;
            }
            if let Block::Heading { spans, .. } = b {
                *b = Block::Paragraph(std::mem::take(spans));
                demoted += 1;
            }
        }
        if demoted == 0 {
            return;
        }
    }
}

/// Split at `limit`; a part with too many or too large entities is split
/// again, smaller (down to 256 characters), and thinned as a last resort.
pub(super) fn split_within_entity_budget(
    d: &dyn Dialect,
    blocks: Vec<Block>,
    limit: usize,
) -> Vec<Vec<Block>> {
    let mut out = Vec::new();
    for mut part in layout::split(d, blocks, limit) {
        let (n, bytes) = entity_cost(&part);
        if n <= MAX_ENTITIES && bytes <= ENTITY_BYTES {
            out.push(part);
        } else if limit > 256 {
            out.extend(split_within_entity_budget(d, part, limit / 2));
        } else {
            thin_entities(&mut part);
            out.push(part);
        }
    }
    out
}
