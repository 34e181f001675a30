//! The article's commands: `profile` and `check` over its scenario sets,
//! `match` and `list`, and choosing a workload.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Arc;

use acmatch::{chunks, Automaton, Cursor, Matcher, Variant};
use escape_lab::runner::ProfileOptions;
use escape_lab::Scenario;
use escape_lab::WorkloadInfo;
use workload::{Builtin, Workload};

use crate::scenarios::{self, case_scenarios, variant_scenarios, workload_info};
use crate::ArticleError;

/// Where a command's workload comes from.
#[derive(Clone, Debug, Default)]
pub struct WorkloadChoice {
    /// A built-in workload by name. Default: `synthetic-en`.
    pub workload: Option<String>,
    /// A pattern file (with `haystack`). Default: none.
    pub patterns: Option<PathBuf>,
    /// A haystack file (with `patterns`). Default: none.
    pub haystack: Option<PathBuf>,
    /// Folder of the article data. Default: `ESCAPE_LAB_DATA`.
    pub data_dir: Option<PathBuf>,
    /// The most bytes read from one input file. Default:
    /// [`DEFAULT_MAX_INPUT_BYTES`] (when 0).
    pub max_input_bytes: u64,
}

/// The default limit on one input file: 1 GiB, far above any dictionary or
/// text this matcher is meant for, and far below an endless `/dev/zero`.
pub const DEFAULT_MAX_INPUT_BYTES: u64 = 1 << 30;

impl WorkloadChoice {
    /// Loads the chosen workload. Pattern and haystack files are read once,
    /// whatever they are (a file, a pipe, `/dev/stdin`, a FIFO), through
    /// [`escape_lab::__private::input::stage`]: a profile's children get the same
    /// bytes.
    ///
    /// # Errors
    ///
    /// [`ArticleError::Usage`] for a half-given file pair, both a workload
    /// and files, or an unknown name; [`ArticleError::Workload`] when it
    /// cannot be loaded; [`ArticleError::Lab`] for an input that cannot be
    /// read or is over the limit.
    ///
    /// # Allocation
    ///
    /// The workload.
    pub fn load(&self) -> Result<Workload, ArticleError> {
        match (&self.patterns, &self.haystack, &self.workload) {
            (Some(_), Some(_), Some(name)) => Err(ArticleError::Usage(format!(
                "give either --workload {name} or --patterns/--haystack, not both"
            ))),
            (Some(p), Some(h), None) => {
                let limit = match self.max_input_bytes {
                    0 => DEFAULT_MAX_INPUT_BYTES,
                    n => n,
                };
                let read = |name: &str, path: &PathBuf| {
                    escape_lab::__private::input::stage(name, || {
                        escape_lab::__private::input::read_limited(path, limit)
                    })
                    .map_err(|e| ArticleError::Lab(e.into()))
                };
                let pattern_text = read("patterns", p)?;
                let haystack = read("haystack", h)?;
                Ok(workload::from_bytes(
                    &pattern_text,
                    p,
                    haystack.to_vec(),
                    h,
                )?)
            }
            (Some(_), None, _) => Err(ArticleError::Usage(
                "--patterns needs --haystack (the text to search)".into(),
            )),
            (None, Some(_), _) => Err(ArticleError::Usage(
                "--haystack needs --patterns (the dictionary, one pattern a line)".into(),
            )),
            (None, None, name) => {
                let which = match name {
                    None => Builtin::DEFAULT,
                    Some(n) => n.parse::<Builtin>()?,
                };
                Ok(workload::load_builtin(which, self.data_dir.as_deref())?)
            }
        }
    }
}

/// Options of `escape-lab match`.
#[derive(Clone, Debug)]
pub struct MatchOptions {
    /// The workload.
    pub input: WorkloadChoice,
    /// The variant that matches. Default: `callback`.
    pub variant: Variant,
    /// Bytes per call, 0 for the whole haystack. Default: 2,048.
    pub chunk: usize,
    /// Print only the number of matches. Default: false.
    pub count: bool,
}

/// `escape-lab match`: every match as a `start\tend\tpattern_id` line, or
/// with `count` the number of matches alone, for scripts. Returns the number
/// of matches.
///
/// A closed output (`| head`) ends the listing quietly. When a call fails
/// (`fixed` with a chunk whose matches do not fit its buffers), the lines of
/// the calls before it have been written and none of its own, and the error
/// says which call.
///
/// # Errors
///
/// The workload's and the automaton's errors (exit 2), a variant's buffer
/// running full ([`ArticleError::Match`], exit 1), and a failed write.
///
/// # Allocation
///
/// The workload, the automaton and the matcher; the output is buffered.
pub fn match_files(opts: &MatchOptions, out: &mut dyn Write) -> Result<u64, ArticleError> {
    let w = opts.input.load()?;
    let ac = Automaton::new(&w.patterns).map_err(|source| ArticleError::Build {
        context: w.description.clone(),
        source,
    })?;
    let mut matcher = opts.variant.matcher();
    let mut cursor = Cursor::new();
    let mut out = io::BufWriter::new(out);
    let mut total = 0u64;
    // One call's lines are written only when the call succeeded: a failing
    // call adds nothing to the listing.
    let mut lines = String::new();
    for (call, piece) in chunks(&w.haystack, opts.chunk).enumerate() {
        lines.clear();
        let result = matcher.find_chunk(&ac, &mut cursor, piece, |m| {
            if !opts.count {
                let _ = writeln!(lines, "{}\t{}\t{}", m.start, m.end, m.pattern);
            }
        });
        let n = match result {
            Ok(n) => n,
            Err(error) => {
                let _ = out.flush();
                return Err(ArticleError::Match {
                    variant: opts.variant,
                    call: call + 1,
                    chunk: opts.chunk,
                    error,
                });
            }
        };
        total += n as u64;
        if let Err(e) = out.write_all(lines.as_bytes()) {
            return quiet_on_broken_pipe(e, total);
        }
    }
    if opts.count {
        if let Err(e) = writeln!(out, "{total}") {
            return quiet_on_broken_pipe(e, total);
        }
    }
    match out.flush() {
        Ok(()) => Ok(total),
        Err(e) => quiet_on_broken_pipe(e, total),
    }
}

