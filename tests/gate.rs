//! `escape-lab check` end to end, against the committed baseline: it passes
//! on the unmodified project with the same counts every time, fails naming
//! the scenario and the new site when a call allocates once more, and exits
//! 2 with a reason for a damaged baseline. The committed baseline's
//! instructions were counted by a release build; this test binary is a
//! debug build, so those tests gate allocations (`--no-instr`) and the
//! instruction gate is tested on baselines blessed here.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_escape-lab");

fn committed_baseline() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles/baseline.json")
}

fn check(baseline: &Path, fault: Option<&str>) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.arg("check")
        .arg("--no-instr")
        .arg("--baseline")
        .arg(baseline);
    cmd.env_remove("ESCAPE_LAB_FAULT");
    if let Some(f) = fault {
        cmd.env("ESCAPE_LAB_FAULT", f);
    }
    cmd.output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn the_unmodified_project_passes_twice_with_identical_output() {
    let a = check(&committed_baseline(), None);
    assert_eq!(a.status.code(), Some(0), "{}", text(&a));
    assert!(text(&a).contains("check passed"));
    let b = check(&committed_baseline(), None);
    assert_eq!(a.stdout, b.stdout, "counts differ between two runs");
}

#[test]
fn one_more_allocation_per_call_fails_naming_scenario_and_site() {
    let o = check(&committed_baseline(), Some("fixed:alloc"));
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains("regression in fixed:"), "{t}");
    assert!(
        t.contains("allocations: 0 -> 1 per call (0 -> 512 in 512 calls, +512)"),
        "{t}"
    );
    assert!(
        t.contains("bytes: 0 -> 8 per call (0 -> 4,096 in 512 calls, +4,096)"),
        "{t}"
    );
    assert!(
        t.contains("top allocation site now: crates/escape-lab/src/pass/mod.rs:"),
        "{t}"
    );
    assert!(t.contains("check failed"), "{t}");
}

#[test]
fn a_damaged_baseline_is_exit_2_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(committed_baseline()).unwrap();

    let truncated = dir.path().join("truncated.json");
    std::fs::write(&truncated, &good[..good.len() / 3]).unwrap();
    let o = check(&truncated, None);
    assert_eq!(o.status.code(), Some(2));
    let t = text(&o);
    assert!(
        t.contains("truncated.json") && t.contains("not valid JSON"),
        "{t}"
    );

    let missing = dir.path().join("missing.json");
    let o = check(&missing, None);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("cannot read"), "{}", text(&o));

    let renamed = dir.path().join("renamed.json");
    std::fs::write(
        &renamed,
        good.replace("\"name\": \"reuse\"", "\"name\": \"reused\""),
    )
    .unwrap();
    let o = check(&renamed, None);
    assert_eq!(
        o.status.code(),
        Some(1),
        "a scenario missing from the baseline fails"
    );
    let t = text(&o);
    assert!(
        t.contains("reuse is not in the baseline")
            && t.contains("reused is in the baseline but no longer measured"),
        "{t}"
    );
}

#[test]
fn bless_writes_a_baseline_that_then_passes() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("sub/baseline.json");
    let o = Command::new(BIN)
        .args(["check", "--no-instr", "--bless", "--baseline"])
        .arg(&p)
        .env_remove("ESCAPE_LAB_FAULT")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // Blessing the unmodified project reproduces the committed baseline's
    // allocation counts and workload (its instructions are a release
    // build's; this bless counted none).
    let counts = |path: &Path| {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let scenarios: Vec<_> = v["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["name"].clone(),
                    e["kind"].clone(),
                    e["calls"].clone(),
                    e["allocs"].clone(),
                    e["bytes"].clone(),
                )
            })
            .collect();
        (v["workload"].clone(), scenarios)
    };
    assert_eq!(counts(&p), counts(&committed_baseline()));
    let o = check(&p, None);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

fn gate(args: &[&str], baseline: &Path, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.arg("check").args(args).arg("--baseline").arg(baseline);
    cmd.env_remove("ESCAPE_LAB_FAULT");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// On a case study (a few instructions per call, quick under valgrind in a
/// debug build); `scripts/ci.sh` does the same on `fixed` with the release
/// binary and the committed baseline.
#[test]
fn extra_work_without_allocation_fails_the_instruction_gate_naming_the_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let b = dir.path().join("baseline.json");
    let name = "method.generic";
    let o = gate(&[name, "--bless"], &b, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let fault = format!("{name}:work");
    let o = gate(&[name], &b, &[("ESCAPE_LAB_FAULT", &fault)]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains(&format!("regression in {name}:")), "{t}");
    assert!(
        t.contains("  instructions: ") && t.contains("tolerance 1%"),
        "{t}"
    );
    assert!(t.contains("grew most in: "), "{t}");
    // In a debug build the loop's iterator is not inlined into the fault,
    // so it may not come first; it is listed.
    assert!(t.contains("[injected fault (ESCAPE_LAB_FAULT)]"), "{t}");
    assert!(
        !t.contains("allocations:"),
        "allocations did not change: {t}"
    );
}

#[test]
fn instruction_counts_repeat_and_a_decrease_passes() {
    let dir = tempfile::tempdir().unwrap();
    let b = dir.path().join("baseline.json");
    let o = gate(&["fmt.", "--bless"], &b, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // Two checks in a row: identical figures, every change +0.00%.
    let one = gate(&["fmt.", "--format", "json"], &b, &[]);
    let two = gate(&["fmt.", "--format", "json"], &b, &[]);
    assert_eq!(one.status.code(), Some(0), "{}", text(&one));
    assert_eq!(one.stdout, two.stdout);
    let v: serde_json::Value = serde_json::from_slice(&one.stdout).unwrap();
    for row in v["scenarios"].as_array().unwrap() {
        assert!(
            row["now"]["instructions_outside_allocator"]
                .as_u64()
                .unwrap()
                > 0,
            "{row}"
        );
        let change = row["instr_change"].as_f64().unwrap();
        assert!(change.abs() < 0.01, "{row}");
    }
    // Doubling the baseline's instructions: now is fewer, which passes with
    // a note.
    let mut base: serde_json::Value = serde_json::from_slice(&std::fs::read(&b).unwrap()).unwrap();
    for e in base["scenarios"].as_array_mut().unwrap() {
        let i = e["instructions_outside_allocator"].as_u64().unwrap();
        e["instructions_outside_allocator"] = serde_json::json!(i * 2);
    }
    std::fs::write(&b, serde_json::to_vec_pretty(&base).unwrap()).unwrap();
    let o = gate(&["fmt."], &b, &[]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(
        t.contains("runs fewer instructions or has fewer ways to the allocator than its baseline"),
        "{t}"
    );
}

#[test]
fn without_valgrind_instructions_are_skipped_and_allocations_still_gated() {
    let dir = tempfile::tempdir().unwrap();
    let b = dir.path().join("baseline.json");
    let no_valgrind = [("PATH", "/nonexistent-escape-lab-path")];
    let o = gate(&["fmt.to_string", "--bless"], &b, &no_valgrind);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("valgrind not found"), "{}", text(&o));
    let o = gate(&["fmt.to_string"], &b, &no_valgrind);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("valgrind not found"), "{}", text(&o));
    // Never a false pass: an added allocation still fails.
    let o = gate(
        &["fmt.to_string"],
        &b,
        &[no_valgrind[0], ("ESCAPE_LAB_FAULT", "fmt.to_string:alloc")],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
}
