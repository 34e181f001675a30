//! Golden files for every deterministic output, inferno-style: fixed inputs
//! in `tests/golden/` render the same bytes every time. A renderer change
//! shows as a diff in review: run `ESCAPE_LAB_BLESS=1 cargo test -p
//! escape-lab --test golden` to rewrite the expected files, then read the
//! diff before committing it.

use std::path::{Path, PathBuf};

use escape_lab::__private::gate::baseline::{Baseline, BaselineEntry, BASELINE_VERSION};
use escape_lab::__private::gate::check::{compare, CheckOutcome};
use escape_lab::__private::gate::report::{self, Format};
use escape_lab::__private::index::Pictures;
use escape_lab::__private::model::FunctionCost;
use escape_lab::__private::model::{read_summary, Artifact, WorkloadInfo};
use escape_lab::__private::{diff, flame, profile, sites};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn input(name: &str) -> String {
    std::fs::read_to_string(dir().join(name)).unwrap()
}

/// Compares `actual` with the golden file `name`; `Err` says where they
/// first differ.
fn compare_golden(name: &str, actual: &str) -> Result<(), String> {
    let path = dir().join("expected").join(name);
    let expected = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "{}: {e}; run with ESCAPE_LAB_BLESS=1 to create it",
            path.display()
        )
    })?;
    if expected == actual {
        return Ok(());
    }
    let line = expected
        .lines()
        .zip(actual.lines())
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
    Err(format!(
        "{} differs from the rendering at line {}:\n  expected: {}\n  actual:   {}\n\
         (if the change is intended, re-bless with ESCAPE_LAB_BLESS=1 and review the diff)",
        path.display(),
        line + 1,
        expected.lines().nth(line).unwrap_or("<end of file>"),
        actual.lines().nth(line).unwrap_or("<end of file>"),
    ))
}

