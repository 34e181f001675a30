//! The `heap` pass: dhat tracks every allocation of the measured calls with
//! its backtrace. The child writes dhat's `heap.json`, and from it, while the
//! addresses still mean something in its own process, `heap.pb.gz` (a pprof
//! heap profile with Go's sample types, for `go tool pprof`) and the source
//! listing of the top allocating functions. The parent reads `heap.json`
//! once and turns it into allocation sites (`sites.txt`) and allocation
//! flamegraphs, kept in memory until they are written.

use std::path::Path;

use crate::alloc::{self, Mode};
use crate::flame;
use crate::model::{Artifact, HeapResult, PassResult, Site};
use crate::pass::{measured_calls, Calls, Request};
use crate::pprof::listing::{self, Figures, FlatAt, ListingOptions};
use crate::pprof::{encode, heap, mapping, source, symbolize};
use crate::scenario::Scenario;
use crate::sites;

/// Calls the `heap` pass makes in `--quick` mode at most: dhat's backtraces
/// make an allocation-heavy call about 40 times slower. Whole cycles when
/// a cycle fits (`floor(64 / cycle)` of them); where a cycle is longer, its
/// first 64 calls, a sample of the cycle and not all of it (the `count`
/// pass and the gate always measure whole cycles).
const QUICK_HEAP_CALLS: u64 = 64;

/// The child half: dhat's profiler around the measured calls, its file
/// written to a temporary name and renamed to `heap.json`.
pub(crate) fn child(req: &Request, s: &Scenario, calls: &mut Calls) -> Result<PassResult, String> {
    let n = if req.settings.quick {
        let cycle = s.calls_per_cycle();
        let whole = (QUICK_HEAP_CALLS / cycle) * cycle;
        measured_calls(s).min(if whole > 0 { whole } else { QUICK_HEAP_CALLS })
    } else {
        measured_calls(s)
    };
    let final_path = req.dir.join(Artifact::HeapJson.file_name());
    let tmp_path = req.dir.join(".heap.json.tmp");
    alloc::set_mode(Mode::Dhat);
    let profiler = dhat::Profiler::builder()
        .file_name(&tmp_path)
        .trim_backtraces(Some(64))
        .build();
    let items = calls.run(n);
    let stats = dhat::HeapStats::get();
    drop(profiler); // writes the file
    alloc::set_mode(Mode::System);
    items?;
    std::fs::rename(&tmp_path, &final_path)
        .map_err(|e| format!("{}: {e}", final_path.display()))?;
    let listing = pprof_outputs(req, s.name(), n).map_err(|e| crate::fmt::error_chain(&e))?;
    Ok(PassResult::Heap {
        result: HeapResult {
            calls: n,
            blocks: stats.total_blocks,
            bytes: stats.total_bytes,
            peak_live_bytes: stats.max_bytes as u64,
        },
        listing,
    })
}

/// Functions shown in the allocation listing.
const LISTED_FUNCTIONS: usize = 4;

/// Writes `heap.pb.gz` from the `heap.json` this process just wrote
/// (symbolized afresh: full paths, the CPU profile's names) and returns the
/// allocation listing, per call over `calls` calls.
fn pprof_outputs(req: &Request, name: &str, calls: u64) -> Result<String, crate::Error> {
    let sources = source::SourceIndex::new(&req.settings.source_root())
        .with_rust_src(source::find_rust_src());
    let mappings = mapping::current_process().unwrap_or_default();
    let mut symbolizer = symbolize::Symbolizer::new();
    let comment = format!("escape-lab scenario {name}");
    let profile = heap::heap_profile_from_file(
        &req.dir.join(Artifact::HeapJson.file_name()),
        &heap::HeapOptions {
            calls,
            mappings: &mappings,
            sources: Some(&sources),
            comments: &[comment.as_str()],
            ..heap::HeapOptions::default()
        },
        Some(&mut symbolizer),
    )?;
    let gz = encode::to_gzip(&profile)?;
    let path = req.dir.join(Artifact::HeapPbGz.file_name());
    crate::atomic::write(&path, &gz)?;
    let ix = encode::ProfileIndex::new(&profile);
    let values = [
        ix.sample_index("alloc_objects")?,
        ix.sample_index("alloc_space")?,
    ];
    let costs = listing::line_costs(&profile, &values, FlatAt::FirstOwn(&sources))?;
    Ok(listing::listing(
        &costs,
        &ListingOptions {
            title: &format!("{name}: allocations, the top allocating functions' lines"),
            value_names: &["allocs", "bytes"],
            figures: Figures::PerCall { calls },
            top: LISTED_FUNCTIONS,
            context: 1,
            max_gap: 4,
            sources: &sources,
            legend: &[
                "flat: allocations made at the line (the first frame in your code); cum: allocations under it.",
            ],
        },
    ))
}

/// What the parent makes of a heap pass.
#[derive(Debug, Default)]
pub(crate) struct HeapRendering {
    /// Allocation sites, most allocations first.
    pub sites: Vec<Site>,
    /// Folded stacks weighted by allocations, for differential graphs.
    pub folded_count: String,
    /// Folded stacks weighted by bytes.
    pub folded_bytes: String,
    /// `sites.txt` and the two allocation flamegraphs.
    pub files: Vec<(Artifact, Vec<u8>)>,
}

/// The parent half: reads the child's `heap.json` from `dir` and renders
/// `sites.txt` and the allocation flamegraphs in memory.
pub(crate) fn render(
    name: &str,
    dir: &Path,
    result: &HeapResult,
    source_root: &Path,
) -> Result<HeapRendering, crate::Error> {
    let h = sites::read(&dir.join(Artifact::HeapJson.file_name()), source_root)?;
    let calls = result.calls;
    let txt = sites::sites_txt(name, &h.sites, calls);
    let bytes_svg = flame::alloc_svg(
        &h.folded_bytes,
        &format!("{name}: bytes allocated in {calls} calls"),
        "bytes",
    )?;
    let count_svg = flame::alloc_svg(
        &h.folded_count,
        &format!("{name}: allocations in {calls} calls"),
        "allocations",
    )?;
    Ok(HeapRendering {
        sites: h.sites,
        folded_count: h.folded_count,
        folded_bytes: h.folded_bytes,
        files: vec![
            (Artifact::SitesTxt, txt.into_bytes()),
            (Artifact::AllocBytesSvg, bytes_svg.into_bytes()),
            (Artifact::AllocCountSvg, count_svg.into_bytes()),
        ],
    })
}
