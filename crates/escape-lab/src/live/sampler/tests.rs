//! The sampler's arithmetic and tables, driven directly (no global
//! allocator): a simulated thread with its own countdown, fake block
//! addresses, fixed seeds, so every figure is deterministic.
//!
//! Tolerances are derived, not guessed: an allocation of `s` bytes is
//! sampled with probability `p = 1 - exp(-s/rate)` and then counts `1/p`
//! objects and `s/p` bytes, so the estimate of a stack's objects has
//! variance `Σ (1-p)/p` and of its bytes `Σ s²(1-p)/p` over its
//! allocations. Each figure must lie within 4 standard deviations of the
//! exact total (a correct sampler misses that with probability below
//! 1e-4 per figure; with the fixed seeds here the result is the same on
//! every run). The bias test averages many seeds, so its standard deviation
//! shrinks with their square root and a bias of a few percent (such as
//! sampling with probability `1 - exp(-(s+1)/rate)` instead) stands out.

use std::cell::Cell;

use super::*;

/// One simulated thread: what `after_alloc` does, against given tables.
struct Thread {
    countdown: Cell<u64>,
    rng: Cell<u64>,
}

impl Thread {
    fn new(rate: u64, seed: u64) -> Thread {
        let rng = Cell::new(seed);
        let countdown = Cell::new(draw(rate, &rng));
        Thread { countdown, rng }
    }

    /// The weight when sampled.
    fn decide(&self, rate: u64, size: u64) -> Option<f64> {
        let left = self.countdown.get();
        if size < left {
            self.countdown.set(left - size);
            return None;
        }
        decide(rate, size, &self.countdown, &self.rng)
    }

    fn alloc(&self, t: &Tables, ptr: usize, size: u64, frames: &[usize]) -> Option<f64> {
        let w = self.decide(t.rate(), size)?;
        t.record(ptr, size, w, frames, false);
        Some(w)
    }
}

fn p(rate: u64, size: u64) -> f64 {
    1.0 - (-(size as f64) / rate as f64).exp()
}

/// Standard deviations of the estimates of objects and bytes for these
/// allocation sizes.
fn sigma(rate: u64, sizes: impl IntoIterator<Item = u64>) -> (f64, f64) {
    let (mut objects, mut bytes) = (0.0, 0.0);
    for s in sizes {
        let p = p(rate, s);
        objects += (1.0 - p) / p;
        bytes += (s as f64).powi(2) * (1.0 - p) / p;
    }
    (objects.sqrt(), bytes.sqrt())
}

fn within(what: &str, estimate: f64, exact: f64, sigma: f64, k: f64) {
    let off = (estimate - exact).abs();
    assert!(
        off <= k * sigma,
        "{what}: estimate {estimate:.1}, exact {exact}, off by {off:.1} = {:.2} sigma (sigma {sigma:.1}, allowed {k})",
        off / sigma
    );
}

#[test]
fn weights_follow_go_scale_heap_sample() {
    // Go: scale = 1 / (1 - exp(-size/rate)).
    let w = weight(512 * 1024, 24);
    assert!((w - 1.0 / p(512 * 1024, 24)).abs() < 1e-6 * w, "{w}");
    assert!((w - 21_845.8).abs() < 1.0, "{w}");
    // A block far above the rate is always sampled and stands for itself.
    assert!((weight(4096, 1 << 20) - 1.0).abs() < 1e-12);
    // Rate 1 samples everything, each for itself (Go's special case).
    assert_eq!(weight(1, 24), 1.0);
}

