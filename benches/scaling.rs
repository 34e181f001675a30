//! How build time, memory and throughput change with the number of patterns:
//! 100, 1,000, 10,000 and 100,000 patterns drawn from one dictionary, ours
//! (the `callback` variant over `Automaton::new`) beside the peers.
//!
//! The dictionary is the article's English one when its data is found, else
//! `synthetic-en`'s (sizes larger than the dictionary are skipped). A size of
//! `n` takes every `len/n`-th pattern (indices `i * len / n`), so the sample
//! is spread over the whole sorted dictionary and is the same on every run.
//! The haystack is the first MiB of the same workload's text (64 KiB in an
//! unoptimised build); one op is a whole pass over it, as in the `variants`
//! bench.
//!
//! Throughput goes through criterion (group `scaling`, ids `engine/n`);
//! build time (median of three builds, timed here) and memory (as each
//! crate reports its heap) are printed as a table with the allocations, and
//! written to `scaling.json` and `allocations.json` in
//! `target/escape-lab/bench/scaling/`.
//!
//! To add an engine, add its id to [`ENGINES`] and a way to build it to
//! [`build`] (and, if it is a new kind, to `common::engines::Engine`).
//!
//! ```text
//! cargo bench --bench scaling
//! cargo bench --bench scaling -- /10000     # criterion's filter: one size
//! ```

mod common;

use std::cell::OnceCell;
use std::time::Duration;

use acmatch::{chunks, Automaton, Variant, DEFAULT_CHUNK};
use common::engines::{self, Engine, Haystack, Reference};
use common::record::{self, Row, Slot};
use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use escape_lab::fmt::{error_chain, group as thousands, ns as fmt_ns, per_call};
use serde::Serialize;
use workload::{Builtin, Workload};

#[global_allocator]
static ALLOC: countalloc::CountingAlloc = countalloc::CountingAlloc;

/// Pattern counts.
const SIZES: [usize; 4] = [100, 1_000, 10_000, 100_000];
/// Haystack bytes per op (optimised builds).
const HAYSTACK: usize = 1 << 20;
/// Builds timed per engine and size in optimised builds; the median is
/// reported. Unoptimised builds build once.
const BUILDS: usize = 3;
/// The group name, and the folder of the JSON files.
const GROUP: &str = "scaling";
/// Our engine's id.
const OURS: &str = "callback";

/// The engines, in table order: ours, then the peers.
const ENGINES: [&str; 5] = [
    OURS,
    engines::AC_DFA,
    engines::AC_NFA,
    engines::DAACHORSE_BYTEWISE,
    engines::DAACHORSE_CHARWISE,
];

/// What one op is, as the JSON files say it.
const OP: &str = "one pass over the haystack: callback in chunk-byte calls with the cursor carried, the peers in one overlapping find-all";

/// One size: its patterns, and (built when its first benchmark runs) our
/// automaton, its median build time and the matches every engine must find.
struct Size {
    n: usize,
    patterns: Vec<Vec<u8>>,
    shared: OnceCell<(Automaton, Duration, Reference)>,
}

impl Size {
    fn shared(&self, h: &Haystack<'_>) -> &(Automaton, Duration, Reference) {
        self.shared.get_or_init(|| {
            let mut ac = None;
            let build = median_build(|| {
                let (built, took) = engines::build_ours(&self.patterns);
                ac = Some(built);
                Ok(took)
            })
            .expect("acmatch builds what the workload crate yields");
            let ac = ac.expect("built at least once");
            let reference = Reference::new(&ac, h);
            (ac, build, reference)
        })
    }
}

/// A benchmark's state: the engine and its median build time.
struct Built<'a> {
    engine: Engine<'a>,
    build: Duration,
}

/// Builds engine `id` over `size`'s patterns and checks it against the
/// reference; ours is the size's shared automaton.
fn build<'a>(id: &str, size: &'a Size, h: &Haystack<'_>) -> Result<Built<'a>, String> {
    let (ac, ac_build, reference) = size.shared(h);
    let (mut engine, build) = match id {
        OURS => (
            Engine::ours(Variant::Callback, ac, DEFAULT_CHUNK),
            *ac_build,
        ),
        peer => {
            let mut engine = None;
            let build = median_build(|| {
                let (built, took) = engines::build_peer(peer, &size.patterns)
                    .map_err(|e| format!("cannot build: {e}"))?;
                engine = Some(built);
                Ok(took)
            })?;
            (engine.expect("built at least once"), build)
        }
    };
    reference.check(&mut engine, h, &format!("{} patterns", size.n))?;
    Ok(Built { engine, build })
}

