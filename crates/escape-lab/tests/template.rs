//! `templates/own-crate`, used as a user would: copied out of this
//! repository, its dependency pointed at this checkout, then its own
//! `cargo test` and `cargo bench --bench allocs -- check`; then one
//! allocation added to its allocation-free function makes both fail,
//! naming the template's file and line.
//!
//! The copy builds in this workspace's target folder with this workspace's
//! `Cargo.lock`, so the dependencies the workspace already built are reused
//! (one test, not two: two copies of one package would share its artifacts
//! in one target folder).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn template() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../templates/own-crate")
}

/// cargo's target folder of this test binary (`<target>/<profile>/deps/`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent()
        .unwrap()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let name = e.file_name();
        if name == "target" || name == "Cargo.lock" {
            continue;
        }
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(&name));
        } else {
            std::fs::copy(e.path(), to.join(&name)).unwrap();
        }
    }
}

/// A copy of the template whose escape-lab dependency is this checkout.
fn copy_of_template(dir: &Path) -> PathBuf {
    let crate_dir = dir.join("own-crate");
    copy_dir(&template(), &crate_dir);
    let manifest = crate_dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let lib = Path::new(env!("CARGO_MANIFEST_DIR"))
        .canonicalize()
        .unwrap();
    let pointed = text.replace(
        "path = \"../../crates/escape-lab\"",
        &format!("path = {:?}", lib.display().to_string()),
    );
    assert_ne!(text, pointed, "the template's dependency line changed");
    std::fs::write(&manifest, pointed).unwrap();
    let lock = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.lock");
    std::fs::copy(lock, crate_dir.join("Cargo.lock")).unwrap();
    crate_dir
}

fn cargo(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO"))
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir())
        .env_remove("ESCAPE_LAB_FAULT")
        .env_remove("CARGO_MANIFEST_DIR")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn a_copied_template_passes_then_fails_on_one_added_allocation() {
    let dir = tempfile::tempdir().unwrap();
    let krate = copy_of_template(dir.path());
    passes_its_tests_profiles_and_gates(&krate, dir.path());
    one_added_allocation_fails_the_unit_test_and_the_gate(&krate);
}

fn passes_its_tests_profiles_and_gates(krate: &Path, dir: &Path) {
    let krate = krate.to_path_buf();

    let t = cargo(&krate, &["test"]);
    assert!(t.status.success(), "cargo test failed:\n{}", text(&t));
    assert!(
        text(&t).contains("test result: ok. 4 passed"),
        "{}",
        text(&t)
    );

    let c = cargo(&krate, &["bench", "--bench", "allocs", "--", "check"]);
    assert_eq!(c.status.code(), Some(0), "{}", text(&c));
    assert!(text(&c).contains("check passed"), "{}", text(&c));

    let out = dir.join("run");
    let out_arg = out.to_str().unwrap();
    let p = cargo(
        &krate,
        &[
            "bench", "--bench", "allocs", "--", "--quick", "--out", out_arg,
        ],
    );
    assert_eq!(p.status.code(), Some(0), "{}", text(&p));
    let sites = std::fs::read_to_string(out.join("fields_owned/sites.txt")).unwrap();
    assert!(sites.contains("src/lib.rs:"), "{sites}");
    assert!(out.join("index.html").exists());
    assert!(out.join("diff-fields_owned-vs-fields_into.svg").exists());

    let m = cargo(
        &krate,
        &[
            "bench", "--bench", "allocs", "--", "check", "--format", "markdown",
        ],
    );
    assert_eq!(m.status.code(), Some(0), "{}", text(&m));
    assert!(
        String::from_utf8_lossy(&m.stdout).starts_with("### escape-lab check: passed"),
        "{}",
        text(&m)
    );
}

fn one_added_allocation_fails_the_unit_test_and_the_gate(krate: &Path) {
    let lib = krate.join("src/lib.rs");
    let source = std::fs::read_to_string(&lib).unwrap();
    let anchor = "    let before = out.len();\n";
    assert!(
        source.contains(anchor),
        "the template's fields_into changed"
    );
    let probe = "    let _probe = std::hint::black_box(line.to_string());\n";
    let mutated = source.replacen(anchor, &format!("{anchor}{probe}"), 1);
    std::fs::write(&lib, &mutated).unwrap();
    let line = mutated.lines().position(|l| l.contains("_probe")).unwrap() + 1;
    let site = format!("src/lib.rs:{line}:");

    let t = cargo(krate, &["test"]);
    assert!(
        !t.status.success(),
        "the unit test should fail:\n{}",
        text(&t)
    );
    let out = text(&t);
    assert!(
        out.contains("expected exactly 0 allocations per run, got 1 per run"),
        "{out}"
    );
    assert!(
        out.contains(&format!("top allocation site: {site}")),
        "{out}\n(wanted {site})"
    );

    let c = cargo(krate, &["bench", "--bench", "allocs", "--", "check"]);
    assert_eq!(c.status.code(), Some(1), "{}", text(&c));
    let out = text(&c);
    assert!(out.contains("regression in fields_into:"), "{out}");
    assert!(
        out.contains(&format!("top allocation site now: {site}")),
        "{out}\n(wanted {site})"
    );
}
