//! The generated workloads, `synthetic-en` and `synthetic-zh`.
//!
//! Both are built by a seeded generator written here, so the bytes can never
//! change with a dependency's version or the machine: a small PRNG
//! ([`SplitMix64`]) with fixed seeds, integer arithmetic only, and ordered
//! collections (`BTreeSet`, vectors) wherever iteration order matters. A test
//! pins an FNV-1a checksum of each workload.
//!
//! What they imitate is what a matcher sees in the original benchmark: a
//! dictionary whose words nest inside one another (short words inside long
//! ones, stems inside inflected forms), and a text whose word frequencies are
//! skewed (Zipf-like), so that matches are dense, overlap, and several end at
//! the same position. See each generator's doc for the measured figures.

mod en;
mod zh;

pub(crate) use en::english;
pub(crate) use zh::chinese;

/// SplitMix64 (Steele, Lea and Flood, 2014): 64 bits of state, good enough
/// statistics for a test-data generator, and a few lines we own, so its
/// output is fixed forever.
#[derive(Clone, Debug)]
pub(crate) struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`), by multiply-and-shift. The bias is at
    /// most `n / 2^64`, irrelevant here, and there is no rejection loop.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        debug_assert!(n > 0);
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// True with probability `num / den`.
    pub(crate) fn chance(&mut self, num: usize, den: usize) -> bool {
        self.below(den) < num
    }

    /// An element of `items` chosen uniformly.
    pub(crate) fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

/// Samples ranks `0..n` with weight proportional to `1 / (rank + offset)`: a
/// Zipf distribution of exponent 1, in integers.
pub(crate) struct Zipf {
    // cumulative[i] = sum of the weights of ranks 0..=i.
    cumulative: Vec<u64>,
}

impl Zipf {
    /// `offset` flattens the head: with 1, rank 0 is twice as likely as
    /// rank 1; with 10, only 10% more.
    pub(crate) fn new(n: usize, offset: u64) -> Zipf {
        let mut total = 0u64;
        let cumulative = (0..n as u64)
            .map(|rank| {
                total += (1u64 << 40) / (rank + offset);
                total
            })
            .collect();
        Zipf { cumulative }
    }

    pub(crate) fn sample(&self, rng: &mut SplitMix64) -> usize {
        let total = *self.cumulative.last().expect("a non-empty distribution");
        let x = ((u128::from(rng.next_u64()) * u128::from(total)) >> 64) as u64;
        // The first rank whose cumulative weight exceeds x.
        self.cumulative.partition_point(|&c| c <= x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_reference_values() {
        // The first outputs for seed 1234567, from the reference C code.
        let mut rng = SplitMix64::new(1234567);
        let got: Vec<u64> = (0..3).map(|_| rng.next_u64()).collect();
        assert_eq!(
            got,
            [
                6457827717110365317,
                3203168211198807973,
                9817491932198370423
            ]
        );
    }

    #[test]
    fn below_and_zipf_stay_in_range() {
        let mut rng = SplitMix64::new(7);
        for n in [1, 2, 3, 1000] {
            assert!((0..1000).all(|_| rng.below(n) < n));
        }
        let zipf = Zipf::new(50, 2);
        let mut counts = [0usize; 50];
        for _ in 0..100_000 {
            counts[zipf.sample(&mut rng)] += 1;
        }
        assert!(counts[0] > counts[1] && counts[1] > counts[10] && counts[10] > counts[49]);
        assert!(counts[49] > 0);
    }
}
