//! `escape-lab profile` end to end: runs the real binary on a small workload
//! into a temporary folder and checks the artifacts themselves, not just
//! that they exist. Also: a crashing, a hanging and an overflowing scenario
//! leave the other scenarios' reports complete; an unwritable `--out` is
//! exit 2; two runs give identical counts.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_escape-lab");

/// A small English-like workload: 300 patterns, 24 KiB of text, written to
/// `dir`. Deterministic.
fn small_workload(dir: &Path) -> (PathBuf, PathBuf) {
    let syllables = [
        "ar", "be", "con", "de", "en", "for", "ge", "her", "in", "ly", "men", "ness", "or", "pro",
        "re", "s", "ter", "the", "tion", "un",
    ];
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut word = |n: u64| -> String {
        (0..1 + n % 3)
            .map(|_| syllables[(next() % syllables.len() as u64) as usize])
            .collect()
    };
    let mut patterns: Vec<String> = (0..300).map(&mut word).collect();
    patterns.sort();
    patterns.dedup();
    let mut text = String::new();
    let mut i = 0u64;
    while text.len() < 24 * 1024 {
        text.push_str(&word(i));
        text.push(if i % 11 == 10 { '\n' } else { ' ' });
        i += 1;
    }
    let p = dir.join("patterns.txt");
    let h = dir.join("haystack.txt");
    std::fs::write(&p, patterns.join("\n")).unwrap();
    std::fs::write(&h, text).unwrap();
    (p, h)
}

fn profile(dir: &Path, out: &Path, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let (p, h) = small_workload(dir);
    let mut cmd = Command::new(BIN);
    cmd.arg("profile")
        .arg("--quick")
        .arg("--patterns")
        .arg(&p)
        .arg("--haystack")
        .arg(&h)
        .arg("--out")
        .arg(out)
        .args(extra)
        .env_remove("ESCAPE_LAB_FAULT");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn summary(out: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap()
}

fn scenario<'a>(s: &'a Value, name: &str) -> &'a Value {
    s["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == name)
        .unwrap_or_else(|| panic!("no scenario {name} in summary"))
}

/// Parses a whole XML document, panicking on the first error.
fn assert_xml(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let mut reader = quick_xml::Reader::from_str(&text);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("{} is not well-formed XML: {e}", path.display()),
        }
    }
    text
}

fn pprof_samples(path: &Path) -> (usize, Vec<String>) {
    let p =
        escape_lab::__private::pprof::encode::from_bytes(&std::fs::read(path).unwrap()).unwrap();
    let strings = p.string_table.clone();
    (p.sample.len(), strings)
}

