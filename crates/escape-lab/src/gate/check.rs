//! `check`: the `count` pass for every scenario, each in a child process,
//! compared exactly with the baseline, or written to it with `--bless`. For
//! each regression, a `heap` pass finds the top allocation site now.

use std::cmp::Ordering;
use std::path::{Path, PathBuf};
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
#[derive(Clone, Debug, PartialEq)]
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
    /// Instructions per call, relative change (0.05 is +5%), when both the
    /// baseline and this run counted them.
    pub instr_change: Option<f64>,
    /// The tolerance that change was held to.
    pub instr_tolerance: f64,
    /// The slack in instructions per call on top of it.
    pub instr_slack: f64,
}

impl Row {
    /// Whether instructions per call grew beyond the tolerance.
    ///
    /// Never allocates.
    #[must_use]
    pub fn instr_worse(&self) -> bool {
        match (&self.baseline, &self.now) {
            (Some(b), Some(n)) => match (n.instructions_per_call(), b.instructions_per_call()) {
                (Some(x), Some(y)) => x > y * (1.0 + self.instr_tolerance) + self.instr_slack,
                _ => false,
            },
            _ => false,
        }
    }

    /// Whether allocations or bytes per call grew.
    ///
    /// Never allocates.
    #[must_use]
    pub fn allocs_worse(&self) -> bool {
        match (&self.baseline, &self.now) {
            (Some(b), Some(n)) => {
                cmp_ratio(n.allocs, n.calls, b.allocs, b.calls) == Ordering::Greater
                    || cmp_ratio(n.bytes, n.calls, b.bytes, b.calls) == Ordering::Greater
            }
            _ => false,
        }
    }

    /// The functions whose instructions per call grew most, with the growth,
    /// largest first (at most three).
    ///
    /// Allocates the list.
    #[must_use]
    pub fn grown_functions(&self) -> Vec<(String, f64)> {
        let (Some(b), Some(n)) = (&self.baseline, &self.now) else {
            return Vec::new();
        };
        let per = |e: &BaselineEntry, name: &str| {
            let calls = e.instr_calls.unwrap_or(0).max(1) as f64;
            e.functions
                .iter()
                .find(|f| f.name == name)
                .map_or(0.0, |f| f.exclusive as f64 / calls)
        };
        let mut grown: Vec<(String, f64)> = n
            .functions
            .iter()
            .map(|f| (f.name.clone(), per(n, &f.name) - per(b, &f.name)))
            .filter(|(_, d)| *d > 0.0)
            .collect();
        grown.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        grown.truncate(3);
        grown
    }
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
        let tolerance = base
            .as_ref()
            .and_then(|b| b.instr_tolerance)
            .unwrap_or(baseline.instr_tolerance);
        let per_call = match (m, &base) {
            (Ok(n), Some(b)) => match (n.instructions_per_call(), b.instructions_per_call()) {
                (Some(x), Some(y)) if y > 0.0 => Some((x, y)),
                _ => None,
            },
            _ => None,
        };
        let instr_change = per_call.map(|(x, y)| x / y - 1.0);
        let verdict = match (m, &base) {
            (Err((_, why)), _) => Verdict::Failed(why.clone()),
            (Ok(_), None) => Verdict::New,
            (Ok(n), Some(b)) => {
                let a = cmp_ratio(n.allocs, n.calls, b.allocs, b.calls);
                let y = cmp_ratio(n.bytes, n.calls, b.bytes, b.calls);
                // Compared as now against baseline × (1 ± tolerance) ± slack,
                // so that exactly +1% is within a 1% tolerance.
                let slack = baseline.instr_slack;
                let i = per_call.map_or(Ordering::Equal, |(x, y)| {
                    if x > y * (1.0 + tolerance) + slack {
                        Ordering::Greater
                    } else if x < y * (1.0 - tolerance) - slack {
                        Ordering::Less
                    } else {
                        Ordering::Equal
                    }
                });
                if [a, y, i].contains(&Ordering::Greater) {
                    Verdict::Worse
                } else if [a, y, i].contains(&Ordering::Less) {
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
            instr_change,
            instr_tolerance: tolerance,
            instr_slack: baseline.instr_slack,
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
                instr_change: None,
                instr_tolerance: baseline.instr_tolerance,
                instr_slack: baseline.instr_slack,
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
    /// Count instructions under valgrind too (skipped with a warning where
    /// valgrind is missing). Default: true.
    pub instr: bool,
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
            instr: true,
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
                ..BaselineEntry::default()
            }),
            Ok(_) => Err((s.name().to_string(), "not a count result".to_string())),
            Err(e) => Err((s.name().to_string(), e.0)),
        });
    }
    let mut warnings = Vec::new();
    if opts.instr {
        match crate::pass::instr::unavailable() {
            None => count_instructions(&supervisor, work.path(), &mut measured)?,
            Some(why) => warnings.push(format!("{why}; allocations are checked as usual")),
        }
    }
    if measured.iter().any(Result::is_err) {
        // Keep the folder: the failures' messages point into it.
        let _ = work.keep();
    }
    let Some(baseline) = baseline else {
        let order: Vec<&str> = scenarios.iter().map(Scenario::name).collect();
        return bless(measured, workload, opts, &order, warnings);
    };
    let mut baseline = baseline;
    if baseline.build != baseline::this_build() {
        warnings.push(format!(
            "the baseline's instructions were counted in a {} build, this is a {} build: instructions not compared",
            baseline.build,
            baseline::this_build()
        ));
        for e in &mut baseline.scenarios {
            e.instructions = None;
        }
    } else if opts.instr && baseline.scenarios.iter().all(|e| e.instructions.is_none()) {
        warnings.push(
            "the baseline has no instruction counts (schema 1, or blessed without valgrind): bless it to gate instructions".into(),
        );
    }
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
    for row in rows.iter_mut().filter(|r| r.allocs_worse()) {
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

/// Runs the `instr` pass of every scenario measured so far, two at a time
/// (the passes are single-threaded and slow under valgrind), and adds the
/// instructions to their entries; a scenario whose pass fails is marked
/// failed.
fn count_instructions(
    supervisor: &Supervisor,
    work: &Path,
    measured: &mut [Result<BaselineEntry, (String, String)>],
) -> Result<(), Error> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let slots: Vec<std::sync::Mutex<&mut Result<BaselineEntry, (String, String)>>> =
        measured.iter_mut().map(std::sync::Mutex::new).collect();
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some(slot) = slots.get(i) else { break };
                if child::cancelled() {
                    break;
                }
                let mut slot = slot
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let Ok(entry) = &mut **slot else { continue };
                let dir = work.join(&entry.name);
                let result = supervisor.run(Pass::Instr, &entry.name, &dir);
                let rendered = match result {
                    Ok(PassResult::Instr(r)) => crate::pass::instr::render(&dir, r),
                    Ok(_) => Err("not an instr result".to_string()),
                    Err(e) => Err(e.0),
                };
                match rendered {
                    Ok(r) => {
                        entry.instr_calls = Some(r.calls);
                        entry.instructions = Some(r.instructions - r.allocator_instructions);
                        entry.functions = r.functions;
                    }
                    Err(e) => **slot = Err((entry.name.clone(), format!("instr pass: {e}"))),
                }
            });
        }
    });
    if child::cancelled() {
        return Err(Error::Cancelled);
    }
    Ok(())
}

