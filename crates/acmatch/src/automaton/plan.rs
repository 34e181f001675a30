//! The plan: what to build, decided from the sorted patterns by cost
//! before anything is built (`Plan::choose`). It needs the trie's size
//! before any of it exists: the number of byte-trie states is the sum, over
//! the sorted patterns, of the bytes each does not share with the one
//! before it.

use super::alphabet::Alphabet;
use super::literal::Want;
use super::Layout;

/// `Layout::Auto` builds a dense table when it has at most this many `u32`
/// entries (12 MiB), unless the double array would be over characters; see
/// `Plan::choose`. Three streams over the table measured faster up to a
/// 32 MB table on whole texts (the root's DECISIONS-scaling.md, "Layout
/// crossover": English 30,000 words 1.16x daachorse against the byte double
/// array's 0.97x), but the article's workload, `synthetic-en` (40,567
/// patterns, 148,311 states, a 15 MB table) in 2,048-byte calls ran 1.7x
/// slower on that table than on its 2 MB double array (`escape-lab profile
/// --no-instr --variants fixed,callback`, three interleaved runs: 48-53
/// against 84-87 MB/s for `fixed`). 12 MiB keeps English 10,000 words
/// (48,814 states, 2.21x daachorse charwise) on the table and `synthetic-en` on the double array.
const DENSE_MAX_ENTRIES: usize = 3 << 20;
/// As `DENSE_MAX_ENTRIES` when the double array would be over characters
/// (most pattern bytes in multi-byte characters), which takes a third of
/// the table's steps over CJK text, so the table loses sooner (12 MiB).
/// Measured: Chinese 8,000 words, 11.8 MB, 1.17x daachorse against the
/// charwise double array's 1.04x; 10,000 words, 14.5 MB, 0.97x against
/// 1.00x.
const DENSE_MAX_ENTRIES_CHARWISE: usize = 3 << 20;
/// `Layout::Dense` builds one up to this many entries (1 GiB), else falls
/// back to the double array.
const DENSE_HARD_MAX_ENTRIES: usize = 1 << 28;

/// What to build, decided from the patterns before anything is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Plan {
    /// A dense table over byte classes (the trie is then built over bytes).
    pub(super) dense: bool,
    /// States of the trie over bytes.
    pub(super) byte_states: usize,
    /// The trie's symbols are UTF-8 characters.
    pub(super) charwise: bool,
    /// Build the root-state prefilter when the patterns make it pay.
    pub(super) prefilter: bool,
    /// Whether to build the literal engine (dense tables only); when it
    /// is built, the prefilter is not.
    pub(super) literal: Want,
}

impl Plan {
    /// The layout for `pats` (sorted by `order`): see [`Layout`].
    pub(super) fn choose(pats: &[&[u8]], order: &[u32], layout: Layout) -> Plan {
        let byte_states = byte_trie_states(pats, order);
        let mut live = [false; 256];
        for p in pats {
            for &b in *p {
                live[b as usize] = true;
            }
        }
        let classes = (live.iter().filter(|&&l| l).count() + 1).min(256);
        let dense_entries = byte_states.saturating_mul(classes + 1);
        let dense = |prefilter: bool, literal: Want| Plan {
            dense: true,
            byte_states,
            charwise: false,
            prefilter,
            literal,
        };
        let double_array = |charwise: bool, prefilter: bool| Plan {
            dense: false,
            byte_states,
            charwise: charwise && Alphabet::can_be_charwise(pats),
            prefilter,
            literal: Want::No,
        };
        match layout {
            Layout::Auto => {
                let charwise = charwise_pays(pats);
                let cap = if charwise {
                    DENSE_MAX_ENTRIES_CHARWISE
                } else {
                    DENSE_MAX_ENTRIES
                };
                if dense_entries <= cap {
                    dense(true, Want::ByCost)
                } else {
                    double_array(charwise, true)
                }
            }
            Layout::Dense { prefilter } if dense_entries <= DENSE_HARD_MAX_ENTRIES => {
                dense(prefilter, Want::No)
            }
            Layout::Literal { simd } if dense_entries <= DENSE_HARD_MAX_ENTRIES => {
                dense(false, Want::Forced { simd })
            }
            Layout::Literal { .. } => double_array(charwise_pays(pats), false),
            Layout::Dense { prefilter } => double_array(charwise_pays(pats), prefilter),
            Layout::DoubleArray {
                charwise,
                prefilter,
            } => double_array(charwise, prefilter),
        }
    }
}

/// Whether a double array over characters beats one over bytes for these
/// patterns: when most of their bytes belong to multi-byte characters (CJK
/// dictionaries), a character is one transition instead of two to four
/// and the trie has a fraction of the states.
fn charwise_pays(pats: &[&[u8]]) -> bool {
    let (mut multi, mut all) = (0usize, 0usize);
    for p in pats {
        all += p.len();
        multi += p.iter().filter(|&&b| b >= 0x80).count();
    }
    multi * 2 > all && Alphabet::can_be_charwise(pats)
}

/// States of the trie over bytes (distinct non-empty prefixes, plus the
/// root): each pattern in sorted order adds the bytes it does not share
/// with the one before it.
fn byte_trie_states(pats: &[&[u8]], order: &[u32]) -> usize {
    let mut states = 1;
    let mut prev: &[u8] = &[];
    for &k in order {
        let p = pats[k as usize];
        let common = prev.iter().zip(p).take_while(|(a, b)| a == b).count();
        states += p.len() - common;
        prev = p;
    }
    states
}
