//! Every variant beside the peers on each workload: one criterion group per
//! workload, one benchmark per variant and per peer, throughput in bytes,
//! and exact allocations per op in a table after each group.
//!
//! Workloads: `synthetic-en` (the default, always); `article-en` and
//! `article-zh` when their data is found (`ESCAPE_LAB_DATA`, or
//! `../shared/data/article`); and `files`, the pattern file and haystack
//! named by `ESCAPE_LAB_PATTERNS` and `ESCAPE_LAB_HAYSTACK`.
//!
//! One op is a pass over the whole haystack (see `common::engines` for why):
//! our variants in [`acmatch::DEFAULT_CHUNK`]-byte calls with the cursor
//! carried, the peers in one overlapping find-all. Every engine's matches
//! are checked against ours before it is timed.
//!
//! ```text
//! cargo bench --bench variants                      # measure
//! cargo bench --bench variants -- --profile-time 5  # flamegraphs
//! cargo test --bench variants                       # smoke test
//! ```

mod common;

use std::env;
use std::path::Path;
use std::time::SystemTime;

use common::engines::{self, Engine, Haystack, Kind, Reference, PEER_IDS};
use common::report::{self, Row};
use common::RunArgs;
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use harness::acmatch::{Variant, DEFAULT_CHUNK};
use harness::{countalloc, workload};
use serde::Serialize;
use workload::{Builtin, Workload};

#[global_allocator]
static ALLOC: countalloc::CountingAlloc = countalloc::CountingAlloc;

/// In test mode each workload's haystack is cut to this many bytes (32
/// calls), so that `cargo test --benches` stays quick in a debug build.
const TEST_HAYSTACK: usize = 64 * 1024;

/// The pattern file of the `files` workload.
const PATTERNS_ENV: &str = "ESCAPE_LAB_PATTERNS";
/// The haystack file of the `files` workload.
const HAYSTACK_ENV: &str = "ESCAPE_LAB_HAYSTACK";

fn workloads(c: &mut Criterion) {
    common::assert_counting();
    let args = RunArgs::from_env();
    // Bad file settings fail before minutes are spent on the others.
    let files = files_workload();

    let synthetic = workload::load_builtin(Builtin::DEFAULT, None)
        .expect("the synthetic workloads never fail to load");
    bench_workload(c, &args, &synthetic);
    drop(synthetic);

    match workload::article_dir(None) {
        Some(dir) => {
            for which in [Builtin::ArticleEn, Builtin::ArticleZh] {
                match workload::load_builtin(which, Some(&dir)) {
                    Ok(w) => bench_workload(c, &args, &w),
                    Err(e) => println!("skipping {which}: {}", common::error_chain(&e)),
                }
            }
        }
        None => println!(
            "skipping article-en and article-zh: no article data (set {} to the folder holding en/ and cn/)",
            workload::DATA_ENV
        ),
    }

    if let Some(w) = files {
        bench_workload(c, &args, &w);
    }
}

// The `files` workload from the environment, `None` when neither variable is
// set; exits with status 2 and a message when only one is, or a file is bad.
fn files_workload() -> Option<Workload> {
    let get = |name| env::var_os(name).filter(|v| !v.is_empty());
    match (get(PATTERNS_ENV), get(HAYSTACK_ENV)) {
        (None, None) => None,
        (Some(p), Some(h)) => match workload::from_files(Path::new(&p), Path::new(&h)) {
            Ok(w) => Some(w),
            Err(e) => bad_input(&format!(
                "{PATTERNS_ENV} and {HAYSTACK_ENV}: {}",
                common::error_chain(&e)
            )),
        },
        (Some(_), None) => bad_input(&format!(
            "{PATTERNS_ENV} is set but {HAYSTACK_ENV} is not: set both to bench a pattern file against a haystack file"
        )),
        (None, Some(_)) => bad_input(&format!(
            "{HAYSTACK_ENV} is set but {PATTERNS_ENV} is not: set both to bench a pattern file against a haystack file"
        )),
    }
}

fn bad_input(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(2)
}

#[derive(Serialize)]
struct WorkloadJson<'a> {
    name: &'a str,
    description: &'a str,
    patterns: usize,
    pattern_bytes: usize,
    haystack_bytes: usize,
    chunk: usize,
    matches_per_op: u64,
    acmatch_build_ms: f64,
    acmatch_heap_bytes: usize,
}

const OP: &str = "one pass over the whole haystack: our variants in chunk-byte calls with the cursor carried, the peers in one overlapping find-all";