#[test]
fn a_quick_run_writes_every_artifact() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = profile(dir.path(), &out, &[], &[]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        stdout.contains("report:") && stdout.contains("index.html"),
        "{stdout}"
    );

    let s = summary(&out);
    assert_eq!(s["schema_version"], 2);
    assert_eq!(s["workload"]["name"], "files");
    assert_eq!(s["quick"], true);
    let names: Vec<&str> = s["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["boxed", "dyn_buffer", "fixed", "reuse", "callback"]);
    let text = serde_json::to_string(&s).unwrap();
    assert!(
        !text.contains(dir.path().to_str().unwrap()),
        "no absolute paths in summary.json"
    );

    for name in &names {
        let sc = scenario(&s, name);
        assert_eq!(sc["status"], "ok", "{name}: {}", sc["error"]);
        assert_eq!(sc["kind"], "variant");
        assert_eq!(sc["items_unit"], "matches");
        for key in [
            "bytes_per_call",
            "per_call",
            "count",
            "heap",
            "cpu",
            "sites",
            "artifacts",
        ] {
            assert!(!sc[key].is_null(), "{name}: {key} missing");
        }
        for key in ["items", "allocs", "bytes", "ns", "mb_per_s"] {
            assert!(
                sc["per_call"][key].is_number(),
                "{name}: per_call.{key} missing"
            );
        }
        for (pass, key) in [
            ("count", "calls"),
            ("count", "allocs"),
            ("heap", "peak_live_bytes"),
            ("cpu", "samples"),
        ] {
            assert!(sc[pass][key].is_u64(), "{name}: {pass}.{key} missing");
        }
        assert!(sc["per_call"]["items"].as_f64().unwrap() > 1.0, "{name}");
        let d = out.join(name);
        for svg in ["cpu.svg", "alloc-bytes.svg", "alloc-count.svg"] {
            assert_xml(&d.join(svg));
            assert_eq!(
                sc["artifacts"][svg.replace(['.', '-'], "_")],
                format!("{name}/{svg}")
            );
        }
        let cpu = assert_xml(&d.join("cpu.svg"));
        assert!(
            cpu.contains("acmatch::"),
            "{name}: cpu.svg without acmatch frames"
        );
        let (samples, strings) = pprof_samples(&d.join("cpu.pb.gz"));
        assert!(samples > 0, "{name}: cpu.pb.gz has no samples");
        assert!(
            strings.iter().any(|s| s.contains("acmatch::")),
            "{name}: no acmatch function in cpu.pb.gz"
        );
        let heap: Value =
            serde_json::from_slice(&std::fs::read(d.join("heap.json")).unwrap()).unwrap();
        assert_eq!(heap["dhatFileVersion"], 2, "{name}");
        assert!(heap["pps"].is_array(), "{name}");
        assert!(d.join("sites.txt").exists());
    }

    // boxed: allocates, and its sites point into acmatch's boxed variant.
    let boxed = scenario(&s, "boxed");
    assert!(boxed["per_call"]["allocs"].as_f64().unwrap() > 100.0);
    let site = boxed["sites"][0]["location"].as_str().unwrap();
    assert!(
        site.starts_with("crates/acmatch/src/variant/boxed.rs:"),
        "{site}"
    );
    let sites = std::fs::read_to_string(out.join("boxed/sites.txt")).unwrap();
    assert!(
        sites.contains("crates/acmatch/src/variant/boxed.rs:"),
        "{sites}"
    );
    assert!(
        sites.contains("allocs/call") && sites.contains("in acmatch::variant::boxed::find"),
        "{sites}"
    );
    let heap: Value =
        serde_json::from_slice(&std::fs::read(out.join("boxed/heap.json")).unwrap()).unwrap();
    assert!(
        !heap["pps"].as_array().unwrap().is_empty(),
        "boxed heap.json has program points"
    );
    let alloc_svg = assert_xml(&out.join("boxed/alloc-count.svg"));
    assert!(alloc_svg.contains("acmatch::variant::boxed::find"));
    assert!(alloc_svg.contains("allocations"));

    // dyn_buffer: exactly one allocation per hit and token.
    let dynb = scenario(&s, "dyn_buffer");
    assert!(dynb["sites"][0]["location"]
        .as_str()
        .unwrap()
        .starts_with("crates/acmatch/src/variant/dyn_buffer.rs:"));

    // fixed, reuse, callback: nothing per call, and no sites.
    for name in ["fixed", "reuse", "callback"] {
        let sc = scenario(&s, name);
        assert_eq!(sc["count"]["allocs"], 0, "{name}");
        assert_eq!(sc["count"]["bytes"], 0, "{name}");
        assert_eq!(sc["sites"].as_array().unwrap().len(), 0, "{name}");
        assert_eq!(sc["heap"]["peak_live_bytes"], 0, "{name}");
        let txt = std::fs::read_to_string(out.join(name).join("sites.txt")).unwrap();
        assert!(txt.contains("no allocation sites"), "{name}: {txt}");
        assert!(assert_xml(&out.join(name).join("alloc-count.svg")).contains("no allocations"));
    }

    // The differential graph draws the stacks fixed no longer has.
    for file in ["diff-boxed-vs-fixed.svg", "diff-boxed-vs-fixed-bytes.svg"] {
        let diff = assert_xml(&out.join(file));
        assert!(
            diff.contains("acmatch::variant::boxed::find"),
            "{file}: vanished stacks drawn"
        );
    }
    assert_eq!(
        s["comparisons"],
        serde_json::json!([{"before": "boxed", "after": "fixed",
            "count_svg": "diff-boxed-vs-fixed.svg", "bytes_svg": "diff-boxed-vs-fixed-bytes.svg"}])
    );

    // index.html: one page, every picture embedded, the tools' instructions.
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.matches("data:image/svg+xml;base64,").count() >= 17);
    assert!(html.contains("go tool pprof") && html.contains("dh_view.html"));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no network"
    );
}

