//! The regression gate: exact allocation counts per call against a committed
//! baseline, and `diff` for two runs.
//!
//! Allocation counts per call are exact and repeatable, so the gate needs no
//! tolerance: any increase in allocations or bytes per call of any scenario
//! fails, and nothing else does. Time is never gated.
//!
//! Policy for the scenario sets (also in README.md):
//!
//! - a scenario measured now but absent from the baseline **fails**: a new
//!   scenario must enter the baseline through `--bless`, in review;
//! - a scenario in the baseline that is no longer measured **fails** too:
//!   dropping or renaming a scenario must not silently drop its guard;
//! - a decrease passes and says so (bless to lock it in);
//! - a different rustc version than the baseline's is a warning: the
//!   standard library's growth strategy can change counts, so read a failure
//!   after a toolchain upgrade with that in mind.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::HarnessError;
use crate::pass::{self, Pass, PassResult, Settings};
use crate::profile::{spawn_pass, workspace_root, ProfileOptions};
use crate::scenario::{Kind, Scenario};
use crate::sites::{self, per_call};
use crate::summary::{ScenarioSummary, Summary, WorkloadInfo};
use crate::{atomic, summary};

/// The baseline file's schema version.
pub const BASELINE_VERSION: u32 = 1;

/// The toolchain this binary was built with.
pub const RUSTC_VERSION: &str = env!("ESCAPE_LAB_RUSTC_VERSION");

/// `profiles/baseline.json`: per scenario, exact totals and call counts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// Always [`BASELINE_VERSION`].
    pub schema_version: u32,
    /// `rustc --version` of the toolchain that measured it.
    pub rustc: String,
    /// The workload of the variant scenarios.
    pub workload: WorkloadInfo,
    /// One entry per scenario, in run order.
    pub scenarios: Vec<BaselineEntry>,
}

/// One scenario's exact counts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaselineEntry {
    /// The scenario's name.
    pub name: String,
    /// Its kind.
    pub kind: Kind,
    /// Calls measured.
    pub calls: u64,
    /// Allocations in those calls.
    pub allocs: u64,
    /// Bytes allocated in those calls.
    pub bytes: u64,
}

impl BaselineEntry {
    /// Allocations per call, exact as a fraction; shown rounded.
    #[must_use]
    pub fn allocs_per_call(&self) -> String {
        per_call(self.allocs, self.calls)
    }

    /// Bytes per call, shown rounded.
    ///
    /// Allocates the returned `String`.
    #[must_use]
    pub fn bytes_per_call(&self) -> String {
        per_call(self.bytes, self.calls)
    }
}

/// How one scenario compares with the baseline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Same allocations and bytes per call.
    Same,
    /// Fewer allocations or bytes per call, and neither more.
    Better,
    /// More allocations or bytes per call.
    Worse,
    /// Measured now, not in the baseline.
    New,
    /// In the baseline, not measured now.
    Missing,
    /// Could not be measured.
    Failed(String),
}

/// One row of a check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The scenario.
    pub name: String,
    /// Its baseline entry.
    pub baseline: Option<BaselineEntry>,
    /// Its fresh measurement.
    pub now: Option<BaselineEntry>,
    /// The comparison.
    pub verdict: Verdict,
    /// The top allocation site now, found for regressions.
    pub top_site: Option<String>,
}

/// Compares `a/ca` with `b/cb` exactly: `Less`, `Equal` or `Greater`.
fn cmp_ratio(a: u64, ca: u64, b: u64, cb: u64) -> std::cmp::Ordering {
    (u128::from(a) * u128::from(cb.max(1))).cmp(&(u128::from(b) * u128::from(ca.max(1))))
}

