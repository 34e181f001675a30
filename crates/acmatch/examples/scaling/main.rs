//! Matcher speed at every dictionary size: random samples of 100, 1,000 and
//! 10,000 words and the whole list, for English (with accented words) over
//! English prose and Chinese over Chinese prose; our variants beside
//! `aho-corasick` (DFA, contiguous NFA) and `daachorse` (bytewise, charwise).
//!
//! ```text
//! cargo run --release -p acmatch --example scaling -- [--lang en|zh] [--sizes 100,1000,all] [--rounds R] [--only ENGINE,...] [--layouts all|NAME,...]
//! ```
//!
//! # Data and samples
//!
//! Built by `workload::scaling` (its documentation says how), the same
//! words over the same text as `cargo bench --bench scaling`: from
//! `ESCAPE_LAB_DATA` (the data folder or its `article/` folder) or
//! `../shared/data` beside the repository; without it the example says so
//! and exits 0. English: 180,926 words, 306 of them accented, over 4.3 MB
//! of English prose; Chinese: 153,151 words over 3.3 MB. Samples are drawn
//! with a fixed seed; every English sample holds accented words.
//!
//! # Engines and timing
//!
//! Ours: `callback`, `fixed` and `reuse`, one call per 2,048-byte chunk with
//! the cursor carried from call to call, as the harness runs them. The
//! peers: one overlapping find-all over the whole text (`MatchKind::Standard`
//! for aho-corasick). Every engine is built first (build time: median of
//! three builds below 100,000 words, else one), then each one's matches are
//! counted and checksummed and must agree, then all are timed in interleaved
//! rounds (each round runs every engine once untimed, then once timed, in a
//! fresh random order); the figure is the median MB/s. The machine's speed drifts: only ratios within one
//! run mean anything. `ceiling` is a loop of one dependent table load per
//! byte, the speed limit of an automaton that reads a byte at a time.

mod engine;
mod report;

use std::hint::black_box;
use std::time::{Duration, Instant};

use acmatch::{Automaton, Layout};
use workload::scaling::{data_root, Corpus, Lang, SplitMix64, SEED};

use engine::{build_engines, Engine, Tally};
use report::{layout_name, print_size, print_summary, Outcome, Row};

/// Sample sizes; `usize::MAX` is the whole list.
const SIZES: [usize; 4] = [100, 1_000, 10_000, usize::MAX];
fn main() {
    let args = Args::parse();
    let Some(root) = data_root(None) else {
        println!(
            "scaling: skipped, no data (set ESCAPE_LAB_DATA to the folder holding article/ and rebar/, or article/ itself)"
        );
        return;
    };
    println!("scaling: data from {}", root.display());
    let mut summary = Vec::new();
    for lang in Lang::ALL {
        if args.lang.is_some_and(|l| l != lang) {
            continue;
        }
        let Some(corpus) = Corpus::load(&root, lang) else {
            println!("scaling: skipped {}: its files are missing", lang.name());
            continue;
        };
        println!(
            "\n{}: {} words ({} not ASCII), {} bytes of text",
            lang.name(),
            corpus.words.len(),
            corpus.not_ascii(),
            corpus.text.len()
        );
        for &n in &args.sizes {
            let words = corpus.sample(n);
            summary.push(run(lang, &words, &corpus.text, &args));
        }
    }
    print_summary(&summary);
}

pub(crate) struct Args {
    lang: Option<Lang>,
    sizes: Vec<usize>,
    rounds: usize,
    /// Only these engines (for profiling one); all when empty.
    only: Vec<String>,
    /// Ours in these layouts (`--layouts all` or names), for the crossover
    /// table; empty for the default layout alone.
    layouts: Vec<String>,
}

impl Args {
    pub(crate) fn wants(&self, engine: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|o| o == engine)
    }
}

impl Args {
    fn parse() -> Args {
        let mut args = Args {
            lang: None,
            sizes: SIZES.to_vec(),
            rounds: 9,
            only: Vec::new(),
            layouts: Vec::new(),
        };
        let mut it = std::env::args().skip(1);
        while let Some(a) = it.next() {
            let mut value = || {
                it.next()
                    .unwrap_or_else(|| usage(&format!("{a} needs a value")))
            };
            match a.as_str() {
                "--lang" => {
                    args.lang = Some(match value().as_str() {
                        "en" => Lang::En,
                        "zh" | "cn" => Lang::Zh,
                        other => usage(&format!("unknown language {other}")),
                    });
                }
                "--sizes" => {
                    args.sizes = value()
                        .split(',')
                        .map(|s| match s {
                            "all" => usize::MAX,
                            s => s
                                .replace('_', "")
                                .parse()
                                .unwrap_or_else(|_| usage(&format!("bad size {s}"))),
                        })
                        .collect();
                }
                "--rounds" => {
                    args.rounds = value()
                        .parse()
                        .unwrap_or_else(|_| usage("--rounds needs a number"));
                }
                "--layouts" => args.layouts = value().split(',').map(str::to_owned).collect(),
                "--only" => args.only = value().split(',').map(str::to_owned).collect(),
                other => usage(&format!("unknown argument {other}")),
            }
        }
        args
    }
}

