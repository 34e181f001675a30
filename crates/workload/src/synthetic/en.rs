//! `synthetic-en`: English-like text and dictionary.
//!
//! The vocabulary is a list of common English words followed by pseudo-words
//! built from syllables (onset, vowel, coda) with an optional suffix. The
//! text draws words from it with Zipf frequencies, so short common words
//! recur, and writes sentences: capitalised first word, spaces, some commas,
//! a full stop (or `?`, `!`), a newline after about one sentence in six.
//!
//! The dictionary is sorted, like the article's word list, and holds most
//! vocabulary words, stems and endings cut at syllable boundaries, and
//! inflected forms that the text never uses. Its two- and three-letter
//! entries are what make matches dense (they occur inside longer words), so
//! only a share of them is kept; that share is the knob that sets the density.
//! No one-letter pattern, as in the article's dictionary.

use std::collections::BTreeSet;

use super::{SplitMix64, Zipf};
use crate::{Builtin, Workload};

/// The haystack stops at the last sentence that fits in this many bytes.
const HAYSTACK_BYTES: usize = 1 << 20;
/// Distinct words the text draws from (function words included).
const VOCABULARY: usize = 30_000;
const SEED: u64 = 0x6573_6361_7065_2d65; // "escape-e"

/// Frequent short English words, most frequent first: the head of the Zipf
/// distribution, as in real text.
const COMMON: &[&str] = &[
    "the", "of", "and", "to", "a", "in", "is", "that", "it", "was", "for", "on", "he", "as",
    "with", "his", "be", "at", "by", "i", "this", "had", "not", "are", "but", "from", "or", "have",
    "an", "they", "which", "one", "you", "were", "her", "all", "she", "there", "would", "their",
    "we", "him", "been", "has", "when", "who", "will", "more", "no", "if", "out", "so", "said",
    "what", "up", "its", "about", "into", "than", "them", "can", "only", "other", "new", "some",
    "could", "time", "these", "two", "may", "then", "do", "first", "any", "my", "now", "such",
    "like", "our", "over", "man", "me", "even", "most", "made", "after", "also", "did", "many",
    "before", "must", "through", "back", "years", "where", "much", "your", "way", "well", "down",
    "should", "because", "each", "just", "those", "people", "how", "too", "little", "state",
    "good", "very", "make", "world", "still", "own", "see", "men", "work", "long", "get", "here",
    "between", "both", "life", "being", "under", "never", "day", "same", "another", "know",
    "while", "last", "might", "us", "great", "old", "year", "off", "come", "since", "against",
    "go", "came", "right", "used", "take", "three",
];

const ONSETS: &[&str] = &[
    "", "", "", "", "b", "c", "d", "f", "g", "h", "l", "l", "m", "m", "n", "n", "p", "p", "r", "r",
    "s", "s", "t", "t", "t", "v", "w", "br", "ch", "cl", "cr", "dr", "fl", "gr", "pl", "pr", "sh",
    "st", "th", "th", "tr",
];
const NUCLEI: &[&str] = &[
    "a", "a", "a", "e", "e", "e", "e", "i", "i", "i", "o", "o", "o", "u", "u", "ea", "ou", "ai",
    "ee", "io", "oo", "y",
];
const CODAS: &[&str] = &[
    "", "", "", "", "", "", "", "", "n", "n", "r", "r", "s", "t", "t", "l", "d", "m", "nd", "st",
    "ng", "ck", "rt", "ll", "nt",
];
const SUFFIXES: &[&str] = &[
    "s", "s", "s", "ed", "ing", "er", "ers", "ly", "ness", "tion", "ment",
];

/// Generates `synthetic-en`.
///
/// Measured (`cargo run -p workload --release --example density`): 40,567
/// patterns (351,894 bytes), 1,048,497 bytes of haystack, 677,837
/// overlapping matches (0.646 per byte) ending at 411,396 distinct positions
/// (0.392 per byte); on the first 2,048 bytes 1,394 matches at 828 end
/// positions. The article's English run: 0.617 and 0.395 per byte, 1,317 at
/// 843.
pub(crate) fn english() -> Workload {
    let mut rng = SplitMix64::new(SEED);
    let vocabulary = vocabulary(&mut rng);
    let haystack = text(&mut rng, &vocabulary);
    let patterns = dictionary(&mut rng, &vocabulary);
    Workload {
        name: Builtin::SyntheticEn.name().to_owned(),
        description: format!(
            "generated English-like text ({} bytes) and dictionary ({} patterns)",
            haystack.len(),
            patterns.len()
        ),
        patterns,
        haystack,
    }
}

