//! The counting rules, checked with the allocator installed.

#[global_allocator]
static ALLOC: countalloc::CountingAlloc = countalloc::CountingAlloc;

use countalloc::{measure, Counts};
use std::hint::black_box;

#[test]
fn is_active_when_installed() {
    assert!(countalloc::is_active());
}

#[test]
fn nothing_allocated_counts_zero() {
    let ((), counts) = measure(|| {
        black_box(1 + 1);
    });
    assert_eq!(counts, Counts::default());
}

#[test]
fn one_box_is_one_allocation_of_its_size() {
    let (b, counts) = measure(|| Box::new(black_box([0u64; 4])));
    assert_eq!(counts.allocs, 1);
    assert_eq!(counts.bytes, 32);
    assert_eq!(counts.frees, 0);
    let ((), freed) = measure(|| drop(b));
    assert_eq!(freed.frees, 1);
    assert_eq!(freed.freed_bytes, 32);
}

#[test]
fn each_realloc_counts_as_an_allocation_of_the_new_size() {
    let (v, counts) = measure(|| {
        let mut v: Vec<u8> = Vec::with_capacity(4);
        for i in 0..9u8 {
            v.push(black_box(i)); // 4 -> 8 -> 16
        }
        v
    });
    assert_eq!(counts.allocs, 3);
    assert_eq!(counts.bytes, 4 + 8 + 16);
    assert_eq!(counts.frees, 2);
    assert_eq!(counts.freed_bytes, 4 + 8);
    drop(v);
}

#[test]
fn other_threads_are_not_counted() {
    let handle = std::thread::spawn(|| {
        let (v, c) = measure(|| vec![0u8; 100]);
        drop(v);
        c
    });
    let before = countalloc::snapshot();
    let inner = handle.join().unwrap();
    assert_eq!(inner.allocs, 1);
    // Joining may allocate nothing here; the other thread's 100 bytes are not ours.
    let mine = countalloc::snapshot().since(before);
    assert!(
        mine.bytes < 100,
        "the other thread's bytes leaked into ours: {mine:?}"
    );
}
