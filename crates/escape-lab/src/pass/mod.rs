//! The passes: the child half of each (run one scenario under one
//! allocator or profiler) and the parent half (render what the child left).
//!
//! The protocol: the parent re-executes its own binary with the same
//! arguments and a few environment variables naming the pass, the scenario,
//! its folder and the settings ([`Request`]). The child finds the same
//! scenario list because it parses the same arguments, runs one pass of one
//! scenario, writes `<pass>.result.json` into the scenario's folder (plus the
//! pass's raw files) and exits. See [`crate::child`] for the parent's side of
//! the process boundary.
//!
//! Every pass makes the same warm-up (one whole cycle) before it measures,
//! and measures whole cycles, so counts are exact and repeatable; the one
//! exception is a `--quick` heap pass over a cycle of more than 64 calls,
//! which measures the first 64 (see `heap`).

pub mod count;
pub mod cpu;
pub mod heap;
pub mod instr;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::alloc::{self, Mode};
use crate::model::{Pass, PassResult};
use crate::scenario::{Call, CallError, Scenario};

/// Environment variable naming the pass a child runs.
pub const ENV_PASS: &str = "ESCAPE_LAB_CHILD_PASS";
/// Environment variable naming the scenario a child runs.
pub const ENV_SCENARIO: &str = "ESCAPE_LAB_CHILD_SCENARIO";
/// Environment variable naming the scenario's output folder.
pub const ENV_DIR: &str = "ESCAPE_LAB_CHILD_DIR";
/// Environment variable holding the pass settings as JSON.
pub const ENV_SETTINGS: &str = "ESCAPE_LAB_CHILD_SETTINGS";
/// Environment variable holding [`Settings::source_root`] as the bytes of
/// the path (a path need not be UTF-8, JSON text must).
pub const ENV_SOURCE_ROOT: &str = "ESCAPE_LAB_CHILD_SOURCE_ROOT";
/// Fault injection, for seeing (and testing) how a run survives a broken
/// scenario and that the gate catches a regression: `SCENARIO:KIND`, KIND
/// one of `panic`, `abort`, `hang`, `error` (after the setup, in every pass
/// of that scenario), `alloc` (one extra 8-byte allocation in every call)
/// or `work` (about 200,000 extra instructions in every call, no
/// allocation).
pub const ENV_FAULT: &str = "ESCAPE_LAB_FAULT";

/// The `count` and `heap` passes measure whole cycles, at least this many
/// calls.
const MIN_COUNT_CALLS: u64 = 100;

/// Settings every child receives from its parent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Shorten every pass (CI). Default: false.
    pub quick: bool,
    /// Seconds of sampling in the `cpu` pass. Default: 2.
    pub cpu_seconds: f64,
    /// pprof sampling frequency (at most 250). Default: 250.
    pub cpu_hz: i32,
    /// The folder listings and sites are relative to. Default: none, which
    /// means [`crate::paths::source_root`]. Not in the JSON: a child gets
    /// it in [`ENV_SOURCE_ROOT`].
    #[serde(skip)]
    pub source_root: Option<PathBuf>,
    /// Run the `instr` pass (valgrind). Default: true; `--quick` and
    /// `--no-instr` turn it off for `profile`.
    #[serde(default = "yes")]
    pub instr: bool,
}

fn yes() -> bool {
    true
}

impl Settings {
    /// [`Settings::source_root`], or the one found at run time.
    ///
    /// Allocates the path.
    #[must_use]
    pub fn source_root(&self) -> PathBuf {
        self.source_root
            .clone()
            .unwrap_or_else(crate::paths::source_root)
    }
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            quick: false,
            cpu_seconds: 2.0,
            cpu_hz: 250,
            source_root: None,
            instr: true,
        }
    }
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
    let mut settings: Settings = std::env::var(ENV_SETTINGS)
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default();
    settings.source_root = std::env::var_os(ENV_SOURCE_ROOT).map(PathBuf::from);
    Some(Request {
        pass,
        scenario,
        dir,
        settings,
    })
}

/// The name of the scenario this process runs when it is a child of a run,
/// else `None`. A program whose scenario set is costly to build (a large
/// input to generate for some scenarios) can build only what this child
/// needs: under valgrind's `instr` pass every instruction of the set-up
/// costs twentyfold.
///
/// Allocates the name.
#[must_use]
pub fn child_scenario() -> Option<String> {
    requested().map(|r| r.scenario)
}

/// What a child writes to `<pass>.result.json`: the pass's result, or why
/// the pass failed (a message crossing the process boundary).
pub type ChildReport = Result<PassResult, String>;

