//! What the integration tests of the binary share: the binary, a small
//! workload, the commands they run, and a running `serve` (`served`).
#![allow(dead_code)] // each test file uses its own part

pub mod served;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_escape-lab");

/// Eleven patterns and 24 KiB of text that match each other, written to `dir`.
pub fn workload(dir: &Path) -> (PathBuf, PathBuf) {
    let words = [
        "the", "her", "he", "she", "hers", "there", "where", "here", "other", "then", "them",
    ];
    let mut text = String::new();
    let mut i = 0usize;
    while text.len() < 24 * 1024 {
        text.push_str(words[i * 7 % words.len()]);
        text.push(if i % 13 == 12 { '\n' } else { ' ' });
        i += 1;
    }
    let p = dir.join("pats.txt");
    let h = dir.join("text.txt");
    std::fs::write(&p, words.join("\n")).unwrap();
    std::fs::write(&h, text).unwrap();
    (p, h)
}

pub fn escape_lab(args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args).env_remove("ESCAPE_LAB_FAULT");
    cmd
}

pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

pub fn summary(out: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap()
}

pub fn quick(out: &Path, p: &Path, h: &Path, variants: &str) -> Command {
    let mut cmd = escape_lab(&[
        "profile",
        "--quick",
        "--cpu-seconds",
        "0.1",
        "--variants",
        variants,
    ]);
    cmd.arg("--out")
        .arg(out)
        .arg("--patterns")
        .arg(p)
        .arg("--haystack")
        .arg(h);
    cmd
}

pub fn check(baseline: &Path, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = escape_lab(&["check", "--no-instr", "--baseline"]);
    cmd.arg(baseline).args(extra);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}
