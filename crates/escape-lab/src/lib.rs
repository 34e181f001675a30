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
//! Beside the measured answer, the static one ([`reach`], feature `lab`):
//! which calls of a scenario's code *can* reach the allocator, read from the
//! built binary's machine code, whether the workload took them or not
//! (`cargo bench --bench allocs -- reach`, a `reach.txt` per scenario, a
//! verdict per scenario in the gate, and [`assert_never_allocates!`] for a
//! unit test).
//!
//! # Features
//!
//! | features | gives | builds |
//! |---|---|---|
//! | `default-features = false` | [`Alloc`], [`allocs_per_run`], [`assert_allocs!`], [`assert_no_allocs!`], [`top_sites`] | std and `countalloc` only (2 crates) |
//! | `lab` (default) | the above, and [`Lab`]/[`main`] for a `harness = false` bench (profile, check, diff, reach, list), [`runner`] for a binary of your own, [`reach`] and [`assert_never_allocates!`] | about 100 crates: pprof, dhat, inferno, clap, ... |
//! | `live` | the above light part, and `live`: a sampling heap profiler and `/debug/pprof/` endpoints for a running program | about 70 crates, none of `lab`'s command line, dhat or progress bars |
//!
//! The cold build times of both forms are in the repository's README.
//!
//! # Setup
//!
//! Only assertions in unit tests (see [Testing](#testing)):
//!
//! ```toml
//! [dev-dependencies]
//! escape-lab = { version = "0.1", default-features = false }
//! ```
//!
//! Profiles and the gate, in your crate's `Cargo.toml`:
//!
//! ```toml
//! [dev-dependencies]
//! escape-lab = "0.1"
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
//! allocation site in your code (`file:line:col`, relative to your
//! workspace). These need no feature: with `default-features = false` the
//! crate builds against std and `countalloc` alone.
//!
//! Compared with the others: **allocation-counter** counts across all
//! threads by default (a test running beside yours leaks in), with no
//! warm-up and no site on failure; **dhat's testing mode** needs dhat's
//! allocator (a global lock and a backtrace on every allocation), one
//! profiler per process and reports whole-run totals; **Go's
//! `AllocsPerRun`** returns an average rounded down (0.5 reads as 0).
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
//! With the feature `live`, for a program that runs (a service, a long
//! job), `escape_lab::live` gives Go's
//! `net/http/pprof` workflow on any global allocator: a sampling heap
//! profiler safe to leave on, and the `/debug/pprof/` endpoints on a
//! thread of their own.
//!
//! ```ignore
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
//! lock and no atomic on the unsampled path, and lives in fixed tables (the
//! `live::sampler` docs give the costs and the bounds). The endpoints have
//! no authentication: keep them on loopback. The `live` module's docs are
//! the manual for this part (`cargo doc --no-deps -p escape-lab --features
//! live`); the example there is compiled by the crate's tests.
//!
//! To leave it on in a service: depend on escape-lab as a *normal*
//! (optional) dependency, `escape-lab = { version = "0.1", optional = true,
//! default-features = false, features = ["live"] }` behind a feature of
//! yours (a binary cannot use a dev-dependency), and keep `debug = true` in
//! `[profile.release]` for `go tool pprof -list`. The server keeps nothing
//! between requests (symbol caches are dropped after each answer), never
//! samples its own allocations (`live::sampler::Unsampled`), closes every
//! connection after its answer, times out idle clients, caps open
//! connections and survives `accept` errors. The repository's
//! `templates/own-crate` has the whole setup (`src/bin/live.rs`) and the
//! README a scrape configuration for Pyroscope and Parca.
//!
//! # How it works
//!
//! [`Lab::main`] is called in every process: in the parent it parses the
//! command line and starts one child per scenario and pass (the same
//! executable, told by environment variables which pass to run); in a
//! child it runs that pass and exits. No scenario runs in the parent; no
//! timing is taken under dhat's allocator. The pipeline and the file each
//! process writes are described in the repository's ARCHITECTURE.md.
//!
//! # Reading these docs
//!
//! From a checkout of escape-lab: `cargo doc --no-deps -p escape-lab
//! --features live --open` (escape-lab's CI builds them the same way, with
//! warnings as errors). In your own crate, where escape-lab is a
//! dev-dependency, `cargo doc -p escape-lab` makes cargo 1.95 panic (`did
//! not find features for ... NormalOrDev`), with or without `--no-deps`:
//! build them from the checkout, or read docs.rs once published.
#![deny(missing_docs)]

