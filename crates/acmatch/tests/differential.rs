//! Differential tests against the `aho-corasick` crate's `MatchKind::Standard`
//! overlapping search, over random dictionaries and haystacks, every
//! variant, chunk sizes from one byte up.
//!
//! The generators aim at the hard parts: tiny alphabets (so patterns are
//! prefixes and suffixes of each other and matches nest), bytes 0x00 and
//! above 0x7F, duplicate patterns, empty haystacks, and for the charwise
//! automaton UTF-8 patterns over haystacks with malformed and truncated
//! sequences.

use acmatch::{chunks, Automaton, Cursor, Layout, Match, Matcher, Variant};
use aho_corasick::{AhoCorasick, MatchKind};
use proptest::prelude::*;

/// The reference: every overlapping match, as a sorted list.
fn reference(patterns: &[Vec<u8>], haystack: &[u8]) -> Vec<Match> {
    let ac = AhoCorasick::builder()
        .match_kind(MatchKind::Standard)
        .build(patterns)
        .unwrap();
    let mut v: Vec<Match> = ac
        .find_overlapping_iter(haystack)
        .map(|m| Match {
            pattern: m.pattern().as_u32(),
            start: m.start(),
            end: m.end(),
        })
        .collect();
    v.sort();
    v
}

/// Runs one variant in chunks and checks the set and the report order.
fn check(patterns: &[Vec<u8>], haystack: &[u8], chunk: usize) -> Result<(), TestCaseError> {
    let want = reference(patterns, haystack);
    for layout in Layout::ALL {
        let ac = Automaton::with_layout(patterns, layout).unwrap();
        check_one(&ac, patterns, haystack, chunk, &want)?;
    }
    Ok(())
}

fn check_one(
    ac: &Automaton,
    patterns: &[Vec<u8>],
    haystack: &[u8],
    chunk: usize,
    want: &[Match],
) -> Result<(), TestCaseError> {
    for variant in Variant::ALL {
        // Large enough that `fixed` and `dyn_buffer` never run full here.
        let mut m = variant.matcher_with_capacity(haystack.len() * patterns.len() + 1);
        let mut cursor = Cursor::new();
        let mut got = Vec::new();
        for piece in chunks(haystack, chunk) {
            m.find_chunk(ac, &mut cursor, piece, |x| got.push(x))
                .unwrap();
        }
        // Report order: by end, then longest first, then by id.
        let ordered = got.windows(2).all(|w| {
            let key = |m: &Match| (m.end, std::cmp::Reverse(m.end - m.start), m.pattern);
            key(&w[0]) < key(&w[1])
        });
        prop_assert!(ordered, "{variant}: matches out of order: {got:?}");
        got.sort();
        prop_assert_eq!(
            &got,
            want,
            "variant {}, chunk {}, dense {}, charwise {}, prefilter {}",
            variant,
            chunk,
            ac.is_dense(),
            ac.is_charwise(),
            ac.has_prefilter()
        );
    }
    Ok(())
}

/// Bytes from a small alphabet with 0x00 and high bytes in it.
fn small_alphabet_byte() -> impl Strategy<Value = u8> {
    prop::sample::select(vec![b'a', b'b', b'c', 0x00, 0x80, 0xFF])
}

/// A UTF-8 character from a small set spanning all encoded lengths.
fn small_char() -> impl Strategy<Value = char> {
    prop::sample::select(vec!['a', 'b', 'é', 'ß', '中', '华', '人', '🦀'])
}

fn utf8_pattern() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(small_char(), 1..5)
        .prop_map(|cs| cs.into_iter().collect::<String>().into_bytes())
}

/// A haystack of mostly valid characters with malformed pieces mixed in:
/// stray continuation bytes, truncated sequences, invalid lead bytes.
fn messy_utf8_haystack() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        4 => small_char().prop_map(|c| c.to_string().into_bytes()),
        1 => prop::sample::select(vec![
            vec![0x80], vec![0xBF], vec![0xE4], vec![0xE4, 0xB8], vec![0xF0, 0x9F],
            vec![0xC0, 0x80], vec![0xED, 0xA0, 0x80], vec![0xFF], vec![0x00],
        ]),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|ps| ps.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn bytes_match_aho_corasick(
        patterns in prop::collection::vec(prop::collection::vec(small_alphabet_byte(), 1..6), 1..12),
        haystack in prop::collection::vec(small_alphabet_byte(), 0..80),
        chunk in 0usize..12,
    ) {
        check(&patterns, &haystack, chunk)?;
    }

    #[test]
    fn any_bytes_match_aho_corasick(
        patterns in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..4), 1..40),
        haystack in prop::collection::vec(any::<u8>(), 0..200),
        chunk in 0usize..40,
    ) {
        check(&patterns, &haystack, chunk)?;
    }

    #[test]
    fn charwise_matches_aho_corasick(
        patterns in prop::collection::vec(utf8_pattern(), 1..12),
        haystack in messy_utf8_haystack(),
        chunk in 0usize..9,
    ) {
        check(&patterns, &haystack, chunk)?;
    }

    #[test]
    fn suffix_and_prefix_families_match(
        word in prop::collection::vec(small_alphabet_byte(), 2..8),
        haystack in prop::collection::vec(small_alphabet_byte(), 0..60),
        chunk in 1usize..5,
    ) {
        // Every prefix and every suffix of one word, plus the word twice.
        let mut patterns: Vec<Vec<u8>> = (1..=word.len()).map(|i| word[..i].to_vec()).collect();
        patterns.extend((0..word.len()).map(|i| word[i..].to_vec()));
        patterns.push(word.clone());
        let mut hay = haystack.clone();
        hay.extend_from_slice(&word);
        hay.extend_from_slice(&haystack);
        check(&patterns, &hay, chunk)?;
    }
}

