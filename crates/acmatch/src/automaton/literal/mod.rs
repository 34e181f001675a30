//! The literal engine for small dictionaries: a SIMD candidate finder in
//! the manner of Teddy (Hyperscan's, and the `aho-corasick` crate's packed
//! searcher), exact verification, and the automaton at chunk boundaries.
//!
//! # What it does
//!
//! The automaton reads one byte at a time. This engine tests 16, 32 or 64
//! text positions per step for "some pattern may end here" with shuffle
//! masks over the last 4 or 6 bytes (`finder`, tables in `masks`), and
//! visits only the candidates: each is first tested against hashes of the
//! patterns' last 8, 4 or 2 bytes (`confirm`), and the few that pass are
//! verified by walking a trie of the reversed patterns backwards from
//! them (`reverse`), which yields the longest pattern ending there,
//! exactly, or nothing.
//!
//! # Same matches, same order
//!
//! Teddy looks at the *first* bytes of the patterns and finds matches by
//! start. This one looks at their *last* bytes and finds them by end, in
//! increasing order, which is the automaton's report order. At one end,
//! every pattern ending there is a suffix of the longest one, so the
//! longest names them all: the hit carries the head of the forward
//! automaton's output chain for that pattern's node, and the variants
//! expand it exactly as they expand the automaton's own hits. The engine
//! produces `Hit`s for the one scan driver (`automaton::scan`); every
//! variant works over it unchanged.
//!
//! # Chunk boundaries
//!
//! A match that ends within the first `max_len - 1` bytes of a chunk may
//! have begun in an earlier chunk, whose bytes are gone. Those ends, the
//! chunk's *head*, are left to the automaton, walked from the cursor's
//! state as usual; every later end has all of its bytes in the chunk, and
//! the finder covers them. At the end of the chunk the automaton's state
//! is rebuilt for the cursor by walking the last `max_len` bytes from the
//! root (the state after a byte depends on no more bytes than the longest
//! pattern, as in the two-stream scan), with their hits ignored, since the
//! finder reported them. A chunk too short for this to pay
//! ([`Literal::min_chunk`]) is walked by the automaton alone. Per
//! 2,048-byte call that is about `2 * max_len` bytes of automaton walk.
//!
//! # When it is built
//!
//! Only over the dense table (small dictionaries), and, under
//! `Layout::Auto`, when the patterns' nibble masks promise few candidates
//! (`Masks::expected_rate`, with the patterns' own byte frequencies
//! standing in for the text) and there are few enough patterns; it then
//! takes the root-state prefilter's place. `Layout::Literal` forces it.
//! The instruction set is detected once, when the automaton is built
//! (`is_x86_feature_detected!`): AVX-512 VBMI, else AVX2, else SSSE3, else
//! the scalar finder, which `Layout::Literal { simd: false }` also forces.

mod confirm;
mod drive;
mod finder;
mod masks;
mod reverse;

use confirm::Confirm;
use masks::{Masks, K};
use reverse::Reverse;

use super::alphabet::Alphabet;
use super::Dense;

/// Under `Layout::Auto`, the engine is built for at most this many
/// patterns...
pub(super) const AUTO_MAX_PATTERNS: usize = 500;
/// ... when at most this share of positions is expected to be a false
/// candidate. Measured (`scaling` example, `callback`, literal against
/// the dense table with its prefilter, one run): English 100 words 2.75%
/// expected, 1.35x; English 200 3.81%, 0.87x; Chinese 200 1.65%, 1.78x;
/// Chinese 300 3.58%, 1.12x. The estimate promises too few for Chinese,
/// so the threshold sits below every loss seen.
pub(super) const AUTO_MAX_RATE: f64 = 0.035;
/// The finder looks at the last `SHORT` bytes of the patterns when that
/// promises at most `SHORT_MAX_RATE` false candidates, at `K` otherwise:
/// more bytes cost more lookups per block, which pays only when the
/// candidates, not the lookups, take the time. Measured (`scaling`
/// example, `callback`, literal, binaries alternated): English 100 words
/// (2.75% expected with 4 bytes, 0.41% with 6) 1,930 MB/s with 4 bytes,
/// 2,600 with 5, 3,250 with 6; Chinese 100 (0.12% with 4) 3,640-3,940
/// with 4, 3,530-3,680 with 6.
pub(super) const SHORT: usize = 4;
/// See [`SHORT`].
const SHORT_MAX_RATE: f64 = 0.01;
/// The reversed trie's table may have at most this many entries.
const MAX_ENTRIES: usize = 1 << 22;

