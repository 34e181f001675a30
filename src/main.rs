//! `escape-lab`: the command line. Parses flags into the option structs of
//! the article layer (`article`) and the library (`escape_lab`), calls one
//! function per command, and owns the exit codes: 0 success, 1 a regression
//! or a failed scenario, 2 bad usage or bad input.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use acmatch::Variant;
use anyhow::Result;
use article::commands::{self, MatchOptions, ProfileCommand, WorkloadChoice};
use article::serve::ServeOptions;
use article::ArticleError;
use clap::{Args, Parser, Subcommand};
use escape_lab::runner::CheckOptions;
use escape_lab::runner::{self as cli, CheckArgs, DiffArgs, ReachArgs, RunArgs};

#[global_allocator]
static ALLOC: escape_lab::Alloc = escape_lab::Alloc;

/// The workspace this binary was built in: allocation sites are reported
/// relative to it, and the baseline lives in it.
const SOURCE_ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Shows, measures and guards heap allocations in a hot path: an
/// Aho-Corasick matcher five ways, under pprof, dhat and a counting
/// allocator. Without a command: `profile` on the default workload.
#[derive(Parser, Debug)]
#[command(name = "escape-lab", version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    profile: ProfileArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Every pass for every scenario: flamegraphs, allocation sites,
    /// summary.json and index.html (the default command)
    Profile(ProfileArgs),
    /// Exact allocations per call of every scenario against a committed
    /// baseline; exit 1 on any increase
    Check(GateArgs),
    /// Two runs side by side: time with its spread, allocations exact
    Diff(DiffArgs),
    /// Run scenarios in a loop under the sampling heap profiler and serve
    /// live /debug/pprof/ endpoints (heap, allocs, CPU profile, flamegraphs)
    Serve(ServeArgs),
    /// Match a workload with one variant: `start end pattern_id` lines.
    ///
    /// Lines are written call by call. If a call fails (`fixed` when one
    /// chunk's matches overflow its 4,096-entry buffers), the lines of the
    /// calls before it are out, none of its own, and the exit code is 1: use
    /// a smaller --chunk, or a variant without a fixed buffer.
    Match(MatchArgs),
    /// Which calls of each scenario can reach the allocator, read from this
    /// binary's machine code without running it (Go's -gcflags -m)
    Reach(ReachCmd),
    /// List variants, case studies and workloads
    List,
}

#[derive(Args, Debug, Clone)]
struct InputArgs {
    /// Built-in workload (see `escape-lab list`) [default: synthetic-en]
    #[arg(long, value_name = "NAME")]
    workload: Option<String>,
    /// Pattern file: one pattern a line (with --haystack)
    #[arg(long, value_name = "FILE")]
    patterns: Option<PathBuf>,
    /// Haystack file, any bytes (with --patterns)
    #[arg(long, value_name = "FILE")]
    haystack: Option<PathBuf>,
    /// Folder holding the article data's en/ and cn/ [env: ESCAPE_LAB_DATA]
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// The most bytes read from one input file (an endless one such as
    /// /dev/zero stops with an error)
    #[arg(long, default_value_t = commands::DEFAULT_MAX_INPUT_BYTES, value_name = "BYTES")]
    max_input_bytes: u64,
}

impl InputArgs {
    fn choice(&self) -> WorkloadChoice {
        WorkloadChoice {
            workload: self.workload.clone(),
            patterns: self.patterns.clone(),
            haystack: self.haystack.clone(),
            data_dir: self.data_dir.clone(),
            max_input_bytes: self.max_input_bytes,
        }
    }
}

/// Which scenarios: `profile` and `serve` take the same.
#[derive(Args, Debug, Clone)]
struct ScenarioArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Variants to run, comma-separated [default: all]
    #[arg(long, value_delimiter = ',', value_name = "A,B")]
    variants: Vec<Variant>,
    /// Bytes per match call; 0 for the whole haystack in one call
    #[arg(long, default_value_t = acmatch::DEFAULT_CHUNK, value_name = "BYTES")]
    chunk: usize,
    /// Also run the article's other escape cases (see `escape-lab list`)
    #[arg(long)]
    cases: bool,
}

#[derive(Args, Debug, Clone)]
struct ProfileArgs {
    #[command(flatten)]
    scenarios: ScenarioArgs,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Args, Debug)]
struct GateArgs {
    /// Only the scenarios whose names contain one of these (a bless then
    /// rewrites only their entries)
    #[arg(value_name = "FILTER")]
    filters: Vec<String>,
    #[command(flatten)]
    check: CheckArgs,
}

#[derive(Args, Debug)]
struct ReachCmd {
    /// Only the scenarios whose names contain one of these
    #[arg(value_name = "FILTER")]
    filters: Vec<String>,
    #[command(flatten)]
    reach: ReachArgs,
}

