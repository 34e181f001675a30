//! Source listings, the `go tool pprof -list` of escape-lab: the hottest
//! functions with each line of their span and its cost, as plain text.
//!
//! Two steps: [`line_costs`] reads per-line costs out of a profile (or a
//! caller builds [`LineCost`]s itself), and [`listing`] prints the top
//! functions. Output is deterministic: fixed order (cost, then name), no
//! time, no absolute path for files under the source root (std's files show
//! as `library/...`).
//!
//! # Flat and cum
//!
//! As in pprof, every line has two figures per value:
//!
//! - **flat**: the cost *charged to this line*. With [`FlatAt::Leaf`] that
//!   is pprof's flat: the innermost frame of the sample (right for CPU time,
//!   where a line of `std` inlined into your loop is where the time went).
//!   With [`FlatAt::FirstOwn`] it is the first frame, from the leaf, in the
//!   source root's files (the allocation *site*, as `sites.txt` counts it):
//!   an allocation made by `Box::new` inside `find` is charged to the line
//!   of `find` that calls it. Functions are ranked by flat.
//! - **cum**: the cost of every sample whose stack passes through the line
//!   (once per sample, however often the line appears in it).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use super::source::SourceIndex;
use crate::fmt::group_signed as group_i128;

pub use super::costs::{line_costs, FlatAt, LineCost};

/// How figures are shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Figures {
    /// Each value divided by this many calls, one decimal
    /// (`1,323.9`): allocation listings.
    PerCall {
        /// Measured calls the costs were summed over (at least 1 is used).
        calls: u64,
    },
    /// Each value as a percentage of its total (`12.34%`): CPU listings.
    ShareOfTotal {
        /// The totals, one per value (e.g. all samples of the profile).
        totals: Vec<i64>,
    },
}

/// What to list and how.
#[derive(Clone, Debug)]
pub struct ListingOptions<'a> {
    /// The first line of the listing.
    pub title: &'a str,
    /// One short name per value, for headers (`["allocs", "bytes"]`,
    /// `["samples"]`).
    pub value_names: &'a [&'a str],
    /// How figures are shown.
    pub figures: Figures,
    /// How many functions per value to rank; the listing shows the union,
    /// each function once.
    pub top: usize,
    /// Lines of source shown before the first and after the last line with
    /// a cost.
    pub context: u32,
    /// Gaps longer than this between lines with costs are elided (`...`).
    pub max_gap: u32,
    /// Finds and displays the files.
    pub sources: &'a SourceIndex,
    /// Lines printed after the title (what flat means, where figures come
    /// from).
    pub legend: &'a [&'a str],
}

/// The listing of the top functions of `costs` (see the module docs):
/// rankings by flat cost for each value, then each function's lines, from
/// `context` lines before its first costed line to `context` after its last,
/// with flat and cum figures. Files are read through `options.sources`;
/// a file that cannot be found (std without `rust-src`, a file from another
/// machine) is named, and only its costed lines are shown, without text.
///
/// # Allocation
///
/// The returned string, the costs grouped per function, and each listed
/// file's text while it is printed.
#[must_use]
pub fn listing(costs: &[LineCost], options: &ListingOptions<'_>) -> String {
    let nv = options.value_names.len();
    let mut out = String::new();
    let _ = writeln!(out, "{}", options.title);
    match &options.figures {
        Figures::PerCall { calls } => {
            let _ = writeln!(
                out,
                "Figures per call, over {} calls.",
                group(*calls as i64)
            );
        }
        Figures::ShareOfTotal { totals } => {
            let t: Vec<String> = totals
                .iter()
                .zip(options.value_names)
                .map(|(t, n)| format!("{} {n}", group(*t)))
                .collect();
            let _ = writeln!(out, "Figures in % of the total: {}.", t.join(", "));
        }
    }
    for l in options.legend {
        let _ = writeln!(out, "{l}");
    }

    // (function, file) → lines
    let mut functions: BTreeMap<(&str, &str), Vec<&LineCost>> = BTreeMap::new();
    for c in costs {
        functions
            .entry((c.function.as_str(), c.file.as_str()))
            .or_default()
            .push(c);
    }
    let flat_total = |lines: &[&LineCost], v: usize| -> i64 {
        lines
            .iter()
            .map(|c| c.flat.get(v).copied().unwrap_or(0))
            .fold(0i64, i64::saturating_add)
    };

    let mut chosen: Vec<(&str, &str)> = Vec::new();
    for (v, name) in options.value_names.iter().enumerate() {
        let mut ranked: Vec<((&str, &str), i64)> = functions
            .iter()
            .map(|(k, lines)| (*k, flat_total(lines, v)))
            .filter(|&(_, t)| t > 0)
            .collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.truncate(options.top);
        let _ = writeln!(out, "\nTop {} functions by {name} (flat):", options.top);
        if ranked.is_empty() {
            let _ = writeln!(out, "  (none)");
        }
        for (k, t) in &ranked {
            let _ = writeln!(
                out,
                "  {:>12}  {} ({})",
                figure(&options.figures, v, *t),
                k.0,
                display_file(options.sources, k.1)
            );
            if !chosen.contains(k) {
                chosen.push(*k);
            }
        }
    }

    for key in &chosen {
        let Some(lines) = functions.get(key) else {
            continue;
        };
        write_routine(&mut out, key.0, key.1, lines, nv, options);
    }
    out
}

