//! The automaton: an alphabet of symbol codes, a double-array trie with
//! failure links, output chains, and the scan loop every variant shares.
//!
//! # Layout
//!
//! All states live in one array of 16-byte `State` records addressed as a
//! double array: the child of state `s` on symbol code `c` is the record at
//! `s.base + c`, and it really is a child when that record's `check` equals
//! `c`. Bases are unique among states with children, so `check` needs to hold
//! only the code, not the parent. One record holds everything the scan loop
//! reads for a state (base, failure link, output chain), so a transition costs
//! one load for the state and one for the candidate child.
//!
//! - Slot 0 is the root; its transitions are also kept in a dense table, as
//!   the root is by far the most visited state. Slots `0..RESERVED` never hold
//!   a child, and states without children have base 0, so a lookup from a leaf
//!   lands in the reserved region, whose `check` never matches: no special
//!   case for leaves in the loop.
//! - The array is padded so that `base + code` is in bounds for every state
//!   and every code; with the cursor checked once per call, the scan loop
//!   indexes without bounds checks.
//! - Symbols are bytes or, when every pattern is UTF-8, characters; see
//!   [`alphabet`]. A symbol that occurs in no pattern (the *dead* code) sends
//!   the automaton to the root without a lookup.
//! - States are placed breadth first, so the hot shallow states sit together
//!   at the front of the array.
//! - A small byte-alphabet automaton (under 2^20 table entries) becomes a
//!   full transition table instead: each row holds the next state for every
//!   code, failure links already followed, plus the output-chain head, so the
//!   scan loop is one load per byte. See [`Layout`].
//!
//! # Outputs
//!
//! Each state with output points at the first entry of an output chain in a
//! second array: the patterns that end at that state (duplicates in id
//! order), whose last entry links to the chain of the nearest suffix state
//! with output, so a chain lists longest pattern first. Chains share their
//! tails, so the outputs array holds exactly one entry per pattern. This is
//! the "output link" the original matcher followed from a hit to its tokens,
//! precomputed at build time.

mod alphabet;
mod build;
mod prefilter;

use alphabet::{decode_multi, Alphabet, Decoded};
use prefilter::{Gate, Prefilter};

use crate::error::BuildError;
use crate::{Cursor, Hit, Match};

/// The root state's slot.
pub(crate) const ROOT: u32 = 0;
/// A `check` value no code can have: the slot is free or reserved.
const INVALID: u32 = u32::MAX;

/// One state of the double array. 16 bytes, so four share a cache line.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
struct State {
    /// Children are at `base + code`; 0 for a state without children.
    base: u32,
    /// Failure link: the state of the longest proper suffix in the trie.
    fail: u32,
    /// Index of the first entry of this state's output chain; 0 for none.
    out: u32,
    /// The code on which the parent reaches this slot; `INVALID` when free.
    check: u32,
}

/// How an automaton lays out its transitions.
///
/// # Allocation
///
/// A plain `Copy` value; never allocates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Layout {
    /// A full transition table when the patterns are over bytes and the
    /// table stays under 4 MiB (a few thousand patterns), else the double
    /// array; plus a prefilter for the root state when the patterns' first
    /// bytes are rare enough to pay. The default.
    #[default]
    Auto,
    /// Always the double array with failure links, never a table; with
    /// `prefilter`, the prefilter too when the patterns make it pay.
    DoubleArray {
        /// Build the root-state prefilter when it pays.
        prefilter: bool,
    },
}

/// One entry of an output chain.
#[derive(Clone, Copy, Debug)]
struct Output {
    pattern: u32,
    /// The pattern's length in bytes.
    len: u32,
    /// Next (shorter) entry of the chain; 0 ends it.
    next: u32,
}

