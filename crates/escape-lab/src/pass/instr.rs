//! The `instr` pass: instructions per call, counted by valgrind's callgrind,
//! which counts instructions, not time: the same binary on the same input
//! gives the same count whatever else the machine is doing, so it can be
//! gated where time cannot.
//!
//! The parent starts the child under `valgrind --tool=callgrind
//! --collect-atstart=no --toggle-collect=escape_lab_instr_measured_calls`:
//! the set-up and the warm-up cycle run uncounted, and only the measured
//! calls, made inside that one function, are counted (whole cycles, as the
//! `count` pass measures them, so the per-call figure is an exact quotient).
//! callgrind writes `callgrind.out`, which `callgrind_annotate` and
//! KCachegrind open; the parent reads the total and the top functions from
//! it. Where valgrind is not installed the pass is skipped with a note,
//! never failed.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use crate::alloc::{self, Mode};
use crate::frames::INSTR_MEASURED_CALLS;
use crate::model::{Artifact, FunctionCost, InstrResult, PassResult};
use crate::pass::{measured_calls, Calls};
use crate::scenario::Scenario;

/// Functions kept per scenario, by exclusive and by inclusive count.
const TOP_FUNCTIONS: usize = 12;

/// The system allocator's entry points: what a call spends inside them
/// (and what they call) is counted apart, since it depends on the heap's
/// state, which the process's arguments and environment change, while the
/// allocations themselves are gated exactly by the `count` pass.
const ALLOCATOR: [&str; 8] = [
    "malloc",
    "free",
    "realloc",
    "calloc",
    "cfree",
    "memalign",
    "aligned_alloc",
    "posix_memalign",
];

/// The child half: the measured calls inside [`INSTR_MEASURED_CALLS`], under the
/// system allocator.
pub(crate) fn child(s: &Scenario, calls: &mut Calls) -> Result<PassResult, String> {
    alloc::set_mode(Mode::System);
    let n = measured_calls(s);
    escape_lab_instr_measured_calls(calls, n)?;
    Ok(PassResult::Instr(InstrResult {
        calls: n,
        ..InstrResult::default()
    }))
}

/// Everything callgrind counts happens inside this frame. Unmangled, so the
/// `--toggle-collect` pattern is exact; never inlined; not a tail call.
#[no_mangle]
#[inline(never)]
fn escape_lab_instr_measured_calls(calls: &mut Calls, n: u64) -> Result<u64, String> {
    std::hint::black_box(calls.run(n))
}

/// Why the pass cannot run here, or `None` when `valgrind` answers.
///
/// Allocates the command's output.
#[must_use]
pub fn unavailable() -> Option<String> {
    match Command::new("valgrind").arg("--version").output() {
        Ok(o) if o.status.success() => None,
        Ok(o) => Some(format!("valgrind --version failed ({})", o.status)),
        Err(e) => Some(format!(
            "valgrind not found ({e}): instructions were not counted (Debian: apt-get install valgrind)"
        )),
    }
}

/// The command that runs `exe` as a child of the `instr` pass writing into
/// `dir`: valgrind's callgrind, counting only the measured calls.
///
/// Allocates the command.
pub(crate) fn command(exe: &Path, dir: &Path) -> Command {
    let mut cmd = Command::new("valgrind");
    cmd.arg("--tool=callgrind")
        .arg(format!(
            "--callgrind-out-file={}",
            dir.join(Artifact::CallgrindOut.file_name()).display()
        ))
        .arg("--collect-atstart=no")
        .arg(format!("--toggle-collect={INSTR_MEASURED_CALLS}"))
        .arg("--quiet")
        .arg(exe);
    cmd
}

/// The parent half: the child's result completed from `callgrind.out` in
/// `dir`: total instructions and the top functions.
pub(crate) fn render(dir: &Path, mut result: InstrResult) -> Result<InstrResult, String> {
    let path = dir.join(Artifact::CallgrindOut.file_name());
    let bytes = crate::strict::read_bounded(&path, CALLGRIND_LIMIT)
        .map_err(|e| crate::fmt::error_chain(&e))?;
    let text = String::from_utf8_lossy(&bytes);
    let parsed = parse(&text).map_err(|e| match disk_problem(dir) {
        // A full disk cuts callgrind's file short: say so, not only that
        // the file lacks its last line.
        Some(why) => format!("{why} (so {} is cut short: {e})", path.display()),
        None => format!("{}: {e}", path.display()),
    })?;
    result.instructions = parsed.total;
    result.allocator_instructions = parsed.allocator;
    result.functions = parsed.functions;
    Ok(result)
}

