//! Exact allocations per call, for every variant: the `# Allocation`
//! sections of the variants' docs, checked with a counting allocator.
//!
//! The expected counts are computed from the matches alone (hits = distinct
//! end offsets, tokens = matches), independently of how a variant works, so
//! a variant that starts to allocate differently fails here. Positive
//! controls: the allocator is shown to count at all, and `boxed` must
//! allocate, so a zero elsewhere is not a zero from a dead counter.

#[global_allocator]
static ALLOC: countalloc::CountingAlloc = countalloc::CountingAlloc;

use acmatch::variant::{boxed, callback, dyn_buffer::DynBuffer, fixed::Fixed, reuse::Reuse};
use acmatch::{chunks, find_all, Automaton, Cursor, Match, Matcher, Variant};
use countalloc::{measure, Counts};

/// A `Hit` is the end offset and the first token's pattern, length and
/// output link; a `Match` is pattern, start and end. Asserted below, so a
/// change of layout shows up as what it is.
const HIT_BYTES: u64 = 24;
const TOKEN_BYTES: u64 = 24;
const POINTER_BYTES: u64 = 8;

fn workload() -> (Automaton, Vec<u8>) {
    let patterns = ["he", "she", "his", "hers", "her", "e", "rs", "ship", "hip"];
    let text = b"she sells his ships; he hears her hiss. hershey, ushers, ship-shape. ".repeat(8);
    (Automaton::new(patterns).unwrap(), text)
}

/// Allocations and bytes of pushing `n` 8-byte elements into an empty `Vec`
/// one at a time: capacity 4, then doubling.
fn vec_growth(n: u64) -> (u64, u64) {
    let (mut cap, mut allocs, mut bytes) = (0u64, 0u64, 0u64);
    for len in 0..n {
        if len == cap {
            cap = (cap * 2).max(4);
            allocs += 1;
            bytes += cap * POINTER_BYTES;
        }
    }
    (allocs, bytes)
}

/// Hits (distinct end offsets) and tokens (matches) of one chunk.
fn hits_and_tokens(matches: &[Match]) -> (u64, u64) {
    let mut ends: Vec<usize> = matches.iter().map(|m| m.end).collect();
    ends.dedup();
    (ends.len() as u64, matches.len() as u64)
}

/// Every chunk of the workload with its expected matches (from a
/// whole-haystack search, split by end offset).
fn chunk_expectations(ac: &Automaton, text: &[u8], chunk: usize) -> Vec<(Vec<u8>, Vec<Match>)> {
    let all = find_all(ac, text);
    let mut start = 0;
    chunks(text, chunk)
        .map(|piece| {
            let end = start + piece.len();
            let want: Vec<Match> = all
                .iter()
                .copied()
                .filter(|m| m.end > start && m.end <= end)
                .collect();
            start = end;
            (piece.to_vec(), want)
        })
        .collect()
}

#[test]
fn hits_and_tokens_have_the_sizes_the_counts_assume() {
    assert_eq!(std::mem::size_of::<acmatch::Hit>() as u64, HIT_BYTES);
    assert_eq!(std::mem::size_of::<Match>() as u64, TOKEN_BYTES);
}

#[test]
fn the_counter_counts() {
    assert!(countalloc::is_active());
}

#[test]
fn boxed_allocates_one_box_per_hit_and_token_plus_vec_growth() {
    let (ac, text) = workload();
    let mut cursor = Cursor::new();
    let mut total = 0;
    for (piece, want) in chunk_expectations(&ac, &text, 64) {
        let (tokens, counts) = measure(|| boxed::find(&ac, &mut cursor, &piece));
        let (h, t) = hits_and_tokens(&want);
        let (hv, hvb) = vec_growth(h);
        let (tv, tvb) = vec_growth(t);
        assert_eq!(counts.allocs, h + t + hv + tv, "hits {h}, tokens {t}");
        assert_eq!(
            counts.bytes,
            h * HIT_BYTES + t * TOKEN_BYTES + hvb + tvb,
            "hits {h}, tokens {t}"
        );
        total += counts.allocs;
        assert_eq!(tokens.len() as u64, t);
    }
    assert!(
        total > 100,
        "positive control: boxed must allocate ({total})"
    );
}

#[test]
fn dyn_buffer_allocates_one_box_per_hit_and_token() {
    let (ac, text) = workload();
    let mut m = DynBuffer::new(acmatch::DEFAULT_CAPACITY);
    let mut cursor = Cursor::new();
    for (piece, want) in chunk_expectations(&ac, &text, 64) {
        let (n, counts) = measure(|| m.find(&ac, &mut cursor, &piece).unwrap());
        let (h, t) = hits_and_tokens(&want);
        assert_eq!(n as u64, t);
        assert!(t > 0, "every chunk of this workload has matches");
        assert_eq!(counts.allocs, h + t);
        assert_eq!(counts.bytes, h * HIT_BYTES + t * TOKEN_BYTES);
    }
}

#[test]
fn fixed_never_allocates_after_construction() {
    let (ac, text) = workload();
    let (mut m, built) = measure(|| Fixed::new(acmatch::DEFAULT_CAPACITY));
    assert_eq!(built.allocs, 2, "two buffers at construction");
    let mut cursor = Cursor::new();
    for (piece, want) in chunk_expectations(&ac, &text, 64) {
        let (n, counts) = measure(|| m.find(&ac, &mut cursor, &piece).unwrap().len());
        assert_eq!(n, want.len());
        assert_eq!(counts, Counts::default());
    }
}

