//! escape-lab: see why a hot path allocates, prove that it no longer does,
//! and keep it that way in CI.
//!
//! The pipeline, for each [`Scenario`]:
//!
//! 1. three passes ([`model::Pass`]), each in a child process that is this
//!    very binary re-executed: `count` (exact allocations per call with the
//!    counting allocator), `heap` (dhat: allocation sites and stacks), `cpu`
//!    (pprof sampling and time per call, system allocator);
//! 2. the parent renders what the children left ([`pass`]): flamegraphs
//!    ([`flame`]), the allocation-site report ([`sites`]);
//! 3. one `summary.json` ([`model`]) and one `index.html` ([`index`]);
//! 4. the gate ([`gate`]) compares exact counts with a committed baseline.
//!
//! A binary that runs scenarios installs [`Alloc`] as its global allocator
//! and calls [`profile::run`] or [`gate::check::check`] with the same
//! scenarios in parent and children.
#![deny(missing_docs)]

pub mod alloc;
pub mod atomic;
pub mod child;
pub mod diff;
mod error;
pub mod flame;
pub mod fmt;
pub mod gate;
pub mod index;
pub mod model;
pub mod pass;
pub mod profile;
pub mod scenario;
pub mod sites;

pub use alloc::SwitchAlloc as Alloc;
pub use error::Error;
pub use scenario::{CallError, Scenario};
