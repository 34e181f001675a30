//! One fast Aho-Corasick automaton, five ways of getting matches out of it.
//!
//! This crate is the subject escape-lab profiles. It reproduces, in Rust, the
//! situation of a Go matcher whose match function spent its time in garbage
//! collection because every match was pushed, as a pointer, into a generic
//! `interface{}` buffer. All five variants share one [`Automaton`] and one
//! scan loop; they differ only in how matches leave that loop, which is
//! exactly where the original's allocations came from.
//!
//! | variant | how matches leave the scan loop | allocations per call |
//! |---|---|---|
//! | [`boxed`](variant::boxed) | a fresh `Vec<Box<_>>` of hits, then of tokens | one per hit and per token, plus the `Vec`s' growth |
//! | [`dyn_buffer`](variant::dyn_buffer) | `Box<dyn Any>` values pushed through a `Box<dyn BufferOp>` | one per hit and per token |
//! | [`fixed`](variant::fixed) | two typed buffers of fixed capacity, reset per call | zero |
//! | [`reuse`](variant::reuse) | two caller-owned `Vec`s, cleared per call | zero after warm-up |
//! | [`callback`](variant::callback) | a generic `FnMut(Match)` sink, no buffer | zero |
//!
//! # Matching model
//!
//! Patterns are byte strings; a pattern's id is its index. Every occurrence of
//! every pattern is reported, overlapping and nested, as a [`Match`] with
//! half-open byte offsets, ordered by end and, at one end, longest first.
//! Matching is two-phase, as in the original: the scan loop records a [`Hit`]
//! (end offset, the longest pattern ending there, and the state's output
//! link) at every byte where some pattern ends; each hit then expands into
//! *tokens* (matches) by following that output link. `callback` does both phases in one go; the buffered variants keep
//! them apart, as the original did.
//!
//! Small dictionaries whose endings are rare are scanned by a SIMD literal
//! engine instead of byte by byte (see [`Layout::Literal`]): it yields the
//! same hits in the same order, so nothing above the scan loop changes.
//!
//! A haystack is matched in calls on consecutive *chunks* (see [`chunks`]).
//! A [`Cursor`] carries the automaton state and the absolute offset from one
//! call to the next, so a match that crosses a chunk boundary is found and the
//! chunked result equals the whole-haystack result.
//!
//! # Example
//!
//! ```
//! use acmatch::{chunks, Automaton, Cursor, Matcher, Variant};
//!
//! let ac = Automaton::new(["she", "he", "her", "hers"]).unwrap();
//! for variant in Variant::ALL {
//!     let mut matcher = variant.matcher();
//!     let mut cursor = Cursor::new();
//!     let mut n = 0;
//!     for chunk in chunks(b"hershertongher", 4) {
//!         n += matcher.find_chunk(&ac, &mut cursor, chunk, |_| {}).unwrap();
//!     }
//!     assert_eq!(n, 8, "{variant}");
//! }
//! ```
#![deny(missing_docs)]

mod automaton;
mod error;
pub mod variant;

#[cfg(test)]
mod tests;

pub use automaton::{Automaton, Layout};
pub use error::{BuildError, MatchError};
pub use variant::{AnyMatcher, Matcher, Variant};

/// Chunk size of the original benchmark, in bytes: half the 4,096-entry
/// buffers of the fixed variant.
pub const DEFAULT_CHUNK: usize = 2048;

/// Capacity, in entries, of each of the `fixed` and `dyn_buffer` variants'
/// two buffers unless chosen otherwise.
pub const DEFAULT_CAPACITY: usize = 4096;

/// One occurrence of one pattern: half-open absolute byte offsets.
///
/// # Allocation
///
/// A plain `Copy` value; never allocates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Match {
    /// The pattern's id: its index in the list the automaton was built from.
    pub pattern: u32,
    /// Offset of the first byte of the occurrence.
    pub start: usize,
    /// Offset one past the last byte of the occurrence.
    pub end: usize,
}

/// What the scan loop records: an offset where at least one pattern ends,
/// with the first (longest) of those patterns and the state's output link to
/// the rest: the original's `matchAt` (end and state), with the state's first
/// output read as the hit is handed over (prefetched when the scan found
/// it) rather than in the second phase, where the load would no longer
/// overlap with anything.
///
/// # Allocation
///
/// A plain `Copy` value; never allocates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit {
    pub(crate) end: usize,
    /// The first (longest) pattern ending here, its length, and the next
    /// entry of the output chain.
    pub(crate) pattern: u32,
    pub(crate) len: u32,
    pub(crate) next: u32,
}

impl Hit {
    /// Offset one past the byte at which the patterns end.
    ///
    /// Never allocates.
    #[must_use]
    pub fn end(&self) -> usize {
        self.end
    }
}

/// Where matching stands between calls: the automaton state after the last
/// byte seen, and the absolute offset of the next byte.
///
/// A cursor belongs to the automaton that it was used with: using it with
/// another automaton is a logic error that gives meaningless matches (never
/// undefined behaviour).
///
/// # Allocation
///
/// A plain `Copy` value; never allocates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cursor {
    pub(crate) state: u32,
    pub(crate) offset: usize,
    /// The first bytes of a UTF-8 character that the last chunk ended in the
    /// middle of (charwise automata only).
    pub(crate) pending: [u8; 4],
    pub(crate) pending_len: u8,
    /// Where the prefilter's current trial began or its next one begins,
    /// and how long it rests after its gate closes (see `automaton::scan`):
    /// only speed depends on them, never the matches.
    pub(crate) resume: usize,
    pub(crate) rest: u32,
}

impl Cursor {
    /// A cursor at the start of a haystack: root state, offset 0.
    ///
    /// Never allocates.
    #[must_use]
    pub fn new() -> Cursor {
        Cursor {
            state: automaton::ROOT,
            offset: 0,
            pending: [0; 4],
            pending_len: 0,
            resume: 0,
            rest: 0,
        }
    }

    /// Absolute offset of the next byte to be matched (bytes seen so far).
    ///
    /// Never allocates.
    #[must_use]
    pub fn offset(&self) -> usize {
        self.offset
    }
}

/// Splits a haystack into the chunks that successive match calls cover:
/// `chunk` bytes each (the last may be shorter), or the whole haystack in one
/// call when `chunk` is 0. An empty haystack is one empty chunk either way,
/// so every workload has at least one call.
///
/// # Allocation
///
/// Never allocates.
pub fn chunks(haystack: &[u8], chunk: usize) -> impl Iterator<Item = &[u8]> + Clone {
    let size = if chunk == 0 || haystack.is_empty() {
        haystack.len().max(1)
    } else {
        chunk
    };
    let empty: &[u8] = &[];
    let first_if_empty = haystack.is_empty().then_some(empty);
    first_if_empty.into_iter().chain(haystack.chunks(size))
}

/// Every match in `haystack`, in report order, collected into a `Vec`
/// through the `callback` variant: the reference result the tests compare
/// every variant with.
///
/// # Allocation
///
/// The returned `Vec` and its growth.
#[must_use]
pub fn find_all(ac: &Automaton, haystack: &[u8]) -> Vec<Match> {
    let mut out = Vec::new();
    variant::callback::find(ac, &mut Cursor::new(), haystack, |m| out.push(m));
    out
}