#[test]
fn countdowns_are_exponential_with_mean_rate() {
    let rate = 4096;
    let rng = Cell::new(42);
    let n = 200_000;
    let draws: Vec<u64> = (0..n).map(|_| draw(rate, &rng)).collect();
    let mean = draws.iter().sum::<u64>() as f64 / n as f64;
    // Exp(rate) has standard deviation `rate`; the mean of n draws rate/√n.
    within(
        "mean countdown",
        mean,
        rate as f64,
        rate as f64 / (n as f64).sqrt(),
        4.0,
    );
    // P(countdown ≤ s) = 1 - exp(-s/rate): the sampling probability.
    for s in [24u64, 1000, 4096, 20_000] {
        let hits = draws.iter().filter(|&&d| d <= s).count() as f64;
        let q = p(rate, s);
        let sd = (n as f64 * q * (1.0 - q)).sqrt();
        within(&format!("P(sample {s} B)"), hits, n as f64 * q, sd, 4.0);
    }
}

#[test]
fn estimates_are_unbiased_over_many_seeds() {
    // 256 independent runs of a known workload: 20,000 allocations of 16
    // bytes and 5,000 of sizes cycling through 100, 1000, 10000 bytes.
    let rate = 4096;
    let seeds = 256;
    let sizes: Vec<u64> = std::iter::repeat_n(16, 20_000)
        .chain([100u64, 1000, 10_000].into_iter().cycle().take(5_000))
        .collect();
    let exact_objects = sizes.len() as f64;
    let exact_bytes = sizes.iter().sum::<u64>() as f64;
    let (so, sb) = sigma(rate, sizes.iter().copied());
    let (mut objects, mut bytes) = (0.0, 0.0);
    for seed in 1..=seeds {
        let t = Thread::new(rate, seed * 7919);
        for &s in &sizes {
            if let Some(w) = t.decide(rate, s) {
                objects += w;
                bytes += w * s as f64;
            }
        }
    }
    let n = seeds as f64;
    // The mean of `seeds` estimates has standard deviation sigma/√seeds:
    // 0.57% of the objects here, so any bias above 2.3% fails (4 sigma).
    within(
        "mean objects",
        objects / n,
        exact_objects,
        so / n.sqrt(),
        4.0,
    );
    within("mean bytes", bytes / n, exact_bytes, sb / n.sqrt(), 4.0);
}

#[test]
fn tables_keep_per_stack_totals_and_in_use() {
    let rate = 4096;
    let t = Tables::boxed(rate);
    let thread = Thread::new(rate, 0x5eed);
    // Three stacks (innermost first), allocations interleaved:
    // A: 100,000 blocks of 24 bytes, each freed at once;
    // B: 20,000 blocks of 40, 4000 or 70,000 bytes, all kept;
    // C: 50,000 blocks growing like a Vec's buffer (32 B to 16 KiB), freed.
    let a = [0x1000, 0x2000, 0x3000];
    let b = [0x1100, 0x2100];
    let c = [0x1200, 0x2200, 0x3200, 0x4200];
    let mut next_ptr = 0x10_0000usize;
    let mut sizes = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..170_000u64 {
        let (stack, size, which): (&[usize], u64, char) = match i % 17 {
            0..=9 if sizes.0.len() < 100_000 => (&a, 24, 'a'),
            10 | 11 if sizes.1.len() < 20_000 => (&b, [40, 4000, 70_000][(i % 3) as usize], 'b'),
            _ if sizes.2.len() < 50_000 => (&c, 32 << (i % 10), 'c'),
            _ if sizes.0.len() < 100_000 => (&a, 24, 'a'),
            _ => (&b, [40, 4000, 70_000][(i % 3) as usize], 'b'),
        };
        match which {
            'a' => sizes.0.push(size),
            'b' => sizes.1.push(size),
            _ => sizes.2.push(size),
        }
        next_ptr += 64;
        thread.alloc(&t, next_ptr, size, stack);
        // A's and C's blocks die young (as a call's temporaries do); the
        // table must find the sampled ones among all the frees.
        if which != 'b' {
            t.free(next_ptr, size);
        }
    }
    let snap = t.snapshot();
    assert_eq!(snap.stats.untracked, 0, "{:?}", snap.stats);
    assert_eq!(snap.stats.stack_overflow, 0);
    assert_eq!(snap.stacks.len(), 3);
    let find = |frames: &[usize]| {
        let f: Vec<u64> = frames.iter().map(|&x| x as u64).collect();
        snap.stacks.iter().find(|s| s.frames == f).unwrap().clone()
    };
    for (name, frames, sizes, kept) in [
        ("A", &a[..], &sizes.0, false),
        ("B", &b[..], &sizes.1, true),
        ("C", &c[..], &sizes.2, false),
    ] {
        let s = find(frames);
        let (so, sb) = sigma(rate, sizes.iter().copied());
        let objects = sizes.len() as f64;
        let bytes = sizes.iter().sum::<u64>() as f64;
        within(
            &format!("{name} objects"),
            s.alloc_objects,
            objects,
            so,
            4.0,
        );
        within(&format!("{name} bytes"), s.alloc_bytes, bytes, sb, 4.0);
        if kept {
            // Nothing freed: in use is what was allocated.
            assert_eq!(s.free_objects, 0.0);
            assert_eq!(s.inuse_bytes(), s.alloc_bytes);
        } else {
            // Every sampled block freed: in use is zero (up to rounding).
            assert!(s.inuse_objects().abs() < 1e-6 * s.alloc_objects, "{s:?}");
            assert!(s.inuse_bytes().abs() < 1e-6 * s.alloc_bytes, "{s:?}");
        }
    }
    // Live: exactly B's sampled blocks remain remembered.
    assert_eq!(snap.stats.live, find(&b).samples);
    let [ao, ab, fo, fb] = snap.totals();
    assert!(ao > fo && ab > fb);
}

