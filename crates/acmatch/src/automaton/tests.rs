//! Tests of the automaton's building blocks: the UTF-8 fast path, the
//! state record's size, dead codes, the layout `Auto` chooses, output chains.

use super::alphabet::{decode_multi, Decoded};
use super::walks::three_byte_fast;
use super::*;
use crate::Cursor;

#[test]
fn the_fast_path_agrees_with_the_decoder() {
    for b0 in 0xE0..=0xEFu8 {
        for b1 in [0x7F, 0x80, 0x9F, 0xA0, 0xBF, 0xC0] {
            for b2 in [0x7F, 0x80, 0xBF, 0xC0] {
                let bytes = [b0, b1, b2];
                if let Some(cp) = three_byte_fast(&bytes, 0) {
                    assert_eq!(
                        decode_multi(&bytes),
                        Decoded::Char { cp, len: 3 },
                        "{bytes:x?}"
                    );
                }
            }
        }
    }
    assert_eq!(three_byte_fast("中".as_bytes(), 0), Some('中' as u32));
    assert_eq!(three_byte_fast(&"中".as_bytes()[..2], 0), None);
}

#[test]
fn state_is_sixteen_bytes() {
    assert_eq!(std::mem::size_of::<State>(), 16);
}

#[test]
fn automaton_is_send_and_sync() {
    fn assert<T: Send + Sync>() {}
    assert::<Automaton>();
}

#[test]
fn dead_bytes_share_one_code() {
    let ac = Automaton::new(["ab", "b"]).unwrap();
    assert_eq!(ac.symbol_count(), 3);
    let codes = &ac.alphabet.byte_codes;
    assert_eq!(codes[b'z' as usize], codes[0]);
    assert_eq!(codes[b'z' as usize], ac.alphabet.dead);
    assert_ne!(codes[b'a' as usize], codes[b'b' as usize]);
}

#[test]
fn all_256_bytes_live_means_no_dead_code() {
    let pats: Vec<[u8; 1]> = (0..=255u8).map(|b| [b]).collect();
    let ac = Automaton::new(&pats).unwrap();
    assert_eq!(ac.symbol_count(), 256);
    assert!(!ac.is_charwise());
}

/// `n` scattered words of `len` letters over 16 letters.
fn scattered(n: u64, len: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            format!("{:016x}", i.wrapping_mul(0x9E37_79B9_7F4A_7C15))[..len]
                .chars()
                .map(|c| char::from(b'a' + c.to_digit(16).unwrap_or(0) as u8))
                .collect()
        })
        .collect()
}

/// `n` CJK words of three characters.
fn cjk_words(n: u32) -> Vec<String> {
    (0..n)
        .map(|i| {
            let a = char::from_u32(0x4E00 + i % 2000).unwrap();
            let b = char::from_u32(0x4E00 + (i / 7) % 3000).unwrap();
            let c = char::from_u32(0x4E00 + i.wrapping_mul(2_654_435_761) % 5000).unwrap();
            [a, b, c].iter().collect()
        })
        .collect()
}

/// Entries of the dense table over `pats`: what `Plan::choose` caps.
fn table_entries(pats: &[String]) -> usize {
    let ac = Automaton::with_layout(pats, Layout::Dense { prefilter: false }).unwrap();
    assert!(ac.is_dense());
    ac.state_count() * (ac.symbol_count() + 1)
}

#[test]
fn small_dictionaries_are_dense_and_large_ones_are_not() {
    let small = Automaton::new(["he", "she", "his", "hers"]).unwrap();
    assert!(small.is_dense());
    let da = Layout::DoubleArray {
        charwise: false,
        prefilter: true,
    };
    assert!(!Automaton::with_layout(["he", "she"], da)
        .unwrap()
        .is_dense());
    // UTF-8 does not decide: a small dictionary of CJK words is dense
    // too, over bytes.
    let cjk = Automaton::new(["中华", "人民", "café"]).unwrap();
    assert!(cjk.is_dense() && !cjk.is_charwise());
    // Scattered eight-letter words over 16 letters: a table between 2^20
    // entries (Auto's old cap) and 3 * 2^20 (its cap over bytes): dense.
    let mid = scattered(25_000, 8);
    let entries = table_entries(&mid);
    assert!(entries > 1 << 20 && entries <= 3 << 20, "{entries}");
    assert!(Automaton::new(&mid).unwrap().is_dense());
    // 80,000 twelve-letter words: over the cap.
    let many = scattered(80_000, 12);
    assert!(table_entries(&many) > 3 << 20);
    assert!(!Automaton::new(&many).unwrap().is_dense());
}

#[test]
fn charwise_is_chosen_by_cost() {
    // Mostly multi-byte characters, too many states for a table.
    let ac = Automaton::new(cjk_words(30_000)).unwrap();
    assert!(!ac.is_dense() && ac.is_charwise());
    // A table over the cap for CJK dictionaries (3 * 2^20 entries):
    // charwise, since the charwise double array takes a third of the
    // table's steps.
    let cjk = cjk_words(10_000);
    let entries = table_entries(&cjk);
    assert!(entries > 3 << 20, "{entries}");
    let ac = Automaton::new(&cjk).unwrap();
    assert!(!ac.is_dense() && ac.is_charwise());
    // Under it: the table.
    let cjk = cjk_words(1_000);
    assert!(table_entries(&cjk) <= 3 << 20);
    assert!(Automaton::new(&cjk).unwrap().is_dense());
    // Mostly ASCII with a few accents: bytes.
    let mut en: Vec<String> = (0..60_000u64)
        .map(|i| format!("w{:x}", i.wrapping_mul(0x9E37_79B9_7F4A_7C15)))
        .collect();
    en.push("café".to_owned());
    let ac = Automaton::new(&en).unwrap();
    assert!(!ac.is_dense() && !ac.is_charwise());
}

#[test]
fn utf8_patterns_can_be_charwise() {
    let charwise = Layout::DoubleArray {
        charwise: true,
        prefilter: false,
    };
    let ac = Automaton::with_layout(["中华", "华人", "a"], charwise).unwrap();
    assert!(ac.is_charwise());
    // 中, 华, 人, a, and the dead code.
    assert_eq!(ac.symbol_count(), 5);
    // root, 中, 中华, 华, 华人, a
    assert_eq!(ac.state_count(), 6);
    // Invalid UTF-8 forces bytes.
    let ac = Automaton::with_layout([&b"\xFF"[..], "中".as_bytes()], charwise).unwrap();
    assert!(!ac.is_charwise());
}

#[test]
fn output_chain_holds_suffix_patterns() {
    let ac = Automaton::new(["she", "he", "e"]).unwrap();
    let mut cursor = Cursor::new();
    let mut tokens = Vec::new();
    ac.scan::<()>(&mut cursor, b"she", |hit| {
        tokens.push(ac.outputs_at(hit));
        Ok(())
    })
    .unwrap();
    // Only "she"'s end is a hit ("s" and "sh" end nothing): three tokens.
    assert_eq!(tokens, [3]);
}
