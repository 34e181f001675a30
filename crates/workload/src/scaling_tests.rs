//! Tests of `scaling.rs`: the word lists' rules, the samples' seeds and
//! proportions, and the data folder's lookup.

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
    let zh = Corpus::from_parts(Lang::Zh, &[words(&["甲", "乙", "丙"])], &[b"t".to_vec()]).unwrap();
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
