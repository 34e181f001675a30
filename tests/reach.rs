//! The static reachability analysis (`reach`) on the article: the verdicts
//! of `escape-lab reach`, `assert_never_allocates!` in this test binary,
//! and the analysis held against the measured truth: every allocation site
//! the heap pass measures in the 31 scenarios is on a static way through
//! the same line, or under an unresolved indirect call.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use common::{escape_lab, summary, text};
use serde_json::Value;

/// The lines of `file` (under the workspace) whose text contains `needle`,
/// as `file:line`.
fn lines_with(file: &str, needle: &str) -> BTreeSet<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(root.join(file))
        .unwrap()
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(needle) && !l.trim_start().starts_with("//"))
        .map(|(i, _)| format!("{file}:{}", i + 1))
        .collect()
}

/// `file:line` of a `file:line:col` location.
fn line_of(location: &str) -> String {
    escape_lab::reach::line_of(location)
}

fn path_lines(reach: &Value) -> BTreeSet<String> {
    reach["paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| line_of(p["location"].as_str().unwrap()))
        .collect()
}

#[test]
fn reach_gives_the_article_its_verdicts() {
    let started = Instant::now();
    let o = escape_lab(&["reach", "--json"]).output().unwrap();
    let took = started.elapsed();
    assert!(o.status.success(), "{}", text(&o));
    let all: Value = serde_json::from_slice(&o.stdout).unwrap();
    let verdict = |name: &str| all[name]["verdict"].as_str().unwrap().to_string();
    eprintln!(
        "reach: {} scenarios in {:.2} s",
        all.as_object().unwrap().len(),
        took.as_secs_f64()
    );
    assert_eq!(all.as_object().unwrap().len(), 31);
    for name in ["fixed", "callback"] {
        assert!(
            ["none", "panic-only"].contains(&verdict(name).as_str()),
            "{name}: {}",
            all[name]
        );
    }
    // `reuse` measures 0 per call, yet its Vecs can grow: its push lines.
    assert_eq!(verdict("reuse"), "allocates");
    let pushes = lines_with("crates/acmatch/src/variant/reuse.rs", ".push(");
    let reuse = path_lines(&all["reuse"]);
    assert!(
        !reuse.is_empty() && reuse.is_subset(&pushes),
        "{reuse:?} vs {pushes:?}"
    );
    // `boxed` and `dyn_buffer` at their Box lines.
    for (name, file) in [
        ("boxed", "crates/acmatch/src/variant/boxed.rs"),
        ("dyn_buffer", "crates/acmatch/src/variant/dyn_buffer.rs"),
    ] {
        assert_eq!(verdict(name), "allocates", "{name}");
        let boxes = lines_with(file, "Box::new");
        let found = path_lines(&all[name]);
        assert!(
            !found.is_empty() && found.is_subset(&boxes),
            "{name}: {found:?} vs {boxes:?}"
        );
    }
    // The text is Go's escape lines: file:line:col: chain.
    let o = escape_lab(&["reach", "boxed"]).output().unwrap();
    let t = String::from_utf8_lossy(&o.stdout);
    assert!(
        t.lines().any(|l| l
            .trim_start()
            .starts_with("crates/acmatch/src/variant/boxed.rs:")
            && l.contains("Box<T>::new -> ")
            && l.ends_with("__rust_alloc")),
        "{t}"
    );
    // A filter that matches nothing is an error, as for check.
    let o = escape_lab(&["reach", "fixd"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn the_assertion_passes_on_fixed_and_fails_on_boxed_naming_the_line() {
    escape_lab::assert_never_allocates!(acmatch::variant::fixed::Fixed::find);
    let failed = std::panic::catch_unwind(|| {
        escape_lab::assert_never_allocates!(acmatch::variant::boxed::find);
    })
    .expect_err("boxed::find allocates");
    let message = failed.downcast_ref::<String>().cloned().unwrap_or_default();
    let boxes = lines_with("crates/acmatch/src/variant/boxed.rs", "Box::new");
    assert!(
        boxes.iter().any(|l| message.contains(&format!("{l}:"))),
        "{message}"
    );
}

/// An allocation under a branch no input takes: the analysis sees it.
#[inline(never)]
fn pushes_only_at_max(v: &mut Vec<u64>, n: u64) {
    if n == u64::MAX {
        v.push(n); // the line the failure must name
    }
}

#[test]
fn the_assertion_sees_an_untaken_branch() {
    let line = line!() - 6;
    let failed = std::panic::catch_unwind(|| {
        escape_lab::assert_never_allocates!(pushes_only_at_max);
    })
    .expect_err("an untaken push is a way to the allocator");
    let message = failed.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains(&format!("tests/reach.rs:{line}:")),
        "line {line}: {message}"
    );
}

/// Every site the heap pass measures is explained statically, in all 31
/// scenarios; and where the analysis says a scenario can allocate while it
/// measured nothing, the page says so.
#[test]
fn every_measured_site_is_on_a_static_way() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = escape_lab(&[
        "profile",
        "--quick",
        "--no-instr",
        "--cases",
        "--cpu-seconds",
        "0.1",
    ])
    .arg("--out")
    .arg(&out)
    .output()
    .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let s = summary(&out);
    let scenarios = s["scenarios"].as_array().unwrap();
    assert_eq!(scenarios.len(), 31);
    let mut explained = 0;
    for sc in scenarios {
        let name = sc["name"].as_str().unwrap();
        let reach = &sc["reach"];
        let ways = path_lines(reach);
        let indirect: Vec<String> = reach["indirect"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| line_of(c["location"].as_str().unwrap()))
            .collect();
        let stacks = heap_stacks(&out.join(name).join("heap.json"));
        for site in sc["sites"].as_array().unwrap() {
            let at = line_of(site["location"].as_str().unwrap());
            if ways.contains(&at) {
                explained += 1;
                continue;
            }
            // Else some measured stack through it passes an indirect call
            // the analysis listed.
            let under = stacks
                .iter()
                .any(|st| st.contains(&at) && st.iter().any(|f| indirect.contains(f)));
            assert!(
                under,
                "{name}: measured site {at} is on no static way {ways:?} and under no listed indirect call {indirect:?}"
            );
        }
        let measured: u64 = sc["count"]["allocs"].as_u64().unwrap();
        if measured > 0 {
            assert_ne!(reach["verdict"], "none", "{name} allocates: {reach}");
            assert_ne!(reach["verdict"], "panic-only", "{name} allocates: {reach}");
        }
        assert!(out.join(name).join("reach.txt").is_file(), "{name}");
    }
    assert!(explained > 10, "only {explained} sites explained");
    // reuse: static "allocates", measured 0: the page marks it.
    let page = std::fs::read_to_string(out.join("index.html")).unwrap();
    let reuse = &page[page.find("<h2 id=\"reuse\">").unwrap()..];
    let reuse = &reuse[..reuse[1..].find("<h2 ").map_or(reuse.len(), |i| i + 1)];
    assert!(
        reuse.contains("can allocate, did not in this run"),
        "{reuse}"
    );
}

/// Each allocation stack of a dhat profile as `file:line` frames.
fn heap_stacks(path: &Path) -> Vec<Vec<String>> {
    let v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let root = format!("{}/", env!("CARGO_MANIFEST_DIR"));
    let frames: Vec<String> = v["ftbl"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let f = f.as_str().unwrap();
            // "0x…: name (file:line:col)"
            let loc = f
                .rsplit_once(" (")
                .map_or("", |(_, l)| l.trim_end_matches(')'));
            line_of(loc.strip_prefix(&root).unwrap_or(loc))
        })
        .collect();
    v["pps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pp| {
            pp["fs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| frames[i.as_u64().unwrap() as usize].clone())
                .collect()
        })
        .collect()
}

/// The static gate: a baseline whose `reuse` lacks one of its lines (as
/// before an allocation was added under a branch the workload never
/// takes) fails naming that line while the counts are the same; a better
/// verdict in the baseline than now fails too; a baseline with one line
/// more passes, with a note.
#[test]
fn check_fails_on_a_new_static_way_naming_its_line() {
    let dir = tempfile::tempdir().unwrap();
    // A baseline of this build (the committed one is a release build's,
    // whose lines a debug build does not compare).
    let blessed = dir.path().join("blessed.json");
    let o = escape_lab(&["check", "--no-instr", "--bless", "reuse", "fixed"])
        .arg("--baseline")
        .arg(&blessed)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let committed: Value = serde_json::from_slice(&std::fs::read(&blessed).unwrap()).unwrap();
    fn entry<'a>(b: &'a mut Value, name: &str) -> &'a mut Value {
        b["scenarios"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|e| e["name"] == name)
            .unwrap()
    }
    let check = |b: &Value, filter: &str| {
        let path = dir.path().join("b.json");
        std::fs::write(&path, serde_json::to_vec_pretty(b).unwrap()).unwrap();
        escape_lab(&["check", "--no-instr", filter])
            .arg("--baseline")
            .arg(&path)
            .output()
            .unwrap()
    };
    // Control: the blessed baseline passes.
    let o = check(&committed, "reuse");
    assert!(o.status.success(), "{}", text(&o));

    let mut b = committed.clone();
    let reuse = entry(&mut b, "reuse");
    let lines = reuse["reach"]["lines"].as_array_mut().unwrap();
    let dropped = lines.remove(0).as_str().unwrap().to_string();
    let o = check(&b, "reuse");
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains(&format!("new way to the allocator: {dropped}:")),
        "{dropped}: {t}"
    );
    assert!(t.contains("0, 0") && t.contains("REGRESSION"), "{t}");

    let mut b = committed.clone();
    let fixed = entry(&mut b, "fixed");
    let now = fixed["reach"]["verdict"].as_str().unwrap().to_string();
    fixed["reach"]["verdict"] = "none".into();
    let o = check(&b, "fixed");
    if now != "none" {
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(
            text(&o).contains(&format!("static verdict: none -> {now}")),
            "{}",
            text(&o)
        );
    }

    let mut b = committed.clone();
    let reuse = entry(&mut b, "reuse");
    reuse["reach"]["lines"]
        .as_array_mut()
        .unwrap()
        .push("crates/acmatch/src/variant/reuse.rs:1".into());
    let o = check(&b, "reuse");
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("fewer ways to the allocator"),
        "{}",
        text(&o)
    );
}

