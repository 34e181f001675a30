//! The reliability issue's second round, one test per reproducer: never
//! delete what escape-lab did not write, never pass silently, never panic on
//! odd input. Each failed on the code before its fix.

use std::ffi::OsStr;
use std::io::{Read as _, Write as _};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

mod common;

use common::{check, escape_lab, quick, summary, text, workload};

fn committed_baseline() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles/baseline.json"))
        .unwrap()
}

fn valgrind() -> bool {
    Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Reproducer 1: A `summary.json` does not make a folder ours, and files a user adds
/// to a run are theirs: refused, exit 2, every file kept.
#[test]
fn a_folder_is_replaced_only_when_it_holds_nothing_but_our_run() {
    let dir = tempfile::tempdir().unwrap();
    let (p, h) = workload(dir.path());
    let u = dir.path().join("u");
    std::fs::create_dir_all(u.join("src")).unwrap();
    std::fs::write(u.join("notes.txt"), "hi").unwrap();
    std::fs::write(u.join("src/main.rs"), "code").unwrap();
    std::fs::write(u.join("summary.json"), "{}").unwrap();
    let o = quick(&u, &p, &h, "fixed").output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("not an escape-lab run"), "{}", text(&o));
    assert_eq!(std::fs::read_to_string(u.join("notes.txt")).unwrap(), "hi");
    assert_eq!(
        std::fs::read_to_string(u.join("src/main.rs")).unwrap(),
        "code"
    );

    // Positive control: our own run is replaced...
    let run = dir.path().join("run");
    for _ in 0..2 {
        let o = quick(&run, &p, &h, "fixed").output().unwrap();
        assert!(o.status.success(), "{}", text(&o));
    }
    // ... until the user puts something of theirs into it.
    std::fs::write(run.join("fixed/my-notes.md"), "mine").unwrap();
    let o = quick(&run, &p, &h, "fixed").output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("files escape-lab did not write (fixed/my-notes.md)"),
        "{}",
        text(&o)
    );
    assert_eq!(
        std::fs::read_to_string(run.join("fixed/my-notes.md")).unwrap(),
        "mine"
    );
}

/// Reproducer 2: a bless that did not count instructions keeps the
/// baseline's, so the instruction gate still catches added work.
#[test]
fn a_bless_without_instructions_keeps_them() {
    let dir = tempfile::tempdir().unwrap();
    let b = dir.path().join("b.json");
    let fixed_instructions = || -> Option<u64> {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&b).unwrap()).unwrap();
        v["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == "fixed")
            .and_then(|e| e["instructions_outside_allocator"].as_u64())
    };
    if valgrind() {
        // This binary's own figures (debug or release, as the test runs).
        let o = escape_lab(&["check", "--bless", "fixed", "--baseline"])
            .arg(&b)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
    } else {
        // Figures are kept only from a build of the same kind.
        let kind = if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        };
        let base = committed_baseline().replacen(
            "\"build\": \"release\"",
            &format!("\"build\": \"{kind}\""),
            1,
        );
        std::fs::write(&b, base).unwrap();
    }
    let before = fixed_instructions().expect("a baseline with instructions");
    let o = check(&b, &["--bless", "fixed"], &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("kept the baseline's figures for 1 scenario (fixed)"),
        "{}",
        text(&o)
    );
    assert_eq!(fixed_instructions(), Some(before));
    if !valgrind() {
        eprintln!("skipped the gate half: valgrind is not installed");
        return;
    }
    let o = escape_lab(&["check", "--baseline"])
        .arg(&b)
        .arg("fixed")
        .env("ESCAPE_LAB_FAULT", "fixed:work")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("regression in fixed:"), "{}", text(&o));
}

