//! A real dhat profile of this test process, converted twice: from `ftbl`'s
//! strings, and symbolized afresh (the file's pid is this process).
//!
//! One test per file: dhat allows one profiler per process, and its
//! allocator is this binary's global allocator.

use std::hint::black_box;

use escape_lab::__private::pprof::encode::{self, ProfileIndex};
use escape_lab::__private::pprof::heap::{self, HeapOptions};
use escape_lab::__private::pprof::{mapping, symbolize};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

#[inline(always)]
fn make_box(i: u64) -> Box<u64> {
    Box::new(i)
}

// The boxes are the allocations being measured.
#[allow(clippy::vec_box)]
#[inline(never)]
fn measured_boxes(n: u64) -> Vec<Box<u64>> {
    let mut out = Vec::with_capacity(n as usize);
    for i in 0..n {
        out.push(make_box(i));
    }
    out
}

#[test]
fn real_dhat_file_converts_with_and_without_resymbolization() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("heap.json");
    let profiler = dhat::Profiler::builder()
        .file_name(&path)
        .trim_backtraces(Some(64))
        .build();
    let v = black_box(measured_boxes(100));
    drop(v);
    let kept = black_box(measured_boxes(5));
    drop(profiler); // writes the file; `kept` is still live
    drop(kept);

    let maps = mapping::current_process().unwrap();
    let options = HeapOptions {
        calls: 2,
        mappings: &maps,
        ..HeapOptions::default()
    };
    let mut symbolizer = symbolize::Symbolizer::new();
    let fresh = heap::heap_profile_from_file(&path, &options, Some(&mut symbolizer)).unwrap();
    assert!(
        symbolizer.lookups() > 0,
        "same pid: addresses are symbolized afresh"
    );
    let parsed = heap::heap_profile_from_file(&path, &options, None).unwrap();

    for (p, kind) in [(&fresh, "fresh"), (&parsed, "parsed")] {
        let p = encode::from_bytes(&encode::to_gzip(p).unwrap()).unwrap();
        let ix = ProfileIndex::new(&p);
        let (mut objects, mut bytes, mut live) = (0, 0, 0);
        let mut files = Vec::new();
        for s in &p.sample {
            let names: Vec<(&str, &str)> =
                ix.lines(s).map(|(name, file, _)| (name, file)).collect();
            let leaf = names.first().map_or("", |n| n.0);
            assert!(
                !escape_lab::__private::frames::is_allocator(leaf),
                "{kind}: allocator frame {leaf} left"
            );
            if names.iter().any(|n| n.0.ends_with("make_box")) {
                objects += s.value[0];
                bytes += s.value[1];
                live += s.value[2];
                files.extend(
                    names
                        .iter()
                        .filter(|n| n.0.ends_with("make_box"))
                        .map(|n| n.1.to_owned()),
                );
            }
        }
        assert_eq!((objects, bytes, live), (105, 105 * 8, 5), "{kind}");
        let file = files.first().cloned().unwrap_or_default();
        assert!(file.ends_with("tests/pprof_heap_dhat.rs"), "{kind}: {file}");
        if kind == "fresh" {
            assert!(
                file.starts_with('/'),
                "fresh symbolization gives full paths: {file}"
            );
        } else {
            assert!(!file.starts_with('/'), "dhat shortens paths: {file}");
        }
        assert_eq!(
            ix.str(p.mapping[0].filename),
            std::env::current_exe().unwrap().to_str().unwrap()
        );
    }
}
