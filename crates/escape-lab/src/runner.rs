//! For a binary of your own instead of [`Lab`](crate::Lab): the
//! command-line options (clap `Args` to flatten into your parser), the
//! commands behind them, and [`serve_if_child`], which every binary that
//! runs scenarios calls first. [`Lab`](crate::Lab) is built from these, and
//! so is the article's `escape-lab` binary.
//!
//! ```no_run
//! use escape_lab::runner::{self, RunArgs};
//! use escape_lab::{Scenario, WorkloadInfo};
//! # #[global_allocator]
//! # static ALLOC: escape_lab::Alloc = escape_lab::Alloc;
//!
//! fn main() -> std::process::ExitCode {
//!     let scenarios = vec![Scenario::new("sum", || || (1..100u64).sum::<u64>())];
//!     // In a child process this runs its pass and exits.
//!     runner::serve_if_child(&scenarios);
//!     let args = RunArgs::default(); // or flattened into your clap parser
//!     let out = runner::default_out_dir(std::path::Path::new("target/runs"));
//!     match args.options(out, std::env::current_dir().unwrap()) {
//!         Ok(opts) => runner::profile(&scenarios, WorkloadInfo::default(), &opts, false)
//!             .unwrap_or_else(|e| runner::report_error(&e)),
//!         Err(e) => runner::report_error(&e),
//!     }
//! }
//! ```
//!
//! Exit codes: 0 success; 1 a regression or a failed scenario; 2 bad usage,
//! bad input or an output that cannot be written.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

pub use crate::child::serve_if_child;
use crate::gate::check;
pub use crate::gate::check::CheckOptions;
use crate::gate::report;
pub use crate::gate::report::Format;
use crate::model::WorkloadInfo;
use crate::pass::Settings;
use crate::profile;
pub use crate::profile::{default_out_dir, ProfileOptions};
use crate::{Error, Scenario};

/// The longest `--cpu-seconds` and `--timeout` accepted: an hour.
const MAX_SECONDS: f64 = 3600.0;

/// Options of `profile`.
#[derive(Args, Clone, Debug, Default)]
pub struct RunArgs {
    /// Run folder [default: target/escape-lab/BENCH/run-YYYYMMDD-HHMMSS, UTC]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Shorten every pass (for CI)
    #[arg(long)]
    pub quick: bool,
    /// Open index.html when done
    #[arg(long)]
    pub open: bool,
    /// Seconds of CPU sampling per scenario (at most 3600)
    #[arg(long, default_value_t = 2.0, value_name = "S")]
    pub cpu_seconds: f64,
    /// Time limit of one pass of one scenario, seconds (at most 3600)
    #[arg(long, default_value_t = 120, value_name = "S")]
    pub timeout: u64,
    /// Skip the instr pass (instructions per call under valgrind; --quick
    /// skips it too)
    #[arg(long)]
    pub no_instr: bool,
}

impl RunArgs {
    /// The run's options, with `out` when `--out` is not given.
    ///
    /// # Errors
    ///
    /// [`Error::Usage`] for `--cpu-seconds` that is not a number of seconds
    /// in (0, 3600] or a `--timeout` of 0 or over 3600.
    ///
    /// # Allocation
    ///
    /// The options.
    pub fn options(&self, out: PathBuf, source_root: PathBuf) -> Result<ProfileOptions, Error> {
        let s = self.cpu_seconds;
        if !(s.is_finite() && s > 0.0 && s <= MAX_SECONDS) {
            return Err(Error::Usage {
                option: "--cpu-seconds".into(),
                problem: format!("{s} is not a number of seconds in (0, {MAX_SECONDS}]"),
            });
        }
        Ok(ProfileOptions {
            out: self.out.clone().unwrap_or(out),
            settings: Settings {
                quick: self.quick,
                cpu_seconds: s,
                instr: !self.no_instr,
                ..Settings::default()
            },
            timeout: timeout("--timeout", self.timeout)?,
            progress: true,
            compare: Vec::new(),
            source_root,
        })
    }
}

fn timeout(option: &str, seconds: u64) -> Result<Duration, Error> {
    if seconds == 0 || seconds as f64 > MAX_SECONDS {
        return Err(Error::Usage {
            option: option.into(),
            problem: format!("{seconds} is not a number of seconds in [1, {MAX_SECONDS}]"),
        });
    }
    Ok(Duration::from_secs(seconds))
}

