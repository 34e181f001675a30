//! A counting global allocator: exact allocations and bytes, per thread.
//!
//! `countalloc` wraps the system allocator and counts, for the current thread,
//! every allocation, reallocation and deallocation together with the bytes
//! requested. It is what escape-lab's `count` pass, its allocation tests and
//! its benchmarks read: the Rust counterpart of Go's `allocs/op` and `B/op`,
//! but exact rather than rounded.
//!
//! Install it in a binary, test or bench (it does nothing unless it is the
//! global allocator):
//!
//! ```
//! #[global_allocator]
//! static ALLOC: countalloc::CountingAlloc = countalloc::CountingAlloc;
//!
//! let (v, counts) = countalloc::measure(|| vec![1u8, 2, 3]);
//! assert_eq!(counts.allocs, 1);
//! assert_eq!(counts.bytes, 3);
//! drop(v);
//! ```
//!
//! # What is counted
//!
//! The counting rule is dhat's, so the `count` and `heap` passes agree:
//!
//! - `alloc` and `alloc_zeroed`: one allocation of `size` bytes;
//! - `realloc`: one allocation of the *new* size (a `Vec` that grows three times
//!   counts three allocations), plus one deallocation of the old block;
//! - `dealloc`: one deallocation of `size` bytes.
//!
//! Counters are per thread, so work on other threads (a test harness, a
//! progress bar) never leaks into a measurement. They live in `const`
//! thread-locals of plain `Cell<u64>`s, which need no allocation and no
//! destructor, so counting cannot recurse into the allocator.
//!
//! # Allocation
//!
//! Nothing in this crate allocates.
#![deny(missing_docs)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Counts of heap operations on one thread, or the difference between two
/// snapshots.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Counts {
    /// Allocations: `alloc`, `alloc_zeroed` and `realloc` calls.
    pub allocs: u64,
    /// Bytes requested by those allocations (the new size for `realloc`).
    pub bytes: u64,
    /// Deallocations: `dealloc` calls and the old block of each `realloc`.
    pub frees: u64,
    /// Bytes released by those deallocations.
    pub freed_bytes: u64,
}

impl Counts {
    /// The counts accumulated between `earlier` and `self`.
    ///
    /// # Allocation
    ///
    /// Never allocates.
    #[must_use]
    pub fn since(self, earlier: Counts) -> Counts {
        Counts {
            allocs: self.allocs.wrapping_sub(earlier.allocs),
            bytes: self.bytes.wrapping_sub(earlier.bytes),
            frees: self.frees.wrapping_sub(earlier.frees),
            freed_bytes: self.freed_bytes.wrapping_sub(earlier.freed_bytes),
        }
    }
}

/// The counting global allocator: the system allocator plus per-thread
/// counters. Install it with `#[global_allocator]`.
///
/// # Allocation
///
/// Forwards every request to [`System`]; counting itself never allocates.
#[derive(Clone, Copy, Debug, Default)]
pub struct CountingAlloc;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
    static BYTES: Cell<u64> = const { Cell::new(0) };
    static FREES: Cell<u64> = const { Cell::new(0) };
    static FREED_BYTES: Cell<u64> = const { Cell::new(0) };
}

#[inline]
fn bump(counter: &'static std::thread::LocalKey<Cell<u64>>, by: u64) {
    // `try_with` because the allocator can be called while the thread's
    // locals are being torn down; such late calls are not counted.
    let _ = counter.try_with(|c| c.set(c.get().wrapping_add(by)));
}

#[inline]
fn read(counter: &'static std::thread::LocalKey<Cell<u64>>) -> u64 {
    counter.try_with(Cell::get).unwrap_or(0)
}

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged and returns its result unchanged; the counting on the side
// touches only thread-local `Cell`s and never allocates.
unsafe impl GlobalAlloc for CountingAlloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump(&ALLOCS, 1);
        bump(&BYTES, layout.size() as u64);
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc(layout) }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        bump(&ALLOCS, 1);
        bump(&BYTES, layout.size() as u64);
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc_zeroed(layout) }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        bump(&FREES, 1);
        bump(&FREED_BYTES, layout.size() as u64);
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        bump(&ALLOCS, 1);
        bump(&BYTES, new_size as u64);
        bump(&FREES, 1);
        bump(&FREED_BYTES, layout.size() as u64);
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// The current thread's counters since it started.
///
/// All zero when [`CountingAlloc`] is not the global allocator; see
/// [`is_active`].
///
/// # Allocation
///
/// Never allocates.
#[must_use]
pub fn snapshot() -> Counts {
    Counts {
        allocs: read(&ALLOCS),
        bytes: read(&BYTES),
        frees: read(&FREES),
        freed_bytes: read(&FREED_BYTES),
    }
}

/// Runs `f` on this thread and returns its result with the heap operations it
/// made.
///
/// The result is returned, not dropped inside the measurement, so whatever it
/// owns is not counted as freed.
///
/// # Allocation
///
/// Allocates nothing itself; reports what `f` allocates.
pub fn measure<R>(f: impl FnOnce() -> R) -> (R, Counts) {
    let before = snapshot();
    let r = f();
    let after = snapshot();
    (r, after.since(before))
}

/// Whether [`CountingAlloc`] is this program's global allocator, found by
/// making one small allocation and seeing whether it was counted.
///
/// Use it as the positive control of a measurement: a count of zero means
/// nothing only when this is `true`.
///
/// # Allocation
///
/// Allocates and frees one `Box<u64>`.
#[must_use]
pub fn is_active() -> bool {
    let (b, counts) = measure(|| Box::new(std::hint::black_box(7u64)));
    drop(std::hint::black_box(b));
    counts.allocs == 1
}
