//! Which layout each built-in workload gets: dense table or double array,
//! bytes or characters, with or without the prefilter.
//!
//! ```text
//! cargo run --release -p acmatch --example layouts
//! ```

use acmatch::Automaton;
use workload::{load_builtin, Builtin};

fn main() {
    for which in Builtin::ALL {
        match load_builtin(which, None) {
            Ok(w) => {
                let ac = Automaton::new(&w.patterns).expect("workload patterns build");
                println!(
                    "{:<14} {:>8} patterns, shortest {:>2} bytes: dense {}, charwise {}, prefilter {}, {} states, {:.2} MB",
                    which.name(),
                    w.patterns.len(),
                    w.patterns.iter().map(Vec::len).min().unwrap_or(0),
                    ac.is_dense(),
                    ac.is_charwise(),
                    ac.has_prefilter(),
                    ac.state_count(),
                    ac.heap_bytes() as f64 / 1e6
                );
            }
            Err(e) => println!("{:<14} skipped: {e}", which.name()),
        }
    }
}
