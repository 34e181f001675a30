//! Every reader of a file a user can hand us, over arbitrary bytes and
//! over every cut of a real file: never a panic, always an error that
//! names the file (or, for a cut that is still whole, a result).

use std::path::Path;

use proptest::prelude::*;

use crate::pprof::encode::Addresses;
use crate::pprof::heap::{heap_profile, HeapOptions};

const SUMMARY: &[u8] = include_bytes!("../tests/golden/summary.json");
const SUMMARY_V1: &[u8] = include_bytes!("../tests/golden/summary-v1.json");
const HEAP: &[u8] = include_bytes!("../tests/golden/heap.json");
const CALLGRIND: &str = "version: 1\ncreator: callgrind-3.19.0\npositions: line\nevents: Ir\n\
summary: 1000\n\nob=(1) /bin/x\nfl=(1) ???\nfn=(1) main\ncfn=(2) escape_lab_instr_measured_calls\n\
calls=1 0\n0 1000\n\nfn=(2)\n0 600\ncfn=(3) malloc\ncalls=2 0\n0 400\n\nfn=(3)\n0 400\n";

/// A baseline in the form `bless` writes.
fn baseline() -> Vec<u8> {
    let mut b = br#"{"schema_version": 2, "rustc": "rustc 1.95.0", "workload": {"name": "w", "chunk": 2048, "patterns": 3},
 "build": "release", "instr_tolerance": 0.01, "instr_slack": 16.0, "scenarios": [
 {"name": "fixed", "kind": "variant", "calls": 512, "allocs": 0, "bytes": 0, "instr_calls": 512,
  "instructions_outside_allocator": 64693144, "functions": [{"name": "f", "exclusive": 1, "inclusive": 2}]}]}"#
        .to_vec();
    b.push(b'\n');
    b
}

/// Writes `bytes` to a file called `name` and runs `read` on it; the error,
/// if any, must name the file.
fn through_file<T, E: std::fmt::Display>(
    name: &str,
    bytes: &[u8],
    read: impl Fn(&Path) -> Result<T, E>,
) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    if let Err(e) = read(&path) {
        let shown = e.to_string();
        prop_assert!(shown.contains(name), "{shown}");
    }
    Ok(())
}

fn heap_text(text: &str) -> Result<(), String> {
    let options = HeapOptions {
        calls: 1,
        mappings: &[],
        addresses: Addresses::Runtime,
        sources: None,
        extra_allocator_frames: &[],
        keep_allocator_frames: false,
        comments: &[],
    };
    heap_profile(text, "heap.json", &options, None)
        .map(|_| ())
        .map_err(|e| crate::fmt::error_chain(&e))
}

#[test]
fn the_real_files_are_read() {
    // Positive control: the uncut files are read, so the cuts below test
    // the readers and not an error on every input.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("b.json");
    std::fs::write(&p, baseline()).unwrap();
    crate::gate::baseline::read(&p).unwrap();
    for (name, bytes) in [("s2.json", SUMMARY), ("s1.json", SUMMARY_V1)] {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        crate::model::read_summary(&p).unwrap();
    }
    crate::sites::digest(Path::new("heap.json"), HEAP, Path::new("/")).unwrap();
    heap_text(std::str::from_utf8(HEAP).unwrap()).unwrap();
    assert_eq!(crate::pass::instr::parse(CALLGRIND).unwrap().total, 1000);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn baselines_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600), cut in 0usize..2000) {
        through_file("baseline.json", &bytes, crate::gate::baseline::read)?;
        let b = baseline();
        through_file("baseline.json", &b[..cut.min(b.len())], crate::gate::baseline::read)?;
    }

    #[test]
    fn summaries_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600), cut in 0usize..3000) {
        through_file("summary.json", &bytes, crate::model::read_summary)?;
        through_file("summary.json", &SUMMARY[..cut.min(SUMMARY.len())], crate::model::read_summary)?;
        through_file("summary.json", &SUMMARY_V1[..cut.min(SUMMARY_V1.len())], crate::model::read_summary)?;
    }

    #[test]
    fn dhat_files_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600), cut in 0usize..1000) {
        let name = Path::new("heap.json");
        for b in [&bytes[..], &HEAP[..cut.min(HEAP.len())]] {
            if let Err(e) = crate::sites::digest(name, b, Path::new("/")) {
                prop_assert!(e.to_string().contains("heap.json"), "{e}");
            }
            if let Err(e) = heap_text(&String::from_utf8_lossy(b)) {
                prop_assert!(e.contains("heap.json"), "{e}");
            }
        }
    }

    #[test]
    fn callgrind_files_never_panic(text in "[ -~\n]{0,400}", cut in 0usize..400) {
        let _ = crate::pass::instr::parse(&text);
        let _ = crate::pass::instr::parse(&CALLGRIND[..cut.min(CALLGRIND.len())]);
    }
}
