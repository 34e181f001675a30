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
//! crowd few buckets. The greedy cost is that of the tables the finder
//! will use: the two keys, or the AVX-512 finder's exact seven bits.
//! (Measured on 100-word samples over 2 MB of the scaling texts, 16
//! buckets of 4 bytes, keys: 3.1% of English and 1.5% of Chinese positions
//! are candidates; exact tables: 2.8% and 0.43%; 8 buckets of 3 bytes cut
//! from the sorted fingerprints, with Teddy's high nibble: 12% for both.)

/// Bytes of each pattern's end the finder looks at, at most (see
/// [`Masks::new`]'s `n`).
pub(crate) const K: usize = 6;
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
    /// `exact[h][j][x & 127]`: of buckets `8h..8h + 8`, those with a
    /// pattern whose byte at position `j` has the low seven bits of `x`
    /// (or which has no byte there): the AVX-512 finder's tables, which
    /// admit fewer bytes than the two keys (no key of one pattern meets a
    /// key of another).
    pub(crate) exact: [[[u8; 128]; K]; 2],
    /// `exact7[j][x]`: `exact` for all sixteen buckets, for scalar code.
    pub(crate) exact7: [[Buckets; 256]; K],
}

impl Masks {
    /// The tables for `pats`, which must not be empty.
    ///
    /// Allocates the fingerprints' list while it runs; the result is plain
    /// arrays.
    /// With `exact_cost`, buckets are assigned by the cost of the AVX-512
    /// finder's exact tables rather than by that of the two keys.
    /// Only the last `n <= K` bytes of each pattern are looked at: the
    /// positions from `n` on admit every byte, so that a finder may skip
    /// them.
    pub(crate) fn new(pats: &[&[u8]], exact_cost: bool, n: usize) -> Masks {
        let mut prints: Vec<[u16; K]> = pats.iter().map(|p| fingerprint(p, n)).collect();
        prints.sort_unstable();
        prints.dedup();
        let freq = Freq::of(pats);
        let mut sets = [Sets::default(); BUCKETS];
        let mut rates = [0f64; BUCKETS];
        let mut exact = [[[0u8; 128]; K]; 2];
        // Short patterns (whose wild positions admit anything) first, so
        // that they gather in few buckets; then in sorted order, each to
        // the bucket whose expected rate it raises least.
        prints.sort_by_key(|p| std::cmp::Reverse(p.iter().filter(|&&b| b == WILD).count()));
        for print in &prints {
            let mut best = (f64::INFINITY, 0, Sets::default());
            for (k, set) in sets.iter().enumerate() {
                let grown = set.with(print, &freq, exact_cost);
                let cost = grown.rate() - rates[k];
                if cost < best.0 {
                    best = (cost, k, grown);
                }
            }
            let (_, bucket, grown) = best;
            rates[bucket] = grown.rate();
            sets[bucket] = grown;
            let (h, bit) = (bucket / 8, 1u8 << (bucket % 8));
            for (j, &b) in print.iter().enumerate() {
                if b == WILD {
                    exact[h][j].iter_mut().for_each(|e| *e |= bit);
                } else {
                    exact[h][j][usize::from(b & 127)] |= bit;
                }
            }
        }
        Masks::from_sets(&sets, exact)
    }

    fn from_sets(sets: &[Sets; BUCKETS], exact: [[[u8; 128]; K]; 2]) -> Masks {
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
        let mut exact7 = [[0; 256]; K];
        for (j, row) in exact7.iter_mut().enumerate() {
            for (x, entry) in row.iter_mut().enumerate() {
                *entry =
                    Buckets::from(exact[0][j][x & 127]) | Buckets::from(exact[1][j][x & 127]) << 8;
            }
        }
        Masks {
            lo,
            mid,
            byte,
            exact,
            exact7,
        }
    }

    /// The byte tables whose candidates `exact` gives: the exact ones for
    /// the AVX-512 finder, the keyed ones for the others.
    pub(crate) fn tables(&self, exact: bool) -> &[[Buckets; 256]; K] {
        if exact {
            &self.exact7
        } else {
            &self.byte
        }
    }

    /// Whether a pattern may end with the byte at `chunk[last]`: the
    /// finder's test at one position, by table. Requires `last >= K - 1`.
    /// With `exact`, by the AVX-512 finder's tables.
    #[cfg(test)]
    pub(crate) fn candidate(&self, chunk: &[u8], last: usize, exact: bool) -> bool {
        let tables = self.tables(exact);
        let mut acc = Buckets::MAX;
        for j in 0..K {
            acc &= tables[j][usize::from(chunk[last - j])];
        }
        acc != 0
    }

