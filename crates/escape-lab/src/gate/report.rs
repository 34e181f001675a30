//! The check's report in three formats: `text` for a terminal, `markdown`
//! for a CI job summary or a pull-request comment (GitHub:
//! `$GITHUB_STEP_SUMMARY`), `json` for scripts. All three are deterministic
//! for a given outcome.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::fmt::{group, markdown_cell, per_call};
use crate::gate::baseline::{BaselineEntry, RUSTC_VERSION};
use crate::gate::check::{fails, CheckOutcome, Row, Verdict};

/// A report format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// A table and verdict lines for a terminal.
    #[default]
    Text,
    /// GitHub-flavoured Markdown, changed scenarios first.
    Markdown,
    /// JSON, one object.
    Json,
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Format, String> {
        match s {
            "text" => Ok(Format::Text),
            "markdown" | "md" => Ok(Format::Markdown),
            "json" => Ok(Format::Json),
            other => Err(format!("unknown format {other:?} (text, markdown or json)")),
        }
    }
}

/// The report of `outcome` against the baseline at `baseline`.
///
/// # Allocation
///
/// The returned `String`.
#[must_use]
pub fn render(outcome: &CheckOutcome, baseline: &Path, format: Format) -> String {
    // Relative to the current folder where it is under it: a report pasted
    // into a pull request does not carry the machine's absolute paths.
    let relative = std::env::current_dir()
        .ok()
        .and_then(|cwd| baseline.strip_prefix(cwd).ok().map(Path::to_path_buf));
    let baseline = relative.as_deref().unwrap_or(baseline);
    match format {
        Format::Text => text(outcome, baseline),
        Format::Markdown => markdown(outcome, baseline),
        Format::Json => json(outcome, baseline),
    }
}

fn verdict_word(v: &Verdict) -> String {
    match v {
        Verdict::Same => "same".to_string(),
        Verdict::Better => "better".to_string(),
        Verdict::Worse => "REGRESSION".to_string(),
        Verdict::New => "NEW: not in the baseline".to_string(),
        Verdict::Missing => "MISSING: in the baseline, not measured".to_string(),
        Verdict::Failed(e) => format!("FAILED: {}", crate::fmt::headline(e)),
    }
}

fn cell(e: Option<&BaselineEntry>) -> String {
    e.map_or("-".to_string(), |e| {
        format!("{}, {}", e.allocs_per_call(), e.bytes_per_call())
    })
}

/// Instructions per call with one decimal, or `-`.
fn instr_cell(e: Option<&BaselineEntry>) -> String {
    e.and_then(BaselineEntry::instructions_per_call)
        .map_or("-".to_string(), |v| {
            format!("{}.{}", group(v as u64), ((v.fract() * 10.0) as u64).min(9))
        })
}

/// `+1.23%`, or `-` when not compared.
fn change_cell(r: &Row) -> String {
    r.instr_change
        .map_or("-".to_string(), |c| format!("{:+.2}%", c * 100.0))
}

/// One figure's change, exact: per call, and the totals behind it.
fn change(what: &str, b: (u64, u64), n: (u64, u64)) -> String {
    let (bt, bc) = b;
    let (nt, nc) = n;
    let totals = if bc == nc {
        let d = i128::from(nt) - i128::from(bt);
        let sign = if d >= 0 { "+" } else { "-" };
        format!(
            "{} -> {} in {} calls, {sign}{}",
            group(bt),
            group(nt),
            group(nc),
            group(d.unsigned_abs() as u64)
        )
    } else {
        format!(
            "{} in {} calls -> {} in {} calls",
            group(bt),
            group(bc),
            group(nt),
            group(nc)
        )
    };
    format!(
        "  {what}: {} -> {} per call ({totals})\n",
        per_call(bt, bc),
        per_call(nt, nc)
    )
}

