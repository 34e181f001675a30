//! The reproducers of the reliability issue, as tests: no silently wrong
//! run, no mixed runs, no orphaned children, a gate that cannot be fooled,
//! and a clear error with exit 2 for every bad input.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;

use common::{check, escape_lab, quick, summary, text, workload, BIN};

#[test]
fn a_pipe_as_haystack_is_read_once_and_measured_right() {
    let dir = tempfile::tempdir().unwrap();
    let (p, h) = workload(dir.path());
    let from_file = dir.path().join("file");
    assert!(quick(&from_file, &p, &h, "callback")
        .output()
        .unwrap()
        .status
        .success());

    let from_stdin = dir.path().join("stdin");
    let mut child = quick(&from_stdin, &p, Path::new("/dev/stdin"), "callback")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&std::fs::read(&h).unwrap())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", text(&o));

    let (a, b) = (summary(&from_file), summary(&from_stdin));
    let items = |s: &Value| s["scenarios"][0]["count"]["items"].as_u64().unwrap();
    assert!(items(&a) > 0);
    assert_eq!(items(&a), items(&b), "the pipe gave the same matches");
    assert_eq!(
        b["workload"]["haystack_bytes"],
        std::fs::metadata(&h).unwrap().len()
    );
    let input = &b["inputs"][1];
    assert_eq!(input["name"], "haystack");
    assert_eq!(input["bytes"], b["workload"]["haystack_bytes"]);
    assert_eq!(input["fnv1a64"], a["inputs"][1]["fnv1a64"]);
}

#[test]
fn a_fifo_with_one_writer_works() {
    let dir = tempfile::tempdir().unwrap();
    let (p, h) = workload(dir.path());
    let fifo = dir.path().join("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let bytes = std::fs::read(&h).unwrap();
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(fifo, bytes).unwrap())
    };
    let out = dir.path().join("run");
    let o = quick(&out, &p, &fifo, "fixed").output().unwrap();
    writer.join().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let s = summary(&out);
    assert!(s["scenarios"][0]["count"]["items"].as_u64().unwrap() > 0);
}

#[test]
fn an_endless_input_stops_at_the_limit_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let (p, _) = workload(dir.path());
    let out = dir.path().join("run");
    let mut cmd = quick(&out, &p, Path::new("/dev/zero"), "callback");
    cmd.args(["--max-input-bytes", "1000000"]);
    let o = cmd.output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("/dev/zero is larger than the input limit of 1000000 bytes"),
        "{}",
        text(&o)
    );
    assert!(!out.exists(), "nothing written");
}

#[test]
fn reusing_out_replaces_the_run_whole_and_refuses_a_foreign_folder() {
    let dir = tempfile::tempdir().unwrap();
    let (p, h) = workload(dir.path());
    let out = dir.path().join("run");
    assert!(quick(&out, &p, &h, "boxed,fixed")
        .output()
        .unwrap()
        .status
        .success());
    assert!(out.join("diff-boxed-vs-fixed.svg").exists());
    let o = quick(&out, &p, &h, "callback").output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            ".escape-lab-run",
            "callback",
            "index.html",
            "inputs",
            "summary.json"
        ]
    );
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(!html.contains("diff-boxed-vs-fixed") && !html.contains("id=\"boxed\""));
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".escape-lab"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    let foreign = dir.path().join("mine");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::write(foreign.join("notes.txt"), "keep me").unwrap();
    let o = quick(&foreign, &p, &h, "callback").output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("not an escape-lab run"), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(foreign.join("notes.txt")).unwrap(),
        "keep me"
    );
}

/// The pids of `pid`'s children (Linux).
fn children(pid: u32) -> Vec<u32> {
    let mut kids = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
    {
        let path = task.unwrap().path().join("children");
        let text = std::fs::read_to_string(path).unwrap_or_default();
        kids.extend(
            text.split_whitespace()
                .filter_map(|t| t.parse::<u32>().ok()),
        );
    }
    kids
}

