//! The sampler's fixed tables and the sampled path: stacks, live blocks
//! and the free filter (the countdown and the hashes are in `draw`).
//! Nothing here allocates.

use super::*;

// ---------------------------------------------------------------------------
// Maintainers: the tables and the sampled path.

/// An `f64` in an `AtomicU64`, added to with compare-and-swap.
pub(super) struct AtomicF64(pub(super) AtomicU64);

impl AtomicF64 {
    pub(super) const fn zero() -> AtomicF64 {
        AtomicF64(AtomicU64::new(0)) // 0.0's bits
    }

    pub(super) fn add(&self, v: f64) {
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

    pub(super) fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }
}

/// One stack's totals.
pub(super) struct Counters {
    pub(super) samples: AtomicU64,
    pub(super) alloc_objects: AtomicF64,
    pub(super) alloc_bytes: AtomicF64,
    pub(super) free_objects: AtomicF64,
    pub(super) free_bytes: AtomicF64,
}

impl Counters {
    pub(super) const fn new() -> Counters {
        Counters {
            samples: AtomicU64::new(0),
            alloc_objects: AtomicF64::zero(),
            alloc_bytes: AtomicF64::zero(),
            free_objects: AtomicF64::zero(),
            free_bytes: AtomicF64::zero(),
        }
    }
}

pub(super) struct StackSlot {
    /// The stack's hash, never 0 once claimed; 0 while empty.
    pub(super) hash: AtomicU64,
    /// Set (release) once `depth` and `frames` are written.
    pub(super) ready: AtomicBool,
    pub(super) depth: AtomicUsize,
    pub(super) frames: [AtomicUsize; MAX_DEPTH],
    pub(super) counters: Counters,
}

impl StackSlot {
    pub(super) const fn new() -> StackSlot {
        StackSlot {
            hash: AtomicU64::new(0),
            ready: AtomicBool::new(false),
            depth: AtomicUsize::new(0),
            frames: [const { AtomicUsize::new(0) }; MAX_DEPTH],
            counters: Counters::new(),
        }
    }

    pub(super) fn same_frames(&self, frames: &[usize]) -> bool {
        self.depth.load(Ordering::Relaxed) == frames.len()
            && self
                .frames
                .iter()
                .zip(frames)
                .all(|(a, &b)| a.load(Ordering::Relaxed) == b)
    }
}

pub(super) struct StatCounters {
    pub(super) samples: AtomicU64,
    pub(super) reentrant: AtomicU64,
    pub(super) unsampled: AtomicU64,
    pub(super) stack_overflow: AtomicU64,
    pub(super) untracked: AtomicU64,
    pub(super) truncated: AtomicU64,
    pub(super) live: AtomicU64,
    pub(super) stacks: AtomicU64,
}

/// All the sampler's state: fixed-size, zero-initialised, no pointers to
/// the heap. The process's instance is a static; tests make their own.
pub(crate) struct Tables {
    pub(super) rate: AtomicU64,
    pub(super) stacks: [StackSlot; STACK_SLOTS],
    pub(super) overflow: Counters,
    pub(super) live_ptr: [AtomicUsize; LIVE_SLOTS],
    pub(super) live_stack: [AtomicU32; LIVE_SLOTS],
    pub(super) live_weight: [AtomicU64; LIVE_SLOTS],
    /// Per bucket of pointer hashes, how many live sampled blocks fall in
    /// it: a free whose bucket is 0 was not sampled.
    pub(super) filter: [AtomicU32; FILTER_BUCKETS],
    pub(super) stats: StatCounters,
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
                unsampled: AtomicU64::new(0),
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

    pub(super) fn counters(&self, index: u32) -> &Counters {
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
    pub(super) fn stack_index(&self, frames: &[usize]) -> u32 {
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
    pub(super) fn track(&self, ptr: usize, index: u32, weight: f64) -> bool {
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
    pub(super) fn take(&self, ptr: usize, h: u64) -> Option<(u32, f64)> {
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
    pub(super) fn untrack(&self, ptr: usize, size: u64, h: u64) {
        if let Some((index, weight)) = self.take(ptr, h) {
            self.count_free(index, weight, size);
        }
    }

    pub(super) fn count_free(&self, index: u32, weight: f64, size: u64) {
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
            unsampled: get(&s.unsampled),
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

/// The sampled path: decide, capture, record. Never allocates; an
/// allocation made while it runs (on this thread) is not sampled.
#[cold]
#[inline(never)]
pub(super) fn sampled_path(t: &Tables, ptr: usize, size: u64) {
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
    // The countdown was drawn again above, so a thread left out reaches
    // this point once per sample it would have taken, not on every
    // allocation.
    if super::unsampled() {
        t.stats.unsampled.fetch_add(1, Ordering::Relaxed);
        return;
    }
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