/// An Aho-Corasick automaton over byte-string patterns.
///
/// It reports every occurrence of every pattern, overlapping and nested, as
/// [`Match`]es ordered by end offset and, at one end offset, longest pattern
/// first (ties between duplicate patterns by id): the same set as the
/// `aho-corasick` crate's `MatchKind::Standard` overlapping search. A
/// pattern's id is its index in the input. Matching is on raw bytes: no case
/// folding, no word boundaries; haystacks need not be UTF-8.
///
/// The automaton itself never reports matches: the five variants in
/// [`crate::variant`] do, each getting them out of the one shared scan loop in
/// its own way.
///
/// # Allocation
///
/// Allocates at construction (the state and output arrays, plus temporary
/// buffers for building, all freed before [`Automaton::new`] returns) and
/// never while matching. [`Automaton::heap_bytes`] reports what it keeps.
///
/// # Example
///
/// ```
/// use acmatch::{Automaton, Cursor, Match};
///
/// let ac = Automaton::new(["she", "he", "her", "hers"]).unwrap();
/// let mut found = Vec::new();
/// acmatch::variant::callback::find(&ac, &mut Cursor::new(), b"hers", |m| found.push(m));
/// assert_eq!(found, [
///     Match { pattern: 1, start: 0, end: 2 },
///     Match { pattern: 2, start: 0, end: 3 },
///     Match { pattern: 3, start: 0, end: 4 },
/// ]);
/// ```
#[derive(Clone, Debug)]
pub struct Automaton {
    alphabet: Alphabet,
    states: Box<[State]>,
    /// The root's transition on every code.
    root_next: Box<[u32]>,
    /// Small byte-alphabet automata: the full transition table (see
    /// `build::dense_table`); the double array is then empty.
    dense: Option<Box<[u32]>>,
    /// Skip-ahead for the root state, when the patterns make it pay.
    prefilter: Option<Prefilter>,
    outputs: Box<[Output]>,
    pattern_count: usize,
    trie_states: usize,
}

impl Automaton {
    /// Builds an automaton from patterns; a pattern's id is its index.
    ///
    /// Duplicate patterns are kept, each with its own id: an occurrence of a
    /// pattern listed twice is reported twice, once per id, in id order.
    ///
    /// # Errors
    ///
    /// [`BuildError`] when there are no patterns, a pattern is empty (an empty
    /// pattern would match everywhere), or the input is too large for 32-bit
    /// state and pattern ids.
    ///
    /// # Allocation
    ///
    /// Collects the patterns into a `Vec` (of `P`, not of their bytes), then
    /// allocates the automaton's arrays and temporary build buffers (about
    /// 40 bytes per trie state at the peak). Nothing is allocated after it
    /// returns.
    pub fn new<I, P>(patterns: I) -> Result<Automaton, BuildError>
    where
        I: IntoIterator<Item = P>,
        P: AsRef<[u8]>,
    {
        Automaton::with_layout(patterns, Layout::Auto)
    }

    /// As [`Automaton::new`], with the memory layout chosen by the caller
    /// rather than by size. Matches are the same in every layout; this is
    /// for tests and benchmarks that want a particular one.
    ///
    /// # Errors
    ///
    /// As [`Automaton::new`].
    ///
    /// # Allocation
    ///
    /// As [`Automaton::new`].
    pub fn with_layout<I, P>(patterns: I, layout: Layout) -> Result<Automaton, BuildError>
    where
        I: IntoIterator<Item = P>,
        P: AsRef<[u8]>,
    {
        let patterns: Vec<P> = patterns.into_iter().collect();
        let pats: Vec<&[u8]> = patterns.iter().map(AsRef::as_ref).collect();
        build::build(&pats, layout)
    }

    /// Number of patterns the automaton was built from.
    ///
    /// # Allocation
    ///
    /// Never allocates.
    #[must_use]
    pub fn pattern_count(&self) -> usize {
        self.pattern_count
    }

    /// Number of trie states (distinct pattern prefixes in symbols, plus the
    /// root).
    ///
    /// # Allocation
    ///
    /// Never allocates.
    #[must_use]
    pub fn state_count(&self) -> usize {
        self.trie_states
    }

    /// Number of symbol codes: distinct bytes (or characters) in the
    /// patterns, plus one for all others.
    ///
    /// # Allocation
    ///
    /// Never allocates.
    #[must_use]
    pub fn symbol_count(&self) -> usize {
        self.alphabet.len
    }

