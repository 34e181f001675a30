//! The finders against each other and against their definition, and the
//! engine over each finder against the automaton alone.

use super::Isa;
use crate::automaton::Automaton;
use crate::{chunks, find_all, Layout, Match, Matcher, Variant};

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// The finders this CPU can run, the scalar one first.
fn finders() -> Vec<Isa> {
    let mut v = vec![Isa::Scalar];
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("ssse3") {
            v.push(Isa::Ssse3);
        }
        if is_x86_feature_detected!("avx2") {
            v.push(Isa::Avx2);
        }
        if Isa::detect() == Isa::Avx512 {
            v.push(Isa::Avx512);
        }
    }
    v
}

/// Random patterns over a small alphabet with every byte value now and
/// then, one- and two-byte ones among them, and a text with some planted.
fn random_case(rng: &mut Rng) -> (Vec<Vec<u8>>, Vec<u8>) {
    let alphabet: Vec<u8> = (0..2 + rng.below(12))
        .map(|_| rng.below(256) as u8)
        .collect();
    let byte = |rng: &mut Rng| alphabet[rng.below(alphabet.len())];
    let patterns: Vec<Vec<u8>> = (0..1 + rng.below(40))
        .map(|_| (0..1 + rng.below(9)).map(|_| byte(rng)).collect())
        .collect();
    let mut text = Vec::new();
    while text.len() < 300 + rng.below(3000) {
        if rng.below(10) == 0 {
            text.extend_from_slice(&patterns[rng.below(patterns.len())]);
        } else {
            text.push(if rng.below(20) == 0 {
                rng.below(256) as u8
            } else {
                byte(rng)
            });
        }
    }
    (patterns, text)
}

#[test]
fn every_finder_gives_the_candidates_of_the_definition() {
    let mut rng = Rng(0x51_7CC1_B727_220A);
    let isas = finders();
    if isas.len() < 4 {
        eprintln!("only these finders run on this CPU: {isas:?}");
    }
    let mut candidates = 0;
    for _ in 0..300 {
        let (patterns, text) = random_case(&mut rng);
        let layout = Layout::Literal { simd: false };
        let ac = Automaton::with_layout(&patterns, layout).unwrap();
        let lit = ac.literal.as_ref().expect("forced");
        let from = super::K - 1;
        let by_tables = |exact: bool| -> Vec<usize> {
            (from..text.len())
                .filter(|&q| lit.masks.candidate(&text, q, exact))
                .collect()
        };
        let (keyed, exact) = (by_tables(false), by_tables(true));
        for &isa in &isas {
            let want = if isa.exact() { &exact } else { &keyed };
            assert_eq!(&lit.candidates(&text, from, isa), want, "{}", isa.name());
        }
        // No occurrence is missed: every end is a candidate, and the exact
        // tables admit no more than the keys.
        for m in find_all(&ac, &text) {
            let last = m.end - 1;
            assert!(last < from || exact.binary_search(&last).is_ok());
        }
        assert!(exact.iter().all(|q| keyed.binary_search(q).is_ok()));
        candidates += exact.len();
    }
    assert!(candidates > 10_000, "positive control: {candidates}");
}

#[test]
fn the_engine_over_every_finder_matches_the_automaton_alone() {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    for round in 0..200 {
        let (patterns, text) = random_case(&mut rng);
        let plain = Automaton::with_layout(&patterns, Layout::Dense { prefilter: false }).unwrap();
        let want = find_all(&plain, &text);
        for isa in finders() {
            let mut ac = Automaton::with_layout(&patterns, Layout::Literal { simd: true }).unwrap();
            ac.literal.as_mut().expect("forced").isa = isa;
            for chunk in [0, 97, 256, 2048] {
                let mut m = Variant::Callback.matcher();
                let mut cursor = crate::Cursor::new();
                let mut got: Vec<Match> = Vec::new();
                for piece in chunks(&text, chunk) {
                    m.find_chunk(&ac, &mut cursor, piece, |x| got.push(x))
                        .unwrap();
                }
                assert!(got == want, "round {round}, {}, chunk {chunk}", isa.name());
            }
        }
    }
}

#[test]
fn auto_chooses_the_engine_for_rare_endings_only() {
    let rare = ["xylophone", "quizzical", "jukebox", "zephyr"];
    let ac = Automaton::new(rare).unwrap();
    assert_eq!(ac.literal_finder(), Some(Isa::detect().name()));
    assert!(!ac.has_prefilter());
    // One-letter patterns: every position is a candidate.
    let common = ["e", "t", "a", "o", "the"];
    assert_eq!(Automaton::new(common).unwrap().literal_finder(), None);
    let scalar = Automaton::with_layout(rare, Layout::Literal { simd: false }).unwrap();
    assert_eq!(scalar.literal_finder(), Some("scalar"));
}

/// The cost model against the scaling data (skipped without it): for
/// samples of several sizes, the expected candidate rate the build
/// computes and the rate measured over the text. Run by hand:
/// `cargo test -p acmatch --release --lib calibration -- --ignored --nocapture`.
#[test]
#[ignore = "reads the data folder; prints, asserts nothing"]
fn calibration_of_the_expected_rate() {
    use workload::scaling::{data_root, Corpus, Lang};
    let Some(root) = data_root(None) else {
        eprintln!("calibration: skipped: no data folder");
        return;
    };
    for lang in Lang::ALL {
        let Some(corpus) = Corpus::load(&root, lang) else {
            continue;
        };
        let text = &corpus.text[..corpus.text.len().min(2_000_000)];
        for n in [25, 50, 100, 200, 300, 500, 1000] {
            let words = corpus.sample(n);
            let pats: Vec<&[u8]> = words.iter().map(|w| &w[..]).collect();
            let ac = Automaton::with_layout(&pats, Layout::Literal { simd: true }).unwrap();
            let lit = ac.literal.as_ref().expect("forced");
            let exact = lit.isa.exact();
            let expected = lit.masks.expected_rate(&pats, exact);
            let found = lit.candidates(text, 7, lit.isa);
            let measured = found.len() as f64 / text.len() as f64;
            let confirmed = found
                .iter()
                .filter(|&&q| lit.confirm.admits(text, q + 1))
                .count() as f64
                / text.len() as f64;
            println!(
                "{} n={n} {}: expected {expected:.4}, measured {measured:.4}, confirmed {confirmed:.4}",
                lang.code(),
                lit.isa.name()
            );
        }
    }
}
