//! The walks: one per layout (dense table, double array over bytes,
//! double array over characters), each a step over one symbol from a
//! state, which the block loops of `scan` and `streams` drive.

use super::alphabet::{cp_code, decode_multi, Decoded};
use super::{Automaton, State, ROOT};

/// One layout's way of walking the automaton: the tables (shared by the
/// streams of `walk_three`) and the step over one symbol from a state.
pub(in crate::automaton) trait Walk: Copy {
    /// Where a walk stands: small and `Copy`, so that it lives in
    /// registers.
    type State: Copy;

    /// How many streams walk long stretches at a time: 1 or 3
    /// (`walk_three`). Three pay when a step is one load (the dense
    /// table); a double-array step branches on its failure links, and one
    /// stream whose hits are recorded without a branch (`one_block`)
    /// measured faster than two streams over both double arrays, at every
    /// size (the root's DECISIONS-scaling.md, "One stream without a
    /// branch").
    fn streams(&self) -> usize;

    /// The root state, with nothing pending.
    fn root(&self) -> Self::State;

    /// Whether `st` is the root, where the prefilter may skip ahead.
    fn at_root(&self, st: &Self::State) -> bool;

    /// Consumes the symbol at `chunk[*i..]` (`*i < chunk.len()`), moving
    /// `*i` past it, and returns the head of the new state's output chain:
    /// 0 when no pattern ends there.
    fn step(&self, st: &mut Self::State, chunk: &[u8], i: &mut usize) -> u32;
}

/// The dense table: one load per byte; "some pattern ends here" is a
/// comparison of the state id (states with output have the last rows).
/// The state is a row start.
#[derive(Clone, Copy)]
pub(super) struct DenseWalk<'a> {
    pub(super) table: &'a [u32],
    pub(super) codes: &'a [u32; 256],
    pub(super) stride: usize,
    pub(super) match_from: usize,
}

impl Walk for DenseWalk<'_> {
    type State = usize;

    #[inline(always)]
    fn streams(&self) -> usize {
        3
    }

    #[inline(always)]
    fn root(&self) -> usize {
        0
    }

    #[inline(always)]
    fn at_root(&self, st: &usize) -> bool {
        *st == 0
    }

    #[inline(always)]
    fn step(&self, st: &mut usize, chunk: &[u8], i: &mut usize) -> u32 {
        let byte = chunk[*i];
        *i += 1;
        // SAFETY: `st` is a row start (checked by `scan`, and every
        // transition entry is one), rows are `stride` long, and codes are
        // `< stride - 1`.
        *st = unsafe {
            *self
                .table
                .get_unchecked(*st + self.codes[byte as usize] as usize)
        } as usize;
        if *st >= self.match_from {
            // SAFETY: as above; the last entry of a row is its output.
            unsafe { *self.table.get_unchecked(*st + self.stride - 1) }
        } else {
            0
        }
    }
}

/// What a double-array walk reads, copied out of the automaton: the
/// block loops take their walk by value, so these stay in registers
/// instead of being read again through `&Automaton` after every store to
/// the held hits.
#[derive(Clone, Copy)]
pub(super) struct DaCore<'a> {
    states: &'a [State],
    root_next: &'a [u32],
    byte_codes: &'a [u32; 256],
    dead: u32,
}

impl<'a> DaCore<'a> {
    pub(super) fn of(ac: &'a Automaton) -> DaCore<'a> {
        DaCore {
            states: &ac.states,
            root_next: &ac.root_next,
            byte_codes: &ac.alphabet.byte_codes,
            dead: ac.alphabet.dead,
        }
    }

    /// The transition from `s` on `code`, following failure links; the
    /// dead code goes straight to the root.
    ///
    /// Requires `s < states.len()` and `code < alphabet.len`; returns a
    /// slot with the same property.
    #[inline(always)]
    pub(super) fn step(&self, mut s: u32, code: u32) -> u32 {
        if code == self.dead {
            return ROOT;
        }
        loop {
            if s == ROOT {
                // SAFETY: `root_next` has one entry per code.
                return unsafe { *self.root_next.get_unchecked(code as usize) };
            }
            // SAFETY: `s < states.len()` on entry, and every failure link
            // points at a valid slot (set at build time), so it stays so.
            let st = unsafe { *self.states.get_unchecked(s as usize) };
            let t = st.base + code;
            // SAFETY: the array is padded so that `base + code` is in
            // bounds for every slot and every code (`build`, "padding").
            if unsafe { self.states.get_unchecked(t as usize) }.check == s {
                return t;
            }
            s = st.fail;
        }
    }

    /// The head of state `s`'s output chain: 0 when no pattern ends there.
    /// Requires `s < states.len()`.
    #[inline(always)]
    pub(super) fn output_of(&self, s: u32) -> u32 {
        // SAFETY: every state index the scan loops hold is < states.len():
        // `start_state` checks the cursor's, and `step` returns valid slots.
        unsafe { self.states.get_unchecked(s as usize) }.out
    }
}

/// The double array over bytes; the state is a slot.
#[derive(Clone, Copy)]
pub(super) struct BytesWalk<'a> {
    pub(super) da: DaCore<'a>,
}

