//! The `-benchmem`-like table printed after each group: the rows
//! criterion ran, time and throughput beside the fastest peer of the same
//! run, and the exact allocations per op and per call.

use escape_lab::__private::fmt::{group as thousands, ns as fmt_ns, per_call};

use super::record::Row;

/// Prints the `-benchmem`-like table of the rows criterion ran, under
/// `title`: ops counted, time per op, and throughput with its ratio to the
/// fastest peer when a peer ran, then bytes and allocations per op, and per
/// match call when an op makes several. Prints nothing when no row ran.
pub fn print_table(title: &str, rows: &[Row]) {
    let rows: Vec<&Row> = rows.iter().filter(|r| r.ran()).collect();
    if rows.is_empty() {
        return;
    }
    let timed = !super::UNOPTIMISED;
    let best = best_peer(rows.iter().copied());
    let throughput = timed && best.is_some();
    let by_call = rows.iter().any(|r| r.calls_per_op > 1);
    println!("\n{title}");
    let mut header = format!("{:<24} {:>13}", "name", "ops");
    if timed {
        header.push_str(&format!(" {:>11}", "time/op"));
    }
    if throughput {
        header.push_str(&format!(" {:>9} {:>8}", "MB/s", "vs peer"));
    }
    header.push_str(&format!(" {:>13} {:>11}", "B/op", "allocs/op"));
    if by_call {
        header.push_str(&format!(" {:>10} {:>11}", "B/call", "allocs/call"));
    }
    println!("{header}");
    for r in &rows {
        if let Some(e) = &r.error {
            println!("{:<24} error: {e}", r.id);
            continue;
        }
        let mut line = format!("{:<24} {:>13}", marked(r), thousands(r.ops));
        if timed {
            let t = r.ns_per_op().map_or("-".to_owned(), fmt_ns);
            line.push_str(&format!(" {t:>11}"));
        }
        if throughput {
            line.push_str(&format!(" {:>9} {:>8}", mb_s(r), vs(r, best)));
        }
        line.push_str(&format!(
            " {:>13} {:>11}",
            per_call(r.counts.bytes, r.ops),
            per_call(r.counts.allocs, r.ops)
        ));
        if by_call {
            let calls = r.ops * r.calls_per_op;
            line.push_str(&format!(
                " {:>10} {:>11}",
                per_call(r.counts.bytes, calls),
                per_call(r.counts.allocs, calls)
            ));
        }
        println!("{line}");
    }
    print_notes(&rows, timed, best);
}

/// `r`'s id, with ` (p)` when it ran under the profiler.
pub fn marked(r: &Row) -> String {
    if r.profiled {
        format!("{} (p)", r.id)
    } else {
        r.id.clone()
    }
}

fn print_notes(rows: &[&Row], timed: bool, best: Option<(f64, &str)>) {
    println!(
        "ops: every iteration criterion ran, its warm-up included; B and allocs: exact totals over them, divided"
    );
    if timed {
        println!(
            "time/op: mean over the same ops, timed by the bench around the loop it counts; criterion's own estimates are above"
        );
        match best {
            Some((_, id)) => println!(
                "MB/s: 10^6 bytes/s; vs peer: relative to the fastest peer in this run, {id}"
            ),
            None if rows.iter().any(|r| r.bytes_per_op > 0) => {
                println!("MB/s: not shown without a peer from this run to compare with")
            }
            None => {}
        }
    } else {
        println!("times: not shown, this build is unoptimised (cargo test --benches)");
    }
    if rows.iter().any(|r| r.profiled) {
        println!("(p): ran under the profiler (--profile-time); its figures are not written");
    }
}

/// The fastest peer's MB/s among `rows`, and its id, if a peer ran.
pub fn best_peer<'r>(rows: impl Iterator<Item = &'r Row>) -> Option<(f64, &'r str)> {
    rows.filter(|r| r.kind == "peer")
        .filter_map(|r| Some((r.mb_per_s()?, r.id.as_str())))
        .max_by(|a, b| a.0.total_cmp(&b.0))
}

/// `r`'s MB/s with one decimal, or `-`.
pub fn mb_s(r: &Row) -> String {
    r.mb_per_s().map_or("-".to_owned(), |m| format!("{m:.1}"))
}

/// `r`'s MB/s relative to `best`'s, or `-`.
pub fn vs(r: &Row, best: Option<(f64, &str)>) -> String {
    match (r.mb_per_s(), best) {
        (Some(m), Some((b, _))) => format!("{:.2}x", m / b),
        _ => "-".to_owned(),
    }
}
