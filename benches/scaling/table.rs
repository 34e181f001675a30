//! The scaling bench's table: one language's heading, then per size every
//! engine's MB/s, ratio to the fastest peer (and to Hyperscan), exact
//! allocations, build time and heap bytes.

use std::time::Duration;

use acmatch::DEFAULT_CHUNK;
use escape_lab::__private::fmt::{group as thousands, ns as fmt_ns, per_call};
use workload::scaling::Corpus;

use crate::build::BUILDS;
use crate::common;
use crate::common::engines::Kind;
use crate::common::record::Row;
use crate::common::table::{best_peer, mb_s, vs};

/// What the table shows beside a benchmark's row.
pub(crate) struct Extra {
    pub(crate) engine: &'static str,
    pub(crate) size: usize,
    pub(crate) build: Option<Duration>,
    pub(crate) heap_bytes: Option<usize>,
}

/// A size as the table heads it.
pub(crate) struct SizeInfo {
    pub(crate) label: String,
    pub(crate) patterns: usize,
    pub(crate) not_ascii: usize,
    /// Matches per op and our automaton's layout, when a benchmark of this
    /// size ran.
    pub(crate) ran: Option<(u64, String)>,
    /// The literal rows' layout, when one of them ran.
    pub(crate) literal: Option<String>,
}

/// The numbers a language's table is headed with.
pub(crate) struct Head<'a> {
    pub(crate) group_name: &'a str,
    pub(crate) full_words: usize,
    pub(crate) bytes: u64,
    pub(crate) calls: u64,
}

/// Prints one language's table under its heading.
pub(crate) fn print_run(
    head: &Head<'_>,
    corpus: &Corpus,
    sizes: &[SizeInfo],
    rows: &[Row],
    extras: &[Extra],
) {
    let group_name = head.group_name;
    let cut = if common::UNOPTIMISED {
        format!(
            " (cut: unoptimised build; the whole list is {} of its {} words)",
            thousands(corpus.words.len() as u64),
            thousands(head.full_words as u64)
        )
    } else {
        String::new()
    };
    print_table(
        &format!(
            "{group_name}: {} words ({} not ASCII) over {} bytes of {} prose{cut}; one op = one pass: {} calls of {} bytes for our variants, one find-all for the peers",
            thousands(corpus.words.len() as u64),
            thousands(corpus.not_ascii() as u64),
            thousands(head.bytes),
            corpus.lang.name(),
            thousands(head.calls),
            thousands(DEFAULT_CHUNK as u64),
        ),
        sizes,
        rows,
        extras,
    );
}

fn print_table(title: &str, sizes: &[SizeInfo], rows: &[Row], extras: &[Extra]) {
    let timed = !common::UNOPTIMISED;
    let frontier = rows
        .iter()
        .any(|r| r.ran() && r.kind == Kind::Frontier.name());
    println!("\n{title}");
    for (at, size) in sizes.iter().enumerate() {
        let here: Vec<(&Row, &Extra)> = rows
            .iter()
            .zip(extras)
            .filter(|(r, x)| x.size == at && r.ran())
            .collect();
        if here.is_empty() {
            continue;
        }
        let (matches, layout) = size
            .ran
            .as_ref()
            .map_or(("-".to_owned(), "-"), |(m, l)| (thousands(*m), l.as_str()));
        let literal = size
            .literal
            .as_deref()
            .map_or(String::new(), |l| format!("; *-literal: {l}"));
        println!(
            "\nN = {} ({} words, {} not ASCII): {matches} matches per op; ours: {layout}{literal}",
            size.label,
            thousands(size.patterns as u64),
            thousands(size.not_ascii as u64),
        );
        // The fastest peer of this size, and Hyperscan, in this run.
        let best = best_peer(here.iter().map(|(r, _)| *r));
        let hs = here
            .iter()
            .find(|(r, _)| r.kind == Kind::Frontier.name())
            .and_then(|(r, _)| Some((r.mb_per_s()?, r.id.as_str())));
        let mut header = format!("{:<20}", "engine");
        if timed {
            header.push_str(&format!(" {:>9} {:>8}", "MB/s", "vs peer"));
            if frontier {
                header.push_str(&format!(" {:>7}", "vs hs"));
            }
        }
        header.push_str(&format!(" {:>13} {:>11}", "B/op", "allocs/op"));
        if timed {
            header.push_str(&format!(" {:>10}", "build"));
        }
        header.push_str(&format!(" {:>13}", "heap bytes"));
        println!("{header}");
        for (r, x) in here {
            let name = if r.profiled {
                format!("{} (p)", x.engine)
            } else {
                x.engine.to_owned()
            };
            if let Some(e) = &r.error {
                println!("{name:<20} error: {e}");
                continue;
            }
            let mut line = format!("{name:<20}");
            if timed {
                // MB/s only beside a peer of this size from this run.
                let mbs = if best.is_some() || hs.is_some() {
                    mb_s(r)
                } else {
                    "-".to_owned()
                };
                line.push_str(&format!(" {mbs:>9} {:>8}", vs(r, best)));
                if frontier {
                    line.push_str(&format!(" {:>7}", vs(r, hs)));
                }
            }
            line.push_str(&format!(
                " {:>13} {:>11}",
                per_call(r.counts.bytes, r.ops),
                per_call(r.counts.allocs, r.ops)
            ));
            if timed {
                let build = x
                    .build
                    .map_or("-".to_owned(), |d| fmt_ns(d.as_nanos() as f64));
                line.push_str(&format!(" {build:>10}"));
            }
            let heap = x.heap_bytes.map_or("-".to_owned(), |h| thousands(h as u64));
            line.push_str(&format!(" {heap:>13}"));
            println!("{line}");
        }
    }
    println!(
        "\nB and allocs: exact totals over every op criterion ran (its warm-up included), divided; heap bytes: each crate's own figure (acmatch heap_bytes, aho-corasick memory_usage, daachorse heap_bytes, Hyperscan hs_database_size)"
    );
    if timed {
        println!(
            "MB/s: 10^6 bytes/s, mean over the same ops, timed by the bench around the loop it counts (criterion's own estimates are above); shown only beside a peer of the same N from this run; vs peer: relative to the fastest of aho-corasick and daachorse at that N{}",
            if frontier {
                "; vs hs: relative to Hyperscan"
            } else {
                ""
            }
        );
        println!(
            "build: median of {BUILDS} builds; our variants share one automaton, hence one build"
        );
    } else {
        println!("times: not shown, this build is unoptimised (cargo test --benches)");
    }
    if rows.iter().any(|r| r.profiled) {
        println!("(p): ran under the profiler (--profile-time); its figures are not written");
    }
}
