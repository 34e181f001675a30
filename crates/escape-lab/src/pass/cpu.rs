//! The `cpu` pass: pprof samples the measured calls at the kernel's tick
//! rate while they are timed in batches, under the system allocator.
//!
//! The child keeps every sample's own instruction addresses (escape-lab's
//! fork of pprof-rs, `escape-lab-pprof`), symbolizes them with their inlined frames
//! and lines, and writes `cpu.pb.gz` (one Location per address, a Mapping
//! for the executable, link-time addresses, so `go tool pprof -list`,
//! `-disasm` and `-addresses` work). It hands back the folded stacks, cut at
//! the measured-call frame so the flamegraph starts at the scenario's code,
//! and the source listing of the hottest functions; the parent draws
//! `cpu.svg`.

use std::time::{Duration, Instant};

use crate::alloc::{self, Mode};
use crate::flame;
use crate::frames::MEASURED_CALL;
use crate::model::{Artifact, CpuResult, PassResult, Timing};
use crate::pass::{Calls, Request};
use crate::pprof::listing::{self, Figures, FlatAt, ListingOptions};
use crate::pprof::{cpu, encode, fold, mapping, source, symbolize};
use crate::scenario::Scenario;

/// Target duration of one timed batch.
const BATCH: Duration = Duration::from_millis(5);

/// Functions shown in the CPU listing.
const LISTED_FUNCTIONS: usize = 4;

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

    let chain = |e: &dyn std::error::Error| crate::fmt::error_chain(e);
    let profiler = cpu::CpuProfiler::start(req.settings.cpu_hz).map_err(|e| chain(&e))?;
    let mut means = Vec::new();
    let mut n = 0;
    let start = Instant::now();
    while start.elapsed() < budget || means.is_empty() {
        let t = Instant::now();
        calls.run(batch)?;
        means.push(t.elapsed().as_nanos() as f64 / batch as f64);
        n += batch;
    }
    let samples = profiler.stop().map_err(|e| chain(&e))?;
    means.sort_by(f64::total_cmp);
    let timing = Timing {
        median: means[means.len() / 2],
        min: means[0],
        max: means[means.len() - 1],
        batches: means.len() as u64,
    };

    let comment = format!(
        "escape-lab scenario {}: {} calls in {} timed batches, median {} per call",
        s.name(),
        crate::fmt::group(n),
        timing.batches,
        crate::fmt::ns(timing.median)
    );
    let (folded, listing) = outputs(req, s.name(), &samples, &comment)?;
    Ok(PassResult::Cpu {
        result: CpuResult {
            calls: n,
            samples: samples.total(),
            timing,
        },
        folded,
        listing,
    })
}

/// Writes `cpu.pb.gz` and returns the folded stacks and the listing.
fn outputs(
    req: &Request,
    name: &str,
    samples: &cpu::CpuSamples,
    comment: &str,
) -> Result<(String, String), String> {
    let chain = |e: &dyn std::error::Error| crate::fmt::error_chain(e);
    let mappings = mapping::current_process().unwrap_or_default();
    let mut symbolizer = symbolize::Symbolizer::new();
    let profile = encode::cpu_profile(
        samples,
        &mut symbolizer,
        &encode::CpuProfileOptions {
            mappings: &mappings,
            comments: &[comment],
            ..encode::CpuProfileOptions::default()
        },
    );
    let gz = encode::to_gzip(&profile).map_err(|e| chain(&e))?;
    crate::atomic::write(&req.dir.join(Artifact::CpuPbGz.file_name()), &gz)
        .map_err(|e| chain(&e))?;
    let folded = fold::fold(
        &profile,
        0,
        &fold::FoldOptions {
            start_after: Some(MEASURED_CALL),
            then_after: Some(crate::frames::SCENARIO_CALL),
            outside: fold::Outside::Keep,
        },
    )
    .map_err(|e| chain(&e))?;
    let sources = source::SourceIndex::new(&req.settings.source_root())
        .with_rust_src(source::find_rust_src());
    let costs = listing::line_costs(&profile, &[0], FlatAt::Leaf).map_err(|e| chain(&e))?;
    let total: i64 = profile.sample.iter().filter_map(|x| x.value.first()).sum();
    let text = listing::listing(
        &costs,
        &ListingOptions {
            title: &format!("{name}: CPU, the hottest functions' lines"),
            value_names: &["samples"],
            figures: Figures::ShareOfTotal {
                totals: vec![total],
            },
            top: LISTED_FUNCTIONS,
            context: 1,
            max_gap: 4,
            sources: &sources,
            legend: &[
                "flat: samples whose innermost frame is the line; cum: samples passing through it.",
            ],
        },
    );
    Ok((folded, text))
}

/// The parent half: `cpu.svg` from the folded stacks the child returned.
pub(crate) fn render(name: &str, folded: &str) -> Result<Vec<u8>, crate::Error> {
    Ok(flame::cpu_svg(folded, &format!("{name}: CPU, from the scenario's call"))?.into_bytes())
}
