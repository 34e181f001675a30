//! The generated workloads: density, determinism, timing.
//!
//! Density is measured the way the article's figures were: every overlapping
//! occurrence of every pattern, with `aho-corasick` in `Standard` mode.

use std::time::Instant;

use aho_corasick::{AhoCorasick, MatchKind};
use workload::{load_builtin, Builtin, Workload};

/// Overlapping matches, and positions where at least one match ends.
fn density(w: &Workload) -> (usize, usize) {
    let ac = AhoCorasick::builder()
        .match_kind(MatchKind::Standard)
        .build(&w.patterns)
        .expect("the patterns build an automaton");
    let mut matches = 0;
    let mut ends = 0;
    let mut last_end = usize::MAX;
    // Overlapping matches come out ordered by end position.
    for m in ac.find_overlapping_iter(&w.haystack) {
        matches += 1;
        if m.end() != last_end {
            ends += 1;
            last_end = m.end();
        }
    }
    (matches, ends)
}

/// FNV-1a (64 bits) over every pattern, each preceded by its length, then the
/// haystack, so that moving a byte between patterns changes the sum.
fn fnv1a(w: &Workload) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    eat(&(w.patterns.len() as u64).to_le_bytes());
    for p in &w.patterns {
        eat(&(p.len() as u64).to_le_bytes());
        eat(p);
    }
    eat(&w.haystack);
    hash
}

fn check_density(which: Builtin, matches_band: (f64, f64), ends_band: (f64, f64)) {
    let w = load_builtin(which, None).unwrap();
    let (matches, ends) = density(&w);
    let bytes = w.haystack.len() as f64;
    let (m, e) = (matches as f64 / bytes, ends as f64 / bytes);
    eprintln!(
        "{}: {} patterns, {} haystack bytes, {matches} matches ({m:.3}/byte) at {ends} end positions ({e:.3}/byte)",
        w.name,
        w.patterns.len(),
        w.haystack.len()
    );
    assert!(
        (matches_band.0..=matches_band.1).contains(&m),
        "{}: {m:.3} matches/byte, outside {matches_band:?}",
        w.name
    );
    assert!(
        (ends_band.0..=ends_band.1).contains(&e),
        "{}: {e:.3} end positions/byte, outside {ends_band:?}",
        w.name
    );
}

/// The article's English run: 0.617 matches and 0.395 end positions per byte.
#[test]
fn synthetic_en_density_is_like_the_article() {
    check_density(Builtin::SyntheticEn, (0.55, 0.70), (0.30, 0.50));
}

/// The article's Chinese run: 0.400 matches and 0.316 end positions per byte.
#[test]
fn synthetic_zh_density_is_like_the_article() {
    check_density(Builtin::SyntheticZh, (0.35, 0.45), (0.25, 0.35));
}

/// The generators are deterministic: the same bytes on every machine, every
/// run, every version of every dependency.
///
/// A failure here means the generated workloads changed, so every figure
/// measured on them (the baseline, the README tables) changed too. If the
/// change is deliberate, update the constants below in the same commit as
/// the baseline, and say so in its message.
#[test]
fn synthetic_workloads_are_pinned() {
    let cases = [
        (Builtin::SyntheticEn, 0x942c_a2c9_b890_3f37_u64),
        (Builtin::SyntheticZh, 0x0306_3b72_6dcb_2cfd_u64),
    ];
    let mut changed = Vec::new();
    for (which, want) in cases {
        let w = load_builtin(which, None).unwrap();
        let again = load_builtin(which, None).unwrap();
        assert!(w == again, "{which}: two generations differ");
        let got = fnv1a(&w);
        if got != want {
            changed.push(format!(
                "{which}: checksum is {got:#018x}, pinned {want:#018x}"
            ));
        }
    }
    assert!(
        changed.is_empty(),
        "generated workloads changed:\n{}",
        changed.join("\n")
    );
}

/// Shapes every consumer relies on: sizes, names, valid UTF-8 where promised.
#[test]
fn synthetic_workloads_have_the_promised_shape() {
    for which in [Builtin::SyntheticEn, Builtin::SyntheticZh] {
        let w = load_builtin(which, None).unwrap();
        assert_eq!(w.name, which.name());
        assert!(!w.description.is_empty());
        let size = w.haystack.len();
        assert!(
            (1_000_000..=1 << 20).contains(&size),
            "{which}: {size} bytes"
        );
        let n = w.patterns.len();
        assert!((20_000..=50_000).contains(&n), "{which}: {n} patterns");
        assert!(w.patterns.iter().all(|p| !p.is_empty()));
        assert!(
            w.patterns.windows(2).all(|p| p[0] < p[1]),
            "{which}: patterns are sorted and distinct"
        );
        std::str::from_utf8(&w.haystack).expect("the haystack is UTF-8");
        for p in &w.patterns {
            let p = std::str::from_utf8(p).expect("patterns are UTF-8");
            assert_eq!(p.trim(), p, "{which}: a pattern with white space: {p:?}");
        }
    }
    let en = load_builtin(Builtin::SyntheticEn, None).unwrap();
    assert!(en.haystack.is_ascii());
    let zh = load_builtin(Builtin::SyntheticZh, None).unwrap();
    let text = String::from_utf8(zh.haystack).unwrap();
    let cjk = text
        .chars()
        .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
        .count();
    assert!(cjk * 10 > text.chars().count() * 8, "mostly CJK characters");
}

/// Prints how long generation takes; times are never asserted.
#[test]
fn generation_time_is_printed() {
    for which in [Builtin::SyntheticEn, Builtin::SyntheticZh] {
        let start = Instant::now();
        let w = load_builtin(which, None).unwrap();
        eprintln!(
            "{which}: generated {} patterns and {} bytes in {:?} ({} build)",
            w.patterns.len(),
            w.haystack.len(),
            start.elapsed(),
            if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            }
        );
    }
}
