//! `escape-lab profile`: every pass for every scenario, each in a child
//! process, then the artifacts, `summary.json` and `index.html`.
//!
//! The parent never runs a scenario itself. It spawns one child per
//! (scenario, pass) with a time limit, reads the child's result file, and
//! renders what the child left behind (folded stacks, the dhat profile) into
//! SVGs and reports. A child that errors, panics, aborts or runs out of time
//! marks its scenario failed with the tail of its stderr; the other
//! scenarios go on.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::HarnessError;
use crate::pass::{self, Pass, PassResult, Settings};
use crate::scenario::Scenario;
use crate::sites;
use crate::summary::{ScenarioSummary, Summary, WorkloadInfo, SCHEMA_VERSION};
use crate::{atomic, flame, index};

/// Options of a run.
#[derive(Clone, Debug)]
pub struct ProfileOptions {
    /// Run folder; created if missing. Default: `profiles/run-<UTC time>`.
    pub out: PathBuf,
    /// What every child gets. Default: [`Settings::default`].
    pub settings: Settings,
    /// Time limit of one pass of one scenario. Default: 120 s.
    pub timeout: Duration,
    /// Show a progress bar on stderr. Default: true.
    pub progress: bool,
}

impl Default for ProfileOptions {
    fn default() -> ProfileOptions {
        ProfileOptions {
            out: default_out_dir(),
            settings: Settings::default(),
            timeout: Duration::from_secs(120),
            progress: true,
        }
    }
}

/// `profiles/run-YYYYMMDD-HHMMSS` (UTC), under the current folder.
///
/// # Allocation
///
/// The path.
#[must_use]
pub fn default_out_dir() -> PathBuf {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    PathBuf::from("profiles").join(format!(
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

/// The workspace this harness was built in: allocation sites are reported
/// relative to it.
#[must_use]
pub fn workspace_root() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    p.canonicalize().unwrap_or(p)
}

/// Runs every pass of every scenario into `opts.out`.
///
/// When this process is itself a child started by a run, runs the requested
/// pass instead and exits: call it with the same scenarios in parent and
/// child (the child re-parses the same arguments).
///
/// # Errors
///
/// [`HarnessError::Output`] when the run folder or a report cannot be
/// written. Failing scenarios are not errors: they are recorded in the
/// summary (see [`RunOutcome::failed`]).
///
/// # Allocation
///
/// Freely: this is the orchestration, not a hot path.
pub fn run(
    scenarios: &[Scenario],
    workload: WorkloadInfo,
    opts: &ProfileOptions,
) -> Result<RunOutcome, HarnessError> {
    if let Some(req) = pass::requested() {
        pass::run_child(&req, scenarios);
    }
    let out = &opts.out;
    std::fs::create_dir_all(out).map_err(|e| HarnessError::output(out, e))?;
    // Probe writability once, up front, so an unwritable folder fails fast
    // with its path rather than as a failure of every scenario.
    atomic::write(&out.join(".write-test"), b"").map_err(|e| HarnessError::output(out, e))?;
    let _ = std::fs::remove_file(out.join(".write-test"));

    let bar = progress_bar(opts.progress, scenarios.len() * Pass::ALL.len());
    let workspace = workspace_root();
    let mut entries = Vec::new();
    for s in scenarios {
        let dir = out.join(s.name());
        std::fs::create_dir_all(&dir).map_err(|e| HarnessError::output(&dir, e))?;
        let mut results: BTreeMap<Pass, Result<PassResult, String>> = BTreeMap::new();
        for p in Pass::ALL {
            bar.set_message(format!("{} {}", s.name(), p.name()));
            let r = spawn_pass(p, s, &dir, opts);
            results.insert(p, r);
            bar.inc(1);
        }
        entries.push(digest(s, &dir, &results, &workspace)?);
    }
    bar.finish_and_clear();

    let summary = Summary {
        schema_version: SCHEMA_VERSION,
        workload,
        quick: opts.settings.quick,
        scenarios: entries,
    };
    write_diff(out, &summary)?;
    let json = serde_json::to_vec_pretty(&summary).map_err(|e| HarnessError::output(out, e))?;
    atomic::write(&out.join("summary.json"), &json).map_err(|e| HarnessError::output(out, e))?;
    let index_path = out.join("index.html");
    let html = index::render(&summary, out);
    atomic::write(&index_path, html.as_bytes()).map_err(|e| HarnessError::output(out, e))?;
    Ok(RunOutcome {
        summary,
        index: index_path,
    })
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

/// Runs one pass of one scenario in a child and returns its result, or why
/// it failed (with the tail of the child's stderr).
pub(crate) fn spawn_pass(
    p: Pass,
    s: &Scenario,
    dir: &Path,
    opts: &ProfileOptions,
) -> Result<PassResult, String> {
    let result_file = pass::result_path(dir, p);
    let _ = std::fs::remove_file(&result_file);
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let stderr_path = dir.join(format!("{}.stderr.txt", p.name()));
    let stderr = std::fs::File::create(&stderr_path)
        .map_err(|e| format!("{}: {e}", stderr_path.display()))?;
    let settings = serde_json::to_string(&opts.settings).unwrap_or_default();
    let mut child = Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env(pass::ENV_PASS, p.name())
        .env(pass::ENV_SCENARIO, s.name())
        .env(pass::ENV_DIR, dir)
        .env(pass::ENV_SETTINGS, settings)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .map_err(|e| format!("cannot start the {} pass: {e}", p.name()))?;
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if start.elapsed() > opts.timeout => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(format!("waiting for the {} pass: {e}", p.name())),
        }
    };
    let tail = stderr_tail(&stderr_path);
    let outcome = match status {
        None => Err(format!(
            "timed out after {} s{tail}",
            opts.timeout.as_secs_f64()
        )),
        Some(status) => match std::fs::read(&result_file) {
            Ok(bytes) => match serde_json::from_slice::<PassResult>(&bytes) {
                Ok(r) => match &r.error {
                    Some(e) => Err(format!("{e}{tail}")),
                    None => Ok(r),
                },
                Err(e) => Err(format!("unreadable result ({e}){tail}")),
            },
            Err(_) => Err(format!("crashed ({status}){tail}")),
        },
    };
    let _ = std::fs::remove_file(&result_file);
    if outcome.is_ok() {
        let _ = std::fs::remove_file(&stderr_path);
    }
    outcome
}

/// The last lines of a child's stderr, as `"; stderr: ..."`, or nothing.
fn stderr_tail(path: &Path) -> String {
    let mut text = String::new();
    if let Ok(mut f) = std::fs::File::open(path) {
        let _ = f.read_to_string(&mut text);
    }
    // A panic's backtrace (RUST_BACKTRACE) would push its message out of
    // the tail: keep what precedes it. dhat's closing summary is noise.
    if let Some(i) = text.find("stack backtrace:") {
        text.truncate(i);
    }
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with("dhat:") && !l.trim().is_empty())
        .collect();
    if lines.is_empty() {
        return String::new();
    }
    let tail = lines[lines.len().saturating_sub(8)..].join("\n  ");
    let name = path
        .file_name()
        .map_or(String::new(), |n| n.to_string_lossy().into_owned());
    format!("; stderr (whole in {name}):\n  {tail}")
}

