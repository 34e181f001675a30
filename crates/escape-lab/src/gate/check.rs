//! `check`: the `count` pass for every scenario, each in a child process,
//! compared exactly with the baseline, or written to it with `--bless`. For
//! each regression, a `heap` pass finds the top allocation site now.

use std::cmp::Ordering;
use std::path::PathBuf;
use std::time::Duration;

use crate::child::{self, Supervisor};
use crate::gate::baseline::{self, Baseline, BaselineEntry, BASELINE_VERSION, RUSTC_VERSION};
use crate::model::{Pass, PassResult, WorkloadInfo};
use crate::pass::{Settings, ENV_FAULT};
use crate::scenario::Scenario;
use crate::{sites, Error};

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

/// Compares `a/ca` with `b/cb` exactly.
///
/// Never allocates.
#[must_use]
pub fn cmp_ratio(a: u64, ca: u64, b: u64, cb: u64) -> Ordering {
    (u128::from(a) * u128::from(cb.max(1))).cmp(&(u128::from(b) * u128::from(ca.max(1))))
}

/// Compares fresh measurements with a baseline, scenario by scenario:
/// measured scenarios in their order, then those only in the baseline.
/// A measurement is an entry, or the scenario's name and why it failed.
///
/// # Allocation
///
/// The rows.
#[must_use]
pub fn compare(baseline: &Baseline, now: &[Result<BaselineEntry, (String, String)>]) -> Vec<Row> {
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
                if a == Ordering::Greater || y == Ordering::Greater {
                    Verdict::Worse
                } else if a == Ordering::Less || y == Ordering::Less {
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

/// Options of `check`.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// The baseline file. Default: `profiles/baseline.json` under the
    /// source root.
    pub baseline: PathBuf,
    /// Rewrite the baseline from this measurement instead of comparing.
    /// Default: false.
    pub bless: bool,
    /// Time limit of one scenario's pass. Default: 60 s.
    pub timeout: Duration,
    /// Where each check makes its own working folder (`check-XXXXXX`) for
    /// the passes' files: removed when every scenario could be measured,
    /// kept when one failed, so that its stderr can be read where the
    /// message says. Default: `<target>/escape-lab` (see
    /// [`crate::profile::target_dir`]).
    pub work_dir: PathBuf,
    /// The folder allocation sites are reported relative to. Default:
    /// [`crate::profile::source_root`].
    pub source_root: PathBuf,
    /// Only the scenarios whose names contain one of these (all when
    /// empty): the others are neither measured nor compared, and a bless
    /// keeps their baseline entries. Default: empty.
    pub only: Vec<String>,
}

impl CheckOptions {
    /// Whether the scenario called `name` is selected by [`CheckOptions::only`].
    ///
    /// Never allocates.
    #[must_use]
    pub fn selects(&self, name: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|f| name.contains(f.as_str()))
    }
}

impl Default for CheckOptions {
    fn default() -> CheckOptions {
        let root = crate::profile::source_root();
        CheckOptions {
            baseline: root.join("profiles").join("baseline.json"),
            bless: false,
            timeout: Duration::from_secs(60),
            work_dir: crate::profile::target_dir().join("escape-lab"),
            source_root: root,
            only: Vec::new(),
        }
    }
}

