//! One model of a run: the passes, what each pass reports (a sum type, one
//! case per pass), a scenario's status, the artifacts, and
//! `summary.json` (schema 2; [`read_summary`] also reads schema 1).
//!
//! Deterministic by construction: scenarios in the order they were given,
//! struct fields in declaration order, maps sorted; no pid, hostname,
//! timestamp or absolute path. Counts (calls, allocations, bytes, items) are
//! exact integers and identical from run to run; per-call figures are their
//! quotients; times and sample counts are measurements and vary.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::fmt::ratio;
use crate::Error;

/// The schema version of `summary.json` this code writes.
pub const SCHEMA_VERSION: u32 = 2;

mod passes;

pub use passes::{
    CountResult, CpuResult, FunctionCost, HeapResult, InstrResult, Pass, PassResult, Timing,
};

/// Whether a scenario ran through every pass.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Status {
    /// Every pass succeeded.
    Ok,
    /// A pass failed; the first failure.
    Failed {
        /// The pass that failed.
        pass: Pass,
        /// Why, with the tail of the child's stderr when it crashed.
        error: String,
    },
}

impl Status {
    /// Whether every pass succeeded.
    ///
    /// Never allocates.
    #[must_use]
    pub fn is_ok(&self) -> bool {
        matches!(self, Status::Ok)
    }

    /// `"<pass> pass: <error>"` for a failure.
    ///
    /// Allocates the returned `String`.
    #[must_use]
    pub fn error(&self) -> Option<String> {
        match self {
            Status::Ok => None,
            Status::Failed { pass, error } => Some(format!("{pass} pass: {error}")),
        }
    }
}

/// A file written for a scenario. Serialised as the keys of
/// [`ScenarioSummary::artifacts`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Artifact {
    /// CPU flamegraph.
    CpuSvg,
    /// CPU profile, pprof protobuf, gzipped.
    CpuPbGz,
    /// dhat's profile, for valgrind's DHAT viewer.
    HeapJson,
    /// Heap profile, pprof protobuf with Go's heap sample types, gzipped.
    HeapPbGz,
    /// Source listings: the top allocating and the hottest functions' lines.
    ListingTxt,
    /// callgrind's output of the measured calls (`callgrind_annotate`,
    /// KCachegrind).
    CallgrindOut,
    /// Allocation sites as text.
    SitesTxt,
    /// The static reachability analysis as text.
    ReachTxt,
    /// Allocation flamegraph weighted by bytes.
    AllocBytesSvg,
    /// Allocation flamegraph weighted by allocations.
    AllocCountSvg,
}

impl Artifact {
    /// The file's name in the scenario's folder.
    ///
    /// Never allocates.
    #[must_use]
    pub fn file_name(self) -> &'static str {
        match self {
            Artifact::CpuSvg => "cpu.svg",
            Artifact::CpuPbGz => "cpu.pb.gz",
            Artifact::HeapJson => "heap.json",
            Artifact::HeapPbGz => "heap.pb.gz",
            Artifact::ListingTxt => "listing.txt",
            Artifact::CallgrindOut => "callgrind.out",
            Artifact::SitesTxt => "sites.txt",
            Artifact::ReachTxt => "reach.txt",
            Artifact::AllocBytesSvg => "alloc-bytes.svg",
            Artifact::AllocCountSvg => "alloc-count.svg",
        }
    }

    /// What it shows, for captions.
    ///
    /// Never allocates.
    #[must_use]
    pub fn caption(self) -> &'static str {
        match self {
            Artifact::CpuSvg => "CPU flamegraph",
            Artifact::CpuPbGz => "CPU profile (pprof)",
            Artifact::HeapJson => "heap profile (dhat)",
            Artifact::HeapPbGz => "heap profile (pprof)",
            Artifact::ListingTxt => "source listings",
            Artifact::CallgrindOut => "instructions (callgrind)",
            Artifact::SitesTxt => "allocation sites",
            Artifact::ReachTxt => "ways to the allocator (static)",
            Artifact::AllocBytesSvg => "bytes allocated, by stack",
            Artifact::AllocCountSvg => "allocations, by stack",
        }
    }

    /// Whether it is an SVG the index embeds.
    ///
    /// Never allocates.
    #[must_use]
    pub fn is_svg(self) -> bool {
        self.file_name().ends_with(".svg")
    }
}

