//! The baseline file (`profiles/baseline.json`): per scenario, exact totals
//! and call counts from the `count` pass and, where valgrind ran, the
//! instructions of the `instr` pass with their top functions; the toolchain
//! that measured them, the workload, and the tolerance on instructions.
//! Read strictly (an unknown field, a wrong type, a duplicate name are
//! errors naming the field), written atomically and deterministically.
//! Schema 1 (allocations only) is still read.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::model::{FunctionCost, WorkloadInfo};
use crate::{atomic, strict, Error};

/// The baseline file's schema version.
pub const BASELINE_VERSION: u32 = 2;

/// The default tolerance on instructions per call: 1%. Counts under
/// callgrind are deterministic for one binary and input; this leaves room
/// for what moves them slightly (the environment's size shifting the stack,
/// a rebuild that lays code out differently) while catching any real added
/// work (see the README for the variation measured).
pub const DEFAULT_INSTR_TOLERANCE: f64 = 0.01;

/// The default slack on instructions per call, on top of the tolerance:
/// 16 instructions. A call of a few hundred instructions moves by a couple
/// of them with the allocator's state (the parent's arguments and
/// environment are allocated before the scenario runs), which is more than
/// 1% of it and no regression.
pub const DEFAULT_INSTR_SLACK: f64 = 16.0;

fn default_tolerance() -> f64 {
    DEFAULT_INSTR_TOLERANCE
}

fn default_slack() -> f64 {
    DEFAULT_INSTR_SLACK
}

fn release() -> String {
    "release".to_string()
}

/// The kind of build this library is part of: `debug` when debug
/// assertions are on, else `release`.
///
/// Never allocates.
#[must_use]
pub fn this_build() -> &'static str {
    if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    }
}

/// The toolchain this library was built with.
pub const RUSTC_VERSION: &str = env!("ESCAPE_LAB_RUSTC_VERSION");

/// A baseline: per scenario, exact totals and call counts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// Always [`BASELINE_VERSION`].
    pub schema_version: u32,
    /// `rustc --version` of the toolchain that measured it.
    pub rustc: String,
    /// What the scenarios ran on.
    pub workload: WorkloadInfo,
    /// The build that counted the instructions: `release` (optimized) or
    /// `debug`; instructions are compared only between builds of one kind.
    #[serde(default = "release")]
    pub build: String,
    /// How much instructions per call may grow before `check` fails, as a
    /// fraction (0.01 is 1%); a scenario may set its own.
    #[serde(default = "default_tolerance")]
    pub instr_tolerance: f64,
    /// Instructions per call any scenario may grow by on top of the
    /// tolerance.
    #[serde(default = "default_slack")]
    pub instr_slack: f64,
    /// One entry per scenario, in run order.
    pub scenarios: Vec<BaselineEntry>,
}

/// One scenario's exact counts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineEntry {
    /// The scenario's name.
    pub name: String,
    /// Its kind.
    pub kind: String,
    /// Calls measured.
    pub calls: u64,
    /// Allocations in those calls.
    pub allocs: u64,
    /// Bytes allocated in those calls.
    pub bytes: u64,
    /// Calls the `instr` pass measured, when it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instr_calls: Option<u64>,
    /// Instructions in those calls outside the system allocator, when the
    /// `instr` pass ran (what the allocator spends depends on the heap's
    /// state; the allocations themselves are gated exactly). In the file,
    /// `instructions_outside_allocator`: a profile's `instructions` count
    /// everything, malloc and free included. (`instructions` is still read,
    /// as older baselines spelled it.)
    #[serde(
        default,
        rename = "instructions_outside_allocator",
        alias = "instructions",
        skip_serializing_if = "Option::is_none"
    )]
    pub instructions: Option<u64>,
    /// This scenario's own tolerance on instructions per call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instr_tolerance: Option<f64>,
    /// The top functions by exclusive instructions, totals over the calls,
    /// for naming what grew.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub functions: Vec<FunctionCost>,
    /// What the static reachability analysis said of the call, when it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reach: Option<ReachEntry>,
}

/// A scenario's static verdict and the user lines on its ways to the
/// allocator: `check` fails when the verdict gets worse or a line appears.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReachEntry {
    /// `none`, `panic-only`, `indirect` or `allocates`.
    pub verdict: crate::reach::Verdict,
    /// `file:line` of each way outside panic handling, sorted.
    #[serde(default)]
    pub lines: Vec<String>,
    /// Each way as `file:line:col: chain`, for the report (not stored).
    #[serde(skip)]
    pub ways: Vec<String>,
}

impl ReachEntry {
    /// The entry of an analysis.
    ///
    /// Allocates the lines.
    #[must_use]
    pub fn of(r: &crate::reach::Reach) -> ReachEntry {
        let mut lines: Vec<String> = r.paths.iter().map(crate::reach::ReachPath::line).collect();
        lines.sort();
        lines.dedup();
        ReachEntry {
            verdict: r.verdict,
            lines,
            ways: r
                .paths
                .iter()
                .map(|p| format!("{}: {}", p.location, crate::reach::short_chain(&p.chain)))
                .collect(),
        }
    }
}

impl BaselineEntry {
    /// Instructions per call, when counted.
    ///
    /// Never allocates.
    #[must_use]
    pub fn instructions_per_call(&self) -> Option<f64> {
        match (self.instructions, self.instr_calls) {
            (Some(i), Some(c)) if c > 0 => Some(i as f64 / c as f64),
            _ => None,
        }
    }

    /// Allocations per call, rounded for display.
    ///
    /// Allocates the returned `String`.
    #[must_use]
    pub fn allocs_per_call(&self) -> String {
        crate::fmt::per_call(self.allocs, self.calls)
    }