/// Turns a scenario's pass results and files into its summary entry and its
/// derived artifacts (SVGs, `sites.txt`).
fn digest(
    s: &Scenario,
    dir: &Path,
    results: &BTreeMap<Pass, Result<PassResult, String>>,
    workspace: &Path,
) -> Result<ScenarioSummary, HarnessError> {
    let name = s.name();
    let mut error = None;
    let mut fail = |p: Pass, e: &str| {
        if error.is_none() {
            error = Some(format!("{} pass: {e}", p.name()));
        }
    };
    let ok = |p: Pass| results.get(&p).and_then(|r| r.as_ref().ok());
    for (p, r) in results {
        if let Err(e) = r {
            fail(*p, e);
        }
    }
    let mut artifacts = BTreeMap::new();
    let rel = |f: &str| format!("{name}/{f}");
    let write = |file: &str, bytes: &[u8]| -> Result<(), HarnessError> {
        let path = dir.join(file);
        atomic::write(&path, bytes).map_err(|e| HarnessError::output(&path, e))
    };

    let cycle_bytes = s.bytes_per_cycle() as f64 / s.calls_per_cycle() as f64;
    let count = ok(Pass::Count).cloned().unwrap_or_default();
    let per = |n: u64| {
        if count.calls == 0 {
            0.0
        } else {
            n as f64 / count.calls as f64
        }
    };

    // heap: sites and allocation flamegraphs
    let mut site_list = Vec::new();
    let heap = ok(Pass::Heap).cloned().unwrap_or_default();
    if ok(Pass::Heap).is_some() {
        match sites::read(&dir.join("heap.json"), heap.calls, workspace) {
            Ok(h) => {
                write(
                    "sites.txt",
                    sites::sites_txt(name, &h.sites, heap.calls).as_bytes(),
                )?;
                let title =
                    |what: &str| format!("{name}: {what} allocated per {} calls", heap.calls);
                match flame::alloc_svg(&h.folded_bytes, &title("bytes"), "bytes") {
                    Ok(svg) => write("alloc-bytes.svg", svg.as_bytes())?,
                    Err(e) => fail(Pass::Heap, &e.to_string()),
                }
                match flame::alloc_svg(&h.folded_count, &title("allocations"), "allocations") {
                    Ok(svg) => write("alloc-count.svg", svg.as_bytes())?,
                    Err(e) => fail(Pass::Heap, &e.to_string()),
                }
                write("alloc-count.folded", h.folded_count.as_bytes())?;
                for (key, f) in [
                    ("heap_json", "heap.json"),
                    ("sites_txt", "sites.txt"),
                    ("alloc_bytes_svg", "alloc-bytes.svg"),
                    ("alloc_count_svg", "alloc-count.svg"),
                ] {
                    artifacts.insert(key.to_string(), rel(f));
                }
                site_list = h.sites;
            }
            Err(e) => fail(Pass::Heap, &e),
        }
    }

    // cpu: flamegraph from the folded stacks the child wrote
    let cpu = ok(Pass::Cpu).cloned();
    if cpu.is_some() {
        let folded = std::fs::read_to_string(dir.join("cpu.folded")).unwrap_or_default();
        let title = format!("{name}: CPU");
        match flame::cpu_svg(&folded, &title) {
            Ok(svg) => {
                write("cpu.svg", svg.as_bytes())?;
                artifacts.insert("cpu_svg".into(), rel("cpu.svg"));
                artifacts.insert("cpu_pb_gz".into(), rel("cpu.pb.gz"));
            }
            Err(e) => fail(Pass::Cpu, &e.to_string()),
        }
    }
    let timing = cpu.as_ref().and_then(|c| c.timing.clone());
    let mb_per_s = timing
        .as_ref()
        .filter(|t| t.median > 0.0 && cycle_bytes > 0.0)
        .map(|t| cycle_bytes / t.median * 1e3);

    Ok(ScenarioSummary {
        name: name.to_string(),
        kind: s.kind_of(),
        workload: s.workload_name().to_string(),
        description: s.description().to_string(),
        status: if error.is_none() { "ok" } else { "failed" }.to_string(),
        error,
        calls: count.calls,
        bytes_per_call: cycle_bytes,
        matches_per_call: per(count.items),
        allocs_total: count.allocs,
        bytes_allocated_total: count.bytes,
        allocs_per_call: per(count.allocs),
        bytes_allocated_per_call: per(count.bytes),
        heap_calls: heap.calls,
        heap_allocs: heap.dhat_blocks,
        peak_live_bytes: heap.peak_live_bytes,
        ns_per_call: timing,
        mb_per_s,
        cpu_samples: cpu.map_or(0, |c| c.samples),
        sites: site_list,
        artifacts,
    })
}

