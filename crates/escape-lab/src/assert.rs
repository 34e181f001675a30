//! Allocation assertions for unit tests: Go's `testing.AllocsPerRun`, made
//! exact, and told where to look when it fails.
//!
//! ```
//! #[global_allocator]
//! static ALLOC: escape_lab::Alloc = escape_lab::Alloc;
//!
//! let words = "a few words to split";
//! let mut buf: Vec<&str> = Vec::new();
//! // Exactly zero allocations per run, after one warm-up run that may grow
//! // `buf`:
//! escape_lab::assert_allocs!(|| { buf.clear(); buf.extend(words.split(' ')); }, 0);
//!
//! // One `String` per word, and the `Vec`: allocated for 4 and grown to 8.
//! let a = escape_lab::allocs_per_run(10, || {
//!     words.split(' ').map(str::to_string).collect::<Vec<_>>()
//! });
//! assert_eq!(a.allocs, 10 * (5 + 2));
//! ```
//!
//! # How it counts
//!
//! [`allocs_per_run`] runs the closure once to warm up, then `runs` times,
//! counting every allocation (a `realloc` counts as one, as dhat counts it)
//! and the bytes asked for, **on the calling thread only**: the test
//! harness's other threads, running other tests at the same time, never
//! leak in. The result is exact totals with their run count, not a rounded
//! average. It needs [`crate::Alloc`] (or `countalloc::CountingAlloc`) as the
//! global allocator, one line in the test file, and panics with that line
//! when it is missing rather than report a meaningless zero.
//!
//! When an assertion fails, the closure is run `runs` more times with the
//! stack of each allocation recorded, and the message names the count *and*
//! the top allocation sites: the first frame of each stack in your code
//! (not in std, not in a dependency from the registry), as `file:line:col`
//! relative to your workspace.
//!
//! # Compared with the others
//!
//! - **allocation-counter** counts allocations of a closure too, but across
//!   all threads by default (a concurrently running test leaks in unless you
//!   opt out), with no warm-up and no site on failure.
//! - **dhat's testing mode** (`dhat::assert!` on `HeapStats`) needs dhat's
//!   allocator, whose global lock and backtrace on every allocation slow
//!   the test binary, allows one profiler per process (one test per test
//!   binary), and reports totals for the whole run rather than per call.
//! - **Go's `AllocsPerRun`** returns an average rounded down to an integer:
//!   0.5 allocations per run reads as 0.

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::{Path, PathBuf};

use crate::alloc::{set_tracing, take_traces, Measuring};

/// Exact allocations of some runs of a closure, on the calling thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Allocs {
    /// Runs measured (the warm-up run excluded).
    pub runs: u64,
    /// Allocations in those runs (reallocations included).
    pub allocs: u64,
    /// Bytes asked for by those allocations.
    pub bytes: u64,
}

impl Allocs {
    /// Allocations per run, rounded for display (`1`, `0.50`).
    ///
    /// Allocates the returned `String`.
    #[must_use]
    pub fn allocs_per_run(&self) -> String {
        crate::fmt::per_call(self.allocs, self.runs)
    }

    /// Bytes per run, rounded for display.
    ///
    /// Allocates the returned `String`.
    #[must_use]
    pub fn bytes_per_run(&self) -> String {
        crate::fmt::per_call(self.bytes, self.runs)
    }
}

/// Runs `f` once to warm up, then `runs` times, and returns the exact
/// allocations and bytes of those `runs` runs on this thread (see the
/// module docs). What `f` returns is dropped after each run.
///
/// # Panics
///
/// When neither [`crate::Alloc`] nor `countalloc::CountingAlloc` is the
/// global allocator: the message says how to install it.
///
/// # Allocation
///
/// Nothing itself; reports what `f` allocates.
pub fn allocs_per_run<R>(runs: u64, mut f: impl FnMut() -> R) -> Allocs {
    let _on = Measuring::start();
    assert!(
        countalloc::is_active(),
        "escape_lab::allocs_per_run: allocations are not being counted; install the allocator \
         in this test binary: `#[global_allocator] static ALLOC: escape_lab::Alloc = escape_lab::Alloc;`"
    );
    drop(black_box(f()));
    let before = countalloc::snapshot();
    for _ in 0..runs {
        drop(black_box(f()));
    }
    let c = countalloc::snapshot().since(before);
    Allocs {
        runs,
        allocs: c.allocs,
        bytes: c.bytes,
    }
}

/// What an assertion expects per run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Exactly this many allocations per run (the total is exactly runs × n).
    Exactly(u64),
    /// At most this many per run on average (the total is at most runs × n).
    AtMost(u64),
}

