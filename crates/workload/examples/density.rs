//! Prints what a matcher sees in each built-in workload: sizes, generation
//! time, and the density of overlapping matches measured with `aho-corasick`.
//!
//! ```text
//! cargo run -p workload --release --example density [NAME...]
//! ```
//!
//! With no name, every built-in workload (the article ones only when their
//! data is found). This is how the figures in the README were measured.

use std::time::Instant;

use aho_corasick::{AhoCorasick, MatchKind};
use workload::{article_dir, load_builtin, Builtin, Workload};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let names: Vec<String> = std::env::args().skip(1).collect();
    let which: Vec<Builtin> = if names.is_empty() {
        Builtin::ALL
            .into_iter()
            .filter(|b| !b.needs_data() || article_dir(None).is_some())
            .collect()
    } else {
        names.iter().map(|n| n.parse()).collect::<Result<_, _>>()?
    };
    for b in which {
        let start = Instant::now();
        let w = load_builtin(b, None)?;
        let took = start.elapsed();
        report(&w, took.as_secs_f64() * 1e3)?;
    }
    Ok(())
}

fn report(w: &Workload, millis: f64) -> Result<(), Box<dyn std::error::Error>> {
    let ac = AhoCorasick::builder()
        .match_kind(MatchKind::Standard)
        .build(&w.patterns)?;
    let hay = &w.haystack;
    let mut matches = 0usize;
    let mut ends = vec![false; hay.len() + 1];
    let mut by_len = [0usize; 9];
    for m in ac.find_overlapping_iter(hay) {
        matches += 1;
        ends[m.end()] = true;
        by_len[m.len().min(by_len.len() - 1)] += 1;
    }
    let end_positions = ends.iter().filter(|&&e| e).count();
    let n = hay.len() as f64;
    println!("{} ({:.1} ms to load)", w.name, millis);
    println!(
        "  {} patterns ({} bytes), haystack {} bytes",
        w.patterns.len(),
        w.pattern_bytes(),
        hay.len()
    );
    println!(
        "  {} matches = {:.3}/byte, {} end positions = {:.3}/byte",
        matches,
        matches as f64 / n,
        end_positions,
        end_positions as f64 / n
    );
    let head = hay.len().min(2048);
    let head_matches = ac.find_overlapping_iter(&hay[..head]).count();
    let head_ends = ends[1..=head].iter().filter(|&&e| e).count();
    println!("  first {head} bytes: {head_matches} matches at {head_ends} end positions");
    let shares: Vec<String> = by_len
        .iter()
        .enumerate()
        .skip(1)
        .map(|(len, &c)| {
            format!(
                "{len}{}:{:.0}%",
                if len == 8 { "+" } else { "" },
                100.0 * c as f64 / matches.max(1) as f64
            )
        })
        .collect();
    println!("  match length shares: {}", shares.join(" "));
    Ok(())
}