/// Runs the requested pass and exits the process: 0 when a result file was
/// written (even one that records a failed scenario), 3 when not even that
/// was possible.
///
/// Allocates freely (it is the whole child process); never returns.
pub fn run_child(req: &Request, scenarios: &[Scenario]) -> ! {
    let report: ChildReport = match scenarios.iter().find(|s| s.name() == req.scenario) {
        Some(s) => run_pass(req, s),
        None => Err(format!("no scenario named {:?} in the child", req.scenario)),
    };
    alloc::set_mode(Mode::System);
    let json = serde_json::to_vec(&report).unwrap_or_default();
    match crate::atomic::write(&result_path(&req.dir, req.pass), &json) {
        Ok(()) => std::process::exit(0),
        Err(e) => {
            eprintln!("escape-lab: {}", crate::fmt::error_chain(&e));
            std::process::exit(3)
        }
    }
}

fn run_pass(req: &Request, s: &Scenario) -> Result<PassResult, String> {
    let call = s
        .setup()
        .map_err(|e| format!("setup of {}: {e}", s.name()))?;
    let mut calls = Calls {
        call: inject_fault(s.name(), call)?,
        made: 0,
    };
    // Warm-up: one whole cycle, so buffers that grow reach their steady size
    // and the first chunk's costs are not everybody's.
    calls.run(s.calls_per_cycle())?;
    match req.pass {
        Pass::Count => count::child(s, &mut calls),
        Pass::Heap => heap::child(req, s, &mut calls),
        Pass::Cpu => cpu::child(req, s, &mut calls),
        Pass::Instr => instr::child(s, &mut calls),
    }
}

/// A scenario's call and the number of calls made so far (for messages).
pub(crate) struct Calls {
    call: Call,
    made: u64,
}

impl Calls {
    /// Makes `n` calls, returning the items they produced.
    pub(crate) fn run(&mut self, n: u64) -> Result<u64, String> {
        let mut items = 0;
        for _ in 0..n {
            self.made += 1;
            items +=
                escape_lab_measured_call(&mut self.call).map_err(|e| describe(&e, self.made))?;
        }
        Ok(items)
    }
}

/// The frame named [`crate::frames::MEASURED_CALL`], which every call of a
/// scenario goes through: profiles cut stacks there, so flamegraphs start
/// at the scenario's code. Never inlined, and not a tail call
/// (`black_box` keeps the call from compiling to a jump that would remove
/// the frame).
#[inline(never)]
fn escape_lab_measured_call(call: &mut Call) -> Result<u64, CallError> {
    std::hint::black_box(call())
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
pub(crate) fn measured_calls(s: &Scenario) -> u64 {
    let cycle = s.calls_per_cycle();
    MIN_COUNT_CALLS.div_ceil(cycle) * cycle
}

/// The fault kinds [`ENV_FAULT`] accepts.
pub const FAULT_KINDS: [&str; 6] = ["panic", "abort", "hang", "error", "alloc", "work"];

/// Checks [`ENV_FAULT`] before a run: `SCENARIO:KIND` with a known kind and
/// the name of one of `scenarios`, so a typo is an error, not a fault that
/// silently never happens.
///
/// # Errors
///
/// [`crate::Error::Usage`] naming what is wrong.
///
/// # Allocation
///
/// Reads the variable; the message when it is wrong.
pub fn check_fault(scenarios: &[Scenario]) -> Result<(), crate::Error> {
    let Some(spec) = std::env::var_os(ENV_FAULT) else {
        return Ok(());
    };
    let spec = spec.to_string_lossy();
    let bad = |problem: String| crate::Error::Usage {
        option: ENV_FAULT.into(),
        problem,
    };
    let kinds = FAULT_KINDS.join(", ");
    let Some((name, kind)) = spec.split_once(':') else {
        return Err(bad(format!(
            "{spec:?} is not SCENARIO:KIND (KIND one of {kinds})"
        )));
    };
    if !FAULT_KINDS.contains(&kind) {
        return Err(bad(format!("unknown fault kind {kind:?} (one of {kinds})")));
    }
    if !scenarios.iter().any(|s| s.name() == name) {
        let names: Vec<&str> = scenarios.iter().map(Scenario::name).take(8).collect();
        return Err(bad(format!(
            "no scenario named {name:?} in this run (it has {}{})",
            names.join(", "),
            if scenarios.len() > names.len() {
                ", ..."
            } else {
                ""
            }
        )));
    }
    Ok(())
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
            "work" => Ok(Box::new(move || {
                // A loop the optimizer cannot remove: black_box hides both
                // the value and the work.
                let mut x = 0u64;
                for i in 0..50_000u64 {
                    x = std::hint::black_box(x ^ i);
                }
                std::hint::black_box(x);
                call()
            })),
            other => Err(format!(
                "{ENV_FAULT}: unknown fault kind {other:?} ({})",
                FAULT_KINDS.join(", ")
            )),
        },
        _ => Ok(call),
    }
}
