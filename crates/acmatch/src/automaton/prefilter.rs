//! A skip-ahead filter for the root state: shift-or over 2-grams (SOG).
//!
//! When the automaton is in its root state, no match is in progress, and the
//! next match can only start where the text begins like some pattern. The
//! filter reads the text two bytes at a time and knows, for each of the
//! first `window` positions of the patterns, which 2-grams occur there; a
//! shift-or register tracks whether the last `window - 1` 2-grams could be
//! the start of a pattern. Positions that cannot start a match are skipped
//! without touching the automaton. Candidates may be false positives; the
//! automaton then checks them as usual, so the filter never changes results.
//! (Salmela, Tarhio and Kytöjoki, "Multipattern string matching with
//! q-grams", 2006; daachorse uses the same filter.)
//!
//! The register takes eight 2-grams per step (see [`Prefilter::next`]), so
//! the filter reads about a byte per cycle, several times faster than a
//! table walk, which pays off when matches start rarely: a hundred Chinese
//! words over Chinese prose, where one position in sixty is a candidate.
//! It is built, for every layout, when the shortest pattern has two bytes
//! or more and the patterns' 2-grams leave most of the table empty (an
//! expected candidate rate, on random text, of 1/16 at most). Natural text
//! may still be full of candidates, so a [`Gate`] judges it as it runs: a
//! scan drops it for a while when its candidates come too close together
//! to be worth the detour (`automaton::scan` has the policy).

/// Longest window: the register holds `window - 1` 2-gram positions in a
/// table entry of 8 bits.
const MAX_WINDOW: usize = 9;
/// Shortest window: one 2-gram. Whether a short window pays depends on the
/// text (natural text is full of common 2-grams whatever random text
/// suggests), which the gate measures at run time.
const MIN_WINDOW: usize = 2;
/// Build only when random text would give a candidate this rarely or less.
const MAX_CANDIDATE_RATE: f64 = 1.0 / 16.0;
/// The gate judges the filter over windows of this many candidates.
const GATE_WINDOW: u32 = 16;
/// The filter pays when it skips this many bytes per candidate on average
/// over a window: each candidate costs a detour through the automaton and
/// a restart of the register.
const GATE_MIN_SKIP: usize = 16;
/// 2-grams the block loop reads at a time.
const BLOCK: usize = 8;

/// The filter; see the module documentation.
#[derive(Clone, Debug)]
pub(crate) struct Prefilter {
    /// For each 2-gram `a, b`, at index `a | b << 8`: bit `j` clear when the
    /// 2-gram occurs at position `j` of some pattern's first `window` bytes.
    /// Bits `window - 1` and up are always clear, so that the block loop
    /// can merge eight steps without one step's bits reaching another's
    /// test (see `next`).
    table: Box<[u8; 1 << 16]>,
    /// Bytes of each pattern the filter looks at: the shortest pattern's
    /// length, at most `MAX_WINDOW`.
    window: usize,
}

/// The table index of the 2-gram at `at`, `at + 1`.
#[inline(always)]
fn gram(bytes: &[u8], at: usize) -> usize {
    usize::from(bytes[at]) | usize::from(bytes[at + 1]) << 8
}

impl Prefilter {
    /// The filter for these patterns, if it is likely to pay.
    pub(crate) fn new(pats: &[&[u8]]) -> Option<Prefilter> {
        let window = pats.iter().map(|p| p.len()).min()?.min(MAX_WINDOW);
        if window < MIN_WINDOW {
            return None;
        }
        let used = (1u16 << (window - 1)) - 1;
        let mut table: Box<[u8; 1 << 16]> = vec![used as u8; 1 << 16]
            .into_boxed_slice()
            .try_into()
            .ok()?;
        // 2-grams allowed at each position, counted as they are allowed.
        let mut allowed = [0usize; MAX_WINDOW - 1];
        for p in pats {
            for (j, count) in allowed.iter_mut().enumerate().take(window - 1) {
                let entry = &mut table[gram(p, j)];
                *count += usize::from(*entry & (1 << j) != 0);
                *entry &= !(1 << j);
            }
        }
        // Expected candidate rate on random text: the product, over the
        // window's 2-gram positions, of the share of 2-grams allowed there.
        let rate: f64 = allowed[..window - 1]
            .iter()
            .map(|&a| a as f64 / (1 << 16) as f64)
            .product();
        (rate <= MAX_CANDIDATE_RATE).then_some(Prefilter { table, window })
    }