/// A word and where its syllables (and suffix) begin, so that the
/// dictionary can take its stems and endings.
struct Word {
    text: String,
    // Byte offsets of syllable boundaries inside `text` (not 0, not len).
    cuts: Vec<usize>,
}

fn syllable(rng: &mut SplitMix64) -> String {
    let mut s = String::new();
    s.push_str(rng.pick(ONSETS));
    s.push_str(rng.pick(NUCLEI));
    s.push_str(rng.pick(CODAS));
    s
}

// Vocabulary in frequency order: the common words, then distinct pseudo-words.
fn vocabulary(rng: &mut SplitMix64) -> Vec<Word> {
    let mut seen = BTreeSet::new();
    let mut words = Vec::with_capacity(VOCABULARY);
    for w in COMMON {
        seen.insert(w.to_string());
        words.push(Word {
            text: w.to_string(),
            cuts: Vec::new(),
        });
    }
    while words.len() < VOCABULARY {
        let syllables = match rng.below(20) {
            0..=5 => 1,
            6..=14 => 2,
            15..=18 => 3,
            _ => 4,
        };
        let mut text = String::new();
        let mut cuts = Vec::new();
        for i in 0..syllables {
            if i > 0 {
                cuts.push(text.len());
            }
            text.push_str(&syllable(rng));
        }
        if rng.chance(1, 4) {
            cuts.push(text.len());
            text.push_str(rng.pick(SUFFIXES));
        }
        if text.len() < 2 || !seen.insert(text.clone()) {
            continue;
        }
        words.push(Word { text, cuts });
    }
    words
}

fn text(rng: &mut SplitMix64, vocabulary: &[Word]) -> Vec<u8> {
    let zipf = Zipf::new(vocabulary.len(), 3);
    let mut out = Vec::with_capacity(HAYSTACK_BYTES);
    let mut sentence = Vec::new();
    loop {
        sentence.clear();
        let words = 4 + rng.below(20);
        for i in 0..words {
            let word = vocabulary[zipf.sample(rng)].text.as_bytes();
            let start = sentence.len();
            sentence.extend_from_slice(word);
            if i == 0 {
                sentence[start] = sentence[start].to_ascii_uppercase();
            }
            if i + 1 < words {
                if rng.chance(1, 12) {
                    sentence.push(b',');
                }
                sentence.push(b' ');
            }
        }
        sentence.push(rng.pick(b".....?!"));
        let end = if rng.chance(1, 6) { b'\n' } else { b' ' };
        sentence.push(end);
        if out.len() + sentence.len() > HAYSTACK_BYTES {
            break;
        }
        out.extend_from_slice(&sentence);
    }
    out
}

// The dictionary: most vocabulary words, their stems and inflections, and
// short fragments (syllables) that occur inside longer words, sorted like a
// word list.
fn dictionary(rng: &mut SplitMix64, vocabulary: &[Word]) -> Vec<Vec<u8>> {
    let mut dict = BTreeSet::new();
    for word in vocabulary {
        let text = &word.text;
        if rng.chance(9, 10) {
            dict.insert(text.clone());
        }
        for &cut in &word.cuts {
            // Stems (prefixes at a syllable boundary) and endings.
            if rng.chance(1, 4) {
                dict.insert(text[..cut].to_owned());
            }
            if rng.chance(1, 10) {
                dict.insert(text[cut..].to_owned());
            }
        }
        if rng.chance(1, 4) {
            dict.insert(format!("{text}{}", rng.pick(SUFFIXES)));
        }
    }
    // Short fragments decide the density: keep only some of them, as a real
    // word list holds only some two- and three-letter strings.
    dict.into_iter()
        .filter(|w| match w.len() {
            0 | 1 => false,
            2 => COMMON.contains(&w.as_str()) || rng.chance(1, 4),
            3 => COMMON.contains(&w.as_str()) || rng.chance(1, 2),
            _ => true,
        })
        .map(String::into_bytes)
        .collect()
}