impl Walk for BytesWalk<'_> {
    type State = u32;

    #[inline(always)]
    fn streams(&self) -> usize {
        1
    }

    #[inline(always)]
    fn root(&self) -> u32 {
        ROOT
    }

    #[inline(always)]
    fn at_root(&self, st: &u32) -> bool {
        *st == ROOT
    }

    #[inline(always)]
    fn step(&self, st: &mut u32, chunk: &[u8], i: &mut usize) -> u32 {
        let byte = chunk[*i];
        *i += 1;
        *st = self.da.step(*st, self.da.byte_codes[byte as usize]);
        self.da.output_of(*st)
    }
}

/// The double array over UTF-8 characters, decoded on the fly.
#[derive(Clone, Copy)]
pub(super) struct CharsWalk<'a> {
    pub(super) da: DaCore<'a>,
    pub(super) cp_codes: &'a [u32],
}

/// A charwise walk's state: the slot, and the first bytes of a character
/// that the chunk ended in the middle of.
#[derive(Clone, Copy)]
pub(super) struct CharsState {
    pub(super) s: u32,
    pub(super) pending: [u8; 4],
    pub(super) pending_len: u8,
}

impl Walk for CharsWalk<'_> {
    type State = CharsState;

    #[inline(always)]
    fn streams(&self) -> usize {
        1
    }

    #[inline(always)]
    fn root(&self) -> CharsState {
        CharsState {
            s: ROOT,
            pending: [0; 4],
            pending_len: 0,
        }
    }

    #[inline(always)]
    fn at_root(&self, st: &CharsState) -> bool {
        st.s == ROOT
    }

    #[inline(always)]
    fn step(&self, st: &mut CharsState, chunk: &[u8], i: &mut usize) -> u32 {
        let byte = chunk[*i];
        let code = if byte < 0x80 {
            *i += 1;
            self.da.byte_codes[byte as usize]
        } else if let Some(cp) = three_byte_fast(chunk, *i) {
            // Most CJK text: a three-byte character whose lead byte needs
            // no special range check (see `three_byte_fast`).
            *i += 3;
            cp_code(self.cp_codes, cp, self.da.dead)
        } else {
            match decode_multi(&chunk[*i..]) {
                Decoded::Char { cp, len } => {
                    *i += len;
                    cp_code(self.cp_codes, cp, self.da.dead)
                }
                Decoded::Invalid => {
                    *i += 1;
                    self.da.dead
                }
                Decoded::Incomplete => {
                    // One to three bytes, copied at constant indices: a
                    // copy of variable length would keep the state in
                    // memory rather than in registers, for the whole loop.
                    let rest = &chunk[*i..];
                    let at = |k: usize| rest.get(k).copied().unwrap_or(0);
                    st.pending = [at(0), at(1), at(2), 0];
                    st.pending_len = rest.len() as u8;
                    *i = chunk.len();
                    return 0;
                }
            }
        };
        st.s = self.da.step(st.s, code);
        self.da.output_of(st.s)
    }
}

/// The code point of the three-byte character at `chunk[i]`, when its lead
/// byte is E1..=EC or EE..=EF (whose first continuation byte may be any of
/// 80..=BF, so checking `10xxxxxx` on both continuation bytes is the whole
/// validation) and all three bytes are in the chunk; `None` sends the caller
/// to the general decoder, which handles everything else.
#[inline(always)]
pub(super) fn three_byte_fast(chunk: &[u8], i: usize) -> Option<u32> {
    let [b0, b1, b2] = *chunk.get(i..i + 3)? else {
        return None;
    };
    let plain_lead = matches!(b0, 0xE1..=0xEC | 0xEE..=0xEF);
    if plain_lead && b1 & 0xC0 == 0x80 && b2 & 0xC0 == 0x80 {
        Some((u32::from(b0) & 0x0F) << 12 | (u32::from(b1) & 0x3F) << 6 | (u32::from(b2) & 0x3F))
    } else {
        None
    }
}