// Always built: the allocator and the assertions (std and countalloc only).
mod alloc;
mod assert;
mod fmt;
mod frames;
mod paths;

// What `lab` and `live` share: the sampler's profiles and flamegraphs.
#[cfg(feature = "_profiles")]
mod flame;
#[cfg(feature = "_profiles")]
mod pprof;

// `lab`: scenarios, passes in child processes, reports, the gate.
#[cfg(feature = "lab")]
mod atomic;
#[cfg(feature = "lab")]
mod call;
#[cfg(feature = "lab")]
mod child;
#[cfg(feature = "lab")]
mod child_args;
#[cfg(feature = "lab")]
mod diff;
#[cfg(feature = "lab")]
mod error;
#[cfg(feature = "lab")]
mod gate;
#[cfg(feature = "lab")]
mod index;
#[cfg(feature = "lab")]
mod input;
#[cfg(feature = "lab")]
mod lab;
#[cfg(feature = "lab")]
mod model;
#[cfg(feature = "lab")]
mod pass;
#[cfg(feature = "lab")]
mod profile;
#[cfg(feature = "lab")]
pub mod reach;
#[cfg(all(test, feature = "lab"))]
mod readers_tests;
#[cfg(feature = "lab")]
pub mod runner;
#[cfg(feature = "lab")]
mod scenario;
#[cfg(feature = "lab")]
mod sites;
#[cfg(feature = "lab")]
mod strict;
#[cfg(feature = "lab")]
mod workdir;

#[cfg(feature = "live")]
pub mod live;

pub use alloc::SwitchAlloc as Alloc;
pub use assert::{allocs_per_run, top_sites, Allocs, TracedSite};
#[cfg(feature = "lab")]
pub use error::Error;
#[cfg(feature = "lab")]
pub use lab::{main, Lab};
#[cfg(feature = "lab")]
pub use model::WorkloadInfo;
#[cfg(feature = "lab")]
pub use scenario::{CallError, CallOutput, Scenario};

/// Not part of the API: what the assertion macros expand to, and the
/// internals that escape-lab's own binary, benches and tests use. Anything
/// here can change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::alloc::{mode, set_mode, Mode};
    pub use crate::assert::{check as assert_check, Expect};

    // Each internal module's public items, under the module's name.
    macro_rules! internal {
        ($($(#[$a:meta])* $m:ident),* $(,)?) => {
            $($(#[$a])* pub mod $m { pub use crate::$m::*; })*
        };
    }
    internal!(fmt, frames, paths);
    internal!(
        #[cfg(feature = "_profiles")]
        flame,
        #[cfg(feature = "_profiles")]
        pprof,
    );
    internal!(
        #[cfg(feature = "lab")]
        atomic,
        #[cfg(feature = "lab")]
        child,
        #[cfg(feature = "lab")]
        diff,
        #[cfg(feature = "lab")]
        gate,
        #[cfg(feature = "lab")]
        index,
        #[cfg(feature = "lab")]
        input,
        #[cfg(feature = "lab")]
        model,
        #[cfg(feature = "lab")]
        pass,
        #[cfg(feature = "lab")]
        profile,
        #[cfg(feature = "lab")]
        scenario,
        #[cfg(feature = "lab")]
        sites,
    );
}