#[test]
fn failing_scenarios_leave_the_others_complete() {
    let dir = tempfile::tempdir().unwrap();

    // A child that aborts.
    let out = dir.path().join("abort");
    let o = profile(
        dir.path(),
        &out,
        &["--variants", "boxed,dyn_buffer,fixed"],
        &[("ESCAPE_LAB_FAULT", "dyn_buffer:abort")],
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let s = summary(&out);
    let bad = scenario(&s, "dyn_buffer");
    assert_eq!(bad["status"], "failed");
    let err = bad["error"].as_str().unwrap();
    assert!(
        err.contains("crashed") && err.contains("injected fault: abort"),
        "{err}"
    );
    for name in ["boxed", "fixed"] {
        assert_eq!(scenario(&s, name)["status"], "ok");
        for f in [
            "cpu.svg",
            "cpu.pb.gz",
            "heap.json",
            "sites.txt",
            "alloc-count.svg",
        ] {
            assert!(out.join(name).join(f).exists(), "{name}/{f}");
        }
    }
    assert!(out.join("index.html").exists() && out.join("diff-boxed-vs-fixed.svg").exists());
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("FAILED"), "{stdout}");

    // A child that panics, and one that hangs past its time limit.
    let out = dir.path().join("panic");
    let o = profile(
        dir.path(),
        &out,
        &["--variants", "fixed,callback", "--timeout", "3"],
        &[("ESCAPE_LAB_FAULT", "callback:hang")],
    );
    assert_eq!(o.status.code(), Some(1));
    let s = summary(&out);
    assert!(scenario(&s, "callback")["error"]
        .as_str()
        .unwrap()
        .contains("timed out after 3 s"));
    assert_eq!(scenario(&s, "fixed")["status"], "ok");

    let out = dir.path().join("panic2");
    let o = profile(
        dir.path(),
        &out,
        &["--variants", "fixed,callback"],
        &[("ESCAPE_LAB_FAULT", "fixed:panic")],
    );
    assert_eq!(o.status.code(), Some(1));
    let s = summary(&out);
    assert!(scenario(&s, "fixed")["error"]
        .as_str()
        .unwrap()
        .contains("injected fault: panic"));
    assert_eq!(scenario(&s, "callback")["status"], "ok");
}

#[test]
fn a_full_fixed_buffer_is_a_reported_failure() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    // The whole 24 KiB haystack in one call: far more than 4,096 tokens.
    let o = profile(
        dir.path(),
        &out,
        &["--variants", "fixed,callback", "--chunk", "0"],
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    let s = summary(&out);
    let err = scenario(&s, "fixed")["error"].as_str().unwrap().to_string();
    assert!(
        err.contains("buffer full (capacity 4096) at call 1"),
        "{err}"
    );
    assert_eq!(scenario(&s, "callback")["status"], "ok");
}

#[test]
fn an_unwritable_out_is_exit_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let out = file.join("run");
    let o = profile(dir.path(), &out, &["--variants", "callback"], &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(out.to_str().unwrap()), "{err}");
}

#[test]
fn two_runs_give_identical_counts() {
    let dir = tempfile::tempdir().unwrap();
    let counts = |out: &Path| -> Vec<Value> {
        let s = summary(out);
        s["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                serde_json::json!([
                    x["name"],
                    x["count"],
                    x["heap"],
                    x["per_call"]["items"],
                    x["sites"]
                ])
            })
            .collect()
    };
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    for out in [&a, &b] {
        let o = profile(
            dir.path(),
            out,
            &["--variants", "boxed,reuse", "--cpu-seconds", "0.1"],
            &[],
        );
        assert!(o.status.success());
    }
    assert_eq!(counts(&a), counts(&b));
    assert!(counts(&a)[0][1]["allocs"].as_u64().unwrap() > 0);
}