fn bench_workload(c: &mut Criterion, args: &RunArgs, w: &Workload) {
    let group_name = w.name.as_str();
    let ids: Vec<&str> = Variant::ALL
        .iter()
        .map(|v| v.name())
        .chain(PEER_IDS)
        .collect();
    if args.listing() {
        // Criterion lists what is registered and runs nothing.
        let mut group = c.benchmark_group(group_name);
        for id in ids {
            group.bench_function(id, |b| b.iter(|| ()));
        }
        group.finish();
        return;
    }
    if !args.wants_any(group_name, ids.iter().copied()) {
        return;
    }

    let full = Haystack::new(&w.haystack);
    let h = if args.testing() {
        full.prefix(TEST_HAYSTACK)
    } else {
        full
    };
    println!(
        "\n{group_name}: {} patterns, {} bytes of haystack{}, chunk {DEFAULT_CHUNK}",
        report::thousands(w.patterns.len() as u64),
        report::thousands(h.len() as u64),
        if h.len() < full.len() {
            " (cut for test mode)"
        } else {
            ""
        }
    );

    let (ac, build) = engines::build_ours(&w.patterns);
    println!("built acmatch in {:.0} ms", build.as_secs_f64() * 1e3);
    let reference = Reference::new(&ac, &h);
    let mut engines: Vec<Engine<'_>> = Vec::new();
    let mut rows: Vec<Row> = Vec::new();
    let wanted = |id: &str| args.wants(&format!("{group_name}/{id}"));
    for v in Variant::ALL {
        if wanted(v.name()) {
            engines.push(Engine::ours(v, &ac, DEFAULT_CHUNK));
        }
    }
    for id in PEER_IDS {
        if !wanted(id) {
            continue;
        }
        if args.testing()
            && id == engines::AC_DFA
            && w.patterns.len() > engines::TEST_DFA_MAX_PATTERNS
        {
            println!(
                "skipping {id} on {group_name} in test mode: building it takes seconds unoptimised (cargo bench runs it)"
            );
            continue;
        }
        match engines::build_peer(id, &w.patterns) {
            Ok((engine, took)) => {
                println!("built {id} in {:.0} ms", took.as_secs_f64() * 1e3);
                engines.push(engine);
            }
            Err(e) => {
                println!("skipping {id} on {group_name}: cannot build: {e}");
                rows.push(Row::failed(
                    id,
                    Kind::Peer.name(),
                    format!("cannot build: {e}"),
                ));
            }
        }
    }

    // Allocations first (they also show a variant that cannot run), then the
    // agreement check, both outside criterion's timing.
    let ops = if args.testing() { 1 } else { report::OPS };
    let mut timed: Vec<Engine<'_>> = Vec::new();
    for mut engine in engines {
        let id = engine.id();
        let row = Row::measure(
            id,
            engine.kind().name(),
            h.len() as u64,
            engine.calls_per_op(&h),
            ops,
            || engine.op(&h),
        );
        if let Some(e) = &row.error {
            println!("not timing {id} on {group_name}: {e}");
        } else if let Err(e) = reference.check(&mut engine, &h, group_name) {
            panic!("{e}");
        }
        if row.ok() {
            timed.push(engine);
        }
        rows.push(row);
    }

    let started = SystemTime::now();
    let mut group = c.benchmark_group(group_name);
    group
        .throughput(Throughput::Bytes(h.len() as u64))
        // An op takes milliseconds: flat sampling keeps the iteration count
        // (and so the run time) bounded.
        .sampling_mode(SamplingMode::Flat);
    let mut failures = vec![0u64; timed.len()];
    for (engine, failed) in timed.iter_mut().zip(&mut failures) {
        let id = engine.id();
        group.bench_function(id, |b| {
            b.iter(|| {
                let r = engine.op(&h);
                *failed += u64::from(r.is_err());
                r
            })
        });
    }
    group.finish();
    for (engine, failed) in timed.iter().zip(&failures) {
        if *failed > 0 {
            println!(
                "error: {} failed in {failed} timed ops on {group_name}; its time is not meaningful",
                engine.id()
            );
        }
    }

    // Table order: variants, then peers, whatever failed when.
    rows.sort_by_key(|r| ids.iter().position(|id| *id == r.id));
    let group_dir = common::criterion_home().join(group_name);
    for row in &mut rows {
        row.read_criterion(&group_dir, started);
    }
    report::print_table(
        &format!(
            "{group_name}: per op = one pass over {} bytes; {} matches",
            report::thousands(h.len() as u64),
            report::thousands(reference.count())
        ),
        &rows,
    );
    let workload = WorkloadJson {
        name: &w.name,
        description: &w.description,
        patterns: w.patterns.len(),
        pattern_bytes: w.pattern_bytes(),
        haystack_bytes: h.len(),
        chunk: DEFAULT_CHUNK,
        matches_per_op: reference.count(),
        acmatch_build_ms: build.as_secs_f64() * 1e3,
        acmatch_heap_bytes: ac.heap_bytes(),
    };
    report::save_allocations(args, group_name, OP, Some(workload), &rows);
}

criterion_group! {
    name = benches;
    config = common::criterion_config();
    targets = workloads
}
criterion_main!(benches);
