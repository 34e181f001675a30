//! The passes, each run in its own child process: the binary re-executes
//! itself with the same arguments and a few environment variables naming
//! the pass, the scenario and the output folder.
//!
//! The child finds the same scenario list because it parses the same
//! arguments, runs one pass of one scenario, writes `<pass>.result.json` into
//! the scenario's folder (plus the pass's raw files) and exits. The parent
//! never trusts a child to finish: a missing result file means the child
//! crashed, and the tail of its stderr says why.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::alloc::{self, Mode};
use crate::scenario::{Call, CallError, Scenario};
use crate::{atomic, flame};

/// Environment variable naming the pass a child runs.
pub const ENV_PASS: &str = "ESCAPE_LAB_CHILD_PASS";
/// Environment variable naming the scenario a child runs.
pub const ENV_SCENARIO: &str = "ESCAPE_LAB_CHILD_SCENARIO";
/// Environment variable naming the scenario's output folder.
pub const ENV_DIR: &str = "ESCAPE_LAB_CHILD_DIR";
/// Environment variable holding the pass settings as JSON.
pub const ENV_SETTINGS: &str = "ESCAPE_LAB_CHILD_SETTINGS";
/// Fault injection, for seeing (and testing) how a run survives a broken
/// scenario and that the gate catches a regression: `SCENARIO:KIND`, KIND
/// one of `panic`, `abort`, `hang`, `error` (after the setup, in every pass
/// of that scenario) or `alloc` (one extra 8-byte allocation in every call).
pub const ENV_FAULT: &str = "ESCAPE_LAB_FAULT";

/// Calls the `heap` pass makes in `--quick` mode at most: dhat's backtraces
/// make an allocation-heavy call about 40 times slower.
const QUICK_HEAP_CALLS: u64 = 64;
/// The `count` and `heap` passes measure whole cycles, at least this many
/// calls.
const MIN_COUNT_CALLS: u64 = 100;
/// Target duration of one timed batch in the `cpu` pass.
const BATCH: Duration = Duration::from_millis(5);

/// One way of running a scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pass {
    /// Exact allocations per call with the counting allocator.
    Count,
    /// dhat heap profile: allocation sites and flamegraphs.
    Heap,
    /// pprof CPU samples and time per call, system allocator.
    Cpu,
}

impl Pass {
    /// Every pass, in the order a run makes them.
    pub const ALL: [Pass; 3] = [Pass::Count, Pass::Heap, Pass::Cpu];

    /// The pass's name.
    ///
    /// Never allocates.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Pass::Count => "count",
            Pass::Heap => "heap",
            Pass::Cpu => "cpu",
        }
    }

    fn from_name(s: &str) -> Option<Pass> {
        Pass::ALL.into_iter().find(|p| p.name() == s)
    }
}

/// Settings every child receives from its parent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Shorten every pass (CI).
    pub quick: bool,
    /// Seconds of sampling in the `cpu` pass.
    pub cpu_seconds: f64,
    /// pprof sampling frequency (at most 250).
    pub cpu_hz: i32,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            quick: false,
            cpu_seconds: 2.0,
            cpu_hz: 250,
        }
    }
}

/// Time per call over the timed batches of the `cpu` pass, in nanoseconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    /// Median of the batch means.
    pub median: f64,
    /// Fastest batch mean.
    pub min: f64,
    /// Slowest batch mean.
    pub max: f64,
    /// Number of batches.
    pub batches: u64,
}

/// What one pass reports back to the parent.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PassResult {
    /// Calls measured (warm-up excluded).
    pub calls: u64,
    /// Items (matches) those calls produced.
    pub items: u64,
    /// `count`: allocations (reallocations included) in those calls.
    pub allocs: u64,
    /// `count`: bytes allocated in those calls.
    pub bytes: u64,
    /// `heap`: allocations dhat saw in those calls.
    pub dhat_blocks: u64,
    /// `heap`: bytes dhat saw allocated in those calls.
    pub dhat_bytes: u64,
    /// `heap`: the most bytes live at once during those calls.
    pub peak_live_bytes: u64,
    /// `cpu`: samples pprof took.
    pub samples: u64,
    /// `cpu`: time per call.
    pub timing: Option<Timing>,
    /// Why the pass failed, when it did.
    pub error: Option<String>,
}

