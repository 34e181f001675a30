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
}

/// Sets the average number of bytes between samples for the whole process:
/// 0 turns sampling off, 1 samples every allocation. Takes effect in each
/// thread at its next sample (see the module docs).
///
/// # Allocation
///
/// Never allocates.
pub fn set_rate(rate: u64) {
    GLOBAL.rate.store(rate, Ordering::Relaxed);
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

/// The sampler's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Allocations sampled.
    pub samples: u64,
    /// Samples skipped because the thread was already inside the sampled
    /// path (an allocation made while sampling; 0 unless the unwinder
    /// allocates).
    pub reentrant: u64,
    /// Samples counted in the overflow bucket (stack table full, or a stack
    /// still being written by another thread).
    pub stack_overflow: u64,
    /// Sampled blocks not remembered because the live table was full: left
    /// out of *in use*.
    pub untracked: u64,
    /// Sampled stacks deeper than [`MAX_DEPTH`], cut to their innermost
    /// frames.
    pub truncated: u64,
    /// Sampled blocks remembered as live now.
    pub live: u64,
    /// Distinct stacks in the table.
    pub stacks: u64,
}

/// What [`snapshot`] returns.
#[derive(Clone, Debug, PartialEq)]
pub struct HeapSnapshot {
    /// The rate in force when it was taken (average bytes between samples).
    pub rate: u64,
    /// One entry per distinct stack sampled, the overflow bucket last.
    pub stacks: Vec<StackRecord>,
    /// The counters when it was taken.
    pub stats: Stats,
}

/// One sampled stack and its estimated totals.
#[derive(Clone, Debug, PartialEq)]
pub struct StackRecord {
    /// Instruction addresses, innermost first, as the unwinder gave them:
    /// the first inside the sampler itself, the others return addresses.
    /// Empty for the overflow bucket.
    pub frames: Vec<u64>,
    /// Whether this is the overflow bucket.
    pub overflow: bool,
    /// Allocations sampled on this stack.
    pub samples: u64,
    /// Estimated allocations made (scaled up).
    pub alloc_objects: f64,
    /// Estimated bytes allocated.
    pub alloc_bytes: f64,
    /// Estimated allocations freed.
    pub free_objects: f64,
    /// Estimated bytes freed.
    pub free_bytes: f64,
}

impl StackRecord {
    /// Estimated allocations still live.
    #[must_use]
    pub fn inuse_objects(&self) -> f64 {
        self.alloc_objects - self.free_objects
    }

    /// Estimated bytes still live.
    #[must_use]
    pub fn inuse_bytes(&self) -> f64 {
        self.alloc_bytes - self.free_bytes
    }
}

impl HeapSnapshot {
    /// What happened between `earlier` and `self`: every stack's figures
    /// minus its figures in `earlier` (Go's delta profile, `?seconds=N`).
    /// *In use* becomes the change in use, which can be negative. Stacks
    /// without samples in between are left out.
    ///
    /// # Allocation
    ///
    /// The new snapshot and a map of `earlier`'s stacks.
    #[must_use]
    pub fn since(&self, earlier: &HeapSnapshot) -> HeapSnapshot {
        let before: std::collections::HashMap<(&[u64], bool), &StackRecord> = earlier
            .stacks
            .iter()
            .map(|s| ((s.frames.as_slice(), s.overflow), s))
            .collect();
        let stacks = self
            .stacks
            .iter()
            .filter_map(|s| {
                let mut d = s.clone();
                if let Some(b) = before.get(&(s.frames.as_slice(), s.overflow)) {
                    d.samples = s.samples.saturating_sub(b.samples);
                    d.alloc_objects -= b.alloc_objects;
                    d.alloc_bytes -= b.alloc_bytes;
                    d.free_objects -= b.free_objects;
                    d.free_bytes -= b.free_bytes;
                }
                let changed = d.samples > 0 || d.free_objects != 0.0;
                changed.then_some(d)
            })
            .collect();
        let e = &earlier.stats;
        let n = &self.stats;
        HeapSnapshot {
            rate: self.rate,
            stacks,
            stats: Stats {
                samples: n.samples.saturating_sub(e.samples),
                reentrant: n.reentrant.saturating_sub(e.reentrant),
                stack_overflow: n.stack_overflow.saturating_sub(e.stack_overflow),
                untracked: n.untracked.saturating_sub(e.untracked),
                truncated: n.truncated.saturating_sub(e.truncated),
                live: n.live,
                stacks: n.stacks,
            },
        }
    }

