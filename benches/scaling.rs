//! How build time, memory and throughput change with the number of patterns:
//! 100, 1,000, 10,000 and 100,000 patterns drawn from one dictionary, ours
//! (the `callback` variant over `Automaton::new`) beside the peers.
//!
//! The dictionary is the article's English one when its data is found, else
//! `synthetic-en`'s (sizes larger than the dictionary are skipped). A size of
//! `n` takes every `len/n`-th pattern (indices `i * len / n`), so the sample
//! is spread over the whole sorted dictionary and is the same on every run.
//! The haystack is the first MiB of the same workload's text (64 KiB in test
//! mode); one op is a whole pass over it, as in the `variants` bench.
//!
//! Throughput goes through criterion (group `scaling`, ids `engine/n`);
//! build time (median of three builds) and memory (as each crate reports
//! its heap) are printed as a table and written to
//! `<criterion home>/scaling/scaling.json`, allocations per op to
//! `allocations.json` beside it.
//!
//! ```text
//! cargo bench --bench scaling
//! ```

mod common;

use std::time::{Duration, SystemTime};

use common::engines::{self, Engine, Haystack, Reference, PEER_IDS};
use common::report::{self, Row};
use common::RunArgs;
use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use harness::acmatch::{Variant, DEFAULT_CHUNK};
use harness::{countalloc, workload};
use serde::Serialize;
use workload::Builtin;

#[global_allocator]
static ALLOC: countalloc::CountingAlloc = countalloc::CountingAlloc;

/// Pattern counts.
const SIZES: [usize; 4] = [100, 1_000, 10_000, 100_000];
/// Haystack bytes per op.
const HAYSTACK: usize = 1 << 20;
/// Haystack bytes per op in test mode.
const TEST_HAYSTACK: usize = 64 * 1024;
/// Builds timed per engine and size; the median is reported.
const BUILDS: usize = 3;
/// The group name, and the folder of the JSON files.
const GROUP: &str = "scaling";
/// Our engine's id.
const OURS: &str = "callback";

#[derive(Serialize)]
struct ScalingJson<'a> {
    schema_version: u32,
    mode: &'static str,
    dictionary: &'a str,
    dictionary_patterns: usize,
    haystack_bytes: usize,
    sample: &'static str,
    builds_timed: usize,
    engines: Vec<EngineJson>,
}

#[derive(Serialize)]
struct EngineJson {
    engine: &'static str,
    patterns: usize,
    status: String,
    build_ms_median: Option<f64>,
    heap_bytes: Option<usize>,
    matches_per_op: Option<u64>,
    mb_per_s: Option<f64>,
}

// One line of the build-and-memory table.
struct Built {
    engine: &'static str,
    patterns: usize,
    build: Option<Duration>,
    heap_bytes: Option<usize>,
    row: usize,
}

