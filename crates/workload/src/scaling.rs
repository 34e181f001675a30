//! Word lists and prose for measuring a matcher at every dictionary size:
//! an English list with accented words over English prose, a Chinese list
//! over Chinese prose, and seeded random samples of `n` words.
//!
//! The benches (`cargo bench --bench scaling`) and the `acmatch` example
//! `scaling` both build their data here, so that they measure the same
//! words over the same text.
//!
//! # Data
//!
//! From a data folder holding `article/` (the original benchmark's data)
//! and `rebar/` (see [`data_root`]); nothing is generated. Files that are
//! missing are left out; a language with no word list or no text is
//! `None`.
//!
//! - **English words** ([`Lang::En`]): `article/en/dictionary.txt` and
//!   `rebar/dictionary-english-sorted.txt`, lines trimmed, empty lines
//!   dropped, sorted and deduplicated (daachorse rejects duplicates):
//!   180,926 words, 306 of them accented (`abbé`, `adiós`, ...). When fewer
//!   than [`MIN_ACCENTED`] are accented (rebar's list absent), café-style
//!   variants are added: every 400th word with an `e` gets its last `e` as
//!   `é`. **English prose**: `article/en/text.txt` then
//!   `rebar/opensubtitles-en-sampled.txt`, joined by a newline (4.3 MB).
//! - **Chinese words** ([`Lang::Zh`]): `article/cn/dictionary.txt`, its BOM
//!   removed, same rules (153,151 words). **Chinese prose**:
//!   `article/cn/text.txt` then `rebar/opensubtitles-zh-sampled.txt`
//!   (3.3 MB).
//!
//! # Samples
//!
//! [`Corpus::sample`] draws `n` words with a fixed seed (SplitMix64 seeded
//! with [`SEED`] `^ n`, partial Fisher-Yates), so every run and every
//! program sees the same words. The English sample takes its accented words
//! separately, in proportion to the list and at least one, so that every
//! English sample is UTF-8 with non-ASCII words.

use std::env;
use std::path::{Path, PathBuf};

use crate::DATA_ENV;

/// Seed of every sample (mixed with the sample's size).
pub const SEED: u64 = 0x5EED_2024_0016;

/// An English list with fewer accented words than this gets café-style
/// variants added.
pub const MIN_ACCENTED: usize = 100;

/// Which word list and prose.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lang {
    /// English words (some accented) over English prose.
    En,
    /// Chinese words over Chinese prose.
    Zh,
}

impl Lang {
    /// Both, English first.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Zh];

    /// `"en"` or `"zh"`.
    ///
    /// # Allocation
    ///
    /// Never.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }

    /// `"English"` or `"Chinese"`.
    ///
    /// # Allocation
    ///
    /// Never.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Zh => "Chinese",
        }
    }

    /// The word lists and the texts, relative to the data folder, in the
    /// order they are read.
    ///
    /// # Allocation
    ///
    /// Never.
    pub fn files(self) -> (&'static [&'static str], &'static [&'static str]) {
        match self {
            Lang::En => (
                &[
                    "article/en/dictionary.txt",
                    "rebar/dictionary-english-sorted.txt",
                ],
                &["article/en/text.txt", "rebar/opensubtitles-en-sampled.txt"],
            ),
            Lang::Zh => (
                &["article/cn/dictionary.txt"],
                &["article/cn/text.txt", "rebar/opensubtitles-zh-sampled.txt"],
            ),
        }
    }
}

/// Finds the data folder: the one holding `article/` (and `rebar/`).
///
/// In order: `explicit` when given, else [`DATA_ENV`] (`ESCAPE_LAB_DATA`)
/// when set and not empty, else the developers' layout, `shared/data`
/// beside the repository. Each may name the data folder itself or its
/// `article/` folder (the one holding `en/` and `cn/`, as
/// [`article_dir`](crate::article_dir) takes it), in which case the data
/// folder is its parent. `None` when the folder chosen holds neither: a
/// folder that was named explicitly or in the environment is never passed
/// over for another.
///
/// # Allocation
///
/// The returned path, and the environment variable's value while it is read.
pub fn data_root(explicit: Option<&Path>) -> Option<PathBuf> {
    let chosen = match explicit {
        Some(dir) => dir.to_owned(),
        None => match env::var_os(DATA_ENV).filter(|v| !v.is_empty()) {
            Some(dir) => PathBuf::from(dir),
            // <repo>/crates/workload -> <repo>/../shared/data.
            None => Path::new(env!("CARGO_MANIFEST_DIR"))
                .ancestors()
                .nth(3)?
                .join("shared/data"),
        },
    };
    if chosen.join("article").is_dir() {
        return Some(chosen);
    }
    if chosen.join("en").is_dir() || chosen.join("cn").is_dir() {
        // The article folder itself: rebar/ would sit beside it.
        return chosen.parent().map(Path::to_path_buf);
    }
    None
}

/// A word list and the prose it is matched against.
#[derive(Clone, PartialEq, Eq)]
pub struct Corpus {
    /// Which language.
    pub lang: Lang,
    /// Sorted, distinct, non-empty, trimmed words (UTF-8 in the data).
    pub words: Vec<Vec<u8>>,
    /// The texts, joined by `\n`.
    pub text: Vec<u8>,
    /// The files read, relative to the data folder.
    pub sources: Vec<&'static str>,
}

