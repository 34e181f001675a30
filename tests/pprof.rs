//! The profiles a Go engineer opens, from a fresh `escape-lab profile` run,
//! decoded here with prost (no Go needed): CPU samples spread over the real
//! lines of the scan loop, a Mapping for the binary, and a heap profile with
//! Go's sample types whose top allocation is `Box::new` called from
//! `boxed::find`. Another test runs the README's `go tool pprof` commands with
//! the real Go pprof where Go is installed.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use escape_lab::__private::pprof::encode::{from_bytes, Profile, ProfileIndex};
use escape_lab::__private::pprof::fold;

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
            then_after: None,
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
            let harness = [
                "escape_lab::__private::pass::",
                "std::rt::",
                "main",
                "_start",
            ];
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
        let names: Vec<String> = ix.lines(s).map(|(name, _, _)| name.to_owned()).collect();
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

/// The `go tool pprof` commands of the README's "Opening the files" block,
/// as written there, run with the real Go pprof in a fresh run folder: each
/// must succeed and find what it was asked for (a `-list` whose regexp
/// matches nothing fails), so a wrong command cannot ship. The web UI
/// (`-http`) is left out. Skipped, with a message, where Go is not
/// installed (`.ci/run` installs it: Debian `golang-go`, `binutils` for
/// `-disasm`).
#[test]
fn the_readmes_go_tool_pprof_commands_work() {
    if Command::new("go").arg("version").output().is_err() {
        eprintln!("skipped: go is not installed (apt-get install golang-go)");
        return;
    }
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let commands = readme_commands(&readme);
    assert!(
        commands.len() >= 5,
        "the README's block changed: {commands:?}"
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    run(&out, "callback,boxed,fixed", "1");
    for args in &commands {
        let o = Command::new("go")
            .args(["tool", "pprof"])
            .args(args)
            .current_dir(&out)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(o.status.success(), "go tool pprof {args:?}:\n{text}");
        for bad in ["no matches found", "Main binary filename not available"] {
            assert!(!text.contains(bad), "go tool pprof {args:?}:\n{text}");
        }
        assert!(
            text.lines().count() > 3,
            "go tool pprof {args:?} said little:\n{text}"
        );
    }
}

/// The arguments of each `go tool pprof` line of the README's block under
/// "Opening the files with `go tool pprof`" (comments cut, single quotes as
/// a shell takes them), without the `-http` web UI.
fn readme_commands(readme: &str) -> Vec<Vec<String>> {
    let block = readme
        .split("#### Opening the files with `go tool pprof`")
        .nth(1)
        .and_then(|rest| rest.split("```sh\n").nth(1))
        .and_then(|rest| rest.split("```").next())
        .expect("the README's go tool pprof block");
    block
        .lines()
        .filter_map(|l| l.strip_prefix("go tool pprof "))
        .map(|l| l.split(" #").next().unwrap_or(l))
        .filter(|l| !l.contains("-http"))
        .map(|l| {
            let mut args = Vec::new();
            let mut quoted = false;
            let mut word = String::new();
            for c in l.trim().chars() {
                match c {
                    '\'' => quoted = !quoted,
                    ' ' if !quoted => {
                        if !word.is_empty() {
                            args.push(std::mem::take(&mut word));
                        }
                    }
                    c => word.push(c),
                }
            }
            if !word.is_empty() {
                args.push(word);
            }
            args
        })
        .collect()
}

#[test]
fn readme_commands_are_read_as_a_shell_reads_them() {
    let readme = "#### Opening the files with `go tool pprof`\n\n```sh\n\
                  go tool pprof -top boxed/cpu.pb.gz   # where\n\
                  go tool pprof -list 'A>::step' x.pb.gz\n\
                  go tool pprof -http=localhost:8080 x.pb.gz\n```\n";
    assert_eq!(
        readme_commands(readme),
        vec![
            vec!["-top".to_string(), "boxed/cpu.pb.gz".to_string()],
            vec![
                "-list".to_string(),
                "A>::step".to_string(),
                "x.pb.gz".to_string()
            ],
        ]
    );
}