fn scaling(c: &mut Criterion) {
    common::assert_counting();
    let args = RunArgs::from_env();
    let ids: Vec<&str> = std::iter::once(OURS).chain(PEER_IDS).collect();
    if args.listing() {
        let mut group = c.benchmark_group(GROUP);
        for n in SIZES {
            for id in &ids {
                group.bench_function(BenchmarkId::new(*id, n), |b| b.iter(|| ()));
            }
        }
        group.finish();
        return;
    }
    let wanted = |id: &str, n: usize| args.wants(&format!("{GROUP}/{id}/{n}"));
    if !SIZES.iter().any(|&n| ids.iter().any(|id| wanted(id, n))) {
        return;
    }

    let dictionary = match workload::article_dir(None)
        .map(|dir| workload::load_builtin(Builtin::ArticleEn, Some(&dir)))
    {
        Some(Ok(w)) => w,
        Some(Err(e)) => {
            println!(
                "scaling: cannot load article-en ({}); using synthetic-en",
                common::error_chain(&e)
            );
            synthetic()
        }
        None => {
            println!("scaling: no article data; drawing patterns from synthetic-en");
            synthetic()
        }
    };
    let limit = if args.testing() {
        TEST_HAYSTACK
    } else {
        HAYSTACK
    };
    let h = Haystack::new(&dictionary.haystack).prefix(limit);
    let builds = if args.testing() { 1 } else { BUILDS };
    let ops = if args.testing() { 1 } else { report::OPS };
    println!(
        "\nscaling: patterns from {} ({} in all), {} bytes of its text per op",
        dictionary.name,
        report::thousands(dictionary.patterns.len() as u64),
        report::thousands(h.len() as u64)
    );

    let started = SystemTime::now();
    let mut group = c.benchmark_group(GROUP);
    group
        .throughput(Throughput::Bytes(h.len() as u64))
        .sampling_mode(SamplingMode::Flat);
    let mut rows: Vec<Row> = Vec::new();
    let mut table: Vec<Built> = Vec::new();
    for n in SIZES {
        if n > dictionary.patterns.len() {
            println!(
                "skipping {n} patterns: {} has only {}",
                dictionary.name,
                dictionary.patterns.len()
            );
            continue;
        }
        if !ids.iter().any(|id| wanted(id, n)) {
            continue;
        }
        let patterns = sample(&dictionary.patterns, n);

        // Ours: timed builds, then the reference every engine must match.
        let mut times = Vec::new();
        let mut ac = None;
        for _ in 0..builds {
            let (built, took) = engines::build_ours(&patterns);
            times.push(took);
            ac = Some(built);
        }
        let ac = ac.expect("at least one build");
        let reference = Reference::new(&ac, &h);
        let mut engines: Vec<(Engine<'_>, Option<Duration>)> = Vec::new();
        if wanted(OURS, n) {
            engines.push((
                Engine::ours(Variant::Callback, &ac, DEFAULT_CHUNK),
                Some(median(times)),
            ));
        }
        for id in PEER_IDS {
            if !wanted(id, n) {
                continue;
            }
            if args.testing() && id == engines::AC_DFA && n > engines::TEST_DFA_MAX_PATTERNS {
                println!("skipping {id}/{n} in test mode: building it takes seconds unoptimised");
                continue;
            }
            let mut times = Vec::new();
            let mut last = None;
            for _ in 0..builds {
                match engines::build_peer(id, &patterns) {
                    Ok((engine, took)) => {
                        times.push(took);
                        last = Some(engine);
                    }
                    Err(e) => {
                        println!("skipping {id}/{n}: cannot build: {e}");
                        rows.push(Row::failed(
                            format!("{id}/{n}"),
                            "peer",
                            format!("cannot build: {e}"),
                        ));
                        table.push(Built {
                            engine: id,
                            patterns: n,
                            build: None,
                            heap_bytes: None,
                            row: rows.len() - 1,
                        });
                        break;
                    }
                }
            }
            if let Some(engine) = last {
                engines.push((engine, Some(median(times))));
            }
        }

        for (mut engine, build) in engines {
            let id = engine.id();
            let mut row = Row::measure(
                format!("{id}/{n}"),
                engine.kind().name(),
                h.len() as u64,
                engine.calls_per_op(&h),
                ops,
                || engine.op(&h),
            );
            if row.ok() {
                if let Err(e) = reference.check(&mut engine, &h, &format!("{n} patterns")) {
                    panic!("{e}");
                }
                group.bench_function(BenchmarkId::new(id, n), |b| b.iter(|| engine.op(&h)));
            } else {
                row.matches_per_op = None;
            }
            rows.push(row);
            table.push(Built {
                engine: id,
                patterns: n,
                build,
                heap_bytes: Some(engine.heap_bytes()),
                row: rows.len() - 1,
            });
        }
    }
    group.finish();

    let group_dir = common::criterion_home().join(GROUP);
    for row in &mut rows {
        row.read_criterion(&group_dir, started);
    }
    print_build_table(&table, &rows);

    let json = ScalingJson {
        schema_version: 1,
        mode: args.mode.name(),
        dictionary: &dictionary.name,
        dictionary_patterns: dictionary.patterns.len(),
        haystack_bytes: h.len(),
        sample: "n patterns at indices i * len / n of the dictionary",
        builds_timed: builds,
        engines: table
            .iter()
            .map(|b| {
                let row = &rows[b.row];
                EngineJson {
                    engine: b.engine,
                    patterns: b.patterns,
                    status: row
                        .error
                        .clone()
                        .map_or("ok".to_owned(), |e| format!("error: {e}")),
                    build_ms_median: b.build.map(|d| d.as_secs_f64() * 1e3),
                    heap_bytes: b.heap_bytes,
                    matches_per_op: row.matches_per_op,
                    mb_per_s: row.mb_per_s(),
                }
            })
            .collect(),
    };
    report::save(&args, GROUP, "scaling.json", &json);
    report::save_allocations(
        &args,
        GROUP,
        "one pass over the haystack: callback in chunk-byte calls with the cursor carried, the peers in one overlapping find-all",
        None::<()>,
        &rows,
    );
}

fn synthetic() -> workload::Workload {
    workload::load_builtin(Builtin::SyntheticEn, None).expect("synthetic workloads never fail")
}

// `n` patterns spread evenly over `all`: indices i * len / n.
fn sample(all: &[Vec<u8>], n: usize) -> Vec<Vec<u8>> {
    (0..n).map(|i| all[i * all.len() / n].clone()).collect()
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn print_build_table(table: &[Built], rows: &[Row]) {
    println!("\nscaling: build time (median), memory, throughput and allocations");
    println!(
        "{:<20} {:>9} {:>10} {:>12} {:>8} {:>8} {:>6} {:>9}",
        "engine", "patterns", "build ms", "heap bytes", "MB/s", "vs peer", "B/op", "allocs/op"
    );
    let mut own_timing = false;
    for b in table {
        let row = &rows[b.row];
        if let Some(e) = &row.error {
            println!(
                "{:<20} {:>9} error: {e}",
                b.engine,
                report::thousands(b.patterns as u64)
            );
            continue;
        }
        // The fastest peer at the same number of patterns.
        let best = table
            .iter()
            .filter(|o| o.patterns == b.patterns)
            .map(|o| &rows[o.row])
            .filter(|r| r.kind == "peer")
            .filter_map(Row::mb_per_s)
            .max_by(f64::total_cmp);
        own_timing |= row.criterion_ns.is_none();
        let build = b
            .build
            .map_or("-".to_owned(), |d| format!("{:.2}", d.as_secs_f64() * 1e3));
        let heap = b
            .heap_bytes
            .map_or("-".to_owned(), |h| report::thousands(h as u64));
        let mark = if row.criterion_ns.is_none() { "*" } else { "" };
        let mbs = row
            .mb_per_s()
            .map_or("-".to_owned(), |m| format!("{m:.1}{mark}"));
        let ratio = match (row.mb_per_s(), best) {
            (Some(m), Some(best)) => format!("{:.2}x", m / best),
            _ => "-".to_owned(),
        };
        println!(
            "{:<20} {:>9} {build:>10} {heap:>12} {mbs:>8} {ratio:>8} {:>6} {:>9}",
            b.engine,
            report::thousands(b.patterns as u64),
            report::quotient(row.counts.bytes, row.ops),
            report::quotient(row.counts.allocs, row.ops),
        );
    }
    println!("vs peer: MB/s relative to the fastest peer with the same patterns");
    if own_timing {
        println!(
            "* no criterion estimate from this run (test or profile mode): mean of the counted ops"
        );
    }
}

criterion_group! {
    name = benches;
    config = common::criterion_config();
    targets = scaling
}
criterion_main!(benches);
