//! A sampling heap profiler that is safe to leave on: Go's scheme
//! (`runtime.MemProfileRate`) as a wrapper over any global allocator.
//!
//! # The scheme
//!
//! Each thread keeps a countdown of bytes until its next sample, drawn from
//! an exponential distribution of mean `rate` (default [`DEFAULT_RATE`],
//! 512 KiB, Go's default). An allocation of `size` bytes that does not
//! exhaust the countdown only decrements it; one that does is *sampled*
//! and a fresh countdown is drawn. Sampling points are therefore a Poisson
//! process over the bytes allocated, and an allocation of `size` bytes is
//! sampled with probability `p = 1 - exp(-size / rate)`, whatever came
//! before it. Each sampled allocation stands for `1 / p` allocations and
//! `size / p` bytes: the sum of those over the samples is an **unbiased**
//! estimate of the allocations and bytes made (Horvitz–Thompson). This is
//! Go's `scaleHeapSample` applied per allocation with its own size, rather
//! than per stack with the stack's average size as Go does: the same for a
//! stack whose allocations all have one size, and still unbiased for a
//! stack whose sizes differ (a `Vec` growing through one call site).
//!
//! For a sampled allocation the sampler captures the stack
//! (`backtrace::trace_unsynchronized`, instruction pointers only, into a
//! fixed array on the stack), finds or adds it in a fixed table of stacks,
//! adds the estimate to that stack's totals, and remembers the block's
//! address in a fixed table of live sampled blocks. When a remembered
//! block is freed, its estimate moves to the stack's frees, so
//! *in use* = allocated − freed, per stack. Symbolization happens later,
//! outside the allocator, from a [`snapshot`].
//!
//! # Cost and safety
//!
//! - **Unsampled allocation**: one thread-local read, compare and write (a
//!   `const` thread-local `Cell`, no lazy initialisation, no destructor).
//!   No atomic, no lock.
//! - **Free**: a few shifts and a multiply, and one relaxed load from a 32 KiB filter of
//!   counters (how many live sampled blocks hash to each bucket); only when
//!   the bucket is non-zero is the live table probed (bounded probes).
//! - **Sampled allocation** (about one per `rate` bytes): the stack walk
//!   (libgcc's unwinder; microseconds), a hash, atomic updates. The tables
//!   are statics, allocated with the program (zeroed `.bss`, paged in as
//!   used): the sampler **never allocates**. A thread-local guard makes an
//!   allocation made while sampling (by the unwinder, say) go straight
//!   through unsampled, so the sampler cannot recurse.
//! - **Thread safety**: the tables are arrays of atomics, updated with
//!   compare-and-swap; nothing waits for a lock. A thread that meets a stack
//!   another thread is still writing spins a bounded number of times, then
//!   counts its sample in the overflow bucket instead.
//! - **Bounded memory**: [`TABLE_BYTES`] in all (about 3 MiB, mostly never
//!   touched). When the stack table is full, or a stack cannot be placed
//!   within [`STACK_PROBES`] slots of its hash, the sample is counted in
//!   one *overflow* stack (shown as `[escape-lab sampler: stack table
//!   full]`); when the live table is full, the block's estimate is counted
//!   as allocated and at once as freed (left out of *in use*, never
//!   double-counted later) and [`Stats::untracked`] says how many. Stacks
//!   deeper than [`MAX_DEPTH`] frames keep their [`MAX_DEPTH`] innermost
//!   frames ([`Stats::truncated`]). Nothing blocks, nothing allocates.
//!
//! One set of tables per process: every [`SamplingAlloc`], and
//! [`crate::alloc::SwitchAlloc`] in [`Mode::Sample`](crate::alloc::Mode),
//! record into it (a process has one global allocator).
//!
//! # Rate changes
//!
//! [`set_rate`] takes effect in each thread at its next sample; with
//! sampling off (rate 0) each thread looks at the rate again after
//! [`OFF_RECHECK_BYTES`] of allocation. Rate 1 samples every allocation
//! (each then stands for itself, as in Go).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};

/// Average bytes between samples unless [`set_rate`] says otherwise: Go's
/// `MemProfileRate` default, 512 KiB.
pub const DEFAULT_RATE: u64 = 512 * 1024;

/// Frames kept per sampled stack, innermost first (deeper stacks lose their
/// outermost frames). Go keeps 32.
pub const MAX_DEPTH: usize = 64;

/// Distinct stacks the table holds (a power of two).
pub const STACK_SLOTS: usize = 4096;

