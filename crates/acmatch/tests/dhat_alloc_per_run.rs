//! Zero allocations per call, checked with dhat's testing mode in the style
//! of Go's `testing.AllocsPerRun`: `fixed`, `reuse` and `callback` allocate
//! nothing on a real dictionary (the 40,567-pattern `synthetic-en`, over its
//! first 128 KiB in 2,048-byte calls), and `boxed`, the positive control,
//! allocates exactly one `Box` per hit and per token plus its two `Vec`s'
//! growth.
//!
//! dhat allows one profiler per process (a second `Profiler` panics), so
//! this file holds one heap test.

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

use acmatch::{chunks, find_all, Automaton, Cursor, Matcher, Variant, DEFAULT_CHUNK};

/// Allocations of pushing `n` pointers into an empty `Vec` one by one.
fn vec_growth(n: u64) -> u64 {
    let (mut cap, mut allocs) = (0u64, 0u64);
    for len in 0..n {
        if len == cap {
            cap = (cap * 2).max(4);
            allocs += 1;
        }
    }
    allocs
}

#[test]
fn allocations_per_run() {
    let w = workload::load_builtin(workload::Builtin::SyntheticEn, None).unwrap();
    let text = &w.haystack[..128 * 1024];
    let ac = Automaton::new(&w.patterns).unwrap();

    // boxed's exact count, from the matches alone.
    let all = find_all(&ac, text);
    let mut boxed_expected = 0u64;
    let mut start = 0;
    for piece in chunks(text, DEFAULT_CHUNK) {
        let end = start + piece.len();
        let mut ends: Vec<usize> = all
            .iter()
            .filter(|m| m.end > start && m.end <= end)
            .map(|m| m.end)
            .collect();
        let tokens = ends.len() as u64;
        ends.dedup();
        let hits = ends.len() as u64;
        boxed_expected += hits + tokens + vec_growth(hits) + vec_growth(tokens);
        start = end;
    }
    drop(all);

    let _profiler = dhat::Profiler::builder().testing().build();
    for variant in Variant::ALL {
        let mut m = variant.matcher();
        let run = |m: &mut acmatch::AnyMatcher| {
            let mut cursor = Cursor::new();
            let mut n = 0;
            for piece in chunks(text, DEFAULT_CHUNK) {
                n += m
                    .find_chunk(&ac, &mut cursor, piece, |x| {
                        std::hint::black_box(x);
                    })
                    .unwrap();
            }
            n
        };
        run(&mut m); // warm-up: `reuse` grows its buffers here
        let before = dhat::HeapStats::get();
        let n = run(&mut m);
        let after = dhat::HeapStats::get();
        let blocks = after.total_blocks - before.total_blocks;
        assert!(n > 50_000, "{variant}: the workload has matches ({n})");
        match variant {
            Variant::Boxed => dhat::assert_eq!(blocks, boxed_expected),
            Variant::DynBuffer => dhat::assert!(blocks > 0),
            Variant::Fixed | Variant::Reuse | Variant::Callback => dhat::assert_eq!(blocks, 0),
        }
    }
}
