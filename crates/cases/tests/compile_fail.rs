//! The `compile_fail` doctests fail for the reason their docs give, and for
//! no other.
//!
//! rustdoc checks the error code of a `compile_fail,E0499` block only on
//! nightly; on stable, a typo would make the block "pass". So this test
//! extracts every `compile_fail` block from the case modules, compiles it
//! with `rustc` as rustdoc would (the block as the body of `main`), and
//! requires exactly one error, with the named code.

use std::path::PathBuf;
use std::process::Command;

/// The `compile_fail` blocks of one module's docs: (error code, code).
fn compile_fail_blocks(source: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in source.lines() {
        let Some(doc) = line.trim_start().strip_prefix("//!") else {
            continue;
        };
        let doc = doc.strip_prefix(' ').unwrap_or(doc);
        match current.as_mut() {
            None => {
                if let Some(code) = doc.strip_prefix("```compile_fail,") {
                    current = Some((code.trim().to_string(), String::new()));
                }
            }
            Some((_, body)) if doc.trim() == "```" => {
                let body = std::mem::take(body);
                let (code, _) = current.take().unwrap();
                blocks.push((code, body));
            }
            Some((_, body)) => {
                // rustdoc's hidden lines (`# code`) are compiled too.
                let doc = doc.strip_prefix("# ").unwrap_or(doc);
                body.push_str(doc);
                body.push('\n');
            }
        }
    }
    assert!(current.is_none(), "an unterminated compile_fail block");
    blocks
}

/// Compiles `body` as the body of `main`; returns rustc's stderr.
fn compile(name: &str, body: &str) -> (bool, String) {
    // One directory per block: the tests run in parallel.
    let dir =
        std::env::temp_dir().join(format!("cases-compile-fail-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src: PathBuf = dir.join(format!("{name}.rs"));
    std::fs::write(&src, format!("fn main() {{\n{body}}}\n")).unwrap();
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let out = Command::new(rustc)
        .args([
            "--edition",
            "2021",
            "--crate-type",
            "bin",
            "--emit",
            "metadata",
        ])
        .args(["-A", "warnings", "--out-dir"])
        .arg(&dir)
        .arg(&src)
        .output()
        .expect("running rustc");
    let _ = std::fs::remove_dir_all(&dir);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `Ok` when `body` fails to compile with exactly one error, `code`.
fn fails_only_with(name: &str, code: &str, body: &str) -> Result<(), String> {
    let (ok, stderr) = compile(name, body);
    if ok {
        return Err(format!("it compiled:\n{body}"));
    }
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error"))
        .filter(|l| !l.starts_with("error: aborting due to"))
        .collect();
    match errors.as_slice() {
        [only] if only.starts_with(&format!("error[{code}]")) => Ok(()),
        _ => Err(format!("expected exactly one error, {code}:\n{stderr}")),
    }
}

fn check(module: &str, source: &str, codes: &[&str]) {
    let blocks = compile_fail_blocks(source);
    let found: Vec<&str> = blocks.iter().map(|b| b.0.as_str()).collect();
    assert_eq!(found, codes, "{module}: the compile_fail blocks' codes");
    for (i, (code, body)) in blocks.iter().enumerate() {
        if let Err(e) = fails_only_with(&format!("{module}_{i}"), code, body) {
            panic!("{module}, compile_fail block {i}: {e}");
        }
    }
}

#[test]
fn alias_fails_only_for_aliasing() {
    check("alias", include_str!("../src/alias.rs"), &["E0499"]);
}

#[test]
fn return_ref_fails_only_for_returning_a_reference_to_a_local() {
    check(
        "return_ref",
        include_str!("../src/return_ref.rs"),
        &["E0515"],
    );
}

#[test]
fn the_checker_rejects_wrong_blocks() {
    // Negative controls: the aliasing error plus a typo (rustc then reports
    // the typo, E0599, and skips the borrow check), a block that compiles,
    // and the right block with the wrong code.
    let aliasing =
        "let mut v = vec![1];\nlet a = &mut v;\nlet b = &mut v;\na.push(1);\nb.push(2);\n";
    assert_eq!(fails_only_with("right", "E0499", aliasing), Ok(()));
    let typo = aliasing.replace("b.push", "b.psh");
    assert!(fails_only_with("typo", "E0499", &typo).is_err());
    assert!(fails_only_with(
        "fine",
        "E0499",
        "let v = vec![1];\nassert_eq!(v.len(), 1);\n"
    )
    .is_err());
    assert!(fails_only_with("code", "E0502", aliasing).is_err());
}