/// Reproducer 3: A filter that matches nothing is a typo, not a pass.
#[test]
fn a_filter_that_selects_nothing_is_exit_2_naming_it() {
    let o = escape_lab(&["check", "--no-instr", "fixd"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("filter: \"fixd\" matches no scenario name"),
        "{}",
        text(&o)
    );
    assert!(!text(&o).contains("check passed"));
}

/// Reproducer 4: Two equal keys in one object are refused, not "last one wins".
#[test]
fn duplicate_keys_in_a_baseline_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let b = dir.path().join("b.json");
    let good = committed_baseline();
    let i = good.find("\"name\": \"fixed\"").unwrap();
    let j = i + good[i..].find("\"allocs\": 0").unwrap();
    let twice = format!(
        "{}\"allocs\": 0, \"allocs\": 999999{}",
        &good[..j],
        &good[j + 11..]
    );
    std::fs::write(&b, twice).unwrap();
    let o = check(&b, &["fixed"], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("the key \"allocs\" is given twice"),
        "{}",
        text(&o)
    );
    // Positive control: the same file without the second key passes.
    std::fs::write(&b, &good).unwrap();
    assert!(check(&b, &["fixed"], &[]).status.success());
}

/// Reproducer 5: An endless file is refused after the limit, not read until the
/// kernel kills us.
#[test]
fn endless_baselines_and_summaries_stop_at_the_limit() {
    let o = escape_lab(&["diff", "/dev/zero", "/dev/zero"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("/dev/zero: larger than 16 MiB"),
        "{}",
        text(&o)
    );
    let o = escape_lab(&["check", "--no-instr", "--baseline", "/dev/zero"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("/dev/zero: larger than 16 MiB"),
        "{}",
        text(&o)
    );
}

/// Reproducer 6: Paths and arguments that are not UTF-8 reach every pass unchanged.
#[test]
fn paths_that_are_not_utf8_work_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let (p, h) = workload(dir.path());
    let odd = dir.path().join(OsStr::from_bytes(b"\xff.txt"));
    std::fs::copy(&p, &odd).unwrap();
    let odd_parent = dir.path().join(OsStr::from_bytes(b"\xfe"));
    std::fs::create_dir(&odd_parent).unwrap();
    let cases = [
        (dir.path().join("a"), odd.clone()),
        (dir.path().join(OsStr::from_bytes(b"o\xfd")), p.clone()),
        (odd_parent.join("run"), p.clone()),
    ];
    for (out, patterns) in &cases {
        let o = quick(out, patterns, &h, "fixed").output().unwrap();
        assert!(o.status.success(), "{:?}: {}", out, text(&o));
        let s = summary(out);
        let fixed = &s["scenarios"][0];
        assert_eq!(fixed["status"], "ok", "{out:?}: {fixed}");
        for pass in ["count", "heap", "cpu"] {
            assert!(
                fixed[pass]["calls"].as_u64() > Some(0),
                "{out:?} {pass}: {fixed}"
            );
        }
    }

    // serve's /debug/pprof/cmdline with such an argument: 200, not 500.
    let mut child = escape_lab(&["serve", "--variants", "fixed", "--addr", "127.0.0.1:0"])
        .args(["--duration", "20", "--patterns"])
        .arg(&odd)
        .arg("--haystack")
        .arg(&h)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = [0u8; 256];
    let n = child.stdout.as_mut().unwrap().read(&mut first).unwrap();
    let line = String::from_utf8_lossy(&first[..n]);
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no url in {line}"));
    let addr = url.trim_start_matches("http://").split('/').next().unwrap();
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(s, "GET /debug/pprof/cmdline HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    let _ = child.kill();
    let _ = child.wait();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(".txt"), "{answer}");
}

/// Reproducer 7: A report that cannot be written is exit 2 with the reason, never a
/// panic (exit 101) and never the verdict's exit code.
#[test]
fn an_unwritable_stdout_is_exit_2_with_the_reason() {
    let full = || {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    let (p, h) = workload(dir.path());
    let run = dir.path().join("run");
    let profile = quick(&run, &p, &h, "fixed")
        .stdout(full())
        .output()
        .unwrap();
    let check = escape_lab(&["check", "--no-instr", "fixed"])
        .stdout(full())
        .output()
        .unwrap();
    let sum = run.join("summary.json");
    let diff = escape_lab(&["diff"])
        .arg(&sum)
        .arg(&sum)
        .stdout(full())
        .output()
        .unwrap();
    for (what, o) in [("profile", profile), ("check", check), ("diff", diff)] {
        assert_eq!(o.status.code(), Some(2), "{what}: {}", text(&o));
        assert!(
            text(&o).contains("cannot write to standard output: No space left on device"),
            "{what}: {}",
            text(&o)
        );
    }
}

/// Reproducer 8: `--out .` is refused before any pass runs (it used to run them all,
/// then fail to rename the current folder).
#[test]
fn the_current_folder_as_out_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (p, h) = workload(dir.path());
    let o = quick(Path::new("."), &p, &h, "fixed")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("is the current folder"), "{}", text(&o));
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(left.len(), 2, "nothing written beside the inputs");
}

