//! The scan loop every variant shares, over each layout, with or without
//! the prefilter.
//!
//! A scan is a *walk* (one per layout: dense table, double array over
//! bytes, double array over characters) driven by one loop. With a
//! prefilter the loop alternates two phases: a *filtered* phase that asks
//! the prefilter where to go next whenever the walk is back at the root,
//! while the gate says it pays; then, once the gate closes, a *plain*
//! phase, exactly the loop without a prefilter, that rests the filter for
//! a while before the next trial. The rest doubles each time a trial fails
//! soon (from `MIN_REST` up to `MAX_REST` bytes) and falls back to
//! `MIN_REST` after a filtered phase that lasted; it travels in the
//! [`Cursor`] with the offsets, so a text on which the filter does not pay
//! costs one short trial per `MAX_REST` bytes, however small the calls.

use std::mem::MaybeUninit;

use super::alphabet::{decode_multi, Decoded};
use super::prefilter::{Gate, Prefilter};
pub(in crate::automaton) use super::walks::Walk;
use super::walks::{BytesWalk, CharsState, CharsWalk, DaCore, DenseWalk};
use super::{Automaton, Output, ROOT};
use crate::{Cursor, Hit};

/// Shortest rest of the prefilter after its gate closed, in bytes.
const MIN_REST: usize = 4096;
/// Longest rest.
const MAX_REST: usize = 64 * 1024;
/// A filtered phase that lasted this many times its rest resets the rest
/// to `MIN_REST`.
const LASTED: usize = 8;

/// A block is at most twice this long (minus a little); its hits, at
/// most one per byte, wait in a buffer of twice this many entries on the
/// stack.
pub(super) const TWO_HELD: usize = 1024;
/// Blocks only for a stretch of at least this many bytes...
const TWO_MIN: usize = 64;
/// ... and several streams only for this many times the warm-up, which
/// the later streams walk for nothing.
const TWO_WARM_SHARE: usize = 8;

/// Counts of what scans did, per thread, for the tests' positive controls:
/// that long chunks did go through blocks of one and of three streams, and
/// that the gate did close
/// and the prefilter did come back.
#[cfg(test)]
pub(crate) mod trace {
    use std::cell::Cell;

    thread_local! {
        /// Blocks walked one stream at a time.
        pub(crate) static ONE_BLOCKS: Cell<usize> = const { Cell::new(0) };
        /// Blocks walked three streams at a time.
        pub(crate) static THREE_BLOCKS: Cell<usize> = const { Cell::new(0) };
        /// Bytes the prefilter skipped.
        pub(crate) static SKIPPED: Cell<usize> = const { Cell::new(0) };
        /// Times the gate closed.
        pub(crate) static CLOSED: Cell<usize> = const { Cell::new(0) };
        /// Chunks that went through the literal engine.
        pub(crate) static LITERAL: Cell<usize> = const { Cell::new(0) };
    }

    pub(crate) fn add(counter: &'static std::thread::LocalKey<Cell<usize>>, n: usize) {
        counter.with(|c| c.set(c.get() + n));
    }

    /// Blocks walked one stream at a time, bytes skipped, gate closings;
    /// zeroed.
    pub(crate) fn take() -> (usize, usize, usize) {
        (
            ONE_BLOCKS.with(|c| c.replace(0)),
            SKIPPED.with(|c| c.replace(0)),
            CLOSED.with(|c| c.replace(0)),
        )
    }

    /// Blocks walked three at a time; zeroed.
    pub(crate) fn take_three() -> usize {
        THREE_BLOCKS.with(|c| c.replace(0))
    }

    /// Chunks through the literal engine; zeroed.
    pub(crate) fn take_literal() -> usize {
        LITERAL.with(|c| c.replace(0))
    }
}

