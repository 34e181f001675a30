//! The automaton: an alphabet of symbol codes, the transitions in one of
//! two layouts, output chains, a root-state prefilter or the literal
//! engine (`literal`: a SIMD candidate finder for small dictionaries that
//! yields the automaton's own hits), and the scan loop every variant
//! shares (`scan`).
//!
//! # Layouts
//!
//! Chosen by cost, not by alphabet (see [`Layout`] and `plan::Plan`):
//!
//! - **Dense**: a full transition table over byte classes (the bytes of the
//!   patterns, each a class, and one class for all other bytes), for every
//!   dictionary whose table stays under 3 * 2^20 entries (12 MiB, the same
//!   when the double array would be over characters), UTF-8 or not:
//!   where it was measured faster than the double array.
//!   Each row holds the next state for every class, failure links already
//!   followed, plus the output-chain head; states with output have the last
//!   rows, so "some pattern ends here" is a comparison of the state id and
//!   the scan is one dependent load per byte.
//! - **Double array**, for larger dictionaries: over UTF-8 characters when
//!   most pattern bytes belong to multi-byte characters (CJK dictionaries:
//!   a character is one transition instead of three, and the trie a third
//!   of the size), over bytes otherwise; see [`alphabet`].
//!
//! The double array keeps all states in one array of 16-byte `State`
//! records: the child of state `s` on symbol code `c` is the record at
//! `s.base + c`, and it really is a child when that record's `check` equals
//! `s`: holding the parent rather than the code lets two states share a
//! base, so a node with one child can take any free slot, and the array
//! fills its holes. One record holds everything the scan loop reads for a
//! state (base, failure link, output chain), so a transition costs one load
//! for the state and one for the candidate child.
//!
//! - Slot 0 is the root; its transitions are also kept in a dense table, as
//!   the root is by far the most visited state. Slots `0..RESERVED` never hold
//!   a child, and states without children have base 0, so a lookup from a leaf
//!   lands in the reserved region, whose `check` never matches: no special
//!   case for leaves in the loop.
//! - The array is padded so that `base + code` is in bounds for every state
//!   and every code; with the cursor checked once per call, the scan loop
//!   indexes without bounds checks.
//! - A symbol that occurs in no pattern (the *dead* code) sends the
//!   automaton to the root without a lookup.
//! - States are placed breadth first, so the hot shallow states sit together
//!   at the front of the array.
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
mod build_dense;
mod darray;
mod hits;
mod literal;
mod plan;
mod prefilter;
mod scan;
mod streams;
mod walks;

#[cfg(test)]
pub(crate) use scan::trace;

use alphabet::Alphabet;
use literal::Literal;
use prefilter::Prefilter;

use crate::error::BuildError;

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
    /// The parent state's slot; `INVALID` when free.
    check: u32,
}

/// How an automaton lays out its transitions. Matches are the same in every
/// layout; only speed and memory differ.
///
/// # Allocation
///
/// A plain `Copy` value; never allocates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Layout {
    /// Chosen by cost, not by alphabet: a full transition table over byte
    /// classes whenever it stays under 12 MiB (English 10,000 words
    /// are under it), the same 12 MiB when most pattern bytes belong to multi-byte UTF-8
    /// characters (about 8,000 Chinese words), UTF-8 or not; else the
    /// double array, over characters when most pattern bytes belong to
    /// multi-byte UTF-8 characters (CJK dictionaries), over bytes
    /// otherwise. Over the table, the literal
    /// engine (see [`Layout::Literal`]) for at most 500 patterns of two bytes or more
    /// whose endings promise at most 3.5% false candidates; else the
    /// root-state prefilter when the patterns' beginnings are rare enough
    /// to pay. The default.
    #[default]
    Auto,
    /// A full transition table over byte classes whatever its size (up to
    /// 1 GiB; beyond, the double array `Auto` would choose); with
    /// `prefilter`, the root-state prefilter when the patterns make it pay.
    Dense {
        /// Build the root-state prefilter when it pays.
        prefilter: bool,
    },
    /// Always the double array with failure links: over UTF-8 characters
    /// when `charwise` and every pattern is valid UTF-8, else over bytes;
    /// with `prefilter`, the prefilter too when the patterns make it pay.
    DoubleArray {
        /// Symbols are characters (when every pattern is valid UTF-8).
        charwise: bool,
        /// Build the root-state prefilter when it pays.
        prefilter: bool,
    },
    /// The dense table (as `Dense { prefilter: false }`) plus the literal
    /// engine, whatever the cost model says: a SIMD candidate finder over
    /// the patterns' last four bytes with exact verification, which `Auto`
    /// chooses for small dictionaries whose endings are rare. With `simd`,
    /// AVX-512 VBMI, AVX2 or SSSE3, the best the CPU has (detected at build
    /// time), else, and without `simd` always, the scalar finder. Where the
    /// dense table would pass 1 GiB, the double array `Dense` falls back
    /// to, without the engine; where the engine's reversed trie would pass
    /// 2^22 entries (16 MiB), the dense table without it.
    Literal {
        /// Use the CPU's vector instructions when it has them.
        simd: bool,
    },
}

