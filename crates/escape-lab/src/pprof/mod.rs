//! Profiles a Go engineer can open: CPU samples keyed by instruction,
//! symbolized with their inlined frames, heap profiles from dhat, both as
//! pprof protobufs (`profile.proto`), plus folded stacks for flamegraphs and
//! plain-text source listings.
//!
//! One module per job, each usable alone:
//!
//! | module | job |
//! |---|---|
//! | [`cpu`] | runs pprof-rs's sampler and hands back the samples *unresolved*: instruction addresses per stack, leaf first |
//! | [`symbolize`] | addresses → frames (inlined functions expanded, innermost first), file, line, column; cached per address |
//! | [`mapping`] | the executable mappings of this process (`/proc/self/maps`), main binary first, with its GNU build id |
//! | [`encode`] | builds a `profile.proto` [`Profile`](::pprof::protos::Profile): one Location per address with its inlined Lines, Functions, Mappings; the CPU producer; gzip with mtime 0 |
//! | [`read`] | decodes a profile back and indexes its tables by id |
//! | [`heap`] | dhat's `heap.json` → a pprof heap profile with Go's four sample types |
//! | [`fold`] | a profile → folded stacks (`root;...;leaf count`), optionally trimmed at a marker function |
//! | [`source`] | finds source files: the workspace, `rust-src` for std, dhat's shortened paths |
//! | [`costs`] | per-line costs (flat and cum) of a profile, for listings |
//! | [`listing`] | per-line costs → the `pprof -list` of escape-lab, as plain text |
//!
//! The pipeline of the CPU pass:
//!
//! ```no_run
//! # fn scenario() {}
//! // (internal: the library's own modules, reached through its hidden path)
//! use escape_lab::__private::pprof::{cpu, encode, fold, mapping, symbolize};
//!
//! let profiler = cpu::CpuProfiler::start(250)?;
//! scenario();
//! let samples = profiler.stop()?;
//! let mut symbolizer = symbolize::Symbolizer::new();
//! let mappings = mapping::current_process().unwrap_or_default();
//! let options = encode::CpuProfileOptions {
//!     mappings: &mappings,
//!     comments: &["scenario boxed: 12,000 calls"],
//!     ..encode::CpuProfileOptions::default()
//! };
//! let profile = encode::cpu_profile(&samples, &mut symbolizer, &options);
//! let gz = encode::to_gzip(&profile)?; // cpu.pb.gz
//! let folded = fold::fold(&profile, 0, &fold::FoldOptions::default())?; // cpu.svg's input
//! # Ok::<(), escape_lab::__private::pprof::Error>(())
//! ```
//!
//! `heap`, `source`, `costs` and `listing` serve the `lab` passes only; the
//! rest is shared with the live endpoints (feature `live`).

#[cfg(feature = "lab")]
pub mod costs;
pub mod cpu;
pub(crate) mod dwarf;
mod dwarf_names;
#[cfg(test)]
mod dwarf_tests;
mod dwarf_unit;
pub mod encode;
mod error;
pub mod fold;
#[cfg(feature = "lab")]
pub mod heap;
#[cfg(feature = "lab")]
pub mod listing;
pub mod mapping;
mod objects;
pub mod read;
#[cfg(feature = "lab")]
pub mod source;
pub mod symbolize;

pub use error::Error;