#[test]
fn a_full_stack_table_counts_in_the_overflow_bucket() {
    let t = Tables::boxed(1); // every allocation sampled, weight 1
    let thread = Thread::new(1, 9);
    let extra = 100;
    for i in 0..STACK_SLOTS + extra {
        let frames = [0x40_0000 + i * 16, 0x50_0000];
        thread.alloc(&t, 0x100_0000 + i * 64, 8, &frames);
    }
    let snap = t.snapshot();
    // The table fills (nearly: the last stacks may find no free slot
    // within STACK_PROBES of their hash), then the overflow bucket counts.
    let stacks = snap.stats.stacks;
    assert!(
        stacks <= STACK_SLOTS as u64 && stacks >= STACK_SLOTS as u64 * 9 / 10,
        "{stacks}"
    );
    let overflowed = (STACK_SLOTS + extra) as u64 - stacks;
    assert_eq!(snap.stats.stack_overflow, overflowed);
    assert_eq!(snap.stacks.len() as u64, stacks + 1);
    let overflow = snap.stacks.last().unwrap();
    assert!(overflow.overflow && overflow.frames.is_empty());
    assert_eq!(overflow.alloc_objects, overflowed as f64);
    // Nothing lost: every allocation is counted somewhere.
    assert_eq!(snap.totals()[0], (STACK_SLOTS + extra) as f64);
}

#[test]
fn a_full_live_table_leaves_blocks_out_of_in_use() {
    let t = Tables::boxed(1);
    let thread = Thread::new(1, 11);
    let n = LIVE_SLOTS + 1000;
    for i in 0..n {
        thread.alloc(&t, 0x100_0000 + i * 64, 8, &[0x77]);
    }
    let snap = t.snapshot();
    let s = &snap.stacks[0];
    assert_eq!(s.alloc_objects, n as f64);
    // Those not remembered count as freed at once: in use is exactly the
    // remembered ones, and freeing everything brings it to zero, never
    // below.
    assert!(snap.stats.untracked > 0);
    assert_eq!(s.inuse_objects(), snap.stats.live as f64);
    assert_eq!(snap.stats.live + snap.stats.untracked, n as u64);
    for i in 0..n {
        t.free(0x100_0000 + i * 64, 8);
    }
    let after = t.snapshot();
    assert_eq!(after.stacks[0].inuse_objects(), 0.0);
    assert_eq!(after.stats.live, 0);
    // The filter is back to all zeros: frees are one load again.
    assert!(t.filter.iter().all(|c| c.load(Ordering::Relaxed) == 0));
}

