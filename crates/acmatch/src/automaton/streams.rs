//! Three streams over the dense table: each block is cut in three, and
//! each later stream starts at the root `max_len + 3` bytes before its
//! stretch (the longest pattern plus three bytes, so that a walk has found
//! its character boundaries). The automaton's state after a byte depends
//! only on the last `max_len` bytes, so such a stream is exact on its
//! stretch; three independent chains of loads keep more of the table's
//! memory wait in flight than one. Measured with the scaling example
//! (DECISIONS-scaling.md at the repository root): faster than one or two
//! streams on the dense table at every size measured, four no faster than
//! three; over the double arrays, whose steps branch, one stream is the
//! fastest.

use std::mem::MaybeUninit;

use super::scan::{prefetch, Walk, TWO_HELD};
use super::{Automaton, Output};
use crate::Hit;

impl Automaton {
    /// As `walk_one`, three streams at a time: walks blocks of
    /// `chunk[j..end]` while at least `min` bytes are left, reports each
    /// block's hits in order after it, and returns where it stopped.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub(super) fn walk_three<W: Walk, E>(
        &self,
        walk: &W,
        st: &mut W::State,
        chunk: &[u8],
        mut j: usize,
        end: usize,
        min: usize,
        offset: usize,
        on_hit: &mut impl FnMut(Hit) -> Result<(), E>,
    ) -> Result<usize, E> {
        let warm = self.max_len + 3;
        let mut held = [MaybeUninit::<(u32, u32)>::uninit(); 2 * TWO_HELD];
        while end.saturating_sub(j) >= min {
            let block_end = end.min(j + 2 * (TWO_HELD - 4));
            let (n, from, next) = multi_block::<W, 3>(
                walk,
                &self.outputs,
                st,
                chunk,
                j,
                block_end,
                warm,
                &mut held,
            );
            for k in 0..3 {
                for h in &held[from[k]..from[k] + n[k]] {
                    // SAFETY: `multi_block` wrote `n[k]` entries from
                    // `from[k]`.
                    let (at, out) = unsafe { h.assume_init() };
                    on_hit(self.hit(offset + j + at as usize, out))?;
                }
            }
            j = next;
        }
        Ok(j)
    }
}

/// One block, `chunk[j..block_end]`, walked by `N` streams in lockstep.
/// The block is cut at `b[k] = j + k * len / N`: stream 0 walks from `*a`
/// over `[b[0], b[1])`, stream `k` from the root at `b[k] - warm` over
/// `[b[k], b[k + 1])`, the last to the block's end (a character may take
/// a stream up to three bytes past its stretch). Stream `k` keeps the hits
/// that end in `(b[k], b[k + 1]]` (the last: after `b[N - 1]`), at most one
/// per byte, and writes them from `held[b[k] - j]` on, as their end's
/// distance from `j` and their output head: the streams' regions do not
/// overlap. Returns each stream's count and first entry, and where the
/// last stream stopped; `*a` becomes its state.
///
/// Requires `block_end - j >= N * warm` (so that `b[k] - warm >= j`) and
/// `held` longer than the block plus three.
///
/// Not inlined, as `scan::one_block`.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn multi_block<W: Walk, const N: usize>(
    walk: &W,
    outputs: &[Output],
    a: &mut W::State,
    chunk: &[u8],
    j: usize,
    block_end: usize,
    warm: usize,
    held: &mut [MaybeUninit<(u32, u32)>],
) -> ([usize; N], [usize; N], usize) {
    let walk = *walk;
    #[cfg(test)]
    super::scan::trace::add(&super::scan::trace::THREE_BLOCKS, 1);
    let len = block_end - j;
    debug_assert!(len >= N * warm && held.len() > len + 3);
    let lo: [usize; N] = std::array::from_fn(|k| j + k * len / N);
    let stop: [usize; N] = std::array::from_fn(|k| {
        if k + 1 == N {
            block_end
        } else {
            j + (k + 1) * len / N
        }
    });
    let mut s = [walk.root(); N];
    s[0] = *a;
    let mut i: [usize; N] = std::array::from_fn(|k| if k == 0 { j } else { lo[k] - warm });
    let mut n = [0usize; N];
    // Stream `k`'s step and, when a pattern ends in its stretch, its hit.
    let mut step = |k: usize, s: &mut [W::State; N], i: &mut [usize; N], n: &mut [usize; N]| {
        let out = walk.step(&mut s[k], chunk, &mut i[k]);
        if out != 0 && i[k] > lo[k] && (k + 1 == N || i[k] <= stop[k]) {
            prefetch(outputs, out);
            held[lo[k] - j + n[k]].write(((i[k] - j) as u32, out));
            n[k] += 1;
        }
    };
    while (0..N).all(|k| i[k] < stop[k]) {
        for k in 0..N {
            step(k, &mut s, &mut i, &mut n);
        }
    }
    for k in 0..N {
        while i[k] < stop[k] {
            step(k, &mut s, &mut i, &mut n);
        }
    }
    *a = s[N - 1];
    (n, std::array::from_fn(|k| lo[k] - j), i[N - 1])
}
