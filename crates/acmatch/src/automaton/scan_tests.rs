//! Tests of the scan loop (`scan.rs`): the blocks of one and three streams
//! against brute force, and the prefilter's gate closing and coming back.

use super::trace;
use crate::{chunks, Automaton, Cursor, Layout, Match, Matcher, Variant};

/// Every match by brute force, in report order: by end, longest first,
/// then by id.
fn brute(patterns: &[Vec<u8>], hay: &[u8]) -> Vec<Match> {
    let mut out = Vec::new();
    for end in 1..=hay.len() {
        let mut here: Vec<Match> = patterns
            .iter()
            .enumerate()
            .filter(|(_, p)| hay[..end].ends_with(p))
            .map(|(id, p)| Match {
                pattern: id as u32,
                start: end - p.len(),
                end,
            })
            .collect();
        here.sort_by_key(|m| (m.start, m.pattern));
        out.extend(here);
    }
    out
}

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// Every variant over every chunk size matches `want`.
fn check_all(ac: &Automaton, hay: &[u8], want: &[Match], sizes: &[usize], what: &str) {
    for variant in Variant::ALL {
        for &chunk in sizes {
            let mut m = variant.matcher_with_capacity(hay.len() + want.len() + 16);
            let mut cursor = Cursor::new();
            let mut got = Vec::new();
            for piece in chunks(hay, chunk) {
                m.find_chunk(ac, &mut cursor, piece, |x| got.push(x))
                    .unwrap();
            }
            assert!(got == want, "{what}: {variant}, chunk {chunk}");
        }
    }
}

#[test]
fn long_chunks_walk_one_and_three_streams_exactly() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let byte_sets: [&[u8]; 2] = [b"abc", &[b'a', b'b', 0x00, 0xFF]];
    let char_set = ["a", "b", "é", "中", "华", "🦀"];
    let messy: [&[u8]; 4] = [&[0x80], &[0xE4, 0xB8], &[0xFF], &[0xF0, 0x9F]];
    trace::take();
    trace::take_three();
    trace::take_literal();
    for round in 0..24 {
        let utf8 = round % 3 == 2;
        let longest = 1 + round % 12 * 3;
        let piece = |rng: &mut Rng| -> Vec<u8> {
            if utf8 {
                if rng.below(10) == 0 {
                    messy[rng.below(messy.len())].to_vec()
                } else {
                    char_set[rng.below(char_set.len())].as_bytes().to_vec()
                }
            } else {
                let set = byte_sets[round % 2];
                vec![set[rng.below(set.len())]]
            }
        };
        let patterns: Vec<Vec<u8>> = (0..1 + rng.below(16))
            .map(|_| {
                let n = 1 + rng.below(longest);
                let mut p: Vec<u8> = (0..n).flat_map(|_| piece(&mut rng)).collect();
                if utf8 {
                    // Patterns must be valid for the charwise layouts
                    // to be charwise.
                    p = String::from_utf8_lossy(&p)
                        .replace('\u{FFFD}', "a")
                        .into_bytes();
                }
                p
            })
            .collect();
        let mut hay: Vec<u8> = Vec::new();
        while hay.len() < 3000 + round * 150 {
            if rng.below(8) == 0 {
                hay.extend_from_slice(&patterns[rng.below(patterns.len())]);
            } else {
                hay.extend(piece(&mut rng));
            }
        }
        let want = brute(&patterns, &hay);
        for layout in Layout::ALL {
            let ac = Automaton::with_layout(&patterns, layout).unwrap();
            let what = format!("round {round}, {layout:?}, longest {longest}");
            check_all(&ac, &hay, &want, &[0, 2048, 777, 5000], &what);
        }
    }
    let (one, _, _) = trace::take();
    assert!(one > 1000, "positive control: {one} one-stream blocks");
    let three = trace::take_three();
    assert!(
        three > 1000,
        "positive control: {three} three-stream blocks"
    );
    let literal = trace::take_literal();
    assert!(literal > 100, "positive control: {literal} literal chunks");
}

