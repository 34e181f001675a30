//! The scaling word lists on the real data: the figures the bench and the
//! `acmatch` example quote. Runs only where `scaling::data_root(None)` finds
//! the data (ESCAPE_LAB_DATA, or `shared/data` beside the repository);
//! elsewhere it says why it skipped.

use workload::scaling::{data_root, Corpus, Lang};

#[test]
fn scaling_lists_match_the_documented_figures() {
    let Some(root) = data_root(None).filter(|r| r.join("rebar").is_dir()) else {
        eprintln!(
            "skipped: no data folder holding article/ and rebar/ (set ESCAPE_LAB_DATA to it)"
        );
        return;
    };
    let en = Corpus::load(&root, Lang::En).unwrap();
    assert_eq!(en.sources.len(), 4, "{:?}", en.sources);
    assert_eq!(en.words.len(), 180_926);
    assert_eq!(en.not_ascii(), 306);
    assert_eq!(en.text.len(), 3_409_282 + 1 + 899_232);
    assert!(std::str::from_utf8(&en.text).is_ok());
    for n in [100, 1_000, 10_000] {
        let s = en.sample(n);
        assert_eq!(s.len(), n);
        assert!(s.iter().any(|w| !w.is_ascii()), "n = {n}");
    }

    let zh = Corpus::load(&root, Lang::Zh).unwrap();
    assert_eq!(zh.words.len(), 153_151);
    assert_eq!(zh.text.len(), 2_460_634 + 1 + 813_478);
    assert!(std::str::from_utf8(&zh.text).is_ok());
    assert!(zh
        .words
        .iter()
        .all(|w| std::str::from_utf8(w).is_ok() && !w.starts_with(b"\xEF\xBB\xBF")));
}
