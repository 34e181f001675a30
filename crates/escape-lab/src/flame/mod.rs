//! Flamegraphs: CPU, allocation and differential flamegraphs drawn with
//! inferno 0.12 from folded stacks (`root;...;leaf count`, one line each).
//!
//! Every SVG escape-lab writes comes from this module, so they all look alike:
//! the CPU pass, the heap pass and `cargo bench -- --profile-time N` feed it
//! folded stacks and get an SVG back. The stacks come from
//! [`crate::pprof::fold`] (CPU, with every sample's own instruction) and
//! [`crate::sites`] (allocations, from dhat). pprof-rs's own `flamegraph`
//! and `criterion` features are not used (the fork, `escape-lab-pprof`,
//! drops them): they pin inferno 0.11 and criterion 0.5, so their SVGs
//! would look unlike ours and the bench profiler could not use criterion 0.8.
//!
//! Output is deterministic: the same folded input gives the same SVG bytes
//! (inferno's `deterministic` option colours a frame by a hash of its name),
//! and folded stacks are sorted.
//!
//! # Example
//!
//! ```
//! let folded = "main;parser::scan 7\nmain;parser::scan;alloc::alloc 3\n";
//! let svg = escape_lab::__private::flame::cpu_svg(folded, "example").unwrap();
//! assert!(svg.contains("parser::scan"));
//!
//! // A scenario without allocations still gets a (small) SVG.
//! let empty = escape_lab::__private::flame::alloc_svg("", "no_alloc", "allocations").unwrap();
//! assert!(empty.contains("no allocations"));
//! ```

use std::io;

use inferno::flamegraph::{self, color::BasicPalette, Palette};

/// What can go wrong while drawing.
///
/// Messages are lowercase, have no trailing period, and name the file
/// involved; the underlying error is the [`source`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FlameError {
    /// inferno could not draw a flamegraph from non-empty input.
    #[error("cannot render the flamegraph `{title}`")]
    Render {
        /// The flamegraph's title.
        title: String,
        /// What inferno said.
        source: io::Error,
    },
}

/// Draws a CPU flamegraph from folded stacks (see [`crate::pprof::fold`]): inferno's
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
