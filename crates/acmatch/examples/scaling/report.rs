//! What the example prints: one table per size as it is measured, and the
//! summary tables at the end.

use std::time::Duration;

use acmatch::Layout;
use workload::scaling::Lang;

/// One engine's figures at one size.
pub(crate) struct Row {
    pub(crate) name: String,
    pub(crate) peer: bool,
    pub(crate) build: Duration,
    pub(crate) heap: usize,
    pub(crate) matches: u64,
    pub(crate) mb_s: f64,
}

/// One size's result, for the summary.
pub(crate) struct Outcome {
    pub(crate) lang: Lang,
    pub(crate) n: usize,
    /// Words of the sample that are not ASCII.
    pub(crate) non_ascii: usize,
    pub(crate) layout: String,
    pub(crate) rows: Vec<Row>,
}

pub(crate) fn best_peer(rows: &[Row]) -> Option<&Row> {
    rows.iter()
        .filter(|r| r.peer)
        .max_by(|a, b| a.mb_s.total_cmp(&b.mb_s))
}

pub(crate) fn print_size(o: &Outcome) {
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

pub(crate) fn print_summary(outcomes: &[Outcome]) {
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
pub(crate) fn layout_name(l: Layout) -> &'static str {
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
