//! Comparing fresh measurements with a baseline: exact allocation and byte
//! counts per call, instructions per call within a tolerance, and the
//! verdict of each scenario.

use std::cmp::Ordering;

use crate::gate::baseline::{Baseline, BaselineEntry};

/// How one scenario compares with the baseline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Same allocations and bytes per call.
    Same,
    /// Fewer allocations or bytes per call, and neither more.
    Better,
    /// More allocations or bytes per call.
    Worse,
    /// Measured now, not in the baseline.
    New,
    /// In the baseline, not measured now.
    Missing,
    /// Could not be measured.
    Failed(String),
}

/// One row of a check.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The scenario.
    pub name: String,
    /// Its baseline entry.
    pub baseline: Option<BaselineEntry>,
    /// Its fresh measurement.
    pub now: Option<BaselineEntry>,
    /// The comparison.
    pub verdict: Verdict,
    /// The top allocation site now, found for regressions.
    pub top_site: Option<String>,
    /// Instructions per call, relative change (0.05 is +5%), when both the
    /// baseline and this run counted them.
    pub instr_change: Option<f64>,
    /// The tolerance that change was held to.
    pub instr_tolerance: f64,
    /// The slack in instructions per call on top of it.
    pub instr_slack: f64,
}

impl Row {
    /// Whether instructions per call grew beyond the tolerance.
    ///
    /// Never allocates.
    #[must_use]
    pub fn instr_worse(&self) -> bool {
        match (&self.baseline, &self.now) {
            (Some(b), Some(n)) => match (n.instructions_per_call(), b.instructions_per_call()) {
                (Some(x), Some(y)) => x > y * (1.0 + self.instr_tolerance) + self.instr_slack,
                _ => false,
            },
            _ => false,
        }
    }

    /// What got worse statically: a worse verdict, each new line on a way
    /// to the allocator (with its way when known). Empty when nothing did
    /// or either side has no analysis.
    ///
    /// Allocates the list.
    #[must_use]
    pub fn reach_worse(&self) -> Vec<String> {
        let (Some(b), Some(n)) = (
            self.baseline.as_ref().and_then(|e| e.reach.as_ref()),
            self.now.as_ref().and_then(|e| e.reach.as_ref()),
        ) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if n.verdict > b.verdict {
            out.push(format!("static verdict: {} -> {}", b.verdict, n.verdict));
        }
        for line in n.lines.iter().filter(|l| !b.lines.contains(l)) {
            let way = n
                .ways
                .iter()
                .find(|w| w.starts_with(&format!("{line}:")))
                .map_or_else(|| line.clone(), Clone::clone);
            out.push(format!("new way to the allocator: {way}"));
        }
        out
    }

    /// Whether allocations or bytes per call grew.
    ///
    /// Never allocates.
    #[must_use]
    pub fn allocs_worse(&self) -> bool {
        match (&self.baseline, &self.now) {
            (Some(b), Some(n)) => {
                cmp_ratio(n.allocs, n.calls, b.allocs, b.calls) == Ordering::Greater
                    || cmp_ratio(n.bytes, n.calls, b.bytes, b.calls) == Ordering::Greater
            }
            _ => false,
        }
    }

    /// The functions whose instructions per call grew most, with the growth,
    /// largest first (at most three).
    ///
    /// Allocates the list.
    #[must_use]
    pub fn grown_functions(&self) -> Vec<(String, f64)> {
        let (Some(b), Some(n)) = (&self.baseline, &self.now) else {
            return Vec::new();
        };
        let per = |e: &BaselineEntry, name: &str| {
            let calls = e.instr_calls.unwrap_or(0).max(1) as f64;
            e.functions
                .iter()
                .find(|f| f.name == name)
                .map_or(0.0, |f| f.exclusive as f64 / calls)
        };
        let mut grown: Vec<(String, f64)> = n
            .functions
            .iter()
            .map(|f| (f.name.clone(), per(n, &f.name) - per(b, &f.name)))
            .filter(|(_, d)| *d > 0.0)
            .collect();
        grown.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        grown.truncate(3);
        grown
    }
}

