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
//! let folded = "main;matcher::scan 7\nmain;matcher::scan;alloc::alloc 3\n";
//! let svg = harness::flame::cpu_svg(folded, "example").unwrap();
//! assert!(svg.contains("matcher::scan"));
//!
//! // A scenario without allocations still gets a (small) SVG.
//! let empty = harness::flame::alloc_svg("", "fixed", "allocations").unwrap();
//! assert!(empty.contains("no allocations"));
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

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
    #[error("cannot build the pprof profile for {}", path.display())]
    EncodeProfile {
        /// The file that was to be written.
        path: PathBuf,
        /// What pprof said.
        source: pprof::Error,
    },

    /// A file could not be written (or compressed).
    #[error("cannot write {}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
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

/// Writes `report` as a gzip-compressed pprof protobuf (`profile.proto`), the
/// format `go tool pprof` and the pprof web UI read, atomically (see
/// [`crate::atomic::write`]). The gzip header carries no time stamp.
///
/// # Allocation
///
/// The protobuf (with its string table) and its compressed copy, in memory.
///
/// # Errors
///
/// [`FlameError::EncodeProfile`] when pprof cannot build the profile, and
/// [`FlameError::Write`] when the file cannot be written; both name `path`.
pub fn write_pprof_gz(report: &pprof::Report, path: &Path) -> Result<(), FlameError> {
    use pprof::protos::Message as _;

    let profile = report.pprof().map_err(|source| FlameError::EncodeProfile {
        path: path.to_owned(),
        source,
    })?;
    let raw = profile.encode_to_vec();
    let write_err = |source| FlameError::Write {
        path: path.to_owned(),
        source,
    };
    let mut gz = flate2::GzBuilder::new().mtime(0).write(
        Vec::with_capacity(raw.len() / 4 + 64),
        flate2::Compression::default(),
    );
    gz.write_all(&raw).map_err(write_err)?;
    let bytes = gz.finish().map_err(write_err)?;
    crate::atomic::write(path, &bytes).map_err(write_err)
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
        xml_escape(title),
        xml_escape(message)
    )
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::hint::black_box;
    use std::time::{Duration, Instant};

    use pprof::{Frames, Report, Symbol};

    use super::*;

    fn symbol(name: &str) -> Symbol {
        Symbol {
            name: Some(name.as_bytes().to_vec()),
            addr: None,
            lineno: None,
            filename: None,
        }
    }

    // A report whose stacks are given root first, one inner list per
    // address (innermost inlined function last), as a reader thinks of them.
    fn report(stacks: &[(&[&[&str]], isize)]) -> Report {
        let mut data = std::collections::HashMap::new();
        for (i, &(stack, count)) in stacks.iter().enumerate() {
            let frames = stack
                .iter()
                .rev()
                .map(|inlined| inlined.iter().rev().map(|n| symbol(n)).collect())
                .collect();
            let key = Frames {
                frames,
                thread_name: "worker".to_owned(),
                // Distinct ids keep equal stacks apart in the map, as they
                // are when two threads sample the same code.
                thread_id: i as u64,
                sample_timestamp: std::time::SystemTime::UNIX_EPOCH,
            };
            data.insert(key, count);
        }
        Report {
            data,
            timing: Default::default(),
        }
    }

    // Parses `svg` as XML and returns all its text, failing on any error.
    fn svg_text(svg: &str) -> String {
        let mut reader = quick_xml::Reader::from_str(svg);
        let mut text = String::new();
        let mut elements = 0;
        loop {
            match reader.read_event() {
                Ok(quick_xml::events::Event::Eof) => break,
                Ok(quick_xml::events::Event::Start(_) | quick_xml::events::Event::Empty(_)) => {
                    elements += 1
                }
                Ok(quick_xml::events::Event::Text(t)) => {
                    text.push_str(&t.decode().expect("text decodes"));
                }
                // quick-xml reports `&lt;` and the like apart from the text.
                Ok(quick_xml::events::Event::GeneralRef(r)) => {
                    let c = match r.resolve_char_ref().expect("valid reference") {
                        Some(c) => c,
                        None => match &*r.decode().expect("reference decodes") {
                            "lt" => '<',
                            "gt" => '>',
                            "amp" => '&',
                            "quot" => '"',
                            "apos" => '\'',
                            other => panic!("unknown entity &{other}; in {svg}"),
                        },
                    };
                    text.push(c);
                }
                Ok(quick_xml::events::Event::End(_)) => text.push('\n'),
                Ok(_) => {}
                Err(e) => panic!("not valid XML at {}: {e}\n{svg}", reader.error_position()),
            }
        }
        assert!(elements > 0, "no element in {svg}");
        assert!(svg.contains("<svg"), "not an SVG: {svg}");
        text
    }

    #[test]
    fn folding_orders_root_first_merges_and_sorts() {
        let r = report(&[
            (&[&["main"], &["run"], &["scan"]], 3),
            (&[&["main"], &["run"], &["scan"]], 4),
            // One address whose symbols are `run` with `helper` inlined.
            (&[&["main"], &["run", "helper"]], 2),
            (&[&["main"], &["alpha"]], 1),
            (&[&["main"], &["[u8; 4]::fmt"]], 1),
            (&[&["main"], &["never"]], 0),
        ]);
        assert_eq!(
            fold_report(&r),
            "main;[u8: 4]::fmt 1\nmain;alpha 1\nmain;run;helper 2\nmain;run;scan 7\n"
        );
        assert_eq!(fold_report(&report(&[])), "");
    }

    #[test]
    fn folding_demangles() {
        let r = report(&[(
            &[&["_ZN3foo3barE"], &["_ZN3foo3baz17h0123456789abcdefE"]],
            5,
        )]);
        assert_eq!(fold_report(&r), "foo::bar;foo::baz 5\n");
    }

    #[test]
    fn svgs_parse_and_name_their_frames() {
        let folded = "main;acmatch::scan 70\nmain;acmatch::scan;alloc::alloc::alloc 30\n";
        for svg in [
            cpu_svg(folded, "cpu <title> & more").unwrap(),
            alloc_svg(folded, "bytes", "bytes").unwrap(),
            alloc_svg(folded, "count", "allocations").unwrap(),
            diff_svg(folded, "main;acmatch::scan 70\n", "diff", "bytes").unwrap(),
        ] {
            let text = svg_text(&svg);
            assert!(text.contains("acmatch::scan"), "{text}");
            assert!(text.contains("alloc::alloc::alloc"), "{text}");
        }
        let cpu = svg_text(&cpu_svg(folded, "cpu <title> & more").unwrap());
        assert!(cpu.contains("cpu <title> & more"), "{cpu}");
        assert!(cpu.contains("samples"), "{cpu}");
        let count = svg_text(&alloc_svg(folded, "count", "allocations").unwrap());
        assert!(count.contains("30 allocations"), "{count}");
    }

    #[test]
    fn empty_input_gives_a_valid_svg_that_says_so() {
        let cases = [
            (cpu_svg("", "idle").unwrap(), "no samples"),
            (cpu_svg("main 0\n", "idle").unwrap(), "no samples"),
            (
                alloc_svg("", "fixed & <co>", "bytes").unwrap(),
                "no allocations",
            ),
            (
                alloc_svg("\n\n", "fixed", "allocations").unwrap(),
                "no allocations",
            ),
            (
                diff_svg("", "", "fixed", "bytes").unwrap(),
                "no allocations",
            ),
            (
                diff_svg("", "main;x 3\n", "fixed", "bytes").unwrap(),
                "no allocations",
            ),
        ];
        for (svg, message) in cases {
            let text = svg_text(&svg);
            assert!(text.contains(message), "{text}");
        }
        let text = svg_text(&alloc_svg("", "fixed & <co>", "bytes").unwrap());
        assert!(text.contains("fixed & <co>"), "{text}");
    }

    #[test]
    fn diff_draws_a_stack_present_only_before() {
        let before = "main;boxed::find;alloc::boxed::Box::new 1000\nmain;scan 500\n";
        let after = "main;scan 500\n";
        let svg = diff_svg(before, after, "boxed to fixed", "bytes").unwrap();
        let text = svg_text(&svg);
        assert!(text.contains("alloc::boxed::Box::new"), "{text}");
        assert!(text.contains("boxed::find"), "{text}");
        // The vanished stack is shown as a decrease of all of it.
        assert!(text.contains("-66.67%"), "{text}");
    }

    #[test]
    fn output_is_deterministic() {
        let folded = "main;a;b 3\nmain;a;c 5\nmain;d 1\n";
        assert_eq!(cpu_svg(folded, "t").unwrap(), cpu_svg(folded, "t").unwrap());
        assert_eq!(
            alloc_svg(folded, "t", "bytes").unwrap(),
            alloc_svg(folded, "t", "bytes").unwrap()
        );
        assert_eq!(
            diff_svg(folded, "main;d 1\n", "t", "bytes").unwrap(),
            diff_svg(folded, "main;d 1\n", "t", "bytes").unwrap()
        );
    }

    #[test]
    fn errors_are_send_sync_and_name_files() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<FlameError>();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing-dir").join("cpu.pb.gz");
        let err = write_pprof_gz(&report(&[(&[&["main"]], 1)]), &path).unwrap_err();
        assert!(matches!(err, FlameError::Write { .. }), "{err:?}");
        assert!(err.to_string().contains("missing-dir"), "{err}");
    }

    #[test]
    fn pprof_file_is_gzip_of_a_profile() {
        use pprof::protos::Message as _;
        use std::io::Read as _;

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cpu.pb.gz");
        write_pprof_gz(&report(&[(&[&["main"], &["scan"]], 4)]), &path).unwrap();
        let mut raw = Vec::new();
        flate2::read::GzDecoder::new(std::fs::File::open(&path).unwrap())
            .read_to_end(&mut raw)
            .unwrap();
        let profile = pprof::protos::Profile::decode(raw.as_slice()).unwrap();
        assert_eq!(profile.sample.len(), 1);
        assert_eq!(profile.sample[0].value[0], 4);
        assert!(profile.string_table.iter().any(|s| s == "scan"));
    }

    // Burns CPU in a function whose name the samples must show.
    #[inline(never)]
    fn flame_test_spin_loop(until: Instant) -> u64 {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        while Instant::now() < until {
            for _ in 0..10_000 {
                x = black_box(x.rotate_left(5) ^ 0x2545_F491_4F6C_DD1D).wrapping_mul(3);
            }
        }
        x
    }

    #[test]
    fn real_profile_shows_the_spinning_function() {
        let guard = start_cpu_profiler(10_000).expect("profiler starts");
        black_box(flame_test_spin_loop(
            Instant::now() + Duration::from_millis(300),
        ));
        let report = guard.report().build().expect("report builds");
        drop(guard);
        assert_eq!(report.timing.frequency, MAX_FREQUENCY_HZ, "clamped");
        let folded = fold_report(&report);
        let spinning = folded
            .lines()
            .filter(|l| l.contains("flame_test_spin_loop"))
            .count();
        assert!(spinning > 0, "no sample in the spin loop:\n{folded}");
        let svg = cpu_svg(&folded, "spin").unwrap();
        assert!(svg_text(&svg).contains("flame_test_spin_loop"));
    }
}
