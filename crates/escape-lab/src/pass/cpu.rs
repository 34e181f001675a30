//! The `cpu` pass: pprof samples the measured calls at the kernel's tick
//! rate while they are timed in batches, under the system allocator. The
//! child writes `cpu.pb.gz` and hands its folded stacks back in its result;
//! the parent draws `cpu.svg` from them.

use std::time::{Duration, Instant};

use crate::alloc::{self, Mode};
use crate::flame;
use crate::model::{Artifact, CpuResult, PassResult, Timing};
use crate::pass::{Calls, Request};
use crate::scenario::Scenario;

/// Target duration of one timed batch.
const BATCH: Duration = Duration::from_millis(5);

/// The child half: batches of whole cycles about [`BATCH`] long, timed,
/// under pprof for the settings' seconds (0.3 s at most when quick).
pub(crate) fn child(req: &Request, s: &Scenario, calls: &mut Calls) -> Result<PassResult, String> {
    alloc::set_mode(Mode::System);
    let cycle = s.calls_per_cycle();
    // Batch size: whole cycles, about `BATCH` long each.
    let t = Instant::now();
    calls.run(cycle)?;
    let per_cycle = t.elapsed().max(Duration::from_nanos(1));
    let cycles_per_batch = (BATCH.as_nanos() / per_cycle.as_nanos()).max(1) as u64;
    let batch = cycles_per_batch * cycle;
    let seconds = if req.settings.quick {
        req.settings.cpu_seconds.min(0.3)
    } else {
        req.settings.cpu_seconds
    };
    let budget = Duration::from_secs_f64(seconds.max(0.01));

    let guard =
        flame::start_cpu_profiler(req.settings.cpu_hz).map_err(|e| crate::fmt::error_chain(&e))?;
    let mut means = Vec::new();
    let mut n = 0;
    let start = Instant::now();
    while start.elapsed() < budget || means.is_empty() {
        let t = Instant::now();
        calls.run(batch)?;
        means.push(t.elapsed().as_nanos() as f64 / batch as f64);
        n += batch;
    }
    let report = guard
        .report()
        .build()
        .map_err(|e| format!("building the CPU report: {e}"))?;
    drop(guard);
    let pb = flame::pprof_gz(&report).map_err(|e| crate::fmt::error_chain(&e))?;
    crate::atomic::write(&req.dir.join(Artifact::CpuPbGz.file_name()), &pb)
        .map_err(|e| crate::fmt::error_chain(&e))?;
    let folded = flame::fold_report(&report);
    let samples = report.data.values().map(|&c| c as u64).sum();
    means.sort_by(f64::total_cmp);
    let timing = Timing {
        median: means[means.len() / 2],
        min: means[0],
        max: means[means.len() - 1],
        batches: means.len() as u64,
    };
    Ok(PassResult::Cpu {
        result: CpuResult {
            calls: n,
            samples,
            timing,
        },
        folded,
    })
}

/// The parent half: `cpu.svg` from the folded stacks the child returned.
pub(crate) fn render(name: &str, folded: &str) -> Result<Vec<u8>, crate::Error> {
    Ok(flame::cpu_svg(folded, &format!("{name}: CPU"))?.into_bytes())
}