/// Reproducer 9: A run killed outright leaves its temporary folder; the next run in
/// the same place removes it.
#[test]
fn the_folder_of_a_killed_run_is_removed_by_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let (p, h) = workload(dir.path());
    let out = dir.path().join("run");
    let mut cmd = quick(&out, &p, &h, "fixed");
    let mut parent = cmd
        .env("ESCAPE_LAB_FAULT", "fixed:hang")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let temp = || -> Vec<std::path::PathBuf> {
        std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with(".escape-lab-run-")
            })
            .collect()
    };
    let mut waited = 0;
    while temp().is_empty() && waited < 600 {
        std::thread::sleep(Duration::from_millis(50));
        waited += 1;
    }
    let left = temp();
    assert_eq!(left.len(), 1, "the run's temporary folder appeared");
    parent.kill().unwrap(); // SIGKILL: nothing of ours runs
    parent.wait().unwrap();
    assert!(left[0].exists(), "a SIGKILLed run leaves its folder");
    let o = quick(&out, &p, &h, "fixed").output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(temp().is_empty(), "left over: {:?}", temp());
}

/// Reproducer 10: Claims that are exact: whole cycles in a quick heap pass, no
/// absolute path in a report meant for a pull request, a `build` that is
/// one of the two, and one name per figure.
#[test]
fn claims_are_exact() {
    let dir = tempfile::tempdir().unwrap();
    let (p, _) = workload(dir.path());
    // 63 calls of 400 bytes per cycle: the quick heap pass measures 63.
    let h = dir.path().join("h63.txt");
    let line = "the other one said where there was here then ";
    let text63: String = line.repeat(63 * 400 / line.len() + 1)[..63 * 400].to_string();
    std::fs::write(&h, text63).unwrap();
    let out = dir.path().join("run");
    let o = quick(&out, &p, &h, "fixed")
        .args(["--chunk", "400"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let s = summary(&out);
    assert_eq!(
        s["scenarios"][0]["heap"]["calls"], 63,
        "{}",
        s["scenarios"][0]["heap"]
    );

    let md = escape_lab(&["check", "--no-instr", "--format", "markdown", "fixed"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(md.status.success(), "{}", text(&md));
    assert!(
        text(&md).contains("profiles/baseline.json"),
        "{}",
        text(&md)
    );
    assert!(
        !text(&md).contains(env!("CARGO_MANIFEST_DIR")),
        "{}",
        text(&md)
    );

    let b = dir.path().join("b.json");
    let banana =
        committed_baseline().replacen("\"build\": \"release\"", "\"build\": \"banana\"", 1);
    assert!(banana.contains("banana"));
    std::fs::write(&b, banana).unwrap();
    let o = check(&b, &["fixed"], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("build \"banana\" is not"), "{}", text(&o));

    // check's figure leaves malloc and free out, and says so.
    let o = escape_lab(&["check", "--no-instr", "fixed"])
        .output()
        .unwrap();
    assert!(
        text(&o).contains("instr/call*")
            && text(&o).contains("* instructions per call outside malloc and free")
    );
}
