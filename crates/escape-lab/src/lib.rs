//! **escape-lab**: see why a hot path allocates, prove that it no longer
//! does, and keep it that way in CI.
//!
//! Go programmers have `go test -benchmem`, `testing.AllocsPerRun`, pprof's
//! allocation profiles and the compiler's escape analysis. This crate gives
//! a Rust crate the same workflow, with exact counts: declare *scenarios*
//! (a name, a setup, one call), and escape-lab runs each of them in three
//! child processes, one per *pass*:
//!
//! - `count`: a counting allocator gives the exact allocations and bytes
//!   per call, after a warm-up cycle;
//! - `heap`: dhat records every allocation's stack: allocation *sites*
//!   (`file:line: N allocs/call` in your code, the `-gcflags -m` of Rust),
//!   allocation flamegraphs, `heap.json` for valgrind's DHAT viewer;
//! - `cpu`: pprof samples the calls, each sample keeping its own
//!   instruction: a CPU flamegraph, `cpu.pb.gz` for `go tool pprof`, a
//!   source listing, and time per call;
//! - `instr`: valgrind's callgrind counts the instructions of the calls,
//!   exactly (skipped with a note where valgrind is missing);
//!
//! then writes one page (`index.html`) and `summary.json`, and gates the
//! exact counts (and the instructions) against a committed baseline. For unit tests,
//! [`assert_allocs!`] and [`allocs_per_run`] assert allocations exactly.
//!
//! # Setup
//!
//! In your crate's `Cargo.toml`:
//!
//! ```toml
//! [dev-dependencies]
//! escape-lab = { path = "../escape-lab/crates/escape-lab" }   # your checkout
//!
//! [[bench]]
//! name = "allocs"
//! harness = false
//!
//! # Allocation sites need file:line in the profiled build.
//! [profile.bench]
//! debug = true
//! ```
//!
//! and `benches/allocs.rs`:
//!
//! ```no_run
//! use escape_lab::{Lab, Scenario};
//!
//! // One line: the allocator every pass switches (system, counting, dhat).
//! #[global_allocator]
//! static ALLOC: escape_lab::Alloc = escape_lab::Alloc;
//!
//! fn main() -> std::process::ExitCode {
//!     let line = "17, user17, 300, GET, /api/items/119, 527";
//!     Lab::new(vec![
//!         // The setup runs once per pass; it returns the call, which is
//!         // measured. A call returns (), a count of items, or a Result.
//!         Scenario::new("owned", move || {
//!             move || line.split(',').map(|f| f.trim().to_string()).count()
//!         })
//!         .items("fields"),
//!         Scenario::new("borrowed", move || {
//!             let mut buf: Vec<&str> = Vec::new();
//!             move || {
//!                 buf.clear();
//!                 buf.extend(line.split(',').map(str::trim));
//!                 buf.len()
//!             }
//!         })
//!         .items("fields"),
//!     ])
//!     // Draw what the fix removed: a differential allocation flamegraph.
//!     .compare("owned", "borrowed")
//!     .main()
//! }
//! ```
//!
//! A scenario whose calls walk an input set `.cycle(calls, bytes)`: every
//! pass measures whole cycles (so counts are exact and repeatable), and
//! reports show MB/s. [`Scenario::try_new`] takes a setup that can fail.
//!
//! # Running
//!
//! | command | does |
//! |---|---|
//! | `cargo bench --bench allocs` | every pass of every scenario; prints a table and the page's path, `target/escape-lab/allocs/run-<time>/index.html` |
//! | `cargo bench --bench allocs -- owned` | only the scenarios whose names contain `owned` (any command takes such filters) |
//! | `cargo bench --bench allocs -- check` | the gate: exact allocations and bytes per call against `profiles/baseline.json` beside `Cargo.toml` (exit 1 on any increase, naming the scenario and its top allocation site now), and instructions per call under valgrind (exit 1 beyond 1% + 16 per call, naming the functions that grew) |
//! | `cargo bench --bench allocs -- check --bless` | writes the baseline (commit it; review its diff like code) |
//! | `cargo bench --bench allocs -- check --format markdown` | the same, as a Markdown table for a CI job summary (`json` for scripts) |
//! | `cargo bench --bench allocs -- diff OLD/summary.json NEW/summary.json` | two runs side by side |
//! | `cargo bench --bench allocs -- list` | the scenarios |
//! | `cargo test --benches` | a smoke test: every scenario's setup and one call, in process |
//!
//! `--quick` shortens the passes, `--out DIR` chooses the run folder,
//! `--open` opens the page. Exit codes: 0 success, 1 a regression or a
//! failed scenario, 2 bad usage or bad input. A scenario that panics,
//! aborts, errors or hangs past `--timeout` is reported failed with the
//! tail of its stderr; the others complete. `ESCAPE_LAB_FAULT=NAME:alloc`
//! (or `panic`, `abort`, `hang`, `error`) injects a fault, to see the gate
//! and the reports react.
//!
//! # Viewing
//!
//! - `index.html`: one self-contained page, every flamegraph embedded.
//! - `<scenario>/cpu.pb.gz`: `go tool pprof -top FILE`, or `-http=:8080`.
//! - `<scenario>/heap.json`: valgrind's DHAT viewer (`dh_view.html`);
//!   `<scenario>/heap.pb.gz`: `go tool pprof -sample_index=alloc_objects -top FILE`.
//! - `<scenario>/callgrind.out`: `callgrind_annotate FILE`, KCachegrind.
//! - `<scenario>/listing.txt`: the lines that allocate and that take time.
//! - `<scenario>/sites.txt`: one line per allocating line of your code.
//! - `summary.json`: every figure, deterministic counts (schema 2).
//!
//! # Testing
//!
//! In any test binary, with the same one-line allocator:
//!
//! ```
//! #[global_allocator]
//! static ALLOC: escape_lab::Alloc = escape_lab::Alloc;
//!
//! let line = "a, b, c";
//! let mut buf: Vec<&str> = Vec::new();
//! escape_lab::assert_no_allocs!(|| {
//!     buf.clear();
//!     buf.extend(line.split(',').map(str::trim));
//! });
//! escape_lab::assert_allocs!(|| line.to_string(), 1);
//! ```
//!
//! Counts are exact, per thread (other tests running at the same time never
//! leak in), after one warm-up run; a failure names the count and the top
//! allocation site in your code. See [the `assert` module](mod@assert) for how this compares with
//! allocation-counter and dhat's testing mode.
//!
//! # In CI
//!
//! Run `cargo bench --bench allocs -- check --format markdown >>
//! "$GITHUB_STEP_SUMMARY"` (with `set -o pipefail` if you pipe it through
//! `tee`): the job fails on a regression and the summary shows the table,
//! changed scenarios first. Counts can change with the standard library:
//! the baseline records its rustc and `check` warns when it differs.
//!
//! # Live profiling
//!
//! For a program that runs (a service, a long job), [`live`] gives Go's
//! `net/http/pprof` workflow on any global allocator: a sampling heap
//! profiler safe to leave on, and the `/debug/pprof/` endpoints on a
//! thread of their own.
//!
//! ```no_run
//! // Samples one allocation per 512 KiB on average (Go's MemProfileRate),
//! // over the system allocator (or `SamplingAlloc::new(your_allocator)`).
//! #[global_allocator]
//! static ALLOC: escape_lab::live::SamplingAlloc = escape_lab::live::SamplingAlloc::system();
//!
//! fn main() -> Result<(), escape_lab::live::LiveError> {
//!     // Loopback only; the handle stops the server when dropped.
//!     let pprof = escape_lab::live::serve("127.0.0.1:6060")?;
//!     println!("profiles at {}", pprof.url());
//!     // ... the program's work
//!     Ok(())
//! }
//! ```
//!
//! then `go tool pprof -sample_index=alloc_space -top
//! http://127.0.0.1:6060/debug/pprof/allocs` (or `/heap` for what is in
//! use, `/profile?seconds=30` for CPU), or open `/debug/pprof/` in a
//! browser for flamegraphs. The estimates are unbiased (each sample scaled
//! as Go's `scaleHeapSample` does); the sampler never allocates, takes no
//! lock and no atomic on the unsampled path, and lives in fixed tables (see
//! [`live::sampler`] for the costs and the bounds). [`Alloc`] has the same
//! sampler as a mode ([`alloc::Mode::Sample`]). The endpoints have no
//! authentication: keep them on loopback (see [`live`]).
//!
//! # How it works
//!
//! [`Lab::main`] is called in every process: in the parent it parses the
//! command line and starts one child per scenario and pass (the same
//! executable, told by environment variables which pass to run); in a
//! child it runs that pass and exits. No scenario runs in the parent; no
//! timing is taken under dhat's allocator. The pipeline and the file each
//! process writes are described in the repository's ARCHITECTURE.md.
#![deny(missing_docs)]

pub mod alloc;
pub mod assert;
pub mod atomic;
pub mod child;
pub mod cli;
pub mod diff;
mod error;
pub mod flame;
pub mod fmt;
pub mod gate;
pub mod index;
pub mod input;
mod lab;
pub mod live;
pub mod model;
pub mod pass;
pub mod pprof;
pub mod profile;
pub mod scenario;
pub mod sites;

pub use alloc::SwitchAlloc as Alloc;
pub use assert::{allocs_per_run, Allocs};
pub use error::Error;
pub use lab::{main, Lab};
pub use scenario::{CallError, Scenario};
