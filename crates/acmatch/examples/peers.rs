//! Side-by-side speed and memory against the peers, until `cargo bench` has
//! its own: overlapping find-all of a whole dictionary over a whole text, one
//! call, median of several runs, all engines in one process.
//!
//! ```text
//! cargo run --release -p acmatch --example peers -- [DATA_DIR] [RUNS]
//! ```
//!
//! `DATA_DIR` holds `en/` and `cn/` with `dictionary.txt` and `text.txt` (the
//! original benchmark's data); it defaults to `ESCAPE_LAB_DATA` or
//! `../shared/data/article`. Without the data it says so and exits 0.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use acmatch::{Automaton, Cursor, Matcher};

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("ESCAPE_LAB_DATA").map(PathBuf::from))
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/article")
        });
    let runs: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(7);
    for lang in ["en", "cn"] {
        let dict = dir.join(lang).join("dictionary.txt");
        let text = dir.join(lang).join("text.txt");
        let (Ok(dict), Ok(text)) = (std::fs::read(&dict), std::fs::read(&text)) else {
            eprintln!(
                "skipping {lang}: no {} or {}",
                dict.display(),
                text.display()
            );
            continue;
        };
        let patterns = parse(&dict);
        compare(lang, &patterns, &text, runs);
    }
}

/// Trims lines, drops a leading BOM and empty lines (the workload rules).
fn parse(dict: &[u8]) -> Vec<Vec<u8>> {
    let dict = dict.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(dict);
    dict.split(|&b| b == b'\n')
        .map(|l| l.trim_ascii().to_vec())
        .filter(|l| !l.is_empty())
        .collect()
}

/// Counts an iterator's items, keeping each one observable.
fn consume<T>(it: impl Iterator<Item = T>) -> usize {
    it.fold(0, |n, m| {
        black_box(m);
        n + 1
    })
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn time(runs: usize, mut f: impl FnMut() -> usize) -> (Duration, usize) {
    let mut n = 0;
    let times = (0..runs)
        .map(|_| {
            let t = Instant::now();
            n = black_box(f());
            t.elapsed()
        })
        .collect();
    (median(times), n)
}

fn compare(lang: &str, patterns: &[Vec<u8>], text: &[u8], runs: usize) {
    let mb = text.len() as f64 / 1e6;
    println!(
        "\n{lang}: {} patterns, {} bytes of text, median of {runs} runs",
        patterns.len(),
        text.len()
    );
    println!(
        "{:<28} {:>10} {:>9} {:>10} {:>11}",
        "engine", "matches", "MB/s", "build ms", "heap MB"
    );
    let row = |name: &str, build: Duration, heap: usize, t: Duration, n: usize| {
        println!(
            "{name:<28} {n:>10} {:>9.1} {:>10.1} {:>11.2}",
            mb / t.as_secs_f64(),
            build.as_secs_f64() * 1e3,
            heap as f64 / 1e6
        );
        mb / t.as_secs_f64()
    };

    let t = Instant::now();
    let ac = Automaton::new(patterns).unwrap();
    let build = t.elapsed();
    let (tm, n) = time(runs, || {
        acmatch::variant::callback::find(&ac, &mut Cursor::new(), text, |m| {
            black_box(m);
        })
    });
    let ours = row("acmatch callback", build, ac.heap_bytes(), tm, n);
    for variant in [
        acmatch::Variant::Fixed,
        acmatch::Variant::Reuse,
        acmatch::Variant::Callback,
    ] {
        let mut m = variant.matcher();
        let (tm, n) = time(runs, || {
            let mut cursor = Cursor::new();
            acmatch::chunks(text, acmatch::DEFAULT_CHUNK)
                .map(|piece| {
                    m.find_chunk(&ac, &mut cursor, piece, |x| {
                        black_box(x);
                    })
                    .unwrap()
                })
                .sum()
        });
        row(
            &format!("acmatch {variant}, 2,048-byte calls"),
            build,
            ac.heap_bytes(),
            tm,
            n,
        );
    }
    println!(
        "  (trie states {}, symbols {}, charwise {})",
        ac.state_count(),
        ac.symbol_count(),
        ac.is_charwise()
    );
    let ours_heap = ac.heap_bytes();

    let t = Instant::now();
    let da = daachorse::DoubleArrayAhoCorasick::<u32>::new(patterns).unwrap();
    let build = t.elapsed();
    let (tm, n) = time(runs, || consume(da.find_overlapping_iter(text)));
    let mut best = row("daachorse bytewise", build, da.heap_bytes(), tm, n);
    let mut best_heap = da.heap_bytes();

    if let (Ok(text), Ok(pats)) = (
        std::str::from_utf8(text),
        patterns
            .iter()
            .map(|p| std::str::from_utf8(p))
            .collect::<Result<Vec<_>, _>>(),
    ) {
        let t = Instant::now();
        let dc = daachorse::CharwiseDoubleArrayAhoCorasick::<u32>::new(pats).unwrap();
        let build = t.elapsed();
        let (tm, n) = time(runs, || consume(dc.find_overlapping_iter(text)));
        let r = row("daachorse charwise", build, dc.heap_bytes(), tm, n);
        if r > best {
            best = r;
            best_heap = dc.heap_bytes();
        }
    }

    for (name, kind) in [
        (
            "aho-corasick contiguous NFA",
            aho_corasick::AhoCorasickKind::ContiguousNFA,
        ),
        ("aho-corasick DFA", aho_corasick::AhoCorasickKind::DFA),
    ] {
        let t = Instant::now();
        let Ok(a) = aho_corasick::AhoCorasick::builder()
            .kind(Some(kind))
            .build(patterns)
        else {
            println!("{name:<28} (could not build)");
            continue;
        };
        let build = t.elapsed();
        let (tm, n) = time(runs, || consume(a.find_overlapping_iter(text)));
        let r = row(name, build, a.memory_usage(), tm, n);
        if r > best {
            best = r;
            best_heap = a.memory_usage();
        }
    }
    println!(
        "callback / best peer: speed {:.2}x, memory {:.2}x",
        ours / best,
        ours_heap as f64 / best_heap as f64
    );
}
