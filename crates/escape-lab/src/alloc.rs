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
//! A fourth mode, `Mode::Sample` (feature `live`), is the live heap sampler
//! (`live::sampler`, Go's `MemProfileRate` scheme) over `System`: what
//! `escape-lab serve` runs its scenarios under. Without the feature `lab`
//! there is no dhat mode, without `live` no sample mode: the light build
//! (assertions only) has the system and counting modes.
//!
//! Switching is safe at any moment because all four hand out memory from
//! [`System`]: `countalloc` only counts on the side, dhat's allocator
//! forwards to `System` and ignores frees and reallocations of blocks it did
//! not see allocated, and the sampler forgets only blocks it sampled. (A
//! sampled block freed after the process left the sample mode stays
//! counted as in use.) The cost in the system mode is two relaxed atomic
//! loads per allocation; dhat's global lock (taken on every allocation its
//! allocator sees, profiling or not) is never taken outside the `heap`
//! pass.
//!
//! In the system mode it also counts, per thread, while an allocation
//! assertion (`crate::assert`) is measuring on some thread: that is how a
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
use std::backtrace::Backtrace;
use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

#[cfg(feature = "live")]
use crate::live::sampler;

/// Which allocator a process uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Mode {
    /// The system allocator (the default; the `cpu` pass).
    System = 0,
    /// System plus `countalloc`'s per-thread counters (the `count` pass).
    Count = 1,
    /// dhat's heap profiler (the `heap` pass). Feature `lab`.
    #[cfg(feature = "lab")]
    Dhat = 2,
    /// System plus the live heap sampler ([`crate::live::sampler`]):
    /// `escape-lab serve`. Feature `live`.
    #[cfg(feature = "live")]
    Sample = 3,
}

static MODE: AtomicU8 = AtomicU8::new(0);

/// How many allocation measurements are under way (on any thread).
static MEASURING: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Whether this thread's allocations are being traced (their stacks
    /// recorded for [`crate::assert`]'s failure message).
    static TRACING: Cell<bool> = const { Cell::new(false) };
    /// The stacks recorded while tracing, with each allocation's size.
    static TRACES: RefCell<Vec<(Backtrace, usize)>> = const { RefCell::new(Vec::new()) };
    /// Set while a stack is being recorded: the recording's own
    /// allocations are not traced.
    static IN_RECORD: Cell<bool> = const { Cell::new(false) };
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

/// Turns tracing of this thread's allocations on or off; turning it on
/// forgets the stacks recorded before.
pub(crate) fn set_tracing(on: bool) {
    if on {
        let _ = TRACES.try_with(|t| t.borrow_mut().clear());
    }
    TRACING.with(|t| t.set(on));
}

/// The stacks recorded on this thread since tracing was turned on, each
/// with its allocation's size, unresolved.
pub(crate) fn take_traces() -> Vec<(Backtrace, usize)> {
    TRACES.with(|t| std::mem::take(&mut *t.borrow_mut()))
}

/// Records the stack of one traced allocation (std's unresolved
/// backtrace; it is resolved only when an assertion fails). Cold and out
/// of line, so the allocator's fast path stays as small as it was.
#[cold]
#[inline(never)]
fn record(size: usize) {
    let busy = IN_RECORD.try_with(|b| b.replace(true)).unwrap_or(true);
    if busy {
        return;
    }
    let bt = Backtrace::force_capture();
    let _ = TRACES.try_with(|t| t.borrow_mut().push((bt, size)));
    let _ = IN_RECORD.try_with(|b| b.set(false));
}

#[inline]
fn counting_in_system_mode() -> bool {
    MEASURING.load(Ordering::Relaxed) != 0
}

#[inline]
fn trace(size: usize) {
    if TRACING.try_with(Cell::get).unwrap_or(false) {
        record(size);
    }
}

/// Selects the allocator for the rest of the process.
///
/// # Allocation
///
/// Never allocates.
pub fn set_mode(mode: Mode) {
    MODE.store(mode as u8, Ordering::SeqCst);
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
        #[cfg(feature = "lab")]
        2 => Mode::Dhat,
        #[cfg(feature = "live")]
        3 => Mode::Sample,
        _ => Mode::System,
    }
}

