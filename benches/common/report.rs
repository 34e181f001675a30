//! Exact allocations per op beside criterion's times, like `go test
//! -benchmem`, printed as a table after each group and written as JSON next
//! to criterion's output.
//!
//! Criterion cannot carry allocation counts (DESIGN.md, "Known traps"), so
//! they are measured here, outside its timing loop, with the counting global
//! allocator: one warm-up op, then [`OPS`] ops (one in test mode) inside
//! `countalloc::measure`. Totals and the op count are kept, so the per-op
//! figures are exact quotients. The time in the table is criterion's median
//! from `<criterion home>/<group>/<id>/new/estimates.json`, when criterion
//! wrote one during this run; otherwise (test and profile modes) it is the
//! mean of the counted ops, timed here, and the table says so.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use harness::countalloc::{self, Counts};
use serde::Serialize;

/// Ops counted per benchmark after the warm-up op, outside test mode.
pub const OPS: u64 = 3;

/// One benchmark's figures.
#[derive(Debug)]
pub struct Row {
    /// The id under the group: `function` or `function/parameter`.
    pub id: String,
    /// `"variant"`, `"peer"` or what the bench calls its kinds.
    pub kind: &'static str,
    /// Bytes one op covers, or 0 when throughput means nothing.
    pub bytes_per_op: u64,
    /// Match calls one op makes (1 for the peers).
    pub calls_per_op: u64,
    /// Matches one op finds, when it finds any.
    pub matches_per_op: Option<u64>,
    /// Ops counted (after the warm-up op).
    pub ops: u64,
    /// Heap operations of those ops together.
    pub counts: Counts,
    /// Wall time of those ops together.
    pub elapsed: Duration,
    /// Why the benchmark could not run, if it could not.
    pub error: Option<String>,
    /// Criterion's median time per op in ns, when it measured one this run.
    pub criterion_ns: Option<f64>,
}

impl Row {
    /// Runs `op` once to warm up, then `ops` times inside
    /// `countalloc::measure`, and returns the row (without criterion's time).
    /// An op that fails is reported in [`Row::error`], not panicked on.
    pub fn measure(
        id: impl Into<String>,
        kind: &'static str,
        bytes_per_op: u64,
        calls_per_op: u64,
        ops: u64,
        mut op: impl FnMut() -> Result<u64, String>,
    ) -> Row {
        let mut row = Row {
            id: id.into(),
            kind,
            bytes_per_op,
            calls_per_op,
            matches_per_op: None,
            ops,
            counts: Counts::default(),
            elapsed: Duration::ZERO,
            error: None,
            criterion_ns: None,
        };
        match op() {
            Ok(n) => row.matches_per_op = (n > 0).then_some(n),
            Err(e) => {
                row.error = Some(e);
                return row;
            }
        }
        let start = Instant::now();
        let (result, counts) = countalloc::measure(|| {
            let mut result = Ok(0);
            for _ in 0..ops {
                result = op();
                if result.is_err() {
                    break;
                }
            }
            result
        });
        row.elapsed = start.elapsed();
        row.counts = counts;
        row.error = result.err();
        row
    }

    /// A row for a benchmark that could not be set up.
    pub fn failed(id: impl Into<String>, kind: &'static str, error: String) -> Row {
        Row {
            id: id.into(),
            kind,
            bytes_per_op: 0,
            calls_per_op: 0,
            matches_per_op: None,
            ops: 0,
            counts: Counts::default(),
            elapsed: Duration::ZERO,
            error: Some(error),
            criterion_ns: None,
        }
    }

    /// Whether the benchmark can be timed.
    pub fn ok(&self) -> bool {
        self.error.is_none()
    }

    /// Nanoseconds per op: criterion's median, else the counted ops' mean.
    pub fn ns_per_op(&self) -> Option<f64> {
        if !self.ok() {
            return None;
        }
        self.criterion_ns
            .or_else(|| (self.ops > 0).then(|| self.elapsed.as_nanos() as f64 / self.ops as f64))
    }

