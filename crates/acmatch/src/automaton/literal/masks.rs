//! The candidate finder's tables: patterns grouped into buckets by their
//! last bytes, and for each of the last `K` byte positions of a pattern two
//! 16-entry nibble masks (Teddy's), plus the same information as one
//! 256-entry table per position for the scalar finder and verification.
//!
//! Position `j` is the byte `j` places before a pattern's last byte. For a
//! text byte `x` seen at that distance from a possible end, the buckets
//! that may hold a pattern ending there are `lo[j][x & 15] & hi[j][x >> 4]`;
//! a candidate end is one where the AND over the `K` positions leaves a
//! bucket. A nibble mask cannot tell `0x61` from `0x71` when both nibbles
//! are used by other patterns of the bucket, so candidates include false
//! positives; verification removes them. A pattern shorter than `K` bytes
//! accepts any byte at the positions it does not have.
//!
//! Buckets: the patterns' distinct *fingerprints* (their last `K` bytes,
//! read from the end) are sorted and cut into `BUCKETS` runs of equal
//! length, so that patterns with the same last byte (and often the same
//! last two) share a bucket, which keeps each bucket's nibble sets at
//! position 0 small: the sort is the whole heuristic.

/// Bytes of each pattern's end the finder looks at.
pub(crate) const K: usize = 3;
/// Buckets: one bit of a mask entry each.
pub(crate) const BUCKETS: usize = 8;

/// A fingerprint byte that is not there: the pattern is shorter than `K`.
const WILD: u16 = 256;

/// The finder's tables; see the module documentation.
#[derive(Clone, Debug)]
pub(crate) struct Masks {
    /// `lo[j][n]`: buckets with a pattern whose byte at position `j` has
    /// low nibble `n` (or which has no byte there).
    pub(crate) lo: [[u8; 16]; K],
    /// The same for high nibbles.
    pub(crate) hi: [[u8; 16]; K],
    /// `byte[j][x] == lo[j][x & 15] & hi[j][x >> 4]`.
    pub(crate) byte: [[u8; 256]; K],
}

impl Masks {
    /// The tables for `pats`, which must not be empty.
    ///
    /// Allocates the fingerprints' list while it runs; the result is plain
    /// arrays.
    pub(crate) fn new(pats: &[&[u8]]) -> Masks {
        let mut prints: Vec<[u16; K]> = pats.iter().map(|p| fingerprint(p)).collect();
        prints.sort_unstable();
        prints.dedup();
        let mut lo = [[0u8; 16]; K];
        let mut hi = [[0u8; 16]; K];
        let n = prints.len();
        for (i, print) in prints.iter().enumerate() {
            // Equal runs of the sorted fingerprints: bucket `i * B / n`.
            let bit = 1u8 << (i * BUCKETS / n);
            for (j, &b) in print.iter().enumerate() {
                if b == WILD {
                    lo[j].iter_mut().for_each(|m| *m |= bit);
                    hi[j].iter_mut().for_each(|m| *m |= bit);
                } else {
                    lo[j][usize::from(b & 15)] |= bit;
                    hi[j][usize::from(b >> 4)] |= bit;
                }
            }
        }
        let mut byte = [[0u8; 256]; K];
        for j in 0..K {
            for (x, entry) in byte[j].iter_mut().enumerate() {
                *entry = lo[j][x & 15] & hi[j][x >> 4];
            }
        }
        Masks { lo, hi, byte }
    }

    /// Whether a pattern may end with the byte at `chunk[last]`: the
    /// finder's test at one position, by table. Requires `last >= K - 1`.
    #[cfg(test)]
    pub(crate) fn candidate(&self, chunk: &[u8], last: usize) -> bool {
        let mut acc = u8::MAX;
        for j in 0..K {
            acc &= self.byte[j][usize::from(chunk[last - j])];
        }
        acc != 0
    }

    /// Expected share of positions that are candidates if text bytes were
    /// drawn independently with the frequencies the patterns' own bytes
    /// have (a stand-in for the text, which the build never sees): the
    /// cost model that decides whether the literal engine is built.
    pub(crate) fn expected_rate(&self, pats: &[&[u8]]) -> f64 {
        let mut freq = [0f64; 256];
        let mut total = 0f64;
        for p in pats {
            for &b in *p {
                freq[usize::from(b)] += 1.0;
                total += 1.0;
            }
        }
        // Per bucket: the chance that all K positions admit it.
        let mut none = 1.0;
        for bucket in 0..BUCKETS {
            let mut all = 1.0;
            for j in 0..K {
                let admitted: f64 = (0..256)
                    .filter(|&x| self.byte[j][x] >> bucket & 1 == 1)
                    .map(|x| freq[x])
                    .sum();
                all *= admitted / total;
            }
            none *= 1.0 - all;
        }
        1.0 - none
    }
}

/// A pattern's last `K` bytes, last first; `WILD` where it has none.
fn fingerprint(p: &[u8]) -> [u16; K] {
    let mut print = [WILD; K];
    for (j, slot) in print.iter_mut().enumerate() {
        if let Some(i) = p.len().checked_sub(j + 1) {
            *slot = u16::from(p[i]);
        }
    }
    print
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_end_is_a_candidate() {
        let pats: [&[u8]; 5] = [b"needle", b"hay", b"a", b"stack", b"\xFF\x00"];
        let m = Masks::new(&pats);
        for p in pats {
            let text = [b"xyz".as_slice(), p].concat();
            assert!(m.candidate(&text, text.len() - 1), "{p:?}");
        }
    }

    #[test]
    fn the_byte_tables_are_the_nibble_masks() {
        let pats: [&[u8]; 3] = [b"abc", b"q", b"\x80\x91\xE4"];
        let m = Masks::new(&pats);
        for j in 0..K {
            for x in 0..256 {
                assert_eq!(m.byte[j][x], m.lo[j][x & 15] & m.hi[j][x >> 4]);
            }
        }
        // "q" has no byte at positions 1 and 2: its bucket admits anything.
        assert!(m.byte[1].iter().all(|&e| e != 0));
    }

    #[test]
    fn rare_endings_give_a_low_rate_and_one_byte_patterns_a_high_one() {
        let rare: [&[u8]; 2] = [b"xylophone", b"quizzical"];
        assert!(Masks::new(&rare).expected_rate(&rare) < 0.05);
        let short: [&[u8]; 2] = [b"e", b"t"];
        assert!(Masks::new(&short).expected_rate(&short) > 0.5);
    }
}