/// Options of `check`.
#[derive(Args, Clone, Debug, Default)]
pub struct CheckArgs {
    /// The baseline file [default: profiles/baseline.json beside Cargo.toml]
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Rewrite the baseline from this measurement (with a filter: only the
    /// scenarios it selects)
    #[arg(long)]
    pub bless: bool,
    /// Report format: text, markdown (for a CI job summary) or json
    #[arg(long, default_value = "text", value_name = "FORMAT")]
    pub format: Format,
    /// Time limit of one pass of one scenario, seconds (at most 3600)
    #[arg(long, default_value_t = 60, value_name = "S")]
    pub timeout: u64,
    /// Gate allocations only: skip counting instructions under valgrind
    #[arg(long)]
    pub no_instr: bool,
}

impl CheckArgs {
    /// The check's options over `defaults` (which carries the default
    /// baseline, work folder and source root).
    ///
    /// # Errors
    ///
    /// [`Error::Usage`] for a `--timeout` of 0 or over 3600.
    ///
    /// # Allocation
    ///
    /// The options.
    pub fn options(&self, defaults: CheckOptions) -> Result<CheckOptions, Error> {
        Ok(CheckOptions {
            baseline: self.baseline.clone().unwrap_or(defaults.baseline),
            bless: self.bless,
            timeout: timeout("--timeout", self.timeout)?,
            instr: !self.no_instr,
            ..defaults
        })
    }
}

/// Arguments of `diff`.
#[derive(Args, Clone, Debug)]
pub struct DiffArgs {
    /// The older run's summary.json
    pub old: PathBuf,
    /// The newer run's summary.json
    pub new: PathBuf,
}

/// `profile`: runs, prints the table and where the page is, opens it if
/// asked. Exit 1 when a scenario failed.
///
/// # Errors
///
/// [`profile::run`]'s.
///
/// # Allocation
///
/// Freely.
pub fn profile(
    scenarios: &[Scenario],
    workload: WorkloadInfo,
    opts: &ProfileOptions,
    open: bool,
) -> Result<ExitCode, Error> {
    let outcome = profile::run(scenarios, workload, opts)?;
    print(&format!(
        "{}\nreport: {}\n",
        profile::table(&outcome.summary),
        outcome.index.display()
    ))?;
    if open {
        profile::open(&outcome.index);
    }
    Ok(exit(outcome.failed() == 0))
}

/// `check`: measures, compares (or blesses), prints the report in `format`.
/// Exit 1 on a regression.
///
/// # Errors
///
/// [`check::check`]'s.
///
/// # Allocation
///
/// Freely.
pub fn check(
    scenarios: &[Scenario],
    workload: WorkloadInfo,
    opts: &CheckOptions,
    format: Format,
) -> Result<ExitCode, Error> {
    let outcome = check::check(scenarios, workload, opts)?;
    print(&report::render(&outcome, &opts.baseline, format))?;
    Ok(exit(!outcome.failed()))
}

/// Arguments of `reach`.
#[derive(Args, Clone, Debug, Default)]
pub struct ReachArgs {
    /// Print every chain whole, every panic way and indirect call
    #[arg(long)]
    pub full: bool,
    /// Print the analyses as JSON (an object by scenario name)
    #[arg(long)]
    pub json: bool,
}

/// `reach`: the static reachability analysis of each selected scenario's call
/// (all when `filters` is empty; a filter matching none is an error),
/// printed as `reach.txt` is (or as JSON). Exit 0 whatever the verdicts;
/// the gate judges them.
///
/// # Errors
///
/// [`Error::Reach`] when the program cannot be analysed at all (another
/// target, a stripped binary), [`Error::Stdout`].
///
/// # Allocation
///
/// Freely.
pub fn reach(
    scenarios: &[Scenario],
    filters: &[String],
    args: &ReachArgs,
) -> Result<ExitCode, Error> {
    crate::scenario::check_filters(scenarios, filters)?;
    let mut text = String::new();
    let mut json = serde_json::Map::new();
    let chosen = scenarios
        .iter()
        .filter(|s| filters.is_empty() || filters.iter().any(|f| s.name().contains(f.as_str())));
    for s in chosen {
        let r = s.reach()?;
        if args.json {
            json.insert(
                s.name().to_string(),
                serde_json::to_value(&r).unwrap_or_default(),
            );
        } else {
            text.push_str(&crate::reach::text(s.name(), &r, args.full));
        }
    }
    if args.json {
        text = serde_json::to_string_pretty(&json).unwrap_or_default();
        text.push('\n');
    }
    print(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// `diff`: prints the two runs side by side.
///
/// # Errors
///
/// [`crate::diff::diff`]'s.
///
/// # Allocation
///
/// The summaries and the table.
pub fn diff(args: &DiffArgs) -> Result<ExitCode, Error> {
    print(&crate::diff::diff(&args.old, &args.new)?)?;
    Ok(ExitCode::SUCCESS)
}

fn exit(ok: bool) -> ExitCode {
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Prints `escape-lab: <error and its causes>` and returns exit code 2.
///
/// Allocates the message.
#[must_use]
pub fn report_error(e: &Error) -> ExitCode {
    // Where stderr itself cannot be written, the exit code still says it.
    let _ = writeln!(
        std::io::stderr(),
        "escape-lab: {}",
        crate::fmt::error_chain(e)
    );
    ExitCode::from(e.exit_code())
}

/// Writes `text` to standard output, flushed: an error instead of std's
/// panic (`failed printing to stdout`, exit 101) when it cannot be written.
///
/// # Errors
///
/// [`Error::Stdout`] with the I/O error (exit 2).
///
/// # Allocation
///
/// Never allocates, except the error.
pub fn print(text: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(Error::Stdout)
}