/// escape-lab's global allocator: the system allocator, which also counts
/// (per thread) while an allocation assertion measures, and which each pass
/// of a profile switches to the allocator it needs (counting, dhat's, the
/// live sampler's). Install it in every binary and test binary that runs
/// scenarios or assertions:
///
/// ```
/// #[global_allocator]
/// static ALLOC: escape_lab::Alloc = escape_lab::Alloc;
/// ```
///
/// # Allocation
///
/// Forwards every request; adds none. Outside a measurement it costs two
/// relaxed atomic loads per allocation.
#[derive(Clone, Copy, Debug, Default)]
pub struct SwitchAlloc;

// The modes' numbers, for the match arms below.
const SYSTEM: u8 = Mode::System as u8;
const COUNT: u8 = Mode::Count as u8;
#[cfg(feature = "lab")]
const DHAT: u8 = 2;
#[cfg(feature = "live")]
const SAMPLE: u8 = 3;

/// Whether this request goes straight to `System`: the system mode with no
/// measurement under way. The only test on the fast path, so the
/// allocator adds two loads and two branches to `malloc` (a `match` over
/// every mode here compiles to a jump table, ten instructions more per
/// call, which the instruction gate sees).
#[inline(always)]
fn plain() -> bool {
    MODE.load(Ordering::Relaxed) == SYSTEM && !counting_in_system_mode()
}

// SAFETY: every method forwards its arguments unchanged to one of four
// allocators that all allocate from `System`, so a block may be freed or
// reallocated by any of them whatever allocated it (dhat ignores blocks it
// did not record, the sampler blocks it did not sample).
unsafe impl GlobalAlloc for SwitchAlloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe {
            if plain() {
                System.alloc(layout)
            } else {
                slow::alloc(layout)
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe {
            if plain() {
                System.alloc_zeroed(layout)
            } else {
                slow::alloc_zeroed(layout)
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe {
            if plain() {
                System.dealloc(ptr, layout);
            } else {
                slow::dealloc(ptr, layout);
            }
        }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe {
            if plain() {
                System.realloc(ptr, layout, new_size)
            } else {
                slow::realloc(ptr, layout, new_size)
            }
        }
    }
}

/// Every mode but the plain system one, out of line. Each function has
/// the safety contract of the `GlobalAlloc` method of its name.
mod slow {
    use super::*;

    #[inline(never)]
    pub(super) unsafe fn alloc(layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe {
            match MODE.load(Ordering::Relaxed) {
                COUNT => countalloc::CountingAlloc.alloc(layout),
                #[cfg(feature = "lab")]
                DHAT => dhat::Alloc.alloc(layout),
                #[cfg(feature = "live")]
                SAMPLE => {
                    let p = System.alloc(layout);
                    sampler::after_alloc(p, layout.size());
                    p
                }
                // The system mode while a measurement is under way.
                _ => {
                    trace(layout.size());
                    countalloc::CountingAlloc.alloc(layout)
                }
            }
        }
    }

    #[inline(never)]
    pub(super) unsafe fn alloc_zeroed(layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe {
            match MODE.load(Ordering::Relaxed) {
                COUNT => countalloc::CountingAlloc.alloc_zeroed(layout),
                #[cfg(feature = "lab")]
                DHAT => dhat::Alloc.alloc_zeroed(layout),
                #[cfg(feature = "live")]
                SAMPLE => {
                    let p = System.alloc_zeroed(layout);
                    sampler::after_alloc(p, layout.size());
                    p
                }
                _ => {
                    trace(layout.size());
                    countalloc::CountingAlloc.alloc_zeroed(layout)
                }
            }
        }
    }

    #[inline(never)]
    pub(super) unsafe fn dealloc(ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe {
            match MODE.load(Ordering::Relaxed) {
                #[cfg(feature = "lab")]
                DHAT => dhat::Alloc.dealloc(ptr, layout),
                #[cfg(feature = "live")]
                SAMPLE => {
                    sampler::before_free(ptr, layout.size());
                    System.dealloc(ptr, layout);
                }
                // Counting, or the system mode while measuring.
                _ => countalloc::CountingAlloc.dealloc(ptr, layout),
            }
        }
    }

    #[inline(never)]
    pub(super) unsafe fn realloc(ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe {
            match MODE.load(Ordering::Relaxed) {
                COUNT => countalloc::CountingAlloc.realloc(ptr, layout, new_size),
                #[cfg(feature = "lab")]
                DHAT => dhat::Alloc.realloc(ptr, layout, new_size),
                #[cfg(feature = "live")]
                SAMPLE => sampler::realloc_sampled(&System, ptr, layout, new_size),
                _ => {
                    trace(new_size);
                    countalloc::CountingAlloc.realloc(ptr, layout, new_size)
                }
            }
        }
    }
}