/// Compares fresh measurements with a baseline, scenario by scenario:
/// measured scenarios in their order, then those only in the baseline.
///
/// # Allocation
///
/// The rows.
#[must_use]
pub fn compare(baseline: &Baseline, now: &[Result<BaselineEntry, (String, String)>]) -> Vec<Row> {
    use std::cmp::Ordering::{Greater, Less};
    let mut rows = Vec::new();
    for m in now {
        let name = match m {
            Ok(e) => e.name.clone(),
            Err((name, _)) => name.clone(),
        };
        let base = baseline.scenarios.iter().find(|b| b.name == name).cloned();
        let verdict = match (m, &base) {
            (Err((_, why)), _) => Verdict::Failed(why.clone()),
            (Ok(_), None) => Verdict::New,
            (Ok(n), Some(b)) => {
                let a = cmp_ratio(n.allocs, n.calls, b.allocs, b.calls);
                let y = cmp_ratio(n.bytes, n.calls, b.bytes, b.calls);
                if a == Greater || y == Greater {
                    Verdict::Worse
                } else if a == Less || y == Less {
                    Verdict::Better
                } else {
                    Verdict::Same
                }
            }
        };
        rows.push(Row {
            name,
            baseline: base,
            now: m.as_ref().ok().cloned(),
            verdict,
            top_site: None,
        });
    }
    for b in &baseline.scenarios {
        if !rows.iter().any(|r| r.name == b.name) {
            rows.push(Row {
                name: b.name.clone(),
                baseline: Some(b.clone()),
                now: None,
                verdict: Verdict::Missing,
                top_site: None,
            });
        }
    }
    rows
}

/// Whether a check with these rows fails (exit 1).
///
/// Never allocates.
#[must_use]
pub fn fails(rows: &[Row]) -> bool {
    rows.iter()
        .any(|r| !matches!(r.verdict, Verdict::Same | Verdict::Better))
}