// The median of `BUILDS` timed builds (one in an unoptimised build).
fn median_build(mut build: impl FnMut() -> Result<Duration, String>) -> Result<Duration, String> {
    let builds = if common::UNOPTIMISED { 1 } else { BUILDS };
    let mut times = (0..builds)
        .map(|_| build())
        .collect::<Result<Vec<_>, _>>()?;
    times.sort();
    Ok(times[times.len() / 2])
}

/// The input, as both JSON files record it.
#[derive(Serialize)]
struct Input<'a> {
    dictionary: &'a str,
    dictionary_patterns: usize,
    haystack_bytes: usize,
    sample: &'static str,
}

/// One benchmark's entry in `scaling.json`.
#[derive(Serialize)]
struct ScalingEntry {
    build_ms_median: f64,
    builds_timed: usize,
    heap_bytes: usize,
}

/// What the table shows beside a benchmark's row.
struct Extra {
    engine: &'static str,
    n: usize,
    build: Option<Duration>,
    heap_bytes: Option<usize>,
}

fn scaling(c: &mut Criterion) {
    common::assert_counting();
    let dictionary = dictionary();
    let limit = if common::UNOPTIMISED {
        common::UNOPTIMISED_HAYSTACK
    } else {
        HAYSTACK
    };
    let h = Haystack::new(&dictionary.haystack).prefix(limit);
    let bytes = h.len() as u64;
    let calls = chunks(h.bytes, DEFAULT_CHUNK).count() as u64;

    let mut group = c.benchmark_group(GROUP);
    group
        .throughput(Throughput::Bytes(bytes))
        .sampling_mode(SamplingMode::Flat);
    let mut rows: Vec<Row> = Vec::new();
    let mut extras: Vec<Extra> = Vec::new();
    for n in SIZES {
        if n > dictionary.patterns.len() {
            eprintln!(
                "skipping {n} patterns: {} has only {}",
                dictionary.name,
                dictionary.patterns.len()
            );
            continue;
        }
        let size = Size {
            n,
            patterns: sample(&dictionary.patterns, n),
            shared: OnceCell::new(),
        };
        for id in ENGINES {
            if !engines::peer_fits_build(id, n) {
                eprintln!("not benchmarking {GROUP}/{id}/{n} in an unoptimised build: building it takes seconds there");
                continue;
            }
            let kind = if id == OURS { "variant" } else { "peer" };
            let engine_calls = if id == OURS { calls } else { 1 };
            let row = Row::new(format!("{id}/{n}"), kind, bytes, engine_calls);
            let mut slot = Slot::new(GROUP, row);
            group.bench_function(BenchmarkId::new(id, n), |b| {
                slot.run(b, || build(id, &size, &h), |s| s.engine.op(&h))
            });
            extras.push(Extra {
                engine: id,
                n,
                build: slot.state().map(|s| s.build),
                heap_bytes: slot.state().map(|s| s.engine.heap_bytes()),
            });
            rows.push(slot.row);
        }
    }
    group.finish();
    if !rows.iter().any(Row::ran) {
        return;
    }

    print_table(&dictionary, bytes, &rows, &extras);
    let input = record::to_value(&Input {
        dictionary: &dictionary.name,
        dictionary_patterns: dictionary.patterns.len(),
        haystack_bytes: h.len(),
        sample: "n patterns at indices i * len / n of the dictionary",
    });
    let builds = if common::UNOPTIMISED { 1 } else { BUILDS };
    let scaling_entries = rows
        .iter()
        .zip(&extras)
        .filter(|(r, _)| r.ran() && !r.profiled)
        .filter_map(|(r, x)| {
            let entry = ScalingEntry {
                build_ms_median: x.build?.as_secs_f64() * 1e3,
                builds_timed: builds,
                heap_bytes: x.heap_bytes?,
            };
            Some((r.id.clone(), record::to_value(&entry)))
        })
        .collect();
    record::save(GROUP, "scaling.json", OP, input.clone(), scaling_entries);
    record::save(
        GROUP,
        "allocations.json",
        OP,
        input,
        record::allocation_entries(&rows),
    );
}