/// Compares `a/ca` with `b/cb` exactly.
///
/// Never allocates.
#[must_use]
pub fn cmp_ratio(a: u64, ca: u64, b: u64, cb: u64) -> Ordering {
    (u128::from(a) * u128::from(cb.max(1))).cmp(&(u128::from(b) * u128::from(ca.max(1))))
}

/// Compares fresh measurements with a baseline, scenario by scenario:
/// measured scenarios in their order, then those only in the baseline.
/// A measurement is an entry, or the scenario's name and why it failed.
///
/// # Allocation
///
/// The rows.
#[must_use]
pub fn compare(baseline: &Baseline, now: &[Result<BaselineEntry, (String, String)>]) -> Vec<Row> {
    let mut rows = Vec::new();
    for m in now {
        let name = match m {
            Ok(e) => e.name.clone(),
            Err((name, _)) => name.clone(),
        };
        let base = baseline.scenarios.iter().find(|b| b.name == name).cloned();
        let tolerance = base
            .as_ref()
            .and_then(|b| b.instr_tolerance)
            .unwrap_or(baseline.instr_tolerance);
        let per_call = match (m, &base) {
            (Ok(n), Some(b)) => match (n.instructions_per_call(), b.instructions_per_call()) {
                (Some(x), Some(y)) if y > 0.0 => Some((x, y)),
                _ => None,
            },
            _ => None,
        };
        let instr_change = per_call.map(|(x, y)| x / y - 1.0);
        let verdict = match (m, &base) {
            (Err((_, why)), _) => Verdict::Failed(why.clone()),
            (Ok(_), None) => Verdict::New,
            (Ok(n), Some(b)) => {
                let a = cmp_ratio(n.allocs, n.calls, b.allocs, b.calls);
                let y = cmp_ratio(n.bytes, n.calls, b.bytes, b.calls);
                // Compared as now against baseline × (1 ± tolerance) ± slack,
                // so that exactly +1% is within a 1% tolerance.
                let slack = baseline.instr_slack;
                let i = per_call.map_or(Ordering::Equal, |(x, y)| {
                    if x > y * (1.0 + tolerance) + slack {
                        Ordering::Greater
                    } else if x < y * (1.0 - tolerance) - slack {
                        Ordering::Less
                    } else {
                        Ordering::Equal
                    }
                });
                let r = reach_order(b, n);
                if [a, y, i, r].contains(&Ordering::Greater) {
                    Verdict::Worse
                } else if [a, y, i, r].contains(&Ordering::Less) {
                    Verdict::Better
                } else {
                    Verdict::Same
                }
            }
        };
        rows.push(Row {
            name,
            baseline: base,
            now: m.as_ref().ok().cloned(),
            verdict,
            top_site: None,
            instr_change,
            instr_tolerance: tolerance,
            instr_slack: baseline.instr_slack,
        });
    }
    for b in &baseline.scenarios {
        if !rows.iter().any(|r| r.name == b.name) {
            rows.push(Row {
                name: b.name.clone(),
                baseline: Some(b.clone()),
                now: None,
                verdict: Verdict::Missing,
                top_site: None,
                instr_change: None,
                instr_tolerance: baseline.instr_tolerance,
                instr_slack: baseline.instr_slack,
            });
        }
    }
    rows
}

/// The static analysis now against the baseline: `Greater` for a worse
/// verdict or a new line on a way to the allocator, `Less` for a better
/// verdict or a line gone, `Equal` otherwise or when either side has none.
fn reach_order(b: &BaselineEntry, n: &BaselineEntry) -> Ordering {
    let (Some(b), Some(n)) = (&b.reach, &n.reach) else {
        return Ordering::Equal;
    };
    if n.verdict > b.verdict || n.lines.iter().any(|l| !b.lines.contains(l)) {
        Ordering::Greater
    } else if n.verdict < b.verdict || b.lines.iter().any(|l| !n.lines.contains(l)) {
        Ordering::Less
    } else {
        Ordering::Equal
    }
}

