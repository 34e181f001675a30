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

use std::hint::black_box;
use std::time::{Duration, Instant};

use acmatch::{
    chunks, AnyMatcher, Automaton, Cursor, Layout, Match, Matcher, Variant, DEFAULT_CHUNK,
};
use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use daachorse::{CharwiseDoubleArrayAhoCorasick, DoubleArrayAhoCorasick};
use workload::scaling::{data_root, Corpus, Lang, SplitMix64, SEED};

/// Sample sizes; `usize::MAX` is the whole list.
const SIZES: [usize; 4] = [100, 1_000, 10_000, usize::MAX];
/// Our variants in the table.
const OURS: [Variant; 3] = [Variant::Callback, Variant::Fixed, Variant::Reuse];
/// The peers' names, in table order.
const PEERS: [&str; 4] = [
    "aho-corasick-dfa",
    "aho-corasick-nfa",
    "daachorse-bytewise",
    "daachorse-charwise",
];
/// Entries of the ceiling loop's table (32 KiB, within L1).
const CEILING_ENTRIES: usize = 8192;

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

struct Args {
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
    fn wants(&self, engine: &str) -> bool {
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

/// One engine, built.
enum Engine<'a> {
    Ours {
        ac: &'a Automaton,
        matcher: AnyMatcher,
        /// The variant's name, with the layout in `--layouts` mode.
        label: String,
    },
    AhoCorasick(&'static str, AhoCorasick),
    DaachorseBytewise(DoubleArrayAhoCorasick<u32>),
    DaachorseCharwise(CharwiseDoubleArrayAhoCorasick<u32>),
    Ceiling(Box<[u32]>),
}

/// Matches and an order-independent checksum of them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Tally {
    matches: u64,
    sum: u64,
}

impl Tally {
    #[inline(always)]
    fn add(&mut self, pattern: u32, start: usize, end: usize) {
        self.matches += 1;
        self.sum = self.sum.wrapping_add(
            (u64::from(pattern).wrapping_mul(0x9E37_79B9_7F4A_7C15))
                ^ (start as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9)
                ^ (end as u64),
        );
    }
}

impl Engine<'_> {
    fn name(&self) -> &str {
        match self {
            Engine::Ours { label, .. } => label,
            Engine::AhoCorasick(name, _) => name,
            Engine::DaachorseBytewise(_) => PEERS[2],
            Engine::DaachorseCharwise(_) => PEERS[3],
            Engine::Ceiling(_) => "ceiling",
        }
    }

    fn is_peer(&self) -> bool {
        matches!(
            self,
            Engine::AhoCorasick(..) | Engine::DaachorseBytewise(_) | Engine::DaachorseCharwise(_)
        )
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Engine::Ours { ac, .. } => ac.heap_bytes(),
            Engine::AhoCorasick(_, a) => a.memory_usage(),
            Engine::DaachorseBytewise(d) => d.heap_bytes(),
            Engine::DaachorseCharwise(d) => d.heap_bytes(),
            Engine::Ceiling(t) => std::mem::size_of_val(&**t),
        }
    }

    /// Every match in `text`.
    fn run(&mut self, text: &[u8], utf8: &str) -> Tally {
        let mut t = Tally::default();
        match self {
            Engine::Ours { ac, matcher, .. } => {
                let mut cursor = Cursor::new();
                for piece in chunks(text, DEFAULT_CHUNK) {
                    matcher
                        .find_chunk(ac, &mut cursor, piece, |m: Match| {
                            t.add(m.pattern, m.start, m.end);
                        })
                        .expect("no buffer runs full on these texts");
                }
            }
            Engine::AhoCorasick(_, a) => {
                for m in a.find_overlapping_iter(text) {
                    t.add(m.pattern().as_u32(), m.start(), m.end());
                }
            }
            Engine::DaachorseBytewise(d) => {
                for m in d.find_overlapping_iter(text) {
                    t.add(m.value(), m.start(), m.end());
                }
            }
            Engine::DaachorseCharwise(d) => {
                for m in d.find_overlapping_iter(utf8) {
                    t.add(m.value(), m.start(), m.end());
                }
            }
            Engine::Ceiling(table) => {
                let mut s = 0usize;
                for &b in text {
                    s = table[s + usize::from(b)] as usize;
                }
                t.sum = s as u64;
            }
        }
        black_box(t)
    }
}