/// Slots probed for a stack before it goes to the overflow bucket.
pub const STACK_PROBES: usize = 64;

/// Sampled blocks the live table can hold (a power of two); at the default
/// rate that is the sampled blocks of several GiB of live heap.
pub const LIVE_SLOTS: usize = 32768;

/// Slots probed for a live block, on insert and on free.
pub const LIVE_PROBES: usize = 32;

/// Buckets of the free-path filter (a power of two).
const FILTER_BUCKETS: usize = 8192;
const FILTER_SHIFT: u32 = 64 - FILTER_BUCKETS.trailing_zeros();

/// With sampling off, each thread checks the rate again after this many
/// bytes of allocation.
pub const OFF_RECHECK_BYTES: u64 = 16 * 1024 * 1024;

/// How often a thread spins waiting for another thread to finish writing a
/// stack it also sampled, before counting in the overflow bucket.
const READY_SPINS: u32 = 1 << 12;

const EMPTY: usize = 0;
const TOMBSTONE: usize = 1;

/// The stack index of the overflow bucket in the live table.
const OVERFLOW_INDEX: u32 = u32::MAX;

/// Bytes of all the sampler's tables together: the sampler's whole memory,
/// fixed at compile time.
pub const TABLE_BYTES: usize = std::mem::size_of::<Tables>();

static GLOBAL: Tables = Tables::new(DEFAULT_RATE);

thread_local! {
    /// Bytes this thread may still allocate before its next sample; 0
    /// before the first draw.
    static COUNTDOWN: Cell<u64> = const { Cell::new(0) };
    /// This thread's random state (splitmix64); 0 before it is seeded.
    static RNG: Cell<u64> = const { Cell::new(0) };
    /// Set while this thread is inside the sampled path.
    static BUSY: Cell<bool> = const { Cell::new(false) };
    /// Set on threads whose allocations are never sampled (the profile
    /// server's, see [`Unsampled`]).
    static UNSAMPLED: Cell<bool> = const { Cell::new(false) };
}

mod unsampled;
pub(super) use unsampled::unsampled;
pub use unsampled::Unsampled;

/// Sets the average number of bytes between samples for the whole process:
/// 0 turns sampling off, 1 samples every allocation. Takes effect in the
/// calling thread at once (its countdown is drawn again at its next
/// allocation), in each other thread at its next sample (see the module
/// docs).
///
/// # Allocation
///
/// Never allocates.
pub fn set_rate(rate: u64) {
    GLOBAL.rate.store(rate, Ordering::Relaxed);
    // A countdown drawn at the old rate could outlast everything this
    // thread allocates next (at the default rate, 2 MB go unsampled about
    // once in fifty runs).
    let _ = COUNTDOWN.try_with(|c| c.set(0));
}

/// The sampling rate in force: average bytes between samples, 0 when off.
///
/// # Allocation
///
/// Never allocates.
#[must_use]
pub fn rate() -> u64 {
    GLOBAL.rate.load(Ordering::Relaxed)
}

/// The sampler's counters (samples taken, overflows) so far.
///
/// # Allocation
///
/// Never allocates.
#[must_use]
pub fn stats() -> Stats {
    GLOBAL.stats()
}

/// Whether this thread is inside the sampler's sampled path right now. An
/// inner allocator (or a test) can use it to prove that the sampler itself
/// never allocates: any allocation that arrives while it is `true` was made
/// by the sampler.
///
/// # Allocation
///
/// Never allocates.
#[must_use]
pub fn in_sampled_path() -> bool {
    BUSY.try_with(Cell::get).unwrap_or(false)
}

/// Everything sampled so far: one entry per distinct stack with its
/// estimated totals (allocated and freed objects and bytes), the rate and
/// the counters. Take it outside the allocator; symbolize it with
/// [`super::report::heap_profile`].
///
/// # Allocation
///
/// The snapshot: one `Vec<u64>` of addresses per stack seen (at most
/// [`STACK_SLOTS`] + 1).
#[must_use]
pub fn snapshot() -> HeapSnapshot {
    GLOBAL.snapshot()
}

/// Call after an allocation of `size` bytes returned `ptr` (null is
/// ignored): decides whether to sample it, and records it if so.
///
/// This is the hook [`SamplingAlloc`] and [`crate::alloc::SwitchAlloc`]
/// call; another global allocator can call it too (with
/// [`before_free`] for every free).
///
/// # Allocation
///
/// Never allocates.
#[inline]
pub fn after_alloc(ptr: *mut u8, size: usize) {
    let size = size as u64;
    let sample = COUNTDOWN
        .try_with(|c| {
            let left = c.get();
            if size < left {
                c.set(left - size);
                false
            } else {
                true
            }
        })
        .unwrap_or(false);
    if sample && !ptr.is_null() {
        sampled_path(&GLOBAL, ptr as usize, size);
    }
}

