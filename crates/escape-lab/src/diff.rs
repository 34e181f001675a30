//! `diff OLD NEW`: two runs' summaries side by side, as benchstat does for
//! Go: time with its spread, allocations exact, the change.

use std::cmp::Ordering;
use std::path::Path;

use crate::gate::check::cmp_ratio;
use crate::model::{read_summary, ScenarioSummary, Summary};
use crate::{fmt, Error};

/// Reads two `summary.json` files (schema 1 or 2) and returns the table.
///
/// # Errors
///
/// [`Error::Read`] or [`Error::Malformed`] when a summary cannot be read.
///
/// # Allocation
///
/// The summaries and the table.
pub fn diff(old: &Path, new: &Path) -> Result<String, Error> {
    Ok(table(&read_summary(old)?, &read_summary(new)?))
}

/// The table of two summaries: every scenario of `a`, then those only in
/// `b`.
///
/// # Allocation
///
/// The returned `String`.
#[must_use]
pub fn table(a: &Summary, b: &Summary) -> String {
    let mut out = String::new();
    if (&a.workload.name, &a.workload.facts) != (&b.workload.name, &b.workload.facts) {
        out.push_str(&format!(
            "note: the runs' workloads differ ({} vs {}): compare with care\n",
            a.workload.describe(),
            b.workload.describe()
        ));
    }
    out.push_str(&format!(
        "{:<28} {:>18} {:>18} {:>8}   {:>15} {:>15} {:>9}   {:>13} {:>13} {:>8}\n",
        "scenario",
        "old time/call",
        "new time/call",
        "delta",
        "old allocs/call",
        "new allocs/call",
        "delta",
        "old instr/call",
        "new instr/call",
        "delta"
    ));
    let mut names: Vec<&str> = a.scenarios.iter().map(|s| s.name.as_str()).collect();
    for s in &b.scenarios {
        if !names.contains(&s.name.as_str()) {
            names.push(&s.name);
        }
    }
    for name in names {
        let find = |x: &'_ Summary| x.scenarios.iter().find(|s| s.name == name).cloned();
        let (sa, sb) = (find(a), find(b));
        let (ta, va) = time(sa.as_ref());
        let (tb, vb) = time(sb.as_ref());
        let tdelta = match (va, vb) {
            (Some(x), Some(y)) => format!("{:+.1}%", (y / x - 1.0) * 100.0),
            _ => "-".into(),
        };
        let (aa, xa) = allocs(sa.as_ref());
        let (ab, xb) = allocs(sb.as_ref());
        let adelta = match (xa, xb) {
            (Some((n1, c1)), Some((n2, c2))) => match cmp_ratio(n2, c2, n1, c1) {
                Ordering::Equal => "=".to_string(),
                _ if n1 == 0 => "+∞".to_string(),
                _ => format!(
                    "{:+.1}%",
                    ((n2 as f64 / c2 as f64) / (n1 as f64 / c1 as f64) - 1.0) * 100.0
                ),
            },
            _ => "-".into(),
        };
        let (ia, ja) = instr(sa.as_ref());
        let (ib, jb) = instr(sb.as_ref());
        let idelta = match (ja, jb) {
            (Some(x), Some(y)) if x > 0.0 => format!("{:+.2}%", (y / x - 1.0) * 100.0),
            _ => "-".into(),
        };
        out.push_str(&format!(
            "{name:<28} {ta:>18} {tb:>18} {tdelta:>8}   {aa:>15} {ab:>15} {adelta:>9}   {ia:>13} {ib:>13} {idelta:>8}\n"
        ));
    }
    out.push_str(
        "\ntime: median of timed batches ± half their range; allocations: exact per call; instructions: callgrind, per call\n",
    );
    out
}

fn time(s: Option<&ScenarioSummary>) -> (String, Option<f64>) {
    match s.and_then(|s| s.cpu.as_ref()) {
        Some(c) if c.timing.median > 0.0 => {
            let t = &c.timing;
            let spread = (t.max - t.min) / 2.0 / t.median * 100.0;
            (
                format!("{} ±{spread:.0}%", fmt::ns(t.median)),
                Some(t.median),
            )
        }
        _ => ("-".into(), None),
    }
}

fn instr(s: Option<&ScenarioSummary>) -> (String, Option<f64>) {
    match s.and_then(|s| s.instr.as_ref()) {
        Some(i) if i.calls > 0 => (
            fmt::per_call(i.instructions, i.calls),
            Some(i.instructions as f64 / i.calls as f64),
        ),
        _ => ("-".into(), None),
    }
}

fn allocs(s: Option<&ScenarioSummary>) -> (String, Option<(u64, u64)>) {
    match s.and_then(|s| s.count) {
        Some(c) if c.calls > 0 => (fmt::per_call(c.allocs, c.calls), Some((c.allocs, c.calls))),
        _ => ("-".into(), None),
    }
}