#[test]
fn a_utf8_character_split_across_every_boundary() {
    let patterns: Vec<Vec<u8>> = ["🦀中", "中", "a🦀"]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
    let haystack = "xa🦀中🦀中a".as_bytes();
    for chunk in 1..=haystack.len() {
        check(&patterns, haystack, chunk).unwrap();
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Long patterns planted in random text: the automaton builds its
    /// prefilter, and skipping must never lose an occurrence, including
    /// one that starts near a chunk's end.
    #[test]
    fn prefiltered_scans_match_aho_corasick(
        patterns in prop::collection::vec(prop::collection::vec(any::<u8>(), 4..12), 1..8),
        filler in prop::collection::vec(any::<u8>(), 0..400),
        plants in prop::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>()), 0..6),
        chunk in 0usize..40,
    ) {
        let mut haystack = filler;
        for (at, which) in plants {
            let p = &patterns[which.index(patterns.len())];
            let at = at.index(haystack.len() + 1);
            haystack.splice(at..at, p.iter().copied());
        }
        check(&patterns, &haystack, chunk)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Haystacks long enough for chunks to be walked two streams at a
    /// time (blocks of up to 2 KB, the second stream warming up over the
    /// longest pattern), cut at sizes that put block and chunk boundaries
    /// anywhere.
    #[test]
    fn long_haystacks_match_aho_corasick(
        patterns in prop::collection::vec(prop::collection::vec(small_alphabet_byte(), 1..24), 1..12),
        haystack in prop::collection::vec(small_alphabet_byte(), 1500..6000),
        chunk in prop::sample::select(vec![0usize, 97, 2048, 3001]),
    ) {
        check(&patterns, &haystack, chunk)?;
    }

    /// The same with characters and malformed UTF-8, for the charwise
    /// walk's second stream, which starts wherever the split puts it.
    #[test]
    fn long_utf8_haystacks_match_aho_corasick(
        patterns in prop::collection::vec(utf8_pattern(), 1..12),
        pieces in prop::collection::vec(messy_utf8_haystack(), 40..120),
        chunk in prop::sample::select(vec![0usize, 97, 2048, 3001]),
    ) {
        check(&patterns, &pieces.concat(), chunk)?;
    }

    /// The gate switching: a stretch crowded with candidates (the gate
    /// closes), a sparse one with planted patterns (the filter comes back
    /// after its rest), crowded again; cut into chunks of every size.
    #[test]
    fn the_gate_switching_loses_nothing(
        patterns in prop::collection::vec(prop::collection::vec(b'a'..=b'h', 4..9), 1..6),
        crowd in 200usize..3000,
        filler in prop::collection::vec(b'i'..=b'z', 1000..8000),
        plants in prop::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>()), 0..10),
        chunk in prop::sample::select(vec![0usize, 7, 64, 700, 2048]),
    ) {
        let mut sparse = filler;
        for (at, which) in plants {
            let p = &patterns[which.index(patterns.len())];
            let at = at.index(sparse.len() + 1);
            sparse.splice(at..at, p.iter().copied());
        }
        let mut dense = Vec::new();
        while dense.len() < crowd {
            dense.extend_from_slice(&patterns[dense.len() % patterns.len()]);
            dense.push(b'z');
        }
        let haystack = [&dense[..], &sparse, &dense, &sparse].concat();
        check(&patterns, &haystack, chunk)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The literal engine's chunk boundaries: patterns up to 40 bytes
    /// planted in text, cut into chunks just below, at and above the
    /// engine's shortest chunk (`max_len - 1` head bytes, `max_len` to
    /// rebuild the state, a 64-byte block), so that matches end in the
    /// head, start in the previous chunk, and straddle the rebuilt tail.
    #[test]
    fn literal_chunk_boundaries_lose_nothing(
        patterns in prop::collection::vec(prop::collection::vec(small_alphabet_byte(), 1..40), 1..10),
        filler in prop::collection::vec(small_alphabet_byte(), 400..4000),
        plants in prop::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>()), 0..20),
        chunk in 60usize..400,
    ) {
        let mut haystack = filler;
        for (at, which) in plants {
            let p = &patterns[which.index(patterns.len())];
            let at = at.index(haystack.len() + 1);
            haystack.splice(at..at, p.iter().copied());
        }
        check(&patterns, &haystack, chunk)?;
    }
}

#[test]
fn long_random_patterns_get_a_prefilter() {
    // The positive control for the test above: it exercises the prefilter,
    // in every layout that asks for it.
    let patterns: [&[u8]; 3] = [b"\x01\x02\x03\x04", b"\xfe\xfd\xfc\xfb", b"xyzzy"];
    for layout in Layout::ALL {
        let ac = Automaton::with_layout(patterns, layout).unwrap();
        let asked = match layout {
            // Auto skips ahead with one of the two: here, rare endings, the
            // literal engine.
            Layout::Auto => ac.literal_finder().is_none(),
            Layout::Dense { prefilter } | Layout::DoubleArray { prefilter, .. } => prefilter,
            Layout::Literal { .. } => false,
        };
        assert_eq!(ac.has_prefilter(), asked, "{layout:?}");
    }
}
