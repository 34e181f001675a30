//! A [`HeapSnapshot`] → a pprof heap profile as Go's `/debug/pprof/heap`
//! writes one: sample types `alloc_objects/count`, `alloc_space/bytes`,
//! `inuse_objects/count`, `inuse_space/bytes`, period type `space/bytes`
//! with the sampling rate as the period, one Location per address with its
//! inlined frames, the process's Mappings (main binary first, link-time
//! addresses), through [`crate::pprof::encode::ProfileBuilder`].
//!
//! Values are the sampler's estimates (already scaled up, see
//! [`super::sampler`]), rounded to whole objects and bytes. The frames of
//! the allocator and of the sampler itself (the unwinder, the sampler, every
//! `GlobalAlloc` method, `__rust_alloc`, `alloc::alloc::*`) are removed from
//! the top of each stack, as in Go's profiles and in
//! [`crate::pprof::heap`], so a stack's leaf is `Box::new` or
//! `RawVecInner::finish_grow`, called from the code that allocated.

use std::time::{Duration, SystemTime};

use super::sampler::HeapSnapshot;
use crate::pprof::encode::{Addresses, Profile, ProfileBuilder};
use crate::pprof::mapping::Mapping;
use crate::pprof::symbolize::trim_allocator_frames;
use crate::pprof::symbolize::{Frame, Symbolizer};

/// The function name of the overflow bucket's one frame.
pub const OVERFLOW_FRAME: &str = "[escape-lab sampler: stack table full]";

/// Go's four heap sample types, in Go's order.
pub const SAMPLE_TYPES: [(&str, &str); 4] = [
    ("alloc_objects", "count"),
    ("alloc_space", "bytes"),
    ("inuse_objects", "count"),
    ("inuse_space", "bytes"),
];

/// How to write the profile.
#[derive(Clone, Copy, Debug)]
pub struct HeapProfileOptions<'a> {
    /// The sample type `go tool pprof` shows without `-sample_index`:
    /// `inuse_space` for `/heap` (Go's), `alloc_space` for `/allocs`.
    /// Default: `inuse_space`.
    pub default_sample_type: &'a str,
    /// The executable mappings of this process, main binary first (see
    /// [`mapping::current_process`](crate::pprof::mapping::current_process)).
    /// Default: none.
    pub mappings: &'a [Mapping],
    /// Which addresses to write. Default: the main binary's at link time.
    pub addresses: Addresses,
    /// For a delta profile (`?seconds=N`), how long it covers; `None` for
    /// totals since sampling started. Default: `None`.
    pub delta: Option<Duration>,
    /// More comments, after the generated ones. Default: none.
    pub comments: &'a [&'a str],
    /// Keep the allocator's and the sampler's frames (debugging the
    /// sampler). Default: false.
    pub keep_allocator_frames: bool,
}

impl Default for HeapProfileOptions<'_> {
    fn default() -> Self {
        HeapProfileOptions {
            default_sample_type: "inuse_space",
            mappings: &[],
            addresses: Addresses::default(),
            delta: None,
            comments: &[],
            keep_allocator_frames: false,
        }
    }
}

/// The snapshot as a pprof heap profile (see the module docs). Stacks whose
/// four rounded values are all zero are left out.
///
/// # Allocation
///
/// The profile (tables, strings, one sample per stack), and the
/// symbolizer's cache entries for addresses it had not seen.
#[must_use]
pub fn heap_profile(
    snapshot: &HeapSnapshot,
    symbolizer: &mut Symbolizer,
    options: &HeapProfileOptions<'_>,
) -> Profile {
    let mut b = ProfileBuilder::new(
        &SAMPLE_TYPES,
        ("space", "bytes"),
        i64::try_from(snapshot.rate).unwrap_or(i64::MAX),
    );
    b.set_mappings(options.mappings, options.addresses);
    b.default_sample_type(options.default_sample_type);
    b.set_time(SystemTime::now(), options.delta.unwrap_or(Duration::ZERO));
    for c in comments(snapshot, options.delta) {
        b.comment(&c);
    }
    for c in options.comments {
        b.comment(c);
    }

    // Every stack's addresses symbolized in one pass (see
    // `Symbolizer::resolve_many`), the loop below then only hits the cache.
    symbolizer.prefetch_stacks(
        snapshot
            .stacks
            .iter()
            .filter(|s| !s.overflow)
            .map(|s| s.frames.as_slice()),
    );
    for s in &snapshot.stacks {
        let round = |v: f64| v.round() as i64;
        let values = [
            round(s.alloc_objects),
            round(s.alloc_bytes),
            round(s.inuse_objects()),
            round(s.inuse_bytes()),
        ];
        if values.iter().all(|&v| v == 0) {
            continue;
        }
        let mut stack: Vec<(u64, Vec<Frame>)> = if s.overflow {
            vec![(
                0,
                vec![Frame {
                    function: OVERFLOW_FRAME.to_owned(),
                    system_name: String::new(),
                    file: None,
                    line: None,
                    column: None,
                }],
            )]
        } else {
            symbolizer
                .resolve_stack(&s.frames)
                .into_iter()
                .map(|l| (l.address, l.frames.to_vec()))
                .collect()
        };
        if !options.keep_allocator_frames {
            trim_allocator_frames(&mut stack, &[]);
        }
        let ids = stack
            .iter()
            .map(|(address, frames)| b.location(*address, frames))
            .collect();
        b.sample(ids, &values);
    }
    b.build()
}

/// What the profile says about itself.
fn comments(snapshot: &HeapSnapshot, delta: Option<Duration>) -> Vec<String> {
    let mut out = vec![format!(
        "escape-lab live heap profile: sampled, one allocation per {} bytes on average (Go's MemProfileRate); \
         each sampled allocation of size s counts 1/(1-exp(-s/rate)) allocations, an unbiased estimate",
        crate::fmt::group(snapshot.rate)
    )];
    out.push(match delta {
        Some(d) => format!(
            "delta profile: what was allocated, and the change in use, over the last {:.0} s",
            d.as_secs_f64()
        ),
        None => "values are totals since sampling started; inuse: still live now".to_owned(),
    });
    out.push("a realloc counts as a free and an allocation of the new size".to_owned());
    let st = &snapshot.stats;
    out.push(format!(
        "{} allocations sampled, {} distinct stacks",
        crate::fmt::group(st.samples),
        crate::fmt::group(st.stacks)
    ));
    if st.stack_overflow > 0 {
        out.push(format!(
            "{} samples counted under {OVERFLOW_FRAME}",
            crate::fmt::group(st.stack_overflow)
        ));
    }
    if st.untracked > 0 {
        out.push(format!(
            "{} sampled blocks not tracked (live table full): left out of inuse",
            crate::fmt::group(st.untracked)
        ));
    }
    if st.truncated > 0 {
        out.push(format!(
            "{} stacks deeper than {} frames kept only their innermost frames",
            crate::fmt::group(st.truncated),
            super::sampler::MAX_DEPTH
        ));
    }
    out
}