fn quiet_on_broken_pipe(e: io::Error, total: u64) -> Result<u64, ArticleError> {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Ok(total)
    } else {
        Err(ArticleError::Output(e))
    }
}

/// `escape-lab list`: variants, case studies and workloads, one line each.
///
/// # Errors
///
/// A failed write.
///
/// # Allocation
///
/// The lines.
pub fn list(out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "variants:")?;
    for v in Variant::ALL {
        writeln!(out, "  {:<12} {}", v.name(), v.description())?;
    }
    writeln!(
        out,
        "case studies (profile --cases; scenarios named <case>.<form>):"
    )?;
    for case in cases::all() {
        writeln!(out, "  {:<12} {}", case.name, case.title)?;
        writeln!(out, "  {:<12}   Go:   {}", "", case.go)?;
        writeln!(out, "  {:<12}   Rust: {}", "", case.rust)?;
        for form in case.forms {
            let name = format!("{}.{}", case.name, form.name);
            writeln!(out, "  {:<12}   - {name}: {}", "", form.description)?;
        }
    }
    writeln!(
        out,
        "workloads (--workload NAME, or --patterns FILE --haystack FILE):"
    )?;
    for b in Builtin::ALL {
        writeln!(out, "  {:<12} {}", b.name(), b.description())?;
    }
    Ok(())
}

/// Options of `escape-lab profile` beyond the run's own.
#[derive(Clone, Debug)]
pub struct ProfileCommand {
    /// The workload of the variant scenarios.
    pub input: WorkloadChoice,
    /// Which variants. Default: all.
    pub variants: Vec<Variant>,
    /// Bytes per call, 0 for the whole haystack. Default: 2,048.
    pub chunk: usize,
    /// Also run every case study (`<case>.<form>`). Default: false.
    pub cases: bool,
    /// The run's options.
    pub run: ProfileOptions,
}

/// The scenarios a command line names: one per chosen variant on the chosen
/// workload (each variant once, in [`Variant::ALL`] order), and what
/// `summary.json` says about the workload.
///
/// # Errors
///
/// The workload's.
///
/// # Allocation
///
/// The workload and the scenarios.
pub fn scenarios(
    input: &WorkloadChoice,
    variants: &[Variant],
    chunk: usize,
) -> Result<(Vec<Scenario>, WorkloadInfo), ArticleError> {
    // A child that runs a case study needs no workload: do not build one
    // (under valgrind that alone would take a second).
    if let Some(name) = escape_lab::__private::pass::child_scenario() {
        if !Variant::ALL.iter().any(|v| v.name() == name) {
            return Ok((Vec::new(), WorkloadInfo::default()));
        }
    }
    let w = Arc::new(input.load()?);
    let chosen: Vec<Variant> = if variants.is_empty() {
        Variant::ALL.to_vec()
    } else {
        Variant::ALL
            .into_iter()
            .filter(|v| variants.contains(v))
            .collect()
    };
    let info = workload_info(&w, chunk);
    Ok((variant_scenarios(&w, chunk, &chosen), info))
}

/// What `escape-lab profile` runs: the scenarios of the command line, the
/// workload, and the run's options with `boxed` against `fixed` drawn as
/// what the fix removed.
///
/// # Errors
///
/// As [`scenarios()`].
///
/// # Allocation
///
/// The workload and the scenarios.
pub fn profile_plan(
    cmd: &ProfileCommand,
) -> Result<(Vec<Scenario>, WorkloadInfo, ProfileOptions), ArticleError> {
    let (mut scenarios, info) = scenarios(&cmd.input, &cmd.variants, cmd.chunk)?;
    if cmd.cases {
        scenarios.extend(case_scenarios());
    }
    let mut run = cmd.run.clone();
    let (before, after) = scenarios::FIX;
    run.compare = vec![(before.to_string(), after.to_string())];
    Ok((scenarios, info, run))
}

/// The scenarios the gate measures: every variant on the default workload
/// (`synthetic-en`, generated, so the same on every machine) in
/// [`acmatch::DEFAULT_CHUNK`] calls, and every case study.
///
/// # Errors
///
/// The workload's (none for a generated one, in practice).
///
/// # Allocation
///
/// The workload and the scenarios.
pub fn gate_scenarios() -> Result<(Vec<Scenario>, WorkloadInfo), ArticleError> {
    let (mut scenarios, info) = scenarios(&WorkloadChoice::default(), &[], acmatch::DEFAULT_CHUNK)?;
    scenarios.extend(case_scenarios());
    Ok((scenarios, info))
}