    /// Where [`Row::ns_per_op`] comes from.
    pub fn ns_source(&self) -> &'static str {
        if self.criterion_ns.is_some() {
            "criterion median"
        } else {
            "mean of the counted ops"
        }
    }

    /// Decimal megabytes (10^6 bytes) per second, as Go reports them.
    pub fn mb_per_s(&self) -> Option<f64> {
        let ns = self.ns_per_op()?;
        (self.bytes_per_op > 0 && ns > 0.0).then(|| self.bytes_per_op as f64 * 1e3 / ns)
    }

    /// Reads criterion's median for this row from `group_dir`, if criterion
    /// wrote it at or after `since` (older files are from another run).
    pub fn read_criterion(&mut self, group_dir: &Path, since: SystemTime) {
        self.criterion_ns = criterion_median_ns(&group_dir.join(&self.id), since);
    }
}

/// Criterion's median point estimate in ns from `<bench_dir>/new/estimates.json`,
/// if the file was written at or after `since`.
pub fn criterion_median_ns(bench_dir: &Path, since: SystemTime) -> Option<f64> {
    let path = bench_dir.join("new").join("estimates.json");
    let modified = std::fs::metadata(&path).ok()?.modified().ok()?;
    if modified < since {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
    v.get("median")?.get("point_estimate")?.as_f64()
}

/// The best peer's MB/s among `rows`, if any peer ran.
pub fn best_peer_mb_per_s(rows: &[Row]) -> Option<(f64, &str)> {
    rows.iter()
        .filter(|r| r.kind == "peer")
        .filter_map(|r| Some((r.mb_per_s()?, r.id.as_str())))
        .max_by(|a, b| a.0.total_cmp(&b.0))
}

/// Prints the `-benchmem`-like table of `rows` under `title`: time, and
/// throughput with its ratio to the fastest peer when the rows cover bytes,
/// then bytes and allocations per op, and per match call when an op makes
/// several.
pub fn print_table(title: &str, rows: &[Row]) {
    let best = best_peer_mb_per_s(rows);
    let throughput = rows.iter().any(|r| r.bytes_per_op > 0);
    let per_call = rows.iter().any(|r| r.calls_per_op > 1);
    println!("\n{title}");
    let mut header = format!("{:<24} {:>15}", "name", "ns/op");
    if throughput {
        header.push_str(&format!(" {:>9} {:>8}", "MB/s", "vs peer"));
    }
    header.push_str(&format!(" {:>13} {:>11}", "B/op", "allocs/op"));
    if per_call {
        header.push_str(&format!(" {:>10} {:>11}", "B/call", "allocs/call"));
    }
    println!("{header}");
    let mut own_timing = false;
    for r in rows {
        if let Some(e) = &r.error {
            println!("{:<24} error: {e}", r.id);
            continue;
        }
        own_timing |= r.criterion_ns.is_none();
        let mark = if r.criterion_ns.is_none() { "*" } else { "" };
        let ns = r
            .ns_per_op()
            .map_or("-".to_owned(), |ns| format!("{}{mark}", fmt_ns(ns)));
        let mut line = format!("{:<24} {ns:>15}", r.id);
        if throughput {
            let mbs = r.mb_per_s().map_or("-".to_owned(), |m| format!("{m:.1}"));
            let ratio = match (r.mb_per_s(), best) {
                (Some(m), Some((b, _))) => format!("{:.2}x", m / b),
                _ => "-".to_owned(),
            };
            line.push_str(&format!(" {mbs:>9} {ratio:>8}"));
        }
        line.push_str(&format!(
            " {:>13} {:>11}",
            quotient(r.counts.bytes, r.ops),
            quotient(r.counts.allocs, r.ops)
        ));
        if per_call {
            let calls = r.ops * r.calls_per_op;
            line.push_str(&format!(
                " {:>10} {:>11}",
                quotient(r.counts.bytes, calls),
                quotient(r.counts.allocs, calls)
            ));
        }
        println!("{line}");
    }
    if let (true, Some((_, id))) = (throughput, best) {
        println!("vs peer: MB/s relative to the fastest peer here, {id}");
    }
    if own_timing {
        println!(
            "* no criterion estimate from this run (test or profile mode): mean of the counted ops"
        );
    }
}

/// `total / ops`, exactly: an integer when it divides, else two decimals
/// (the harness's formatting, so the bench tables read like `sites.txt`);
/// `-` when nothing was counted.
pub fn quotient(total: u64, ops: u64) -> String {
    if ops == 0 {
        return "-".to_owned();
    }
    harness::sites::per_call(total, ops)
}

/// `1234567` as `1,234,567`.
pub use harness::sites::group as thousands;

pub fn fmt_ns(ns: f64) -> String {
    if ns >= 100.0 {
        thousands(ns.round() as u64)
    } else {
        format!("{ns:.2}")
    }
}

/// One row as written to `allocations.json`.
#[derive(Serialize)]
pub struct RowJson {
    /// See [`Row::id`].
    pub id: String,
    /// See [`Row::kind`].
    pub kind: &'static str,
    /// `"ok"` or the error.
    pub status: String,
    /// See [`Row::bytes_per_op`].
    pub bytes_per_op: u64,
    /// See [`Row::calls_per_op`].
    pub calls_per_op: u64,
    /// See [`Row::matches_per_op`].
    pub matches_per_op: Option<u64>,
    /// Ops counted.
    pub counted_ops: u64,
    /// Allocations of the counted ops together.
    pub allocs_total: u64,
    /// Bytes allocated by the counted ops together.
    pub alloc_bytes_total: u64,
    /// `allocs_total / counted_ops`.
    pub allocs_per_op: f64,
    /// `alloc_bytes_total / counted_ops`.
    pub alloc_bytes_per_op: f64,
    /// Per match call.
    pub allocs_per_call: f64,
    /// Per match call.
    pub alloc_bytes_per_call: f64,
    /// See [`Row::ns_per_op`].
    pub ns_per_op: Option<f64>,
    /// See [`Row::ns_source`].
    pub ns_source: &'static str,
    /// See [`Row::mb_per_s`].
    pub mb_per_s: Option<f64>,
}

impl From<&Row> for RowJson {
    fn from(r: &Row) -> RowJson {
        let per = |total: u64, n: u64| if n == 0 { 0.0 } else { total as f64 / n as f64 };
        let calls = r.ops * r.calls_per_op;
        RowJson {
            id: r.id.clone(),
            kind: r.kind,
            status: r
                .error
                .clone()
                .map_or("ok".to_owned(), |e| format!("error: {e}")),
            bytes_per_op: r.bytes_per_op,
            calls_per_op: r.calls_per_op,
            matches_per_op: r.matches_per_op,
            counted_ops: r.ops,
            allocs_total: r.counts.allocs,
            alloc_bytes_total: r.counts.bytes,
            allocs_per_op: per(r.counts.allocs, r.ops),
            alloc_bytes_per_op: per(r.counts.bytes, r.ops),
            allocs_per_call: per(r.counts.allocs, calls),
            alloc_bytes_per_call: per(r.counts.bytes, calls),
            ns_per_op: r.ns_per_op(),
            ns_source: r.ns_source(),
            mb_per_s: r.mb_per_s(),
        }
    }
}

/// Writes `value` as pretty JSON (keys in declaration order) to
/// `<criterion home>/<group>/<file>` atomically, and says where; except in
/// profile mode, whose figures come from a profiled process and would
/// overwrite those of the last real run.
///
/// A filtered run writes the rows it ran, as criterion updates only the
/// benchmarks it ran.
///
/// # Panics
///
/// When the file cannot be written: a bench that silently lost its results
/// would be worse.
pub fn save(args: &super::RunArgs, group: &str, file: &str, value: &impl Serialize) {
    if args.mode == super::Mode::Profile {
        println!("{file}: not written in profile mode");
        return;
    }
    let dir = super::criterion_home().join(group);
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    let path = dir.join(file);
    let mut bytes = serde_json::to_vec_pretty(value).expect("plain data serialises");
    bytes.push(b'\n');
    harness::atomic::write(&path, &bytes).unwrap_or_else(|e| panic!("cannot write {e}"));
    println!("{file}: {}", path.display());
}

/// What every `allocations.json` holds: the group, what one op is, and one
/// entry per benchmark; `workload` describes the input where the group has
/// one (the `variants` groups).
#[derive(Serialize)]
pub struct AllocationsJson<'a, W: Serialize> {
    pub schema_version: u32,
    pub group: &'a str,
    pub mode: &'static str,
    pub op: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workload: Option<W>,
    pub benchmarks: Vec<RowJson>,
}

/// Writes a group's `allocations.json` (see [`save`]).
pub fn save_allocations<W: Serialize>(
    args: &super::RunArgs,
    group: &str,
    op: &str,
    workload: Option<W>,
    rows: &[Row],
) {
    let json = AllocationsJson {
        schema_version: 1,
        group,
        mode: args.mode.name(),
        op,
        workload,
        benchmarks: rows.iter().map(RowJson::from).collect(),
    };
    save(args, group, "allocations.json", &json);
}
