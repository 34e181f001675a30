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
//! `serve --measure` serves nothing (see [`crate::measure`]).

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
pub(crate) fn escape_lab_serve_call(call: &mut Call) -> Result<u64, CallError> {
    std::hint::black_box(call())
}
