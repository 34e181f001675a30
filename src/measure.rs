//! `escape-lab serve --measure`: serves nothing; it times each scenario
//! with and without the sampler, interleaved, and sets the sampler's
//! estimates beside the exact counts of the counting allocator. The calls
//! go through the same frame as `serve`'s ([`crate::serve::SERVE_CALL`]).

use std::io::Write;
use std::time::{Duration, Instant};

use escape_lab::__private::fmt::group;
use escape_lab::__private::scenario::Call;
use escape_lab::__private::{self as alloc, Mode};
use escape_lab::live::sampler;
use escape_lab::Scenario;

use crate::serve::escape_lab_serve_call;
use crate::ArticleError;

/// One scenario's figures from [`measure`].
#[derive(Clone, Debug, PartialEq)]
pub struct Measured {
    /// The scenario.
    pub name: String,
    /// Rounds, each one batch of whole cycles in each mode.
    pub rounds: usize,
    /// Calls made with the sampler on.
    pub sampled_calls: u64,
    /// Median over rounds of the time per call, system allocator.
    pub system_ns: f64,
    /// Median over rounds of the time per call, sampling allocator.
    pub sampled_ns: f64,
    /// Median over rounds of the ratio sampled / system, minus one.
    pub overhead: f64,
    /// Exact allocations and bytes per call (counting allocator).
    pub exact: (f64, f64),
    /// Estimated allocations and bytes per call (the sampler).
    pub estimate: (f64, f64),
    /// Samples taken during the sampled batches.
    pub samples: u64,
}