impl std::fmt::Debug for Corpus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Corpus")
            .field("lang", &self.lang)
            .field("words", &self.words.len())
            .field("not_ascii", &self.not_ascii())
            .field("text_bytes", &self.text.len())
            .field("sources", &self.sources)
            .finish()
    }
}

impl Corpus {
    /// Reads `lang`'s files under `root` (see the module documentation);
    /// `None` when it has no word list or no text there.
    ///
    /// # Allocation
    ///
    /// The files' contents while they are read, the words and the text.
    pub fn load(root: &Path, lang: Lang) -> Option<Corpus> {
        let (dicts, texts) = lang.files();
        let mut sources = Vec::new();
        let mut read = |files: &[&'static str]| -> Vec<Vec<u8>> {
            files
                .iter()
                .filter_map(|&p| {
                    let bytes = std::fs::read(root.join(p)).ok()?;
                    sources.push(p);
                    Some(bytes)
                })
                .collect()
        };
        let dicts = read(dicts);
        let texts = read(texts);
        let mut corpus = Corpus::from_parts(lang, &dicts, &texts)?;
        corpus.sources = sources;
        Some(corpus)
    }

    /// The corpus made of these word lists (one word a line) and texts, by
    /// the rules of the module documentation; `None` when there is no word
    /// or no text. `sources` is left empty.
    ///
    /// # Allocation
    ///
    /// The words and the text.
    pub fn from_parts(lang: Lang, dictionaries: &[Vec<u8>], texts: &[Vec<u8>]) -> Option<Corpus> {
        let mut words: Vec<Vec<u8>> = dictionaries.iter().flat_map(|d| lines(d)).collect();
        words.sort();
        words.dedup();
        if lang == Lang::En && words.iter().filter(|w| !w.is_ascii()).count() < MIN_ACCENTED {
            let accented = cafe_variants(&words);
            words.extend(accented);
            words.sort();
            words.dedup();
        }
        let text = texts.join(&b'\n');
        (!words.is_empty() && !text.is_empty()).then_some(Corpus {
            lang,
            words,
            text,
            sources: Vec::new(),
        })
    }

    /// Words that are not ASCII.
    ///
    /// # Allocation
    ///
    /// Never.
    pub fn not_ascii(&self) -> usize {
        self.words.iter().filter(|w| !w.is_ascii()).count()
    }

    /// `n` distinct words (all of them, in list order, when `n` is at least
    /// the list's length), the same on every call; see the module
    /// documentation.
    ///
    /// # Allocation
    ///
    /// The sample, and an index of the list (or of each part of it) while
    /// drawing.
    pub fn sample(&self, n: usize) -> Vec<Vec<u8>> {
        if n >= self.words.len() {
            return self.words.clone();
        }
        let mut rng = SplitMix64(SEED ^ n as u64);
        if self.lang == Lang::Zh {
            return draw(&self.words, n, &mut rng);
        }
        let (accented, plain): (Vec<Vec<u8>>, Vec<Vec<u8>>) =
            self.words.iter().cloned().partition(|w| !w.is_ascii());
        if accented.is_empty() {
            return draw(&plain, n, &mut rng);
        }
        let k = (n * accented.len())
            .div_ceil(self.words.len())
            .clamp(1, accented.len().min(n));
        let mut out = draw(&accented, k, &mut rng);
        out.extend(draw(&plain, n - k, &mut rng));
        out
    }
}

/// Trimmed, non-empty lines, a leading BOM removed.
fn lines(d: &[u8]) -> Vec<Vec<u8>> {
    let d = d.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(d);
    d.split(|&b| b == b'\n')
        .map(|l| l.trim_ascii().to_vec())
        .filter(|l| !l.is_empty())
        .collect()
}

/// Accented variants of real words: every 400th word that has an `e`,
/// with its last `e` written `é`.
fn cafe_variants(words: &[Vec<u8>]) -> Vec<Vec<u8>> {
    words
        .iter()
        .filter(|w| w.contains(&b'e'))
        .step_by(400)
        .map(|w| {
            let at = w.iter().rposition(|&b| b == b'e').unwrap_or(0);
            let mut v = w[..at].to_vec();
            v.extend_from_slice("é".as_bytes());
            v.extend_from_slice(&w[at + 1..]);
            v
        })
        .collect()
}

/// SplitMix64: a small, fast generator, fixed here so that samples never
/// change with a dependency.
#[derive(Clone, Debug)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// The next number.
    ///
    /// # Allocation
    ///
    /// Never.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// `0..n` in random order (Fisher-Yates).
    ///
    /// # Allocation
    ///
    /// The returned vector.
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..n).collect();
        self.shuffle_prefix(&mut idx, n);
        idx
    }

    // Puts `k` random distinct items of `idx` first, in random order.
    fn shuffle_prefix(&mut self, idx: &mut [usize], k: usize) {
        for i in 0..k {
            let j = i + (self.next() % (idx.len() - i) as u64) as usize;
            idx.swap(i, j);
        }
    }
}

/// `k` distinct items of `all`, in random order (partial Fisher-Yates).
fn draw(all: &[Vec<u8>], k: usize, rng: &mut SplitMix64) -> Vec<Vec<u8>> {
    let mut idx: Vec<usize> = (0..all.len()).collect();
    rng.shuffle_prefix(&mut idx, k);
    idx[..k].iter().map(|&i| all[i].clone()).collect()
}

#[cfg(test)]
#[path = "scaling_tests.rs"]
mod tests;
