//! Exact allocations per op beside the time, like `go test -benchmem`,
//! measured inside the routine criterion runs, printed as a table after each
//! group and merged into a JSON file per group.
//!
//! criterion cannot carry allocation counts (it measures time only), so
//! each benchmark counts its own: its routine is [`Slot::run`], which hands
//! criterion a `Bencher::iter_custom` loop that takes a
//! [`countalloc::snapshot`] and the time around every batch of iterations
//! criterion asks for. Before the first batch, and outside both the timing
//! and the counting, it sets the benchmark up (build, agreement check) and
//! runs one warm-up op, so that growth on first use (`reuse`'s buffer) is not
//! counted. The counts and the time therefore cover the same ops, every
//! iteration criterion ran (its warm-up included); the totals and the op
//! count are kept, so every per-op figure is an exact quotient.
//!
//! Because the record is filled from inside criterion's routine, it holds
//! exactly the benchmarks criterion ran: a filtered run
//! (`cargo bench --bench variants -- fixed`) measures and writes only those,
//! and [`save`] merges them into the group's file, keeping the entries of
//! the benchmarks it skipped. Nothing here reads criterion's arguments or
//! files.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use countalloc::Counts;
use criterion::Bencher;
use escape_lab::__private::fmt::{group as thousands, ns as fmt_ns, per_call, ratio};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One benchmark's figures from this run.
#[derive(Debug)]
pub struct Row {
    /// The id under the group: `function` or `function/parameter`.
    pub id: String,
    /// `"variant"`, `"peer"` or what the bench calls its kinds.
    pub kind: &'static str,
    /// Haystack bytes one op covers, or 0 when throughput means nothing.
    pub bytes_per_op: u64,
    /// Match calls one op makes (1 for the peers).
    pub calls_per_op: u64,
    /// Matches one op finds (from the warm-up op), when it finds any.
    pub matches_per_op: Option<u64>,
    /// Ops timed and counted.
    pub ops: u64,
    /// Heap operations of those ops together.
    pub counts: Counts,
    /// Wall time of those ops together, timed around the same loops.
    pub elapsed: Duration,
    /// Why the benchmark could not run, if it could not.
    pub error: Option<String>,
    /// Whether some of its ops ran under the flamegraph profiler
    /// (`--profile-time`).
    pub profiled: bool,
}

impl Row {
    /// A row that has recorded nothing yet.
    pub fn new(
        id: impl Into<String>,
        kind: &'static str,
        bytes_per_op: u64,
        calls_per_op: u64,
    ) -> Row {
        Row {
            id: id.into(),
            kind,
            bytes_per_op,
            calls_per_op,
            matches_per_op: None,
            ops: 0,
            counts: Counts::default(),
            elapsed: Duration::ZERO,
            error: None,
            profiled: false,
        }
    }

    /// Whether criterion ran this benchmark in this run (a filtered-out or
    /// listed benchmark has recorded nothing).
    pub fn ran(&self) -> bool {
        self.ops > 0 || self.error.is_some()
    }

    /// Mean wall time per op in ns, over every op recorded.
    pub fn ns_per_op(&self) -> Option<f64> {
        (self.error.is_none() && self.ops > 0)
            .then(|| self.elapsed.as_nanos() as f64 / self.ops as f64)
    }

    /// Decimal megabytes (10^6 bytes) per second, as Go reports them.
    pub fn mb_per_s(&self) -> Option<f64> {
        let ns = self.ns_per_op()?;
        (self.bytes_per_op > 0 && ns > 0.0).then(|| self.bytes_per_op as f64 * 1e3 / ns)
    }

