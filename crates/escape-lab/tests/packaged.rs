//! escape-lab as a user gets it: packaged as crates.io would serve it.
//!
//! `cargo package` makes the `.crate` files of the library and of the crates
//! it needs (`countalloc`, `escape-lab-pprof`), with its verification build;
//! they are unpacked into a temporary folder, and two crates outside the
//! repository depend on them alone (`escape-lab = "0.1"`; the only
//! `[patch.crates-io]` points those crate names at the unpacked folders, as
//! a registry would serve them; no path into the workspace):
//!
//! - a copy of `templates/own-crate` runs its `cargo test` (exact allocation
//!   assertions), a profile, `check` and `reach`; an allocation added under
//!   a branch no input takes fails `check` by its static gate alone, naming
//!   the line; then one allocation added to its allocation-free function
//!   makes the unit test and `check` fail, both naming the added line;
//! - a crate whose hot function has two inlined loops on different lines is
//!   profiled, and its `cpu.pb.gz` has samples on both loops' lines (the
//!   check of `tests/pprof_cpu_lines.rs`, in the packaged world: it fails
//!   when the samples are keyed by function start, as upstream pprof-rs
//!   keys them).
//!
//! The crates build in this workspace's target folder with this workspace's
//! `Cargo.lock`, so the dependencies already built are reused.

#[path = "packaged/world.rs"]
mod world;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use escape_lab::__private::pprof::encode::{from_bytes, ProfileIndex};
use world::{as_users_crate, cargo, copy_dir, copy_of_template, target_dir, text};

#[test]
fn the_template_on_the_packages_passes_then_fails_on_one_added_allocation() {
    let dir = tempfile::tempdir().unwrap();
    let krate = copy_of_template(dir.path());
    passes_its_tests_profiles_and_gates(&krate, dir.path());
    an_untaken_allocation_fails_the_static_gate(&krate);
    one_added_allocation_fails_the_unit_test_and_the_gate(&krate);
}