fn text(outcome: &CheckOutcome, baseline: &Path) -> String {
    let mut out = String::new();
    for w in &outcome.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    let _ = writeln!(
        out,
        "{:<28} {:>24} {:>24} {:>14} {:>9}  change",
        "scenario", "baseline allocs, B/call", "now allocs, B/call", "instr/call*", "instr"
    );
    for r in &outcome.rows {
        let base = if outcome.blessed {
            None
        } else {
            r.baseline.as_ref()
        };
        let _ = writeln!(
            out,
            "{:<28} {:>24} {:>24} {:>14} {:>9}  {}",
            r.name,
            cell(base),
            cell(r.now.as_ref()),
            instr_cell(r.now.as_ref()),
            change_cell(r),
            verdict_word(&r.verdict)
        );
    }
    out.push_str(
        "* instructions per call outside malloc and free (callgrind; a profile's instr/call counts them too)\n\n",
    );
    if outcome.blessed {
        let _ = writeln!(
            out,
            "blessed: wrote {} ({} scenarios, {RUSTC_VERSION}); review and commit it",
            baseline.display(),
            outcome.rows.len()
        );
        return out;
    }
    for r in &outcome.rows {
        explain(&mut out, r);
    }
    if fails(&outcome.rows) {
        out.push_str("check failed\n");
    } else {
        let _ = writeln!(
            out,
            "check passed: no scenario allocates more, or runs more instructions than its tolerance, than in {}",
            baseline.display()
        );
    }
    out
}

fn explain(out: &mut String, r: &Row) {
    let name = &r.name;
    match &r.verdict {
        Verdict::Worse => {
            let _ = writeln!(out, "regression in {name}:");
            if let (Some(b), Some(n)) = (&r.baseline, &r.now) {
                if r.allocs_worse() {
                    out.push_str(&change(
                        "allocations",
                        (b.allocs, b.calls),
                        (n.allocs, n.calls),
                    ));
                    out.push_str(&change("bytes", (b.bytes, b.calls), (n.bytes, n.calls)));
                    match &r.top_site {
                        Some(site) => {
                            let _ = writeln!(out, "  top allocation site now: {site}");
                        }
                        None => out.push_str("  (the heap pass found no site)\n"),
                    }
                }
                if r.instr_worse() {
                    explain_instructions(out, r, b, n);
                }
                for w in r.reach_worse() {
                    let _ = writeln!(out, "  {w}");
                }
            }
        }
        Verdict::New => {
            let _ = writeln!(
                out,
                "{name} is not in the baseline: add it by blessing the baseline (check --bless) and commit it"
            );
        }
        Verdict::Missing => {
            let _ = writeln!(
                out,
                "{name} is in the baseline but no longer measured: if it was removed or renamed on purpose, bless the baseline (check --bless)"
            );
        }
        Verdict::Failed(e) => {
            let _ = writeln!(out, "{name} could not be measured: {e}");
        }
        Verdict::Better => {
            let _ = writeln!(
                out,
                "{name} allocates less, runs fewer instructions or has fewer ways to the allocator than its baseline: bless the baseline (check --bless) to lock the improvement in"
            );
        }
        Verdict::Same => {}
    }
}

fn explain_instructions(out: &mut String, r: &Row, b: &BaselineEntry, n: &BaselineEntry) {
    let (Some(bi), Some(ni)) = (b.instructions, n.instructions) else {
        return;
    };
    let (bc, nc) = (b.instr_calls.unwrap_or(0), n.instr_calls.unwrap_or(0));
    let _ = writeln!(
        out,
        "  instructions: {} -> {} per call ({:+.2}%, tolerance {}% + {} per call; {} in {} calls -> {} in {} calls)",
        per_call(bi, bc),
        per_call(ni, nc),
        r.instr_change.unwrap_or(0.0) * 100.0,
        r.instr_tolerance * 100.0,
        r.instr_slack,
        group(bi),
        group(bc),
        group(ni),
        group(nc)
    );
    let grown = r.grown_functions();
    if grown.is_empty() {
        out.push_str("  (no function in the top list grew)\n");
    }
    for (i, (f, d)) in grown.iter().enumerate() {
        let _ = writeln!(
            out,
            "  {} {f}: +{} instructions per call",
            if i == 0 {
                "grew most in:"
            } else {
                "             "
            },
            group(d.round() as u64)
        );
    }
}

fn changed_first(rows: &[Row]) -> Vec<&Row> {
    let mut v: Vec<&Row> = rows.iter().collect();
    v.sort_by_key(|r| r.verdict == Verdict::Same);
    v
}

