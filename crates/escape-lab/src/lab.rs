//! [`Lab`]: the one entry point for a user's crate. A bench target with
//! `harness = false` hands its scenarios to [`crate::main`] (or to a
//! [`Lab`] with options) and gets the same commands as the `escape-lab`
//! binary: `profile`, `check`, `diff`, `list`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::gate::check::CheckOptions;
use crate::model::WorkloadInfo;
use crate::runner::{self, CheckArgs, DiffArgs, ReachArgs, RunArgs};
use crate::{child, profile, Error, Scenario};

/// A set of scenarios and how to report them; [`Lab::main`] runs the
/// command line.
///
/// # Example
///
/// ```no_run
/// use escape_lab::{Lab, Scenario};
///
/// #[global_allocator]
/// static ALLOC: escape_lab::Alloc = escape_lab::Alloc;
///
/// fn main() -> std::process::ExitCode {
///     let text = "alpha beta gamma ".repeat(100);
///     let (a, b) = (text.clone(), text);
///     Lab::new(vec![
///         Scenario::new("words_owned", move || {
///             let text = a.clone();
///             move || text.split(' ').map(str::to_string).count()
///         }),
///         Scenario::new("words_borrowed", move || {
///             let text = b.clone();
///             move || text.split(' ').count()
///         }),
///     ])
///     .compare("words_owned", "words_borrowed")
///     .main()
/// }
/// ```
///
/// # Allocation
///
/// The scenarios and options; running it allocates freely.
#[derive(Debug)]
pub struct Lab {
    scenarios: Vec<Scenario>,
    workload: WorkloadInfo,
    compare: Vec<(String, String)>,
    baseline: Option<PathBuf>,
    source_root: Option<PathBuf>,
}

/// `Lab::new(scenarios).main()`: the whole entry point of a bench target.
///
/// Allocates freely.
#[must_use]
pub fn main(scenarios: Vec<Scenario>) -> ExitCode {
    Lab::new(scenarios).main()
}

impl Lab {
    /// A lab over `scenarios`, with the defaults: no workload description,
    /// no differential graph, the baseline at `profiles/baseline.json`
    /// beside the package's `Cargo.toml`, sites relative to the workspace.
    ///
    /// Allocates the lab.
    #[must_use]
    pub fn new(scenarios: Vec<Scenario>) -> Lab {
        Lab {
            scenarios,
            workload: WorkloadInfo::default(),
            compare: Vec::new(),
            baseline: None,
            source_root: None,
        }
    }

    /// Describes what the scenarios run on (shown in reports; its name and
    /// facts are kept in the baseline and compared by `check`).
    ///
    /// Never allocates.
    #[must_use]
    pub fn workload(mut self, workload: WorkloadInfo) -> Lab {
        self.workload = workload;
        self
    }

    /// Draws `before` against `after` as differential allocation flamegraphs
    /// in each profile run: what the fix removed.
    ///
    /// Allocates the two names.
    #[must_use]
    pub fn compare(mut self, before: impl Into<String>, after: impl Into<String>) -> Lab {
        self.compare.push((before.into(), after.into()));
        self
    }

    /// Sets the default baseline file (`--baseline` still wins).
    ///
    /// Allocates the path.
    #[must_use]
    pub fn baseline(mut self, path: impl Into<PathBuf>) -> Lab {
        self.baseline = Some(path.into());
        self
    }

    /// Sets the folder allocation sites are reported relative to. Default:
    /// [`crate::paths::source_root`].
    ///
    /// Allocates the path.
    #[must_use]
    pub fn source_root(mut self, path: impl Into<PathBuf>) -> Lab {
        self.source_root = Some(path.into());
        self
    }

    /// Runs the process's command line; see [`Lab::run`].
    ///
    /// Allocates freely.
    #[must_use]
    pub fn main(self) -> ExitCode {
        self.run(std::env::args_os())
    }