// The article's English workload when its data is found, else synthetic-en.
fn dictionary() -> Workload {
    let synthetic = || {
        workload::load_builtin(Builtin::SyntheticEn, None).expect("synthetic workloads never fail")
    };
    match workload::article_dir(None)
        .map(|dir| workload::load_builtin(Builtin::ArticleEn, Some(&dir)))
    {
        Some(Ok(w)) => w,
        Some(Err(e)) => {
            eprintln!(
                "scaling: cannot load article-en ({}); using synthetic-en",
                error_chain(&e)
            );
            synthetic()
        }
        None => {
            eprintln!("scaling: no article data; drawing patterns from synthetic-en");
            synthetic()
        }
    }
}

// `n` patterns spread evenly over `all`: indices i * len / n.
fn sample(all: &[Vec<u8>], n: usize) -> Vec<Vec<u8>> {
    (0..n).map(|i| all[i * all.len() / n].clone()).collect()
}

fn print_table(dictionary: &Workload, bytes: u64, rows: &[Row], extras: &[Extra]) {
    let timed = !common::UNOPTIMISED;
    println!(
        "\nscaling: patterns from {} ({} in all); one op = one pass over {} bytes of its text",
        dictionary.name,
        thousands(dictionary.patterns.len() as u64),
        thousands(bytes)
    );
    let mut header = format!("{:<24} {:>9} {:>9}", "engine", "patterns", "ops");
    if timed {
        header.push_str(&format!(
            " {:>10} {:>11} {:>8} {:>8}",
            "build", "time/op", "MB/s", "vs peer"
        ));
    }
    header.push_str(&format!(
        " {:>12} {:>6} {:>9}",
        "heap bytes", "B/op", "allocs/op"
    ));
    println!("{header}");
    for (row, x) in rows.iter().zip(extras).filter(|(r, _)| r.ran()) {
        let patterns = thousands(x.n as u64);
        if let Some(e) = &row.error {
            println!("{:<24} {patterns:>9} error: {e}", x.engine);
            continue;
        }
        // The fastest peer with the same patterns, in this run.
        let best = record::best_peer(
            rows.iter()
                .zip(extras)
                .filter(|(_, o)| o.n == x.n)
                .map(|(r, _)| r),
        );
        let name = if row.profiled {
            format!("{} (p)", x.engine)
        } else {
            x.engine.to_owned()
        };
        let mut line = format!("{name:<24} {patterns:>9} {:>9}", thousands(row.ops));
        if timed {
            let build = x
                .build
                .map_or("-".to_owned(), |d| fmt_ns(d.as_nanos() as f64));
            let time = row.ns_per_op().map_or("-".to_owned(), fmt_ns);
            let (mbs, vs) = match best {
                Some(_) => (record::mb_s(row), record::vs(row, best)),
                None => ("-".to_owned(), "-".to_owned()),
            };
            line.push_str(&format!(" {build:>10} {time:>11} {mbs:>8} {vs:>8}"));
        }
        let heap = x.heap_bytes.map_or("-".to_owned(), |h| thousands(h as u64));
        line.push_str(&format!(
            " {heap:>12} {:>6} {:>9}",
            per_call(row.counts.bytes, row.ops),
            per_call(row.counts.allocs, row.ops),
        ));
        println!("{line}");
    }
    println!(
        "ops: every iteration criterion ran, its warm-up included; B and allocs: exact totals over them, divided"
    );
    if timed {
        println!(
            "build: median of {BUILDS} builds; time/op: mean over the ops, timed by the bench around the loop it counts; criterion's own estimates are above"
        );
        println!(
            "MB/s: 10^6 bytes/s, only beside a peer with the same patterns in this run; vs peer: relative to the fastest of them"
        );
    } else {
        println!("times: not shown, this build is unoptimised (cargo test --benches)");
    }
    if rows.iter().any(|r| r.profiled) {
        println!("(p): ran under the profiler (--profile-time); its figures are not written");
    }
}

criterion_group! {
    name = benches;
    config = common::criterion_config();
    targets = scaling
}
criterion_main!(benches);
