//! `profile`: every pass for every scenario, each in a child process, then
//! the artifacts, `summary.json` and `index.html`.
//!
//! The pipeline goes one way. For each scenario the children run their
//! passes ([`crate::child`]); the parent turns their results into the
//! scenario's summary and its files in memory ([`crate::pass`]'s render
//! halves), writes the files, and keeps the pictures for the page; the
//! differential flamegraphs are drawn from folded stacks still in memory;
//! `summary.json` and `index.html` are made from those values, never from
//! files read back.
//!
//! A child that errors, panics, aborts or runs out of time marks its
//! scenario failed with the tail of its stderr; the other scenarios go on.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::child::{self, Supervisor};
use crate::index::Pictures;
use crate::model::{Pass, PassResult, Summary, WorkloadInfo, SCHEMA_VERSION};
use crate::pass::{self, Settings};
use crate::scenario::Scenario;
use crate::{atomic, index, workdir, Error};

/// Options of a run.
#[derive(Clone, Debug)]
pub struct ProfileOptions {
    /// Run folder; created if missing. Default:
    /// `<target>/escape-lab/run-<UTC time>` (see `paths::target_dir`).
    pub out: PathBuf,
    /// What every child gets. Default: [`Settings::default`].
    pub settings: Settings,
    /// Time limit of one pass of one scenario. Default: 120 s.
    pub timeout: Duration,
    /// Show a progress bar on stderr. Default: true.
    pub progress: bool,
    /// Pairs of scenarios (before, after) drawn as differential allocation
    /// flamegraphs, `diff-<before>-vs-<after>.svg` (by allocations) and
    /// `diff-<before>-vs-<after>-bytes.svg`: what the
    /// fix removed. Drawn when both succeed. Default: none.
    pub compare: Vec<(String, String)>,
    /// The folder allocation sites are reported relative to. Default:
    /// `paths::source_root`.
    pub source_root: PathBuf,
}

impl Default for ProfileOptions {
    fn default() -> ProfileOptions {
        let root = crate::paths::source_root();
        ProfileOptions {
            out: default_out_dir(&crate::paths::target_dir().join("escape-lab")),
            settings: Settings::default(),
            timeout: Duration::from_secs(120),
            progress: true,
            compare: Vec::new(),
            source_root: root,
        }
    }
}

