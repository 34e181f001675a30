//! `escape-lab check` end to end, against the committed baseline: it passes
//! on the unmodified project with the same counts every time, fails naming
//! the scenario and the new site when a call allocates once more, and exits
//! 2 with a reason for a damaged baseline.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_escape-lab");

fn committed_baseline() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles/baseline.json")
}

fn check(baseline: &Path, fault: Option<&str>) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.arg("check").arg("--baseline").arg(baseline);
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
        .args(["check", "--bless", "--baseline"])
        .arg(&p)
        .env_remove("ESCAPE_LAB_FAULT")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // Blessing the unmodified project reproduces the committed baseline
    // (all but the toolchain line, which is this machine's).
    let without_rustc = |path: &Path| {
        let text = std::fs::read_to_string(path).unwrap();
        text.lines()
            .filter(|l| !l.trim_start().starts_with("\"rustc\""))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(without_rustc(&p), without_rustc(&committed_baseline()));
    let o = check(&p, None);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}
