//! Live profiling: Go's `net/http/pprof` for a running Rust process, with a
//! sampling heap profiler that works over any global allocator.
//!
//! Two parts, usable apart:
//!
//! - [`sampler`]: Go's heap sampling (`MemProfileRate`, one allocation per
//!   512 KiB on average, Poisson-distributed, scaled back up to unbiased
//!   estimates) as a global allocator wrapper, [`SamplingAlloc`], over the
//!   system allocator or any other; or as a mode of escape-lab's own
//!   allocator ([`crate::alloc::Mode::Sample`]). Safe to leave on: no
//!   allocation, no lock and no atomic on the unsampled path, fixed tables.
//! - [`server`]: the `/debug/pprof/` endpoints on a thread of their own:
//!   `heap` and `allocs` (pprof protobufs with Go's sample types, from
//!   [`report`]), `profile?seconds=N` (CPU, pprof-rs), and an index page
//!   with flamegraphs. One call starts it ([`serve`], or a [`Server`]
//!   builder); dropping the [`Handle`] stops it.
//!
//! ```no_run
//! use escape_lab::live::SamplingAlloc;
//!
//! #[global_allocator]
//! static ALLOC: SamplingAlloc = SamplingAlloc::system();
//!
//! fn main() -> Result<(), escape_lab::live::LiveError> {
//!     let _pprof = escape_lab::live::serve("127.0.0.1:6060")?;
//!     // ... the program's work; then, from a shell:
//!     // go tool pprof -sample_index=alloc_space -top http://127.0.0.1:6060/debug/pprof/allocs
//!     Ok(())
//! }
//! ```
//!
//! # Exposure
//!
//! The endpoints hand out the program's stacks (function names, file
//! paths, command line) and let any client make it spend CPU on
//! profiling. They have no authentication and no TLS. Listen on loopback
//! (the default; `:port` means loopback here, unlike Go) and reach a remote
//! machine through an SSH tunnel (`ssh -L 6060:127.0.0.1:6060 host`), not
//! by listening on `0.0.0.0`.

mod error;
pub mod report;
pub mod sampler;
pub mod server;

pub use error::LiveError;
pub use sampler::SamplingAlloc;
pub use server::{serve, Handle, Server};