/// `<base>/run-YYYYMMDD-HHMMSS` (UTC).
///
/// # Allocation
///
/// The path.
#[must_use]
pub fn default_out_dir(base: &Path) -> PathBuf {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    base.join(format!(
        "run-{y:04}{m:02}{d:02}-{:02}{:02}{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    ))
}

/// Days since 1970-01-01 to a (year, month, day) date (Howard Hinnant's
/// algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// What a run produced.
#[derive(Debug)]
pub struct RunOutcome {
    /// The summary as written.
    pub summary: Summary,
    /// Path of `index.html`.
    pub index: PathBuf,
}

impl RunOutcome {
    /// Number of failed scenarios.
    ///
    /// Never allocates.
    #[must_use]
    pub fn failed(&self) -> usize {
        self.summary.scenarios.iter().filter(|s| !s.ok()).count()
    }
}

/// Runs every pass of every scenario into `opts.out`.
///
/// The run is written into a fresh temporary folder beside `opts.out` and
/// becomes visible whole: at the end it replaces `opts.out`. A folder
/// there is replaced only when it is empty or an escape-lab run holding
/// nothing escape-lab did not write (its `.escape-lab-run` marker lists
/// every path); anything else is refused before a pass runs, naming the
/// files. A run stopped by a signal kills its child and removes its
/// temporary folder; one killed outright leaves it, and the next run in
/// the same place removes it. Inputs staged
/// with [`crate::input::stage`] are handed to every child as the same bytes.
///
/// When this process is itself a child started by a run, runs the requested
/// pass instead and exits: call it with the same scenarios in parent and
/// child (the child re-parses the same arguments).
///
/// # Errors
///
/// [`Error::Write`] when the run folder or a report cannot be written,
/// [`Error::Usage`] for a scenario name that cannot be a folder name, a
/// fault specification that names no scenario, or an `--out` that is
/// something else; [`Error::Cancelled`] when a signal stopped it. Failing
/// scenarios are not errors: they are recorded in the summary (see
/// [`RunOutcome::failed`]).
///
/// # Allocation
///
/// Freely: this is the orchestration, not a hot path.
pub fn run(
    scenarios: &[Scenario],
    workload: WorkloadInfo,
    opts: &ProfileOptions,
) -> Result<RunOutcome, Error> {
    child::serve_if_child(scenarios);
    check_names(scenarios)?;
    pass::check_fault(scenarios)?;
    child::catch_signals();
    let out = &opts.out;
    folder::check_out(out)?;
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // Errors name the run folder asked for, not its parent.
    std::fs::create_dir_all(&parent).map_err(|e| Error::write(out, e))?;
    let work = workdir::create(&parent, ".escape-lab-run-").map_err(|e| Error::write(out, e))?;
    let supervisor = Supervisor {
        settings: Settings {
            source_root: Some(opts.source_root.clone()),
            ..opts.settings.clone()
        },
        timeout: opts.timeout,
        display_root: out.clone(),
        env: crate::input::write_for_children(&work.path().join("inputs"))?,
        args: std::sync::Arc::new(crate::child_args::ChildArgs::of_this_process()?),
    };
    let (summary, pictures) = run_all(scenarios, workload, opts, &supervisor, work.path())?;
    let index = index::render(&summary, &pictures);
    let json = serde_json::to_vec_pretty(&summary).map_err(|e| Error::write(out, e.into()))?;
    atomic::write(&work.path().join("summary.json"), &json)?;
    atomic::write(&work.path().join("index.html"), index.as_bytes())?;
    folder::publish(work, out)?;
    Ok(RunOutcome {
        summary,
        index: out.join("index.html"),
    })
}

/// Every pass of every scenario into `dir`, then the comparisons: the
/// summary and the pictures, in memory.
fn run_all(
    scenarios: &[Scenario],
    workload: WorkloadInfo,
    opts: &ProfileOptions,
    supervisor: &Supervisor,
    dir: &Path,
) -> Result<(Summary, Pictures), Error> {
    let passes = passes(&opts.settings);
    let bar = progress_bar(opts.progress, scenarios.len() * passes.len());
    let mut pictures = Pictures::default();
    let mut folded = Vec::new();
    let mut entries = Vec::new();
    for s in scenarios {
        let sdir = dir.join(s.name());
        std::fs::create_dir_all(&sdir).map_err(|e| Error::write(&sdir, e))?;
        let mut results = Vec::new();
        for &(p, ref skip) in &passes {
            bar.set_message(format!("{} {}", s.name(), p.name()));
            results.push((
                p,
                match skip {
                    Some(reason) => Ok(PassResult::Skipped {
                        skipped: p,
                        reason: reason.clone(),
                    }),
                    None => supervisor.run(p, s.name(), &sdir),
                },
            ));
            bar.inc(1);
            if child::cancelled() {
                bar.finish_and_clear();
                return Err(Error::Cancelled);
            }
        }
        let done = digest(s, &sdir, results, &opts.source_root);
        for (artifact, bytes) in &done.files {
            atomic::write(&sdir.join(artifact.file_name()), bytes)?;
        }
        pictures.add_scenario(s.name(), done.files);
        folded.push((s.name().to_string(), done.folded_count, done.folded_bytes));
        entries.push(done.summary);
    }
    bar.finish_and_clear();
    let mut summary = Summary {
        schema_version: SCHEMA_VERSION,
        workload,
        quick: opts.settings.quick,
        scenarios: entries,
        comparisons: Vec::new(),
        inputs: crate::input::staged(),
    };
    for (before, after) in &opts.compare {
        compare(dir, &mut summary, &mut pictures, &folded, before, after)?;
    }
    Ok((summary, pictures))
}

/// The passes a run makes, each with why it is skipped (the `instr` pass
/// where valgrind is missing), or `None`. `instr` is left out with
/// `--quick` or `--no-instr`.
fn passes(settings: &Settings) -> Vec<(Pass, Option<String>)> {
    let mut passes: Vec<(Pass, Option<String>)> = [Pass::Count, Pass::Heap, Pass::Cpu]
        .into_iter()
        .map(|p| (p, None))
        .collect();
    if settings.instr && !settings.quick {
        passes.push((Pass::Instr, pass::instr::unavailable()));
    }
    passes
}

mod digest;
mod folder;
mod table;

use digest::{compare, digest};
pub use table::{open, table};

fn check_names(scenarios: &[Scenario]) -> Result<(), Error> {
    for (i, s) in scenarios.iter().enumerate() {
        let problem = if !crate::scenario::valid_name(s.name()) {
            "is not usable as a folder name (letters, digits, '-', '_' and '.' only)"
        } else if scenarios[..i].iter().any(|o| o.name() == s.name()) {
            "is given twice"
        } else {
            continue;
        };
        return Err(Error::Usage {
            option: "scenario".into(),
            problem: format!("the name {:?} {problem}", s.name()),
        });
    }
    Ok(())
}

fn progress_bar(show: bool, len: usize) -> indicatif::ProgressBar {
    if !show {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len as u64);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{elapsed:>4} [{bar:30}] {pos}/{len} passes  {msg}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_from_days() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_418), (2025, 11, 26));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }
}
