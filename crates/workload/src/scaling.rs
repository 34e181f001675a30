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
mod tests {
    use super::*;

    fn words(list: &[&str]) -> Vec<u8> {
        list.join("\n").into_bytes()
    }

    fn english(n: usize) -> Corpus {
        let mut list: Vec<String> = (0..n).map(|i| format!("word{i:05}e")).collect();
        list.extend((0..MIN_ACCENTED).map(|i| format!("café{i:03}")));
        let list: Vec<&str> = list.iter().map(String::as_str).collect();
        Corpus::from_parts(Lang::En, &[words(&list)], &[b"text".to_vec()]).unwrap()
    }

    #[test]
    fn lines_are_trimmed_deduplicated_and_sorted_bom_removed() {
        let cn = "\u{FEFF}中国\n 人 \n\n中国\r\n人民\n".as_bytes().to_vec();
        let c = Corpus::from_parts(Lang::Zh, &[cn], &[b"a".to_vec(), b"b".to_vec()]).unwrap();
        let got: Vec<&str> = c
            .words
            .iter()
            .map(|w| std::str::from_utf8(w).unwrap())
            .collect();
        assert_eq!(got, ["中国", "人", "人民"]);
        assert_eq!(c.text, b"a\nb");
        assert_eq!(c.not_ascii(), 3);
        assert!(c.sources.is_empty());
    }

    #[test]
    fn nothing_to_match_is_none() {
        assert_eq!(
            Corpus::from_parts(Lang::Zh, &[b"\n \n".to_vec()], &[b"t".to_vec()]),
            None
        );
        assert_eq!(Corpus::from_parts(Lang::Zh, &[b"w".to_vec()], &[]), None);
    }

    #[test]
    fn english_without_enough_accents_gets_cafe_variants() {
        let list: Vec<String> = (0..4_000).map(|i| format!("te{i:04}st")).collect();
        let list: Vec<&str> = list.iter().map(String::as_str).collect();
        let c = Corpus::from_parts(Lang::En, &[words(&list)], &[b"t".to_vec()]).unwrap();
        // Every 400th of 4,000 words with an `e`: 10 variants, last `e` → `é`.
        assert_eq!(c.words.len(), 4_010);
        assert_eq!(c.not_ascii(), 10);
        assert!(c.words.contains(&"té0000st".as_bytes().to_vec()));
        assert!(c.words.windows(2).all(|w| w[0] < w[1]));
        // Chinese lists are left alone.
        let c = Corpus::from_parts(Lang::Zh, &[words(&list)], &[b"t".to_vec()]).unwrap();
        assert_eq!(c.not_ascii(), 0);
    }

    #[test]
    fn english_with_enough_accents_is_left_alone() {
        let c = english(1_000);
        assert_eq!(c.words.len(), 1_000 + MIN_ACCENTED);
        assert_eq!(c.not_ascii(), MIN_ACCENTED);
    }

    #[test]
    fn samples_are_distinct_repeatable_and_english_ones_accented() {
        let c = english(20_000);
        for n in [1, 2, 100, 1_000, 10_000] {
            let s = c.sample(n);
            assert_eq!(s.len(), n);
            assert_eq!(s, c.sample(n), "n = {n}");
            let mut sorted = s.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted.len(), n, "distinct at n = {n}");
            assert!(s.iter().all(|w| c.words.binary_search(w).is_ok()));
            let accented = s.iter().filter(|w| !w.is_ascii()).count();
            // In proportion (100 of 20,100), at least one.
            let want = (n * MIN_ACCENTED).div_ceil(c.words.len()).max(1);
            assert_eq!(accented, want, "n = {n}");
        }
        assert_ne!(c.sample(100), c.sample(101)[..100]);
    }

    #[test]
    fn samples_of_the_whole_list_or_more_are_the_list() {
        let c = english(50);
        assert_eq!(c.sample(c.words.len()), c.words);
        assert_eq!(c.sample(usize::MAX), c.words);
        let zh =
            Corpus::from_parts(Lang::Zh, &[words(&["甲", "乙", "丙"])], &[b"t".to_vec()]).unwrap();
        let s = zh.sample(2);
        assert_eq!(s.len(), 2);
        assert_ne!(s[0], s[1]);
    }

    #[test]
    fn splitmix_is_fixed() {
        // The first outputs of SplitMix64 seeded with 0 (its reference
        // implementation): samples must never change.
        let mut r = SplitMix64(0);
        assert_eq!(r.next(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next(), 0x6E78_9E6A_A1B9_65F4);
        let mut p = SplitMix64(SEED).permutation(10);
        p.sort_unstable();
        assert_eq!(p, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn data_root_takes_the_data_folder_or_its_article_folder() {
        let base = std::env::temp_dir().join(format!("workload-scaling-{}", std::process::id()));
        let article = base.join("article");
        std::fs::create_dir_all(article.join("en")).unwrap();
        assert_eq!(data_root(Some(&base)), Some(base.clone()));
        assert_eq!(data_root(Some(&article)), Some(base.clone()));
        assert_eq!(data_root(Some(&article.join("en"))), None);
        assert_eq!(data_root(Some(&base.join("absent"))), None);

        // Loading takes what is there and names it.
        std::fs::write(article.join("en/dictionary.txt"), "one\ntwo\n").unwrap();
        assert_eq!(Corpus::load(&base, Lang::En), None, "no text yet");
        std::fs::write(article.join("en/text.txt"), "one two").unwrap();
        let c = Corpus::load(&base, Lang::En).unwrap();
        assert_eq!(
            c.sources,
            ["article/en/dictionary.txt", "article/en/text.txt"]
        );
        assert_eq!(c.text, b"one two");
        assert_eq!(Corpus::load(&base, Lang::Zh), None);
        std::fs::remove_dir_all(&base).unwrap();
    }
}
