//! The small commands end to end: `match` (TSV, `--count`, every variant,
//! chunking), `list`, and bad input: a clear message naming the file and
//! line, exit code 2, never a panic.

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_escape-lab");

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn match_prints_tsv_in_report_order() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "p.txt", b"she\nhe\nher\nhers\n");
    let h = write(dir.path(), "h.txt", b"hershertongher");
    let o = run(&["match", "--patterns", &p, "--haystack", &h]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(
        out(&o),
        "0\t2\t1\n0\t3\t2\n0\t4\t3\n3\t6\t0\n4\t6\t1\n4\t7\t2\n11\t13\t1\n11\t14\t2\n"
    );
}

#[test]
fn every_variant_and_chunk_size_counts_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "p.txt",
        "中华\r\n人民\n中华人民共和国\n\u{feff}\nhe\n".as_bytes(),
    );
    let text = "中华人民共和国 he said, 人民 ".repeat(200);
    let h = write(dir.path(), "h.txt", text.as_bytes());
    for variant in ["boxed", "dyn_buffer", "fixed", "reuse", "callback"] {
        for chunk in ["0", "1", "7", "2048"] {
            let o = run(&[
                "match",
                "--patterns",
                &p,
                "--haystack",
                &h,
                "--variant",
                variant,
                "--chunk",
                chunk,
                "--count",
            ]);
            assert!(o.status.success(), "{variant} {chunk}: {}", err(&o));
            // Per repetition: 中华, 人民, 中华人民共和国, he, 人民 = 5.
            assert_eq!(out(&o), "1000\n", "{variant} chunk {chunk}");
        }
    }
}

#[test]
fn a_non_utf8_haystack_is_fine() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "p.txt", b"ab\n\xff\xfe\n");
    let h = write(dir.path(), "h.txt", b"\xff\xfeab\x00ab\xff");
    let o = run(&["match", "--patterns", &p, "--haystack", &h, "--count"]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(out(&o), "3\n");
}

#[test]
fn bad_input_is_exit_2_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let h = write(dir.path(), "h.txt", b"text");
    let blank = write(dir.path(), "blank.txt", b"he\n\n   \nshe\n");
    let empty = write(dir.path(), "empty.txt", b"\n\n");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                "--patterns".into(),
                blank.clone(),
                "--haystack".into(),
                h.clone(),
            ],
            "blank.txt:3",
        ),
        (
            vec![
                "--patterns".into(),
                empty.clone(),
                "--haystack".into(),
                h.clone(),
            ],
            "no patterns",
        ),
        (
            vec![
                "--patterns".into(),
                dir.path().join("nope.txt").to_str().unwrap().into(),
                "--haystack".into(),
                h.clone(),
            ],
            "nope.txt",
        ),
        (
            vec![
                "--patterns".into(),
                dir.path().to_str().unwrap().into(),
                "--haystack".into(),
                h.clone(),
            ],
            "is a folder, not a file",
        ),
        (
            vec!["--patterns".into(), blank.clone()],
            "--patterns needs --haystack",
        ),
        (vec!["--workload".into(), "nope".into()], "valid names"),
        (
            vec![
                "--variant".into(),
                "nope".into(),
                "--workload".into(),
                "synthetic-en".into(),
            ],
            "boxed",
        ),
    ];
    for (args, needle) in cases {
        let mut full = vec!["match".to_string(), "--count".to_string()];
        full.extend(args.clone());
        let o = Command::new(BIN).args(&full).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", err(&o));
        assert!(
            err(&o).contains(needle),
            "{args:?}: expected {needle:?} in {}",
            err(&o)
        );
        assert!(!err(&o).contains("panicked"), "{}", err(&o));
    }
    // The missing file's message carries the OS reason too.
    let o = run(&[
        "match",
        "--patterns",
        "/nonexistent/p.txt",
        "--haystack",
        &h,
    ]);
    assert!(err(&o).contains("No such file"), "{}", err(&o));
}

#[test]
fn a_full_fixed_buffer_is_exit_1_and_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "p.txt", b"a\naa\n");
    let h = write(dir.path(), "h.txt", &[b'a'; 5000]);
    let o = run(&[
        "match",
        "--patterns",
        &p,
        "--haystack",
        &h,
        "--variant",
        "fixed",
        "--chunk",
        "0",
        "--count",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("buffer full: the hits buffer (capacity 4096)")
            && err(&o).contains("use a smaller --chunk"),
        "{}",
        err(&o)
    );
    assert!(err(&o).contains("call 1"), "{}", err(&o));
}

#[test]
fn list_names_variants_cases_and_workloads() {
    let o = run(&["list"]);
    assert!(o.status.success());
    let text = out(&o);
    for needle in [
        "boxed",
        "callback",
        "interface.box_dyn_any",
        "return_ref",
        "synthetic-en",
        "article-zh",
    ] {
        assert!(text.contains(needle), "{needle} missing from list:\n{text}");
    }
}
