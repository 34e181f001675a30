//! The profiles a Go engineer opens, from a fresh `escape-lab profile` run,
//! decoded here with prost (no Go needed): CPU samples spread over the real
//! lines of the scan loop, a Mapping for the binary, and a heap profile with
//! Go's sample types whose top allocation is `Box::new` called from
//! `boxed::find`. An ignored test runs the real `go tool pprof` where Go is
//! installed.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use escape_lab::pprof::encode::{from_bytes, Profile, ProfileIndex};
use escape_lab::pprof::fold;

const BIN: &str = env!("CARGO_BIN_EXE_escape-lab");

fn run(out: &Path, variants: &str, cpu_seconds: &str) {
    let o = Command::new(BIN)
        .args([
            "profile",
            "--no-instr",
            "--variants",
            variants,
            "--cpu-seconds",
            cpu_seconds,
            "--out",
        ])
        .arg(out)
        .env_remove("ESCAPE_LAB_FAULT")
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

fn profile(path: &Path) -> Profile {
    from_bytes(&std::fs::read(path).unwrap()).unwrap()
}

/// Distinct (file, line) pairs of the samples' leaf frames, by samples.
fn leaf_lines(p: &Profile, file_part: &str) -> BTreeSet<(String, i64)> {
    let ix = ProfileIndex::new(p);
    let mut lines = BTreeSet::new();
    for s in &p.sample {
        let Some(loc) = s.location_id.first().and_then(|&id| ix.location(id)) else {
            continue;
        };
        // The innermost inlined function is the Location's first Line.
        if let Some(l) = loc.line.first() {
            let f = ix.function(l.function_id).unwrap();
            let file = ix.str(f.filename);
            if file.contains(file_part) {
                lines.insert((file.to_string(), l.line));
            }
        }
    }
    lines
}

#[test]
fn cpu_samples_keep_their_lines_and_the_binary_is_mapped() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    run(&out, "callback,boxed", "1");
    let p = profile(&out.join("callback/cpu.pb.gz"));
    let lines = leaf_lines(&p, "crates/acmatch/src/automaton/");
    assert!(
        lines.len() > 5,
        "samples on {} distinct lines of the automaton: {lines:?}",
        lines.len()
    );
    let ix = ProfileIndex::new(&p);
    let main = &p.mapping[0];
    assert!(
        ix.str(main.filename).ends_with("escape-lab"),
        "{}",
        ix.str(main.filename)
    );
    assert!(main.has_functions && main.has_filenames && main.has_line_numbers);
    assert!(p
        .location
        .iter()
        .all(|l| l.address != 0 || l.mapping_id == 0));
    let addresses: BTreeSet<u64> = p.location.iter().map(|l| l.address).collect();
    assert_eq!(
        addresses.len(),
        p.location.len(),
        "one Location per address"
    );

    // The flamegraph starts at the scenario's call, not at `_start`: the
    // stacks through the measured-call frame are cut there (the few samples
    // outside the calls, the harness timing its batches, stay whole under
    // their own root), and nearly every sample is inside.
    let svg = std::fs::read_to_string(out.join("callback/cpu.svg")).unwrap();
    assert!(svg.contains("acmatch::"), "cpu.svg names the matcher");
    let folded = fold::fold(
        &p,
        0,
        &fold::FoldOptions {
            start_after: Some("escape_lab_measured_call"),
            outside: fold::Outside::Keep,
        },
    )
    .unwrap();
    let (mut inside, mut outside) = (0u64, 0u64);
    for line in folded.lines() {
        let (stack, n) = line.rsplit_once(' ').unwrap();
        let n: u64 = n.parse().unwrap();
        if stack.starts_with(fold::OUTSIDE_MARKER) {
            outside += n;
        } else {
            inside += n;
            // A sample in the measured-call frame itself keeps that frame
            // as its only one (fold's documented rule).
            let only_the_marker =
                stack.ends_with("escape_lab_measured_call") && !stack.contains(';');
            let harness = ["escape_lab::pass::", "std::rt::", "main", "_start"];
            let root = stack.split(';').next().unwrap();
            assert!(
                only_the_marker || !harness.iter().any(|h| root.starts_with(h)),
                "a cut stack starts at the scenario's call: {stack}"
            );
        }
    }
    assert!(inside > 19 * outside, "{inside} inside, {outside} outside");
}