    /// Runs a command line (program name first):
    ///
    /// - `profile [FILTER...]` (the default under `cargo bench`): every pass
    ///   of the selected scenarios, reports under
    ///   `target/escape-lab/<bench>/run-<time>/`;
    /// - `check [FILTER...] [--bless] [--format text|markdown|json]`: the
    ///   gate against the baseline;
    /// - `diff OLD NEW`, `list [FILTER...]`;
    /// - nothing, without `--bench` (so under `cargo test --benches`): a
    ///   smoke test, every selected scenario's setup and one call, here.
    ///
    /// A FILTER selects the scenarios whose names contain it. `--bench`,
    /// which cargo passes to bench targets, is accepted anywhere.
    ///
    /// Allocates freely.
    pub fn run<I, T>(self, args: I) -> ExitCode
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        child::serve_if_child(&self.scenarios);
        let cli = match LabCli::parse_args(&args) {
            Ok(cli) => cli,
            Err(e) => {
                let _ = e.print();
                return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
            }
        };
        let bench = bench_name(args.first().map(Path::new));
        match self.dispatch(cli, &bench) {
            Ok(code) => code,
            Err(e) => runner::report_error(&e),
        }
    }

    fn dispatch(self, cli: LabCli, bench: &str) -> Result<ExitCode, Error> {
        let root = self
            .source_root
            .clone()
            .unwrap_or_else(crate::paths::source_root);
        match cli.command {
            None if !cli.bench => Ok(self.smoke_test(&cli.filters)),
            None => self.profile(&cli.filters, &cli.run, &root, bench),
            Some(LabCommand::Profile { filters, run }) => {
                self.profile(&filters, &run, &root, bench)
            }
            Some(LabCommand::Check { filters, check }) => {
                let defaults = CheckOptions {
                    baseline: self.baseline.clone().unwrap_or_else(default_baseline),
                    only: filters,
                    ..CheckOptions::default()
                };
                let opts = CheckOptions {
                    work_dir: crate::paths::target_dir().join("escape-lab").join(bench),
                    source_root: root,
                    ..check.options(defaults)?
                };
                runner::check(&self.scenarios, self.workload, &opts, check.format)
            }
            Some(LabCommand::Diff(args)) => runner::diff(&args),
            Some(LabCommand::Reach { filters, reach }) => {
                runner::reach(&self.scenarios, &filters, &reach)
            }
            Some(LabCommand::List { filters }) => {
                crate::scenario::check_filters(&self.scenarios, &filters)?;
                let mut text = String::new();
                for s in select(&self.scenarios, &filters) {
                    text += &format!("{:<32} {:<8} {}\n", s.name(), s.kind_of(), s.description());
                }
                runner::print(&text)?;
                Ok(ExitCode::SUCCESS)
            }
        }
    }

    fn profile(
        self,
        filters: &[String],
        run: &RunArgs,
        root: &Path,
        bench: &str,
    ) -> Result<ExitCode, Error> {
        let base = crate::paths::target_dir().join("escape-lab").join(bench);
        let mut opts = run.options(profile::default_out_dir(&base), root.to_path_buf())?;
        opts.compare = self.compare.clone();
        crate::scenario::check_filters(&self.scenarios, filters)?;
        let chosen: Vec<Scenario> = self
            .scenarios
            .into_iter()
            .filter(|s| selected(s.name(), filters))
            .collect();
        runner::profile(&chosen, self.workload, &opts, run.open)
    }

    /// Every selected scenario's setup and one call, in this process: what
    /// `cargo test --benches` runs, so a broken scenario fails CI early.
    fn smoke_test(&self, filters: &[String]) -> ExitCode {
        let mut failed = 0;
        for s in select(&self.scenarios, filters) {
            let result = s
                .setup()
                .map_err(|e| e.to_string())
                .and_then(|mut call| call().map_err(|e| e.message));
            match result {
                Ok(_) => println!("scenario {} ... ok", s.name()),
                Err(e) => {
                    failed += 1;
                    println!("scenario {} ... FAILED: {e}", s.name());
                }
            }
        }
        if failed == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        }
    }
}

fn selected(name: &str, filters: &[String]) -> bool {
    filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()))
}

fn select<'a>(
    scenarios: &'a [Scenario],
    filters: &'a [String],
) -> impl Iterator<Item = &'a Scenario> {
    scenarios
        .iter()
        .filter(move |s| selected(s.name(), filters))
}

/// `profiles/baseline.json` beside the `Cargo.toml` of the package cargo ran
/// (`CARGO_MANIFEST_DIR`), else under the current folder.
fn default_baseline() -> PathBuf {
    let dir =
        std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| PathBuf::from("."), PathBuf::from);
    dir.join("profiles").join("baseline.json")
}