fn alive(pid: u32) -> bool {
    // A zombie has exited; only its entry is left for its parent to reap.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|s| !s.split(") ").nth(1).unwrap_or("").starts_with('Z'))
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out waiting: {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts a run whose first child hangs, waits for that child, and sends
/// `signal` to the parent; returns the parent's exit status and the child.
fn kill_parent_while_child_hangs(dir: &Path, signal: &str) -> (std::process::ExitStatus, u32) {
    let (p, h) = workload(dir);
    let out = dir.join("run");
    let mut parent = quick(&out, &p, &h, "boxed,fixed")
        .args(["--timeout", "600"])
        .env("ESCAPE_LAB_FAULT", "boxed:hang")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = parent.id();
    let mut kid = 0;
    wait_until("the hanging child", || {
        kid = children(pid).first().copied().unwrap_or(0);
        kid != 0
    });
    let sent = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = parent.wait().unwrap();
    (status, kid)
}

#[test]
fn sigterm_or_sigint_to_the_parent_stops_its_child_and_leaves_nothing() {
    for signal in ["-TERM", "-INT"] {
        let dir = tempfile::tempdir().unwrap();
        let (status, kid) = kill_parent_while_child_hangs(dir.path(), signal);
        assert_eq!(status.code(), Some(130), "{signal}");
        wait_until("the child to be gone", || !alive(kid));
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".escape-lab") || n == "run")
            .collect();
        assert!(left.is_empty(), "{signal}: left behind {left:?}");
    }
}

#[test]
fn sigkill_to_the_parent_still_kills_its_child() {
    let dir = tempfile::tempdir().unwrap();
    let (status, kid) = kill_parent_while_child_hangs(dir.path(), "-KILL");
    assert_eq!(status.code(), None);
    wait_until("the child to die with its parent", || !alive(kid));
}

#[test]
fn a_missing_executable_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (p, h) = workload(dir.path());
    let exe = dir.path().join("escape-lab-copy");
    std::fs::copy(BIN, &exe).unwrap();
    let out = dir.path().join("run");
    // The first scenario's passes take a moment; the binary is removed
    // meanwhile, as a rebuild during a run would.
    let mut cmd = Command::new(&exe);
    cmd.args([
        "profile",
        "--quick",
        "--cpu-seconds",
        "0.1",
        "--variants",
        "boxed,fixed,callback",
    ])
    .arg("--out")
    .arg(&out)
    .arg("--patterns")
    .arg(&p)
    .arg("--haystack")
    .arg(&h)
    .arg("--timeout")
    .arg("2")
    .env("ESCAPE_LAB_FAULT", "boxed:hang")
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    std::fs::remove_file(&exe).unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let s = summary(&out);
    let err = s["scenarios"][1]["error"].as_str().unwrap();
    assert!(err.contains("escape-lab-copy"), "{err}");
}

#[test]
fn bad_usage_is_exit_2_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let (p, h) = workload(dir.path());
    let out = dir.path().join("run");
    // (arguments, environment, what the message says)
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: &[Case] = &[
        (
            &["--cpu-seconds", "1e30"],
            &[],
            "--cpu-seconds: 1000000000000000000000000000000 is not a number of seconds",
        ),
        (
            &["--cpu-seconds", "inf"],
            &[],
            "--cpu-seconds: inf is not a number of seconds",
        ),
        (
            &["--cpu-seconds", "NaN"],
            &[],
            "--cpu-seconds: NaN is not a number of seconds",
        ),
        (
            &["--timeout", "0"],
            &[],
            "--timeout: 0 is not a number of seconds",
        ),
        (
            &[],
            &[("ESCAPE_LAB_FAULT", "boxd:alloc")],
            "no scenario named \"boxd\"",
        ),
        (
            &[],
            &[("ESCAPE_LAB_FAULT", "boxed")],
            "\"boxed\" is not SCENARIO:KIND",
        ),
        (
            &[],
            &[("ESCAPE_LAB_FAULT", "boxed:explode")],
            "unknown fault kind \"explode\"",
        ),
    ];
    for (args, env, want) in cases {
        let mut cmd = escape_lab(&["profile", "--quick", "--variants", "boxed"]);
        cmd.arg("--out")
            .arg(&out)
            .arg("--patterns")
            .arg(&p)
            .arg("--haystack")
            .arg(&h);
        cmd.args(*args);
        for (k, v) in *env {
            cmd.env(k, v);
        }
        let o = cmd.output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?} {env:?}: {}", text(&o));
        assert!(text(&o).contains(want), "{args:?} {env:?}: {}", text(&o));
        assert!(!out.exists(), "{args:?}: nothing written");
    }
}

