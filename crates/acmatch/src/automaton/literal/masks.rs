//! The candidate finder's tables: patterns grouped into buckets by their
//! last bytes, and for each of the last `K` byte positions of a pattern two
//! 16-entry masks per half of the buckets (Teddy's shuffle masks), plus the
//! same information as one 256-entry table per position for the scalar
//! finder.
//!
//! Position `j` is the byte `j` places before a pattern's last byte. A text
//! byte `x` seen at that distance from a possible end admits the buckets
//! `lo[j][x & 15] & mid[j][x >> 3 & 15]` (see [`keys`]); a candidate end is
//! one where the AND over the `K` positions leaves a bucket. Keys of
//! different patterns of one bucket combine, so candidates include false
//! positives; verification removes them. A pattern shorter than `K` bytes
//! admits any byte at the positions it does not have.
//!
//! Buckets: each distinct *fingerprint* (a pattern's last `K` bytes, read
//! from the end) goes, greedily, to the bucket whose expected candidate
//! rate it raises least, with the patterns' own byte frequencies standing
//! in for the text's; fingerprints with wild positions go first, so they
//! crowd few buckets. (Measured on 100-word samples over 2 MB of the
//! scaling texts, 16 buckets of 4 bytes: 3.1% of English and 1.5% of
//! Chinese positions are candidates; 8 buckets of 3 bytes cut from the
//! sorted fingerprints, with Teddy's high nibble, gave 12% for both.)

/// Bytes of each pattern's end the finder looks at.
pub(crate) const K: usize = 4;
/// Buckets: one bit of a table entry each, in two halves of eight (one
/// byte of a vector lane each).
pub(crate) const BUCKETS: usize = 16;
/// Bucket sets.
pub(crate) type Buckets = u16;

/// A fingerprint byte that is not there: the pattern is shorter than `K`.
const WILD: u16 = 256;

/// The two 4-bit keys a byte is looked up by: its low nibble, and bits
/// 3..=6. Together they fix bits 0..=6, so one byte of a pattern admits
/// only itself and itself with bit 7 flipped (Teddy's high nibble instead
/// cannot tell `a` from `q`, 0x61 from 0x71: every ASCII letter is 0x6_ or
/// 0x7_).
#[inline(always)]
pub(crate) fn keys(x: u8) -> (usize, usize) {
    (usize::from(x & 15), usize::from(x >> 3 & 15))
}

