//! `check`: the `count` pass for every scenario, each in a child process,
//! compared exactly with the baseline, or written to it with `--bless`. For
//! each regression, a `heap` pass finds the top allocation site now.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::child::{self, Supervisor};
use crate::gate::baseline::{self, Baseline, BaselineEntry, BASELINE_VERSION, RUSTC_VERSION};
pub use crate::gate::compare::{cmp_ratio, compare, fails, Row, Verdict};
use crate::model::{Pass, PassResult, WorkloadInfo};
use crate::pass::{Settings, ENV_FAULT};
use crate::scenario::Scenario;
use crate::{sites, Error};

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
    /// [`crate::paths::target_dir`]).
    pub work_dir: PathBuf,
    /// The folder allocation sites are reported relative to. Default:
    /// [`crate::paths::source_root`].
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
        let root = crate::paths::source_root();
        CheckOptions {
            baseline: root.join("profiles").join("baseline.json"),
            bless: false,
            timeout: Duration::from_secs(60),
            work_dir: crate::paths::target_dir().join("escape-lab"),
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
/// baseline; [`Error::Usage`] for a filter that selects no scenario, for
/// `bless` while [`ENV_FAULT`] is set or
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
    crate::scenario::check_filters(scenarios, &opts.only)?;
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
    let work = crate::workdir::create(&opts.work_dir, "check-")
        .map_err(|e| Error::write(&opts.work_dir, e))?;
    let supervisor = Supervisor {
        settings: Settings {
            source_root: Some(opts.source_root.clone()),
            ..Settings::default()
        },
        timeout: opts.timeout,
        display_root: work.path().to_path_buf(),
        env: crate::input::write_for_children(&work.path().join("inputs"))?,
        args: std::sync::Arc::new(crate::child_args::ChildArgs::of_this_process()?),
    };
    let mut warnings = Vec::new();
    let mut measured = count_allocations(&supervisor, scenarios, opts, &mut warnings)?;
    if opts.instr {
        match crate::pass::instr::unavailable() {
            None => count_instructions(&supervisor, work.path(), &mut measured)?,
            Some(why) => warnings.push(format!("{why}; allocations are checked as usual")),
        }
    }
    if measured.iter().any(Result::is_err) {
        // Keep the folder: the failures' messages point into it (and no
        // later run sweeps it away).
        crate::workdir::disown(work.path());
        let _ = work.keep();
    }
    let Some(baseline) = baseline else {
        let order: Vec<&str> = scenarios.iter().map(Scenario::name).collect();
        return bless(measured, workload, opts, &order, warnings);
    };
    let baseline = comparable(baseline, &workload, opts, &mut warnings);
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

/// The measurement a check compares, per selected scenario: an entry with
/// its exact counts, or its name and why it could not be measured.
type Measured = Result<BaselineEntry, (String, String)>;

/// The `count` pass of every selected scenario, one after another, and the
/// static analysis of each; where that cannot run, a warning names the
/// scenarios and why (their static ways are then not gated).
fn count_allocations(
    supervisor: &Supervisor,
    scenarios: &[Scenario],
    opts: &CheckOptions,
    warnings: &mut Vec<String>,
) -> Result<Vec<Measured>, Error> {
    let mut measured = Vec::new();
    let mut unreached: Vec<(String, Vec<&str>)> = Vec::new();
    for s in scenarios.iter().filter(|s| opts.selects(s.name())) {
        let dir = supervisor.display_root.join(s.name());
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
                // Static, in this process: the analysis reads this binary.
                reach: match s.reach_from(&opts.source_root) {
                    Ok(r) => Some(baseline::ReachEntry::of(&r)),
                    Err(e) => {
                        let why = e.to_string();
                        match unreached.iter_mut().find(|(w, _)| *w == why) {
                            Some((_, names)) => names.push(s.name()),
                            None => unreached.push((why, vec![s.name()])),
                        }
                        None
                    }
                },
                ..BaselineEntry::default()
            }),
            Ok(_) => Err((s.name().to_string(), "not a count result".to_string())),
            Err(e) => Err((s.name().to_string(), e.0)),
        });
    }
    for (why, names) in unreached {
        warnings.push(format!(
            "no static analysis for {}: {why}; their ways to the allocator are not gated",
            names.join(", ")
        ));
    }
    Ok(measured)
}

/// The baseline as this run can compare it, with the warnings that says:
/// instructions of another build kind are dropped; another rustc or
/// workload is said.
fn comparable(
    mut baseline: Baseline,
    workload: &WorkloadInfo,
    opts: &CheckOptions,
    warnings: &mut Vec<String>,
) -> Baseline {
    if baseline.build != baseline::this_build() {
        warnings.push(format!(
            "the baseline's instructions were counted in a {} build, this is a {} build: instructions not compared",
            baseline.build,
            baseline::this_build()
        ));
        for e in &mut baseline.scenarios {
            e.instructions = None;
            // Inlining differs between build kinds, and with it the lines.
            e.reach = None;
        }
    } else if opts.instr && baseline.scenarios.iter().all(|e| e.instructions.is_none()) {
        warnings.push(
            "the baseline has no instruction counts (schema 1, or blessed without valgrind): bless it to gate instructions".into(),
        );
    } else if opts.instr {
        let missing: Vec<&str> = baseline
            .scenarios
            .iter()
            .filter(|e| e.instructions.is_none())
            .map(|e| e.name.as_str())
            .collect();
        if !missing.is_empty() {
            warnings.push(format!(
                "the baseline has no instruction count for {}: instructions not gated there until it is blessed with them",
                missing.join(", ")
            ));
        }
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
    baseline
}

/// Runs the `instr` pass of every scenario measured so far, two at a time
/// (the passes are single-threaded and slow under valgrind), and adds the
/// instructions to their entries; a scenario whose pass fails is marked
/// failed.
fn count_instructions(
    supervisor: &Supervisor,
    work: &Path,
    measured: &mut [Measured],
) -> Result<(), Error> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let slots: Vec<std::sync::Mutex<&mut Measured>> =
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
    measured: Vec<Measured>,
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
    let mut warnings = warnings;
    if opts.baseline.exists() {
        if let Ok(old) = baseline::read(&opts.baseline) {
            tolerance = old.instr_tolerance;
            slack = old.instr_slack;
            let same_build = old.build == baseline::this_build();
            let mut unmeasured = Vec::new();
            for e in &mut fresh {
                let Some(o) = old.scenarios.iter().find(|o| o.name == e.name) else {
                    continue;
                };
                e.instr_tolerance = o.instr_tolerance;
                // A figure this run did not measure is kept, never dropped:
                // an entry without instructions would not gate them.
                if e.instructions.is_none() && o.instructions.is_some() && same_build {
                    e.instr_calls = o.instr_calls;
                    e.instructions = o.instructions;
                    e.functions = o.functions.clone();
                    unmeasured.push(e.name.clone());
                }
            }
            if !unmeasured.is_empty() {
                warnings.push(format!(
                    "instructions not counted in this run: kept the baseline's figures for {} ({})",
                    plural(unmeasured.len(), "scenario"),
                    unmeasured.join(", ")
                ));
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

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}