/// The largest callgrind file read: 256 MiB (one scenario's is under 1 MB).
const CALLGRIND_LIMIT: u64 = 256 << 20;

/// Why `dir` cannot take a small file now (a full disk, a quota), if it
/// cannot: a 64 KiB probe written, synced and removed.
fn disk_problem(dir: &Path) -> Option<String> {
    use std::io::Write;
    let probe = dir.join(".escape-lab-space-probe");
    let result = std::fs::File::create(&probe).and_then(|mut f| {
        f.write_all(&[0u8; 64 << 10])?;
        f.sync_all()
    });
    let _ = std::fs::remove_file(&probe);
    result
        .err()
        .map(|e| format!("cannot write in {}: {e}", dir.display()))
}

/// What a callgrind file says about the measured calls.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Callgrind {
    /// All instructions counted.
    pub total: u64,
    /// Those inside the system allocator's entry points and what they
    /// call (see `ALLOCATOR`).
    pub allocator: u64,
    /// The top functions.
    pub functions: Vec<FunctionCost>,
}

/// Reads a callgrind output file: the `summary:` (or `totals:`) line; the
/// cost of calls from outside the allocator into it; and, per function,
/// its exclusive count (cost lines under `fn=`) and inclusive count (those
/// plus the cost of the calls it makes). Functions that only lead to the
/// measured frame (inclusive equal to the total, nothing of their own) and
/// the measured frame itself are left out; the rest are ranked by exclusive
/// count, then by inclusive.
///
/// # Errors
///
/// A message when there is no total or a line cannot be read.
///
/// # Allocation
///
/// The function table and the list.
pub(crate) fn parse(text: &str) -> Result<Callgrind, String> {
    let mut names: HashMap<String, String> = HashMap::new();
    let mut costs: HashMap<String, (u64, u64)> = HashMap::new();
    let mut total = None;
    let mut allocator = 0u64;
    let mut current = String::new();
    let mut callee = String::new();
    let mut call_pending = false;
    for (i, line) in text.lines().enumerate() {
        if let Some(v) = line
            .strip_prefix("summary:")
            .or_else(|| line.strip_prefix("totals:"))
        {
            total = v.trim().parse::<u64>().ok().or(total);
        } else if let Some(def) = line.strip_prefix("fn=") {
            current = resolve_name(&mut names, def);
            call_pending = false;
        } else if let Some(def) = line.strip_prefix("cfn=") {
            callee = resolve_name(&mut names, def);
        } else if line.starts_with("calls=") {
            call_pending = true;
        } else if line.starts_with(|c: char| c.is_ascii_digit() || "+-*".contains(c)) {
            let ir = line
                .split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or_else(|| format!("line {}: not a cost line: {line:?}", i + 1))?;
            let entry = costs.entry(current.clone()).or_default();
            if call_pending {
                entry.1 += ir;
                call_pending = false;
                if ALLOCATOR.contains(&callee.as_str()) && !ALLOCATOR.contains(&current.as_str()) {
                    allocator += ir;
                }
            } else {
                entry.0 += ir;
                entry.1 += ir;
            }
        }
    }
    let total = total.ok_or("no summary: line (did callgrind finish?)")?;
    let mut merged: HashMap<String, (u64, u64)> = HashMap::new();
    for (name, (ex, inc)) in costs {
        if name.is_empty() || name == INSTR_MEASURED_CALLS || (ex == 0 && inc >= total) {
            continue;
        }
        let Some(label) = label(crate::frames::strip_hash(&name)) else {
            continue;
        };
        let e = merged.entry(label).or_default();
        e.0 += ex;
        // Functions merged under one label call each other (the wrapper
        // closure calls `measured`): the outermost's inclusive cost holds
        // the others'.
        e.1 = e.1.max(inc);
    }
    let mut functions: Vec<FunctionCost> = merged
        .into_iter()
        .map(|(name, (exclusive, inclusive))| FunctionCost {
            name,
            exclusive,
            inclusive,
        })
        .filter(|f| f.exclusive > 0 || f.inclusive > 0)
        .collect();
    functions.sort_by(|a, b| {
        b.exclusive
            .cmp(&a.exclusive)
            .then(b.inclusive.cmp(&a.inclusive))
            .then(a.name.cmp(&b.name))
    });
    functions.truncate(TOP_FUNCTIONS);
    Ok(Callgrind {
        total,
        allocator,
        functions,
    })
}