/// `escape-lab serve --measure`: per scenario, the exact allocations and
/// bytes per call (counting allocator, whole cycles), then rounds for
/// `duration`, each timing one batch of whole cycles (about 50 ms) under
/// the system allocator and one under the sampler (order alternating),
/// with the sampler's estimates summed over its batches. Everything runs
/// on this thread; the process's allocator mode is switched between
/// batches and left at the system allocator.
///
/// # Errors
///
/// [`ArticleError::Usage`] when a scenario fails (its setup or a call).
///
/// # Allocation
///
/// The scenarios' own, a small vector of times per scenario, and the
/// sampler's snapshots (taken under the system allocator).
pub fn measure(
    scenarios: &[Scenario],
    rate: u64,
    duration: Duration,
) -> Result<Vec<Measured>, ArticleError> {
    sampler::set_rate(rate);
    let mut out = Vec::new();
    for s in scenarios {
        alloc::set_mode(Mode::System);
        let mut call = s.setup().map_err(|e| failed(s, &e))?;
        let cycle = s.calls_per_cycle();
        // Warm-up, and a batch size: whole cycles, about 50 ms.
        let t = Instant::now();
        run_calls(s, &mut call, cycle)?;
        let per_cycle = t.elapsed().max(Duration::from_micros(1));
        let batch =
            (Duration::from_millis(50).as_nanos() / per_cycle.as_nanos()).max(1) as u64 * cycle;
        // Exact counts, per thread, as the `count` pass and the allocation
        // assertions take them (after one more call of warm-up).
        let mut error = None;
        let counts = escape_lab::allocs_per_run(batch, || {
            if error.is_none() {
                if let Err(e) = escape_lab_serve_call(&mut call) {
                    error = Some(e.message);
                }
            }
        });
        if let Some(e) = error {
            return Err(failed(s, &e));
        }
        let exact = (
            counts.allocs as f64 / batch as f64,
            counts.bytes as f64 / batch as f64,
        );

        let (mut system, mut sampled, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        let (mut est_objects, mut est_bytes, mut samples, mut sampled_calls) = (0.0, 0.0, 0, 0);
        let start = Instant::now();
        while start.elapsed() < duration || system.is_empty() {
            // Alternate which mode goes first, so drift favours neither.
            let (a, b) = if system.len() % 2 == 0 {
                let a = time_system(s, &mut call, batch)?;
                (a, time_sampled(s, &mut call, batch)?)
            } else {
                let b = time_sampled(s, &mut call, batch)?;
                (time_system(s, &mut call, batch)?, b)
            };
            system.push(a);
            sampled.push(b.ns);
            ratios.push(b.ns / a);
            est_objects += b.objects;
            est_bytes += b.bytes;
            samples += b.samples;
            sampled_calls += batch;
        }
        alloc::set_mode(Mode::System);
        out.push(Measured {
            name: s.name().to_owned(),
            rounds: system.len(),
            sampled_calls,
            system_ns: median(&mut system),
            sampled_ns: median(&mut sampled),
            overhead: median(&mut ratios) - 1.0,
            exact,
            estimate: (
                est_objects / sampled_calls as f64,
                est_bytes / sampled_calls as f64,
            ),
            samples,
        });
    }
    Ok(out)
}

fn failed(s: &Scenario, e: &dyn std::fmt::Display) -> ArticleError {
    ArticleError::Usage(format!("scenario {} failed: {e}", s.name()))
}

fn run_calls(s: &Scenario, call: &mut Call, n: u64) -> Result<(), ArticleError> {
    for _ in 0..n {
        escape_lab_serve_call(call).map_err(|e| failed(s, &e.message))?;
    }
    Ok(())
}

/// Time per call of `n` calls under the system allocator.
fn time_system(s: &Scenario, call: &mut Call, n: u64) -> Result<f64, ArticleError> {
    alloc::set_mode(Mode::System);
    let t = Instant::now();
    run_calls(s, call, n)?;
    Ok(t.elapsed().as_nanos() as f64 / n as f64)
}

/// One sampled batch: time per call, and the sampler's estimates.
struct SampledBatch {
    ns: f64,
    objects: f64,
    bytes: f64,
    samples: u64,
}

/// Time per call of `n` calls under the sampler, and what it estimated
/// (snapshots taken under the system allocator, outside the timing).
fn time_sampled(s: &Scenario, call: &mut Call, n: u64) -> Result<SampledBatch, ArticleError> {
    alloc::set_mode(Mode::System);
    let before = sampler::snapshot();
    alloc::set_mode(Mode::Sample);
    let t = Instant::now();
    let result = run_calls(s, call, n);
    let ns = t.elapsed().as_nanos() as f64 / n as f64;
    alloc::set_mode(Mode::System);
    result?;
    let d = sampler::snapshot().since(&before);
    let [objects, bytes, _, _] = d.totals();
    Ok(SampledBatch {
        ns,
        objects,
        bytes,
        samples: d.stats.samples,
    })
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The table `serve --measure` prints.
///
/// # Errors
///
/// A failed write.
///
/// # Allocation
///
/// The formatted lines.
pub fn print_measured(
    rows: &[Measured],
    rate: u64,
    duration: Duration,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    writeln!(
        out,
        "sampler overhead and accuracy: rate {} B, {:.0} s per scenario, system and sampled batches interleaved",
        group(rate),
        duration.as_secs_f64()
    )?;
    writeln!(
        out,
        "{:<12} {:>7} {:>12} {:>12} {:>9} {:>14} {:>14} {:>7} {:>14} {:>14} {:>7} {:>8}",
        "scenario",
        "rounds",
        "system/call",
        "sampled/call",
        "overhead",
        "allocs exact",
        "allocs est.",
        "error",
        "B exact",
        "B est.",
        "error",
        "samples"
    )?;
    for r in rows {
        let err = |est: f64, exact: f64| {
            if exact == 0.0 {
                if est == 0.0 {
                    "0".to_owned()
                } else {
                    "n/a".to_owned()
                }
            } else {
                format!("{:+.1}%", (est / exact - 1.0) * 100.0)
            }
        };
        writeln!(
            out,
            "{:<12} {:>7} {:>12} {:>12} {:>8.1}% {:>14.2} {:>14.2} {:>7} {:>14.2} {:>14.2} {:>7} {:>8}",
            r.name,
            r.rounds,
            escape_lab::__private::fmt::ns(r.system_ns),
            escape_lab::__private::fmt::ns(r.sampled_ns),
            r.overhead * 100.0,
            r.exact.0,
            r.estimate.0,
            err(r.estimate.0, r.exact.0),
            r.exact.1,
            r.estimate.1,
            err(r.estimate.1, r.exact.1),
            group(r.samples)
        )?;
    }
    Ok(())
}