    /// Heap bytes owned.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.table.len()
    }

    /// The first position `>= pos` of `chunk` at which an occurrence of a
    /// pattern can start, counting every position whose window runs past
    /// the end of the chunk (the next chunk may complete it); `chunk.len()`
    /// when there is none.
    ///
    /// Shift-or: after the 2-gram at `g`, bit `i` of the register is clear
    /// when the 2-grams at `g - i ..= g` may be positions `0 ..= i` of a
    /// pattern; bit `window - 2` clear is a candidate starting at
    /// `g - (window - 2)`. Eight steps at a time: the register shifts by
    /// eight and takes the eight table entries, each shifted by the steps
    /// that follow it; step `k`'s test bit is then bit `window - 2 + 7 - k`,
    /// which no later step's entry reaches (their bits `window - 1` and up
    /// are clear), so the eight table loads are independent of each other
    /// and of the register.
    #[inline(always)]
    pub(crate) fn next(&self, chunk: &[u8], pos: usize) -> usize {
        let w = self.window;
        // Positions whose whole window is in the chunk end here.
        let last_full = chunk.len().saturating_sub(w - 1);
        if pos >= last_full {
            return pos.min(chunk.len());
        }
        let table = &*self.table;
        let test = w - 2;
        let mut d = u32::MAX;
        let mut g = pos;
        // Blocks of eight 2-grams, `g ..= g + 7`, read bytes up to `g + 8`.
        while let Some(bytes) = chunk.get(g..g + BLOCK + 1) {
            // The block's nine bytes: eight in a word, and the last.
            let word = u64::from_le_bytes(bytes[..BLOCK].try_into().unwrap_or([0; BLOCK]));
            let last = u64::from(bytes[BLOCK]);
            let mut x = 0u32;
            for k in 0..BLOCK {
                let pair = if k + 1 < BLOCK {
                    word >> (8 * k)
                } else {
                    word >> 56 | last << 8
                };
                x |= u32::from(table[(pair & 0xFFFF) as usize]) << (BLOCK - 1 - k);
            }
            d = d << BLOCK | x;
            let tests = !(d >> test) & 0xFF;
            if tests != 0 {
                // The first step with a candidate: the highest of the bits.
                let k = (tests as u8).leading_zeros() as usize;
                return (g + k - test).min(last_full);
            }
            g += BLOCK;
        }
        while g + 1 < chunk.len() {
            d = d << 1 | u32::from(table[gram(chunk, g)]);
            if d >> test & 1 == 0 {
                return (g - test).min(last_full);
            }
            g += 1;
        }
        last_full
    }
}

/// Whether skipping pays in one filtered phase of a scan: counts
/// candidates and the bytes skipped to reach them, window by window.
#[derive(Debug, Default)]
pub(crate) struct Gate {
    candidates: u32,
    skipped: usize,
}

