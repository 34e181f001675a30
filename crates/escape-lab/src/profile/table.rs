//! What a run prints: the terminal table; and opening the page.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::fmt;
use crate::model::Summary;

/// Opens a file with the desktop's default program (`xdg-open`, or `open`
/// on macOS); prints a note instead when that fails.
///
/// Allocates the command line of the opener.
pub fn open(path: &Path) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let ok = Command::new(opener)
        .arg(path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!(
            "escape-lab: could not open {} with {opener}; open it in a browser",
            path.display()
        );
    }
}

/// The closing table: scenario, MB/s, items, allocations and bytes per
/// call, peak live bytes, status.
///
/// # Allocation
///
/// The returned `String`.
#[must_use]
pub fn table(summary: &Summary) -> String {
    let mut out = format!(
        "{:<28} {:>9} {:>11} {:>12} {:>14} {:>12} {:>12}  {}\n",
        "scenario",
        "MB/s",
        "items/call",
        "allocs/call",
        "B/call",
        "peak live B",
        "instr/call",
        "status"
    );
    for s in &summary.scenarios {
        let mbs = s
            .per_call
            .mb_per_s
            .map_or("-".into(), |v| format!("{v:.1}"));
        let status = match s.status.error() {
            None => "ok".to_string(),
            Some(e) => format!("FAILED: {}", fmt::headline(&e)),
        };
        let items = match (&s.items_unit, s.count) {
            (Some(_), Some(_)) => format!("{:.1}", s.per_call.items),
            _ => "-".to_string(),
        };
        let (allocs, bytes) = s.count.map_or(("-".into(), "-".into()), |c| {
            (
                fmt::per_call(c.allocs, c.calls),
                fmt::per_call(c.bytes, c.calls),
            )
        });
        let peak = s.heap.map_or("-".into(), |h| fmt::group(h.peak_live_bytes));
        let instr = s
            .instr
            .as_ref()
            .map_or("-".into(), |i| fmt::per_call(i.instructions, i.calls));
        out.push_str(&format!(
            "{:<28} {mbs:>9} {items:>11} {allocs:>12} {bytes:>14} {peak:>12} {instr:>12}  {status}\n",
            s.name
        ));
    }
    out
}