    // Times and counts `iters` ops; returns their wall time for criterion.
    // Only `op` runs between the two snapshots: no allocation of the
    // bench's own is counted. A failing op ends the batch and is recorded.
    #[inline]
    fn batch(&mut self, iters: u64, mut op: impl FnMut() -> Result<u64, String>) -> Duration {
        self.profiled |= super::profiler::is_profiling();
        let mut failed = None;
        let before = countalloc::snapshot();
        let start = Instant::now();
        for _ in 0..iters {
            match op() {
                Ok(n) => {
                    black_box(n);
                }
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        let elapsed = start.elapsed();
        let counts = countalloc::snapshot().since(before);
        match failed {
            None => {
                self.ops += iters;
                self.elapsed += elapsed;
                self.counts = add(self.counts, counts);
            }
            Some(e) => self.error = Some(e),
        }
        elapsed
    }
}

fn add(a: Counts, b: Counts) -> Counts {
    Counts {
        allocs: a.allocs + b.allocs,
        bytes: a.bytes + b.bytes,
        frees: a.frees + b.frees,
        freed_bytes: a.freed_bytes + b.freed_bytes,
    }
}

/// One benchmark: its [`Row`] and its state, set up on criterion's first
/// call of its routine, so that a benchmark criterion does not run (filtered
/// out, or `--list`) costs nothing.
pub struct Slot<S> {
    /// What this run recorded.
    pub row: Row,
    group: String,
    state: Option<S>,
}

impl<S> Slot<S> {
    /// A slot for the benchmark `row.id` of `group`.
    pub fn new(group: &str, row: Row) -> Slot<S> {
        Slot {
            row,
            group: group.to_owned(),
            state: None,
        }
    }

    /// The state `setup` built, if the benchmark ran and has not failed.
    pub fn state(&self) -> Option<&S> {
        self.state.as_ref()
    }

    /// The body of the closure given to criterion's `bench_function`.
    ///
    /// On the first call, outside timing and counting: `setup` builds the
    /// state (and checks it), then `op` runs once to warm up; its result is
    /// the matches per op. Every call then times and counts the `iters` ops
    /// criterion asks for, through `Bencher::iter_custom`. `op` returns the
    /// matches it found (or anything else worth a `black_box`).
    ///
    /// When `setup` or an op fails, the error is printed and recorded, and
    /// criterion is handed zero times from then on, for which it prints an
    /// error line and keeps no estimate; the other benchmarks still run.
    pub fn run(
        &mut self,
        b: &mut Bencher<'_>,
        setup: impl FnOnce() -> Result<S, String>,
        mut op: impl FnMut(&mut S) -> Result<u64, String>,
    ) {
        if self.state.is_none() && self.row.error.is_none() {
            let ready = setup().and_then(|mut s| Ok((op(&mut s)?, s)));
            match ready {
                Ok((n, s)) => {
                    self.row.matches_per_op = (n > 0).then_some(n);
                    self.state = Some(s);
                }
                Err(e) => {
                    self.row.error = Some(e);
                    self.say_failed();
                }
            }
        }
        let row = &mut self.row;
        match &mut self.state {
            Some(s) => b.iter_custom(|iters| row.batch(iters, || op(s))),
            None => b.iter_custom(|_| Duration::ZERO),
        }
        // An op that failed while timed (not seen in the warm-up op).
        if self.row.error.is_some() && self.state.take().is_some() {
            self.say_failed();
        }
    }

    fn say_failed(&self) {
        if let Some(e) = &self.row.error {
            eprintln!(
                "error: {}/{} cannot run: {e}; it is not timed (criterion gets zero times for it)",
                self.group, self.row.id
            );
        }
    }
}

/// Prints the `-benchmem`-like table of the rows criterion ran, under
/// `title`: ops counted, time per op, and throughput with its ratio to the
/// fastest peer when a peer ran, then bytes and allocations per op, and per
/// match call when an op makes several. Prints nothing when no row ran.
pub fn print_table(title: &str, rows: &[Row]) {
    let rows: Vec<&Row> = rows.iter().filter(|r| r.ran()).collect();
    if rows.is_empty() {
        return;
    }
    let timed = !super::UNOPTIMISED;
    let best = best_peer(rows.iter().copied());
    let throughput = timed && best.is_some();
    let by_call = rows.iter().any(|r| r.calls_per_op > 1);
    println!("\n{title}");
    let mut header = format!("{:<24} {:>13}", "name", "ops");
    if timed {
        header.push_str(&format!(" {:>11}", "time/op"));
    }
    if throughput {
        header.push_str(&format!(" {:>9} {:>8}", "MB/s", "vs peer"));
    }
    header.push_str(&format!(" {:>13} {:>11}", "B/op", "allocs/op"));
    if by_call {
        header.push_str(&format!(" {:>10} {:>11}", "B/call", "allocs/call"));
    }
    println!("{header}");
    for r in &rows {
        if let Some(e) = &r.error {
            println!("{:<24} error: {e}", r.id);
            continue;
        }
        let mut line = format!("{:<24} {:>13}", marked(r), thousands(r.ops));
        if timed {
            let t = r.ns_per_op().map_or("-".to_owned(), fmt_ns);
            line.push_str(&format!(" {t:>11}"));
        }
        if throughput {
            line.push_str(&format!(" {:>9} {:>8}", mb_s(r), vs(r, best)));
        }
        line.push_str(&format!(
            " {:>13} {:>11}",
            per_call(r.counts.bytes, r.ops),
            per_call(r.counts.allocs, r.ops)
        ));
        if by_call {
            let calls = r.ops * r.calls_per_op;
            line.push_str(&format!(
                " {:>10} {:>11}",
                per_call(r.counts.bytes, calls),
                per_call(r.counts.allocs, calls)
            ));
        }
        println!("{line}");
    }
    print_notes(&rows, timed, best);
}

/// `r`'s id, with ` (p)` when it ran under the profiler.
pub fn marked(r: &Row) -> String {
    if r.profiled {
        format!("{} (p)", r.id)
    } else {
        r.id.clone()
    }
}

fn print_notes(rows: &[&Row], timed: bool, best: Option<(f64, &str)>) {
    println!(
        "ops: every iteration criterion ran, its warm-up included; B and allocs: exact totals over them, divided"
    );
    if timed {
        println!(
            "time/op: mean over the same ops, timed by the bench around the loop it counts; criterion's own estimates are above"
        );
        match best {
            Some((_, id)) => println!(
                "MB/s: 10^6 bytes/s; vs peer: relative to the fastest peer in this run, {id}"
            ),
            None if rows.iter().any(|r| r.bytes_per_op > 0) => {
                println!("MB/s: not shown without a peer from this run to compare with")
            }
            None => {}
        }
    } else {
        println!("times: not shown, this build is unoptimised (cargo test --benches)");
    }
    if rows.iter().any(|r| r.profiled) {
        println!("(p): ran under the profiler (--profile-time); its figures are not written");
    }
}

/// The fastest peer's MB/s among `rows`, and its id, if a peer ran.
pub fn best_peer<'r>(rows: impl Iterator<Item = &'r Row>) -> Option<(f64, &'r str)> {
    rows.filter(|r| r.kind == "peer")
        .filter_map(|r| Some((r.mb_per_s()?, r.id.as_str())))
        .max_by(|a, b| a.0.total_cmp(&b.0))
}

/// `r`'s MB/s with one decimal, or `-`.
pub fn mb_s(r: &Row) -> String {
    r.mb_per_s().map_or("-".to_owned(), |m| format!("{m:.1}"))
}

/// `r`'s MB/s relative to `best`'s, or `-`.
pub fn vs(r: &Row, best: Option<(f64, &str)>) -> String {
    match (r.mb_per_s(), best) {
        (Some(m), Some((b, _))) => format!("{:.2}x", m / b),
        _ => "-".to_owned(),
    }
}

/// One benchmark's entry in `allocations.json`.
#[derive(Serialize)]
struct AllocationEntry {
    kind: &'static str,
    /// `"ok"` or `"error: ..."`.
    status: String,
    counted_ops: u64,
    calls_per_op: u64,
    matches_per_op: Option<u64>,
    allocs_total: u64,
    alloc_bytes_total: u64,
    allocs_per_op: f64,
    alloc_bytes_per_op: f64,
    allocs_per_call: f64,
    alloc_bytes_per_call: f64,
}

/// The `allocations.json` entries of the rows criterion ran, by id; rows
/// measured under the profiler are left out (they would replace the figures
/// of a plain run).
pub fn allocation_entries(rows: &[Row]) -> BTreeMap<String, Value> {
    rows.iter()
        .filter(|r| r.ran() && !r.profiled)
        .map(|r| {
            let calls = r.ops * r.calls_per_op;
            let entry = AllocationEntry {
                kind: r.kind,
                status: r
                    .error
                    .as_ref()
                    .map_or("ok".to_owned(), |e| format!("error: {e}")),
                counted_ops: r.ops,
                calls_per_op: r.calls_per_op,
                matches_per_op: r.matches_per_op,
                allocs_total: r.counts.allocs,
                alloc_bytes_total: r.counts.bytes,
                allocs_per_op: ratio(r.counts.allocs, r.ops),
                alloc_bytes_per_op: ratio(r.counts.bytes, r.ops),
                allocs_per_call: ratio(r.counts.allocs, calls),
                alloc_bytes_per_call: ratio(r.counts.bytes, calls),
            };
            (r.id.clone(), to_value(&entry))
        })
        .collect()
}

/// Serialises plain data.
pub fn to_value(v: &impl Serialize) -> Value {
    serde_json::to_value(v).expect("plain data serialises")
}

/// The version of the files [`save`] writes.
pub const SCHEMA_VERSION: u32 = 2;

/// What every file [`save`] writes holds: the group, what one op is, the
/// input, and one entry per benchmark, keyed by its id.
#[derive(Serialize, Deserialize)]
struct GroupFile {
    schema_version: u32,
    group: String,
    op: String,
    input: Value,
    benchmarks: BTreeMap<String, Value>,
}

/// Where the benches write: `<package root>/target/escape-lab/bench/` for
/// optimised builds (`cargo bench`), `.../bench-unoptimised/` for
/// unoptimised ones (`cargo test --benches`), so that a smoke test on small
/// inputs never replaces real figures. The package root is this bench's
/// `CARGO_MANIFEST_DIR`; criterion's folder is not involved.
pub fn results_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("escape-lab")
        .join(if super::UNOPTIMISED {
            "bench-unoptimised"
        } else {
            "bench"
        })
}