/// The name a function is reported under: callgrind counts per compiled
/// function, so code inlined into the scenario's call is counted in the
/// library's wrapper closure, named here for what it is; the harness's own
/// loop is constant and left out (`None`).
fn label(name: &str) -> Option<String> {
    if name.starts_with("escape_lab::scenario::") {
        Some("[the scenario's call: code inlined into it]".to_string())
    } else if name.starts_with("escape_lab::pass::inject_fault") {
        Some("[injected fault (ESCAPE_LAB_FAULT)]".to_string())
    } else if name.starts_with("escape_lab::pass::") {
        None
    } else {
        Some(name.to_string())
    }
}

/// `(id) name` defines a compressed name, `(id)` refers to one, a bare
/// name is itself.
fn resolve_name(names: &mut HashMap<String, String>, def: &str) -> String {
    let def = def.trim();
    match def.strip_prefix('(').and_then(|r| r.split_once(')')) {
        Some((id, rest)) if !rest.trim().is_empty() => {
            let name = rest.trim().to_string();
            names.insert(id.to_string(), name.clone());
            name
        }
        Some((id, _)) => names.get(id).cloned().unwrap_or_default(),
        None => def.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Needs root (a 256 KiB tmpfs to fill); says so and passes elsewhere.
    #[test]
    fn a_full_disk_is_named_not_only_a_file_cut_short() {
        let dir = tempfile::tempdir().unwrap();
        let mnt = dir.path().join("tiny");
        std::fs::create_dir(&mnt).unwrap();
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=256k", "tmpfs"])
            .arg(&mnt)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            eprintln!("skipped: cannot mount a tmpfs here (not root)");
            return;
        }
        let cut = "version: 1\nevents: Ir\nfn=(1) main\n0 5\n";
        std::fs::write(mnt.join("callgrind.out"), cut).unwrap();
        // Positive control: with room left, the file is the problem.
        let roomy = render(&mnt, InstrResult::default()).unwrap_err();
        let mut filler = std::fs::File::create(mnt.join("filler")).unwrap();
        while std::io::Write::write_all(&mut filler, &[1u8; 4096]).is_ok() {}
        drop(filler);
        let full = render(&mnt, InstrResult::default()).unwrap_err();
        let _ = std::process::Command::new("umount").arg(&mnt).status();
        assert!(!roomy.contains("cannot write"), "{roomy}");
        assert!(
            full.contains("cannot write in") && full.contains("No space left on device"),
            "{full}"
        );
        assert!(full.contains("callgrind.out is cut short"), "{full}");
    }

    const OUT: &str = "version: 1\ncreator: callgrind-3.19.0\npositions: line\nevents: Ir\nsummary: 1000\n\n\
ob=(1) /bin/x\nfl=(1) ???\nfn=(1) main\ncfn=(2) escape_lab_instr_measured_calls\ncalls=1 0\n0 1000\n\n\
fn=(2)\n0 10\ncfn=(3) demo::scan::h0123456789abcdef\ncalls=5 0\n0 900\ncfn=(4) malloc\ncalls=2 0\n0 90\n\n\
fn=(3)\n12 800\n+1 40\ncfn=(4)\ncalls=1 0\n0 60\n\nfn=(4)\n0 150\n";

    #[test]
    fn totals_and_functions_are_read() {
        let c = parse(OUT).unwrap();
        assert_eq!((c.total, c.allocator), (1000, 150));
        let names: Vec<(&str, u64, u64)> = c
            .functions
            .iter()
            .map(|f| (f.name.as_str(), f.exclusive, f.inclusive))
            .collect();
        assert_eq!(names, [("demo::scan", 840, 900), ("malloc", 150, 150)]);
    }

    #[test]
    fn a_file_without_a_total_is_an_error() {
        assert!(parse("events: Ir\nfn=(1) a\n0 5\n")
            .unwrap_err()
            .contains("summary"));
        assert!(parse("summary: 5\nfn=(1) a\n0 x\n").is_err());
    }
}
