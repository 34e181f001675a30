//! The global allocator: one binary, four allocators, chosen per
//! process.
//!
//! Every pass runs in its own child process, and each pass wants a different
//! allocator: the system allocator for `cpu` (so timings and samples are
//! those of real code), dhat's for `heap`, and the counting one for `count`.
//! A binary has one `#[global_allocator]`, so this one forwards each request
//! to the allocator of the process's [`Mode`], set once when the child
//! starts.
//!
//! A fourth mode, [`Mode::Sample`], is the live heap sampler
//! ([`crate::live::sampler`], Go's `MemProfileRate` scheme) over `System`:
//! what `escape-lab serve` runs its scenarios under.
//!
//! Switching is safe at any moment because all four hand out memory from
//! [`System`]: `countalloc` only counts on the side, dhat's allocator
//! forwards to `System` and ignores frees and reallocations of blocks it did
//! not see allocated, and the sampler forgets only blocks it sampled. (A
//! sampled block freed after the process left [`Mode::Sample`] stays
//! counted as in use.) The cost in the system mode is two relaxed atomic
//! loads per allocation; dhat's global lock is never taken outside the
//! `heap` pass (DESIGN.md, "Known traps").
//!
//! In the system mode it also counts, per thread, while an allocation
//! assertion ([`crate::assert`]) is measuring on some thread: that is how a
//! test binary with this allocator gets exact counts without a child
//! process, and the test harness's other threads never leak in.
//!
//! Install it in every binary that runs scenarios:
//!
//! ```
//! #[global_allocator]
//! static ALLOC: escape_lab::Alloc = escape_lab::Alloc;
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

use crate::live::sampler;

/// Which allocator a process uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The system allocator (the default; the `cpu` pass).
    System,
    /// System plus `countalloc`'s per-thread counters (the `count` pass).
    Count,
    /// dhat's heap profiler (the `heap` pass).
    Dhat,
    /// System plus the live heap sampler ([`crate::live::sampler`]):
    /// `escape-lab serve`.
    Sample,
}

static MODE: AtomicU8 = AtomicU8::new(0);

/// How many allocation measurements are under way (on any thread).
static MEASURING: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Whether this thread's allocations are being traced (their stacks
    /// recorded by [`crate::assert`]).
    static TRACING: Cell<bool> = const { Cell::new(false) };
}

/// While alive, the system mode counts (per thread) as the counting mode
/// does. Measurements nest and overlap across threads.
pub(crate) struct Measuring(());

impl Measuring {
    pub(crate) fn start() -> Measuring {
        MEASURING.fetch_add(1, Ordering::SeqCst);
        Measuring(())
    }
}

impl Drop for Measuring {
    fn drop(&mut self) {
        MEASURING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Turns tracing of this thread's allocations on or off.
pub(crate) fn set_tracing(on: bool) {
    TRACING.with(|t| t.set(on));
}

#[inline]
fn counting_in_system_mode() -> bool {
    MEASURING.load(Ordering::Relaxed) != 0
}

#[inline]
fn trace(size: usize) {
    if TRACING.try_with(Cell::get).unwrap_or(false) {
        crate::assert::record(size);
    }
}

/// Selects the allocator for the rest of the process.
///
/// # Allocation
///
/// Never allocates.
pub fn set_mode(mode: Mode) {
    let m = match mode {
        Mode::System => 0,
        Mode::Count => 1,
        Mode::Dhat => 2,
        Mode::Sample => 3,
    };
    MODE.store(m, Ordering::SeqCst);
}

/// The allocator currently selected.
///
/// # Allocation
///
/// Never allocates.
#[must_use]
pub fn mode() -> Mode {
    match MODE.load(Ordering::Relaxed) {
        1 => Mode::Count,
        2 => Mode::Dhat,
        3 => Mode::Sample,
        _ => Mode::System,
    }
}

/// The switching global allocator; see the module documentation.
///
/// # Allocation
///
/// Forwards every request; adds none.
#[derive(Clone, Copy, Debug, Default)]
pub struct SwitchAlloc;

// SAFETY: every method forwards its arguments unchanged to one of four
// allocators that all allocate from `System`, so a block may be freed or
// reallocated by any of them whatever allocated it (dhat ignores blocks it
// did not record, the sampler blocks it did not sample).
unsafe impl GlobalAlloc for SwitchAlloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe {
            match MODE.load(Ordering::Relaxed) {
                0 if counting_in_system_mode() => {
                    trace(layout.size());
                    countalloc::CountingAlloc.alloc(layout)
                }
                0 => System.alloc(layout),
                1 => countalloc::CountingAlloc.alloc(layout),
                3 => {
                    let p = System.alloc(layout);
                    sampler::after_alloc(p, layout.size());
                    p
                }
                _ => dhat::Alloc.alloc(layout),
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe {
            match MODE.load(Ordering::Relaxed) {
                0 if counting_in_system_mode() => {
                    trace(layout.size());
                    countalloc::CountingAlloc.alloc_zeroed(layout)
                }
                0 => System.alloc_zeroed(layout),
                1 => countalloc::CountingAlloc.alloc_zeroed(layout),
                3 => {
                    let p = System.alloc_zeroed(layout);
                    sampler::after_alloc(p, layout.size());
                    p
                }
                _ => dhat::Alloc.alloc_zeroed(layout),
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe {
            match MODE.load(Ordering::Relaxed) {
                0 if counting_in_system_mode() => countalloc::CountingAlloc.dealloc(ptr, layout),
                0 => System.dealloc(ptr, layout),
                1 => countalloc::CountingAlloc.dealloc(ptr, layout),
                3 => {
                    sampler::before_free(ptr, layout.size());
                    System.dealloc(ptr, layout);
                }
                _ => dhat::Alloc.dealloc(ptr, layout),
            }
        }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe {
            match MODE.load(Ordering::Relaxed) {
                0 if counting_in_system_mode() => {
                    trace(new_size);
                    countalloc::CountingAlloc.realloc(ptr, layout, new_size)
                }
                0 => System.realloc(ptr, layout, new_size),
                1 => countalloc::CountingAlloc.realloc(ptr, layout, new_size),
                3 => sampler::realloc_sampled(&System, ptr, layout, new_size),
                _ => dhat::Alloc.realloc(ptr, layout, new_size),
            }
        }
    }
}