/// What a check found.
#[derive(Debug)]
pub struct CheckOutcome {
    /// One row per scenario.
    pub rows: Vec<Row>,
    /// Warnings (a different toolchain or workload).
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

/// Runs the check (see the module docs).
///
/// When this process is a child started by a check, runs the requested pass
/// and exits.
///
/// # Errors
///
/// [`Error::Read`] or [`Error::Malformed`] for an unreadable or malformed
/// baseline; [`Error::Usage`] for `bless` while [`ENV_FAULT`] is set or
/// while a scenario cannot be measured, or for a fault specification that
/// names no scenario; [`Error::Write`] when the baseline or the work folder
/// cannot be written (all exit 2); [`Error::Cancelled`] when a signal
/// stopped it (130), its work folder removed.
///
/// # Allocation
///
/// Freely.
pub fn check(
    scenarios: &[Scenario],
    workload: WorkloadInfo,
    opts: &CheckOptions,
) -> Result<CheckOutcome, Error> {
    child::serve_if_child(scenarios);
    crate::pass::check_fault(scenarios)?;
    child::catch_signals();
    if opts.bless && std::env::var_os(ENV_FAULT).is_some() {
        return Err(Error::Usage {
            option: "--bless".into(),
            problem: format!(
                "refusing to bless while {ENV_FAULT} is set: the injected fault would enter the baseline"
            ),
        });
    }
    let baseline = if opts.bless {
        None
    } else {
        let mut b = baseline::read(&opts.baseline)?;
        b.scenarios.retain(|e| opts.selects(&e.name));
        Some(b)
    };
    std::fs::create_dir_all(&opts.work_dir).map_err(|e| Error::write(&opts.work_dir, e))?;
    let work = tempfile::Builder::new()
        .prefix("check-")
        .tempdir_in(&opts.work_dir)
        .map_err(|e| Error::write(&opts.work_dir, e))?;
    let supervisor = Supervisor {
        settings: Settings {
            source_root: Some(opts.source_root.clone()),
            ..Settings::default()
        },
        timeout: opts.timeout,
        display_root: work.path().to_path_buf(),
        env: crate::input::write_for_children(&work.path().join("inputs"))?,
    };
    let mut measured = Vec::new();
    for s in scenarios.iter().filter(|s| opts.selects(s.name())) {
        let dir = work.path().join(s.name());
        std::fs::create_dir_all(&dir).map_err(|e| Error::write(&dir, e))?;
        let result = supervisor.run(Pass::Count, s.name(), &dir);
        if child::cancelled() {
            return Err(Error::Cancelled);
        }
        measured.push(match result {
            Ok(PassResult::Count(c)) => Ok(BaselineEntry {
                name: s.name().to_string(),
                kind: s.kind_of().to_string(),
                calls: c.calls,
                allocs: c.allocs,
                bytes: c.bytes,
            }),
            Ok(_) => Err((s.name().to_string(), "not a count result".to_string())),
            Err(e) => Err((s.name().to_string(), e.0)),
        });
    }
    if measured.iter().any(Result::is_err) {
        // Keep the folder: the failures' messages point into it.
        let _ = work.keep();
    }
    let Some(baseline) = baseline else {
        let order: Vec<&str> = scenarios.iter().map(Scenario::name).collect();
        return bless(measured, workload, opts, &order);
    };
    let mut warnings = Vec::new();
    if baseline.rustc != RUSTC_VERSION {
        warnings.push(format!(
            "the baseline was made with {}, this is {RUSTC_VERSION}: allocation counts can change with the standard library",
            baseline.rustc
        ));
    }
    if (&baseline.workload.name, &baseline.workload.facts) != (&workload.name, &workload.facts) {
        warnings.push(format!(
            "the baseline's workload ({}) differs from this one's ({})",
            baseline.workload.describe(),
            workload.describe()
        ));
    }
    let mut rows = compare(&baseline, &measured);
    for row in rows.iter_mut().filter(|r| r.verdict == Verdict::Worse) {
        let dir = supervisor.display_root.join(&row.name);
        if let Ok(PassResult::Heap { result: h, .. }) = supervisor.run(Pass::Heap, &row.name, &dir)
        {
            row.top_site = sites::read(&dir.join("heap.json"), &opts.source_root)
                .ok()
                .and_then(|p| p.sites.into_iter().next())
                .map(|site| site.line(h.calls));
        }
    }
    Ok(CheckOutcome {
        rows,
        warnings,
        blessed: false,
    })
}

fn bless(
    measured: Vec<Result<BaselineEntry, (String, String)>>,
    workload: WorkloadInfo,
    opts: &CheckOptions,
    order: &[&str],
) -> Result<CheckOutcome, Error> {
    let failed: Vec<String> = measured
        .iter()
        .filter_map(|m| m.as_ref().err().map(|(n, e)| format!("{n}: {e}")))
        .collect();
    if !failed.is_empty() {
        return Err(Error::Usage {
            option: "--bless".into(),
            problem: format!(
                "not blessing: some scenarios could not be measured:\n{}",
                failed.join("\n")
            ),
        });
    }
    // The baseline keeps what identifies the workload, not its prose.
    let workload = WorkloadInfo {
        description: String::new(),
        ..workload
    };
    let fresh: Vec<BaselineEntry> = measured.into_iter().flatten().collect();
    // A filtered bless replaces the selected entries and keeps the others,
    // in the order of the scenario list.
    let mut kept = Vec::new();
    if !opts.only.is_empty() && opts.baseline.exists() {
        let old = baseline::read(&opts.baseline)?;
        kept.extend(old.scenarios.into_iter().filter(|e| !opts.selects(&e.name)));
    }
    let rows = compare(
        &Baseline {
            schema_version: BASELINE_VERSION,
            rustc: RUSTC_VERSION.to_string(),
            workload: workload.clone(),
            scenarios: fresh.clone(),
        },
        &fresh.iter().cloned().map(Ok).collect::<Vec<_>>(),
    );
    let position = |name: &str| order.iter().position(|n| *n == name).unwrap_or(usize::MAX);
    let mut scenarios: Vec<BaselineEntry> = kept.into_iter().chain(fresh).collect();
    scenarios.sort_by_key(|e| position(&e.name));
    let b = Baseline {
        schema_version: BASELINE_VERSION,
        rustc: RUSTC_VERSION.to_string(),
        workload,
        scenarios,
    };
    baseline::write(&opts.baseline, &b)?;
    Ok(CheckOutcome {
        rows,
        warnings: Vec::new(),
        blessed: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(name: &str, calls: u64, allocs: u64, bytes: u64) -> BaselineEntry {
        BaselineEntry {
            name: name.into(),
            kind: "custom".into(),
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
        let b = base(vec![e("borrowed", 512, 0, 0), e("owned", 512, 1000, 8000)]);
        let rows = compare(
            &b,
            &[
                Ok(e("borrowed", 512, 512, 4096)),
                Ok(e("owned", 512, 1000, 8000)),
            ],
        );
        assert_eq!(rows[0].verdict, Verdict::Worse);
        assert_eq!(rows[1].verdict, Verdict::Same);
        assert!(fails(&rows));
    }

    #[test]
    fn a_bytes_only_increase_is_a_regression() {
        let b = base(vec![e("owned", 512, 1000, 8000)]);
        let rows = compare(&b, &[Ok(e("owned", 512, 1000, 8001))]);
        assert_eq!(rows[0].verdict, Verdict::Worse);
        assert!(fails(&rows));
    }

    #[test]
    fn per_call_is_compared_exactly_across_call_counts() {
        // 1,000 over 512 calls is the same per call as 2,000 over 1,024,
        // and less than 2,001 over 1,024.
        let b = base(vec![e("owned", 512, 1000, 0)]);
        assert_eq!(
            compare(&b, &[Ok(e("owned", 1024, 2000, 0))])[0].verdict,
            Verdict::Same
        );
        assert_eq!(
            compare(&b, &[Ok(e("owned", 1024, 2001, 0))])[0].verdict,
            Verdict::Worse
        );
    }

    #[test]
    fn new_missing_and_failed_scenarios_fail() {
        let b = base(vec![e("old", 10, 0, 0)]);
        let rows = compare(
            &b,
            &[
                Ok(e("new", 10, 0, 0)),
                Err(("broken".into(), "crashed".into())),
            ],
        );
        assert_eq!(rows[0].verdict, Verdict::New);
        assert_eq!(rows[1].verdict, Verdict::Failed("crashed".into()));
        assert_eq!(rows[2].verdict, Verdict::Missing);
        assert!(fails(&rows));
        let better = compare(&base(vec![e("a", 1, 2, 2)]), &[Ok(e("a", 1, 1, 2))]);
        assert_eq!(better[0].verdict, Verdict::Better);
        assert!(!fails(&better));
    }
}