#[test]
fn an_os_error_is_said_once() {
    let dir = tempfile::tempdir().unwrap();
    let (p, h) = workload(dir.path());
    let out = p.join("run");
    let o = quick(&out, &p, &h, "callback").output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let t = text(&o);
    assert_eq!(t.matches("(os error").count(), 1, "{t}");
    assert!(t.contains("pats.txt"), "{t}");
}

#[test]
fn match_with_a_full_buffer_prints_whole_calls_and_names_the_option() {
    let dir = tempfile::tempdir().unwrap();
    let (p, h) = workload(dir.path());
    let o = escape_lab(&["match", "--variant", "fixed", "--chunk", "0", "--patterns"])
        .arg(&p)
        .arg("--haystack")
        .arg(&h)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(o.stdout.is_empty(), "no line of the failing call");
    let t = text(&o);
    assert!(t.contains("fixed variant, call 1: buffer full"), "{t}");
    assert!(
        t.contains("use a smaller --chunk") && !t.contains("larger capacity"),
        "{t}"
    );
}

#[test]
fn the_gate_cannot_be_fooled() {
    let dir = tempfile::tempdir().unwrap();
    let b = dir.path().join("baseline.json");
    // --bless refuses an injected fault.
    let o = check(&b, &["--bless"], &[("ESCAPE_LAB_FAULT", "reuse:alloc")]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("refusing to bless while ESCAPE_LAB_FAULT is set"));
    assert!(!b.exists());

    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles/baseline.json");
    let good = std::fs::read_to_string(committed).unwrap();
    for (edit, want) in [
        (
            good.replacen("\"schema_version\": 2", "\"schema_version\": \"2\"", 1),
            "schema_version must be the number 2, found \"2\"",
        ),
        (
            good.replacen("\"calls\": 512", "\"calls\": 512, \"cals\": 1", 1),
            "unknown field `cals`",
        ),
    ] {
        std::fs::write(&b, edit).unwrap();
        let o = check(&b, &[], &[]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(text(&o).contains(want), "{}", text(&o));
    }

    // One allocation in 512 calls: the exact totals, not two equal figures.
    let one_less = good.replacen("\"allocs\": 1098961", "\"allocs\": 1098960", 1);
    assert_ne!(one_less, good);
    std::fs::write(&b, one_less).unwrap();
    let o = check(&b, &[], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains(
            "allocations: 2,146.41 -> 2,146.41 per call (1,098,960 -> 1,098,961 in 512 calls, +1)"
        ),
        "{}",
        text(&o)
    );

    // A failed scenario's stderr is kept where the message says.
    std::fs::write(&b, &good).unwrap();
    let o = check(
        &b,
        &["--timeout", "60"],
        &[("ESCAPE_LAB_FAULT", "fixed:panic")],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = text(&o);
    let kept = t
        .split("whole in ")
        .nth(1)
        .and_then(|r| r.split("):").next())
        .unwrap_or_else(|| panic!("no stderr path in {t}"));
    let stderr = std::fs::read_to_string(kept).unwrap();
    assert!(stderr.contains("injected fault: panic"), "{stderr}");
    let _ = std::fs::remove_dir_all(Path::new(kept).parent().unwrap().parent().unwrap());
}