#[test]
fn the_gate_closes_where_candidates_crowd_and_the_filter_comes_back() {
    let patterns: Vec<Vec<u8>> = ["needle", "needless", "haystack", "stacked"]
        .iter()
        .map(|p| p.as_bytes().to_vec())
        .collect();
    // Matches every seven bytes, then 100 KB of random letters with a
    // planted pattern now and then, then crowded again.
    let crowded = b"needle ".repeat(40_000 / 7);
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut sparse = Vec::new();
    while sparse.len() < 100_000 {
        if rng.below(2000) == 0 {
            sparse.extend_from_slice(b"haystacked");
        } else {
            sparse.push(b"abcdefghijklmnopqrstuvwxyz "[rng.below(27)]);
        }
    }
    let hay = [&crowded[..], &sparse, &crowded].concat();
    let want = brute(&patterns, &hay);
    // Not `Layout::Auto`: it gives these patterns, whose endings are
    // rare, the literal engine instead.
    let filtered = [
        Layout::Dense { prefilter: true },
        Layout::DoubleArray {
            charwise: false,
            prefilter: true,
        },
        Layout::DoubleArray {
            charwise: true,
            prefilter: true,
        },
    ];
    for layout in filtered {
        let ac = Automaton::with_layout(&patterns, layout).unwrap();
        assert!(ac.has_prefilter(), "{layout:?}");
        trace::take();
        check_all(&ac, &hay, &want, &[0, 2048, 100], &format!("{layout:?}"));
        let (_, skipped, closed) = trace::take();
        // Five variants, three chunk sizes: per scan of the haystack,
        // the gate closed in the crowded parts and the filter skipped
        // most of the sparse part.
        let scans = 5 * 3;
        assert!(closed >= 2 * scans, "{layout:?}: closed {closed} times");
        assert!(
            skipped >= scans * sparse.len() / 2,
            "{layout:?}: skipped {skipped} bytes"
        );
    }
}

#[test]
fn the_charwise_walk_goes_one_stream_exactly_small_or_large() {
    // Three-character CJK words: 2,000 of them make a small charwise
    // array (under 1 MB), 60,000 one over 2 MiB.
    let words = |n: u32| -> Vec<Vec<u8>> {
        (0..n)
            .map(|i| {
                let a = char::from_u32(0x4E00 + i % 2000).unwrap();
                let b = char::from_u32(0x4E00 + (i / 7) % 3000).unwrap();
                let c = char::from_u32(0x4E00 + i.wrapping_mul(2_654_435_761) % 5000).unwrap();
                [a, b, c].iter().collect::<String>().into_bytes()
            })
            .collect()
    };
    let charwise = Layout::DoubleArray {
        charwise: true,
        prefilter: false,
    };
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    for (n, small) in [(2_000, true), (60_000, false)] {
        let patterns = words(n);
        let ac = Automaton::with_layout(&patterns, charwise).unwrap();
        assert!(ac.is_charwise());
        assert_eq!(ac.heap_bytes() <= 2 << 20, small, "{n}");
        let mut hay = Vec::new();
        while hay.len() < 20_000 {
            if rng.below(4) == 0 {
                hay.extend_from_slice(&patterns[rng.below(patterns.len())]);
            } else {
                let c = char::from_u32(0x4E00 + rng.below(5000) as u32).unwrap();
                hay.extend_from_slice(c.to_string().as_bytes());
            }
        }
        // The dense table over bytes is the reference here: brute force
        // over 60,000 patterns would take minutes unoptimised.
        let dense = Automaton::with_layout(&patterns, Layout::Dense { prefilter: false }).unwrap();
        let want = crate::find_all(&dense, &hay);
        assert!(want.len() > 1000, "{n}: {} matches", want.len());
        trace::take();
        trace::take_three();
        check_all(&ac, &hay, &want, &[2048, 777], &format!("{n} words"));
        let (blocks, _, _) = trace::take();
        assert!(blocks > 0, "{n} words: {blocks} one-stream blocks");
        assert_eq!(trace::take_three(), 0, "{n} words: three-stream blocks");
    }
}

#[test]
fn patterns_longer_than_a_block_walk_one_stream_exactly() {
    // A warm-up of 3,003 bytes does not fit in a block of at most 2,040:
    // several streams would start before the block (an overflow, or wrong
    // matches, before the guard in `walk_plain`).
    let long: Vec<u8> = (0..3000).map(|i| b'a' + (i % 7) as u8).collect();
    let patterns = vec![long.clone(), b"ab".to_vec(), long[..300].to_vec()];
    let hay: Vec<u8> = [&long[..], b"xy", &long[..]].concat().repeat(6);
    let want = brute(&patterns, &hay);
    assert!(want.len() > 100);
    for layout in Layout::ALL {
        let ac = Automaton::with_layout(&patterns, layout).unwrap();
        check_all(&ac, &hay, &want, &[0, 25_000], &format!("{layout:?}"));
    }
}