/// Merges `fresh` (entries by benchmark id) into
/// `<results dir>/<group>/<file>` and writes it atomically, keys sorted.
///
/// The entries already there for other ids are kept, so a filtered run does
/// not destroy the figures of the benchmarks it skipped, unless the file
/// describes another `op` or `input` (another workload, other sizes, an
/// older schema): then it is replaced, and a line says so. Writes nothing
/// when `fresh` is empty.
///
/// # Panics
///
/// When the file cannot be written: a bench that silently lost its results
/// would be worse.
pub fn save(group: &str, file: &str, op: &str, input: Value, fresh: BTreeMap<String, Value>) {
    if fresh.is_empty() {
        return;
    }
    let dir = results_dir().join(group);
    let path = dir.join(file);
    let mut benchmarks = BTreeMap::new();
    if let Ok(bytes) = std::fs::read(&path) {
        match serde_json::from_slice::<GroupFile>(&bytes) {
            Ok(old)
                if old.schema_version == SCHEMA_VERSION
                    && old.group == group
                    && old.op == op
                    && old.input == input =>
            {
                benchmarks = old.benchmarks;
            }
            _ => println!(
                "{file}: replacing {}: it describes another input or format",
                path.display()
            ),
        }
    }
    let ran = fresh.len();
    benchmarks.extend(fresh);
    let kept = benchmarks.len() - ran;
    let json = GroupFile {
        schema_version: SCHEMA_VERSION,
        group: group.to_owned(),
        op: op.to_owned(),
        input,
        benchmarks,
    };
    // Through `Value`, whose objects are sorted maps: every key in the file
    // is in a fixed order, whichever run wrote the entry.
    let mut bytes = serde_json::to_vec_pretty(&to_value(&json)).expect("plain data serialises");
    bytes.push(b'\n');
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    escape_lab::__private::atomic::write(&path, &bytes)
        .unwrap_or_else(|e| panic!("{}", escape_lab::__private::fmt::error_chain(&e)));
    println!(
        "{file}: {} ({ran} from this run, {kept} kept from earlier runs)",
        path.display()
    );
}
