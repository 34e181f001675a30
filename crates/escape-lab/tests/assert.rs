//! The allocation assertion, with positive and negative controls: exact
//! counts per run, per thread only, and a failure message that names the
//! count and the allocating line of this file.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use escape_lab::{allocs_per_run, assert_allocs, assert_no_allocs};

#[global_allocator]
static ALLOC: escape_lab::Alloc = escape_lab::Alloc;

#[inline(never)]
fn one_vec() -> Vec<u8> {
    vec![7u8; 16] // ALLOCATING LINE
}

fn panic_message(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
    let err = std::panic::catch_unwind(f).expect_err("the assertion should have failed");
    err.downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap()
}

fn line_of(marker: &str) -> usize {
    include_str!("assert.rs")
        .lines()
        .position(|l| l.contains(marker) && !l.contains("line_of"))
        .unwrap()
        + 1
}

#[test]
fn counts_are_exact_totals_per_run() {
    let a = allocs_per_run(10, one_vec);
    assert_eq!((a.runs, a.allocs, a.bytes), (10, 10, 160));
    assert_eq!(a.allocs_per_run(), "1");
    let words = "a few words to split";
    let b = allocs_per_run(4, || {
        words
            .split(' ')
            .map(str::to_string)
            .collect::<Vec<String>>()
    });
    // Five Strings, and the Vec: allocated for 4, reallocated for 8.
    assert_eq!(b.allocs, 4 * 7);
    let none = allocs_per_run(10, || words.split(' ').count());
    assert_eq!((none.allocs, none.bytes), (0, 0));
}

#[test]
fn the_warm_up_run_is_not_counted() {
    let mut buf: Vec<&str> = Vec::new();
    let words = "a few words to split";
    // The first run grows `buf`; the measured runs reuse it.
    assert_no_allocs!(|| {
        buf.clear();
        buf.extend(words.split(' '));
    });
    assert_eq!(buf.len(), 5);
}

#[test]
fn passing_assertions_in_every_form() {
    assert_allocs!(one_vec, 1);
    assert_allocs!(one_vec, <= 1);
    assert_allocs!(one_vec, <= 3);
    assert_allocs!(one_vec, runs = 100, 1);
    assert_allocs!(|| 2 + 2, 0);
}

#[test]
fn a_failure_names_the_count_and_this_files_line() {
    let msg = panic_message(|| assert_no_allocs!(one_vec));
    assert!(
        msg.contains("expected exactly 0 allocations per run, got 1 per run"),
        "{msg}"
    );
    assert!(
        msg.contains("10 allocations, 160 bytes in 10 runs"),
        "{msg}"
    );
    let site = format!(
        "top allocation site: crates/escape-lab/tests/assert.rs:{}",
        line_of("ALLOCATING LINE")
    );
    assert!(msg.contains(&site), "{msg}\n(wanted {site})");
    assert!(msg.contains("in assert::one_vec"), "{msg}");

    let msg = panic_message(|| assert_allocs!(|| (one_vec(), one_vec()), <= 1));
    assert!(
        msg.contains("expected at most 1 allocations per run, got 2 per run"),
        "{msg}"
    );
    let msg = panic_message(|| assert_allocs!(one_vec, 2));
    assert!(msg.contains("expected exactly 2"), "{msg}");
}

#[test]
fn other_threads_never_leak_in() {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let noisy = {
        let (stop, done) = (Arc::clone(&stop), Arc::clone(&done));
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::hint::black_box(vec![1u8; 32]);
                done.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    // Measure while the other thread allocates, for at least 50 rounds and
    // until it has allocated 10,000 times.
    let mut rounds = 0;
    while rounds < 50 || done.load(Ordering::Relaxed) < 10_000 {
        assert_no_allocs!(|| std::hint::black_box(3u64).pow(2));
        assert_eq!(allocs_per_run(10, one_vec).allocs, 10);
        rounds += 1;
    }
    stop.store(true, Ordering::Relaxed);
    noisy.join().unwrap();
}
