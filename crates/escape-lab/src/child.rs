//! Child processes, from the parent's side: spawn one pass of one scenario,
//! enforce its time limit, read its result, and say why it failed (with the
//! tail of its stderr) when it did. Both `profile` and `check` run their
//! passes through here, and [`serve_if_child`] is the one place where a
//! process finds out that it is a child and runs the pass it was asked for.
//!
//! The parent never trusts a child to finish: a missing result file means
//! the child crashed. A child never outlives its parent: on Linux it asks
//! the kernel for SIGKILL when the parent dies (`PR_SET_PDEATHSIG`), and a
//! parent that receives SIGINT, SIGTERM or SIGHUP kills the running child
//! itself, then the run removes its temporary folder ([`cancelled`]).

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;
use std::time::{Duration, Instant};

use crate::model::{Pass, PassResult};
use crate::pass::{self, ChildReport, Settings};
use crate::scenario::Scenario;

/// Why a pass failed, as the child (or its absence) told it: a message that
/// crossed the process boundary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PassFailure(pub String);

impl fmt::Display for PassFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PassFailure {}

static CANCELLED: AtomicBool = AtomicBool::new(false);

/// Catches SIGINT, SIGTERM and SIGHUP for the rest of the process: the
/// running child is killed and [`cancelled`] turns true, so the run stops
/// and cleans up. Idempotent; a program that installed its own handler
/// keeps it.
///
/// Allocates the handler's thread (once).
pub fn catch_signals() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = ctrlc::set_handler(|| CANCELLED.store(true, Ordering::SeqCst));
    });
}

/// Whether a signal asked this run to stop.
///
/// Never allocates.
#[must_use]
pub fn cancelled() -> bool {
    CANCELLED.load(Ordering::SeqCst)
}

/// When this process was started as a child by a run, runs the requested
/// pass of one of `scenarios` and exits; otherwise returns.
///
/// Call it first thing, with the same scenarios in parent and child.
///
/// Allocates freely in a child (it is the whole child process); in the
/// parent, reads four environment variables.
pub fn serve_if_child(scenarios: &[Scenario]) {
    if let Some(req) = pass::requested() {
        pass::run_child(&req, scenarios);
    }
}

/// How the parent runs its children.
#[derive(Clone, Debug)]
pub(crate) struct Supervisor {
    /// What every child gets.
    pub settings: Settings,
    /// Time limit of one pass of one scenario.
    pub timeout: Duration,
    /// Where messages say a scenario's folder is (its final place, which
    /// can differ from where the child writes while the run is under way).
    pub display_root: PathBuf,
    /// More environment for every child (the staged inputs).
    pub env: Vec<(String, std::ffi::OsString)>,
    /// The command line every child gets.
    pub args: std::sync::Arc<crate::child_args::ChildArgs>,
}

impl Supervisor {
    /// Runs pass `p` of scenario `name` in a child writing into `dir`, and
    /// returns its result, or why it failed. The child's stderr is kept in
    /// `dir/<pass>.stderr.txt` when the pass fails and removed when it
    /// succeeds.
    ///
    /// # Allocation
    ///
    /// Allocates the child's command line, the paths of its files, its
    /// captured output and, on failure, the message; spawns a process.
    pub fn run(&self, p: Pass, name: &str, dir: &Path) -> Result<PassResult, PassFailure> {
        let fail = |m: String| Err(PassFailure(m));
        let result_file = pass::result_path(dir, p);
        let _ = std::fs::remove_file(&result_file);
        let exe = match std::env::current_exe() {
            Ok(exe) => exe,
            Err(e) => return fail(format!("cannot find this program: {e}")),
        };
        let stderr_path = dir.join(format!("{}.stderr.txt", p.name()));
        let stderr = match std::fs::File::create(&stderr_path) {
            Ok(f) => f,
            Err(e) => return fail(format!("cannot create {}: {e}", stderr_path.display())),
        };
        let settings = serde_json::to_string(&self.settings).unwrap_or_default();
        let mut cmd = if p == Pass::Instr {
            crate::pass::instr::command(&exe, dir)
        } else {
            Command::new(&exe)
        };
        if let Some(root) = &self.settings.source_root {
            cmd.env(pass::ENV_SOURCE_ROOT, root);
        }
        cmd.args(&self.args.args)
            .env(pass::ENV_PASS, p.name())
            .env(pass::ENV_SCENARIO, name)
            .env(pass::ENV_DIR, dir)
            .env(pass::ENV_SETTINGS, settings)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr);
        die_with_parent(&mut cmd);
        let spawned = cmd.spawn();
        let mut child = match spawned {
            Ok(c) => c,
            Err(e) => {
                return fail(format!(
                    "cannot start the {p} pass ({}): {e}",
                    exe.display()
                ))
            }
        };
        let status = self.wait(&mut child, p)?;
        let shown = self
            .display_root
            .join(name)
            .join(format!("{}.stderr.txt", p.name()));
        let tail = stderr_tail(&stderr_path, &shown.display().to_string());
        let outcome = match status {
            None => Err(PassFailure(format!(
                "timed out after {} s{tail}",
                self.timeout.as_secs_f64()
            ))),
            Some(status) => match std::fs::read(&result_file) {
                Ok(bytes) => match serde_json::from_slice::<ChildReport>(&bytes) {
                    Ok(Ok(r)) if r.pass() == p => Ok(r),
                    Ok(Ok(r)) => Err(PassFailure(format!(
                        "the child answered for the {} pass",
                        r.pass()
                    ))),
                    Ok(Err(e)) => Err(PassFailure(format!("{e}{tail}"))),
                    Err(e) => Err(PassFailure(format!("unreadable result ({e}){tail}"))),
                },
                Err(_) => Err(PassFailure(format!("crashed ({status}){tail}"))),
            },
        };
        let _ = std::fs::remove_file(&result_file);
        if outcome.is_ok() {
            let _ = std::fs::remove_file(&stderr_path);
        }
        outcome
    }
}

impl Supervisor {
    /// Waits for `child` until it exits (its status), runs out of time
    /// (`None`, killed) or a signal stops the run (killed, an error).
    fn wait(
        &self,
        child: &mut std::process::Child,
        p: Pass,
    ) -> Result<Option<std::process::ExitStatus>, PassFailure> {
        let start = Instant::now();
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return Ok(Some(status)),
                Ok(None) if cancelled() => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(PassFailure("cancelled by a signal".into()));
                }
                Ok(None) if start.elapsed() > self.timeout => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Ok(None);
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                Err(e) => return Err(PassFailure(format!("waiting for the {p} pass: {e}"))),
            }
        }
    }
}

/// Makes the child die when this process does (Linux: `PR_SET_PDEATHSIG`,
/// checked against a parent that died before the call).
#[cfg(target_os = "linux")]
fn die_with_parent(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: getpid has no preconditions.
    let parent = unsafe { libc::getpid() };
    // SAFETY: the closure runs in the child between fork and exec and calls
    // only async-signal-safe functions (prctl, getppid, _exit).
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
}

/// Elsewhere the parent's signal handler ([`catch_signals`]) is what stops
/// children.
#[cfg(not(target_os = "linux"))]
fn die_with_parent(_cmd: &mut Command) {}

/// The last lines of a child's stderr, as `"; stderr (whole in SHOWN): ..."`,
/// or nothing.
fn stderr_tail(path: &Path, shown: &str) -> String {
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
    format!("; stderr (whole in {shown}):\n  {tail}")
}
