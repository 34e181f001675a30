//! What the sampler hands out: its counters and a snapshot of the sampled
//! stacks, as plain values.

/// The sampler's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Allocations sampled.
    pub samples: u64,
    /// Samples skipped because the thread was already inside the sampled
    /// path (an allocation made while sampling; 0 unless the unwinder
    /// allocates).
    pub reentrant: u64,
    /// Samples not taken because the thread was [`Unsampled`](super::Unsampled) (the profile
    /// server's own allocations).
    pub unsampled: u64,
    /// Samples counted in the overflow bucket (stack table full, or a stack
    /// still being written by another thread).
    pub stack_overflow: u64,
    /// Sampled blocks not remembered because the live table was full: left
    /// out of *in use*.
    pub untracked: u64,
    /// Sampled stacks deeper than [`MAX_DEPTH`](super::MAX_DEPTH), cut to their innermost
    /// frames.
    pub truncated: u64,
    /// Sampled blocks remembered as live now.
    pub live: u64,
    /// Distinct stacks in the table.
    pub stacks: u64,
}

/// What [`snapshot`](super::snapshot()) returns.
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

    /// Estimated bytes still live. Never allocates.
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
                unsampled: n.unsampled.saturating_sub(e.unsampled),
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
