//! The original benchmark's data, when it is present: exact match counts for
//! the first 2,048 bytes and for the whole texts, chunked and not, in every
//! variant. Skips with a printed reason when the data folder is absent (see
//! `workload::article_dir`).

use acmatch::{chunks, Automaton, Cursor, Matcher, Variant, DEFAULT_CHUNK};
use workload::{load_builtin, Builtin};

struct Expect {
    which: Builtin,
    first_chunk: usize,
    whole: usize,
}

const EXPECT: [Expect; 2] = [
    Expect {
        which: Builtin::ArticleEn,
        first_chunk: 1_317,
        whole: 2_103_442,
    },
    Expect {
        which: Builtin::ArticleZh,
        first_chunk: 861,
        whole: 983_519,
    },
];

fn count(ac: &Automaton, variant: Variant, haystack: &[u8], chunk: usize) -> usize {
    count_with(ac, variant, haystack, chunk, acmatch::DEFAULT_CAPACITY)
}

fn count_with(
    ac: &Automaton,
    variant: Variant,
    haystack: &[u8],
    chunk: usize,
    capacity: usize,
) -> usize {
    let mut m = variant.matcher_with_capacity(capacity);
    let mut cursor = Cursor::new();
    chunks(haystack, chunk)
        .map(|piece| {
            m.find_chunk(ac, &mut cursor, piece, |_| {})
                .unwrap_or_else(|e| panic!("{variant}, chunk {chunk}: {e}"))
        })
        .sum()
}

#[test]
fn article_counts_in_every_variant() {
    if workload::article_dir(None).is_none() {
        eprintln!("skipping: the article data is absent (set ESCAPE_LAB_DATA to the folder holding en/ and cn/)");
        return;
    }
    for e in &EXPECT {
        let w = load_builtin(e.which, None).unwrap();
        let ac = Automaton::new(&w.patterns).unwrap();
        let first = &w.haystack[..DEFAULT_CHUNK];
        for variant in Variant::ALL {
            assert_eq!(
                count(&ac, variant, first, 0),
                e.first_chunk,
                "{} {variant}",
                w.name
            );
            assert_eq!(
                count(&ac, variant, &w.haystack, DEFAULT_CHUNK),
                e.whole,
                "{} {variant} chunked",
                w.name
            );
        }
        // The whole text in one call: the fixed-capacity variants need room
        // for every token at once, and fail cleanly with the default.
        for variant in Variant::ALL {
            let n = count_with(&ac, variant, &w.haystack, 0, e.whole);
            assert_eq!(n, e.whole, "{} {variant} whole", w.name);
        }
        let mut fixed = Variant::Fixed.matcher();
        let err = fixed
            .find_chunk(&ac, &mut Cursor::new(), &w.haystack, |_| {})
            .unwrap_err();
        assert!(err.to_string().contains("capacity 4096"), "{err}");
    }
}
