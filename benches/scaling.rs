//! Matcher speed at every dictionary size: random samples of 100, 1,000 and
//! 10,000 words and the whole list, for an English word list with accented
//! words over English prose (group `scaling-en`) and a Chinese word list
//! over Chinese prose (`scaling-zh`); every variant beside `aho-corasick`
//! (DFA, contiguous NFA) and `daachorse` (bytewise, charwise), and Hyperscan
//! with `--features hyperscan`.
//!
//! The words, the texts and the samples are `workload::scaling`'s, the same
//! as the `acmatch` example `scaling` uses (its documentation says how they
//! are made). Without the data folder (`ESCAPE_LAB_DATA`, or `shared/data`
//! beside the repository) the bench says so and measures nothing.
//!
//! One op is one pass over the whole text, as in the `variants` bench: our
//! variants in [`acmatch::DEFAULT_CHUNK`]-byte calls with the cursor carried,
//! the peers in one overlapping find-all. Every engine's matches are checked
//! against ours before it is timed (a disagreement panics).
//!
//! Throughput goes through criterion (ids `scaling-<lang>/<engine>/<n>`,
//! `n` in 100, 1000, 10000, all). After each group a table gives, per size,
//! each engine's MB/s (the bench's own timing of the ops it counted), its
//! ratio to the fastest peer at that size, exact allocations per op, build
//! time (median of three builds, timed here when the benchmark is set up)
//! and heap memory (each crate's own figure); they are also written to
//! `scaling.json` and `allocations.json` in
//! `target/escape-lab/bench/scaling-<lang>/`.
//!
//! ```text
//! cargo bench --bench scaling
//! cargo bench --bench scaling -- scaling-zh/.*/all    # criterion's filter
//! cargo bench --bench scaling --features hyperscan    # with Hyperscan
//! ```

#[path = "scaling/build.rs"]
mod build;
mod common;
#[path = "scaling/table.rs"]
mod table;

use acmatch::{chunks, DEFAULT_CHUNK};
use build::{build, builds, engine_specs, Size};
use common::engines::{self, Haystack};
use common::record::{Row, Slot};
use common::results;
use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion, SamplingMode,
    Throughput,
};
use serde::Serialize;
use table::{print_run, Extra, Head, SizeInfo};
use workload::scaling::{data_root, Corpus, Lang, SEED};

#[global_allocator]
static ALLOC: countalloc::CountingAlloc = countalloc::CountingAlloc;

/// Sample sizes; `None` is the whole list.
const SIZES: [Option<usize>; 4] = [Some(100), Some(1_000), Some(10_000), None];
/// In an unoptimised build (`cargo test --benches`) the whole list is cut
/// to a sample of this many words: building every engine over 150,000 to
/// 180,000 words takes seconds each there, and the smoke test is about the
/// code paths, not the sizes.
const UNOPTIMISED_WORDS: usize = 20_000;

/// What one op is, as the JSON files say it.
const OP: &str = "one pass over the whole text: our variants in chunk-byte calls with the cursor carried, the peers in one overlapping find-all";

fn scaling(c: &mut Criterion) {
    common::assert_counting();
    let Some(root) = data_root(None) else {
        eprintln!(
            "scaling: skipped: no data folder (set {} to the folder holding article/ and rebar/, or put them in shared/data beside the repository)",
            workload::DATA_ENV
        );
        return;
    };
    for lang in Lang::ALL {
        match Corpus::load(&root, lang) {
            Some(corpus) => bench_lang(c, corpus),
            None => eprintln!(
                "scaling: skipped scaling-{}: no {} word list or text under {}",
                lang.code(),
                lang.name(),
                root.display()
            ),
        }
    }
}

/// The input, as both JSON files record it: a file whose input differs is
/// replaced, not merged.
#[derive(Serialize)]
struct Input<'a> {
    language: &'static str,
    words: usize,
    words_not_ascii: usize,
    text_bytes: usize,
    sources: &'a [&'static str],
    sample: &'static str,
    seed: u64,
    chunk: usize,
    unoptimised_words: Option<usize>,
}

/// One benchmark's entry in `scaling.json`.
#[derive(Serialize)]
struct ScalingEntry {
    patterns: usize,
    build_ms_median: f64,
    builds_timed: usize,
    heap_bytes: usize,
}

