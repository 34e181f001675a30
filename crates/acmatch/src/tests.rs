//! One conformance table, run against every variant and several chunk sizes.
//!
//! The expected matches were computed independently of this crate, by brute
//! force over every end offset (a short Python script: for each end, every
//! pattern that ends there, longest first, then by id). The differential
//! property tests in `tests/differential.rs` cover what the table does not.

use crate::{chunks, Automaton, Cursor, Layout, Match, Matcher, Variant};

/// One row: patterns (id = index), a haystack, and every match in report
/// order as `(pattern, start, end)`.
pub(crate) struct Case {
    pub(crate) name: &'static str,
    pub(crate) patterns: &'static [&'static [u8]],
    pub(crate) haystack: &'static [u8],
    pub(crate) matches: &'static [(u32, usize, usize)],
}

/// Chunk sizes every row runs with: whole haystack, then small pieces, so
/// that matches cross chunk boundaries.
const CHUNKS: &[usize] = &[0, 1, 2, 3, 5, 7, 64];

#[test]
fn table_names_are_unique() {
    let mut names: Vec<&str> = TABLE.iter().map(|c| c.name).collect();
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    assert_eq!(before, names.len(), "duplicate case names");
}

#[test]
fn every_variant_matches_the_table() {
    for (case, layout) in TABLE.iter().flat_map(|c| Layout::ALL.map(move |l| (c, l))) {
        let ac = Automaton::with_layout(case.patterns, layout).unwrap();
        let want: Vec<Match> = case
            .matches
            .iter()
            .map(|&(pattern, start, end)| Match {
                pattern,
                start,
                end,
            })
            .collect();
        for variant in Variant::ALL {
            for &chunk in CHUNKS {
                let mut matcher = variant.matcher();
                let mut cursor = Cursor::new();
                let mut got = Vec::new();
                let mut counted = 0;
                for piece in chunks(case.haystack, chunk) {
                    counted += matcher
                        .find_chunk(&ac, &mut cursor, piece, |m| got.push(m))
                        .unwrap();
                }
                assert_eq!(
                    got,
                    want,
                    "case {:?}, {layout:?}, variant {variant}, chunk {chunk}\npatterns: {:?}\nhaystack: {:?}",
                    case.name,
                    case.patterns
                        .iter()
                        .map(|p| String::from_utf8_lossy(p))
                        .collect::<Vec<_>>(),
                    String::from_utf8_lossy(case.haystack),
                );
                assert_eq!(
                    counted,
                    want.len(),
                    "case {:?}, variant {variant}",
                    case.name
                );
                assert_eq!(cursor.offset(), case.haystack.len());
            }
        }
    }
}

/// Chunk sizes for the table's rows made long: long enough for the block
/// loops and the literal engine, short enough to cut copies anywhere.
const LONG_CHUNKS: &[usize] = &[0, 150, 301, 2048];

/// Each row's haystack repeated, copies apart by a run of a byte that no
/// pattern holds (so no match spans two copies), until it is long enough
/// for the literal engine and the block loops; the matches are the row's,
/// shifted for each copy.
#[test]
fn every_variant_matches_the_table_in_long_chunks() {
    crate::automaton::trace::take_literal();
    for (case, layout) in TABLE.iter().flat_map(|c| Layout::ALL.map(move |l| (c, l))) {
        let Some(filler) = (0..=255u8).find(|b| case.patterns.iter().all(|p| !p.contains(b)))
        else {
            continue;
        };
        let copy = [case.haystack, &[filler; 41][..]].concat();
        let copies = 3000 / copy.len() + 1;
        let haystack = copy.repeat(copies);
        let stride = copy.len();
        let want: Vec<Match> = (0..copies)
            .flat_map(|k| {
                case.matches
                    .iter()
                    .map(move |&(pattern, start, end)| Match {
                        pattern,
                        start: start + k * stride,
                        end: end + k * stride,
                    })
            })
            .collect();
        let ac = Automaton::with_layout(case.patterns, layout).unwrap();
        for variant in Variant::ALL {
            for &chunk in LONG_CHUNKS {
                let mut matcher = variant.matcher_with_capacity(haystack.len() * 4);
                let mut cursor = Cursor::new();
                let mut got = Vec::new();
                for piece in chunks(&haystack, chunk) {
                    matcher
                        .find_chunk(&ac, &mut cursor, piece, |m| got.push(m))
                        .unwrap();
                }
                assert!(
                    got == want,
                    "case {:?}, {layout:?}, variant {variant}, chunk {chunk}",
                    case.name
                );
            }
        }
    }
    let literal = crate::automaton::trace::take_literal();
    assert!(literal > 100, "positive control: {literal} literal chunks");
}