fn markdown(outcome: &CheckOutcome, baseline: &Path) -> String {
    let mut out = String::new();
    let verdict = if outcome.blessed {
        "baseline blessed"
    } else if fails(&outcome.rows) {
        "failed"
    } else {
        "passed"
    };
    let _ = writeln!(out, "### escape-lab check: {verdict}\n");
    for w in &outcome.warnings {
        let _ = writeln!(out, "> **warning:** {}\n", markdown_cell(w));
    }
    out.push_str(
        "| scenario | change | allocs/call (baseline → now) | B/call (baseline → now) | instr/call outside malloc/free now (change) | top allocation site now |\n\
         |---|---|---:|---:|---:|---|\n",
    );
    for r in changed_first(&outcome.rows) {
        let figure = |f: fn(&BaselineEntry) -> String, total: fn(&BaselineEntry) -> u64| {
            let b = r.baseline.as_ref().map_or("–".to_string(), f);
            let n = r.now.as_ref().map_or("–".to_string(), f);
            if b == n && r.verdict == Verdict::Same {
                return n;
            }
            match (&r.baseline, &r.now) {
                // Rounding would show two equal figures: say the exact change.
                (Some(be), Some(ne)) if b == n && total(be) != total(ne) => {
                    let d = i128::from(total(ne)) - i128::from(total(be));
                    format!(
                        "{b} → {n} ({}{} in {} calls)",
                        if d >= 0 { "+" } else { "-" },
                        group(d.unsigned_abs() as u64),
                        group(ne.calls)
                    )
                }
                _ => format!("{b} → {n}"),
            }
        };
        let site = r
            .top_site
            .as_ref()
            .map_or(String::new(), |s| format!("`{}`", s.replace('`', "'")));
        let instr = match r.instr_change {
            Some(_) => format!("{} ({})", instr_cell(r.now.as_ref()), change_cell(r)),
            None => instr_cell(r.now.as_ref()),
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} |",
            r.name,
            markdown_cell(&verdict_word(&r.verdict)),
            figure(BaselineEntry::allocs_per_call, |e| e.allocs),
            figure(BaselineEntry::bytes_per_call, |e| e.bytes),
            instr,
            site
        );
    }
    let _ = writeln!(
        out,
        "\nBaseline: `{}` ({} scenarios). Allocation counts are exact: any increase fails; instructions per call fail beyond their tolerance.",
        baseline.display(),
        outcome.rows.len()
    );
    out
}

#[derive(Serialize)]
struct JsonReport<'a> {
    passed: bool,
    blessed: bool,
    baseline: String,
    warnings: &'a [String],
    scenarios: Vec<JsonRow<'a>>,
}

#[derive(Serialize)]
struct JsonRow<'a> {
    name: &'a str,
    verdict: &'static str,
    error: Option<&'a str>,
    baseline: Option<&'a BaselineEntry>,
    now: Option<&'a BaselineEntry>,
    top_site: Option<&'a str>,
    instr_change: Option<f64>,
    instr_tolerance: f64,
}

fn json(outcome: &CheckOutcome, baseline: &Path) -> String {
    let rows = outcome
        .rows
        .iter()
        .map(|r| JsonRow {
            name: &r.name,
            verdict: match r.verdict {
                Verdict::Same => "same",
                Verdict::Better => "better",
                Verdict::Worse => "worse",
                Verdict::New => "new",
                Verdict::Missing => "missing",
                Verdict::Failed(_) => "failed",
            },
            error: match &r.verdict {
                Verdict::Failed(e) => Some(e),
                _ => None,
            },
            baseline: r.baseline.as_ref(),
            now: r.now.as_ref(),
            top_site: r.top_site.as_deref(),
            instr_change: r.instr_change,
            instr_tolerance: r.instr_tolerance,
        })
        .collect();
    let report = JsonReport {
        passed: !outcome.failed(),
        blessed: outcome.blessed,
        baseline: baseline.display().to_string(),
        warnings: &outcome.warnings,
        scenarios: rows,
    };
    let mut s = serde_json::to_string_pretty(&report).unwrap_or_default();
    s.push('\n');
    s
}