#[test]
fn strided_blocks_of_many_arenas_spread_over_the_live_table() {
    // What malloc hands eight threads asking for 1000-byte blocks: a
    // stride of 1008 bytes in arenas whose bases differ by 64 MiB. Every
    // fourth block sampled, as at a 4 KiB rate: 4,000 blocks, 12% of the
    // slots. Plain Fibonacci hashing sent them to a fifth of the homes,
    // with probe runs past 20; none may fail to find a slot.
    let t = Tables::boxed(1);
    let thread = Thread::new(1, 13);
    for arena in 0..8usize {
        let base = 0x7f67_5c00_4b30 + arena * (64 << 20);
        for i in (0..2000usize).step_by(4) {
            thread.alloc(&t, base + i * 1008, 1000, &[0x99]);
        }
    }
    let stats = t.stats();
    assert_eq!((stats.live, stats.untracked), (4000, 0), "{stats:?}");
    let mut run = 0;
    let mut longest = 0;
    for slot in &t.live_ptr {
        run = if slot.load(Ordering::Relaxed) > TOMBSTONE {
            run + 1
        } else {
            0
        };
        longest = longest.max(run);
    }
    assert!(
        longest < LIVE_PROBES / 2,
        "a run of {longest} occupied slots"
    );
}

#[test]
fn rate_zero_samples_nothing_and_rate_one_everything() {
    let t = Tables::boxed(0);
    let thread = Thread::new(0, 3);
    for i in 0..10_000 {
        thread.alloc(&t, 0x1000 + i * 64, 1 << 12, &[1]);
    }
    assert_eq!(t.stats().samples, 0);
    let t = Tables::boxed(1);
    let thread = Thread::new(1, 3);
    for i in 0..1000 {
        thread.alloc(&t, 0x1000 + i * 64, 1 + i as u64 % 100, &[1]);
    }
    let snap = t.snapshot();
    assert_eq!(snap.stats.samples, 1000);
    assert_eq!(snap.stacks[0].alloc_objects, 1000.0);
    assert_eq!(
        snap.stacks[0].alloc_bytes,
        (0..1000u64).map(|i| 1 + i % 100).sum::<u64>() as f64
    );
}

#[test]
fn deltas_subtract_and_drop_quiet_stacks() {
    let t = Tables::boxed(1);
    let thread = Thread::new(1, 5);
    thread.alloc(&t, 0x1000, 10, &[1, 2]);
    thread.alloc(&t, 0x2000, 10, &[3, 4]);
    let before = t.snapshot();
    thread.alloc(&t, 0x3000, 30, &[1, 2]);
    t.free(0x2000, 10);
    let d = t.snapshot().since(&before);
    assert_eq!(d.stats.samples, 1);
    assert_eq!(d.stacks.len(), 2);
    let s12 = d.stacks.iter().find(|s| s.frames == [1, 2]).unwrap();
    assert_eq!(
        (s12.samples, s12.alloc_bytes, s12.inuse_bytes()),
        (1, 30.0, 30.0)
    );
    // [3, 4] allocated nothing since, but freed its block: in use fell.
    let s34 = d.stacks.iter().find(|s| s.frames == [3, 4]).unwrap();
    assert_eq!((s34.alloc_objects, s34.inuse_bytes()), (0.0, -10.0));
}

#[test]
fn memory_is_fixed_and_small() {
    // The whole sampler: stacks, live blocks, filter, counters.
    // (Checked at compile time; the bound is what the docs promise.)
    const { assert!(TABLE_BYTES < 4 << 20) };
    const { assert!(TABLE_BYTES > STACK_SLOTS * MAX_DEPTH * 8) };
}