impl Layout {
    /// Every layout, `Auto` first: what the conformance and differential
    /// tests run every case with.
    pub const ALL: [Layout; 9] = [
        Layout::Auto,
        Layout::Dense { prefilter: false },
        Layout::Dense { prefilter: true },
        Layout::DoubleArray {
            charwise: false,
            prefilter: false,
        },
        Layout::DoubleArray {
            charwise: false,
            prefilter: true,
        },
        Layout::DoubleArray {
            charwise: true,
            prefilter: false,
        },
        Layout::DoubleArray {
            charwise: true,
            prefilter: true,
        },
        Layout::Literal { simd: true },
        Layout::Literal { simd: false },
    ];
}

/// A full transition table over byte classes; see `build_dense::build_dense`.
#[derive(Clone, Debug)]
struct Dense {
    /// Rows of `stride` entries: the next state's row start per byte class,
    /// then the state's output-chain head. State ids are row starts.
    table: Box<[u32]>,
    /// Byte classes plus one.
    stride: usize,
    /// Row starts at or above this are states at which a pattern ends.
    match_from: u32,
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
/// [`Match`](crate::Match)es ordered by end offset and, at one end offset, longest pattern
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
    /// Small dictionaries: the full transition table over byte classes;
    /// the double array is then empty.
    dense: Option<Dense>,
    /// Skip-ahead for the root state, when the patterns make it pay.
    prefilter: Option<Prefilter>,
    /// The literal engine (dense table only, never with the prefilter).
    literal: Option<Literal>,
    outputs: Box<[Output]>,
    pattern_count: usize,
    /// The longest pattern's length in bytes.
    max_len: usize,
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
    /// Collects the patterns into a `Vec` (of `P`, not of their bytes) and
    /// sorts an index of them, then allocates the automaton's arrays (the
    /// dense table, or the double array with its free-slot bitmap) and
    /// temporary build buffers (a queue of trie nodes). Nothing is
    /// allocated after it returns.
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

    /// Whether the automaton is a full transition table over byte classes
    /// (small dictionaries, UTF-8 or not: one load per byte) rather than a
    /// double array with failure links. Matches are the same either way.
    ///
    /// # Allocation
    ///
    /// Never allocates.
    #[must_use]
    pub fn is_dense(&self) -> bool {
        self.dense.is_some()
    }

    /// Whether the automaton is a double array over UTF-8 characters (large
    /// dictionaries whose bytes are mostly multi-byte characters, or asked
    /// for with [`Layout::DoubleArray`]) rather than over bytes. Matches are
    /// the same either way; only speed and size differ.
    ///
    /// # Allocation
    ///
    /// Never allocates.
    #[must_use]
    pub fn is_charwise(&self) -> bool {
        self.alphabet.utf8
    }

    /// Heap memory the automaton owns, in bytes: the dense table or the
    /// double array (with its unused slots) and its root table, the output
    /// chains, the prefilter's table and the alphabet.
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
                .map_or(0, |d| std::mem::size_of_val(&*d.table))
            + self.prefilter.as_ref().map_or(0, Prefilter::heap_bytes)
            + self.literal.as_ref().map_or(0, Literal::heap_bytes)
            + std::mem::size_of_val(&*self.root_next)
            + std::mem::size_of_val(&*self.outputs)
            + self.alphabet.heap_bytes()
    }

    /// Whether the automaton skips ahead with a prefilter in its root state
    /// (patterns whose beginnings are rare in text). Matches are the same
    /// either way.
    ///
    /// # Allocation
    ///
    /// Never allocates.
    #[must_use]
    pub fn has_prefilter(&self) -> bool {
        self.prefilter.is_some()
    }

    /// The literal engine's candidate finder, when the automaton has the
    /// engine (see [`Layout::Literal`]): `avx2`, `ssse3` or `scalar`.
    /// Matches are the same with or without it.
    ///
    /// # Allocation
    ///
    /// Never allocates.
    #[must_use]
    pub fn literal_finder(&self) -> Option<&'static str> {
        self.literal.as_ref().map(|l| l.isa.name())
    }

    /// The layout in a few words, for reports: `dense, 1,234 states`,
    /// `double array, charwise, prefilter, 5,678 states`,
    /// `dense, literal avx2, 773 states`.
    ///
    /// # Allocation
    ///
    /// The returned `String`.
    #[must_use]
    pub fn layout_summary(&self) -> String {
        format!(
            "{}{}{}{}, {} states",
            if self.is_dense() {
                "dense"
            } else {
                "double array"
            },
            if self.is_charwise() { ", charwise" } else { "" },
            if self.has_prefilter() {
                ", prefilter"
            } else {
                ""
            },
            self.literal_finder()
                .map_or(String::new(), |f| format!(", literal {f}")),
            self.state_count()
        )
    }
}

#[cfg(test)]
mod tests;
