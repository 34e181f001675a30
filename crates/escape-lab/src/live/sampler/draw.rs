//! The sampler's random countdown (when an allocation is sampled, and
//! what it stands for) and the hashes of stacks and block addresses.
//! Nothing here allocates.

use super::*;

/// The per-thread half of the scheme: the countdown and the random state.
/// `countdown` and `rng` are the thread's cells (thread-locals in the
/// process, plain cells in tests). Returns the weight of the allocation
/// when it is sampled. Called when `size >= countdown`.
pub(crate) fn decide(rate: u64, size: u64, countdown: &Cell<u64>, rng: &Cell<u64>) -> Option<f64> {
    if rng.get() == 0 {
        // First allocation on this thread: seed, draw, and decide afresh.
        rng.set(seed());
        let c = draw(rate, rng);
        if size < c {
            countdown.set(c - size);
            return None;
        }
    }
    if rate == 0 {
        countdown.set(OFF_RECHECK_BYTES);
        return None;
    }
    countdown.set(draw(rate, rng));
    Some(weight(rate, size))
}

/// How many allocations one sampled allocation of `size` bytes stands for:
/// `1 / (1 - exp(-size / rate))`, 1 when every allocation is sampled.
#[must_use]
pub(crate) fn weight(rate: u64, size: u64) -> f64 {
    if rate <= 1 {
        return 1.0;
    }
    let p = -(-(size as f64) / rate as f64).exp_m1();
    if p > 0.0 {
        1.0 / p
    } else {
        // size 0: never sampled unless the countdown is 0; count it once.
        1.0
    }
}

/// Bytes until the next sample: `ceil(Exp(mean rate))`, so that an
/// allocation of `size` bytes is sampled (countdown ≤ size) with
/// probability exactly `1 - exp(-size / rate)`. 0 (sample everything) for
/// rate 1, [`OFF_RECHECK_BYTES`] for rate 0.
pub(super) fn draw(rate: u64, rng: &Cell<u64>) -> u64 {
    match rate {
        0 => OFF_RECHECK_BYTES,
        1 => 0,
        _ => {
            // Uniform in (0, 1]: never ln(0).
            let u = ((next_u64(rng) >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64);
            let x = -u.ln() * rate as f64;
            x.ceil() as u64
        }
    }
}

/// splitmix64.
pub(super) fn next_u64(rng: &Cell<u64>) -> u64 {
    let s = rng.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
    rng.set(if s == 0 { 1 } else { s });
    let mut z = s;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A seed for a new thread: a global counter mixed with the address of this
/// thread's locals (different per thread and, with ASLR, per run).
pub(super) fn seed() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0x2545_F491_4F6C_DD1D);
    let n = NEXT.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
    let here = RNG.with(|c| c as *const Cell<u64> as u64);
    let s = n ^ here.rotate_left(29);
    if s == 0 {
        1
    } else {
        s
    }
}

/// murmur3's 64-bit finaliser: every input bit moves every output bit.
pub(super) fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

/// A hash of a stack, never 0.
pub(super) fn hash_frames(frames: &[usize]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ frames.len() as u64;
    for &f in frames {
        h = mix(h ^ f as u64);
    }
    h | 1
}

/// The hash of a block address: its high bits folded into its low ones,
/// then Fibonacci hashing (one multiply, the top bits kept). The fold
/// matters: malloc's blocks of one size sit at a fixed stride in per-thread
/// arenas whose bases differ by multiples of 64 MiB, and plain Fibonacci
/// hashing put eight threads' blocks on the same few slots (probe runs of
/// 20 and more where this gives 3 or 4). The live table's home slot is the
/// top 15 bits, the filter's bucket the top 13 (a bucket covers four home
/// slots).
#[inline(always)]
pub(super) fn hash_ptr(ptr: usize) -> u64 {
    let p = ptr as u64;
    (p ^ (p >> 21) ^ (p >> 37)).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

#[inline(always)]
pub(super) fn filter_bucket(h: u64) -> usize {
    (h >> FILTER_SHIFT) as usize
}

#[inline(always)]
pub(super) fn live_home(h: u64) -> usize {
    (h >> (64 - LIVE_SLOTS.trailing_zeros())) as usize
}
