//! Flamegraphs: folding pprof samples into stacks, and rendering CPU,
//! allocation and differential flamegraphs with inferno.
//!
//! Every SVG escape-lab writes comes from this module, so they all look alike:
//! the CPU pass, the heap pass and `cargo bench -- --profile-time N` feed it
//! folded stacks (`root;...;leaf count`, one line each) and get an SVG back.
//!
//! Three choices follow from DESIGN.md's "Known traps":
//!
//! - **pprof's own `flamegraph` and `criterion` features are not used**: they
//!   pin inferno 0.11 and criterion 0.5. [`fold_report`] folds a
//!   [`pprof::Report`] itself, the way pprof's `flamegraph` feature does, and
//!   the SVGs are drawn with inferno 0.12.
//! - **At most 250 Hz**: pprof samples with `setitimer(ITIMER_PROF)`, and this
//!   kernel ticks at 250 Hz. Asking for more gives fewer samples than the
//!   period written into the protobuf claims, and `go tool pprof` then
//!   under-reports CPU time (4× at 1 kHz). [`start_cpu_profiler`] clamps.
//! - **No blocklist**: pprof suggests blocking `libc`, `libgcc`, `pthread` and
//!   `vdso`, which drops every sample taken inside `malloc` and `free`, exactly
//!   the cost this project exists to show.
//!
//! Output is deterministic: the same folded input gives the same SVG bytes
//! (inferno's `deterministic` option colours a frame by a hash of its name),
//! and folded stacks are sorted.
//!
//! # Example
//!
//! ```
//! let folded = "main;parser::scan 7\nmain;parser::scan;alloc::alloc 3\n";
//! let svg = escape_lab::flame::cpu_svg(folded, "example").unwrap();
//! assert!(svg.contains("parser::scan"));
//!
//! // A scenario without allocations still gets a (small) SVG.
//! let empty = escape_lab::flame::alloc_svg("", "no_alloc", "allocations").unwrap();
//! assert!(empty.contains("no allocations"));
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write as _};

use inferno::flamegraph::{self, color::BasicPalette, Palette};

/// The highest sampling frequency [`start_cpu_profiler`] uses: the kernel's
/// tick rate on the machines this project runs on (see the module docs).
pub const MAX_FREQUENCY_HZ: i32 = 250;

/// What can go wrong while profiling or drawing.
///
/// Messages are lowercase, have no trailing period, and name the file
/// involved; the underlying error is the [`source`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FlameError {
    /// pprof refused to start, most often because another profiler is
    /// already running in this process (pprof allows one at a time).
    #[error("cannot start the cpu profiler at {frequency_hz} Hz (only one can run per process)")]
    StartProfiler {
        /// The frequency asked for, after clamping.
        frequency_hz: i32,
        /// What pprof said.
        source: pprof::Error,
    },

    /// pprof could not turn its report into a protobuf profile.
    #[error("cannot build the pprof profile")]
    EncodeProfile {
        /// What pprof said.
        source: pprof::Error,
    },

    /// inferno could not draw a flamegraph from non-empty input.
    #[error("cannot render the flamegraph `{title}`")]
    Render {
        /// The flamegraph's title.
        title: String,
        /// What inferno said.
        source: io::Error,
    },
}

/// Folds a pprof report into folded stacks: one `root;...;leaf count` line
/// per distinct stack, sorted bytewise, identical stacks merged (their counts
/// added), each line ending in `\n`. An empty report gives an empty string.
///
/// Frame names are demangled without their hash (`Symbol::name`), and the
/// frames a call inlined appear as frames of their own, in call order: this
/// is what pprof's own `flamegraph` feature does. A `;` inside a name (as in
/// `[u8; 4]`) becomes `:` so that it cannot split a frame.
///
/// Unlike pprof's feature, the thread name is **not** the root frame: the
/// main thread is named after the executable, whose name carries cargo's
/// hash and changes from build to build, which would make stacks of two
/// builds differ for nothing; every scenario and benchmark runs on one
/// thread, so the name tells nothing either. Stacks start at the outermost
/// frame pprof saw (usually `_start`).
///
/// # Allocation
///
/// The returned string, one `String` per symbol name while folding, and a
/// map of the distinct stacks.
#[must_use]
pub fn fold_report(report: &pprof::Report) -> String {
    let mut stacks: BTreeMap<String, u64> = BTreeMap::new();
    let mut line = String::new();
    for (frames, &count) in &report.data {
        let Ok(count) = u64::try_from(count) else {
            continue;
        };
        if count == 0 {
            continue;
        }
        line.clear();
        // `frames.frames` is leaf first; each inner vector holds the symbols
        // of one instruction address, the innermost inlined function first.
        // Reversing both gives root-first call order.
        for frame in frames.frames.iter().rev() {
            for symbol in frame.iter().rev() {
                if !line.is_empty() {
                    line.push(';');
                }
                push_frame_name(&mut line, &symbol.name());
            }
        }
        if line.is_empty() {
            continue;
        }
        match stacks.get_mut(line.as_str()) {
            Some(n) => *n += count,
            None => {
                stacks.insert(line.clone(), count);
            }
        }
    }
    let mut out = String::new();
    for (stack, count) in &stacks {
        let _ = writeln!(out, "{stack} {count}");
    }
    out
}

