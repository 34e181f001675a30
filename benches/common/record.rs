//! Exact allocations per op beside the time, like `go test -benchmem`,
//! measured inside the routine criterion runs; printed as a table after each
//! group by [`super::table`] and merged into a JSON file per group by
//! [`super::results`].
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
//! and [`save`](super::results::save) merges them into the group's file, keeping the entries of
//! the benchmarks it skipped. Nothing here reads criterion's arguments or
//! files.

use std::hint::black_box;
use std::time::{Duration, Instant};

use countalloc::Counts;
use criterion::Bencher;

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