/// The finder's tables; see the module documentation.
#[derive(Clone, Debug)]
pub(crate) struct Masks {
    /// `lo[h][j][n]`: of buckets `8h..8h + 8`, those with a pattern whose
    /// byte at position `j` has low nibble `n` (or which has no byte
    /// there).
    pub(crate) lo: [[[u8; 16]; K]; 2],
    /// The same for bits 3..=6 of the byte.
    pub(crate) mid: [[[u8; 16]; K]; 2],
    /// `byte[j][x]`: the buckets both keys of `x` admit at position `j`.
    pub(crate) byte: [[Buckets; 256]; K],
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
        let freq = Freq::of(pats);
        let mut sets = [Sets::default(); BUCKETS];
        let mut rates = [0f64; BUCKETS];
        // Short patterns (whose wild positions admit anything) first, so
        // that they gather in few buckets; then in sorted order, each to
        // the bucket whose expected rate it raises least.
        prints.sort_by_key(|p| std::cmp::Reverse(p.iter().filter(|&&b| b == WILD).count()));
        for print in &prints {
            let mut best = (f64::INFINITY, 0, 0.0);
            for (k, set) in sets.iter().enumerate() {
                let rate = set.with(print).rate(&freq);
                if rate - rates[k] < best.0 {
                    best = (rate - rates[k], k, rate);
                }
            }
            let (_, bucket, rate) = best;
            sets[bucket] = sets[bucket].with(print);
            rates[bucket] = rate;
        }
        Masks::from_sets(&sets)
    }

    fn from_sets(sets: &[Sets; BUCKETS]) -> Masks {
        let mut lo = [[[0u8; 16]; K]; 2];
        let mut mid = [[[0u8; 16]; K]; 2];
        let mut byte = [[0; 256]; K];
        for (b, set) in sets.iter().enumerate() {
            let (h, bit) = (b / 8, 1u8 << (b % 8));
            for j in 0..K {
                for n in 0..16 {
                    if set.lo[j] >> n & 1 == 1 {
                        lo[h][j][n] |= bit;
                    }
                    if set.mid[j] >> n & 1 == 1 {
                        mid[h][j][n] |= bit;
                    }
                }
            }
        }
        for (j, row) in byte.iter_mut().enumerate() {
            for (x, entry) in row.iter_mut().enumerate() {
                let (l, m) = keys(x as u8);
                *entry = Buckets::from(lo[0][j][l] & mid[0][j][m])
                    | Buckets::from(lo[1][j][l] & mid[1][j][m]) << 8;
            }
        }
        Masks { lo, mid, byte }
    }

    /// Whether a pattern may end with the byte at `chunk[last]`: the
    /// finder's test at one position, by table. Requires `last >= K - 1`.
    #[cfg(test)]
    pub(crate) fn candidate(&self, chunk: &[u8], last: usize) -> bool {
        let mut acc = Buckets::MAX;
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
        let freq = Freq::of(pats);
        let mut none = 1.0;
        for bucket in 0..BUCKETS {
            let mut all = 1.0;
            for row in &self.byte {
                let admitted: f64 = (0..256)
                    .filter(|&x| row[x] >> bucket & 1 == 1)
                    .map(|x| freq.byte[x])
                    .sum();
                all *= admitted;
            }
            none *= 1.0 - all;
        }
        1.0 - none
    }
}

/// Byte frequencies, and the same summed by the pair of keys.
struct Freq {
    byte: [f64; 256],
    /// `keyed[l][m]`: the bytes whose keys are `(l, m)`.
    keyed: [[f64; 16]; 16],
}

impl Freq {
    fn of(pats: &[&[u8]]) -> Freq {
        let mut byte = [0f64; 256];
        let total: usize = pats.iter().map(|p| p.len()).sum();
        for p in pats {
            for &b in *p {
                byte[usize::from(b)] += 1.0 / total as f64;
            }
        }
        let mut keyed = [[0f64; 16]; 16];
        for (x, f) in byte.iter().enumerate() {
            let (l, m) = keys(x as u8);
            keyed[l][m] += f;
        }
        Freq { byte, keyed }
    }
}

/// One bucket's admitted keys per position, as bit sets.
#[derive(Clone, Copy, Debug, Default)]
struct Sets {
    lo: [u16; K],
    mid: [u16; K],
}

impl Sets {
    /// With one more fingerprint.
    fn with(mut self, print: &[u16; K]) -> Sets {
        for (j, &b) in print.iter().enumerate() {
            if b == WILD {
                self.lo[j] = u16::MAX;
                self.mid[j] = u16::MAX;
            } else {
                let (l, m) = keys(b as u8);
                self.lo[j] |= 1 << l;
                self.mid[j] |= 1 << m;
            }
        }
        self
    }

    /// The chance that a position admits this bucket (see `expected_rate`).
    fn rate(&self, freq: &Freq) -> f64 {
        let mut all = 1.0;
        for j in 0..K {
            let mut admitted = 0.0;
            for l in (0..16).filter(|l| self.lo[j] >> l & 1 == 1) {
                for m in (0..16).filter(|m| self.mid[j] >> m & 1 == 1) {
                    admitted += freq.keyed[l][m];
                }
            }
            all *= admitted;
        }
        all
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
                let (l, n) = keys(x as u8);
                let half = |h: usize| Buckets::from(m.lo[h][j][l] & m.mid[h][j][n]);
                assert_eq!(m.byte[j][x], half(0) | half(1) << 8);
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