/// The check behind [`assert_allocs!`](crate::assert_allocs) and
/// [`assert_no_allocs!`](crate::assert_no_allocs): measures `runs` runs of
/// `f`, and panics with the count and the top allocation sites when the
/// expectation does not hold. `file` and `line` name the assertion.
///
/// # Panics
///
/// When the expectation does not hold, or allocations are not counted.
///
/// # Allocation
///
/// Nothing when it passes (besides what `f` allocates); the message and
/// the recorded stacks when it fails.
#[track_caller]
pub fn check<R>(runs: u64, mut f: impl FnMut() -> R, expect: Expect, file: &str, line: u32) {
    let runs = runs.max(1);
    let got = allocs_per_run(runs, &mut f);
    let (ok, wanted) = match expect {
        Expect::Exactly(n) => (got.allocs == n * runs, format!("exactly {n}")),
        Expect::AtMost(n) => (got.allocs <= n * runs, format!("at most {n}")),
    };
    if ok {
        return;
    }
    let sites = top_sites(runs, &mut f);
    let mut msg = format!(
        "allocation assertion failed at {file}:{line}: expected {wanted} allocations per run, \
         got {} per run ({} allocations, {} bytes in {runs} runs after 1 warm-up run)",
        got.allocs_per_run(),
        crate::fmt::group(got.allocs),
        crate::fmt::group(got.bytes),
    );
    if sites.is_empty() {
        msg.push_str("\n(no allocation site found outside std and dependencies)");
    }
    for (i, s) in sites.iter().take(3).enumerate() {
        let _ = write!(
            msg,
            "\n{} {}: {} allocs/run, {} B/run in {}",
            if i == 0 {
                "top allocation site:"
            } else {
                "                     "
            },
            s.location,
            crate::fmt::per_call(s.allocs, runs),
            crate::fmt::per_call(s.bytes, runs),
            s.function
        );
    }
    panic!("{msg}");
}

/// Asserts how many times a closure allocates per run, exactly, on this
/// thread, after one warm-up run; on failure the panic names the count and
/// the top allocation sites (`file:line:col` in your code).
///
/// ```
/// # #[global_allocator]
/// # static ALLOC: escape_lab::Alloc = escape_lab::Alloc;
/// escape_lab::assert_allocs!(|| vec![1u8; 16], 1);           // exactly 1 per run
/// escape_lab::assert_allocs!(|| format!("{}", 7), <= 1);     // at most 1 per run
/// escape_lab::assert_allocs!(|| vec![0u8; 4], runs = 100, 1); // 100 runs instead of 10
/// ```
///
/// Needs [`crate::Alloc`] as the test binary's global allocator.
#[macro_export]
macro_rules! assert_allocs {
    ($f:expr, runs = $runs:expr, <= $n:expr $(,)?) => {
        $crate::__private::assert_check(
            $runs,
            $f,
            $crate::__private::Expect::AtMost($n),
            file!(),
            line!(),
        )
    };
    ($f:expr, runs = $runs:expr, $n:expr $(,)?) => {
        $crate::__private::assert_check(
            $runs,
            $f,
            $crate::__private::Expect::Exactly($n),
            file!(),
            line!(),
        )
    };
    ($f:expr, <= $n:expr $(,)?) => {
        $crate::__private::assert_check(
            10,
            $f,
            $crate::__private::Expect::AtMost($n),
            file!(),
            line!(),
        )
    };
    ($f:expr, $n:expr $(,)?) => {
        $crate::__private::assert_check(
            10,
            $f,
            $crate::__private::Expect::Exactly($n),
            file!(),
            line!(),
        )
    };
}

/// Asserts that a closure allocates nothing per run, after one warm-up run
/// (`assert_allocs!(f, 0)`).
///
/// ```
/// # #[global_allocator]
/// # static ALLOC: escape_lab::Alloc = escape_lab::Alloc;
/// let data = [3u64, 1, 2];
/// escape_lab::assert_no_allocs!(|| data.iter().sum::<u64>());
/// ```
#[macro_export]
macro_rules! assert_no_allocs {
    ($f:expr $(,)?) => {
        $crate::__private::assert_check(
            10,
            $f,
            $crate::__private::Expect::Exactly(0),
            file!(),
            line!(),
        )
    };
}

/// One place in your code that allocated during a traced run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TracedSite {
    /// `path:line:col`, relative to the source root when under it.
    pub location: String,
    /// The function (demangled, without hash).
    pub function: String,
    /// Allocations there, all traced runs together.
    pub allocs: u64,
    /// Bytes asked for there.
    pub bytes: u64,
}