fn bless(
    measured: Vec<Result<BaselineEntry, (String, String)>>,
    workload: WorkloadInfo,
    opts: &CheckOptions,
    order: &[&str],
    warnings: Vec<String>,
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
    let mut fresh: Vec<BaselineEntry> = measured.into_iter().flatten().collect();
    // A filtered bless replaces the selected entries and keeps the others,
    // in the order of the scenario list; tolerances set by hand are kept.
    let mut kept = Vec::new();
    let mut tolerance = baseline::DEFAULT_INSTR_TOLERANCE;
    let mut slack = baseline::DEFAULT_INSTR_SLACK;
    if opts.baseline.exists() {
        if let Ok(old) = baseline::read(&opts.baseline) {
            tolerance = old.instr_tolerance;
            slack = old.instr_slack;
            for e in &mut fresh {
                e.instr_tolerance = old
                    .scenarios
                    .iter()
                    .find(|o| o.name == e.name)
                    .and_then(|o| o.instr_tolerance);
            }
            if !opts.only.is_empty() {
                kept.extend(old.scenarios.into_iter().filter(|e| !opts.selects(&e.name)));
            }
        }
    }
    let rows = compare(
        &Baseline {
            schema_version: BASELINE_VERSION,
            rustc: RUSTC_VERSION.to_string(),
            workload: workload.clone(),
            build: baseline::this_build().to_string(),
            instr_tolerance: tolerance,
            instr_slack: slack,
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
        build: baseline::this_build().to_string(),
        instr_tolerance: tolerance,
        instr_slack: slack,
        scenarios,
    };
    baseline::write(&opts.baseline, &b)?;
    Ok(CheckOutcome {
        rows,
        warnings,
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
            ..BaselineEntry::default()
        }
    }

    fn with_instr(mut e: BaselineEntry, instructions: u64) -> BaselineEntry {
        e.instr_calls = Some(e.calls);
        e.instructions = Some(instructions);
        e
    }

    fn base(entries: Vec<BaselineEntry>) -> Baseline {
        Baseline {
            schema_version: BASELINE_VERSION,
            rustc: RUSTC_VERSION.into(),
            workload: WorkloadInfo::default(),
            build: baseline::this_build().into(),
            instr_tolerance: baseline::DEFAULT_INSTR_TOLERANCE,
            instr_slack: 0.0,
            scenarios: entries,
        }
    }

    #[test]
    fn instructions_are_held_to_the_tolerance() {
        let b = base(vec![with_instr(e("a", 100, 0, 0), 1_000_000)]);
        let at = |i: u64| compare(&b, &[Ok(with_instr(e("a", 100, 0, 0), i))]);
        assert_eq!(
            at(1_010_000)[0].verdict,
            Verdict::Same,
            "+1.0% is within 1%"
        );
        assert_eq!(at(1_010_001)[0].verdict, Verdict::Worse, "just over");
        assert!(at(1_010_001)[0].instr_worse() && !at(1_010_001)[0].allocs_worse());
        assert_eq!(at(989_000)[0].verdict, Verdict::Better);
        assert_eq!(at(1_000_000)[0].instr_change, Some(0.0));
        // A scenario's own tolerance wins.
        let mut own = b.clone();
        own.scenarios[0].instr_tolerance = Some(0.5);
        let r = compare(&own, &[Ok(with_instr(e("a", 100, 0, 0), 1_400_000))]);
        assert_eq!(r[0].verdict, Verdict::Same);
        // Without counts on either side, instructions are not compared.
        let r = compare(&b, &[Ok(e("a", 100, 0, 0))]);
        assert_eq!(
            (r[0].verdict.clone(), r[0].instr_change),
            (Verdict::Same, None)
        );
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
