//! `reach.txt`: a verdict and its ways, as Go prints its escapes.

use std::fmt::Write as _;

use super::{Reach, Verdict};

/// How many panic ways and indirect calls the text lists (all of them are
/// in the JSON).
const LISTED: usize = 12;

/// A chain for one line: up to four names, else the first two, `…` and the
/// last (`Box::new -> alloc::alloc::exchange_malloc -> __rust_alloc`).
///
/// Allocates the string.
#[must_use]
pub fn short_chain(chain: &[String]) -> String {
    if chain.len() <= 4 {
        return chain.join(" -> ");
    }
    format!(
        "{} -> {} -> … -> {}",
        chain[0],
        chain[1],
        chain[chain.len() - 1]
    )
}

/// The text of one scenario's analysis (`reach.txt`): the verdict, then
/// each way as `file:line:col: chain`, then the unresolved indirect calls.
/// `full` prints every chain whole.
///
/// Allocates the text.
#[must_use]
pub fn text(name: &str, r: &Reach, full: bool) -> String {
    let chain = |c: &[String]| if full { c.join(" -> ") } else { short_chain(c) };
    let mut out = String::new();
    let why = match r.verdict {
        Verdict::None => "no way to the allocator",
        Verdict::PanicOnly => "every way to the allocator passes through panic handling",
        Verdict::Indirect => "no way to the allocator outside panics, but calls it cannot follow",
        Verdict::Allocates => "can allocate",
    };
    let _ = writeln!(
        out,
        "{name}: {} ({why}; {} functions reached)",
        r.verdict, r.functions
    );
    for p in &r.paths {
        let _ = writeln!(out, "  {}: {}", p.location, chain(&p.chain));
    }
    if !r.indirect.is_empty() {
        let _ = writeln!(out, "  unresolved indirect calls:");
        for c in r
            .indirect
            .iter()
            .take(if full { usize::MAX } else { LISTED })
        {
            let _ = writeln!(out, "    {}: in {}", c.location, c.function);
        }
        more(&mut out, r.indirect.len(), full);
    }
    if !r.panic_paths.is_empty() && (r.verdict == Verdict::PanicOnly || full) {
        let _ = writeln!(out, "  through panic handling:");
        for p in r
            .panic_paths
            .iter()
            .take(if full { usize::MAX } else { LISTED })
        {
            let _ = writeln!(out, "    {}: {}", p.location, chain(&p.chain));
        }
        more(&mut out, r.panic_paths.len(), full);
    }
    out
}

fn more(out: &mut String, n: usize, full: bool) {
    if !full && n > LISTED {
        let _ = writeln!(out, "    … and {} more (--full lists them)", n - LISTED);
    }
}