#[test]
fn variant_names_round_trip() {
    for v in Variant::ALL {
        assert_eq!(v.name().parse::<Variant>(), Ok(v));
        assert_eq!(v.matcher().variant(), v);
    }
    let err = "nope".parse::<Variant>().unwrap_err().to_string();
    assert!(err.contains("boxed") && err.contains("callback"), "{err}");
}

#[test]
fn chunks_cover_the_haystack() {
    assert_eq!(chunks(b"", 0).collect::<Vec<_>>(), [b"" as &[u8]]);
    assert_eq!(chunks(b"", 4).collect::<Vec<_>>(), [b"" as &[u8]]);
    assert_eq!(chunks(b"abcde", 0).collect::<Vec<_>>(), [b"abcde" as &[u8]]);
    assert_eq!(
        chunks(b"abcde", 2).collect::<Vec<_>>(),
        [b"ab" as &[u8], b"cd", b"e"]
    );
}

#[test]
fn empty_and_missing_patterns_are_errors() {
    let err = Automaton::new(["a", "", "b"]).unwrap_err();
    assert_eq!(err.empty_pattern_index(), Some(1));
    assert!(err.to_string().contains("pattern 1 is empty"), "{err}");
    let none: [&str; 0] = [];
    assert!(Automaton::new(none)
        .unwrap_err()
        .to_string()
        .contains("no patterns"));
}

#[test]
fn fixed_buffer_full_is_an_error_that_loses_nothing() {
    use crate::variant::fixed::Fixed;
    use crate::MatchError;
    // "a" and "aa" over "aaaa": 4 hits, 7 tokens.
    let ac = Automaton::new(["a", "aa"]).unwrap();
    let mut cursor = Cursor::new();
    let mut small = Fixed::new(3);
    let err = small.find(&ac, &mut cursor, b"aaaa").unwrap_err();
    assert_eq!(
        err,
        MatchError::BufferFull {
            buffer: "hits",
            capacity: 3
        }
    );
    assert_eq!(
        cursor,
        Cursor::new(),
        "a failed call must not move the cursor"
    );
    let mut medium = Fixed::new(5);
    let err = medium.find(&ac, &mut cursor, b"aaaa").unwrap_err();
    assert_eq!(
        err,
        MatchError::BufferFull {
            buffer: "tokens",
            capacity: 5
        }
    );
    assert!(
        err.to_string().contains("buffer full (capacity 5)"),
        "{err}"
    );
    // Retrying in smaller chunks from the unchanged cursor finds everything.
    let mut got = Vec::new();
    for piece in chunks(b"aaaa", 2) {
        got.extend_from_slice(medium.find(&ac, &mut cursor, piece).unwrap());
    }
    assert_eq!(got, crate::find_all(&ac, b"aaaa"));
    assert_eq!(got.len(), 7);
}

#[test]
fn dyn_buffer_full_is_an_error_too() {
    let ac = Automaton::new(["a", "aa"]).unwrap();
    let mut cursor = Cursor::new();
    let mut m = Variant::DynBuffer.matcher_with_capacity(5);
    let err = m.find_chunk(&ac, &mut cursor, b"aaaa", |_| {}).unwrap_err();
    assert!(err.to_string().contains("tokens buffer"), "{err}");
    assert_eq!(cursor.offset(), 0);
}