fn golden(name: &str, actual: &str) {
    if std::env::var_os("ESCAPE_LAB_BLESS").is_some() {
        let path = dir().join("expected").join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    if let Err(e) = compare_golden(name, actual) {
        panic!("{e}");
    }
}

fn heap() -> sites::HeapProfile {
    sites::read(&dir().join("heap.json"), Path::new("/w")).unwrap()
}

#[test]
fn flamegraphs() {
    let cpu = input("cpu.folded");
    golden("cpu.svg", &flame::cpu_svg(&cpu, "demo: CPU").unwrap());
    let h = heap();
    golden(
        "alloc-count.svg",
        &flame::alloc_svg(
            &h.folded_count,
            "demo: allocations in 100 calls",
            "allocations",
        )
        .unwrap(),
    );
    golden(
        "alloc-bytes.svg",
        &flame::alloc_svg(
            &h.folded_bytes,
            "demo: bytes allocated in 100 calls",
            "bytes",
        )
        .unwrap(),
    );
    let after: String = h
        .folded_count
        .lines()
        .filter(|l| l.contains("setup_table"))
        .map(|l| format!("{l}\n"))
        .collect();
    golden(
        "diff.svg",
        &flame::diff_svg(&h.folded_count, &after, "before → after", "allocations").unwrap(),
    );
    golden(
        "empty.svg",
        &flame::alloc_svg("", "fixed: allocations", "allocations").unwrap(),
    );
}

#[test]
fn sites_and_folded_stacks() {
    let h = heap();
    golden("sites.txt", &sites::sites_txt("demo", &h.sites, 100));
    golden("alloc-count.folded", &h.folded_count);
}

fn pictures() -> Pictures {
    let mut p = Pictures::default();
    let svg = flame::cpu_svg("main;demo 1\n", "tiny")
        .unwrap()
        .into_bytes();
    p.add_scenario(
        "parse_owned",
        vec![
            (Artifact::SitesTxt, b"not a picture".to_vec()),
            (
                Artifact::ListingTxt,
                b"parse_owned: allocations\n   64.0  let v: Vec<&str> = line.split(',').collect();\n"
                    .to_vec(),
            ),
            (Artifact::CpuSvg, svg.clone()),
        ],
    );
    let s = read_summary(&dir().join("summary.json")).unwrap();
    p.add_comparison(&s.comparisons[0], svg.clone(), svg);
    p
}

#[test]
fn index_and_terminal_table() {
    let s = read_summary(&dir().join("summary.json")).unwrap();
    golden(
        "index.html",
        &escape_lab::__private::index::render(&s, &pictures()),
    );
    golden("table.txt", &profile::table(&s));
}

#[test]
fn diff_of_two_runs_across_schemas() {
    let table = diff::diff(&dir().join("summary-v1.json"), &dir().join("summary.json")).unwrap();
    golden("diff.txt", &table);
}

fn entry(name: &str, allocs: u64, bytes: u64) -> BaselineEntry {
    BaselineEntry {
        name: name.into(),
        kind: "custom".into(),
        calls: 512,
        allocs,
        bytes,
        ..BaselineEntry::default()
    }
}

/// `entry` with instructions counted over its 512 calls, in two functions.
fn counted(e: BaselineEntry, scan: u64, fault: u64) -> BaselineEntry {
    let mut functions = vec![FunctionCost {
        name: "demo::scan".into(),
        exclusive: scan,
        inclusive: scan,
    }];
    if fault > 0 {
        functions.insert(
            0,
            FunctionCost {
                name: "[injected fault (ESCAPE_LAB_FAULT)]".into(),
                exclusive: fault,
                inclusive: fault,
            },
        );
    }
    BaselineEntry {
        instr_calls: Some(512),
        instructions: Some(scan + fault),
        functions,
        ..e
    }
}

fn outcome() -> CheckOutcome {
    let baseline = Baseline {
        schema_version: BASELINE_VERSION,
        rustc: "rustc 1.95.0 (59807616e 2026-04-14)".into(),
        workload: WorkloadInfo::default(),
        build: "release".into(),
        instr_tolerance: 0.01,
        instr_slack: 16.0,
        scenarios: vec![
            entry("parse_owned", 1_098_962, 51_274_648),
            counted(entry("parse_borrowed", 0, 0), 37_525_024, 0),
            entry("tokens", 512, 4096),
            entry("renamed", 0, 0),
        ],
    };
    let mut rows = compare(
        &baseline,
        &[
            Ok(entry("parse_owned", 1_098_963, 51_274_656)),
            Ok(counted(entry("parse_borrowed", 0, 0), 37_525_024, 76_800_000)),
            Ok(entry("tokens", 256, 2048)),
            Ok(entry("brand_new", 0, 0)),
            Err((
                "broken".into(),
                "crashed (signal: 6, SIGABRT); stderr (whole in check-x/broken/count.stderr.txt):\n  boom"
                    .into(),
            )),
        ],
    );
    rows[0].top_site = Some(
        "crates/demo/src/lib.rs:33:20: 2,146.41 allocs/call, 100,145.81 B/call in demo::parse_lines::{{closure}}"
            .into(),
    );
    CheckOutcome {
        rows,
        warnings: vec!["the baseline was made with rustc 1.94.0, this is rustc 1.95.0: allocation counts can change with the standard library".into()],
        blessed: false,
    }
}

#[test]
fn check_reports() {
    let o = outcome();
    let b = Path::new("profiles/baseline.json");
    golden("check.txt", &report::render(&o, b, Format::Text));
    golden("check.md", &report::render(&o, b, Format::Markdown));
    golden("check.json", &report::render(&o, b, Format::Json));
}

/// The positive control: the comparison catches a one-character change of a
/// renderer's output, so the golden tests above cannot pass vacuously.
#[test]
fn a_one_character_change_fails() {
    let h = heap();
    let txt = sites::sites_txt("demo", &h.sites, 100);
    assert!(
        compare_golden("sites.txt", &txt).is_ok() || std::env::var_os("ESCAPE_LAB_BLESS").is_some()
    );
    let changed = txt.replacen("allocs/call", "allocs/calk", 1);
    let err = compare_golden("sites.txt", &changed).unwrap_err();
    assert!(err.contains("differs") && err.contains("calk"), "{err}");
    let svg = flame::cpu_svg(&input("cpu.folded"), "demo: CPU").unwrap();
    let changed = svg.replacen("demo::parse_lines", "demo::parse_linez", 1);
    assert!(compare_golden("cpu.svg", &changed).is_err());
}