    /// Whether the automaton is a full transition table (small dictionaries
    /// over bytes: one load per byte) rather than a double array with
    /// failure links. Matches are the same either way.
    ///
    /// # Allocation
    ///
    /// Never allocates.
    #[must_use]
    pub fn is_dense(&self) -> bool {
        self.dense.is_some()
    }

    /// Whether symbols are UTF-8 characters (every pattern is valid UTF-8
    /// and some is not ASCII) rather than bytes. Matches are the same either
    /// way; only speed and size differ.
    ///
    /// # Allocation
    ///
    /// Never allocates.
    #[must_use]
    pub fn is_charwise(&self) -> bool {
        self.alphabet.utf8
    }

    /// Heap memory the automaton owns, in bytes: the double array (with its
    /// unused slots), the root table, the output chains and the alphabet.
    ///
    /// # Allocation
    ///
    /// Never allocates.
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        std::mem::size_of_val(&*self.states)
            + self
                .dense
                .as_ref()
                .map_or(0, |d| std::mem::size_of_val(&**d))
            + self.prefilter.as_ref().map_or(0, Prefilter::heap_bytes)
            + std::mem::size_of_val(&*self.root_next)
            + std::mem::size_of_val(&*self.outputs)
            + self.alphabet.heap_bytes()
    }

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
        on_hit: impl FnMut(Hit) -> Result<(), E>,
    ) -> Result<(), E> {
        // The prefilter is a const parameter: the loops without one carry
        // no trace of it.
        match (&self.dense, self.prefilter.is_some()) {
            (Some(table), true) => self.scan_dense::<true, E>(table, cursor, chunk, on_hit),
            (Some(table), false) => self.scan_dense::<false, E>(table, cursor, chunk, on_hit),
            (None, true) if self.alphabet.utf8 => self.scan_chars::<true, E>(cursor, chunk, on_hit),
            (None, false) if self.alphabet.utf8 => {
                self.scan_chars::<false, E>(cursor, chunk, on_hit)
            }
            (None, true) => self.scan_bytes::<true, E>(cursor, chunk, on_hit),
            (None, false) => self.scan_bytes::<false, E>(cursor, chunk, on_hit),
        }
    }

    /// In the root state, the next position a match can start at (skipping
    /// with the prefilter while it pays), or `i` unchanged.
    #[inline(always)]
    fn skip(&self, chunk: &[u8], i: usize, gate: &mut Gate) -> usize {
        match &self.prefilter {
            Some(pf) if gate.on() => {
                let next = pf.next(chunk, i);
                gate.record(i, next);
                next
            }
            _ => i,
        }
    }

    /// Whether the automaton skips ahead with a prefilter in its root state
    /// (long patterns whose beginnings are rare in text). Matches are the
    /// same either way.
    ///
    /// # Allocation
    ///
    /// Never allocates.
    #[must_use]
    pub fn has_prefilter(&self) -> bool {
        self.prefilter.is_some()
    }

    /// The scan loop of a dense automaton: one table load per byte, no
    /// failure links to follow, no branch but the one on output.
    #[inline(always)]
    fn scan_dense<const PREFILTER: bool, E>(
        &self,
        table: &[u32],
        cursor: &mut Cursor,
        chunk: &[u8],
        mut on_hit: impl FnMut(Hit) -> Result<(), E>,
    ) -> Result<(), E> {
        let stride = self.alphabet.len + 1;
        let mut s = cursor.state as usize;
        if s % stride != 0 || s >= table.len() {
            // Not a row start of this table: a cursor of another automaton.
            s = 0;
        }
        let offset = cursor.offset;
        let codes = &self.alphabet.byte_codes;
        let mut gate = Gate::default();
        let mut i = 0;
        while i < chunk.len() {
            if PREFILTER && s == 0 {
                i = self.skip(chunk, i, &mut gate);
                if i >= chunk.len() {
                    break;
                }
            }
            let byte = chunk[i];
            i += 1;
            // SAFETY: `s` is a row start (checked above, and every
            // transition entry is one), rows are `stride` long, and codes are
            // `< stride - 1`.
            s = unsafe { *table.get_unchecked(s + codes[byte as usize] as usize) } as usize;
            // SAFETY: as above; the last entry of a row is its output.
            let out = unsafe { *table.get_unchecked(s + stride - 1) };
            if out != 0 {
                on_hit(self.hit(offset + i, out))?;
            }
        }
        cursor.state = s as u32;
        cursor.offset = offset + chunk.len();
        Ok(())
    }

    /// A state index that is safe to start from.
    #[inline(always)]
    fn start_state(&self, cursor: &Cursor) -> u32 {
        if (cursor.state as usize) < self.states.len() {
            cursor.state
        } else {
            // A cursor from a larger automaton: restart rather than read out
            // of bounds. Documented on `Cursor`.
            ROOT
        }
    }

    #[inline(always)]
    fn scan_bytes<const PREFILTER: bool, E>(
        &self,
        cursor: &mut Cursor,
        chunk: &[u8],
        mut on_hit: impl FnMut(Hit) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut s = self.start_state(cursor);
        let offset = cursor.offset;
        let mut gate = Gate::default();
        let mut i = 0;
        while i < chunk.len() {
            if PREFILTER && s == ROOT {
                i = self.skip(chunk, i, &mut gate);
                if i >= chunk.len() {
                    break;
                }
            }
            let byte = chunk[i];
            i += 1;
            s = self.step(s, self.alphabet.byte_codes[byte as usize]);
            let out = self.output_of(s);
            if out != 0 {
                on_hit(self.hit(offset + i, out))?;
            }
        }
        cursor.state = s;
        cursor.offset = offset + chunk.len();
        Ok(())
    }

    #[inline(always)]
    fn scan_chars<const PREFILTER: bool, E>(
        &self,
        cursor: &mut Cursor,
        chunk: &[u8],
        mut on_hit: impl FnMut(Hit) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut s = self.start_state(cursor);
        let offset = cursor.offset;
        let mut i = 0;
        let mut pending = cursor.pending;
        let mut pending_len = cursor.pending_len as usize;
        if pending_len > 0 {
            // Finish the character the previous chunk ended in the middle of.
            let mut buf = pending;
            let take = (4 - pending_len).min(chunk.len());
            buf[pending_len..pending_len + take].copy_from_slice(&chunk[..take]);
            match decode_multi(&buf[..pending_len + take]) {
                Decoded::Char { cp, len } => {
                    i = len - pending_len;
                    pending_len = 0;
                    s = self.step(s, self.alphabet.cp_code(cp));
                    let out = self.output_of(s);
                    if out != 0 {
                        on_hit(self.hit(offset + i, out))?;
                    }
                }
                Decoded::Incomplete => {
                    // Still unfinished: the whole chunk joins the pending bytes.
                    pending = buf;
                    pending_len += take;
                    i = chunk.len();
                }
                Decoded::Invalid => {
                    // The pending bytes are dead symbols; resume at the chunk's
                    // first byte, which may begin a character of its own.
                    pending_len = 0;
                    s = ROOT;
                }
            }
        }
        let mut gate = Gate::default();
        while i < chunk.len() {
            if PREFILTER && s == ROOT {
                // A candidate may fall inside a character: the decoder then
                // reads continuation bytes as dead symbols, which is right,
                // since no pattern of a charwise automaton starts there.
                i = self.skip(chunk, i, &mut gate);
                if i >= chunk.len() {
                    break;
                }
            }
            let byte = chunk[i];
            let code = if byte < 0x80 {
                i += 1;
                self.alphabet.byte_codes[byte as usize]
            } else if let Some(cp) = three_byte_fast(chunk, i) {
                // Most CJK text: a three-byte character whose lead byte needs
                // no special range check (see `three_byte_fast`).
                i += 3;
                self.alphabet.cp_code(cp)
            } else {
                match decode_multi(&chunk[i..]) {
                    Decoded::Char { cp, len } => {
                        i += len;
                        self.alphabet.cp_code(cp)
                    }
                    Decoded::Invalid => {
                        i += 1;
                        self.alphabet.dead
                    }
                    Decoded::Incomplete => {
                        pending_len = chunk.len() - i;
                        pending[..pending_len].copy_from_slice(&chunk[i..]);
                        break;
                    }
                }
            };
            s = self.step(s, code);
            let out = self.output_of(s);
            if out != 0 {
                on_hit(self.hit(offset + i, out))?;
            }
        }
        cursor.state = s;
        cursor.offset = offset + chunk.len();
        cursor.pending = pending;
        cursor.pending_len = pending_len as u8;
        Ok(())
    }

    /// The head of state `s`'s output chain: 0 when no pattern ends there.
    /// Requires `s < states.len()`.
    #[inline(always)]
    fn output_of(&self, s: u32) -> u32 {
        // SAFETY: every state index the scan loops hold is < states.len():
        // `start_state` checks the cursor's, and `step` returns valid slots.
        unsafe { self.states.get_unchecked(s as usize) }.out
    }

    /// The transition from `s` on `code`, following failure links; the dead
    /// code goes straight to the root.
    ///
    /// Requires `s < states.len()` and `code < alphabet.len`; returns a slot
    /// with the same property.
    #[inline(always)]
    fn step(&self, mut s: u32, code: u32) -> u32 {
        if code == self.alphabet.dead {
            return ROOT;
        }
        let states = &*self.states;
        loop {
            if s == ROOT {
                // SAFETY: `root_next` has one entry per code.
                return unsafe { *self.root_next.get_unchecked(code as usize) };
            }
            // SAFETY: `s < states.len()` on entry, and every failure link
            // points at a valid slot (set at build time), so it stays so.
            let st = unsafe { *states.get_unchecked(s as usize) };
            let t = st.base + code;
            // SAFETY: the array is padded so that `base + code` is in bounds
            // for every slot and every code (`build`, "padding").
            if unsafe { states.get_unchecked(t as usize) }.check == code {
                return t;
            }
            s = st.fail;
        }
    }

    /// A hit at `end` for the output chain starting at entry `out` (non-zero),
    /// carrying that first entry: loading it here, while the scan goes on,
    /// overlaps the load with the scan, as `callback`'s immediate expansion
    /// does; the buffered variants' second phase then starts from data it
    /// already holds.
    #[inline(always)]
    fn hit(&self, end: usize, out: u32) -> Hit {
        let first = self.outputs[out as usize];
        Hit {
            end,
            pattern: first.pattern,
            len: first.len,
            next: first.next,
        }
    }

    /// Expands a hit into its tokens, longest pattern first, by following the
    /// output chain it recorded; stops at the first error. Reads only the
    /// outputs array, not the state: by the second phase of a buffered
    /// variant, the state's record may have left the cache.
    #[inline(always)]
    pub(crate) fn expand<E>(
        &self,
        hit: Hit,
        mut on_match: impl FnMut(Match) -> Result<(), E>,
    ) -> Result<(), E> {
        on_match(Match {
            pattern: hit.pattern,
            start: hit.end - hit.len as usize,
            end: hit.end,
        })?;
        let mut o = hit.next;
        while o != 0 {
            let entry = self.outputs[o as usize];
            on_match(Match {
                pattern: entry.pattern,
                start: hit.end - entry.len as usize,
                end: hit.end,
            })?;
            o = entry.next;
        }
        Ok(())
    }

    /// Number of tokens a hit expands into.
    #[cfg(test)]
    pub(crate) fn outputs_at(&self, hit: Hit) -> usize {
        let mut n = 0;
        let _ = self.expand::<()>(hit, |_| {
            n += 1;
            Ok(())
        });
        n
    }
}