/// `diff-boxed-vs-fixed.svg`: the allocation stacks of `boxed` against
/// those of `fixed`, vanished stacks drawn.
fn write_diff(out: &Path, summary: &Summary) -> Result<(), HarnessError> {
    let has = |n: &str| summary.scenarios.iter().any(|s| s.name == n && s.ok());
    if !(has("boxed") && has("fixed")) {
        return Ok(());
    }
    let before = std::fs::read_to_string(out.join("boxed/alloc-count.folded")).unwrap_or_default();
    let after = std::fs::read_to_string(out.join("fixed/alloc-count.folded")).unwrap_or_default();
    let svg = flame::diff_svg(
        &before,
        &after,
        "allocations: boxed → fixed (blue: gone in fixed)",
        "allocations",
    )
    .map_err(|e| HarnessError::output(out, std::io::Error::other(e.to_string())))?;
    let path = out.join("diff-boxed-vs-fixed.svg");
    atomic::write(&path, svg.as_bytes()).map_err(|e| HarnessError::output(&path, e))
}

/// Opens a file with the desktop's default program (`xdg-open`, or `open`
/// on macOS); prints a note instead when that fails.
///
/// Allocates the command line of the opener.
pub fn open(path: &Path) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let ok = Command::new(opener)
        .arg(path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!(
            "escape-lab: could not open {} with {opener}; open it in a browser",
            path.display()
        );
    }
}

/// The closing table: scenario, MB/s, matches, allocations and bytes per
/// call, peak live bytes.
#[must_use]
pub fn table(summary: &Summary) -> String {
    let mut out = format!(
        "{:<28} {:>9} {:>13} {:>12} {:>14} {:>12}  {}\n",
        "scenario", "MB/s", "matches/call", "allocs/call", "B/call", "peak live B", "status"
    );
    for s in &summary.scenarios {
        let mbs = s.mb_per_s.map_or("-".into(), |v| format!("{v:.1}"));
        let status = match &s.error {
            None => "ok".to_string(),
            Some(e) => format!("FAILED: {}", e.lines().next().unwrap_or("")),
        };
        let matches = if s.kind == crate::scenario::Kind::Variant {
            format!("{:.1}", s.matches_per_call)
        } else {
            "-".to_string()
        };
        out.push_str(&format!(
            "{:<28} {:>9} {:>13} {:>12} {:>14} {:>12}  {}\n",
            s.name,
            mbs,
            matches,
            sites::per_call(s.allocs_total, s.calls),
            sites::per_call(s.bytes_allocated_total, s.calls),
            sites::group(s.peak_live_bytes),
            status
        ));
    }
    out
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