/// One allocation site in the user's code.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Site {
    /// `path:line:col`, the path relative to the source root.
    pub location: String,
    /// The function the line is in (demangled, without hash).
    pub function: String,
    /// Allocations at this site, all profiled calls together.
    pub allocs: u64,
    /// Bytes allocated at this site, all profiled calls together.
    pub bytes: u64,
}

impl Site {
    /// The site as `sites.txt` prints it:
    /// `path:line:col: N allocs/call, M B/call in function`, per call over
    /// `calls` calls.
    ///
    /// # Allocation
    ///
    /// The returned `String`.
    #[must_use]
    pub fn line(&self, calls: u64) -> String {
        format!(
            "{}: {} allocs/call, {} B/call in {}",
            self.location,
            crate::fmt::per_call(self.allocs, calls),
            crate::fmt::per_call(self.bytes, calls),
            self.function
        )
    }
}

/// What the scenarios ran on: a name, one line about it, and named figures
/// (pattern count, input bytes, chunk size) that a baseline compares.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkloadInfo {
    /// Its name (`synthetic-en`, `files`, ...); empty when none.
    pub name: String,
    /// One line about it for reports; empty when none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Named figures, compared by `check` with the baseline's.
    #[serde(flatten)]
    pub facts: BTreeMap<String, u64>,
}

impl WorkloadInfo {
    /// `name: fact value, ...` for messages.
    ///
    /// Allocates the returned `String`.
    #[must_use]
    pub fn describe(&self) -> String {
        let mut s = if self.name.is_empty() {
            "unnamed".to_string()
        } else {
            self.name.clone()
        };
        for (i, (k, v)) in self.facts.iter().enumerate() {
            s.push_str(if i == 0 { ": " } else { ", " });
            s.push_str(&format!("{k} {v}"));
        }
        s
    }
}

/// Per-call figures, derived once from the passes' exact totals.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PerCall {
    /// Items per call (`count` pass).
    pub items: f64,
    /// Allocations per call (`count` pass).
    pub allocs: f64,
    /// Bytes allocated per call (`count` pass).
    pub bytes: f64,
    /// Median time per call in ns (`cpu` pass).
    pub ns: Option<f64>,
    /// Instructions per call (`instr` pass).
    #[serde(default)]
    pub instructions: Option<f64>,
    /// Input throughput at the median time, MB/s (10^6 bytes).
    pub mb_per_s: Option<f64>,
}

/// One scenario's figures in `summary.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScenarioSummary {
    /// The scenario's name.
    pub name: String,
    /// Its kind: a label that groups scenarios (default `custom`).
    pub kind: String,
    /// Workload name (empty when none).
    pub workload: String,
    /// One line about it.
    pub description: String,
    /// `ok`, or `failed` with the pass and the error.
    #[serde(flatten)]
    pub status: Status,
    /// What the call's items are, when they are shown.
    pub items_unit: Option<String>,
    /// Bytes of input one call covers (average over a cycle).
    pub bytes_per_call: f64,
    /// Per-call figures derived from the passes below.
    pub per_call: PerCall,
    /// The `count` pass, when it succeeded.
    pub count: Option<CountResult>,
    /// The `heap` pass, when it succeeded.
    pub heap: Option<HeapResult>,
    /// The `cpu` pass, when it succeeded.
    pub cpu: Option<CpuResult>,
    /// The `instr` pass, when it ran and succeeded.
    #[serde(default)]
    pub instr: Option<InstrResult>,
    /// Passes that could not run here, with why.
    #[serde(default)]
    pub notes: Vec<String>,
    /// Allocation sites from the heap pass, most allocations first.
    pub sites: Vec<Site>,
    /// The static reachability analysis of the scenario's call (see
    /// [`crate::reach`]), when it could run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reach: Option<crate::reach::Reach>,
    /// Files written for this scenario, relative to the run folder.
    pub artifacts: BTreeMap<Artifact, String>,
}