/// The code point of the three-byte character at `chunk[i]`, when its lead
/// byte is E1..=EC or EE..=EF (whose first continuation byte may be any of
/// 80..=BF, so checking `10xxxxxx` on both continuation bytes is the whole
/// validation) and all three bytes are in the chunk; `None` sends the caller
/// to the general decoder, which handles everything else.
#[inline(always)]
fn three_byte_fast(chunk: &[u8], i: usize) -> Option<u32> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_path_agrees_with_the_decoder() {
        for b0 in 0xE0..=0xEFu8 {
            for b1 in [0x7F, 0x80, 0x9F, 0xA0, 0xBF, 0xC0] {
                for b2 in [0x7F, 0x80, 0xBF, 0xC0] {
                    let bytes = [b0, b1, b2];
                    if let Some(cp) = three_byte_fast(&bytes, 0) {
                        assert_eq!(
                            decode_multi(&bytes),
                            Decoded::Char { cp, len: 3 },
                            "{bytes:x?}"
                        );
                    }
                }
            }
        }
        assert_eq!(three_byte_fast("中".as_bytes(), 0), Some('中' as u32));
        assert_eq!(three_byte_fast(&"中".as_bytes()[..2], 0), None);
    }

    #[test]
    fn state_is_sixteen_bytes() {
        assert_eq!(std::mem::size_of::<State>(), 16);
    }

    #[test]
    fn automaton_is_send_and_sync() {
        fn assert<T: Send + Sync>() {}
        assert::<Automaton>();
    }

    #[test]
    fn dead_bytes_share_one_code() {
        let ac = Automaton::new(["ab", "b"]).unwrap();
        assert_eq!(ac.symbol_count(), 3);
        let codes = &ac.alphabet.byte_codes;
        assert_eq!(codes[b'z' as usize], codes[0]);
        assert_eq!(codes[b'z' as usize], ac.alphabet.dead);
        assert_ne!(codes[b'a' as usize], codes[b'b' as usize]);
    }

    #[test]
    fn all_256_bytes_live_means_no_dead_code() {
        let pats: Vec<[u8; 1]> = (0..=255u8).map(|b| [b]).collect();
        let ac = Automaton::new(&pats).unwrap();
        assert_eq!(ac.symbol_count(), 256);
        assert!(!ac.is_charwise());
    }

    #[test]
    fn small_byte_dictionaries_are_dense_and_large_ones_are_not() {
        let small = Automaton::new(["he", "she", "his", "hers"]).unwrap();
        assert!(small.is_dense());
        assert!(
            !Automaton::with_layout(["he", "she"], Layout::DoubleArray { prefilter: true })
                .unwrap()
                .is_dense()
        );
        assert!(
            !Automaton::new(["中华", "人民"]).unwrap().is_dense(),
            "charwise"
        );
        // 40,000 scattered eight-letter words over 16 letters: some 200,000
        // states, over the table's limit of 2^20 entries.
        let many: Vec<String> = (0..40_000u32)
            .map(|i| {
                format!("{:08x}", i.wrapping_mul(2_654_435_761))
                    .chars()
                    .map(|c| char::from(b'a' + c.to_digit(16).unwrap_or(0) as u8))
                    .collect()
            })
            .collect();
        let big = Automaton::new(&many).unwrap();
        assert!(big.state_count() * (big.symbol_count() + 1) > 1 << 20);
        assert!(!big.is_dense());
    }

    #[test]
    fn utf8_patterns_are_charwise() {
        let ac = Automaton::new(["中华", "华人", "a"]).unwrap();
        assert!(ac.is_charwise());
        // 中, 华, 人, a, and the dead code.
        assert_eq!(ac.symbol_count(), 5);
        // root, 中, 中华, 华, 华人, a
        assert_eq!(ac.state_count(), 6);
    }

    #[test]
    fn output_chain_holds_suffix_patterns() {
        let ac = Automaton::new(["she", "he", "e"]).unwrap();
        let mut cursor = Cursor::new();
        let mut tokens = Vec::new();
        ac.scan::<()>(&mut cursor, b"she", |hit| {
            tokens.push(ac.outputs_at(hit));
            Ok(())
        })
        .unwrap();
        // Only "she"'s end is a hit ("s" and "sh" end nothing): three tokens.
        assert_eq!(tokens, [3]);
    }
}
