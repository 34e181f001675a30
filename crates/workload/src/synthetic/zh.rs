//! `synthetic-zh`: Chinese (CJK UTF-8) text and dictionary.
//!
//! A few thousand characters are drawn from U+4E00..U+9FFF and given Zipf
//! frequencies; words of one to four of them (mostly two) make a vocabulary,
//! which the text draws from with Zipf frequencies too. Words are written
//! without spaces, with `，`, `、` and `。`, some `“quotes”`, and a paragraph
//! break (newline and a two-`U+3000` indent, as in the article's text) after
//! about one sentence in six.
//!
//! The dictionary is sorted and holds nearly every character on its own
//! (the article's Chinese matches are 79% single characters), a third of the
//! multi-character vocabulary, and a quarter of those words' inner sub-words;
//! most of its long words never occur in the text, as in a real dictionary.

use std::collections::BTreeSet;

use super::{SplitMix64, Zipf};
use crate::{Builtin, Workload};

/// The haystack stops at the last sentence that fits in this many bytes.
const HAYSTACK_BYTES: usize = 1 << 20;
/// Distinct characters, drawn from U+4E00..U+9FFF.
const CHARACTERS: usize = 3_000;
/// Distinct words the text draws from.
const VOCABULARY: usize = 60_000;
const SEED: u64 = 0x6573_6361_7065_2d7a; // "escape-z"

/// Generates `synthetic-zh`.
///
/// Measured (`cargo run -p workload --release --example density`): 40,509
/// patterns (284,295 bytes), 1,048,521 bytes of haystack, 414,046
/// overlapping matches (0.395 per byte) ending at 308,337 distinct positions
/// (0.294 per byte). The article's Chinese run: 0.400 and 0.316 per byte.
pub(crate) fn chinese() -> Workload {
    let mut rng = SplitMix64::new(SEED);
    let characters = characters(&mut rng);
    let vocabulary = vocabulary(&mut rng, &characters);
    let haystack = text(&mut rng, &vocabulary);
    let patterns = dictionary(&mut rng, &characters, &vocabulary);
    Workload {
        name: Builtin::SyntheticZh.name().to_owned(),
        description: format!(
            "generated Chinese text ({} bytes) and dictionary ({} patterns)",
            haystack.len(),
            patterns.len()
        ),
        patterns,
        haystack,
    }
}

// Distinct CJK unified ideographs in frequency order.
fn characters(rng: &mut SplitMix64) -> Vec<char> {
    const FIRST: u32 = 0x4E00;
    const COUNT: usize = 0x9FFF - 0x4E00 + 1;
    let mut taken = vec![false; COUNT];
    let mut chars = Vec::with_capacity(CHARACTERS);
    while chars.len() < CHARACTERS {
        let i = rng.below(COUNT);
        if !taken[i] {
            taken[i] = true;
            chars.push(char::from_u32(FIRST + i as u32).expect("a CJK code point"));
        }
    }
    chars
}

// Vocabulary in frequency order: distinct words of 1 to 4 characters, whose
// characters follow their own skewed distribution.
fn vocabulary(rng: &mut SplitMix64, characters: &[char]) -> Vec<Vec<char>> {
    let zipf = Zipf::new(characters.len(), 8);
    let mut seen = BTreeSet::new();
    let mut words = Vec::with_capacity(VOCABULARY);
    while words.len() < VOCABULARY {
        let len = match rng.below(20) {
            0..=1 => 1,
            2..=12 => 2,
            13..=16 => 3,
            _ => 4,
        };
        let word: Vec<char> = (0..len).map(|_| characters[zipf.sample(rng)]).collect();
        if seen.insert(word.clone()) {
            words.push(word);
        }
    }
    words
}

fn text(rng: &mut SplitMix64, vocabulary: &[Vec<char>]) -> Vec<u8> {
    let zipf = Zipf::new(vocabulary.len(), 3);
    let mut out = Vec::with_capacity(HAYSTACK_BYTES);
    let mut sentence = String::new();
    let mut quoted = false;
    loop {
        sentence.clear();
        let words = 4 + rng.below(16);
        for i in 0..words {
            if !quoted && rng.chance(1, 40) {
                sentence.push('“');
                quoted = true;
            }
            sentence.extend(vocabulary[zipf.sample(rng)].iter());
            if i + 1 == words {
                break;
            }
            if quoted && rng.chance(1, 6) {
                sentence.push('”');
                quoted = false;
            }
            match rng.below(30) {
                0..=2 => sentence.push('，'),
                3 => sentence.push('、'),
                _ => {}
            }
        }
        if quoted {
            sentence.push('”');
            quoted = false;
        }
        sentence.push('。');
        if rng.chance(1, 6) {
            sentence.push_str("\n\u{3000}\u{3000}");
        }
        if out.len() + sentence.len() > HAYSTACK_BYTES {
            break;
        }
        out.extend_from_slice(sentence.as_bytes());
    }
    out
}

// The dictionary: most vocabulary words and their sub-words, sorted.
fn dictionary(rng: &mut SplitMix64, characters: &[char], vocabulary: &[Vec<char>]) -> Vec<Vec<u8>> {
    let mut dict = BTreeSet::new();
    for &c in characters {
        if rng.chance(49, 50) {
            dict.insert(c.to_string());
        }
    }
    for word in vocabulary {
        if word.len() > 1 && rng.chance(1, 3) {
            dict.insert(word.iter().collect::<String>());
        }
        for start in 0..word.len() {
            for end in start + 1..=word.len() {
                if 1 < end - start && end - start < word.len() && rng.chance(1, 4) {
                    dict.insert(word[start..end].iter().collect::<String>());
                }
            }
        }
    }
    dict.into_iter().map(String::into_bytes).collect()
}
