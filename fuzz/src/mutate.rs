//! Mutation of seed inputs, as a proptest strategy (so failures shrink to
//! fewer, smaller mutations): bit flips, byte sets, token and random
//! insertions, deletions, duplications, truncation and splices of another
//! seed — what AFL's havoc stage does, without the coverage feedback.

use std::sync::Arc;

use proptest::prelude::*;

use crate::corpus::DICTIONARY;

/// One mutation. Positions are taken modulo the input's length.
#[derive(Debug, Clone)]
pub enum Op {
    Flip(usize, u8),
    Set(usize, u8),
    Token(usize, usize),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Duplicate(usize, usize, usize),
    Truncate(usize),
    Splice(usize, usize, usize, usize),
}

fn op() -> impl Strategy<Value = Op> {
    let pos = any::<usize>();
    prop_oneof![
        3 => (pos, 0u8..8).prop_map(|(p, b)| Op::Flip(p, b)),
        2 => (pos, any::<u8>()).prop_map(|(p, v)| Op::Set(p, v)),
        5 => (pos, 0..DICTIONARY.len()).prop_map(|(p, t)| Op::Token(p, t)),
        2 => (pos, prop::collection::vec(any::<u8>(), 1..16)).prop_map(|(p, b)| Op::Insert(p, b)),
        3 => (pos, 1usize..256).prop_map(|(p, n)| Op::Delete(p, n)),
        2 => (pos, 1usize..512, pos).prop_map(|(s, n, at)| Op::Duplicate(s, n, at)),
        1 => pos.prop_map(Op::Truncate),
        2 => (any::<usize>(), pos, 1usize..2048, pos).prop_map(|(o, s, n, at)| Op::Splice(o, s, n, at)),
    ]
}

fn at(p: usize, len: usize) -> usize {
    if len == 0 { 0 } else { p % (len + 1) }
}

/// `seed` with `ops` applied in order; `others` are the splice sources.
pub fn apply(seed: &[u8], ops: &[Op], others: &[Vec<u8>]) -> Vec<u8> {
    let mut d = seed.to_vec();
    for op in ops {
        match op {
            Op::Flip(p, b) if !d.is_empty() => {
                let i = p % d.len();
                d[i] ^= 1 << b;
            }
            Op::Set(p, v) if !d.is_empty() => {
                let i = p % d.len();
                d[i] = *v;
            }
            Op::Token(p, t) => {
                let i = at(*p, d.len());
                let tok = DICTIONARY[t % DICTIONARY.len()].as_bytes();
                d.splice(i..i, tok.iter().copied());
            }
            Op::Insert(p, b) => {
                let i = at(*p, d.len());
                d.splice(i..i, b.iter().copied());
            }
            Op::Delete(p, n) if !d.is_empty() => {
                let i = p % d.len();
                let end = (i + n).min(d.len());
                d.drain(i..end);
            }
            Op::Duplicate(s, n, to) if !d.is_empty() => {
                let i = s % d.len();
                let piece: Vec<u8> = d[i..(i + n).min(d.len())].to_vec();
                let j = at(*to, d.len());
                d.splice(j..j, piece);
            }
            Op::Truncate(p) => {
                let i = at(*p, d.len());
                d.truncate(i);
            }
            Op::Splice(o, s, n, to) if !others.is_empty() => {
                let src = &others[o % others.len()];
                if !src.is_empty() {
                    let i = s % src.len();
                    let piece = &src[i..(i + n).min(src.len())];
                    let j = at(*to, d.len());
                    d.splice(j..j, piece.iter().copied());
                }
            }
            _ => {}
        }
    }
    d
}

/// Inputs made by mutating one of `seeds` (1–8 mutations; none for some,
/// so the seeds themselves are run too).
pub fn mutated(seeds: Vec<Vec<u8>>) -> BoxedStrategy<Vec<u8>> {
    if seeds.is_empty() {
        return prop::collection::vec(any::<u8>(), 0..256).boxed();
    }
    let seeds = Arc::new(seeds);
    (0..seeds.len(), prop::collection::vec(op(), 0..8))
        .prop_map(move |(i, ops)| apply(&seeds[i], &ops, &seeds))
        .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutations_change_inputs_as_described() {
        let seed = b"<rss>abc</rss>".to_vec();
        assert_eq!(apply(&seed, &[Op::Truncate(5)], &[]), b"<rss>");
        assert_eq!(apply(&seed, &[Op::Delete(0, 5)], &[]), b"abc</rss>");
        assert_eq!(apply(&seed, &[Op::Set(1, b'R')], &[]), b"<Rss>abc</rss>");
        assert_eq!(
            apply(b"ab", &[Op::Splice(0, 0, 2, 1)], &[b"XY".to_vec()]),
            b"aXYb"
        );
        assert_eq!(apply(b"", &[Op::Flip(3, 1), Op::Delete(0, 1)], &[]), b"");
    }
}