fn passes_its_tests_profiles_and_gates(krate: &Path, dir: &Path) {
    let krate = krate.to_path_buf();

    let t = cargo(&krate, &["test"]);
    assert!(t.status.success(), "cargo test failed:\n{}", text(&t));
    assert!(
        text(&t).contains("test result: ok. 5 passed"),
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

/// `-- reach` names the ways to the allocator; an allocation added under a
/// branch no input takes leaves every count at 0 and fails `check`, which
/// names its line. The source is restored afterwards.
fn an_untaken_allocation_fails_the_static_gate(krate: &Path) {
    let r = cargo(krate, &["bench", "--bench", "allocs", "--", "reach"]);
    assert_eq!(r.status.code(), Some(0), "{}", text(&r));
    let out = String::from_utf8_lossy(&r.stdout).to_string();
    assert!(out.contains("fields_into: allocates"), "{out}");
    assert!(out.contains("sum_numbers: panic-only"), "{out}");

    let lib = krate.join("src/lib.rs");
    let source = std::fs::read_to_string(&lib).unwrap();
    let anchor = "pub fn sum_numbers(line: &str) -> u64 {\n";
    assert!(
        source.contains(anchor),
        "the template's sum_numbers changed"
    );
    let untaken = "    if std::hint::black_box(line.len()) == usize::MAX {\n        \
                   std::hint::black_box(line.to_string());\n    }\n";
    let mutated = source.replacen(anchor, &format!("{anchor}{untaken}"), 1);
    std::fs::write(&lib, &mutated).unwrap();
    let line = mutated
        .lines()
        .position(|l| l.contains("line.to_string()"))
        .unwrap()
        + 1;

    // The unit test's static assertion sees it too (in the debug build).
    let t = cargo(
        krate,
        &["test", "--test", "allocations", "summing_can_never"],
    );
    let out = text(&t);
    assert!(!t.status.success(), "{out}");
    assert!(
        out.contains("assert_never_allocates!(sum_numbers): it can allocate")
            && out.contains(&format!("src/lib.rs:{line}:")),
        "{out}\n(wanted src/lib.rs:{line})"
    );

    let c = cargo(krate, &["bench", "--bench", "allocs", "--", "check"]);
    let out = text(&c);
    assert_eq!(c.status.code(), Some(1), "{out}");
    assert!(out.contains("regression in sum_numbers:"), "{out}");
    assert!(
        out.contains("static verdict: panic-only -> allocates")
            && out.contains(&format!("new way to the allocator: src/lib.rs:{line}:")),
        "{out}\n(wanted src/lib.rs:{line})"
    );
    // The counts did not move: only the static gate sees it.
    let row = out.lines().find(|l| l.starts_with("sum_numbers")).unwrap();
    assert!(
        row.contains("0, 0") && !out.contains("  allocations:"),
        "{out}"
    );
    std::fs::write(&lib, &source).unwrap();
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

/// The CPU-lines crate: `tests/packaged/cpu-lines/`, with a manifest that
/// depends on the packaged escape-lab only.
fn cpu_lines_crate(dir: &Path) -> PathBuf {
    let crate_dir = dir.join("cpu-lines");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/packaged/cpu-lines"),
        &crate_dir,
    );
    as_users_crate(
        &crate_dir,
        r#"[package]
name = "cpu-lines"
version = "0.1.0"
edition = "2021"
publish = false

[workspace]

[dev-dependencies]
escape-lab = "0.1"

[[bench]]
name = "cpu"
harness = false

[profile.bench]
debug = true
"#,
    );
    crate_dir
}

/// The lines strictly between the `// NAME BEGIN` and `// NAME END`
/// markers of the fixture's source.
fn marked_lines(source: &str, name: &str) -> (i64, i64) {
    let at = |marker: String| {
        source
            .lines()
            .position(|l| l.trim() == marker)
            .unwrap_or_else(|| panic!("no {marker} in the fixture")) as i64
            + 1
    };
    (at(format!("// {name} BEGIN")), at(format!("// {name} END")))
}

#[test]
fn cpu_samples_of_the_packaged_library_land_on_both_inlined_loops() {
    let dir = tempfile::tempdir().unwrap();
    let krate = cpu_lines_crate(dir.path());
    let out = dir.path().join("run");
    let p = cargo(
        &krate,
        &[
            "bench",
            "--bench",
            "cpu",
            "--",
            "--no-instr",
            "--cpu-seconds",
            "1.5",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(p.status.code(), Some(0), "{}", text(&p));
    let source = std::fs::read_to_string(krate.join("src/lib.rs")).unwrap();
    let gz = std::fs::read(out.join("two_loops/cpu.pb.gz")).unwrap();
    let profile = from_bytes(&gz).unwrap();
    let ix = ProfileIndex::new(&profile);

    // Per loop: the samples whose leaf location has a line inside it.
    let mut share: BTreeMap<&str, i64> = BTreeMap::new();
    let mut lines: BTreeMap<&str, BTreeSet<i64>> = BTreeMap::new();
    let mut all = 0;
    for s in &profile.sample {
        all += s.value[0];
        let Some(leaf) = s.location_id.first().and_then(|id| ix.location(*id)) else {
            continue;
        };
        for name in ["ALPHA", "BETA"] {
            let (first, last) = marked_lines(&source, name);
            let inside: Vec<i64> = leaf
                .line
                .iter()
                .map(|l| l.line)
                .filter(|&l| first < l && l < last)
                .collect();
            if !inside.is_empty() {
                *share.entry(name).or_default() += s.value[0];
                lines.entry(name).or_default().extend(inside);
            }
        }
    }
    let report = format!("samples per loop {share:?} of {all}, lines {lines:?}");
    eprintln!("{report}");
    assert!(all >= 100, "too few samples: {report}");
    for name in ["ALPHA", "BETA"] {
        let n = share.get(name).copied().unwrap_or(0);
        assert!(
            n * 100 >= all * 15,
            "{name} has {n} of {all} samples (< 15%): {report}"
        );
    }
}

/// The template's `live` program (escape-lab as an optional normal
/// dependency with the `live` feature) on the packages: it serves its
/// profiles, the heap profile names the template's allocating function, and
/// `go tool pprof -top` reads it where Go is installed.
#[test]
fn the_templates_live_program_serves_its_own_profiles() {
    let dir = tempfile::tempdir().unwrap();
    let krate = copy_of_template(dir.path());
    let b = cargo(&krate, &["build", "--features", "live", "--bin", "live"]);
    assert!(b.status.success(), "{}", text(&b));
    let exe = target_dir().join("debug/live");
    let mut child = std::process::Command::new(&exe)
        .args(["127.0.0.1:0", "60"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
    let url = line
        .trim()
        .strip_prefix("profiles at ")
        .unwrap_or_else(|| panic!("{line:?}"))
        .to_owned();
    let addr = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    // Let it run a while, then read its allocations.
    std::thread::sleep(std::time::Duration::from_secs(2));
    let body = http_get(&addr, "/debug/pprof/allocs");
    let profile = escape_lab::__private::pprof::encode::from_bytes(&body).unwrap();
    let ix = escape_lab::__private::pprof::encode::ProfileIndex::new(&profile);
    let names: Vec<&str> = profile.function.iter().map(|f| ix.str(f.name)).collect();
    assert!(
        names.iter().any(|n| n.contains("own_crate::fields_owned")),
        "{names:?}"
    );
    if std::process::Command::new("go")
        .arg("version")
        .output()
        .is_ok()
    {
        let top = std::process::Command::new("go")
            .args(["tool", "pprof", "-top", &format!("{url}allocs")])
            .output()
            .unwrap();
        assert!(top.status.success(), "{}", text(&top));
        assert!(
            text(&top).contains("own_crate::fields_owned"),
            "{}",
            text(&top)
        );
    } else {
        eprintln!("go tool pprof skipped: Go is not installed");
    }
    let _ = child.kill();
    let _ = child.wait();
    drop(stdout);
}

/// A GET over a fresh connection: the body (the server closes after it).
fn http_get(addr: &str, path: &str) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).unwrap();
    let head_end = answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer[..head_end])
    );
    answer[head_end + 4..].to_vec()
}