#[test]
fn the_heap_profile_has_gos_sample_types_and_box_new_on_top() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    run(&out, "boxed,fixed", "0.2");
    let p = profile(&out.join("boxed/heap.pb.gz"));
    let ix = ProfileIndex::new(&p);
    let types: Vec<(&str, &str)> = p
        .sample_type
        .iter()
        .map(|t| (ix.str(t.ty), ix.str(t.unit)))
        .collect();
    assert_eq!(
        types,
        [
            ("alloc_objects", "count"),
            ("alloc_space", "bytes"),
            ("inuse_objects", "count"),
            ("inuse_space", "bytes")
        ]
    );
    // Flat alloc_objects per leaf function, and the caller of the top one.
    let objects = ix.sample_index("alloc_objects").unwrap();
    let mut by_leaf = std::collections::BTreeMap::<String, i64>::new();
    let mut box_callers = BTreeSet::new();
    for s in &p.sample {
        let names: Vec<String> = s
            .location_id
            .iter()
            .filter_map(|&id| ix.location(id))
            .flat_map(|l| l.line.iter())
            .map(|l| ix.str(ix.function(l.function_id).unwrap().name).to_string())
            .collect();
        *by_leaf.entry(names[0].clone()).or_default() += s.value[objects];
        if names[0].contains("Box") && names[0].contains("new") {
            if let Some(c) = names.iter().find(|n| n.starts_with("acmatch::")) {
                box_callers.insert(c.clone());
            }
        }
    }
    let top = by_leaf.iter().max_by_key(|(_, v)| **v).unwrap();
    assert!(
        top.0.contains("Box") && top.0.contains("new"),
        "{by_leaf:?}"
    );
    assert!(
        box_callers
            .iter()
            .any(|c| c.starts_with("acmatch::variant::boxed::find")),
        "{box_callers:?}"
    );
    // Totals over the heap pass's calls, which the comments state.
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let boxed = &summary["scenarios"][0];
    let calls = boxed["heap"]["calls"].as_u64().unwrap();
    let total: i64 = p.sample.iter().map(|s| s.value[objects]).sum();
    assert_eq!(total as u64, boxed["heap"]["blocks"].as_u64().unwrap());
    let comments: Vec<&str> = p.comment.iter().map(|&c| ix.str(c)).collect();
    assert!(
        comments.iter().any(|c| c.contains(&format!("{calls} "))),
        "{comments:?}"
    );
    // fixed allocates nothing per call: an empty profile, still valid.
    let fixed = profile(&out.join("fixed/heap.pb.gz"));
    assert!(fixed.sample.iter().all(|s| s.value.iter().all(|&v| v == 0)));

    let listing = std::fs::read_to_string(out.join("boxed/listing.txt")).unwrap();
    assert!(
        listing.contains("acmatch::variant::boxed::find"),
        "{listing}"
    );
    assert!(
        listing.contains("crates/acmatch/src/variant/boxed.rs"),
        "{listing}"
    );
}

/// The commands the README gives, with the real `go tool pprof`; run with
/// `cargo test --test pprof -- --ignored` where Go is installed.
#[test]
#[ignore = "needs Go (apt-get install golang-go)"]
fn go_tool_pprof_reads_both_profiles() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    run(&out, "callback,boxed,fixed", "1");
    let go = |args: &[&str]| {
        let o = Command::new("go")
            .args(["tool", "pprof"])
            .args(args)
            .current_dir(&out)
            .output()
            .expect("go is installed");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(o.status.success(), "go tool pprof {args:?}:\n{text}");
        assert!(
            !text.contains("Main binary filename not available"),
            "{text}"
        );
        text
    };
    let t = go(&["-sample_index=alloc_objects", "-top", "boxed/heap.pb.gz"]);
    assert!(t.contains("Box") && t.contains("new"), "{t}");
    let t = go(&[
        "-sample_index=alloc_space",
        "-list",
        "boxed::find",
        "boxed/heap.pb.gz",
    ]);
    assert!(t.contains("boxed.rs"), "{t}");
    let t = go(&[
        "-top",
        "-sample_index=alloc_objects",
        "-base",
        "fixed/heap.pb.gz",
        "boxed/heap.pb.gz",
    ]);
    assert!(t.contains("Box"), "{t}");
    let t = go(&["-list", "Automaton", "callback/cpu.pb.gz"]);
    assert!(t.contains("automaton"), "{t}");
    go(&["-top", "-addresses", "callback/cpu.pb.gz"]);
}