/// Reads and validates a baseline.
///
/// # Errors
///
/// [`HarnessError::Input`] naming the file and what is wrong with it:
/// unreadable, not JSON (with line and column), wrong schema version, a
/// missing field, an entry with zero calls, a name listed twice.
///
/// # Allocation
///
/// The file and the parsed baseline.
pub fn read_baseline(path: &Path) -> Result<Baseline, HarnessError> {
    let bad = |why: String| HarnessError::Input(format!("baseline {}: {why}", path.display()));
    let text = std::fs::read(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
    let value: serde_json::Value = serde_json::from_slice(&text).map_err(|e| {
        bad(format!(
            "not valid JSON ({e}); a truncated or hand-edited file? Restore it from git or run `escape-lab check --bless`"
        ))
    })?;
    match value
        .get("schema_version")
        .and_then(serde_json::Value::as_u64)
    {
        Some(v) if v == u64::from(BASELINE_VERSION) => {}
        Some(v) => {
            return Err(bad(format!(
                "schema_version {v} is not supported (expected {BASELINE_VERSION})"
            )))
        }
        None => return Err(bad("no schema_version field".into())),
    }
    let b: Baseline = serde_json::from_value(value).map_err(|e| bad(format!("{e}")))?;
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

/// Options of `escape-lab check`.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// The baseline file. Default: `profiles/baseline.json`.
    pub baseline: PathBuf,
    /// Rewrite the baseline from this measurement instead of comparing.
    /// Default: false.
    pub bless: bool,
    /// Time limit of one scenario's count pass. Default: 60 s.
    pub timeout: Duration,
}

impl Default for CheckOptions {
    fn default() -> CheckOptions {
        CheckOptions {
            baseline: PathBuf::from("profiles/baseline.json"),
            bless: false,
            timeout: Duration::from_secs(60),
        }
    }
}

/// What a check found.
#[derive(Debug)]
pub struct CheckOutcome {
    /// One row per scenario.
    pub rows: Vec<Row>,
    /// Warnings (a different toolchain).
    pub warnings: Vec<String>,
    /// Whether the baseline was rewritten.
    pub blessed: bool,
}

impl CheckOutcome {
    /// Whether the check fails (exit 1).
    ///
    /// Never allocates.
    #[must_use]
    pub fn failed(&self) -> bool {
        !self.blessed && fails(&self.rows)
    }
}

/// `escape-lab check`: the `count` pass for every scenario, each in a child
/// process, compared with the baseline (or written to it with `bless`). For
/// each regression, a `heap` pass finds the top allocation site now.
///
/// When this process is a child started by a check, runs the requested pass
/// and exits.
///
/// # Errors
///
/// [`HarnessError::Input`] for an unreadable or malformed baseline (exit 2);
/// [`HarnessError::Output`] when the baseline cannot be written.
///
/// # Allocation
///
/// Freely.
pub fn check(
    scenarios: &[Scenario],
    workload: WorkloadInfo,
    opts: &CheckOptions,
) -> Result<CheckOutcome, HarnessError> {
    if let Some(req) = pass::requested() {
        pass::run_child(&req, scenarios);
    }
    let baseline = if opts.bless {
        None
    } else {
        Some(read_baseline(&opts.baseline)?)
    };
    let tmp = tempfile::tempdir().map_err(|e| HarnessError::output(Path::new("(temp)"), e))?;
    let run_opts = ProfileOptions {
        out: tmp.path().to_path_buf(),
        settings: Settings::default(),
        timeout: opts.timeout,
        progress: false,
    };
    let mut measured = Vec::new();
    for s in scenarios {
        let dir = tmp.path().join(s.name());
        std::fs::create_dir_all(&dir).map_err(|e| HarnessError::output(&dir, e))?;
        measured.push(match spawn_pass(Pass::Count, s, &dir, &run_opts) {
            Ok(r) => Ok(entry(s, &r)),
            Err(e) => Err((s.name().to_string(), e)),
        });
    }

    if opts.bless {
        let failed: Vec<String> = measured
            .iter()
            .filter_map(|m| m.as_ref().err().map(|(n, e)| format!("{n}: {e}")))
            .collect();
        if !failed.is_empty() {
            return Err(HarnessError::Input(format!(
                "not blessing: some scenarios could not be measured:\n{}",
                failed.join("\n")
            )));
        }
        let b = Baseline {
            schema_version: BASELINE_VERSION,
            rustc: RUSTC_VERSION.to_string(),
            workload,
            scenarios: measured.into_iter().flatten().collect(),
        };
        let mut json =
            serde_json::to_vec_pretty(&b).map_err(|e| HarnessError::output(&opts.baseline, e))?;
        json.push(b'\n');
        if let Some(dir) = opts.baseline.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| HarnessError::output(dir, e))?;
        }
        atomic::write(&opts.baseline, &json)
            .map_err(|e| HarnessError::output(&opts.baseline, e))?;
        let rows = compare(&b, &b.scenarios.iter().cloned().map(Ok).collect::<Vec<_>>());
        return Ok(CheckOutcome {
            rows,
            warnings: Vec::new(),
            blessed: true,
        });
    }

    let baseline = baseline.unwrap_or_else(|| unreachable!("read above unless blessing"));
    let mut warnings = Vec::new();
    if baseline.rustc != RUSTC_VERSION {
        warnings.push(format!(
            "the baseline was made with {}, this is {RUSTC_VERSION}: allocation counts can change with the standard library",
            baseline.rustc
        ));
    }
    if baseline.workload != workload {
        warnings.push(format!(
            "the baseline's workload ({} patterns, {} bytes, chunk {}) differs from this one's ({} patterns, {} bytes, chunk {})",
            baseline.workload.patterns,
            baseline.workload.haystack_bytes,
            baseline.workload.chunk,
            workload.patterns,
            workload.haystack_bytes,
            workload.chunk
        ));
    }
    let mut rows = compare(&baseline, &measured);
    let workspace = workspace_root();
    for row in rows.iter_mut().filter(|r| r.verdict == Verdict::Worse) {
        if let Some(s) = scenarios.iter().find(|s| s.name() == row.name) {
            let dir = tmp.path().join(s.name());
            if let Ok(r) = spawn_pass(Pass::Heap, s, &dir, &run_opts) {
                row.top_site = sites::read(&dir.join("heap.json"), r.calls, &workspace)
                    .ok()
                    .and_then(|h| h.sites.into_iter().next())
                    .map(|site| site.line(r.calls));
            }
        }
    }
    Ok(CheckOutcome {
        rows,
        warnings,
        blessed: false,
    })
}