#[derive(Args, Debug)]
struct ServeArgs {
    #[command(flatten)]
    scenarios: ScenarioArgs,
    /// Address to listen on: loopback unless you name another; port 0 picks
    /// a free port (the URL printed has the real one)
    #[arg(long, default_value = "127.0.0.1:8787", value_name = "HOST:PORT")]
    addr: String,
    /// Average bytes allocated between heap samples (Go's MemProfileRate);
    /// 1 samples every allocation, 0 none
    #[arg(long, default_value_t = escape_lab::live::sampler::DEFAULT_RATE, value_name = "BYTES")]
    rate: u64,
    /// Stop after this many seconds [default: run until Ctrl-C]; with
    /// --measure, seconds per scenario [default: 10]
    #[arg(long, value_name = "SECONDS")]
    duration: Option<f64>,
    /// Serve nothing: time each scenario with and without the sampler
    /// (interleaved) and compare its estimates with exact counts
    #[arg(long)]
    measure: bool,
}

#[derive(Args, Debug)]
struct MatchArgs {
    #[command(flatten)]
    input: InputArgs,
    /// The variant that matches
    #[arg(long, default_value = "callback", value_name = "NAME")]
    variant: Variant,
    /// Bytes per match call; 0 for the whole haystack in one call
    #[arg(long, default_value_t = acmatch::DEFAULT_CHUNK, value_name = "BYTES")]
    chunk: usize,
    /// Print only the number of matches
    #[arg(long)]
    count: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            // Where stderr itself cannot be written, the exit code still says it.
            let _ = writeln!(std::io::stderr(), "escape-lab: {e:#}");
            let code = e
                .downcast_ref::<ArticleError>()
                .map_or(2, ArticleError::exit_code);
            ExitCode::from(code)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    let root = PathBuf::from(SOURCE_ROOT);
    match cli.command {
        None => profile(&cli.profile),
        Some(Command::Profile(args)) => profile(&args),
        Some(Command::Check(GateArgs { filters, check })) => {
            let defaults = CheckOptions {
                baseline: root.join("profiles").join("baseline.json"),
                work_dir: root.join("target").join("escape-lab"),
                source_root: root.clone(),
                only: filters,
                ..CheckOptions::default()
            };
            let opts = check.options(defaults).map_err(ArticleError::from)?;
            let (scenarios, info) = commands::gate_scenarios()?;
            Ok(cli::check(&scenarios, info, &opts, check.format).map_err(ArticleError::from)?)
        }
        Some(Command::Diff(args)) => Ok(cli::diff(&args).map_err(ArticleError::from)?),
        Some(Command::Serve(args)) => serve(&args),
        Some(Command::Match(args)) => {
            let opts = MatchOptions {
                input: args.input.choice(),
                variant: args.variant,
                chunk: args.chunk,
                count: args.count,
            };
            commands::match_files(&opts, &mut std::io::stdout().lock())?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Reach(ReachCmd { filters, reach })) => {
            let (scenarios, _) = commands::gate_scenarios()?;
            Ok(cli::reach(&scenarios, &filters, &reach).map_err(ArticleError::from)?)
        }
        Some(Command::List) => {
            commands::list(&mut std::io::stdout().lock())?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn profile(args: &ProfileArgs) -> Result<ExitCode> {
    let out = escape_lab::runner::default_out_dir(Path::new("profiles"));
    let run = args
        .run
        .options(out, PathBuf::from(SOURCE_ROOT))
        .map_err(ArticleError::from)?;
    let which = &args.scenarios;
    let cmd = ProfileCommand {
        input: which.input.choice(),
        variants: which.variants.clone(),
        chunk: which.chunk,
        cases: which.cases,
        run,
    };
    let (scenarios, info, opts) = commands::profile_plan(&cmd)?;
    Ok(cli::profile(&scenarios, info, &opts, args.run.open).map_err(ArticleError::from)?)
}

fn serve(args: &ServeArgs) -> Result<ExitCode> {
    let duration = match args.duration {
        None => None,
        Some(s) if s > 0.0 && Duration::try_from_secs_f64(s).is_ok() => {
            Duration::try_from_secs_f64(s).ok()
        }
        Some(s) => {
            return Err(ArticleError::Usage(format!(
                "--duration {s}: give a number of seconds above 0 (and below 2^64)"
            ))
            .into())
        }
    };
    if !args.measure {
        // From the start, so the workload and the automaton are in the
        // heap profile's in-use figures.
        article::serve::start_sampling(args.rate);
    }
    let which = &args.scenarios;
    let (mut scenarios, _) =
        commands::scenarios(&which.input.choice(), &which.variants, which.chunk)?;
    if which.cases {
        scenarios.extend(article::scenarios::case_scenarios());
    }
    if args.measure {
        let duration = duration.unwrap_or(Duration::from_secs(10));
        let rows = article::measure::measure(&scenarios, args.rate, duration)?;
        article::measure::print_measured(
            &rows,
            args.rate,
            duration,
            &mut std::io::stdout().lock(),
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    let opts = ServeOptions {
        addr: args.addr.clone(),
        rate: args.rate,
        duration,
    };
    let code = article::serve::serve(scenarios, &opts, &mut std::io::stdout())?;
    Ok(ExitCode::from(code))
}