fn bench_lang(c: &mut Criterion, mut corpus: Corpus) {
    let group_name = format!("scaling-{}", corpus.lang.code());
    let full_words = corpus.words.len();
    if common::UNOPTIMISED && corpus.words.len() > UNOPTIMISED_WORDS {
        let mut cut = corpus.sample(UNOPTIMISED_WORDS);
        cut.sort();
        corpus.words = cut;
    }
    let full = Haystack::new(&corpus.text);
    let h = if common::UNOPTIMISED {
        full.prefix(common::UNOPTIMISED_HAYSTACK)
    } else {
        full
    };
    let utf8 = h.text.is_some() && corpus.words.iter().all(|w| std::str::from_utf8(w).is_ok());
    if !utf8 {
        eprintln!("{group_name}: not benchmarking daachorse-charwise: the words or the text are not all UTF-8");
    }
    let bytes = h.len() as u64;
    let calls = chunks(h.bytes, DEFAULT_CHUNK).count() as u64;

    let mut group = c.benchmark_group(&group_name);
    group
        .throughput(Throughput::Bytes(bytes))
        // An op takes milliseconds: flat sampling bounds the iterations.
        .sampling_mode(SamplingMode::Flat);
    let mut rows: Vec<Row> = Vec::new();
    let mut extras: Vec<Extra> = Vec::new();
    let mut sizes: Vec<SizeInfo> = Vec::new();
    for n in SIZES {
        let patterns = match n {
            Some(n) if n >= corpus.words.len() => {
                eprintln!(
                    "{group_name}: skipping {n} words: the list has only {}",
                    corpus.words.len()
                );
                continue;
            }
            Some(n) => corpus.sample(n),
            None => corpus.words.clone(),
        };
        let size = Size::new(n.map_or("all".to_owned(), |n| n.to_string()), patterns);
        let at = sizes.len();
        let run = Run {
            group_name: &group_name,
            h: &h,
            utf8,
            bytes,
            calls,
        };
        bench_size(&mut group, &run, &size, at, &mut rows, &mut extras);
        sizes.push(SizeInfo {
            label: size.label.clone(),
            patterns: size.patterns.len(),
            not_ascii: size.patterns.iter().filter(|w| !w.is_ascii()).count(),
            ran: size
                .shared
                .get()
                .map(|s| (s.reference.count(), s.ac.layout_summary())),
            literal: size.literal.get().map(|(ac, _)| ac.layout_summary()),
        });
    }
    group.finish();
    if !rows.iter().any(Row::ran) {
        return;
    }

    let head = Head {
        group_name: &group_name,
        full_words,
        bytes,
        calls,
    };
    print_run(&head, &corpus, &sizes, &rows, &extras);
    save_records(&group_name, &corpus, &h, &rows, &extras, &sizes);
}

/// Writes `scaling.json` and `allocations.json` for one language's run.
fn save_records(
    group_name: &str,
    corpus: &Corpus,
    h: &Haystack<'_>,
    rows: &[Row],
    extras: &[Extra],
    sizes: &[SizeInfo],
) {
    let input = results::to_value(&Input {
        language: corpus.lang.name(),
        words: corpus.words.len(),
        words_not_ascii: corpus.not_ascii(),
        text_bytes: h.len(),
        sources: &corpus.sources,
        sample: "workload::scaling::Corpus::sample: seeded random sample of n words (English: accented words in proportion, at least one)",
        seed: SEED,
        chunk: DEFAULT_CHUNK,
        unoptimised_words: common::UNOPTIMISED.then_some(UNOPTIMISED_WORDS),
    });
    let scaling_entries = rows
        .iter()
        .zip(extras)
        .filter(|(r, _)| r.ran() && !r.profiled)
        .filter_map(|(r, x)| {
            let entry = ScalingEntry {
                patterns: sizes[x.size].patterns,
                build_ms_median: x.build?.as_secs_f64() * 1e3,
                builds_timed: builds(),
                heap_bytes: x.heap_bytes?,
            };
            Some((r.id.clone(), results::to_value(&entry)))
        })
        .collect();
    results::save(
        group_name,
        "scaling.json",
        OP,
        input.clone(),
        scaling_entries,
    );
    results::save(
        group_name,
        "allocations.json",
        OP,
        input,
        results::allocation_entries(rows),
    );
}

/// What every size of one language's run shares.
struct Run<'a> {
    group_name: &'a str,
    h: &'a Haystack<'a>,
    utf8: bool,
    bytes: u64,
    calls: u64,
}

/// Benchmarks every engine at one size (`at` in the table), adding its
/// rows and what the table shows beside them.
fn bench_size(
    group: &mut BenchmarkGroup<'_, WallTime>,
    run: &Run<'_>,
    size: &Size,
    at: usize,
    rows: &mut Vec<Row>,
    extras: &mut Vec<Extra>,
) {
    for spec in engine_specs(run.utf8, size.patterns.len()) {
        if !engines::peer_fits_build(spec.id, size.patterns.len()) {
            eprintln!(
                "not benchmarking {}/{}/{} in an unoptimised build: building it takes seconds there",
                run.group_name, spec.id, size.label
            );
            continue;
        }
        let engine_calls = if spec.variant.is_some() { run.calls } else { 1 };
        let row = Row::new(
            format!("{}/{}", spec.id, size.label),
            spec.kind.name(),
            run.bytes,
            engine_calls,
        );
        let mut slot = Slot::new(run.group_name, row);
        group.bench_function(BenchmarkId::new(spec.id, &size.label), |b| {
            slot.run(
                b,
                || build(&spec, size, run.h, run.group_name),
                |s| s.engine.op(run.h),
            )
        });
        extras.push(Extra {
            engine: spec.id,
            size: at,
            build: slot.state().map(|s| s.build),
            heap_bytes: slot.state().map(|s| s.engine.heap_bytes()),
        });
        rows.push(slot.row);
    }
}

criterion_group! {
    name = benches;
    config = common::criterion_config();
    targets = scaling
}
criterion_main!(benches);