impl Gate {
    /// Records a skip from `from` to `to`; returns whether the filter still
    /// pays: `false` at the end of a window of `GATE_WINDOW` candidates
    /// that skipped less than `GATE_MIN_SKIP` bytes each on average.
    #[inline(always)]
    pub(crate) fn record(&mut self, from: usize, to: usize) -> bool {
        self.candidates += 1;
        self.skipped += to - from;
        if self.candidates < GATE_WINDOW {
            return true;
        }
        let pays = self.skipped >= GATE_WINDOW as usize * GATE_MIN_SKIP;
        *self = Gate::default();
        pays
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every position where some pattern starts, by brute force.
    fn starts(pats: &[&[u8]], text: &[u8]) -> Vec<usize> {
        (0..text.len())
            .filter(|&i| pats.iter().any(|p| text[i..].starts_with(p)))
            .collect()
    }

    #[test]
    fn never_skips_an_occurrence() {
        let pats: [&[u8]; 3] = [b"needle", b"haystack", b"pins"];
        let f = Prefilter::new(&pats).expect("rare 2-grams: the filter is built");
        assert_eq!(f.window, 4);
        let text = b"in a haystack of hay, a pin and a needle; pineapple needles".as_slice();
        let mut pos = 0;
        let mut found = Vec::new();
        while pos < text.len() {
            pos = f.next(text, pos);
            if pos < text.len() {
                found.push(pos);
            }
            pos += 1;
        }
        for s in starts(&pats, text) {
            assert!(
                found.contains(&s),
                "start {s} skipped; candidates {found:?}"
            );
        }
        assert!(
            found.len() < text.len() / 3,
            "it skips most of the text: {found:?}"
        );
    }

    /// `next` by its definition, one position at a time.
    fn next_naive(f: &Prefilter, chunk: &[u8], pos: usize) -> usize {
        let last_full = chunk.len().saturating_sub(f.window - 1);
        (pos..chunk.len())
            .find(|&q| {
                q >= last_full
                    || (0..f.window - 1).all(|j| f.table[gram(chunk, q + j)] & (1 << j) == 0)
            })
            .unwrap_or(chunk.len())
    }

    #[test]
    fn the_block_loop_agrees_with_the_definition() {
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut rand = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let mut candidates = 0;
        for round in 0..3000 {
            // Small alphabets so that candidates occur; every window size.
            let sigma = 2 + rand(4) as u8;
            let len = 2 + round % 10;
            let pats: Vec<Vec<u8>> = (0..1 + rand(3))
                .map(|_| {
                    (0..len)
                        .map(|_| b'a' + rand(u64::from(sigma)) as u8)
                        .collect()
                })
                .collect();
            let refs: Vec<&[u8]> = pats.iter().map(|p| &p[..]).collect();
            let Some(f) = Prefilter::new(&refs) else {
                continue;
            };
            let text: Vec<u8> = (0..rand(70))
                .map(|_| b'a' + rand(u64::from(sigma) + 1) as u8)
                .collect();
            for pos in 0..=text.len() {
                let want = next_naive(&f, &text, pos);
                assert_eq!(f.next(&text, pos), want, "{pats:?} {text:?} from {pos}");
                candidates += usize::from(want + f.window <= text.len());
            }
        }
        assert!(
            candidates > 1000,
            "positive control: {candidates} candidates"
        );
    }

    #[test]
    fn the_tail_of_a_chunk_is_always_a_candidate() {
        let pats: [&[u8]; 1] = [b"abcdef"];
        let f = Prefilter::new(&pats).unwrap();
        // "abcd" at the end may continue in the next chunk.
        let text = b"zzzzzzzzzzabcd";
        assert_eq!(f.next(text, 0), text.len() - 5);
        assert_eq!(f.next(b"", 0), 0);
    }

    #[test]
    fn not_built_when_it_cannot_pay() {
        assert!(
            Prefilter::new(&[b"abcd", b"b"]).is_none(),
            "a one-byte pattern"
        );
        assert!(Prefilter::new(&[b"abcd", b"bc"]).is_some());
        // Every 2-gram allowed at position 0.
        let all: Vec<[u8; 4]> = (0..=255u8)
            .flat_map(|a| (0..=255u8).map(move |b| [a, b, a, b]))
            .collect();
        let pats: Vec<&[u8]> = all.iter().map(|p| &p[..]).collect();
        assert!(Prefilter::new(&pats).is_none(), "a saturated table");
    }

    #[test]
    fn the_gate_closes_when_candidates_are_dense() {
        let mut g = Gate::default();
        let pays: Vec<bool> = (0..GATE_WINDOW as usize)
            .map(|i| g.record(i, i + 1))
            .collect();
        assert!(
            pays[..pays.len() - 1].iter().all(|&p| p),
            "no verdict before"
        );
        assert!(!pays[pays.len() - 1]);
        let mut g = Gate::default();
        assert!((0..100).all(|i| g.record(i * 100, i * 100 + 50)));
        // Windows are judged on their own: a good one, then a bad one.
        let mut g = Gate::default();
        assert!((0..GATE_WINDOW).all(|_| g.record(0, 100)));
        let bad = (0..GATE_WINDOW).map(|_| g.record(0, 1)).collect::<Vec<_>>();
        assert_eq!(bad.iter().filter(|&&p| !p).count(), 1);
    }
}