    /// Expected share of text positions that are false candidates: the
    /// share over the patterns themselves, joined by spaces (and `K - 1`
    /// in front), minus their own ends. The build never sees the text; the patterns stand in for
    /// it, with the local structure (letters, UTF-8 sequences) that a
    /// model of independent bytes misses. Calibrated against 2 MB of the
    /// scaling texts (`tests::calibration_of_the_expected_rate`), exact
    /// tables: 2.75% expected for 2.81% measured (English, 100 words),
    /// 3.81% for 5.33% (English, 200), 0.12% for 0.43% (Chinese, 100),
    /// 1.65% for 1.96% (Chinese, 200), 3.58% for 5.51% (Chinese, 300); it
    /// tends to promise too few, hence the low threshold in `literal`.
    ///
    /// Allocates the joined patterns while it runs.
    pub(crate) fn expected_rate(&self, pats: &[&[u8]], exact: bool) -> f64 {
        let tables = self.tables(exact);
        let mut joined = vec![b' '; K - 1];
        joined.extend(pats.join(&b' '));
        let candidates = (K - 1..joined.len())
            .filter(|&q| {
                let mut acc = Buckets::MAX;
                for j in 0..K {
                    acc &= tables[j][usize::from(joined[q - j])];
                }
                acc != 0
            })
            .count();
        candidates.saturating_sub(pats.len()) as f64 / joined.len().max(1) as f64
    }
}

/// Byte frequencies, and the same summed by the pair of keys.
struct Freq {
    /// `keyed[l][m]`: the bytes whose keys are `(l, m)`.
    keyed: [[f64; 16]; 16],
    /// `seven[x]`: the bytes whose low seven bits are `x`.
    seven: [f64; 128],
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
        let seven = std::array::from_fn(|x| byte[x] + byte[x | 128]);
        Freq { keyed, seven }
    }
}

/// One bucket's admitted keys per position, as bit sets, and the share of
/// bytes they admit.
#[derive(Clone, Copy, Debug, Default)]
struct Sets {
    lo: [u16; K],
    mid: [u16; K],
    /// Low seven bits admitted, for the exact tables.
    seven: [u128; K],
    admitted: [f64; K],
}

impl Sets {
    /// With one more fingerprint; the admitted shares updated from the
    /// keys that are new, so that the greedy assignment stays linear.
    fn with(mut self, print: &[u16; K], freq: &Freq, exact: bool) -> Sets {
        for (j, &b) in print.iter().enumerate() {
            if b == WILD {
                self.lo[j] = u16::MAX;
                self.mid[j] = u16::MAX;
                self.seven[j] = u128::MAX;
                self.admitted[j] = 1.0;
                continue;
            }
            let (l, m) = keys(b as u8);
            if exact {
                let x = usize::from(b & 127);
                if self.seven[j] >> x & 1 == 0 {
                    self.admitted[j] += freq.seven[x];
                }
                self.seven[j] |= 1 << x;
                self.lo[j] |= 1 << l;
                self.mid[j] |= 1 << m;
                continue;
            }
            let (new_l, new_m) = (self.lo[j] >> l & 1 == 0, self.mid[j] >> m & 1 == 0);
            self.lo[j] |= 1 << l;
            self.mid[j] |= 1 << m;
            let column = |lo: u16| -> f64 {
                (0..16)
                    .filter(|&x| lo >> x & 1 == 1)
                    .map(|x| freq.keyed[x][m])
                    .sum()
            };
            let row = |mid: u16| -> f64 {
                (0..16)
                    .filter(|&x| mid >> x & 1 == 1)
                    .map(|x| freq.keyed[l][x])
                    .sum()
            };
            // The pairs that are new: row `l` when `l` is, column `m`
            // when `m` is, their crossing once.
            self.admitted[j] += match (new_l, new_m) {
                (true, true) => row(self.mid[j]) + column(self.lo[j]) - freq.keyed[l][m],
                (true, false) => row(self.mid[j]),
                (false, true) => column(self.lo[j]),
                (false, false) => 0.0,
            };
        }
        self
    }

    /// The chance that a position admits this bucket (independent bytes).
    fn rate(&self) -> f64 {
        self.admitted.iter().product()
    }
}

/// A pattern's last `n` bytes, last first; `WILD` where it has none and
/// from `n` on.
fn fingerprint(p: &[u8], n: usize) -> [u16; K] {
    let mut print = [WILD; K];
    for (j, slot) in print.iter_mut().enumerate().take(n) {
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
        let m = Masks::new(&pats, false, K);
        for p in pats {
            let text = [b"xyzxyz".as_slice(), p].concat();
            assert!(
                m.candidate(&text, text.len() - 1, false)
                    && m.candidate(&text, text.len() - 1, true),
                "{p:?}"
            );
        }
    }

    #[test]
    fn the_byte_tables_are_the_nibble_masks() {
        let pats: [&[u8]; 3] = [b"abc", b"q", b"\x80\x91\xE4"];
        let m = Masks::new(&pats, false, K);
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
        assert!(Masks::new(&rare, false, K).expected_rate(&rare, false) < 0.05);
        let short: [&[u8]; 4] = [b"e", b"t", b"tree", b"street"];
        assert!(Masks::new(&short, false, 4).expected_rate(&short, false) > 0.1);
    }
}