/// The file a pass's result is written to.
///
/// Allocates the returned path.
#[must_use]
pub fn result_path(dir: &Path, pass: Pass) -> PathBuf {
    dir.join(format!("{}.result.json", pass.name()))
}

/// A pass a parent asked this process to run.
#[derive(Debug)]
pub struct Request {
    /// The pass.
    pub pass: Pass,
    /// The scenario's name.
    pub scenario: String,
    /// Where its files go.
    pub dir: PathBuf,
    /// The parent's settings.
    pub settings: Settings,
}

/// The pass this process was started to run, if it is a child.
///
/// # Allocation
///
/// Reads four environment variables.
#[must_use]
pub fn requested() -> Option<Request> {
    let pass = Pass::from_name(&std::env::var(ENV_PASS).ok()?)?;
    let scenario = std::env::var(ENV_SCENARIO).ok()?;
    let dir = PathBuf::from(std::env::var_os(ENV_DIR)?);
    let settings = std::env::var(ENV_SETTINGS)
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default();
    Some(Request {
        pass,
        scenario,
        dir,
        settings,
    })
}

/// Runs the requested pass and exits the process: 0 when a result file was
/// written (even one that records a failed scenario), 3 when not even that
/// was possible.
///
/// Allocates freely (it is the whole child process); never returns.
pub fn run_child(req: &Request, scenarios: &[Scenario]) -> ! {
    let result = match scenarios.iter().find(|s| s.name() == req.scenario) {
        Some(s) => run_pass(req, s),
        None => Err(format!("no scenario named {:?} in the child", req.scenario)),
    };
    let result = result.unwrap_or_else(|error| PassResult {
        error: Some(error),
        ..PassResult::default()
    });
    alloc::set_mode(Mode::System);
    let json = serde_json::to_vec_pretty(&result).unwrap_or_default();
    match atomic::write(&result_path(&req.dir, req.pass), &json) {
        Ok(()) => std::process::exit(0),
        Err(e) => {
            eprintln!("escape-lab: {e}");
            std::process::exit(3)
        }
    }
}

fn run_pass(req: &Request, s: &Scenario) -> Result<PassResult, String> {
    let mut call = inject_fault(s.name(), s.setup()?)?;
    let mut calls_made = 0u64;
    let cycle = s.calls_per_cycle();
    // Warm-up: one whole cycle, so buffers that grow reach their steady size
    // and the first chunk's costs are not everybody's.
    run_calls(&mut call, cycle, &mut calls_made)?;
    match req.pass {
        Pass::Count => count_pass(s, &mut call, &mut calls_made),
        Pass::Heap => heap_pass(req, s, &mut call, &mut calls_made),
        Pass::Cpu => cpu_pass(req, s, &mut call, &mut calls_made),
    }
}

/// Does what `ESCAPE_LAB_FAULT` asks for this scenario, if anything, and
/// returns the call (wrapped, for `alloc`).
fn inject_fault(scenario: &str, mut call: Call) -> Result<Call, String> {
    let Ok(spec) = std::env::var(ENV_FAULT) else {
        return Ok(call);
    };
    match spec.split_once(':') {
        Some((name, kind)) if name == scenario => match kind {
            "panic" => panic!("injected fault: panic in scenario {scenario}"),
            "abort" => {
                eprintln!("injected fault: abort in scenario {scenario}");
                std::process::abort()
            }
            "hang" => loop {
                std::thread::sleep(Duration::from_secs(1));
            },
            "error" => Err(format!("injected fault: error in scenario {scenario}")),
            "alloc" => Ok(Box::new(move || {
                std::hint::black_box(Box::new(std::hint::black_box(0u64)));
                call()
            })),
            other => Err(format!(
                "{ENV_FAULT}: unknown fault kind {other:?} (panic, abort, hang, error, alloc)"
            )),
        },
        _ => Ok(call),
    }
}

/// Makes `n` calls, returning the items they produced.
fn run_calls(call: &mut Call, n: u64, calls_made: &mut u64) -> Result<u64, String> {
    let mut items = 0;
    for _ in 0..n {
        *calls_made += 1;
        items += call().map_err(|e| describe(&e, *calls_made))?;
    }
    Ok(items)
}

fn describe(e: &CallError, call: u64) -> String {
    if e.detail.is_empty() {
        format!("{} at call {call}", e.message)
    } else {
        format!("{} at call {call}: {}", e.message, e.detail)
    }
}