/// The bench target's name: the executable's, without cargo's `-<hash>`.
fn bench_name(exe: Option<&Path>) -> String {
    let stem = exe
        .and_then(Path::file_stem)
        .map_or_else(|| "lab".to_string(), |s| s.to_string_lossy().into_owned());
    match stem.rsplit_once('-') {
        Some((name, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            name.to_string()
        }
        _ => stem,
    }
}

/// The command line of a bench target.
#[derive(Parser, Debug)]
#[command(
    about = "escape-lab: allocations, heap and CPU profiles of this crate's scenarios, and the allocation gate",
    args_conflicts_with_subcommands = true
)]
struct LabCli {
    /// Passed by `cargo bench` (taken out before parsing, wherever it is);
    /// without it and without a command (as under `cargo test --benches`),
    /// every scenario runs once as a smoke test
    #[arg(skip)]
    bench: bool,
    #[command(subcommand)]
    command: Option<LabCommand>,
    /// Only the scenarios whose names contain one of these
    #[arg(value_name = "FILTER")]
    filters: Vec<String>,
    #[command(flatten)]
    run: RunArgs,
}

impl LabCli {
    /// Parses `args` with `--bench` taken out wherever cargo put it.
    fn parse_args(args: &[OsString]) -> Result<LabCli, clap::Error> {
        let bench = args.iter().skip(1).any(|a| a == "--bench");
        let rest = args
            .iter()
            .enumerate()
            .filter(|(i, a)| *i == 0 || *a != "--bench");
        let mut cli = LabCli::try_parse_from(rest.map(|(_, a)| a))?;
        cli.bench = bench;
        Ok(cli)
    }
}

#[derive(Subcommand, Debug)]
enum LabCommand {
    /// Every pass for every scenario: flamegraphs, allocation sites,
    /// summary.json and index.html (the default under `cargo bench`)
    Profile {
        /// Only the scenarios whose names contain one of these
        #[arg(value_name = "FILTER")]
        filters: Vec<String>,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Exact allocations per call against the committed baseline; exit 1 on
    /// any increase
    Check {
        /// Only the scenarios whose names contain one of these
        #[arg(value_name = "FILTER")]
        filters: Vec<String>,
        #[command(flatten)]
        check: CheckArgs,
    },
    /// Two runs side by side: time with its spread, allocations exact
    Diff(DiffArgs),
    /// Which calls of each scenario can reach the allocator, read from this
    /// bench executable's machine code without running it
    Reach {
        /// Only the scenarios whose names contain one of these
        #[arg(value_name = "FILTER")]
        filters: Vec<String>,
        #[command(flatten)]
        reach: ReachArgs,
    },
    /// The scenarios, one line each
    List {
        /// Only the scenarios whose names contain one of these
        #[arg(value_name = "FILTER")]
        filters: Vec<String>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bench_names_lose_cargo_hashes() {
        let n = |p: &str| bench_name(Some(Path::new(p)));
        assert_eq!(n("target/release/deps/allocs-0123456789abcdef"), "allocs");
        assert_eq!(
            n("target/release/deps/my-bench-0123456789abcdef"),
            "my-bench"
        );
        assert_eq!(n("target/release/escape-lab"), "escape-lab");
        assert_eq!(bench_name(None), "lab");
    }

    #[test]
    fn the_command_line_parses_as_cargo_passes_it() {
        let p = |args: &[&str]| {
            let args: Vec<OsString> = args.iter().map(OsString::from).collect();
            LabCli::parse_args(&args).unwrap()
        };
        let c = p(&["allocs", "--bench"]);
        assert!(c.bench && c.command.is_none() && c.filters.is_empty());
        let c = p(&["allocs", "check", "--bench"]);
        assert!(c.bench && matches!(c.command, Some(LabCommand::Check { .. })));
        let c = p(&[
            "allocs", "--bench", "check", "split", "--format", "markdown",
        ]);
        match c.command {
            Some(LabCommand::Check { filters, check }) => {
                assert_eq!(filters, ["split"]);
                assert_eq!(check.format, crate::gate::report::Format::Markdown);
            }
            other => panic!("{other:?}"),
        }
        let c = p(&["allocs", "split", "--bench", "--quick"]);
        assert_eq!(c.filters, ["split"]);
        assert!(c.run.quick);
        assert!(LabCli::try_parse_from(["allocs", "check", "--format", "yaml"]).is_err());
        assert!(!p(&["allocs"]).bench);
    }
}
