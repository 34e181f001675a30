//! escape-lab's profiling harness: scenarios, passes in child processes,
//! artifacts, reports, and the allocation gate.
//!
//! The pipeline, for each [`Scenario`](scenario::Scenario):
//!
//! 1. three passes ([`pass::Pass`]), each in a child process that is this
//!    very binary re-executed: `count` (exact allocations per call with the
//!    counting allocator), `heap` (dhat: allocation sites and stacks), `cpu`
//!    (pprof sampling and time per call, system allocator);
//! 2. the parent renders what the children left: flamegraphs ([`flame`]),
//!    the allocation-site report ([`sites`]);
//! 3. one `summary.json` ([`summary`]) and one `index.html` ([`index`]).
//!
//! A binary that runs scenarios installs [`alloc::SwitchAlloc`] as its
//! global allocator and calls [`profile::run`] with the same scenarios in
//! parent and children. `examples/custom_scenarios.rs` at the workspace root
//! shows it with two scenarios of its own.
#![deny(missing_docs)]

pub mod alloc;
pub mod atomic;
pub mod commands;
mod error;
pub mod flame;
pub mod gate;
pub mod index;
pub mod pass;
pub mod profile;
pub mod scenario;
pub mod sites;
pub mod summary;

pub use error::HarnessError;

// The crates below the harness, for binaries that depend on it alone.
pub use acmatch;
pub use cases;
pub use countalloc;
pub use workload;
