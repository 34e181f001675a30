//! Live profiling: a sampling heap profiler that works over any global
//! allocator and is safe to leave on in a running process.
//!
//! - [`sampler`]: Go's heap sampling (`MemProfileRate`, one allocation per
//!   512 KiB on average, Poisson-distributed, scaled back up to unbiased
//!   estimates) as a global allocator wrapper, [`SamplingAlloc`], over the
//!   system allocator or any other; or as a mode of escape-lab's own
//!   allocator ([`crate::alloc::Mode::Sample`]). No allocation, no lock and
//!   no atomic on the unsampled path, fixed tables.
//! - [`report`]: a sampler snapshot as a pprof heap profile with Go's four
//!   sample types, for `go tool pprof`.
//!
//! ```no_run
//! use escape_lab::live::{report, sampler, SamplingAlloc};
//! use escape_lab::pprof::{encode, symbolize::Symbolizer};
//!
//! #[global_allocator]
//! static ALLOC: SamplingAlloc = SamplingAlloc::system();
//!
//! fn main() {
//!     // ... the program's work; then:
//!     let profile = report::heap_profile(
//!         &sampler::snapshot(),
//!         &mut Symbolizer::new(),
//!         &report::HeapProfileOptions::default(),
//!     );
//!     std::fs::write("heap.pb.gz", encode::to_gzip(&profile).unwrap()).unwrap();
//! }
//! ```

pub mod report;
pub mod sampler;

pub use sampler::SamplingAlloc;