impl ScenarioSummary {
    /// Whether every pass succeeded.
    ///
    /// Never allocates.
    #[must_use]
    pub fn ok(&self) -> bool {
        self.status.is_ok()
    }

    /// Derives [`ScenarioSummary::per_call`] from the pass results and
    /// `bytes_per_call`.
    ///
    /// Never allocates.
    pub fn derive_per_call(&mut self) {
        let count = self.count.unwrap_or_default();
        let ns = self.cpu.as_ref().map(|c| c.timing.median);
        self.per_call = PerCall {
            items: ratio(count.items, count.calls),
            allocs: ratio(count.allocs, count.calls),
            bytes: ratio(count.bytes, count.calls),
            ns,
            instructions: self.instr.as_ref().map(|i| ratio(i.instructions, i.calls)),
            mb_per_s: ns
                .filter(|&t| t > 0.0 && self.bytes_per_call > 0.0)
                .map(|t| self.bytes_per_call / t * 1e3),
        };
    }

    /// The heap pass's calls (sites are totals over these), 0 when none.
    ///
    /// Never allocates.
    #[must_use]
    pub fn heap_calls(&self) -> u64 {
        self.heap.map_or(0, |h| h.calls)
    }
}

/// A differential allocation flamegraph of two scenarios, written for the
/// run (see [`crate::profile::ProfileOptions::compare`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comparison {
    /// The scenario before the fix.
    pub before: String,
    /// The scenario after it.
    pub after: String,
    /// The SVG weighted by allocations, relative to the run folder.
    pub count_svg: String,
    /// The SVG weighted by bytes, relative to the run folder.
    pub bytes_svg: String,
}

/// A whole run: `summary.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Always [`SCHEMA_VERSION`] when written by this code.
    pub schema_version: u32,
    /// What the scenarios ran on.
    pub workload: WorkloadInfo,
    /// Whether the run was shortened with `--quick`.
    pub quick: bool,
    /// One entry per scenario, in run order.
    pub scenarios: Vec<ScenarioSummary>,
    /// Differential flamegraphs written for the run.
    pub comparisons: Vec<Comparison>,
    /// The inputs read once by the parent and handed to every child, with
    /// their sizes and checksums (see the `input` module).
    #[serde(default)]
    pub inputs: Vec<crate::input::InputInfo>,
}

/// Reads a `summary.json` of schema 2, or of schema 1 (converted).
///
/// # Errors
///
/// [`Error::Read`] when the file cannot be read, [`Error::Malformed`] when
/// it is larger than 16 MiB or not JSON of a known schema (a key given
/// twice in one object included), naming what is wrong.
///
/// # Allocation
///
/// The file's contents and the parsed summary.
pub fn read_summary(path: &Path) -> Result<Summary, Error> {
    let text = crate::strict::read_bounded(path, crate::strict::JSON_LIMIT)?;
    let value = crate::strict::json(path, &text)?;
    match value.get("schema_version") {
        Some(serde_json::Value::Number(n)) if n.as_u64() == Some(u64::from(SCHEMA_VERSION)) => {
            serde_json::from_value(value).map_err(|e| Error::malformed(path, e.to_string()))
        }
        Some(serde_json::Value::Number(n)) if n.as_u64() == Some(1) => {
            let old: v1::Summary =
                serde_json::from_value(value).map_err(|e| Error::malformed(path, e.to_string()))?;
            Ok(old.into())
        }
        Some(other) => Err(Error::malformed(
            path,
            format!("schema_version {other} is not supported (expected 1 or {SCHEMA_VERSION})"),
        )),
        None => Err(Error::malformed(path, "no schema_version field")),
    }
}

mod v1;

#[cfg(test)]
mod tests;