/// The cases README's table of static answers is the committed baseline's
/// (which `check` holds the release binary to).
#[test]
fn the_cases_readme_gives_the_baselines_verdicts() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let baseline: Value =
        serde_json::from_slice(&std::fs::read(root.join("profiles/baseline.json")).unwrap())
            .unwrap();
    let readme = std::fs::read_to_string(root.join("crates/cases/README.md")).unwrap();
    let section = &readme[readme.find("## The Rust answers to `-gcflags -m`").unwrap()..];
    let mut rows = 0;
    for e in baseline["scenarios"].as_array().unwrap() {
        let name = e["name"].as_str().unwrap();
        if !name.contains('.') {
            continue;
        }
        let per_call = e["allocs"].as_u64().unwrap() / e["calls"].as_u64().unwrap();
        let verdict = e["reach"]["verdict"].as_str().unwrap();
        let lines: Vec<String> = e["reach"]["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                format!(
                    "`{}`",
                    l.as_str().unwrap().trim_start_matches("crates/cases/")
                )
            })
            .collect();
        let lines = if lines.is_empty() {
            "–".to_string()
        } else {
            lines.join(", ")
        };
        let row = format!("| `{name}` | {per_call} | {verdict} | {lines} |");
        assert!(section.contains(&row), "crates/cases/README.md lacks {row}");
        rows += 1;
    }
    assert_eq!(rows, 26);
}