impl Automaton {
    /// The scan loop every variant shares: walks `chunk` from `cursor`'s
    /// state and calls `on_hit` at every byte where at least one pattern ends.
    ///
    /// On success the cursor moves past `chunk`. When `on_hit` fails the scan
    /// stops and the error is returned with the cursor unchanged, so the
    /// caller can retry the same chunk.
    ///
    /// The loop is generic over `on_hit` and inlined into each variant, so no
    /// variant pays for another's way of handling hits, and nothing in it
    /// branches on the variant.
    #[inline(always)]
    pub(crate) fn scan<E>(
        &self,
        cursor: &mut Cursor,
        chunk: &[u8],
        mut on_hit: impl FnMut(Hit) -> Result<(), E>,
    ) -> Result<(), E> {
        let after = if let Some(dense) = &self.dense {
            let table = &*dense.table;
            let mut s = cursor.state as usize;
            if !s.is_multiple_of(dense.stride) || s >= table.len() {
                // Not a row start of this table: a cursor of another automaton.
                s = 0;
            }
            let walk = DenseWalk {
                table,
                codes: &self.alphabet.byte_codes,
                stride: dense.stride,
                match_from: dense.match_from as usize,
            };
            let (resume, rest) = match &self.literal {
                Some(lit) if chunk.len() >= lit.min_chunk() => {
                    self.drive_literal(lit, &walk, &mut s, chunk, cursor.offset, &mut on_hit)?;
                    (cursor.resume, cursor.rest)
                }
                _ => self.drive(&walk, &mut s, cursor, chunk, 0, &mut on_hit)?,
            };
            Cursor {
                state: s as u32,
                resume,
                rest,
                ..*cursor
            }
        } else if self.alphabet.utf8 {
            let walk = CharsWalk {
                da: DaCore::of(self),
                cp_codes: &self.alphabet.cp_codes,
            };
            let mut st = CharsState {
                s: self.start_state(cursor),
                pending: cursor.pending,
                pending_len: cursor.pending_len,
            };
            let from = self.finish_pending(&mut st, cursor.offset, chunk, &mut on_hit)?;
            let (resume, rest) = self.drive(&walk, &mut st, cursor, chunk, from, &mut on_hit)?;
            Cursor {
                state: st.s,
                resume,
                rest,
                pending: st.pending,
                pending_len: st.pending_len,
                ..*cursor
            }
        } else {
            let walk = BytesWalk {
                da: DaCore::of(self),
            };
            let mut s = self.start_state(cursor);
            let (resume, rest) = self.drive(&walk, &mut s, cursor, chunk, 0, &mut on_hit)?;
            Cursor {
                state: s,
                resume,
                rest,
                ..*cursor
            }
        };
        *cursor = Cursor {
            offset: cursor.offset + chunk.len(),
            ..after
        };
        Ok(())
    }

    /// Finishes the character the previous chunk ended in the middle of;
    /// returns where the rest of the chunk starts.
    #[inline(always)]
    fn finish_pending<E>(
        &self,
        st: &mut CharsState,
        offset: usize,
        chunk: &[u8],
        on_hit: &mut impl FnMut(Hit) -> Result<(), E>,
    ) -> Result<usize, E> {
        let pending_len = st.pending_len as usize;
        if pending_len == 0 {
            return Ok(0);
        }
        let mut buf = st.pending;
        let take = (4 - pending_len).min(chunk.len());
        buf[pending_len..pending_len + take].copy_from_slice(&chunk[..take]);
        match decode_multi(&buf[..pending_len + take]) {
            Decoded::Char { cp, len } => {
                let i = len - pending_len;
                st.pending_len = 0;
                st.s = self.step(st.s, self.alphabet.cp_code(cp));
                let out = self.output_of(st.s);
                if out != 0 {
                    on_hit(self.hit(offset + i, out))?;
                }
                Ok(i)
            }
            Decoded::Incomplete => {
                // Still unfinished: the whole chunk joins the pending bytes.
                st.pending = buf;
                st.pending_len += take as u8;
                Ok(chunk.len())
            }
            Decoded::Invalid => {
                // The pending bytes are dead symbols; resume at the chunk's
                // first byte, which may begin a character of its own.
                st.pending_len = 0;
                st.s = ROOT;
                Ok(0)
            }
        }
    }

