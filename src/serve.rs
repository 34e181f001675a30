//! `escape-lab serve`: the article's `:8787`. The chosen scenarios run in a
//! loop on a worker thread, under escape-lab's allocator in its sampling
//! mode, while `/debug/pprof/` answers on another thread, so the Go
//! investigation replays against a live process:
//!
//! ```text
//! escape-lab serve --variants boxed --addr 127.0.0.1:8787
//! go tool pprof -sample_index=alloc_space -top http://127.0.0.1:8787/debug/pprof/allocs
//! ```
//!
//! `serve --measure` serves nothing: it times each scenario with and
//! without the sampler, interleaved, and sets the sampler's estimates
//! beside the exact counts of the counting allocator.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use escape_lab::__private::child;
use escape_lab::__private::fmt::group;
use escape_lab::__private::scenario::Call;
use escape_lab::__private::{self as alloc, Mode};
use escape_lab::live::{sampler, Server};
use escape_lab::CallError;
use escape_lab::Scenario;

use crate::ArticleError;

/// The frame every call made by `serve` goes through, so profiles can tell
/// the scenarios' calls from their setup and from the server.
pub const SERVE_CALL: &str = "escape_lab_serve_call";

/// Options of `escape-lab serve`.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Where to listen. Default: `127.0.0.1:8787` (the article's port, on
    /// loopback).
    pub addr: String,
    /// Average bytes between heap samples. Default: 512 KiB (Go's).
    pub rate: u64,
    /// Stop after this long. Default: run until killed (Ctrl-C).
    pub duration: Option<Duration>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            addr: "127.0.0.1:8787".to_owned(),
            rate: sampler::DEFAULT_RATE,
            duration: None,
        }
    }
}

/// Switches this process's allocator to the sampler at `rate`: call it
/// before loading the workload, so the heap profile's in-use figures
/// include it. [`serve`] calls it too.
///
/// # Allocation
///
/// Never allocates.
pub fn start_sampling(rate: u64) {
    sampler::set_rate(rate);
    alloc::set_mode(Mode::Sample);
}

/// How far each scenario has got, shared with the server's comments.
struct Progress {
    names: Vec<String>,
    calls: Vec<AtomicU64>,
    failed: Mutex<Vec<String>>,
}

/// `escape-lab serve`: switches this process's allocator to the sampler,
/// starts the endpoints, prints their URL (the first line of `out`), runs
/// the scenarios in a loop on a worker thread, and returns after
/// `duration`, or when every scenario has failed (exit code 1).
///
/// # Errors
///
/// [`ArticleError::Lab`] when the address cannot be bound;
/// [`ArticleError::Output`] when `out` cannot be written.
///
/// # Allocation
///
/// The server, the worker thread, and whatever the scenarios allocate.
pub fn serve(
    scenarios: Vec<Scenario>,
    opts: &ServeOptions,
    out: &mut dyn Write,
) -> Result<u8, ArticleError> {
    start_sampling(opts.rate);
    let progress = Arc::new(Progress {
        names: scenarios.iter().map(|s| s.name().to_owned()).collect(),
        calls: scenarios.iter().map(|_| AtomicU64::new(0)).collect(),
        failed: Mutex::new(Vec::new()),
    });
    let p = Arc::clone(&progress);
    let handle = Server::new()
        .addr(opts.addr.clone())
        .comments(move || comments(&p))
        .start()
        .map_err(|e| ArticleError::Lab(e.into()))?;
    let url = handle.url();
    let print = |out: &mut dyn Write| -> std::io::Result<()> {
        writeln!(out, "escape-lab serve: {url}")?;
        writeln!(
            out,
            "  scenarios {} in a loop; heap sampled every {} bytes on average; {}",
            progress.names.join(", "),
            group(opts.rate),
            match opts.duration {
                Some(d) => format!("stopping after {:.0} s", d.as_secs_f64()),
                None => "Ctrl-C to stop".to_owned(),
            }
        )?;
        writeln!(
            out,
            "  go tool pprof -sample_index=alloc_space -top {url}allocs"
        )?;
        out.flush()
    };
    print(out).map_err(ArticleError::Output)?;
    if !handle.addr().ip().is_loopback() {
        eprintln!(
            "escape-lab serve: warning: listening on {}, which other machines may reach: \
             anyone who connects can read this program's stacks and make it spend CPU",
            handle.addr()
        );
    }

    let stop = Arc::new(AtomicBool::new(false));
    let worker = {
        let (stop, progress) = (Arc::clone(&stop), Arc::clone(&progress));
        std::thread::Builder::new()
            .name("escape-lab-serve-worker".to_owned())
            .spawn(move || run_loop(&scenarios, &progress, &stop))
            .map_err(ArticleError::Output)?
    };
    let deadline = opts.duration.and_then(|d| Instant::now().checked_add(d));
    // Ctrl-C (SIGINT, SIGTERM, SIGHUP) stops like the deadline: dropping
    // the handle answers a waiting /profile with 503 before the exit.
    child::catch_signals();
    while !worker.is_finished() {
        if deadline.is_some_and(|d| Instant::now() >= d) || child::cancelled() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    stop.store(true, Ordering::Relaxed);
    let all_failed = worker.join().unwrap_or(true);
    drop(handle);
    if child::cancelled() {
        return Ok(130);
    }
    if all_failed {
        eprintln!("escape-lab serve: every scenario failed; stopping");
        return Ok(1);
    }
    Ok(0)
}

/// The profiles' comments: calls so far per scenario.
fn comments(p: &Progress) -> Vec<String> {
    let mut out: Vec<String> = p
        .names
        .iter()
        .zip(&p.calls)
        .map(|(name, calls)| {
            format!(
                "scenario {name}: {} calls so far (through {SERVE_CALL})",
                group(calls.load(Ordering::Relaxed))
            )
        })
        .collect();
    out.extend(
        p.failed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned(),
    );
    out
}

/// The worker: one cycle of each scenario in turn until `stop`. A scenario
/// whose setup or call fails leaves the loop, with a message on stderr and
/// in the profiles' comments. Returns true when none was left to run.
fn run_loop(scenarios: &[Scenario], progress: &Progress, stop: &AtomicBool) -> bool {
    let fail = |msg: String| {
        eprintln!("escape-lab serve: {msg}");
        progress
            .failed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(msg);
    };
    let mut calls: Vec<(usize, Call)> = Vec::new();
    for (i, s) in scenarios.iter().enumerate() {
        match s.setup() {
            Ok(call) => calls.push((i, call)),
            Err(e) => fail(format!("scenario {} failed in its setup: {e}", s.name())),
        }
    }
    while !stop.load(Ordering::Relaxed) && !calls.is_empty() {
        calls.retain_mut(|(i, call)| {
            let s = &scenarios[*i];
            for _ in 0..s.calls_per_cycle() {
                let made = progress.calls[*i].fetch_add(1, Ordering::Relaxed) + 1;
                if let Err(e) = escape_lab_serve_call(call) {
                    fail(format!(
                        "scenario {} failed at call {made} and left the loop: {}{}",
                        s.name(),
                        e.message,
                        if e.detail.is_empty() {
                            String::new()
                        } else {
                            format!(": {}", e.detail)
                        }
                    ));
                    return false;
                }
            }
            true
        });
    }
    calls.is_empty()
}

/// The frame named [`SERVE_CALL`]: never inlined, not a tail call.
#[inline(never)]
fn escape_lab_serve_call(call: &mut Call) -> Result<u64, CallError> {
    std::hint::black_box(call())
}

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
