//! Loading workloads from files: what is read, and what the errors say.

use std::fs;
use std::path::{Path, PathBuf};

use workload::{from_files, WorkloadError};

/// A fresh directory under the system's temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("workload-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        fs::write(&path, bytes).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[test]
fn reads_patterns_and_raw_haystack() {
    let dir = TempDir::new("raw");
    let patterns = dir.write("p.txt", b"\xEF\xBB\xBFhe\r\nshe\r\n\r\n\xff\xfe\nhe\n");
    let haystack = dir.write("h.bin", b"ushers \xff\xfe\x00 \r\n");
    let w = from_files(&patterns, &haystack).unwrap();
    assert_eq!(w.name, "files");
    assert_eq!(w.patterns, [&b"he"[..], b"she", b"\xff\xfe", b"he"]);
    assert_eq!(
        w.haystack, b"ushers \xff\xfe\x00 \r\n",
        "haystack kept byte for byte"
    );
    assert_eq!(w.pattern_bytes(), 9);
    assert!(w.description.contains("4 patterns"), "{}", w.description);
}

#[test]
fn empty_haystack_is_fine() {
    let dir = TempDir::new("empty-hay");
    let w = from_files(&dir.write("p.txt", b"a\n"), &dir.write("h.txt", b"")).unwrap();
    assert!(w.haystack.is_empty());
}

#[test]
fn missing_file_names_the_path() {
    let dir = TempDir::new("missing");
    let present = dir.write("present.txt", b"a\n");
    let absent = dir.0.join("absent.txt");
    for (patterns, haystack) in [(&absent, &present), (&present, &absent)] {
        let err = from_files(patterns, haystack).unwrap_err();
        match &err {
            WorkloadError::Io { path, source } => {
                assert_eq!(path, &absent);
                assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
            }
            other => panic!("expected Io, got {other:?}"),
        }
        let msg = err.to_string();
        assert_eq!(msg, format!("cannot read {}", absent.display()));
        let source = std::error::Error::source(&err).expect("the io error is the source");
        assert!(!source.to_string().is_empty());
    }
}

#[test]
fn directory_is_not_a_file() {
    let dir = TempDir::new("dir");
    let file = dir.write("p.txt", b"a\n");
    for (patterns, haystack) in [(&dir.0, &file), (&file, &dir.0)] {
        let err = from_files(patterns, haystack).unwrap_err();
        assert!(
            matches!(&err, WorkloadError::NotAFile { path } if path == &dir.0),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!("{} is a directory, expected a file", dir.0.display())
        );
    }
}

#[test]
fn pattern_errors_name_the_file_and_line() {
    let dir = TempDir::new("lines");
    let hay = dir.write("h.txt", b"x");
    let bad = dir.write("bad.txt", b"one\r\ntwo\r\n\r\n\t \r\nfour\r\n");
    let err = from_files(&bad, &hay).unwrap_err();
    assert!(
        matches!(&err, WorkloadError::EmptyPattern { path, line: 4 } if path == &bad),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with(&format!("{}:4: ", bad.display())),
        "{err}"
    );

    let none = dir.write("none.txt", b"\n\r\n\n");
    let err = from_files(&none, &hay).unwrap_err();
    assert!(
        matches!(&err, WorkloadError::NoPatterns { path } if path == &none),
        "{err:?}"
    );
    assert!(
        err.to_string().starts_with(&none.display().to_string()),
        "{err}"
    );
}

#[test]
fn duplicates_keep_their_own_ids() {
    let dir = TempDir::new("dups");
    let w = from_files(
        &dir.write("p.txt", b"ab\nab\nb\nab\n"),
        Path::new(&dir.write("h.txt", b"ab")),
    )
    .unwrap();
    assert_eq!(w.patterns.len(), 4);
    assert_eq!(w.patterns[0], w.patterns[3]);
}