    /// Walks `chunk[from..]` from `st`, with the prefilter when there is
    /// one (see the module documentation); returns the cursor's new
    /// `resume` and `rest`.
    ///
    /// `resume` is the absolute offset at which the current filtered phase
    /// began (at or before the current offset), or at which the next one
    /// begins (after it); `rest` the current rest in bytes (0 for
    /// `MIN_REST`).
    #[inline(always)]
    fn drive<W: Walk, E>(
        &self,
        walk: &W,
        st: &mut W::State,
        cursor: &Cursor,
        chunk: &[u8],
        from: usize,
        on_hit: &mut impl FnMut(Hit) -> Result<(), E>,
    ) -> Result<(usize, u32), E> {
        let offset = cursor.offset;
        let mut i = from;
        let Some(pf) = &self.prefilter else {
            self.walk_plain(walk, st, chunk, &mut i, chunk.len(), offset, on_hit)?;
            return Ok((cursor.resume, cursor.rest));
        };
        let mut resume = cursor.resume;
        let mut rest = (cursor.rest as usize).max(MIN_REST);
        while i < chunk.len() {
            if offset + i >= resume {
                if self.walk_filtered(walk, st, pf, chunk, &mut i, offset, on_hit)? {
                    break;
                }
                #[cfg(test)]
                trace::add(&trace::CLOSED, 1);
                // The gate closed at `i`: rest, longer when this trial
                // failed soon.
                let lasted = offset + i - resume;
                rest = if lasted >= LASTED * rest {
                    MIN_REST
                } else {
                    (rest * 2).min(MAX_REST)
                };
                resume = (offset + i).saturating_add(rest);
            }
            // Here `resume > offset + i`.
            let end = chunk.len().min(resume - offset);
            self.walk_plain(walk, st, chunk, &mut i, end, offset, on_hit)?;
        }
        Ok((resume, rest as u32))
    }

    /// The loop without a prefilter, from `*i` to `end` (a character may
    /// take it a little past `end`, never past the chunk): in blocks of
    /// three streams while the stretch is long enough and the walk gains by
    /// it (`Walk::streams`), then in blocks of one, then the last few bytes
    /// one hit at a time.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub(in crate::automaton) fn walk_plain<W: Walk, E>(
        &self,
        walk: &W,
        st: &mut W::State,
        chunk: &[u8],
        i: &mut usize,
        end: usize,
        offset: usize,
        on_hit: &mut impl FnMut(Hit) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut j = *i;
        let mut s = *st;
        let two_min = TWO_MIN.max(TWO_WARM_SHARE * (self.max_len + 3));
        // A block must hold every later stream's warm-up: with patterns
        // of hundreds of bytes, one stream.
        if walk.streams() == 3 && two_min <= 2 * (TWO_HELD - 4) && end.saturating_sub(j) >= two_min
        {
            j = self.walk_three(walk, &mut s, chunk, j, end, two_min, offset, on_hit)?;
        }
        if end.saturating_sub(j) >= TWO_MIN {
            j = self.walk_one(walk, &mut s, chunk, j, end, offset, on_hit)?;
        }
        while j < end {
            let out = walk.step(&mut s, chunk, &mut j);
            if out != 0 {
                on_hit(self.hit(offset + j, out))?;
            }
        }
        *st = s;
        *i = j;
        Ok(())
    }

    /// Walks blocks of `chunk[j..end]` one stream at a time while at least
    /// `TWO_MIN` bytes are left, and returns where it stopped: the walk
    /// holds each block's hits back and they are reported after it, so
    /// that the loop stays small whatever `on_hit` does and each hit's
    /// first output entry, prefetched when the hit is found, has arrived by
    /// the time it is read.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn walk_one<W: Walk, E>(
        &self,
        walk: &W,
        st: &mut W::State,
        chunk: &[u8],
        mut j: usize,
        end: usize,
        offset: usize,
        on_hit: &mut impl FnMut(Hit) -> Result<(), E>,
    ) -> Result<usize, E> {
        let mut held = [MaybeUninit::<(u32, u32)>::uninit(); 2 * TWO_HELD];
        while end.saturating_sub(j) >= TWO_MIN {
            let block_end = end.min(j + 2 * (TWO_HELD - 4));
            let (n, next) = one_block(walk, &self.outputs, st, chunk, j, block_end, &mut held);
            for h in &held[..n] {
                // SAFETY: `one_block` wrote entries `..n`.
                let (at, out) = unsafe { h.assume_init() };
                on_hit(self.hit(offset + j + at as usize, out))?;
            }
            j = next;
        }
        Ok(j)
    }

    /// The loop with the prefilter: in the root state, skip to the next
    /// candidate. Returns `true` at the end of the chunk, `false` when the
    /// gate closes (at `*i`).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn walk_filtered<W: Walk, E>(
        &self,
        walk: &W,
        st: &mut W::State,
        pf: &Prefilter,
        chunk: &[u8],
        i: &mut usize,
        offset: usize,
        on_hit: &mut impl FnMut(Hit) -> Result<(), E>,
    ) -> Result<bool, E> {
        let mut gate = Gate::default();
        let mut j = *i;
        let mut s = *st;
        let mut done = true;
        while j < chunk.len() {
            if walk.at_root(&s) {
                let next = pf.next(chunk, j);
                #[cfg(test)]
                trace::add(&trace::SKIPPED, next - j);
                let pays = gate.record(j, next);
                j = next;
                if !pays {
                    done = j >= chunk.len();
                    break;
                }
                if j >= chunk.len() {
                    break;
                }
            }
            let out = walk.step(&mut s, chunk, &mut j);
            if out != 0 {
                on_hit(self.hit(offset + j, out))?;
            }
        }
        *st = s;
        *i = j;
        Ok(done)
    }
}