    /// The estimates summed over every stack: allocated objects, allocated
    /// bytes, freed objects, freed bytes.
    ///
    /// # Allocation
    ///
    /// Never allocates.
    #[must_use]
    pub fn totals(&self) -> [f64; 4] {
        self.stacks.iter().fold([0.0; 4], |t, s| {
            [
                t[0] + s.alloc_objects,
                t[1] + s.alloc_bytes,
                t[2] + s.free_objects,
                t[3] + s.free_bytes,
            ]
        })
    }
}

// ---------------------------------------------------------------------------
// Maintainers: the tables and the sampled path.

/// An `f64` in an `AtomicU64`, added to with compare-and-swap.
struct AtomicF64(AtomicU64);

impl AtomicF64 {
    const fn zero() -> AtomicF64 {
        AtomicF64(AtomicU64::new(0)) // 0.0's bits
    }

    fn add(&self, v: f64) {
        let mut cur = self.0.load(Ordering::Relaxed);
        loop {
            let new = (f64::from_bits(cur) + v).to_bits();
            match self
                .0
                .compare_exchange_weak(cur, new, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return,
                Err(c) => cur = c,
            }
        }
    }

    fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }
}

/// One stack's totals.
struct Counters {
    samples: AtomicU64,
    alloc_objects: AtomicF64,
    alloc_bytes: AtomicF64,
    free_objects: AtomicF64,
    free_bytes: AtomicF64,
}

impl Counters {
    const fn new() -> Counters {
        Counters {
            samples: AtomicU64::new(0),
            alloc_objects: AtomicF64::zero(),
            alloc_bytes: AtomicF64::zero(),
            free_objects: AtomicF64::zero(),
            free_bytes: AtomicF64::zero(),
        }
    }
}

struct StackSlot {
    /// The stack's hash, never 0 once claimed; 0 while empty.
    hash: AtomicU64,
    /// Set (release) once `depth` and `frames` are written.
    ready: AtomicBool,
    depth: AtomicUsize,
    frames: [AtomicUsize; MAX_DEPTH],
    counters: Counters,
}

impl StackSlot {
    const fn new() -> StackSlot {
        StackSlot {
            hash: AtomicU64::new(0),
            ready: AtomicBool::new(false),
            depth: AtomicUsize::new(0),
            frames: [const { AtomicUsize::new(0) }; MAX_DEPTH],
            counters: Counters::new(),
        }
    }

    fn same_frames(&self, frames: &[usize]) -> bool {
        self.depth.load(Ordering::Relaxed) == frames.len()
            && self
                .frames
                .iter()
                .zip(frames)
                .all(|(a, &b)| a.load(Ordering::Relaxed) == b)
    }
}

struct StatCounters {
    samples: AtomicU64,
    reentrant: AtomicU64,
    stack_overflow: AtomicU64,
    untracked: AtomicU64,
    truncated: AtomicU64,
    live: AtomicU64,
    stacks: AtomicU64,
}

/// All the sampler's state: fixed-size, zero-initialised, no pointers to
/// the heap. The process's instance is a static; tests make their own.
pub(crate) struct Tables {
    rate: AtomicU64,
    stacks: [StackSlot; STACK_SLOTS],
    overflow: Counters,
    live_ptr: [AtomicUsize; LIVE_SLOTS],
    live_stack: [AtomicU32; LIVE_SLOTS],
    live_weight: [AtomicU64; LIVE_SLOTS],
    /// Per bucket of pointer hashes, how many live sampled blocks fall in
    /// it: a free whose bucket is 0 was not sampled.
    filter: [AtomicU32; FILTER_BUCKETS],
    stats: StatCounters,
}

impl Tables {
    pub(crate) const fn new(rate: u64) -> Tables {
        Tables {
            rate: AtomicU64::new(rate),
            stacks: [const { StackSlot::new() }; STACK_SLOTS],
            overflow: Counters::new(),
            live_ptr: [const { AtomicUsize::new(EMPTY) }; LIVE_SLOTS],
            live_stack: [const { AtomicU32::new(0) }; LIVE_SLOTS],
            live_weight: [const { AtomicU64::new(0) }; LIVE_SLOTS],
            filter: [const { AtomicU32::new(0) }; FILTER_BUCKETS],
            stats: StatCounters {
                samples: AtomicU64::new(0),
                reentrant: AtomicU64::new(0),
                stack_overflow: AtomicU64::new(0),
                untracked: AtomicU64::new(0),
                truncated: AtomicU64::new(0),
                live: AtomicU64::new(0),
                stacks: AtomicU64::new(0),
            },
        }
    }

