//! The sampling heap profiler as this program's global allocator, over an
//! inner allocator that watches it: eight threads allocate at once, and the
//! estimates per stack, the in-use figures, the frames removed from the top
//! of the stacks and the sampler's own allocations (none) are checked.
//!
//! One test function: the sampler's tables are per process, and other
//! tests running beside it would add their stacks (harmless, but the
//! per-thread counts below want a quiet process).
//!
//! Tolerances: an allocation of `s` bytes is sampled with probability
//! `p = 1 - exp(-s/rate)` and counts `1/p`; the estimate of `n` such
//! allocations has standard deviation `sqrt(n (1-p)/p)`, and each figure
//! must be within 4 of them (see `sampler_tests.rs` in the library).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

use escape_lab::__private::pprof::encode::{Profile, ProfileIndex};
use escape_lab::__private::pprof::symbolize::Symbolizer;
use escape_lab::live::report::{self, HeapProfileOptions};
use escape_lab::live::{sampler, SamplingAlloc};

/// Passes everything to `System`, counting this thread's calls and, across
/// threads, every call made while the sampler is in its sampled path
/// (which would be the sampler allocating).
struct Watch;

static FROM_SAMPLER: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static CALLS: Cell<u64> = const { Cell::new(0) };
}

impl Watch {
    fn note() {
        CALLS.with(|c| c.set(c.get() + 1));
        if sampler::in_sampled_path() {
            FROM_SAMPLER.fetch_add(1, Ordering::Relaxed);
        }
    }
}

// SAFETY: forwards to `System` unchanged; the counting touches a
// const thread-local and an atomic.
unsafe impl GlobalAlloc for Watch {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        Watch::note();
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        Watch::note();
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        Watch::note();
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        Watch::note();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: SamplingAlloc<Watch> = SamplingAlloc::new(Watch);

const RATE: u64 = 4096;
const THREADS: u64 = 8;
const SMALL: u64 = 50_000; // per thread, 24 bytes each, freed at once
const KEPT: u64 = 2_000; // per thread, 1000 bytes each, kept

#[inline(never)]
fn live_small_boxes(n: u64) {
    for i in 0..n {
        std::hint::black_box(Box::new([i; 3]));
    }
}

#[inline(never)]
#[allow(clippy::vec_box)] // one allocation per block is the point
fn live_kept_blocks(n: u64) -> Vec<Box<[u8; 1000]>> {
    let mut v = Vec::with_capacity(n as usize);
    for i in 0..n {
        v.push(Box::new([i as u8; 1000]));
    }
    v
}

#[inline(never)]
fn live_growing_vec(n: u64) -> usize {
    // Reallocations: each growth is a free of the old buffer and an
    // allocation of the new size.
    let mut v: Vec<u64> = Vec::new();
    for i in 0..n {
        v.push(i);
    }
    std::hint::black_box(v.len())
}

/// Estimated (alloc_objects, alloc_space, inuse_objects, inuse_space) of
/// the stacks through `function`, and the leaf function of each.
fn figures(profile: &Profile, function: &str) -> ([f64; 4], Vec<String>) {
    let ix = ProfileIndex::new(profile);
    let mut out = [0.0; 4];
    let mut leaves = Vec::new();
    for s in &profile.sample {
        let names: Vec<&str> = s
            .location_id
            .iter()
            .filter_map(|&id| ix.location(id))
            .flat_map(|l| l.line.iter())
            .filter_map(|line| ix.function(line.function_id))
            .map(|f| ix.str(f.name))
            .collect();
        if names.iter().any(|n| n.ends_with(function)) {
            for (o, v) in out.iter_mut().zip(&s.value) {
                *o += *v as f64;
            }
            leaves.push(names.first().map_or(String::new(), |n| n.to_string()));
        }
    }
    (out, leaves)
}

fn p(size: u64) -> f64 {
    1.0 - (-(size as f64) / RATE as f64).exp()
}

fn within(what: &str, estimate: f64, exact: f64, n: u64, size: u64) {
    let p = p(size);
    let sigma = (n as f64 * (1.0 - p) / p).sqrt()
        * if what.contains("bytes") {
            size as f64
        } else {
            1.0
        };
    let off = (estimate - exact).abs();
    assert!(
        off <= 4.0 * sigma,
        "{what}: estimate {estimate}, exact {exact}, off by {:.2} sigma (sigma {sigma:.1})",
        off / sigma
    );
}

fn profile() -> Profile {
    report::heap_profile(
        &sampler::snapshot(),
        &mut Symbolizer::new(),
        &HeapProfileOptions::default(),
    )
}

#[test]
fn samples_many_threads_without_allocating_itself() {
    sampler::set_rate(RATE);
    // Each request reaches the inner allocator exactly once.
    let before = CALLS.with(Cell::get);
    let boxes: Vec<Box<u64>> = (0..1000).map(Box::new).collect();
    drop(boxes);
    assert_eq!(CALLS.with(Cell::get) - before, 2002);

    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            std::thread::spawn(|| {
                // The first countdown was drawn at the default rate: one
                // sample's worth of warm-up at 4 KiB.
                live_growing_vec(100_000);
                live_small_boxes(SMALL);
                (live_kept_blocks(KEPT), live_growing_vec(10_000))
            })
        })
        .collect();
    let kept: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();

    let stats = sampler::stats();
    assert_eq!(
        FROM_SAMPLER.load(Ordering::Relaxed),
        0,
        "the sampler allocated"
    );
    assert_eq!(stats.reentrant, 0, "{stats:?}");
    assert_eq!(stats.stack_overflow + stats.untracked, 0, "{stats:?}");
    assert!(stats.samples > 1000, "{stats:?}");

    let prof = profile();
    let (small, leaves) = figures(&prof, "live_small_boxes");
    within(
        "small objects",
        small[0],
        (THREADS * SMALL) as f64,
        THREADS * SMALL,
        24,
    );
    within(
        "small bytes",
        small[1],
        (THREADS * SMALL * 24) as f64,
        THREADS * SMALL,
        24,
    );
    assert!(
        small[2].abs() < 1.0 && small[3].abs() < 24.0,
        "all freed: {small:?}"
    );
    // The sampler's and the allocator's frames are gone from the top.
    for leaf in &leaves {
        assert!(
            !leaf.starts_with("escape_lab::")
                && !leaf.starts_with("backtrace::")
                && !leaf.contains("GlobalAlloc")
                && !leaf.contains("__rust"),
            "leaf {leaf}"
        );
    }

    let (k, _) = figures(&prof, "live_kept_blocks");
    // Boxes of 1000 bytes, and one Vec of 16,000 bytes per thread (always
    // sampled at this rate: p > 0.98).
    let n = THREADS * KEPT;
    within("kept objects", k[2] - THREADS as f64, n as f64, n, 1000);
    within(
        "kept bytes",
        k[3] - (THREADS * KEPT * 8) as f64,
        (n * 1000) as f64,
        n,
        1000,
    );
    assert!((k[0] - k[2]).abs() < 1.0, "nothing freed yet: {k:?}");

    drop(kept);
    let (k, _) = figures(&profile(), "live_kept_blocks");
    assert!(k[2].abs() < 1.0 && k[3].abs() < 1000.0, "all freed: {k:?}");
    assert!(k[0] > 0.0, "{k:?}");
}