/// One block of `walk_one`, `chunk[j..block_end]` from `*st` (a character
/// may take it up to three bytes past `block_end`): the hits go to `held`,
/// each as its end's distance from `j` (which fits 32 bits however long
/// the chunk) and its output head. Returns how many, and where the walk
/// stopped.
///
/// Not inlined: this loop is the same for every variant, and compiled on
/// its own it keeps the state and the tables in registers, whatever the
/// caller does with hits.
#[inline(never)]
fn one_block<W: Walk>(
    walk: &W,
    outputs: &[Output],
    st: &mut W::State,
    chunk: &[u8],
    mut j: usize,
    block_end: usize,
    held: &mut [MaybeUninit<(u32, u32)>; 2 * TWO_HELD],
) -> (usize, usize) {
    let walk = *walk;
    #[cfg(test)]
    trace::add(&trace::ONE_BLOCKS, 1);
    let start = j;
    let mut s = *st;
    let mut n = 0;
    while j < block_end {
        let out = walk.step(&mut s, chunk, &mut j);
        // Written whether or not a pattern ends here, and kept only if
        // one does: no branch the processor could mispredict.
        prefetch(outputs, out);
        held[n].write(((j - start) as u32, out));
        n += usize::from(out != 0);
    }
    *st = s;
    (n, j)
}

/// Asks the processor to bring `outputs[out]` into the cache: a hit's
/// first output entry is read only when the hit is reported, after the
/// block, and by then the load has had the whole block's time to arrive.
/// A hint without effect on any result; no-op off x86-64.
#[inline(always)]
pub(super) fn prefetch(outputs: &[Output], out: u32) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let p = outputs.as_ptr().wrapping_add(out as usize).cast::<i8>();
        // SAFETY: SSE is part of x86-64's baseline, and a prefetch never
        // faults nor reads into the program, whatever the address
        // (`wrapping_add` keeps even an out-of-range one well defined).
        unsafe { _mm_prefetch::<_MM_HINT_T0>(p) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (outputs, out);
}

#[cfg(test)]
#[path = "scan_tests.rs"]
mod tests;