/// One engine's figures at one size.
struct Row {
    name: String,
    peer: bool,
    build: Duration,
    heap: usize,
    matches: u64,
    mb_s: f64,
}

/// One size's result, for the summary.
struct Outcome {
    lang: Lang,
    n: usize,
    /// Words of the sample that are not ASCII.
    non_ascii: usize,
    layout: String,
    rows: Vec<Row>,
}

fn median_duration(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn timed<T>(builds: usize, mut f: impl FnMut() -> T) -> (T, Duration) {
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

/// Every engine `args` selects: our variants over each of `ours`, the
/// peers (built here), the ceiling; each with its build time.
fn build_engines<'a>(
    ours: &'a [(String, Automaton, Duration)],
    words: &[Vec<u8>],
    args: &Args,
    builds: usize,
) -> Vec<(Engine<'a>, Duration)> {
    let mut engines: Vec<(Engine<'a>, Duration)> = Vec::new();
    for (name, ac, took) in ours {
        for v in OURS.iter().filter(|v| args.wants(v.name())) {
            let label = if name.is_empty() {
                v.name().to_owned()
            } else {
                format!("{} {name}", v.name())
            };
            engines.push((
                Engine::Ours {
                    ac,
                    matcher: v.matcher(),
                    label,
                },
                *took,
            ));
        }
    }
    for (name, kind) in [
        (PEERS[0], AhoCorasickKind::DFA),
        (PEERS[1], AhoCorasickKind::ContiguousNFA),
    ] {
        if !args.wants(name) {
            continue;
        }
        let (a, took) = timed(builds, || {
            AhoCorasick::builder()
                .kind(Some(kind))
                .match_kind(MatchKind::Standard)
                .build(words)
        });
        match a {
            Ok(a) => engines.push((Engine::AhoCorasick(name, a), took)),
            Err(e) => println!("  {name}: cannot build: {e}"),
        }
    }
    if args.wants(PEERS[2]) {
        let (d, took) = timed(builds, || DoubleArrayAhoCorasick::<u32>::new(words));
        engines.push((
            Engine::DaachorseBytewise(d.expect("daachorse builds")),
            took,
        ));
    }
    if args.wants(PEERS[3]) {
        let strs: Vec<&str> = words
            .iter()
            .map(|w| std::str::from_utf8(w).expect("the word lists are UTF-8"))
            .collect();
        let (d, took) = timed(builds, || CharwiseDoubleArrayAhoCorasick::<u32>::new(&strs));
        engines.push((
            Engine::DaachorseCharwise(d.expect("daachorse builds")),
            took,
        ));
    }
    if args.wants("ceiling") {
        // One dependent load per byte from an L1-sized table: entries stay
        // below its length minus 255, so that `s + byte` is in bounds.
        let mut rng = SplitMix64(SEED);
        let ceiling: Box<[u32]> = (0..CEILING_ENTRIES)
            .map(|_| (rng.next() % (CEILING_ENTRIES - 256) as u64) as u32)
            .collect();
        engines.push((Engine::Ceiling(ceiling), Duration::ZERO));
    }
    engines
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

fn best_peer(rows: &[Row]) -> Option<&Row> {
    rows.iter()
        .filter(|r| r.peer)
        .max_by(|a, b| a.mb_s.total_cmp(&b.mb_s))
}

fn print_size(o: &Outcome) {
    let best = best_peer(&o.rows);
    println!(
        "\n{} N={} ({} not ASCII): {} matches; ours: {}",
        o.lang.name(),
        o.n,
        o.non_ascii,
        o.rows.first().map_or(0, |r| r.matches),
        o.layout
    );
    println!(
        "  {:<20} {:>10} {:>10} {:>9} {:>8}",
        "engine", "build ms", "heap MB", "MB/s", "vs best"
    );
    for r in &o.rows {
        let ratio = best.map_or(String::new(), |b| format!("{:.2}x", r.mb_s / b.mb_s));
        let build = if r.name == "ceiling" {
            "-".to_owned()
        } else {
            format!("{:.2}", r.build.as_secs_f64() * 1e3)
        };
        println!(
            "  {:<20} {build:>10} {:>10.2} {:>9.1} {ratio:>8}",
            r.name,
            r.heap as f64 / 1e6,
            r.mb_s,
        );
    }
}

fn print_summary(outcomes: &[Outcome]) {
    if outcomes.is_empty() {
        return;
    }
    println!("\nsummary: median MB/s, ratio to the fastest peer");
    println!(
        "| language | N | matches | best peer | callback | fixed | reuse | ceiling | ours: layout |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for o in outcomes {
        let Some(best) = best_peer(&o.rows) else {
            continue;
        };
        let cell = |name: &str| {
            o.rows
                .iter()
                .find(|r| r.name == name)
                .map_or("-".to_owned(), |r| {
                    if r.peer || name == "ceiling" {
                        format!("{:.0}", r.mb_s)
                    } else {
                        format!("{:.0} ({:.2}x)", r.mb_s, r.mb_s / best.mb_s)
                    }
                })
        };
        println!(
            "| {} | {} | {} | {} {:.0} | {} | {} | {} | {} | {} |",
            o.lang.name(),
            o.n,
            o.rows.first().map_or(0, |r| r.matches),
            best.name,
            best.mb_s,
            cell("callback"),
            cell("fixed"),
            cell("reuse"),
            cell("ceiling"),
            o.layout
        );
    }
    println!("\nbuild ms and heap MB: ours against daachorse (the better of its two)");
    println!("| language | N | ours build | daachorse build | ours heap | daachorse heap |");
    println!("|---|---|---|---|---|---|");
    for o in outcomes {
        let ours = o.rows.iter().find(|r| r.name == "callback");
        let daac = o
            .rows
            .iter()
            .filter(|r| r.name.starts_with("daachorse"))
            .min_by(|a, b| a.heap.cmp(&b.heap));
        let daac_build = o
            .rows
            .iter()
            .filter(|r| r.name.starts_with("daachorse"))
            .map(|r| r.build)
            .min();
        if let (Some(ours), Some(daac), Some(db)) = (ours, daac, daac_build) {
            println!(
                "| {} | {} | {:.2} | {:.2} | {:.2} | {:.2} |",
                o.lang.name(),
                o.n,
                ours.build.as_secs_f64() * 1e3,
                db.as_secs_f64() * 1e3,
                ours.heap as f64 / 1e6,
                daac.heap as f64 / 1e6
            );
        }
    }
}

/// A short name for a layout, for `--layouts`.
fn layout_name(l: Layout) -> &'static str {
    match l {
        Layout::Auto => "auto",
        Layout::Dense { prefilter: false } => "dense",
        Layout::Dense { prefilter: true } => "dense+pf",
        Layout::DoubleArray {
            charwise: false,
            prefilter: false,
        } => "da-bytes",
        Layout::DoubleArray {
            charwise: false,
            prefilter: true,
        } => "da-bytes+pf",
        Layout::DoubleArray {
            charwise: true,
            prefilter: false,
        } => "da-chars",
        Layout::DoubleArray {
            charwise: true,
            prefilter: true,
        } => "da-chars+pf",
        Layout::Literal { simd: true } => "literal",
        Layout::Literal { simd: false } => "literal-scalar",
    }
}