/// Call before freeing the block `ptr` of `size` bytes (its layout's size),
/// before the inner allocator may hand the address out again: forgets the
/// block if it was sampled, moving its estimate to the stack's frees.
///
/// # Allocation
///
/// Never allocates.
#[inline]
pub fn before_free(ptr: *mut u8, size: usize) {
    GLOBAL.free(ptr as usize, size as u64);
}

/// A global allocator that samples the heap (see the module docs) and
/// forwards every request to `A`, [`System`] by default:
///
/// ```
/// use escape_lab::live::SamplingAlloc;
///
/// #[global_allocator]
/// static ALLOC: SamplingAlloc = SamplingAlloc::system();
/// ```
///
/// A `realloc` counts as a free of the old block and an allocation of the
/// new size (dhat's rule, and the counting pass's), so estimates compare
/// with exact counts directly.
///
/// # Allocation
///
/// Forwards every request to `A`; adds none.
#[derive(Clone, Copy, Debug, Default)]
pub struct SamplingAlloc<A = System> {
    inner: A,
}

impl SamplingAlloc<System> {
    /// Sampling over the system allocator.
    ///
    /// # Allocation
    ///
    /// Never allocates.
    #[must_use]
    pub const fn system() -> SamplingAlloc<System> {
        SamplingAlloc { inner: System }
    }
}

impl<A> SamplingAlloc<A> {
    /// Sampling over `inner` (jemalloc's, mimalloc's, a counting one...).
    ///
    /// # Allocation
    ///
    /// Never allocates.
    #[must_use]
    pub const fn new(inner: A) -> SamplingAlloc<A> {
        SamplingAlloc { inner }
    }

    /// The wrapped allocator.
    ///
    /// # Allocation
    ///
    /// Never allocates.
    #[must_use]
    pub const fn inner(&self) -> &A {
        &self.inner
    }
}

// SAFETY: every method forwards its arguments unchanged to `A` and returns
// its result unchanged; the sampling on the side reads and writes only
// thread-locals and static atomic tables, never allocates, and forgets a
// block before `A` may reuse its address.
unsafe impl<A: GlobalAlloc> GlobalAlloc for SamplingAlloc<A> {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { self.inner.alloc(layout) };
        after_alloc(p, layout.size());
        p
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { self.inner.alloc_zeroed(layout) };
        after_alloc(p, layout.size());
        p
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        before_free(ptr, layout.size());
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { self.inner.dealloc(ptr, layout) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { realloc_sampled(&self.inner, ptr, layout, new_size) }
    }
}

/// `realloc` through `inner` with sampling: the old block is forgotten
/// first (its address may be reused as soon as `inner` returns), and
/// remembered again if the reallocation fails.
///
/// # Safety
///
/// The caller's guarantees for [`GlobalAlloc::realloc`] on `inner`.
#[inline]
pub(crate) unsafe fn realloc_sampled<A: GlobalAlloc>(
    inner: &A,
    ptr: *mut u8,
    layout: Layout,
    new_size: usize,
) -> *mut u8 {
    let h = hash_ptr(ptr as usize);
    let forgotten = if GLOBAL.filter[filter_bucket(h)].load(Ordering::Relaxed) != 0 {
        GLOBAL.take(ptr as usize, h)
    } else {
        None
    };
    // SAFETY: forwarded with the caller's guarantees.
    let q = unsafe { inner.realloc(ptr, layout, new_size) };
    if let Some((index, weight)) = forgotten {
        if q.is_null() {
            // The old block lives on: remember it again.
            if !GLOBAL.track(ptr as usize, index, weight) {
                GLOBAL.count_free(index, weight, layout.size() as u64);
                GLOBAL.stats.untracked.fetch_add(1, Ordering::Relaxed);
            }
        } else {
            GLOBAL.count_free(index, weight, layout.size() as u64);
        }
    }
    if !q.is_null() {
        after_alloc(q, new_size);
    }
    q
}

mod snapshot;
pub use snapshot::{HeapSnapshot, StackRecord, Stats};

mod draw;
mod tables;
use draw::*;
use tables::*;

#[cfg(test)]
mod tests;
