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
//! It pays only when candidates are rare: long patterns over ordinary text.
//! It is built only when the patterns' 2-grams leave most of the table
//! empty (an expected candidate rate, on random text, of 1/16 at most), and
//! a scan stops using it when the candidates it finds are too close
//! together to be worth the detour.

/// Longest window: a `u8` register holds `window - 1` 2-gram positions.
const MAX_WINDOW: usize = 9;
/// Shortest window worth filtering with: with patterns of two or three
/// bytes, natural text is full of candidates whatever random text suggests
/// (measured: 10,000 dictionary words, shortest two letters, over English
/// text ran 11% slower with the filter).
const MIN_WINDOW: usize = 4;
/// Build only when random text would give a candidate this rarely or less.
const MAX_CANDIDATE_RATE: f64 = 1.0 / 16.0;
/// After this many candidates, a scan checks whether the filter pays.
const GATE_AFTER: u32 = 32;
/// It pays when it skips this many bytes per candidate on average: each
/// candidate costs a detour through the automaton and a restart of the
/// register.
const GATE_MIN_SKIP: usize = 32;

/// The filter; see the module documentation.
#[derive(Clone, Debug)]
pub(crate) struct Prefilter {
    /// For each 2-gram, bit `j` clear when the 2-gram occurs at position
    /// `j` of some pattern's first `window` bytes.
    table: Box<[u8]>,
    /// Bytes of each pattern the filter looks at: the shortest pattern's
    /// length, at most `MAX_WINDOW`.
    window: usize,
}

impl Prefilter {
    /// The filter for these patterns, if it is likely to pay.
    pub(crate) fn new(pats: &[&[u8]]) -> Option<Prefilter> {
        let window = pats.iter().map(|p| p.len()).min()?.min(MAX_WINDOW);
        if window < MIN_WINDOW {
            return None;
        }
        let mut table = vec![u8::MAX; 1 << 16].into_boxed_slice();
        for p in pats {
            for j in 0..window - 1 {
                let gram = usize::from(p[j]) << 8 | usize::from(p[j + 1]);
                table[gram] &= !(1 << j);
            }
        }
        // Expected candidate rate on random text: the product, over the
        // window's 2-gram positions, of the share of 2-grams allowed there.
        let rate: f64 = (0..window - 1)
            .map(|j| {
                let allowed = table.iter().filter(|&&t| t & (1 << j) == 0).count();
                allowed as f64 / (1 << 16) as f64
            })
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
    #[inline(always)]
    pub(crate) fn next(&self, chunk: &[u8], pos: usize) -> usize {
        let hit_bit = 1u8 << (self.window - 2);
        // Positions whose whole window is in the chunk end here.
        let last_full = chunk.len().saturating_sub(self.window - 1);
        if pos >= last_full {
            return pos.min(chunk.len());
        }
        let mut e = u8::MAX;
        let mut prev = chunk[pos];
        for (i, &c) in chunk.iter().enumerate().skip(pos + 1) {
            e = (e << 1) | self.table[usize::from(prev) << 8 | usize::from(c)];
            if e & hit_bit == 0 {
                // The last `window - 1` 2-grams can begin a pattern: the
                // window started `window - 1` bytes before `i`.
                return i + 1 - self.window;
            }
            prev = c;
        }
        last_full
    }
}

/// Whether skipping pays in one scan: counts candidates and the bytes
/// skipped to reach them.
#[derive(Debug, Default)]
pub(crate) struct Gate {
    candidates: u32,
    skipped: usize,
    off: bool,
}

impl Gate {
    /// Whether to use the filter now.
    #[inline(always)]
    pub(crate) fn on(&self) -> bool {
        !self.off
    }

    /// Records a skip from `from` to `to`.
    #[inline(always)]
    pub(crate) fn record(&mut self, from: usize, to: usize) {
        self.candidates += 1;
        self.skipped += to - from;
        if self.candidates >= GATE_AFTER && self.skipped < self.candidates as usize * GATE_MIN_SKIP
        {
            self.off = true;
        }
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
            Prefilter::new(&[b"abcd", b"bcd"]).is_none(),
            "a three-byte pattern"
        );
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
        for i in 0..GATE_AFTER as usize {
            g.record(i, i + 1);
        }
        assert!(!g.on());
        let mut g = Gate::default();
        for i in 0..100 {
            g.record(i * 100, i * 100 + 50);
        }
        assert!(g.on());
    }
}