    /// A fresh set of tables on the heap, for tests (too big for a stack).
    #[cfg(test)]
    pub(crate) fn boxed(rate: u64) -> Box<Tables> {
        // SAFETY: every field is an atomic integer (or an array or struct
        // of them), for which all-zero bytes are a valid value; `EMPTY` is
        // 0. The rate is set after.
        let t: Box<Tables> = unsafe { Box::<Tables>::new_zeroed().assume_init() };
        t.rate.store(rate, Ordering::Relaxed);
        t
    }

    pub(crate) fn rate(&self) -> u64 {
        self.rate.load(Ordering::Relaxed)
    }

    fn counters(&self, index: u32) -> &Counters {
        if index == OVERFLOW_INDEX {
            &self.overflow
        } else {
            &self.stacks[index as usize].counters
        }
    }

    /// Records one sampled allocation of `size` bytes at `ptr` standing for
    /// `weight` allocations, on the stack `frames` (innermost first).
    pub(crate) fn record(
        &self,
        ptr: usize,
        size: u64,
        weight: f64,
        frames: &[usize],
        truncated: bool,
    ) {
        self.stats.samples.fetch_add(1, Ordering::Relaxed);
        if truncated {
            self.stats.truncated.fetch_add(1, Ordering::Relaxed);
        }
        let index = self.stack_index(frames);
        let c = self.counters(index);
        c.samples.fetch_add(1, Ordering::Relaxed);
        c.alloc_objects.add(weight);
        c.alloc_bytes.add(weight * size as f64);
        if !self.track(ptr, index, weight) {
            self.stats.untracked.fetch_add(1, Ordering::Relaxed);
            self.count_free(index, weight, size);
        }
    }

    /// The slot of `frames` in the stack table, adding it if new, or
    /// [`OVERFLOW_INDEX`].
    fn stack_index(&self, frames: &[usize]) -> u32 {
        let h = hash_frames(frames);
        let mask = STACK_SLOTS - 1;
        let mut i = h as usize & mask;
        for _ in 0..STACK_PROBES {
            let slot = &self.stacks[i];
            let mut cur = slot.hash.load(Ordering::Acquire);
            if cur == 0 {
                match slot
                    .hash
                    .compare_exchange(0, h, Ordering::AcqRel, Ordering::Acquire)
                {
                    Ok(_) => {
                        slot.depth.store(frames.len(), Ordering::Relaxed);
                        for (f, &ip) in slot.frames.iter().zip(frames) {
                            f.store(ip, Ordering::Relaxed);
                        }
                        slot.ready.store(true, Ordering::Release);
                        self.stats.stacks.fetch_add(1, Ordering::Relaxed);
                        return i as u32;
                    }
                    Err(c) => cur = c,
                }
            }
            if cur == h {
                let mut spins = 0;
                while !slot.ready.load(Ordering::Acquire) {
                    if spins == READY_SPINS {
                        self.stats.stack_overflow.fetch_add(1, Ordering::Relaxed);
                        return OVERFLOW_INDEX;
                    }
                    spins += 1;
                    std::hint::spin_loop();
                }
                if slot.same_frames(frames) {
                    return i as u32;
                }
            }
            i = (i + 1) & mask;
        }
        self.stats.stack_overflow.fetch_add(1, Ordering::Relaxed);
        OVERFLOW_INDEX
    }

    /// Remembers the live sampled block `ptr`; false when the live table
    /// has no free slot within [`LIVE_PROBES`] of its hash.
    fn track(&self, ptr: usize, index: u32, weight: f64) -> bool {
        let h = hash_ptr(ptr);
        let bucket = &self.filter[filter_bucket(h)];
        // Counted before the block is published, so a free never misses it.
        bucket.fetch_add(1, Ordering::Relaxed);
        let mask = LIVE_SLOTS - 1;
        let mut i = live_home(h);
        for _ in 0..LIVE_PROBES {
            let cur = self.live_ptr[i].load(Ordering::Relaxed);
            if (cur == EMPTY || cur == TOMBSTONE)
                && self.live_ptr[i]
                    .compare_exchange(cur, ptr, Ordering::Relaxed, Ordering::Relaxed)
                    .is_ok()
            {
                // Read only by the free of `ptr`, which happens after the
                // allocation returned.
                self.live_stack[i].store(index, Ordering::Relaxed);
                self.live_weight[i].store(weight.to_bits(), Ordering::Relaxed);
                self.stats.live.fetch_add(1, Ordering::Relaxed);
                return true;
            }
            i = (i + 1) & mask;
        }
        bucket.fetch_sub(1, Ordering::Relaxed);
        false
    }

