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
//! are checked against ours before it is timed, on criterion's first call of
//! its routine, so only the benchmarks criterion runs are built and checked.
//!
//! ```text
//! cargo bench --bench variants                      # measure
//! cargo bench --bench variants -- fixed             # criterion's filter
//! cargo bench --bench variants -- --profile-time 5  # flamegraphs
//! cargo test --bench variants                       # smoke test
//! ```

mod common;

use std::cell::OnceCell;
use std::env;
use std::path::Path;
use std::time::Duration;

use acmatch::{chunks, Automaton, Variant, DEFAULT_CHUNK};
use common::engines::{self, Engine, Haystack, Kind, Reference, PEER_IDS};
use common::record::{Row, Slot};
use common::{results, table};
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use escape_lab::__private::fmt::{error_chain, group as thousands};
use serde::Serialize;
use workload::{Builtin, Workload};

#[global_allocator]
static ALLOC: countalloc::CountingAlloc = countalloc::CountingAlloc;

/// The pattern file of the `files` workload.
const PATTERNS_ENV: &str = "ESCAPE_LAB_PATTERNS";
/// The haystack file of the `files` workload.
const HAYSTACK_ENV: &str = "ESCAPE_LAB_HAYSTACK";

/// What one op is, as `allocations.json` says it.
const OP: &str = "one pass over the whole haystack: our variants in chunk-byte calls with the cursor carried, the peers in one overlapping find-all";

fn workloads(c: &mut Criterion) {
    common::assert_counting();
    // Bad file settings fail before minutes are spent on the others.
    let files = files_workload();

    let synthetic = workload::load_builtin(Builtin::DEFAULT, None)
        .expect("the synthetic workloads never fail to load");
    bench_workload(c, &synthetic);
    drop(synthetic);

    match workload::article_dir(None) {
        Some(dir) => {
            for which in [Builtin::ArticleEn, Builtin::ArticleZh] {
                match workload::load_builtin(which, Some(&dir)) {
                    Ok(w) => bench_workload(c, &w),
                    Err(e) => eprintln!("skipping {which}: {}", error_chain(&e)),
                }
            }
        }
        None => eprintln!(
            "skipping article-en and article-zh: no article data (set {} to the folder holding en/ and cn/)",
            workload::DATA_ENV
        ),
    }

    if let Some(w) = files {
        bench_workload(c, &w);
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
                error_chain(&e)
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

/// What the benchmarks of one group share: our automaton and the matches
/// every engine must find. Built when the first benchmark of the group runs,
/// so a group that criterion filters out builds nothing.
struct Shared {
    ac: Automaton,
    build: Duration,
    reference: Reference,
}

/// The input of a group, as `allocations.json` records it: a file whose
/// input differs is replaced, not merged. (No description: it holds the
/// data's absolute path.)
#[derive(Serialize)]
struct Input<'a> {
    workload: &'a str,
    patterns: usize,
    pattern_bytes: usize,
    haystack_bytes: usize,
    chunk: usize,
    matches_per_op: u64,
}

fn bench_workload(c: &mut Criterion, w: &Workload) {
    let group_name = w.name.as_str();
    let full = Haystack::new(&w.haystack);
    let h = if common::UNOPTIMISED {
        full.prefix(common::UNOPTIMISED_HAYSTACK)
    } else {
        full
    };
    let cell = OnceCell::new();
    let shared = || {
        cell.get_or_init(|| {
            let (ac, build) = engines::build_ours(&w.patterns);
            let reference = Reference::new(&ac, &h);
            Shared {
                ac,
                build,
                reference,
            }
        })
    };
    let bytes = h.len() as u64;
    let calls = chunks(h.bytes, DEFAULT_CHUNK).count() as u64;

    let mut group = c.benchmark_group(group_name);
    group
        .throughput(Throughput::Bytes(bytes))
        // An op takes milliseconds: flat sampling keeps the iteration count
        // (and so the run time) bounded.
        .sampling_mode(SamplingMode::Flat);
    let mut rows: Vec<Row> = Vec::new();
    for v in Variant::ALL {
        let row = Row::new(v.name(), Kind::Variant.name(), bytes, calls);
        let mut slot = Slot::new(group_name, row);
        group.bench_function(v.name(), |b| {
            slot.run(
                b,
                || {
                    let s = shared();
                    let mut engine = Engine::ours(v, &s.ac, DEFAULT_CHUNK);
                    s.reference.check(&mut engine, &h, group_name)?;
                    Ok(engine)
                },
                |engine| engine.op(&h),
            )
        });
        rows.push(slot.row);
    }
    for id in PEER_IDS {
        if !engines::peer_fits_build(id, w.patterns.len()) {
            eprintln!(
                "not benchmarking {group_name}/{id} in an unoptimised build: building it takes seconds there (cargo bench runs it)"
            );
            continue;
        }
        let mut slot = Slot::new(group_name, Row::new(id, Kind::Peer.name(), bytes, 1));
        group.bench_function(id, |b| {
            slot.run(
                b,
                || {
                    let s = shared();
                    let (mut engine, _) = engines::build_peer(id, &w.patterns)
                        .map_err(|e| format!("cannot build: {e}"))?;
                    s.reference.check(&mut engine, &h, group_name)?;
                    Ok(engine)
                },
                |engine| engine.op(&h),
            )
        });
        rows.push(slot.row);
    }
    group.finish();

    // Nothing of this group ran (filtered out, or `--list`).
    let Some(s) = cell.get() else {
        return;
    };
    assert_boxed_counted(&rows);
    let cut = if h.len() < full.len() {
        " (cut: unoptimised build)"
    } else {
        ""
    };
    let built = if common::UNOPTIMISED {
        String::new()
    } else {
        format!("; acmatch built in {:.0} ms", s.build.as_secs_f64() * 1e3)
    };
    table::print_table(
        &format!(
            "{group_name}: {} patterns, {} matches per op; one op = one pass over {} bytes{cut}: {} calls of {} bytes for our variants, one find-all for the peers{built}",
            thousands(w.patterns.len() as u64),
            thousands(s.reference.count()),
            thousands(bytes),
            thousands(calls),
            thousands(DEFAULT_CHUNK as u64),
        ),
        &rows,
    );
    let input = Input {
        workload: &w.name,
        patterns: w.patterns.len(),
        pattern_bytes: w.pattern_bytes(),
        haystack_bytes: h.len(),
        chunk: DEFAULT_CHUNK,
        matches_per_op: s.reference.count(),
    };
    results::save(
        group_name,
        "allocations.json",
        OP,
        results::to_value(&input),
        results::allocation_entries(&rows),
    );
}

// The positive control of the record itself: `boxed` allocates one `Box`
// per hit and per token, so when it ran and found matches, its record must
// show allocations (else the snapshots around the timed loop see nothing).
fn assert_boxed_counted(rows: &[Row]) {
    let boxed = Variant::Boxed.name();
    if let Some(r) = rows
        .iter()
        .find(|r| r.id == boxed && r.ops > 0 && r.matches_per_op.is_some())
    {
        assert!(
            r.counts.allocs >= r.ops,
            "{boxed} found matches but its record shows {} allocations over {} ops: the allocation record is not counting",
            r.counts.allocs,
            r.ops
        );
    }
}

criterion_group! {
    name = benches;
    config = common::criterion_config();
    targets = workloads
}
criterion_main!(benches);