fn entry(s: &Scenario, r: &PassResult) -> BaselineEntry {
    BaselineEntry {
        name: s.name().to_string(),
        kind: s.kind_of(),
        calls: r.calls,
        allocs: r.allocs,
        bytes: r.bytes,
    }
}

/// The check's table and verdict lines.
///
/// Allocates the returned `String`.
#[must_use]
pub fn check_report(outcome: &CheckOutcome, baseline: &Path) -> String {
    let mut out = String::new();
    for w in &outcome.warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    out.push_str(&format!(
        "{:<28} {:>24} {:>24}  {}\n",
        "scenario", "baseline allocs, B/call", "now allocs, B/call", "change"
    ));
    let cell = |e: &Option<BaselineEntry>| {
        e.as_ref().map_or("-".to_string(), |e| {
            format!("{}, {}", e.allocs_per_call(), e.bytes_per_call())
        })
    };
    for r in &outcome.rows {
        let change = match &r.verdict {
            Verdict::Same => "same".to_string(),
            Verdict::Better => "better".to_string(),
            Verdict::Worse => "REGRESSION".to_string(),
            Verdict::New => "NEW: not in the baseline".to_string(),
            Verdict::Missing => "MISSING: in the baseline, not measured".to_string(),
            Verdict::Failed(e) => format!("FAILED: {}", e.lines().next().unwrap_or("")),
        };
        let base = if outcome.blessed { &None } else { &r.baseline };
        out.push_str(&format!(
            "{:<28} {:>24} {:>24}  {change}\n",
            r.name,
            cell(base),
            cell(&r.now)
        ));
    }
    out.push('\n');
    if outcome.blessed {
        out.push_str(&format!(
            "blessed: wrote {} ({} scenarios, {RUSTC_VERSION}); review and commit it\n",
            baseline.display(),
            outcome.rows.len()
        ));
        return out;
    }
    for r in &outcome.rows {
        match &r.verdict {
            Verdict::Worse => {
                let (b, n) = (r.baseline.as_ref(), r.now.as_ref());
                if let (Some(b), Some(n)) = (b, n) {
                    out.push_str(&format!(
                        "regression in {}: {} -> {} allocs/call, {} -> {} B/call\n",
                        r.name,
                        b.allocs_per_call(),
                        n.allocs_per_call(),
                        b.bytes_per_call(),
                        n.bytes_per_call()
                    ));
                }
                match &r.top_site {
                    Some(site) => out.push_str(&format!("  top allocation site now: {site}\n")),
                    None => out.push_str("  (the heap pass found no site)\n"),
                }
            }
            Verdict::New => out.push_str(&format!(
                "{} is not in the baseline: add it with `escape-lab check --bless` and commit the baseline\n",
                r.name
            )),
            Verdict::Missing => out.push_str(&format!(
                "{} is in the baseline but no longer measured: if it was removed or renamed on purpose, run `escape-lab check --bless`\n",
                r.name
            )),
            Verdict::Failed(e) => out.push_str(&format!("{} could not be measured: {e}\n", r.name)),
            Verdict::Better => out.push_str(&format!(
                "{} allocates less than its baseline: run `escape-lab check --bless` to lock the improvement in\n",
                r.name
            )),
            Verdict::Same => {}
        }
    }
    if fails(&outcome.rows) {
        out.push_str("check failed\n");
    } else {
        out.push_str(&format!(
            "check passed: no scenario allocates more than in {}\n",
            baseline.display()
        ));
    }
    out
}