    /// Forgets `ptr` if it is a live sampled block: its stack index and
    /// weight. `h` is [`hash_ptr`] of it.
    fn take(&self, ptr: usize, h: u64) -> Option<(u32, f64)> {
        let mask = LIVE_SLOTS - 1;
        let mut i = live_home(h);
        for _ in 0..LIVE_PROBES {
            let cur = self.live_ptr[i].load(Ordering::Relaxed);
            if cur == EMPTY {
                return None;
            }
            if cur == ptr {
                // Read before the slot is released: once it is a tombstone
                // another block may claim it.
                let index = self.live_stack[i].load(Ordering::Relaxed);
                let weight = f64::from_bits(self.live_weight[i].load(Ordering::Relaxed));
                if self.live_ptr[i]
                    .compare_exchange(ptr, TOMBSTONE, Ordering::Relaxed, Ordering::Relaxed)
                    .is_ok()
                {
                    self.filter[filter_bucket(h)].fetch_sub(1, Ordering::Relaxed);
                    self.stats.live.fetch_sub(1, Ordering::Relaxed);
                    return Some((index, weight));
                }
                return None;
            }
            i = (i + 1) & mask;
        }
        None
    }

    /// The free of `ptr` (`size` bytes): if it was sampled, its estimate
    /// moves to its stack's frees. One filter load when it was not.
    #[inline]
    pub(crate) fn free(&self, ptr: usize, size: u64) {
        let h = hash_ptr(ptr);
        if self.filter[filter_bucket(h)].load(Ordering::Relaxed) != 0 {
            self.untrack(ptr, size, h);
        }
    }

    /// [`Tables::free`]'s slow half.
    #[cold]
    #[inline(never)]
    fn untrack(&self, ptr: usize, size: u64, h: u64) {
        if let Some((index, weight)) = self.take(ptr, h) {
            self.count_free(index, weight, size);
        }
    }

    fn count_free(&self, index: u32, weight: f64, size: u64) {
        let c = self.counters(index);
        c.free_objects.add(weight);
        c.free_bytes.add(weight * size as f64);
    }

    pub(crate) fn stats(&self) -> Stats {
        let s = &self.stats;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Stats {
            samples: get(&s.samples),
            reentrant: get(&s.reentrant),
            stack_overflow: get(&s.stack_overflow),
            untracked: get(&s.untracked),
            truncated: get(&s.truncated),
            live: get(&s.live),
            stacks: get(&s.stacks),
        }
    }

    pub(crate) fn snapshot(&self) -> HeapSnapshot {
        let record = |frames: Vec<u64>, overflow: bool, c: &Counters| StackRecord {
            frames,
            overflow,
            samples: c.samples.load(Ordering::Relaxed),
            alloc_objects: c.alloc_objects.get(),
            alloc_bytes: c.alloc_bytes.get(),
            free_objects: c.free_objects.get(),
            free_bytes: c.free_bytes.get(),
        };
        let mut stacks = Vec::new();
        for slot in &self.stacks {
            if !slot.ready.load(Ordering::Acquire) {
                continue;
            }
            let depth = slot.depth.load(Ordering::Relaxed).min(MAX_DEPTH);
            let frames = slot.frames[..depth]
                .iter()
                .map(|f| f.load(Ordering::Relaxed) as u64)
                .collect();
            let r = record(frames, false, &slot.counters);
            if r.samples > 0 {
                stacks.push(r);
            }
        }
        let r = record(Vec::new(), true, &self.overflow);
        if r.samples > 0 {
            stacks.push(r);
        }
        HeapSnapshot {
            rate: self.rate(),
            stacks,
            stats: self.stats(),
        }
    }
}

/// The per-thread half of the scheme: the countdown and the random state.
/// `countdown` and `rng` are the thread's cells (thread-locals in the
/// process, plain cells in tests). Returns the weight of the allocation
/// when it is sampled. Called when `size >= countdown`.
pub(crate) fn decide(rate: u64, size: u64, countdown: &Cell<u64>, rng: &Cell<u64>) -> Option<f64> {
    if rng.get() == 0 {
        // First allocation on this thread: seed, draw, and decide afresh.
        rng.set(seed());
        let c = draw(rate, rng);
        if size < c {
            countdown.set(c - size);
            return None;
        }
    }
    if rate == 0 {
        countdown.set(OFF_RECHECK_BYTES);
        return None;
    }
    countdown.set(draw(rate, rng));
    Some(weight(rate, size))
}