/// Runs `f` once to warm up, then `runs` times with every allocation's
/// stack recorded, and returns the sites in your code, most allocations
/// first.
///
/// # Allocation
///
/// One backtrace per allocation of `f`, resolved after the runs.
pub fn top_sites<R>(runs: u64, mut f: impl FnMut() -> R) -> Vec<TracedSite> {
    let _on = Measuring::start();
    drop(black_box(f()));
    set_tracing(true);
    for _ in 0..runs {
        drop(black_box(f()));
    }
    set_tracing(false);
    let traces = take_traces();
    let root = crate::paths::source_root();
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut sites: Vec<TracedSite> = Vec::new();
    for (bt, size) in traces {
        let Some((location, function)) = first_own_frame(&bt.to_string(), &cwd, &root) else {
            continue;
        };
        match sites.iter_mut().find(|s| s.location == location) {
            Some(s) => {
                s.allocs += 1;
                s.bytes += size as u64;
            }
            None => sites.push(TracedSite {
                location,
                function,
                allocs: 1,
                bytes: size as u64,
            }),
        }
    }
    sites.sort_by(|a, b| b.allocs.cmp(&a.allocs).then(a.location.cmp(&b.location)));
    sites
}

/// The innermost frame of a backtrace in the program's own code
/// ([`crate::frames::is_own`]), as `(path:line:col, function)`, the path
/// relative to `root` when under it.
///
/// `text` is std's `Backtrace` as `Display` writes it: a line per frame,
/// `N: function` (inlined functions of one address on lines of their own,
/// innermost first), each followed by `at path:line:col` when known; paths
/// under the current folder `cwd` are written `./relative`.
fn first_own_frame(text: &str, cwd: &Path, root: &Path) -> Option<(String, String)> {
    let mut lines = text.lines().map(str::trim).peekable();
    while let Some(line) = lines.next() {
        if line.starts_with("at ") {
            continue;
        }
        let function = match line.split_once(": ") {
            Some((n, f)) if n.bytes().all(|b| b.is_ascii_digit()) => f,
            _ => line,
        };
        let Some(at) = lines.peek().and_then(|l| l.strip_prefix("at ")) else {
            continue;
        };
        let Some((file, line, col)) = split_location(at) else {
            continue;
        };
        if !crate::frames::is_own(function, Some(file)) {
            continue;
        }
        let path = match file.strip_prefix("./") {
            Some(rel) => cwd.join(rel),
            None => PathBuf::from(file),
        };
        let shown = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .display()
            .to_string();
        return Some((format!("{shown}:{line}:{col}"), function.to_string()));
    }
    None
}

/// `path:line:col` → its three parts.
fn split_location(at: &str) -> Option<(&str, &str, &str)> {
    let (rest, col) = at.rsplit_once(':')?;
    let (file, line) = rest.rsplit_once(':')?;
    (!file.is_empty()
        && line.bytes().all(|b| b.is_ascii_digit())
        && col.bytes().all(|b| b.is_ascii_digit()))
    .then_some((file, line, col))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_own_frame_of_a_std_backtrace() {
        let text = "   0: std::backtrace::Backtrace::create
             at /rustc/abc/library/std/src/backtrace.rs:331:13
   1: escape_lab::alloc::record
             at ./src/alloc.rs:112:14
   2: <escape_lab::alloc::SwitchAlloc as core::alloc::global::GlobalAlloc>::alloc
             at ./src/alloc.rs:150:21
   3: __rustc::__rust_alloc
   4: alloc::raw_vec::RawVec<T,A>::grow_one
             at /rustc/abc/library/alloc/src/raw_vec/mod.rs:340:9
   5: own::fields_into
             at ./src/lib.rs:24:44
      own::caller
             at ./src/lib.rs:40:5
   6: main
";
        let cwd = Path::new("/home/u/own");
        assert_eq!(
            first_own_frame(text, cwd, Path::new("/home/u/own")),
            Some((
                "src/lib.rs:24:44".to_string(),
                "own::fields_into".to_string()
            ))
        );
        assert_eq!(
            first_own_frame(text, cwd, Path::new("/elsewhere")),
            Some((
                "/home/u/own/src/lib.rs:24:44".to_string(),
                "own::fields_into".to_string()
            ))
        );
        assert_eq!(
            first_own_frame(
                "   0: __rustc::__rust_alloc
",
                cwd,
                cwd
            ),
            None
        );
    }
}
