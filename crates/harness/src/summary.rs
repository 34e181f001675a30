//! `summary.json`: every scenario's figures from one run (schema version 1).
//!
//! Deterministic by construction: scenarios in the order they were given,
//! struct fields in declaration order, maps sorted; no pid, hostname,
//! timestamp or absolute path. Counts (calls, allocations, bytes, matches)
//! are identical from run to run; times and sample counts are measurements
//! and vary.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::pass::Timing;
use crate::scenario::Kind;
use crate::sites::Site;

/// The schema version this code writes and reads.
pub const SCHEMA_VERSION: u32 = 1;

/// A whole run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The workload the variant scenarios ran on.
    pub workload: WorkloadInfo,
    /// Whether the run was shortened with `--quick`.
    pub quick: bool,
    /// One entry per scenario, in run order.
    pub scenarios: Vec<ScenarioSummary>,
}

/// Which workload a run used.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkloadInfo {
    /// Its name (`synthetic-en`, `files`, ...).
    pub name: String,
    /// Number of patterns.
    pub patterns: u64,
    /// Haystack size in bytes.
    pub haystack_bytes: u64,
    /// Bytes per call (0: the whole haystack).
    pub chunk: u64,
}

/// One scenario's figures. Per-call figures are exact quotients of the
/// totals beside them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScenarioSummary {
    /// The scenario's name.
    pub name: String,
    /// `variant`, `case` or `custom`.
    pub kind: Kind,
    /// Workload name (empty for cases).
    pub workload: String,
    /// One line about it.
    pub description: String,
    /// `ok`, or `failed` with `error` set.
    pub status: String,
    /// The first failure, as `"<pass> pass: <message>"`.
    pub error: Option<String>,
    /// Calls the `count` pass measured.
    pub calls: u64,
    /// Bytes of input one call covers (average over a cycle).
    pub bytes_per_call: f64,
    /// Items (matches) per call.
    pub matches_per_call: f64,
    /// Allocations in the measured calls (reallocations included).
    pub allocs_total: u64,
    /// Bytes allocated in the measured calls.
    pub bytes_allocated_total: u64,
    /// `allocs_total / calls`.
    pub allocs_per_call: f64,
    /// `bytes_allocated_total / calls`.
    pub bytes_allocated_per_call: f64,
    /// Calls the `heap` pass profiled.
    pub heap_calls: u64,
    /// Allocations dhat saw in those calls.
    pub heap_allocs: u64,
    /// Most bytes live at once during those calls (the setup's excluded).
    pub peak_live_bytes: u64,
    /// Time per call from the `cpu` pass, nanoseconds.
    pub ns_per_call: Option<Timing>,
    /// Input throughput at the median time, MB/s (10^6 bytes).
    pub mb_per_s: Option<f64>,
    /// CPU samples pprof took.
    pub cpu_samples: u64,
    /// Allocation sites, most bytes first.
    pub sites: Vec<Site>,
    /// Files written for this scenario, relative to the run folder.
    pub artifacts: BTreeMap<String, String>,
}

impl ScenarioSummary {
    /// Whether every pass succeeded.
    ///
    /// Never allocates.
    #[must_use]
    pub fn ok(&self) -> bool {
        self.status == "ok"
    }
}

/// Reads a `summary.json`.
///
/// # Errors
///
/// A message naming the file when it cannot be read, is not JSON of this
/// schema, or has another schema version.
///
/// # Allocation
///
/// The file's contents and the parsed summary.
pub fn read(path: &Path) -> Result<Summary, String> {
    let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let value: serde_json::Value = serde_json::from_slice(&text)
        .map_err(|e| format!("{}: not valid JSON: {e}", path.display()))?;
    let version = value
        .get("schema_version")
        .and_then(serde_json::Value::as_u64);
    if version != Some(u64::from(SCHEMA_VERSION)) {
        return Err(format!(
            "{}: schema_version {} is not supported (expected {SCHEMA_VERSION})",
            path.display(),
            version.map_or("missing".to_string(), |v| v.to_string())
        ));
    }
    serde_json::from_value(value).map_err(|e| format!("{}: {e}", path.display()))
}
