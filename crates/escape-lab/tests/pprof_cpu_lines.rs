//! CPU samples keep their own instruction: two hot loops in two
//! `#[inline(always)]` helpers of one `#[inline(never)]` function must both
//! show up, each with its own lines, through sampling, symbolization, the
//! protobuf (decoded with prost) and folding.
//!
//! This is the test that fails with upstream pprof-rs 0.15, whose sample key
//! is each frame's function start: every sample inside
//! `fixture_two_loops` then carries the first sample's addresses, so one
//! helper gets all of them (see `crates/pprof/FORK.md` for the
//! recorded failure).
//!
//! One test per file: pprof-rs allows one profiler per process and samples
//! every thread, so nothing else may run beside it.

use std::collections::{BTreeMap, BTreeSet};
use std::hint::black_box;
use std::time::{Duration, Instant};

use escape_lab::__private::pprof::{cpu, encode, fold, mapping, symbolize};

const ROUNDS: u32 = 20_000;

const ALPHA_FIRST: u32 = line!();
#[inline(always)]
fn helper_alpha(mut x: u64) -> u64 {
    // Plain operators only: no call, even in a debug build, so every sample
    // of this loop is inside `fixture_two_loops` itself.
    let mut i = 0;
    while i < ROUNDS {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        i += 1;
    }
    x
}
const ALPHA_LAST: u32 = line!();

const BETA_FIRST: u32 = line!();
#[inline(always)]
fn helper_beta(mut x: u64) -> u64 {
    let mut i = 0;
    while i < ROUNDS {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        i += 1;
    }
    x
}
const BETA_LAST: u32 = line!();

#[inline(never)]
fn fixture_two_loops(until: Instant) -> u64 {
    let mut a = 1u64;
    let mut b = 2u64;
    while Instant::now() < until {
        a = black_box(helper_alpha(a));
        b = black_box(helper_beta(b));
    }
    a ^ b
}

#[test]
fn both_inlined_helpers_get_their_share_and_lines() {
    // More than the kernel's tick is clamped to it.
    let profiler = cpu::CpuProfiler::start(1000).expect("profiler starts");
    assert_eq!(profiler.frequency_hz(), cpu::MAX_FREQUENCY_HZ);
    black_box(fixture_two_loops(
        Instant::now() + Duration::from_millis(1200),
    ));
    let samples = profiler.stop().expect("samples");
    assert_eq!(samples.frequency_hz, 250);
    assert_eq!(samples.period_ns(), 4_000_000);
    let total = samples.total();
    assert!(total >= 100, "only {total} samples in 1.2 s of spinning");
    for s in &samples.samples {
        assert!(
            !s.addresses.is_empty() && !s.addresses.contains(&0),
            "{s:?}"
        );
    }

    let mut symbolizer = symbolize::Symbolizer::new();
    let mappings = mapping::current_process().expect("procfs");
    let t = Instant::now();
    let profile = encode::cpu_profile(
        &samples,
        &mut symbolizer,
        &encode::CpuProfileOptions {
            mappings: &mappings,
            comments: &["fixture"],
            ..encode::CpuProfileOptions::default()
        },
    );
    eprintln!(
        "{total} samples, {} stacks, {} addresses symbolized in {:?}",
        samples.samples.len(),
        symbolizer.lookups(),
        t.elapsed()
    );
    let gz = encode::to_gzip(&profile).expect("gzip");
    let p = encode::from_bytes(&gz).expect("decodes with prost");
    let ix = encode::ProfileIndex::new(&p);

    // Per helper: the samples whose stack contains it, and its lines.
    let mut share: BTreeMap<&str, i64> = BTreeMap::new();
    let mut lines: BTreeMap<&str, BTreeSet<i64>> = BTreeMap::new();
    let mut fixture_leaf_addresses = BTreeSet::new();
    let mut all = 0i64;
    for s in &p.sample {
        let n = s.value[0];
        all += n;
        let mut seen = BTreeSet::new();
        for (depth, id) in s.location_id.iter().enumerate() {
            let loc = ix.location(*id).expect("location exists");
            for l in &loc.line {
                let name = ix.str(ix.function(l.function_id).expect("function").name);
                assert_ne!(
                    name, "perf_signal_handler",
                    "handler frames must be dropped"
                );
                for helper in ["helper_alpha", "helper_beta"] {
                    if name.ends_with(helper) {
                        lines.entry(helper).or_default().insert(l.line);
                        if seen.insert(helper) {
                            *share.entry(helper).or_default() += n;
                        }
                    }
                }
                if depth == 0 && name.ends_with("fixture_two_loops") {
                    fixture_leaf_addresses.insert(loc.address);
                }
            }
        }
    }
    assert_eq!(all as u64, total);
    let report = format!("shares {share:?} of {all}, lines {lines:?}");
    eprintln!("{report}");
    for (helper, first, last) in [
        ("helper_alpha", ALPHA_FIRST, ALPHA_LAST),
        ("helper_beta", BETA_FIRST, BETA_LAST),
    ] {
        let n = share.get(helper).copied().unwrap_or(0);
        assert!(
            n * 100 >= all * 15,
            "{helper} has {n} of {all} samples (< 15%): {report}"
        );
        let ls = lines.get(helper).cloned().unwrap_or_default();
        assert!(
            // Line 0 is DWARF's "no line" (code the compiler made up).
            ls.iter()
                .all(|&l| l == 0 || (l > i64::from(first) && l < i64::from(last))),
            "{helper}'s lines {ls:?} are outside {first}..{last}: {report}"
        );
    }

    // The samples are keyed by instruction: the protobuf has many distinct
    // addresses for the leaf, not one per function.
    let distinct_addresses: BTreeSet<u64> = p.location.iter().map(|l| l.address).collect();
    assert_eq!(
        distinct_addresses.len(),
        p.location.len(),
        "one Location per address"
    );
    let _ = fixture_leaf_addresses;

    // The main binary comes first, with its flags, so go tool pprof neither
    // complains nor re-symbolizes.
    let main = &p.mapping[0];
    let exe = std::env::current_exe().unwrap();
    assert_eq!(ix.str(main.filename), exe.to_str().unwrap());
    assert!(main.has_functions && main.has_filenames && main.has_line_numbers);
    assert!(p
        .location
        .iter()
        .filter(|l| l.mapping_id == 1)
        .all(|l| main.memory_start <= l.address && l.address < main.memory_limit));
    assert_eq!(ix.str(p.period_type.as_ref().unwrap().ty), "cpu");
    assert_eq!(p.period, 4_000_000);

    // Folding keeps both helpers as frames of their own, and trimming at
    // the fixture starts stacks at the helpers (or what they call).
    let folded = fold::fold(
        &p,
        0,
        &fold::FoldOptions {
            then_after: None,
            start_after: Some("fixture_two_loops"),
            outside: fold::Outside::Keep,
        },
    )
    .unwrap();
    for helper in ["helper_alpha", "helper_beta"] {
        assert!(
            folded
                .lines()
                .filter_map(|l| l.rsplit_once(' '))
                .any(|(stack, _)| stack
                    .split(';')
                    .next()
                    .is_some_and(|root| root.ends_with(helper))),
            "no stack starts at {helper}:\n{folded}"
        );
    }
}
