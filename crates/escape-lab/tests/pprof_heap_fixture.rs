//! The heap encoder on a hand-written dhat file (tests/.pprof/fixtures/heap.json)
//! shaped like a `boxed` scenario: a `Box` per hit made inside a closure
//! inlined into the scan loop, a growing `Vec`, a `Box` per match, a
//! `format!`. The profile is decoded with prost and checked; listings are
//! golden-tested (set UPDATE_GOLDEN=1 to rewrite tests/.pprof/golden/).

use std::path::{Path, PathBuf};

use escape_lab::__private::pprof::encode::{self, ProfileIndex};
use escape_lab::__private::pprof::fold;
use escape_lab::__private::pprof::heap::{self, HeapOptions};
use escape_lab::__private::pprof::listing::{self, Figures, FlatAt, LineCost, ListingOptions};
use escape_lab::__private::pprof::mapping::Mapping;
use escape_lab::__private::pprof::source::SourceIndex;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/.pprof/fixtures")
}

fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/.pprof/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1)", path.display()));
    assert!(
        expected == actual,
        "{} differs (UPDATE_GOLDEN=1 rewrites it):\n--- expected\n{expected}\n--- actual\n{actual}",
        path.display()
    );
}

fn mappings() -> Vec<Mapping> {
    vec![Mapping {
        start: 0x5600_0000_0000,
        limit: 0x5600_0001_0000,
        offset: 0,
        path: "/work/target/release/escape-lab".into(),
        build_id: Some("0123abcd".into()),
        vaddr: None,
    }]
}

fn profile(sources: Option<&SourceIndex>, keep_allocator_frames: bool) -> encode::Profile {
    let json = std::fs::read_to_string(fixtures().join("heap.json")).unwrap();
    let maps = mappings();
    let options = HeapOptions {
        calls: 10,
        mappings: &maps,
        sources,
        keep_allocator_frames,
        comments: &["scenario boxed"],
        ..HeapOptions::default()
    };
    heap::heap_profile(&json, "heap.json", &options, None).unwrap()
}

// A location's lines as `function file:line`, innermost first.
fn lines_of(ix: &ProfileIndex<'_>, id: u64) -> Vec<String> {
    ix.location(id)
        .unwrap()
        .line
        .iter()
        .map(|l| {
            let f = ix.function(l.function_id).unwrap();
            format!("{} {}:{}", ix.str(f.name), ix.str(f.filename), l.line)
        })
        .collect()
}

#[test]
fn heap_profile_has_go_sample_types_and_inlined_lines() {
    let ws = fixtures().join("ws");
    let sources = SourceIndex::new(&ws);
    let p = profile(Some(&sources), false);
    // Round trip through the file format.
    let p = encode::from_bytes(&encode::to_gzip(&p).unwrap()).unwrap();
    let ix = ProfileIndex::new(&p);

    let types: Vec<String> = p
        .sample_type
        .iter()
        .map(|t| format!("{}/{}", ix.str(t.ty), ix.str(t.unit)))
        .collect();
    assert_eq!(
        types,
        [
            "alloc_objects/count",
            "alloc_space/bytes",
            "inuse_objects/count",
            "inuse_space/bytes"
        ]
    );
    assert_eq!(ix.str(p.default_sample_type), "alloc_space");
    let period = p.period_type.as_ref().unwrap();
    assert_eq!((ix.str(period.ty), ix.str(period.unit)), ("space", "bytes"));
    let comments: Vec<&str> = p.comment.iter().map(|&c| ix.str(c)).collect();
    assert!(
        comments
            .iter()
            .any(|c| c.contains("totals over 10 measured calls") && c.contains("-divide_by=10")),
        "{comments:?}"
    );
    assert!(comments.contains(&"scenario boxed"), "{comments:?}");

    assert_eq!(p.sample.len(), 4);
    let values: Vec<&[i64]> = p.sample.iter().map(|s| s.value.as_slice()).collect();
    assert_eq!(values[0], [13239, 211824, 0, 0]);
    assert_eq!(values[2], [13239, 317736, 1300, 31200]);

    let ws_file = |rel: &str| ws.join(rel).to_string_lossy().into_owned();
    // The Box per hit: exchange_malloc trimmed, Box::new the leaf, then the
    // closure and the scan loop it was inlined into, all one address.
    let box_stack = &p.sample[0].location_id;
    let leaf = ix.location(box_stack[0]).unwrap();
    assert_eq!(
        leaf.address,
        0x5600_0000_10a0 - 1,
        "call address: return address - 1"
    );
    assert_eq!(leaf.mapping_id, 1);
    assert_eq!(
        lines_of(&ix, box_stack[0]),
        [
            "alloc::boxed::Box<T>::new alloc/src/boxed.rs:258".to_owned(),
            format!(
                "acmatch::variant::boxed::find::{{{{closure}}}} {}:12",
                ws_file("crates/acmatch/src/variant/boxed.rs")
            ),
            format!(
                "acmatch::automaton::Automaton::scan {}:14",
                ws_file("crates/acmatch/src/automaton/mod.rs")
            ),
        ]
    );
    assert_eq!(
        lines_of(&ix, box_stack[1]),
        [format!(
            "acmatch::variant::boxed::find {}:10",
            ws_file("crates/acmatch/src/variant/boxed.rs")
        )]
    );
    assert_eq!(box_stack.len(), 4);
    // The Vec growth: the allocator's `allocate` trimmed within the leaf
    // location, `finish_grow` stays (like Go's growslice); std's shortened
    // `src/vec/mod.rs` is not taken for a workspace file.
    let vec_stack = &p.sample[1].location_id;
    assert_eq!(
        lines_of(&ix, vec_stack[0]),
        ["alloc::raw_vec::finish_grow alloc/src/raw_vec.rs:700"]
    );
    assert_eq!(
        lines_of(&ix, vec_stack[2])[0],
        "alloc::vec::Vec<T,A>::push src/vec/mod.rs:2419"
    );
    // A hash left in a name is removed.
    let fmt_stack = &p.sample[3].location_id;
    assert!(lines_of(&ix, fmt_stack[1])[0].starts_with("harness::pass::run_calls "));
    // The mapping carries the flags that stop re-symbolization.
    let m = &p.mapping[0];
    assert!(m.has_functions && m.has_filenames && m.has_line_numbers && m.has_inline_frames);
    assert_eq!(ix.str(m.build_id), "0123abcd");
    // Locations are shared: `run_calls` and `main` appear once each.
    let addresses: Vec<u64> = p.location.iter().map(|l| l.address).collect();
    let mut dedup = addresses.clone();
    dedup.sort_unstable();
    dedup.dedup();
    assert_eq!(addresses.len(), dedup.len());
}