/// Which candidate finder a scan runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Isa {
    /// 64 positions per step, exact seven-bit tables (AVX-512 F, BW and
    /// VBMI).
    Avx512,
    /// 32 positions per step.
    Avx2,
    /// 16 positions per step.
    Ssse3,
    /// The byte tables, one position at a time.
    Scalar,
}

impl Isa {
    /// Whether the finder uses the exact seven-bit tables.
    pub(crate) fn exact(self) -> bool {
        self == Isa::Avx512
    }

    /// The best finder this CPU runs; `Scalar` off x86-64.
    pub(crate) fn detect() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            if is_x86_feature_detected!("avx512f")
                && is_x86_feature_detected!("avx512bw")
                && is_x86_feature_detected!("avx512vbmi")
            {
                return Isa::Avx512;
            }
            if is_x86_feature_detected!("avx2") {
                return Isa::Avx2;
            }
            if is_x86_feature_detected!("ssse3") {
                return Isa::Ssse3;
            }
        }
        Isa::Scalar
    }

    /// `avx512`, `avx2`, `ssse3`, `scalar`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Isa::Avx512 => "avx512",
            Isa::Avx2 => "avx2",
            Isa::Ssse3 => "ssse3",
            Isa::Scalar => "scalar",
        }
    }
}

/// The engine; see the module documentation.
#[derive(Clone, Debug)]
pub(crate) struct Literal {
    masks: Box<Masks>,
    /// The last bytes the finder looks at: `SHORT` or `K`.
    n: usize,
    confirm: Confirm,
    reverse: Reverse,
    pub(crate) isa: Isa,
    /// Ends at or before this offset in a chunk are the automaton's:
    /// `max(max_len, K) - 1`.
    head: usize,
    /// The longest pattern.
    max_len: usize,
}

/// Whether to build the engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Want {
    /// Never.
    No,
    /// When the cost model says it pays.
    ByCost,
    /// Always (over the dense table), with the best finder or the scalar one.
    Forced { simd: bool },
}

impl Literal {
    /// The engine for `pats` over a dense automaton (`alphabet`, `dense`),
    /// if `want` and the cost model say so.
    ///
    /// Allocates the masks, the reversed trie, and temporary lists.
    pub(super) fn new(
        pats: &[&[u8]],
        alphabet: &Alphabet,
        dense: &Dense,
        want: Want,
    ) -> Option<Literal> {
        // One-byte patterns make every occurrence of their byte a
        // candidate, which the joined patterns cannot show.
        let too_many = want == Want::ByCost
            && (pats.len() > AUTO_MAX_PATTERNS || pats.iter().any(|p| p.len() < 2));
        if want == Want::No || too_many {
            return None;
        }
        let isa = match want {
            Want::Forced { simd: false } => Isa::Scalar,
            _ => Isa::detect(),
        };
        let mut n = SHORT;
        let mut masks = Box::new(Masks::new(pats, isa.exact(), n));
        let mut rate = masks.expected_rate(pats, isa.exact());
        if rate > SHORT_MAX_RATE {
            n = K;
            masks = Box::new(Masks::new(pats, isa.exact(), n));
            rate = masks.expected_rate(pats, isa.exact());
        }
        if want == Want::ByCost && rate > AUTO_MAX_RATE {
            return None;
        }
        let head_of = |p: &[u8]| {
            // The state after reading `p` from the root is `p`'s node.
            let mut s = 0usize;
            for &b in p {
                s = dense.table[s + alphabet.byte_codes[usize::from(b)] as usize] as usize;
            }
            dense.table[s + dense.stride - 1]
        };
        let reverse = Reverse::new(
            pats,
            &alphabet.byte_codes,
            alphabet.len,
            MAX_ENTRIES,
            head_of,
        )?;
        let max_len = pats.iter().map(|p| p.len()).max().unwrap_or(0);
        Some(Literal {
            masks,
            n,
            confirm: Confirm::new(pats),
            reverse,
            isa,
            head: max_len.max(K) - 1,
            max_len,
        })
    }

    /// Heap bytes owned.
    pub(super) fn heap_bytes(&self) -> usize {
        std::mem::size_of::<Masks>() + self.confirm.heap_bytes() + self.reverse.heap_bytes()
    }

    /// Chunks shorter than this are walked by the automaton alone: the
    /// head, the rebuilt state's `max_len` bytes, and a finder block of
    /// the widest kind.
    pub(super) fn min_chunk(&self) -> usize {
        self.head + self.max_len + 64
    }
}

#[cfg(test)]
mod tests;