    /// Bytes per call, rounded for display.
    ///
    /// Allocates the returned `String`.
    #[must_use]
    pub fn bytes_per_call(&self) -> String {
        crate::fmt::per_call(self.bytes, self.calls)
    }
}

/// Reads and validates a baseline.
///
/// # Errors
///
/// [`Error::Read`] when it cannot be read; [`Error::Malformed`] naming the
/// file and what is wrong: larger than 16 MiB, not JSON or a key given
/// twice in one object (with line and column), a `build` other than
/// `release` or `debug`, a
/// `schema_version` that is missing, not a number or not supported, an
/// unknown or missing field, a field of the wrong type, an entry with zero
/// calls, a name listed twice.
///
/// # Allocation
///
/// The file and the parsed baseline.
pub fn read(path: &Path) -> Result<Baseline, Error> {
    let bad = |why: String| Error::malformed(path, why);
    let text = strict::read_bounded(path, strict::JSON_LIMIT)?;
    let value = strict::json(path, &text)?;
    match value.get("schema_version") {
        Some(serde_json::Value::Number(n)) if matches!(n.as_u64(), Some(1 | 2)) => {}
        Some(serde_json::Value::Number(n)) => {
            return Err(bad(format!(
                "schema_version {n} is not supported (expected 1 or {BASELINE_VERSION})"
            )))
        }
        Some(other) => {
            return Err(bad(format!(
                "schema_version must be the number {BASELINE_VERSION}, found {other}"
            )))
        }
        None => return Err(bad("no schema_version field".into())),
    }
    let b: Baseline = serde_json::from_value(value).map_err(|e| bad(e.to_string()))?;
    if !matches!(b.build.as_str(), "release" | "debug") {
        return Err(bad(format!(
            "build {:?} is not \"release\" or \"debug\"",
            b.build
        )));
    }
    for t in std::iter::once(b.instr_tolerance)
        .chain(b.scenarios.iter().filter_map(|e| e.instr_tolerance))
    {
        if !(t.is_finite() && (0.0..1.0).contains(&t)) {
            return Err(bad(format!(
                "instr_tolerance {t} is not a fraction in [0, 1) (0.01 is 1%)"
            )));
        }
    }
    if !(b.instr_slack.is_finite() && b.instr_slack >= 0.0) {
        return Err(bad(format!(
            "instr_slack {} is not a number of instructions per call (0 or more)",
            b.instr_slack
        )));
    }
    for (i, e) in b.scenarios.iter().enumerate() {
        if e.calls == 0 {
            return Err(bad(format!("scenario {:?} has 0 calls", e.name)));
        }
        if b.scenarios[..i].iter().any(|x| x.name == e.name) {
            return Err(bad(format!("scenario {:?} is listed twice", e.name)));
        }
    }
    Ok(b)
}

/// Writes a baseline atomically, creating its folder: pretty JSON, fields
/// in declaration order, a final newline.
///
/// # Errors
///
/// [`Error::Write`] naming the file or folder.
///
/// # Allocation
///
/// The JSON text.
pub fn write(path: &Path, b: &Baseline) -> Result<(), Error> {
    let mut json = serde_json::to_vec_pretty(b).map_err(|e| Error::write(path, e.into()))?;
    json.push(b'\n');
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::write(dir, e))?;
    }
    atomic::write(path, &json)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn entry(name: &str, calls: u64, allocs: u64, bytes: u64) -> BaselineEntry {
        BaselineEntry {
            name: name.into(),
            kind: "custom".into(),
            calls,
            allocs,
            bytes,
            ..BaselineEntry::default()
        }
    }

    #[test]
    fn damaged_baselines_are_errors_naming_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("baseline.json");
        let b = Baseline {
            schema_version: BASELINE_VERSION,
            rustc: RUSTC_VERSION.into(),
            workload: WorkloadInfo::default(),
            build: this_build().into(),
            instr_tolerance: DEFAULT_INSTR_TOLERANCE,
            instr_slack: DEFAULT_INSTR_SLACK,
            scenarios: vec![entry("owned", 512, 1, 2)],
        };
        write(&p, &b).unwrap();
        assert_eq!(read(&p).unwrap(), b);
        let good = std::fs::read_to_string(&p).unwrap();

        let cases: &[(String, &str)] = &[
            (good[..good.len() / 2].to_string(), "not valid JSON"),
            (
                good.replace("\"calls\": 512", "\"calls\": \"many\""),
                "invalid type: string \"many\", expected u64",
            ),
            (
                good.replace("\"schema_version\": 2", "\"schema_version\": 9"),
                "schema_version 9 is not supported",
            ),
            (
                good.replace("\"schema_version\": 2", "\"schema_version\": \"2\""),
                "schema_version must be the number 2, found \"2\"",
            ),
            (
                good.replace("\"schema_version\": 2,", ""),
                "no schema_version field",
            ),
            (
                good.replace("\"instr_tolerance\": 0.01", "\"instr_tolerance\": 5.0"),
                "instr_tolerance 5 is not a fraction",
            ),
            (
                good.replace("\"calls\": 512", "\"calls\": 512, \"cals\": 3"),
                "unknown field `cals`",
            ),
            (
                good.replace("\"calls\": 512", "\"calls\": 0"),
                "scenario \"owned\" has 0 calls",
            ),
        ];
        for (text, want) in cases {
            std::fs::write(&p, text).unwrap();
            let err = read(&p).unwrap_err();
            assert_eq!(err.exit_code(), 2);
            let msg = err.to_string();
            assert!(msg.contains(want) && msg.contains("baseline.json"), "{msg}");
        }
        let err = read(&dir.path().join("none.json")).unwrap_err();
        assert!(err.to_string().contains("cannot read"), "{err}");
    }
}