#[test]
fn allocator_frames_can_be_kept_and_paths_left_as_dhat_wrote_them() {
    let p = profile(None, true);
    let ix = ProfileIndex::new(&p);
    let leaf = lines_of(&ix, p.sample[0].location_id[0]);
    assert_eq!(
        leaf[0],
        "alloc::alloc::exchange_malloc alloc/src/alloc.rs:237"
    );
    assert_eq!(
        leaf[2],
        "acmatch::variant::boxed::find::{{closure}} src/variant/boxed.rs:12"
    );
}

#[test]
fn folded_allocations_start_after_the_marker() {
    let p = profile(None, false);
    let ix = ProfileIndex::new(&p);
    let bytes = ix.sample_index("alloc_space").unwrap();
    let folded = fold::fold(
        &p,
        bytes,
        &fold::FoldOptions {
            then_after: None,
            start_after: Some("run_calls"),
            outside: fold::Outside::Keep,
        },
    )
    .unwrap();
    assert_eq!(
        folded,
        "acmatch::variant::boxed::find;acmatch::automaton::Automaton::scan;acmatch::variant::boxed::find::{{closure}};alloc::boxed::Box<T>::new 211824\n\
         acmatch::variant::boxed::find;acmatch::automaton::Automaton::scan;acmatch::variant::boxed::find::{{closure}};alloc::vec::Vec<T,A>::push;alloc::raw_vec::RawVec<T,A>::grow_one;alloc::raw_vec::finish_grow 15360\n\
         acmatch::variant::boxed::find;alloc::boxed::Box<T>::new 317736\n\
         alloc::fmt::format::format_inner 100\n"
    );
}

#[test]
fn heap_listing_is_golden() {
    let ws = fixtures().join("ws");
    let sources = SourceIndex::new(&ws);
    let p = profile(Some(&sources), false);
    let ix = ProfileIndex::new(&p);
    let objects = ix.sample_index("alloc_objects").unwrap();
    let space = ix.sample_index("alloc_space").unwrap();
    let costs = listing::line_costs(&p, &[objects, space], FlatAt::FirstOwn(&sources)).unwrap();
    let text = listing::listing(
        &costs,
        &ListingOptions {
            title: "boxed: allocations by source line",
            value_names: &["allocs", "bytes"],
            figures: Figures::PerCall { calls: 10 },
            top: 3,
            context: 2,
            max_gap: 8,
            sources: &sources,
            legend: &["flat: allocations charged to the first line of the workspace's code in the stack; cum: allocations at or below the line."],
        },
    );
    golden("heap_listing.txt", &text);
}

fn cpu_costs() -> Vec<LineCost> {
    let lc = |function: &str, file: &str, line: u32, flat: i64, cum: i64| LineCost {
        function: function.into(),
        file: file.into(),
        line,
        flat: vec![flat],
        cum: vec![cum],
    };
    let ws = fixtures().join("ws");
    let mod_rs = ws.join("crates/acmatch/src/automaton/mod.rs");
    let mod_rs = mod_rs.to_str().unwrap();
    vec![
        lc("acmatch::automaton::Automaton::scan", mod_rs, 11, 120, 130),
        lc("acmatch::automaton::Automaton::scan", mod_rs, 12, 300, 310),
        lc("acmatch::automaton::Automaton::scan", mod_rs, 13, 80, 80),
        lc("acmatch::automaton::Automaton::scan", mod_rs, 14, 10, 60),
        lc(
            "core::hint::black_box",
            "/rustc/59807616e1fa2540724bfbac14d7976d7e4a3860/library/core/src/hint.rs",
            5,
            40,
            40,
        ),
        lc("malloc", "", 0, 50, 50),
    ]
}

#[test]
fn cpu_listing_is_golden_with_and_without_rust_src() {
    let ws = fixtures().join("ws");
    let costs = cpu_costs();
    let without = SourceIndex::new(&ws);
    let with = SourceIndex::new(&ws).with_rust_src(Some(fixtures().join("rust-src")));
    for (sources, name) in [
        (&without, "cpu_listing.txt"),
        (&with, "cpu_listing_rust_src.txt"),
    ] {
        let text = listing::listing(
            &costs,
            &ListingOptions {
                title: "callback: CPU by source line",
                value_names: &["samples"],
                figures: Figures::ShareOfTotal { totals: vec![600] },
                top: 5,
                context: 1,
                max_gap: 8,
                sources,
                legend: &[],
            },
        );
        golden(name, &text);
    }
}