/// `escape-lab diff OLD NEW`: two runs' summaries side by side, as
/// benchstat does for Go: time with its spread, allocations exact, the
/// change.
///
/// # Errors
///
/// [`HarnessError::Input`] when a summary cannot be read.
///
/// # Allocation
///
/// The summaries and the table.
pub fn diff(old: &Path, new: &Path) -> Result<String, HarnessError> {
    let a = summary::read(old).map_err(HarnessError::Input)?;
    let b = summary::read(new).map_err(HarnessError::Input)?;
    Ok(diff_table(&a, &b))
}

fn diff_table(a: &Summary, b: &Summary) -> String {
    let mut out = String::new();
    if a.workload != b.workload {
        out.push_str(&format!(
            "note: different workloads ({} vs {}): compare with care\n",
            a.workload.name, b.workload.name
        ));
    }
    out.push_str(&format!(
        "{:<28} {:>18} {:>18} {:>8}   {:>14} {:>14} {:>9}\n",
        "scenario",
        "old time/call",
        "new time/call",
        "delta",
        "old allocs/call",
        "new allocs/call",
        "delta"
    ));
    let time = |s: Option<&ScenarioSummary>| -> (String, Option<f64>) {
        match s.and_then(|s| s.ns_per_call.as_ref()) {
            Some(t) if t.median > 0.0 => {
                let spread = (t.max - t.min) / 2.0 / t.median * 100.0;
                (
                    format!("{} ±{spread:.0}%", fmt_ns(t.median)),
                    Some(t.median),
                )
            }
            _ => ("-".into(), None),
        }
    };
    let allocs = |s: Option<&ScenarioSummary>| -> (String, Option<(u64, u64)>) {
        match s {
            Some(s) if s.calls > 0 => (
                per_call(s.allocs_total, s.calls),
                Some((s.allocs_total, s.calls)),
            ),
            _ => ("-".into(), None),
        }
    };
    let mut names: Vec<&str> = a.scenarios.iter().map(|s| s.name.as_str()).collect();
    for s in &b.scenarios {
        if !names.contains(&s.name.as_str()) {
            names.push(&s.name);
        }
    }
    for name in names {
        let (sa, sb) = (
            a.scenarios.iter().find(|s| s.name == name),
            b.scenarios.iter().find(|s| s.name == name),
        );
        let (ta, va) = time(sa);
        let (tb, vb) = time(sb);
        let tdelta = match (va, vb) {
            (Some(x), Some(y)) => format!("{:+.1}%", (y / x - 1.0) * 100.0),
            _ => "-".into(),
        };
        let (aa, xa) = allocs(sa);
        let (ab, xb) = allocs(sb);
        let adelta = match (xa, xb) {
            (Some((n1, c1)), Some((n2, c2))) => match cmp_ratio(n2, c2, n1, c1) {
                std::cmp::Ordering::Equal => "=".to_string(),
                _ if n1 == 0 => "+∞".to_string(),
                _ => format!(
                    "{:+.1}%",
                    ((n2 as f64 / c2 as f64) / (n1 as f64 / c1 as f64) - 1.0) * 100.0
                ),
            },
            _ => "-".into(),
        };
        out.push_str(&format!(
            "{name:<28} {ta:>18} {tb:>18} {tdelta:>8}   {aa:>14} {ab:>14} {adelta:>9}\n"
        ));
    }
    out.push_str(
        "\ntime: median of timed batches ± half their range; allocations: exact per call\n",
    );
    out
}

