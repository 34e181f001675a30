//! Workloads from a pattern file and a haystack file.

use std::fs;
use std::path::Path;

use crate::{Workload, WorkloadError};

/// Loads a workload from a pattern file and a haystack file; its name is
/// `"files"`.
///
/// The pattern file is parsed by [`parse_patterns`]. The haystack is taken as
/// raw bytes, read whole: it need not be UTF-8, and nothing is trimmed or
/// converted.
///
/// # Allocation
///
/// Each file is read whole into one buffer; then one `Vec<u8>` per pattern,
/// and the name and description strings. The pattern file's buffer is freed
/// before returning; the haystack's becomes [`Workload::haystack`].
///
/// # Errors
///
/// [`WorkloadError::NotAFile`] when either path is a directory,
/// [`WorkloadError::Io`] when a file cannot be read, and the errors of
/// [`parse_patterns`]. Every error names the path.
///
/// # Example
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = std::env::temp_dir().join(format!("workload-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// std::fs::write(dir.join("patterns.txt"), "he\nshe\r\nhers\n")?;
/// std::fs::write(dir.join("haystack.txt"), "ushers")?;
/// let w = workload::from_files(&dir.join("patterns.txt"), &dir.join("haystack.txt"))?;
/// assert_eq!(w.name, "files");
/// assert_eq!(w.patterns, [&b"he"[..], b"she", b"hers"]);
/// assert_eq!(w.haystack, b"ushers");
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok(())
/// # }
/// ```
pub fn from_files(patterns: &Path, haystack: &Path) -> Result<Workload, WorkloadError> {
    let pattern_text = read_file(patterns)?;
    let haystack_bytes = read_file(haystack)?;
    from_bytes(&pattern_text, patterns, haystack_bytes, haystack)
}

/// [`from_files`] on the contents of the two files, already read (by a
/// caller that reads each input once); the paths name them in messages and
/// the description.
///
/// # Allocation
///
/// One `Vec<u8>` per pattern, and the name and description strings;
/// `haystack` becomes [`Workload::haystack`].
///
/// # Errors
///
/// The errors of [`parse_patterns`].
pub fn from_bytes(
    pattern_text: &[u8],
    patterns: &Path,
    haystack_bytes: Vec<u8>,
    haystack: &Path,
) -> Result<Workload, WorkloadError> {
    let parsed = parse_patterns(pattern_text, patterns)?;
    let description = format!(
        "{} patterns from {}, {} bytes of haystack from {}",
        parsed.len(),
        patterns.display(),
        haystack_bytes.len(),
        haystack.display()
    );
    Ok(Workload {
        name: "files".to_owned(),
        patterns: parsed,
        haystack: haystack_bytes,
        description,
    })
}

/// Parses the text of a pattern file: one pattern a line.
///
/// `path` is only used in error messages. The rules, in order, for each line:
///
/// 1. Lines are split on `\n`; one trailing `\r` is removed, so `\r\n` files
///    work.
/// 2. A UTF-8 byte order mark (`EF BB BF`) at the start of the first line is
///    removed. (The original Go benchmark kept it, so its first Chinese
///    pattern could never match; we do not.)
/// 3. A zero-length line (nothing between two newlines, or only a `\r`) is
///    skipped, as is the empty remainder after a final newline.
/// 4. White space around the line is trimmed exactly as Go's
///    `strings.TrimSpace` does: Unicode white space (`\t`, `\n`, `\v`, `\f`,
///    `\r`, space, U+0085, U+00A0 and the Unicode `White_Space` spaces such as
///    U+3000) at both ends, stopping at the first byte that is not valid UTF-8.
///    A line that was not zero-length but is empty after trimming (`"   "`, a
///    tab) is an error, [`WorkloadError::EmptyPattern`], rather than skipped:
///    it most likely meant a white-space pattern, and dropping it silently
///    would lose it.
/// 5. Any other bytes are kept as they are; patterns need not be UTF-8.
///
/// Duplicates are kept: every line is its own pattern, and a pattern's id is
/// its index in the returned vector (not its line number, since skipped lines
/// take no id). A matcher reports one match per id, so a pattern listed twice
/// matches twice at every occurrence.
///
/// # Allocation
///
/// The returned vector and one `Vec<u8>` per pattern; nothing else.
///
/// # Errors
///
/// [`WorkloadError::EmptyPattern`] for a line of only white space (its
/// 1-based line number counts every line, skipped ones too), and
/// [`WorkloadError::NoPatterns`] when no line holds a pattern.
///
/// # Example
///
/// ```
/// use std::path::Path;
///
/// let text = b"\xEF\xBB\xBFhe\r\n\n  she \nhe\n";
/// let patterns = workload::parse_patterns(text, Path::new("dict.txt")).unwrap();
/// assert_eq!(patterns, [&b"he"[..], b"she", b"he"]);
///
/// let err = workload::parse_patterns(b"he\n \n", Path::new("dict.txt")).unwrap_err();
/// assert!(err.to_string().starts_with("dict.txt:2: "));
/// ```
pub fn parse_patterns(text: &[u8], path: &Path) -> Result<Vec<Vec<u8>>, WorkloadError> {
    let mut patterns = Vec::new();
    for (index, line) in text.split(|&b| b == b'\n').enumerate() {
        let mut line = line.strip_suffix(b"\r").unwrap_or(line);
        if index == 0 {
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        }
        if line.is_empty() {
            continue;
        }
        let trimmed = trim_space(line);
        if trimmed.is_empty() {
            return Err(WorkloadError::EmptyPattern {
                path: path.to_owned(),
                line: index + 1,
            });
        }
        patterns.push(trimmed.to_vec());
    }
    if patterns.is_empty() {
        return Err(WorkloadError::NoPatterns {
            path: path.to_owned(),
        });
    }
    Ok(patterns)
}

/// Reads a whole file, refusing a directory with a clear error first.
///
/// # Allocation
///
/// The returned buffer (and, on error, the error's copy of the path).
///
/// # Errors
///
/// [`WorkloadError::NotAFile`] for a directory, [`WorkloadError::Io`] for
/// anything the operating system refuses.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, WorkloadError> {
    let io_error = |source| WorkloadError::Io {
        path: path.to_owned(),
        source,
    };
    // Only directories are refused: pipes and devices such as /dev/stdin or
    // a shell's `<(...)` are not regular files but read fine.
    if fs::metadata(path).map_err(io_error)?.is_dir() {
        return Err(WorkloadError::NotAFile {
            path: path.to_owned(),
        });
    }
    fs::read(path).map_err(io_error)
}

// Go's `strings.TrimSpace`: Unicode white space off both ends, where the
// scan from either end stops at the first byte that is not part of a valid
// UTF-8 white-space character (Go decodes such a byte as U+FFFD, which is
// not space). `utf8_chunks` gives the valid UTF-8 runs; only the first run
// can be trimmed at the start and only the last at the end.
fn trim_space(line: &[u8]) -> &[u8] {
    let mut chunks = line.utf8_chunks();
    let Some(first) = chunks.next() else {
        return line;
    };
    if first.invalid().is_empty() {
        // Valid UTF-8 throughout: the common case.
        return first.valid().trim().as_bytes();
    }
    let start = first.valid().len() - first.valid().trim_start().len();
    // The line has an invalid byte, so the last chunk exists (it may be the
    // first one) and ends with valid text only if its invalid part is empty.
    let end = match line.utf8_chunks().last() {
        Some(last) if last.invalid().is_empty() => {
            line.len() - (last.valid().len() - last.valid().trim_end().len())
        }
        _ => line.len(),
    };
    &line[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn parse(text: &[u8]) -> Result<Vec<Vec<u8>>, WorkloadError> {
        parse_patterns(text, Path::new("dict.txt"))
    }

    fn ok(text: &[u8]) -> Vec<Vec<u8>> {
        parse(text).unwrap_or_else(|e| panic!("parse {text:?}: {e}"))
    }

    /// A case that parses: its name, the file's text, the patterns.
    type Case = (&'static str, &'static [u8], &'static [&'static [u8]]);

    /// One table for the rules that succeed.
    const PARSE_OK: &[Case] = &[
        ("one line, no newline", b"abc", &[b"abc"]),
        ("final newline", b"abc\n", &[b"abc"]),
        ("lf", b"a\nbc\ndef\n", &[b"a", b"bc", b"def"]),
        ("crlf", b"a\r\nbc\r\ndef\r\n", &[b"a", b"bc", b"def"]),
        ("crlf without final newline", b"a\r\nb", &[b"a", b"b"]),
        ("mixed endings", b"a\r\nb\nc\r\n", &[b"a", b"b", b"c"]),
        (
            "only one trailing cr removed, rest trimmed",
            b"a\r\r\n",
            &[b"a"],
        ),
        ("cr inside a line kept", b"a\rb\n", &[b"a\rb"]),
        ("bom removed", b"\xEF\xBB\xBFabc\ndef", &[b"abc", b"def"]),
        (
            "bom-only first line skipped",
            b"\xEF\xBB\xBF\nabc",
            &[b"abc"],
        ),
        (
            "bom-only crlf first line skipped",
            b"\xEF\xBB\xBF\r\nabc",
            &[b"abc"],
        ),
        (
            "bom kept on a later line",
            b"a\n\xEF\xBB\xBFb",
            &[b"a", b"\xEF\xBB\xBFb"],
        ),
        (
            "only one bom removed",
            b"\xEF\xBB\xBF\xEF\xBB\xBFa",
            &[b"\xEF\xBB\xBFa"],
        ),
        (
            "zero-length lines skipped",
            b"\n\na\n\n\nb\n\n",
            &[b"a", b"b"],
        ),
        ("cr-only lines skipped", b"\r\na\r\n\r\n", &[b"a"]),
        (
            "trim spaces and tabs",
            b"  a b \t\n\tc\x0b\x0c\n",
            &[b"a b", b"c"],
        ),
        (
            "trim unicode white space",
            "\u{3000}\u{a0}中文\u{2003}\u{85}\n".as_bytes(),
            &["中文".as_bytes()],
        ),
        (
            "zero-width space is not white space",
            "\u{200b}a".as_bytes(),
            &["\u{200b}a".as_bytes()],
        ),
        (
            "duplicates kept",
            b"he\nshe\nhe\nhe\n",
            &[b"he", b"she", b"he", b"he"],
        ),
        (
            "non-utf-8 kept",
            b"\xff\xfe\n\xc3(\n",
            &[b"\xff\xfe", b"\xc3("],
        ),
        (
            "non-utf-8 trimmed with ascii space",
            b" \xff \n",
            &[b"\xff"],
        ),
        (
            "non-utf-8 trimmed with unicode space",
            b"\xe3\x80\x80\xffx\xe3\x80\x80",
            &[b"\xffx"],
        ),
        (
            "trimming stops at an invalid byte",
            b"\xff \xe3\x80\x80 \xfe",
            &[b"\xff \xe3\x80\x80 \xfe"],
        ),
        (
            "truncated character at the end kept",
            b"ab \xe3\x80",
            &[b"ab \xe3\x80"],
        ),
        (
            "utf-8 bom inside kept",
            b"a\xEF\xBB\xBFb",
            &[b"a\xEF\xBB\xBFb"],
        ),
    ];

    #[test]
    fn parse_table() {
        for &(name, text, want) in PARSE_OK {
            let got = parse(text).unwrap_or_else(|e| panic!("{name}: {text:?}: {e}"));
            assert_eq!(got, want, "{name}: {text:?}");
        }
    }

    #[test]
    fn whitespace_only_line_is_an_error_with_its_line_number() {
        let cases: &[(&[u8], usize)] = &[
            (b" ", 1),
            (b"\t\n", 1),
            (b"a\n \n", 2),
            (b"a\n\n\n  \nb", 4),
            (b"a\r\n\r\n \r\n", 3),
            (b"\xEF\xBB\xBF \nb", 1),
            ("a\n\u{3000}\n".as_bytes(), 2),
            (b"a\n\r\r\n", 2),
        ];
        for &(text, line) in cases {
            match parse(text) {
                Err(WorkloadError::EmptyPattern { path, line: got }) => {
                    assert_eq!(path, PathBuf::from("dict.txt"), "{text:?}");
                    assert_eq!(got, line, "{text:?}");
                }
                other => panic!("{text:?}: expected EmptyPattern, got {other:?}"),
            }
        }
        let msg = parse(b"a\n\n\n  \nb").unwrap_err().to_string();
        assert!(
            msg.starts_with("dict.txt:4: pattern is only white space"),
            "{msg}"
        );
    }

    #[test]
    fn no_patterns_is_an_error() {
        for text in [
            &b""[..],
            b"\n",
            b"\n\n\r\n",
            b"\xEF\xBB\xBF",
            b"\xEF\xBB\xBF\n",
        ] {
            match parse(text) {
                Err(WorkloadError::NoPatterns { path }) => {
                    assert_eq!(path, PathBuf::from("dict.txt"))
                }
                other => panic!("{text:?}: expected NoPatterns, got {other:?}"),
            }
        }
        let msg = parse(b"\n").unwrap_err().to_string();
        assert_eq!(
            msg,
            "dict.txt: no patterns (the file has no non-empty line)"
        );
    }

    #[test]
    fn trim_matches_str_trim_on_valid_utf8() {
        let samples = [
            " a ",
            "\u{85}x\u{a0}",
            "\u{feff}a",
            "\t\n\u{b}\u{c}\r a",
            "",
            "  ",
        ];
        for s in samples {
            assert_eq!(trim_space(s.as_bytes()), s.trim().as_bytes(), "{s:?}");
        }
    }

    #[test]
    fn ids_are_indices_not_line_numbers() {
        let got = ok(b"\n\nfirst\n\nsecond\n");
        assert_eq!(got[0], b"first");
        assert_eq!(got[1], b"second");
    }
}