pub(crate) const TABLE: &[Case] = &[
    Case {
        name: "article demo",
        patterns: &[
            "she".as_bytes(),
            "he".as_bytes(),
            "her".as_bytes(),
            "hers".as_bytes(),
        ],
        haystack: "hershertongher".as_bytes(),
        matches: &[
            (1, 0, 2),
            (2, 0, 3),
            (3, 0, 4),
            (0, 3, 6),
            (1, 4, 6),
            (2, 4, 7),
            (1, 11, 13),
            (2, 11, 14),
        ],
    },
    Case {
        name: "article demo chinese",
        patterns: &[
            "一丁".as_bytes(),
            "一丁不识".as_bytes(),
            "不识".as_bytes(),
            "一丁点".as_bytes(),
            "C++".as_bytes(),
            "T桖".as_bytes(),
            "中华".as_bytes(),
            "中华人民".as_bytes(),
            "中华人民共和国".as_bytes(),
            "人民".as_bytes(),
            "共和国".as_bytes(),
            "人民解放军".as_bytes(),
            "解放军".as_bytes(),
            "轰炸".as_bytes(),
            "南京".as_bytes(),
            "南京长江大桥".as_bytes(),
            "长江".as_bytes(),
            "长江大桥".as_bytes(),
            "大桥".as_bytes(),
            "江".as_bytes(),
        ],
        haystack: "一丁不识一丁点C++的T桖中华人民共和国人民解放军轰炸南京长江大桥".as_bytes(),
        matches: &[
            (0, 0, 6),
            (1, 0, 12),
            (2, 6, 12),
            (0, 12, 18),
            (3, 12, 21),
            (4, 21, 24),
            (5, 27, 31),
            (6, 31, 37),
            (7, 31, 43),
            (9, 37, 43),
            (8, 31, 52),
            (10, 43, 52),
            (9, 52, 58),
            (11, 52, 67),
            (12, 58, 67),
            (13, 67, 73),
            (14, 73, 79),
            (16, 79, 85),
            (19, 82, 85),
            (15, 73, 91),
            (17, 79, 91),
            (18, 85, 91),
        ],
    },
    Case {
        name: "empty haystack",
        patterns: &["a".as_bytes()],
        haystack: "".as_bytes(),
        matches: &[],
    },
    Case {
        name: "no match",
        patterns: &["abc".as_bytes()],
        haystack: "xyzxyz".as_bytes(),
        matches: &[],
    },
    Case {
        name: "nested same letter",
        patterns: &["a".as_bytes(), "aa".as_bytes(), "aaa".as_bytes()],
        haystack: "aaaa".as_bytes(),
        matches: &[
            (0, 0, 1),
            (1, 0, 2),
            (0, 1, 2),
            (2, 0, 3),
            (1, 1, 3),
            (0, 2, 3),
            (2, 1, 4),
            (1, 2, 4),
            (0, 3, 4),
        ],
    },
    Case {
        name: "prefixes and suffixes",
        patterns: &[
            "abcd".as_bytes(),
            "abc".as_bytes(),
            "bcd".as_bytes(),
            "cd".as_bytes(),
            "b".as_bytes(),
        ],
        haystack: "xabcdx".as_bytes(),
        matches: &[(4, 2, 3), (1, 1, 4), (0, 1, 5), (2, 2, 5), (3, 3, 5)],
    },
    Case {
        name: "duplicates report each id",
        patterns: &["ab".as_bytes(), "b".as_bytes(), "ab".as_bytes()],
        haystack: "abab".as_bytes(),
        matches: &[
            (0, 0, 2),
            (2, 0, 2),
            (1, 1, 2),
            (0, 2, 4),
            (2, 2, 4),
            (1, 3, 4),
        ],
    },
    Case {
        name: "pattern is the haystack",
        patterns: &["hello".as_bytes()],
        haystack: "hello".as_bytes(),
        matches: &[(0, 0, 5)],
    },
    Case {
        name: "dead bytes reset",
        patterns: &["ab".as_bytes()],
        haystack: "a\0b a-b ab".as_bytes(),
        matches: &[(0, 8, 10)],
    },
    Case {
        name: "failure to deeper suffix",
        patterns: &["abcde".as_bytes(), "bcx".as_bytes(), "cdy".as_bytes()],
        haystack: "abcdy abcx".as_bytes(),
        matches: &[(2, 2, 5), (1, 7, 10)],
    },
    Case {
        name: "binary bytes",
        patterns: &[b"\x00\xff" as &[u8], b"\xff" as &[u8], b"\x00" as &[u8]],
        haystack: b"\xff\x00\xff\x00",
        matches: &[(1, 0, 1), (2, 1, 2), (0, 1, 3), (1, 2, 3), (2, 3, 4)],
    },
    Case {
        name: "single byte everywhere",
        patterns: &["x".as_bytes()],
        haystack: "xxx".as_bytes(),
        matches: &[(0, 0, 1), (0, 1, 2), (0, 2, 3)],
    },
];