/// How many allocations one sampled allocation of `size` bytes stands for:
/// `1 / (1 - exp(-size / rate))`, 1 when every allocation is sampled.
#[must_use]
pub(crate) fn weight(rate: u64, size: u64) -> f64 {
    if rate <= 1 {
        return 1.0;
    }
    let p = -(-(size as f64) / rate as f64).exp_m1();
    if p > 0.0 {
        1.0 / p
    } else {
        // size 0: never sampled unless the countdown is 0; count it once.
        1.0
    }
}

/// Bytes until the next sample: `ceil(Exp(mean rate))`, so that an
/// allocation of `size` bytes is sampled (countdown ≤ size) with
/// probability exactly `1 - exp(-size / rate)`. 0 (sample everything) for
/// rate 1, [`OFF_RECHECK_BYTES`] for rate 0.
fn draw(rate: u64, rng: &Cell<u64>) -> u64 {
    match rate {
        0 => OFF_RECHECK_BYTES,
        1 => 0,
        _ => {
            // Uniform in (0, 1]: never ln(0).
            let u = ((next_u64(rng) >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64);
            let x = -u.ln() * rate as f64;
            x.ceil() as u64
        }
    }
}

/// splitmix64.
fn next_u64(rng: &Cell<u64>) -> u64 {
    let s = rng.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
    rng.set(if s == 0 { 1 } else { s });
    let mut z = s;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A seed for a new thread: a global counter mixed with the address of this
/// thread's locals (different per thread and, with ASLR, per run).
fn seed() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0x2545_F491_4F6C_DD1D);
    let n = NEXT.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
    let here = RNG.with(|c| c as *const Cell<u64> as u64);
    let s = n ^ here.rotate_left(29);
    if s == 0 {
        1
    } else {
        s
    }
}

/// The sampled path: decide, capture, record. Never allocates; an
/// allocation made while it runs (on this thread) is not sampled.
#[cold]
#[inline(never)]
fn sampled_path(t: &Tables, ptr: usize, size: u64) {
    let Some(weight) = COUNTDOWN
        .try_with(|c| {
            RNG.try_with(|r| decide(t.rate(), size, c, r))
                .ok()
                .flatten()
        })
        .ok()
        .flatten()
    else {
        return;
    };
    if BUSY.try_with(|b| b.replace(true)).unwrap_or(true) {
        t.stats.reentrant.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let mut frames = [0usize; MAX_DEPTH];
    let mut depth = 0;
    let mut truncated = false;
    // SAFETY: `trace_unsynchronized` is `trace` without the backtrace
    // crate's global lock, unsafe only where the platform's unwinder is not
    // thread-safe (dbghelp on Windows). On Unix it is libgcc's
    // `_Unwind_Backtrace`, which is; the BUSY guard keeps this thread from
    // nesting a second walk from the sampler.
    unsafe {
        backtrace::trace_unsynchronized(|frame| {
            if depth == MAX_DEPTH {
                truncated = true;
                return false;
            }
            frames[depth] = frame.ip() as usize;
            depth += 1;
            true
        });
    }
    t.record(ptr, size, weight, &frames[..depth], truncated);
    let _ = BUSY.try_with(|b| b.set(false));
}

/// murmur3's 64-bit finaliser: every input bit moves every output bit.
fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

/// A hash of a stack, never 0.
fn hash_frames(frames: &[usize]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ frames.len() as u64;
    for &f in frames {
        h = mix(h ^ f as u64);
    }
    h | 1
}

/// The hash of a block address: its high bits folded into its low ones,
/// then Fibonacci hashing (one multiply, the top bits kept). The fold
/// matters: malloc's blocks of one size sit at a fixed stride in per-thread
/// arenas whose bases differ by multiples of 64 MiB, and plain Fibonacci
/// hashing put eight threads' blocks on the same few slots (probe runs of
/// 20 and more where this gives 3 or 4). The live table's home slot is the
/// top 15 bits, the filter's bucket the top 13 (a bucket covers four home
/// slots).
#[inline(always)]
fn hash_ptr(ptr: usize) -> u64 {
    let p = ptr as u64;
    (p ^ (p >> 21) ^ (p >> 37)).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

#[inline(always)]
fn filter_bucket(h: u64) -> usize {
    (h >> FILTER_SHIFT) as usize
}

#[inline(always)]
fn live_home(h: u64) -> usize {
    (h >> (64 - LIVE_SLOTS.trailing_zeros())) as usize
}

#[cfg(test)]
#[path = "sampler_tests.rs"]
mod tests;