/// Encodes `report` as a gzip-compressed pprof protobuf (`profile.proto`),
/// the format `go tool pprof` and the pprof web UI read. The gzip header
/// carries no time stamp.
///
/// # Allocation
///
/// The protobuf (with its string table) and its compressed copy.
///
/// # Errors
///
/// [`FlameError::EncodeProfile`] when pprof cannot build the profile.
pub fn pprof_gz(report: &pprof::Report) -> Result<Vec<u8>, FlameError> {
    use pprof::protos::Message as _;

    let profile = report
        .pprof()
        .map_err(|source| FlameError::EncodeProfile { source })?;
    Ok(gzip(&profile.encode_to_vec()))
}

/// Compresses `raw` with gzip, no time stamp in the header.
///
/// # Allocation
///
/// The compressed copy.
#[must_use]
pub fn gzip(raw: &[u8]) -> Vec<u8> {
    let mut gz = flate2::GzBuilder::new().mtime(0).write(
        Vec::with_capacity(raw.len() / 4 + 64),
        flate2::Compression::default(),
    );
    // Writing into a Vec cannot fail.
    let _ = gz.write_all(raw);
    gz.finish().unwrap_or_default()
}

/// Draws a CPU flamegraph from folded stacks (see [`fold_report`]): inferno's
/// "hot" palette, colours chosen by a hash of each frame's name, widths
/// counted in `samples`.
///
/// Input without any sample gives a small valid SVG that says "no samples"
/// under the title, so that every scenario has a file.
///
/// # Allocation
///
/// The SVG, and inferno's working copies of the stacks.
///
/// # Errors
///
/// [`FlameError::Render`] if inferno fails on non-empty input.
pub fn cpu_svg(folded: &str, title: &str) -> Result<String, FlameError> {
    if total_count(folded) == 0 {
        return Ok(placeholder_svg(title, "no samples"));
    }
    let mut options = base_options(title, "samples");
    options.colors = Palette::Basic(BasicPalette::Hot);
    render(&mut options, folded.lines(), title)
}

/// Draws an allocation flamegraph from folded stacks whose counts are bytes
/// or allocations, as `count_name` says (`"bytes"` or `"allocations"`): the
/// memory palette (greens and blues), hash-based colours.
///
/// Input without any allocation gives a small valid SVG that says "no
/// allocations": a zero-allocation scenario still gets its file.
///
/// # Allocation
///
/// The SVG, and inferno's working copies of the stacks.
///
/// # Errors
///
/// [`FlameError::Render`] if inferno fails on non-empty input.
pub fn alloc_svg(folded: &str, title: &str, count_name: &str) -> Result<String, FlameError> {
    if total_count(folded) == 0 {
        return Ok(placeholder_svg(title, "no allocations"));
    }
    let mut options = base_options(title, count_name);
    options.colors = Palette::Basic(BasicPalette::Mem);
    render(&mut options, folded.lines(), title)
}

/// Draws a differential allocation flamegraph from `before` to `after`, both
/// folded stacks counted in `count_name`.
///
/// Frames are drawn at their width in `before`, and coloured by the change:
/// blue where `after` has less (a stack that vanished is deep blue), red
/// where it has more, white where nothing changed. This is Brendan Gregg's
/// "negated" differential (`difffolded after before | flamegraph --negate`):
/// drawing at `after`'s widths instead would leave out exactly the stacks a
/// fix removed, which is what this graph is for. Stacks that appear only in
/// `after` have no width in `before` and are not drawn; look at `after`'s own
/// flamegraph for them.
///
/// When `before` has nothing, the result is a small valid SVG saying so.
///
/// # Allocation
///
/// The SVG, the merged two-column stacks, and inferno's working copies.
///
/// # Errors
///
/// [`FlameError::Render`] if inferno fails on non-empty input.
pub fn diff_svg(
    before: &str,
    after: &str,
    title: &str,
    count_name: &str,
) -> Result<String, FlameError> {
    if total_count(before) == 0 {
        return Ok(placeholder_svg(
            title,
            "no allocations before: nothing to compare",
        ));
    }
    let render_err = |source| FlameError::Render {
        title: title.to_owned(),
        source,
    };
    // inferno's differential folding draws the second profile and colours
    // by (second - first); giving it (after, before) draws `before`, and
    // `negate_differentials` turns the colour back into (after - before).
    let mut merged = Vec::new();
    inferno::differential::from_readers(
        inferno::differential::Options::default(),
        after.as_bytes(),
        before.as_bytes(),
        &mut merged,
    )
    .map_err(render_err)?;
    let merged = String::from_utf8_lossy(&merged);
    let mut options = base_options(title, count_name);
    options.negate_differentials = true;
    render(&mut options, merged.lines(), title)
}

