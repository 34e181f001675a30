//! Code shared by the bench binaries: how this run was invoked (criterion's
//! mode and filter, which criterion does not expose), the engines (our
//! variants and the peers) behind one interface, exact allocation counts
//! beside criterion's times, and the flamegraph profiler.
//!
//! Each bench binary includes this module with `mod common;`; a binary that
//! uses only part of it would warn about the rest, hence the `allow`.
#![allow(dead_code)]

pub mod engines;
pub mod profiler;
pub mod report;

use std::env;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use criterion::Criterion;

/// What criterion was asked to do. Criterion parses its own arguments but
/// keeps the result private; the benches need it to keep `cargo test
/// --benches` cheap and to skip work for filtered-out benchmarks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `cargo bench`: measure.
    Bench,
    /// `cargo test --benches` or `cargo bench -- --test`: run each once.
    Test,
    /// `cargo bench -- --profile-time N`: iterate under the profiler.
    Profile,
    /// `cargo bench -- --list`: list, run nothing.
    List,
}

impl Mode {
    /// `bench`, `test`, `profile` or `list`, for reports.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Bench => "bench",
            Mode::Test => "test",
            Mode::Profile => "profile",
            Mode::List => "list",
        }
    }
}

/// The command line as criterion will read it: mode and benchmark filter.
#[derive(Debug)]
pub struct RunArgs {
    /// What criterion will do.
    pub mode: Mode,
    filter: Filter,
}

#[derive(Debug)]
enum Filter {
    All,
    None,
    Regex(regex::Regex),
    Exact(String),
}

// Criterion's options that take a value (`--name value`), so that the value
// is not mistaken for the filter.
const VALUE_OPTIONS: &[&str] = &[
    "-c",
    "--color",
    "--colour",
    "-s",
    "--save-baseline",
    "-b",
    "--baseline",
    "--baseline-lenient",
    "--format",
    "--profile-time",
    "--load-baseline",
    "--sample-size",
    "--warm-up-time",
    "--measurement-time",
    "--nresamples",
    "--noise-threshold",
    "--confidence-level",
    "--significance-level",
    "--plotting-backend",
    "--output-format",
];

impl RunArgs {
    /// Reads the process's arguments the way criterion 0.8 does: test mode
    /// unless `--bench` is given (cargo passes it to `cargo bench` only), or
    /// when `--test` is; `--list`; `--profile-time`; the first positional
    /// argument is a regular expression that full benchmark ids
    /// (`group/function[/parameter]`) must match, or the exact id with
    /// `--exact`; `--ignored` selects nothing.
    pub fn from_env() -> RunArgs {
        let args: Vec<String> = env::args().skip(1).collect();
        let flag = |name: &str| args.iter().any(|a| a == name);
        let mut positional = None;
        let mut profile = false;
        let mut i = 0;
        while i < args.len() {
            let a = args[i].as_str();
            if a == "--profile-time" || a.starts_with("--profile-time=") {
                profile = true;
            }
            if VALUE_OPTIONS.contains(&a) {
                i += 2;
                continue;
            }
            if !a.starts_with('-') && positional.is_none() {
                positional = Some(a.to_owned());
            }
            i += 1;
        }
        let test = !flag("--bench") || flag("--test");
        let mode = if flag("--list") {
            Mode::List
        } else if test {
            Mode::Test
        } else if profile {
            Mode::Profile
        } else {
            Mode::Bench
        };
        let filter = if flag("--ignored") {
            Filter::None
        } else {
            match positional {
                None => Filter::All,
                Some(f) if flag("--exact") => Filter::Exact(f),
                // An invalid expression makes criterion panic with its own
                // message a moment later; select everything until then.
                Some(f) => regex::Regex::new(&f).map_or(Filter::All, Filter::Regex),
            }
        };
        RunArgs { mode, filter }
    }

    /// Whether criterion will run the benchmark whose full id is `id`.
    pub fn wants(&self, id: &str) -> bool {
        match &self.filter {
            Filter::All => true,
            Filter::None => false,
            Filter::Regex(r) => r.is_match(id),
            Filter::Exact(e) => e == id,
        }
    }

    /// Whether criterion will run any of `group/function` for `functions`.
    pub fn wants_any<'f>(&self, group: &str, functions: impl IntoIterator<Item = &'f str>) -> bool {
        functions
            .into_iter()
            .any(|f| self.wants(&format!("{group}/{f}")))
    }

    /// Whether this run does nothing but list benchmarks.
    pub fn listing(&self) -> bool {
        self.mode == Mode::List
    }

    /// Whether this is criterion's test mode, where every benchmark runs once
    /// and the benches keep their inputs small.
    pub fn testing(&self) -> bool {
        self.mode == Mode::Test
    }
}

/// The criterion configuration of the workload and scaling benches: the
/// flamegraph profiler for `--profile-time`, and shorter times than
/// criterion's defaults (3 s warm-up, 5 s measurement, 100 samples), so that
/// the whole `cargo bench` stays near ten minutes on a 2-core machine. An
/// iteration of these benches covers a whole haystack (milliseconds), so
/// twenty samples in three seconds still give stable medians. Command-line
/// options (`--measurement-time`, `--sample-size`, ...) override these.
pub fn criterion_config() -> Criterion {
    Criterion::default()
        .with_profiler(profiler::FlameProfiler::new(
            harness::flame::MAX_FREQUENCY_HZ,
        ))
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20)
}

/// Where criterion writes its results, found the way criterion 0.8 finds it:
/// `$CRITERION_HOME`, else `$CARGO_TARGET_DIR/criterion`, else the target
/// directory `cargo metadata` reports, else `target/criterion`.
pub fn criterion_home() -> PathBuf {
    if let Some(home) = env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    if let Some(target) = env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(target).join("criterion");
    }
    let from_metadata = env::var_os("CARGO").and_then(|cargo| {
        let out = Command::new(cargo)
            .args(["metadata", "--format-version", "1", "--no-deps"])
            .output()
            .ok()?;
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
        Some(PathBuf::from(v.get("target_directory")?.as_str()?))
    });
    from_metadata
        .unwrap_or_else(|| PathBuf::from("target"))
        .join("criterion")
}

/// Panics unless the counting allocator is this binary's global allocator:
/// the positive control without which a count of zero means nothing.
pub fn assert_counting() {
    assert!(
        harness::countalloc::is_active(),
        "countalloc::CountingAlloc is not the global allocator of this bench; allocation counts would all read zero"
    );
}

/// An error and its sources, `: `-separated, for messages.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}