fn write_routine(
    out: &mut String,
    function: &str,
    file: &str,
    lines: &[&LineCost],
    nv: usize,
    options: &ListingOptions<'_>,
) {
    let shown = display_file(options.sources, file);
    let _ = writeln!(
        out,
        "\nROUTINE ======================== {function} in {shown}"
    );
    let mut totals = String::new();
    for v in 0..nv {
        let flat = lines
            .iter()
            .map(|c| c.flat.get(v).copied().unwrap_or(0))
            .fold(0i64, i64::saturating_add);
        let _ = write!(
            totals,
            "{}{} {}",
            if v == 0 { "" } else { ", " },
            figure(&options.figures, v, flat),
            options.value_names[v]
        );
    }
    let _ = writeln!(out, "  flat: {totals}");
    let mut header = String::new();
    for kind in ["flat", "cum"] {
        for name in options.value_names {
            let _ = write!(header, "{:>W$}", format!("{kind} {name}"));
        }
    }
    let _ = writeln!(out, "{header}  {:>6}", "line");

    let by_line: BTreeMap<u32, &LineCost> = lines.iter().map(|c| (c.line, *c)).collect();
    let (Some(&first), Some(&last)) = (by_line.keys().next(), by_line.keys().next_back()) else {
        return;
    };
    let text = options
        .sources
        .resolve(file, function)
        .and_then(|p| read_lines(&p));
    let Some(text) = text else {
        let why = if file.is_empty() {
            "no source file recorded".to_owned()
        } else if file.starts_with("/rustc/") {
            format!("{shown} not found: install rust-src (rustup component add rust-src) to see std's sources")
        } else {
            format!("{shown} not found")
        };
        let _ = writeln!(out, "  ({why})");
        for (line, c) in &by_line {
            let _ = writeln!(out, "{}  {line:>6}", columns(c, nv, &options.figures));
        }
        return;
    };
    let start = first.saturating_sub(options.context).max(1);
    let end = last
        .saturating_add(options.context)
        .min(u32::try_from(text.len()).unwrap_or(u32::MAX))
        .max(last);
    let text_len = u32::try_from(text.len()).unwrap_or(u32::MAX);
    let mut previous_costed = first;
    let mut line = start;
    while line <= end {
        // Past the end of the file (a stale source, a bogus line number)
        // only costed lines are shown.
        if line > text_len && !by_line.contains_key(&line) {
            let Some((&next, _)) = by_line.range(line..).next() else {
                break;
            };
            let _ = writeln!(out, "{:>w$}  {:>6}", "", "...", w = 2 * W * nv);
            line = next;
            continue;
        }
        // Elide a long run of lines without cost between two costed ones.
        if !by_line.contains_key(&line) && line > first && line < last {
            let next = by_line.range(line..).next().map_or(last, |(l, _)| *l);
            let min_gap = options.context.saturating_mul(2).saturating_add(1);
            if next - previous_costed > options.max_gap.max(min_gap) {
                let resume = next.saturating_sub(options.context);
                if resume > line
                    && line.saturating_add(options.context) <= resume
                    && line > previous_costed.saturating_add(options.context)
                {
                    let _ = writeln!(out, "{:>w$}  {:>6}", "", "...", w = 2 * W * nv);
                    line = resume;
                    continue;
                }
            }
        }
        let src = (line as usize)
            .checked_sub(1)
            .and_then(|i| text.get(i))
            .map_or("", |s| s.as_str());
        let cols = match by_line.get(&line) {
            Some(c) => {
                previous_costed = line;
                columns(c, nv, &options.figures)
            }
            None => {
                let mut s = String::new();
                for _ in 0..2 * nv {
                    let _ = write!(s, "{:>W$}", ".");
                }
                s
            }
        };
        let _ = writeln!(out, "{cols}  {line:>6}  {}", src.trim_end());
        let Some(next_line) = line.checked_add(1) else {
            break;
        };
        line = next_line;
    }
}

/// Width of one figure column.
const W: usize = 13;

fn columns(c: &LineCost, nv: usize, figures: &Figures) -> String {
    let mut s = String::new();
    for values in [&c.flat, &c.cum] {
        for v in 0..nv {
            let x = values.get(v).copied().unwrap_or(0);
            let _ = write!(
                s,
                "{:>W$}",
                if x == 0 {
                    ".".to_owned()
                } else {
                    figure(figures, v, x)
                }
            );
        }
    }
    s
}

fn display_file(sources: &SourceIndex, file: &str) -> String {
    if file.is_empty() {
        "?".to_owned()
    } else {
        sources.display(file)
    }
}

fn read_lines(path: &Path) -> Option<Vec<String>> {
    let text = std::fs::read(path).ok()?;
    Some(
        String::from_utf8_lossy(&text)
            .lines()
            .map(str::to_owned)
            .collect(),
    )
}

/// One figure: per call with one decimal, or a share with two.
fn figure(figures: &Figures, v: usize, x: i64) -> String {
    match figures {
        Figures::PerCall { calls } => {
            let calls = (*calls).max(1) as i128;
            // Tenths, rounded half away from zero, in integers.
            let tenths = (i128::from(x) * 10 * 2 + calls * x.signum() as i128) / (2 * calls);
            let whole = tenths / 10;
            let frac = (tenths % 10).abs();
            let sign = if tenths < 0 && whole == 0 { "-" } else { "" };
            format!("{sign}{}.{frac}", group_i128(whole))
        }
        Figures::ShareOfTotal { totals } => {
            let t = totals.get(v).copied().unwrap_or(0);
            if t <= 0 {
                return "?".to_owned();
            }
            let hundredths = (i128::from(x) * 10_000 * 2 + i128::from(t)) / (2 * i128::from(t));
            format!("{}.{:02}%", hundredths / 100, (hundredths % 100).abs())
        }
    }
}

fn group(x: i64) -> String {
    group_i128(i128::from(x))
}

#[cfg(test)]
#[path = "listing_tests.rs"]
mod tests;