/// Whether a check with these rows fails (exit 1).
///
/// Never allocates.
#[must_use]
pub fn fails(rows: &[Row]) -> bool {
    rows.iter()
        .any(|r| !matches!(r.verdict, Verdict::Same | Verdict::Better))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::baseline::{self, BASELINE_VERSION, RUSTC_VERSION};
    use crate::model::WorkloadInfo;

    use crate::gate::baseline::tests::entry as e;

    fn with_instr(mut e: BaselineEntry, instructions: u64) -> BaselineEntry {
        e.instr_calls = Some(e.calls);
        e.instructions = Some(instructions);
        e
    }

    fn base(entries: Vec<BaselineEntry>) -> Baseline {
        Baseline {
            schema_version: BASELINE_VERSION,
            rustc: RUSTC_VERSION.into(),
            workload: WorkloadInfo::default(),
            build: baseline::this_build().into(),
            instr_tolerance: baseline::DEFAULT_INSTR_TOLERANCE,
            instr_slack: 0.0,
            scenarios: entries,
        }
    }

    #[test]
    fn instructions_are_held_to_the_tolerance() {
        let b = base(vec![with_instr(e("a", 100, 0, 0), 1_000_000)]);
        let at = |i: u64| compare(&b, &[Ok(with_instr(e("a", 100, 0, 0), i))]);
        assert_eq!(
            at(1_010_000)[0].verdict,
            Verdict::Same,
            "+1.0% is within 1%"
        );
        assert_eq!(at(1_010_001)[0].verdict, Verdict::Worse, "just over");
        assert!(at(1_010_001)[0].instr_worse() && !at(1_010_001)[0].allocs_worse());
        assert_eq!(at(989_000)[0].verdict, Verdict::Better);
        assert_eq!(at(1_000_000)[0].instr_change, Some(0.0));
        // A scenario's own tolerance wins.
        let mut own = b.clone();
        own.scenarios[0].instr_tolerance = Some(0.5);
        let r = compare(&own, &[Ok(with_instr(e("a", 100, 0, 0), 1_400_000))]);
        assert_eq!(r[0].verdict, Verdict::Same);
        // Without counts on either side, instructions are not compared.
        let r = compare(&b, &[Ok(e("a", 100, 0, 0))]);
        assert_eq!(
            (r[0].verdict.clone(), r[0].instr_change),
            (Verdict::Same, None)
        );
    }

    #[test]
    fn one_extra_allocation_per_call_is_a_regression() {
        let b = base(vec![e("borrowed", 512, 0, 0), e("owned", 512, 1000, 8000)]);
        let rows = compare(
            &b,
            &[
                Ok(e("borrowed", 512, 512, 4096)),
                Ok(e("owned", 512, 1000, 8000)),
            ],
        );
        assert_eq!(rows[0].verdict, Verdict::Worse);
        assert_eq!(rows[1].verdict, Verdict::Same);
        assert!(fails(&rows));
    }

    #[test]
    fn a_bytes_only_increase_is_a_regression() {
        let b = base(vec![e("owned", 512, 1000, 8000)]);
        let rows = compare(&b, &[Ok(e("owned", 512, 1000, 8001))]);
        assert_eq!(rows[0].verdict, Verdict::Worse);
        assert!(fails(&rows));
    }

    #[test]
    fn per_call_is_compared_exactly_across_call_counts() {
        // 1,000 over 512 calls is the same per call as 2,000 over 1,024,
        // and less than 2,001 over 1,024.
        let b = base(vec![e("owned", 512, 1000, 0)]);
        assert_eq!(
            compare(&b, &[Ok(e("owned", 1024, 2000, 0))])[0].verdict,
            Verdict::Same
        );
        assert_eq!(
            compare(&b, &[Ok(e("owned", 1024, 2001, 0))])[0].verdict,
            Verdict::Worse
        );
    }

    #[test]
    fn new_missing_and_failed_scenarios_fail() {
        let b = base(vec![e("old", 10, 0, 0)]);
        let rows = compare(
            &b,
            &[
                Ok(e("new", 10, 0, 0)),
                Err(("broken".into(), "crashed".into())),
            ],
        );
        assert_eq!(rows[0].verdict, Verdict::New);
        assert_eq!(rows[1].verdict, Verdict::Failed("crashed".into()));
        assert_eq!(rows[2].verdict, Verdict::Missing);
        assert!(fails(&rows));
        let better = compare(&base(vec![e("a", 1, 2, 2)]), &[Ok(e("a", 1, 1, 2))]);
        assert_eq!(better[0].verdict, Verdict::Better);
        assert!(!fails(&better));
    }
}