fn fmt_ns(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.1} ns")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(name: &str, calls: u64, allocs: u64, bytes: u64) -> BaselineEntry {
        BaselineEntry {
            name: name.into(),
            kind: Kind::Variant,
            calls,
            allocs,
            bytes,
        }
    }

    fn base(entries: Vec<BaselineEntry>) -> Baseline {
        Baseline {
            schema_version: BASELINE_VERSION,
            rustc: RUSTC_VERSION.into(),
            workload: WorkloadInfo::default(),
            scenarios: entries,
        }
    }

    #[test]
    fn one_extra_allocation_per_call_is_a_regression() {
        let b = base(vec![e("fixed", 512, 0, 0), e("boxed", 512, 1000, 8000)]);
        let rows = compare(
            &b,
            &[
                Ok(e("fixed", 512, 512, 4096)),
                Ok(e("boxed", 512, 1000, 8000)),
            ],
        );
        assert_eq!(rows[0].verdict, Verdict::Worse);
        assert_eq!(rows[1].verdict, Verdict::Same);
        assert!(fails(&rows));
    }

    #[test]
    fn a_bytes_only_increase_is_a_regression() {
        let b = base(vec![e("boxed", 512, 1000, 8000)]);
        let rows = compare(&b, &[Ok(e("boxed", 512, 1000, 8001))]);
        assert_eq!(rows[0].verdict, Verdict::Worse);
        assert!(fails(&rows));
    }

    #[test]
    fn a_decrease_passes_and_says_so() {
        let b = base(vec![e("boxed", 512, 1000, 8000)]);
        let outcome = CheckOutcome {
            rows: compare(&b, &[Ok(e("boxed", 512, 999, 8000))]),
            warnings: vec![],
            blessed: false,
        };
        assert_eq!(outcome.rows[0].verdict, Verdict::Better);
        assert!(!outcome.failed());
        let text = check_report(&outcome, Path::new("b.json"));
        assert!(
            text.contains("allocates less") && text.contains("check passed"),
            "{text}"
        );
    }

    #[test]
    fn per_call_is_compared_exactly_across_call_counts() {
        // 1,000 over 512 calls is exactly 1,953.125 per 1,000 calls: the
        // same per call as 2,000 over 1,024, and less than 1,001 over 512.
        let b = base(vec![e("boxed", 512, 1000, 0)]);
        assert_eq!(
            compare(&b, &[Ok(e("boxed", 1024, 2000, 0))])[0].verdict,
            Verdict::Same
        );
        assert_eq!(
            compare(&b, &[Ok(e("boxed", 1024, 2001, 0))])[0].verdict,
            Verdict::Worse
        );
    }

    #[test]
    fn new_and_missing_scenarios_fail() {
        let b = base(vec![e("old", 10, 0, 0)]);
        let rows = compare(&b, &[Ok(e("new", 10, 0, 0))]);
        assert_eq!(rows[0].verdict, Verdict::New);
        assert_eq!(rows[1].verdict, Verdict::Missing);
        assert!(fails(&rows));
    }

    #[test]
    fn corrupted_and_truncated_baselines_are_input_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("baseline.json");
        let good = serde_json::to_string_pretty(&base(vec![e("boxed", 512, 1, 2)])).unwrap();
        std::fs::write(&p, &good).unwrap();
        assert!(read_baseline(&p).is_ok());

        std::fs::write(&p, &good[..good.len() / 2]).unwrap();
        let err = read_baseline(&p).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("not valid JSON"), "{err}");
        assert!(err.to_string().contains("baseline.json"), "{err}");

        std::fs::write(&p, good.replace("\"calls\": 512", "\"calls\": \"many\"")).unwrap();
        let err = read_baseline(&p).unwrap_err().to_string();
        assert!(err.contains("invalid type"), "{err}");

        std::fs::write(
            &p,
            good.replace("\"schema_version\": 1", "\"schema_version\": 9"),
        )
        .unwrap();
        let err = read_baseline(&p).unwrap_err().to_string();
        assert!(err.contains("schema_version 9"), "{err}");

        let err = read_baseline(&dir.path().join("none.json"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("cannot read"), "{err}");
    }
}
