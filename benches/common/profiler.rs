//! A criterion [`Profiler`] that writes a CPU flamegraph of each benchmark
//! under `cargo bench -- --profile-time N`.
//!
//! pprof's own `criterion` integration is pinned to criterion 0.5 and its
//! flamegraphs to inferno 0.11 (its `criterion` feature), so this one goes
//! through `escape_lab::__private::pprof` and `escape_lab::__private::flame`, as escape-lab's CPU
//! pass does: every sample keeps its own instruction (so inlined frames and
//! lines are right), sampling is capped at the kernel's 250 Hz, `malloc`
//! and `free` are not blocklisted, and the SVGs look the same.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use criterion::profiler::Profiler;
use escape_lab::__private::flame;
use escape_lab::__private::fmt::error_chain;
use escape_lab::__private::pprof::{cpu, encode, fold, mapping, symbolize};

// Set between criterion's `start_profiling` and `stop_profiling` calls.
static PROFILING: AtomicBool = AtomicBool::new(false);

/// Whether criterion is profiling the current benchmark: it calls
/// [`FlameProfiler`] around the whole run of each benchmark under
/// `--profile-time`, and never otherwise. The allocation record uses it to
/// keep figures measured under the profiler out of its JSON.
pub fn is_profiling() -> bool {
    PROFILING.load(Ordering::Relaxed)
}

/// Samples with pprof while criterion profiles one benchmark, then writes
/// `flamegraph.svg` and `profile.pb.gz` (readable by `go tool pprof`) into
/// the directory criterion gives it (`<criterion home>/<group>/<id>/profile/`).
///
/// Failures are printed, not panicked on: a missing flamegraph should not
/// stop a long run.
pub struct FlameProfiler {
    frequency_hz: i32,
    profiler: Option<cpu::CpuProfiler>,
}

impl FlameProfiler {
    /// A profiler sampling at `frequency_hz` (clamped to 250 Hz by
    /// [`cpu::CpuProfiler::start`]).
    pub fn new(frequency_hz: i32) -> FlameProfiler {
        FlameProfiler {
            frequency_hz,
            profiler: None,
        }
    }
}

impl Profiler for FlameProfiler {
    fn start_profiling(&mut self, benchmark_id: &str, _benchmark_dir: &Path) {
        PROFILING.store(true, Ordering::Relaxed);
        match cpu::CpuProfiler::start(self.frequency_hz) {
            Ok(p) => self.profiler = Some(p),
            Err(e) => eprintln!(
                "warning: no flamegraph for {benchmark_id}: {}",
                error_chain(&e)
            ),
        }
    }

    fn stop_profiling(&mut self, benchmark_id: &str, benchmark_dir: &Path) {
        PROFILING.store(false, Ordering::Relaxed);
        let Some(profiler) = self.profiler.take() else {
            return;
        };
        let written = profiler
            .stop()
            .map_err(|e| error_chain(&e))
            .and_then(|samples| write(&samples, benchmark_id, benchmark_dir));
        match written {
            Ok(samples) => println!(
                "flamegraph: {} ({samples} samples)",
                benchmark_dir.join("flamegraph.svg").display()
            ),
            Err(e) => eprintln!("warning: no flamegraph for {benchmark_id}: {e}"),
        }
    }
}

// Writes the SVG and the protobuf; returns the number of samples.
fn write(samples: &cpu::CpuSamples, benchmark_id: &str, dir: &Path) -> Result<u64, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mappings = mapping::current_process().unwrap_or_default();
    let profile = encode::cpu_profile(
        samples,
        &mut symbolize::Symbolizer::new(),
        &encode::CpuProfileOptions {
            mappings: &mappings,
            ..encode::CpuProfileOptions::default()
        },
    );
    let folded =
        fold::fold(&profile, 0, &fold::FoldOptions::default()).map_err(|e| error_chain(&e))?;
    let title = format!("{benchmark_id}: CPU");
    let svg = flame::cpu_svg(&folded, &title).map_err(|e| error_chain(&e))?;
    escape_lab::__private::atomic::write(&dir.join("flamegraph.svg"), svg.as_bytes())
        .map_err(|e| error_chain(&e))?;
    let pb = encode::to_gzip(&profile).map_err(|e| error_chain(&e))?;
    escape_lab::__private::atomic::write(&dir.join("profile.pb.gz"), &pb)
        .map_err(|e| error_chain(&e))?;
    Ok(samples.total())
}