#[test]
fn reuse_allocates_only_to_grow_then_never() {
    let (ac, text) = workload();
    let mut m = Reuse::new();
    let pieces = chunk_expectations(&ac, &text, 64);
    // Warm-up pass: growth only, and some growth (positive control).
    let mut cursor = Cursor::new();
    let mut warm = 0;
    for (piece, _) in &pieces {
        warm += measure(|| m.find(&ac, &mut cursor, piece).len()).1.allocs;
    }
    assert!(warm > 0, "reuse must grow its buffers while warming up");
    let mut cursor = Cursor::new();
    for (piece, want) in &pieces {
        let (n, counts) = measure(|| m.find(&ac, &mut cursor, piece).len());
        assert_eq!(n, want.len());
        assert_eq!(counts, Counts::default());
    }
}

#[test]
fn callback_never_allocates() {
    let (ac, text) = workload();
    let mut cursor = Cursor::new();
    for (piece, want) in chunk_expectations(&ac, &text, 64) {
        let mut n = 0usize;
        let (count, counts) = measure(|| callback::find(&ac, &mut cursor, &piece, |_| n += 1));
        assert_eq!((count, n), (want.len(), want.len()));
        assert_eq!(counts, Counts::default());
    }
}

#[test]
fn the_matcher_trait_adds_nothing() {
    // Through `AnyMatcher::find_chunk`, with a visitor that allocates
    // nothing, each variant allocates what its own function does.
    let (ac, text) = workload();
    for variant in Variant::ALL {
        let mut m = variant.matcher();
        let mut cursor = Cursor::new();
        // One warm-up pass (for `reuse`), then a measured one.
        for piece in chunks(&text, 64) {
            m.find_chunk(&ac, &mut cursor, piece, |_| {}).unwrap();
        }
        let mut cursor = Cursor::new();
        let mut total = Counts::default();
        for (piece, want) in chunk_expectations(&ac, &text, 64) {
            let (n, c) = measure(|| m.find_chunk(&ac, &mut cursor, &piece, |_| {}).unwrap());
            assert_eq!(n, want.len());
            let (h, t) = hits_and_tokens(&want);
            let expected = match variant {
                Variant::Boxed => h + t + vec_growth(h).0 + vec_growth(t).0,
                Variant::DynBuffer => h + t,
                Variant::Fixed | Variant::Reuse | Variant::Callback => 0,
            };
            assert_eq!(c.allocs, expected, "{variant}");
            total.allocs += c.allocs;
        }
        let zero = matches!(variant, Variant::Fixed | Variant::Reuse | Variant::Callback);
        assert_eq!(total.allocs == 0, zero, "{variant}: {total:?}");
    }
}

#[test]
fn building_allocates_and_matching_does_not() {
    let (ac, built) = measure(|| Automaton::new(["abc", "bcd"]).unwrap());
    assert!(built.allocs > 0);
    let ((), counts) = measure(|| {
        callback::find(&ac, &mut Cursor::new(), b"xabcdx", |_| {});
    });
    assert_eq!(counts, Counts::default());
    drop(ac);
}

#[test]
fn matching_allocates_nothing_in_any_layout() {
    use acmatch::Layout;
    // Every layout over bytes and over characters, every zero-allocation
    // variant, in 7-byte calls that split three-byte characters and in
    // 2,048-byte calls long enough for the block loops.
    let words: &[&str] = &["needle", "haystack", "hay", "stack"];
    let cjk: &[&str] = &["中华", "人民共和国", "人民"];
    let sets = [
        (words, b"a haystack with a needle, hay".repeat(200)),
        (cjk, "中华人民共和国，人民。".repeat(200).into_bytes()),
    ];
    let (mut dense, mut charwise, mut prefiltered) = (0, 0, 0);
    for (patterns, text) in &sets {
        for layout in Layout::ALL {
            let ac = Automaton::with_layout(*patterns, layout).unwrap();
            dense += usize::from(ac.is_dense());
            charwise += usize::from(ac.is_charwise());
            prefiltered += usize::from(ac.has_prefilter());
            let want = find_all(&ac, text).len();
            assert!(want > 0);
            for variant in [Variant::Fixed, Variant::Reuse, Variant::Callback] {
                for size in [7, 2048] {
                    let mut m = variant.matcher();
                    // One warm-up pass (for `reuse`), then a measured one.
                    let mut cursor = Cursor::new();
                    for piece in chunks(text, size) {
                        m.find_chunk(&ac, &mut cursor, piece, |_| {}).unwrap();
                    }
                    let mut cursor = Cursor::new();
                    let mut n = 0;
                    let ((), counts) = measure(|| {
                        for piece in chunks(text, size) {
                            n += m
                                .find_chunk(&ac, &mut cursor, piece, |x| {
                                    std::hint::black_box(x);
                                })
                                .unwrap();
                        }
                    });
                    assert_eq!(n, want, "{layout:?} {variant} {size}");
                    assert_eq!(counts, Counts::default(), "{layout:?} {variant} {size}");
                }
            }
        }
    }
    // Positive controls: every kind of scan loop ran.
    assert!(dense > 0 && charwise > 0 && prefiltered > 0);
    assert!(dense < 2 * Layout::ALL.len(), "some double arrays too");
}