/// Calls the `count` and `heap` passes measure: whole cycles, at least
/// `MIN_COUNT_CALLS`.
fn measured_calls(s: &Scenario) -> u64 {
    let cycle = s.calls_per_cycle();
    MIN_COUNT_CALLS.div_ceil(cycle) * cycle
}

fn count_pass(s: &Scenario, call: &mut Call, made: &mut u64) -> Result<PassResult, String> {
    alloc::set_mode(Mode::Count);
    if !countalloc::is_active() {
        return Err("the counting allocator is not installed: the binary needs \
                    `#[global_allocator] static A: harness::alloc::SwitchAlloc = harness::alloc::SwitchAlloc;`"
            .into());
    }
    let calls = measured_calls(s);
    let before = countalloc::snapshot();
    let items = run_calls(call, calls, made)?;
    let counts = countalloc::snapshot().since(before);
    alloc::set_mode(Mode::System);
    Ok(PassResult {
        calls,
        items,
        allocs: counts.allocs,
        bytes: counts.bytes,
        ..PassResult::default()
    })
}

fn heap_pass(
    req: &Request,
    s: &Scenario,
    call: &mut Call,
    made: &mut u64,
) -> Result<PassResult, String> {
    let calls = if req.settings.quick {
        measured_calls(s).min(QUICK_HEAP_CALLS)
    } else {
        measured_calls(s)
    };
    let final_path = req.dir.join("heap.json");
    let tmp_path = req.dir.join(".heap.json.tmp");
    alloc::set_mode(Mode::Dhat);
    let profiler = dhat::Profiler::builder()
        .file_name(&tmp_path)
        .trim_backtraces(Some(64))
        .build();
    let items = run_calls(call, calls, made);
    let stats = dhat::HeapStats::get();
    drop(profiler); // writes the file
    alloc::set_mode(Mode::System);
    let items = items?;
    std::fs::rename(&tmp_path, &final_path)
        .map_err(|e| format!("{}: {e}", final_path.display()))?;
    Ok(PassResult {
        calls,
        items,
        dhat_blocks: stats.total_blocks,
        dhat_bytes: stats.total_bytes,
        peak_live_bytes: stats.max_bytes as u64,
        ..PassResult::default()
    })
}

fn cpu_pass(
    req: &Request,
    s: &Scenario,
    call: &mut Call,
    made: &mut u64,
) -> Result<PassResult, String> {
    alloc::set_mode(Mode::System);
    let cycle = s.calls_per_cycle();
    // Batch size: whole cycles, about `BATCH` long each.
    let t = Instant::now();
    run_calls(call, cycle, made)?;
    let per_cycle = t.elapsed().max(Duration::from_nanos(1));
    let cycles_per_batch = (BATCH.as_nanos() / per_cycle.as_nanos()).max(1) as u64;
    let batch = cycles_per_batch * cycle;
    let seconds = if req.settings.quick {
        req.settings.cpu_seconds.min(0.3)
    } else {
        req.settings.cpu_seconds
    };
    let budget = Duration::from_secs_f64(seconds.max(0.01));

    let guard = flame::start_cpu_profiler(req.settings.cpu_hz).map_err(|e| e.to_string())?;
    let mut means = Vec::new();
    let mut calls = 0;
    let mut items = 0;
    let start = Instant::now();
    while start.elapsed() < budget || means.is_empty() {
        let t = Instant::now();
        items += run_calls(call, batch, made)?;
        means.push(t.elapsed().as_nanos() as f64 / batch as f64);
        calls += batch;
    }
    let report = guard
        .report()
        .build()
        .map_err(|e| format!("building the CPU report: {e}"))?;
    drop(guard);
    flame::write_pprof_gz(&report, &req.dir.join("cpu.pb.gz")).map_err(|e| e.to_string())?;
    let folded = flame::fold_report(&report);
    atomic::write(&req.dir.join("cpu.folded"), folded.as_bytes()).map_err(|e| e.to_string())?;
    let samples = report.data.values().map(|&n| n as u64).sum();
    means.sort_by(f64::total_cmp);
    let timing = Timing {
        median: means[means.len() / 2],
        min: means[0],
        max: means[means.len() - 1],
        batches: means.len() as u64,
    };
    Ok(PassResult {
        calls,
        items,
        samples,
        timing: Some(timing),
        ..PassResult::default()
    })
}