fn usage(msg: &str) -> ! {
    eprintln!("scaling: {msg}\nusage: scaling [--lang en|zh] [--sizes 100,1000,all] [--rounds R] [--only ENGINE,...] [--layouts all|NAME,...]");
    std::process::exit(2);
}

fn median_duration(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

pub(crate) fn timed<T>(builds: usize, mut f: impl FnMut() -> T) -> (T, Duration) {
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..builds {
        let t = Instant::now();
        last = Some(f());
        times.push(t.elapsed());
    }
    (last.expect("at least one build"), median_duration(times))
}

fn run(lang: Lang, words: &[Vec<u8>], text: &[u8], args: &Args) -> Outcome {
    let n = words.len();
    let utf8 = std::str::from_utf8(text).expect("the texts are UTF-8");
    let builds = if n < 100_000 { 3 } else { 1 };
    let ours = build_ours(words, args, builds);
    let layout = ours[0].1.layout_summary();
    let mut engines = build_engines(&ours, words, args, builds);
    if engines.is_empty() {
        usage("no engine selected");
    }
    let reference = agreed_tally(&mut engines, text, utf8, n);
    let times = interleaved_rounds(&mut engines, text, utf8, args.rounds);
    let rows: Vec<Row> = engines
        .iter()
        .zip(times)
        .map(|((e, build), t)| Row {
            name: e.name().to_owned(),
            peer: e.is_peer(),
            build: *build,
            heap: e.heap_bytes(),
            matches: reference.matches,
            mb_s: text.len() as f64 / 1e6 / median_duration(t).as_secs_f64(),
        })
        .collect();
    let out = Outcome {
        lang,
        n,
        non_ascii: words.iter().filter(|w| !w.is_ascii()).count(),
        layout,
        rows,
    };
    print_size(&out);
    out
}

/// Our automata: the default layout, or with `--layouts` every layout
/// named, each with its label and median build time.
fn build_ours(words: &[Vec<u8>], args: &Args, builds: usize) -> Vec<(String, Automaton, Duration)> {
    let layouts: Vec<(String, Layout)> = if !args.layouts.is_empty() {
        Layout::ALL
            .iter()
            .map(|&l| (layout_name(l).to_owned(), l))
            .filter(|(name, _)| args.layouts.iter().any(|w| w == "all" || w == name))
            .collect()
    } else {
        vec![(String::new(), Layout::Auto)]
    };
    layouts
        .into_iter()
        .map(|(name, l)| {
            let (ac, took) = timed(builds, || {
                Automaton::with_layout(words, l).expect("words build")
            });
            (name, ac, took)
        })
        .collect()
}

/// One run of every engine, asserting that ours and the peers find the
/// same matches; their tally.
fn agreed_tally(
    engines: &mut [(Engine<'_>, Duration)],
    text: &[u8],
    utf8: &str,
    n: usize,
) -> Tally {
    let tallies: Vec<Tally> = engines.iter_mut().map(|(e, _)| e.run(text, utf8)).collect();
    let reference = tallies[0];
    for ((e, _), t) in engines.iter().zip(&tallies) {
        if e.is_peer() || matches!(e, Engine::Ours { .. }) {
            assert_eq!(
                *t,
                reference,
                "{} disagrees with {} at {n} words",
                e.name(),
                engines[0].0.name()
            );
        }
    }
    reference
}

/// Interleaved rounds, each in a fresh random order, so that no engine
/// always follows the same one (and finds the caches as it left them);
/// each engine's timed runs.
fn interleaved_rounds(
    engines: &mut [(Engine<'_>, Duration)],
    text: &[u8],
    utf8: &str,
    rounds: usize,
) -> Vec<Vec<Duration>> {
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); engines.len()];
    let mut rng = SplitMix64(SEED);
    for _ in 0..rounds {
        let order = rng.permutation(engines.len());
        for at in order {
            // Untimed first: the timed run finds the caches warm with its
            // own engine rather than with whichever ran before it (the
            // aho-corasick DFA over a whole dictionary fills hundreds of MB).
            black_box(engines[at].0.run(text, utf8));
            let t = Instant::now();
            black_box(engines[at].0.run(text, utf8));
            times[at].push(t.elapsed());
        }
    }
    times
}
