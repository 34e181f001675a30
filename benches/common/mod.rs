//! Code shared by the bench binaries: the engines (our variants and the
//! peers) behind one interface, the allocation record each benchmark fills
//! from inside its own routine, its table and its JSON files, and the
//! flamegraph profiler.
//!
//! criterion owns its command line and its files: nothing here reads either.
//! What criterion cannot measure (allocations) is measured here, inside the
//! routine criterion calls, so a filtered run records exactly the benchmarks
//! criterion ran.
//!
//! Each bench binary includes this module with `mod common;`; a binary that
//! uses only part of it would warn about the rest, hence the `allow`.
#![allow(dead_code)]

pub mod engines;
#[cfg(feature = "hyperscan")]
pub mod hyperscan;
pub mod profiler;
pub mod record;
pub mod results;
pub mod table;

use std::time::Duration;

use criterion::Criterion;

/// Whether this is an unoptimised build (`cargo test --benches` builds the
/// benches with the `test` profile, `cargo bench` with `bench`). Timing an
/// unoptimised build means nothing, and CI runs it as a smoke test, so such
/// builds keep their inputs small: haystacks cut to [`UNOPTIMISED_HAYSTACK`]
/// bytes, one build per engine, no aho-corasick DFA over large dictionaries.
/// This is a property of the build, not of criterion's arguments.
pub const UNOPTIMISED: bool = cfg!(debug_assertions);

/// Haystack bytes per op in an [unoptimised](UNOPTIMISED) build: 32 calls of
/// 2,048 bytes.
pub const UNOPTIMISED_HAYSTACK: usize = 64 * 1024;

/// The criterion configuration of every bench: the flamegraph profiler for
/// `--profile-time`, and shorter times than criterion's defaults (3 s
/// warm-up, 5 s measurement, 100 samples), so that the whole `cargo bench`
/// stays within minutes on a 2-core machine. An iteration of the workload
/// benches covers a whole haystack (milliseconds), so twenty samples in three
/// seconds still give stable medians. Command-line options
/// (`--measurement-time`, `--sample-size`, ...) override these; groups may
/// set their own.
pub fn criterion_config() -> Criterion {
    Criterion::default()
        .with_profiler(profiler::FlameProfiler::new(
            escape_lab::__private::pprof::cpu::MAX_FREQUENCY_HZ,
        ))
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20)
}

/// Panics unless the counting allocator is this binary's global allocator:
/// the positive control without which a count of zero means nothing.
pub fn assert_counting() {
    assert!(
        countalloc::is_active(),
        "countalloc::CountingAlloc is not the global allocator of this bench; allocation counts would all read zero"
    );
}