/// Starts pprof's CPU sampler for this process with the project's settings
/// and returns the guard that stops it when dropped; build its report with
/// `guard.report().build()`.
///
/// `frequency_hz` is clamped to `1..=`[`MAX_FREQUENCY_HZ`] (250): the kernel
/// ticks at 250 Hz, and a higher rate would mislabel the protobuf's sampling
/// period (see the module docs). No library is blocklisted, so samples inside
/// `malloc` and `free` are kept.
///
/// pprof samples every thread of the process, and allows one profiler at a
/// time: a second call while a guard is alive fails.
///
/// # Allocation
///
/// pprof's sample table and its first backtrace (to resolve lazily loaded
/// symbols) are set up here. The signal handler itself does not allocate.
///
/// # Errors
///
/// [`FlameError::StartProfiler`] when pprof cannot start, most often because
/// another guard is alive.
pub fn start_cpu_profiler(frequency_hz: i32) -> Result<pprof::ProfilerGuard<'static>, FlameError> {
    let frequency_hz = frequency_hz.clamp(1, MAX_FREQUENCY_HZ);
    pprof::ProfilerGuardBuilder::default()
        .frequency(frequency_hz)
        .build()
        .map_err(|source| FlameError::StartProfiler {
            frequency_hz,
            source,
        })
}

// Maintainers: everything below is private plumbing.

// Options shared by every graph: deterministic colours, a title, the unit.
fn base_options<'a>(title: &str, count_name: &str) -> flamegraph::Options<'a> {
    let mut options = flamegraph::Options::default();
    title.clone_into(&mut options.title);
    count_name.clone_into(&mut options.count_name);
    options.deterministic = true;
    options
}

fn render<'a>(
    options: &mut flamegraph::Options<'_>,
    lines: impl IntoIterator<Item = &'a str>,
    title: &str,
) -> Result<String, FlameError> {
    let mut svg = Vec::new();
    flamegraph::from_lines(options, lines, &mut svg).map_err(|source| FlameError::Render {
        title: title.to_owned(),
        source,
    })?;
    String::from_utf8(svg).map_err(|e| FlameError::Render {
        title: title.to_owned(),
        source: io::Error::new(io::ErrorKind::InvalidData, e),
    })
}

// Appends one frame name, keeping `;` (the frame separator) out of it.
fn push_frame_name(line: &mut String, name: &str) {
    line.extend(name.chars().map(|c| if c == ';' { ':' } else { c }));
}

// The sum of the counts of folded lines (the last field of each; lines that
// do not parse count as zero, as inferno ignores them). Decides whether a
// graph would be empty, which inferno reports as an error.
fn total_count(folded: &str) -> u64 {
    folded
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("# "))
        .filter_map(|l| l.rsplit_once(' '))
        .filter_map(|(_, n)| n.split('.').next()?.parse::<u64>().ok())
        .fold(0u64, u64::saturating_add)
}

// A small, valid SVG with a title and one line of text, for graphs that have
// nothing to draw.
fn placeholder_svg(title: &str, message: &str) -> String {
    format!(
        concat!(
            r#"<?xml version="1.0" standalone="no"?>"#,
            "\n",
            r#"<svg version="1.1" width="1200" height="72" viewBox="0 0 1200 72" "#,
            r#"xmlns="http://www.w3.org/2000/svg">"#,
            r##"<rect x="0" y="0" width="100%" height="100%" fill="#eeeeee"/>"##,
            r#"<text x="600" y="24" text-anchor="middle" font-family="Verdana" "#,
            r#"font-size="17">{}</text>"#,
            r#"<text x="600" y="54" text-anchor="middle" font-family="Verdana" "#,
            r#"font-size="14">{}</text></svg>"#,
            "\n"
        ),
        crate::fmt::xml(title),
        crate::fmt::xml(message)
    )
}

#[cfg(test)]
mod tests;
