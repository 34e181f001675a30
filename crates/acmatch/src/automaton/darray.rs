//! The double array under construction: slots, and a bitmap of the free
//! ones. Children are placed first-fit over the bitmap, 64 candidate bases
//! at a time: a node with one child (most nodes of a large trie) anywhere
//! in the array, filling holes; a node with several children within the
//! last stretch of the array (a window of at least `OPEN_BLOCKS` blocks of
//! `BLOCK` slots, or `WINDOW_ALPHABETS` alphabets' width), which bounds the
//! search for a base and keeps building linear in practice: a million
//! patterns build in seconds.

use super::{State, INVALID, ROOT};
use crate::error::BuildError;

/// Slots are added in blocks of this size.
pub(super) const BLOCK: usize = 256;
/// A node with several children searches for a base in the last this many
/// blocks of the array at least, which bounds the search.
const OPEN_BLOCKS: usize = 16;
/// Or in the last this many alphabets' width, if more: with a large
/// alphabet, children spread over many codes, and a narrow window would
/// send each such node to the end of the array, leaving most of it empty
/// (measured on the Chinese dictionary: 4 alphabets filled 43% of the
/// slots, 64 filled 70%, as many as searching the whole array).
const WINDOW_ALPHABETS: usize = 64;

const FREE: State = State {
    base: 0,
    fail: ROOT,
    out: 0,
    check: INVALID,
};

/// The double array under construction, with its free slots.
pub(super) struct DoubleArray {
    pub(super) states: Vec<State>,
    reserved: usize,
    /// The free slots at `reserved` and beyond.
    free: FreeSlots,
    /// A node with several children searches for a base only among the
    /// last `window` slots (and beyond the end): that bounds the search.
    window: usize,
}

impl DoubleArray {
    pub(super) fn new(reserved: usize, alphabet_len: usize) -> DoubleArray {
        DoubleArray {
            states: vec![FREE; reserved],
            reserved,
            free: FreeSlots::default(),
            window: (OPEN_BLOCKS * BLOCK).max(WINDOW_ALPHABETS * alphabet_len),
        }
    }

    /// Adds one block of free slots.
    pub(super) fn grow(&mut self) -> Result<(), BuildError> {
        let old = self.states.len();
        let new = old + BLOCK;
        if new >= (u32::MAX as usize) / 2 {
            return Err(BuildError::too_large());
        }
        self.states.resize(new, FREE);
        self.free.add(old..new);
        Ok(())
    }

    /// Finds a base for a node whose children have the (sorted, distinct)
    /// `codes`, claims the child slots and returns the base.
    ///
    /// First fit over the free-slot bitmap: the first free slot at or
    /// after the first child's code anywhere in the array (or, for a node
    /// with several children, in the last `window` slots), for 64
    /// candidate bases at a time, ANDing the free bits under every child.
    /// Bases need not be unique, since `check` holds the parent; so most
    /// nodes of a large trie, which have one child, fill the holes that
    /// nodes with several children leave.
    pub(super) fn place(&mut self, parent: u32, codes: &[u32]) -> Result<u32, BuildError> {
        let first = codes[0] as usize;
        let last = codes[codes.len() - 1] as usize;
        let len = self.states.len();
        let from = if codes.len() == 1 {
            first
        } else {
            first.max(len.saturating_sub(self.window))
        };
        let mut p = from.max(self.reserved);
        let base = loop {
            // Skip to the first child's next free slot.
            let Some(q) = self.free.first_from(p) else {
                // None left: past the end, where every slot is free.
                break len.max(p) - first;
            };
            let b = q - first;
            let mut fits = self.free.run(q, len);
            for &c in &codes[1..] {
                if fits == 0 {
                    break;
                }
                fits &= self.free.run(b + c as usize, len);
            }
            if fits != 0 {
                break b + fits.trailing_zeros() as usize;
            }
            p = q + 64;
        };
        while self.states.len() <= base + last {
            self.grow()?;
        }
        self.states[parent as usize].base = base as u32;
        for &c in codes {
            let t = base + c as usize;
            self.states[t].check = parent;
            self.free.take(t);
        }
        Ok(base as u32)
    }

    /// `goto(f, code)`, following failure links from `f` until a state has a
    /// child on `code`; the root when none has.
    pub(super) fn goto_through_fail(&self, mut f: u32, code: u32) -> u32 {
        loop {
            let st = self.states[f as usize];
            let t = st.base as usize + code as usize;
            if st.base != 0 && t < self.states.len() && self.states[t].check == f {
                return t as u32;
            }
            if f == ROOT {
                return ROOT;
            }
            f = st.fail;
        }
    }
}

/// A set of free slots: one bit per slot, and one bit per 64 slots saying
/// whether any of them is free, so that the first free slot from any
/// position is found in a few word operations even in a full array.
#[derive(Default)]
struct FreeSlots {
    /// Bit `p % 64` of word `p / 64`: slot `p` is free.
    bits: Vec<u64>,
    /// Bit `w % 64` of word `w / 64`: word `w` of `bits` is not zero.
    any: Vec<u64>,
}

impl FreeSlots {
    /// Marks `range` (past every slot so far) free.
    fn add(&mut self, range: std::ops::Range<usize>) {
        let words = range.end.div_ceil(64);
        self.bits.resize(words, 0);
        self.any.resize(words.div_ceil(64), 0);
        for p in range {
            self.bits[p / 64] |= 1 << (p % 64);
            self.any[p / 4096] |= 1 << (p / 64 % 64);
        }
    }

    /// Marks slot `p` taken.
    fn take(&mut self, p: usize) {
        let w = p / 64;
        if let Some(word) = self.bits.get_mut(w) {
            *word &= !(1 << (p % 64));
            if *word == 0 {
                self.any[w / 64] &= !(1 << (w % 64));
            }
        }
    }

    /// Bit `k`: slot `p + k` is free, for the 64 slots from `p`; slots at
    /// `len` and beyond count as free.
    fn run(&self, p: usize, len: usize) -> u64 {
        let word = |w: usize| self.bits.get(w).copied().unwrap_or(0);
        let (w, shift) = (p / 64, p % 64);
        let mut run = word(w) >> shift;
        if shift != 0 {
            run |= word(w + 1) << (64 - shift);
        }
        if p + 64 > len {
            run |= u64::MAX
                .checked_shl(len.saturating_sub(p) as u32)
                .unwrap_or(0);
        }
        run
    }

    /// The first free slot at or after `p`.
    fn first_from(&self, p: usize) -> Option<usize> {
        let w = p / 64;
        let word = *self.bits.get(w)? & (u64::MAX << (p % 64));
        if word != 0 {
            return Some(w * 64 + word.trailing_zeros() as usize);
        }
        // The next word with a free slot, through the summary.
        let next = w + 1;
        let mut a = next / 64;
        let mut summary = *self.any.get(a)? & (u64::MAX << (next % 64));
        while summary == 0 {
            a += 1;
            summary = *self.any.get(a)?;
        }
        let w = a * 64 + summary.trailing_zeros() as usize;
        Some(w * 64 + self.bits[w].trailing_zeros() as usize)
    }
}