/// Where the analysis cannot read the binary (here: stripped of its
/// symbols), `check` says so, naming the scenarios, instead of dropping
/// the static part without a word; the counts are still gated.
#[test]
fn check_warns_when_the_static_part_cannot_run() {
    let dir = tempfile::tempdir().unwrap();
    let stripped = dir.path().join("escape-lab");
    std::fs::copy(common::BIN, &stripped).unwrap();
    match Command::new("strip").arg(&stripped).status() {
        Ok(s) if s.success() => {}
        other => {
            eprintln!("skipped: `strip` (binutils) did not run: {other:?}");
            return;
        }
    }
    let o = Command::new(&stripped)
        .args(["check", "--no-instr", "--bless", "--baseline"])
        .arg(dir.path().join("b.json"))
        .arg("fixed")
        .env_remove("ESCAPE_LAB_FAULT")
        .output()
        .unwrap();
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(
        t.contains("warning: no static analysis for fixed")
            && t.contains("no function symbols")
            && t.contains("not gated"),
        "{t}"
    );
    // Control: the binary as built analyses itself without the warning.
    let o = escape_lab(&["check", "--no-instr", "--bless", "--baseline"])
        .arg(dir.path().join("c.json"))
        .arg("fixed")
        .output()
        .unwrap();
    assert!(!text(&o).contains("no static analysis"), "{}", text(&o));
}
