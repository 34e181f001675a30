//! The documented recipe, `examples/custom_scenarios.rs`, run as a user
//! would: its own binary, its two scenarios through every pass, and the
//! exact counts it promises (a `String` per number against none).

use std::path::PathBuf;
use std::process::Command;

/// The example's binary, built (or found up to date) by cargo into this
/// test's own target folder and profile, so a filtered `cargo test --test
/// example` never runs a stale one.
fn example() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/example-HASH
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    let target_dir = profile_dir.parent().unwrap();
    let mut build = Command::new(env!("CARGO"));
    build
        .args([
            "build",
            "--quiet",
            "-p",
            "escape-lab",
            "--example",
            "custom_scenarios",
        ])
        .arg("--target-dir")
        .arg(target_dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        build.arg("--release");
    }
    let status = build.status().unwrap();
    assert!(status.success(), "building the example failed");
    profile_dir
        .join("examples")
        .join(format!("custom_scenarios{}", std::env::consts::EXE_SUFFIX))
}

#[test]
fn the_custom_scenarios_example_profiles_its_two_scenarios() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = Command::new(example())
        .arg(&out)
        .arg("--quick")
        .env_remove("ESCAPE_LAB_FAULT")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        stdout.contains("format_each") && stdout.contains("write_reused"),
        "{stdout}"
    );
    let s: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let find = |name: &str| {
        s["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == name)
            .unwrap()
            .clone()
    };
    let each = find("format_each");
    let reused = find("write_reused");
    for sc in [&each, &reused] {
        assert_eq!(sc["status"], "ok", "{sc}");
        assert_eq!(sc["count"]["calls"], 100, "{sc}");
    }
    // One String per number, 64 numbers per call; none when reused.
    assert_eq!(each["count"]["allocs"], 6400, "{each}");
    assert_eq!(reused["count"]["allocs"], 0, "{reused}");
    let site = each["sites"][0]["location"].as_str().unwrap();
    assert!(
        site.starts_with("crates/escape-lab/examples/custom_scenarios.rs:"),
        "{site}"
    );
    assert!(out.join("index.html").exists());
}
