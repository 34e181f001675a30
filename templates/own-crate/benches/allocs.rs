//! escape-lab's entry point for this crate: `cargo bench --bench allocs`
//! profiles the scenarios (allocation sites, flamegraphs, CPU profile),
//! `cargo bench --bench allocs -- check` gates their exact allocation
//! counts against `profiles/baseline.json`.

use escape_lab::{Lab, Scenario};
use own_crate::{fields_into, fields_owned, sample, sum_numbers};

#[global_allocator]
static ALLOC: escape_lab::Alloc = escape_lab::Alloc;

/// Lines per cycle: one call per line, then the sequence repeats.
const LINES: usize = 256;

/// The sample, once per process, for the life of the process: scenarios
/// borrow lines from it.
fn lines() -> Vec<&'static str> {
    let text: &'static str = Box::leak(sample(LINES).into_boxed_str());
    text.lines().collect()
}

/// One scenario per form: each call handles the next line of the sample.
fn scenarios() -> Vec<Scenario> {
    let bytes = sample(LINES).len() as u64;
    let calls = LINES as u64;
    vec![
        Scenario::new("fields_owned", || {
            let lines = lines();
            let mut i = 0;
            move || {
                i = (i + 1) % lines.len();
                fields_owned(lines[i]).len()
            }
        })
        .describe("one String per field and a Vec per line")
        .items("fields")
        .cycle(calls, bytes),
        Scenario::new("fields_into", || {
            let lines = lines();
            let mut buf = Vec::new();
            let mut i = 0;
            move || {
                i = (i + 1) % lines.len();
                buf.clear();
                fields_into(lines[i], &mut buf)
            }
        })
        .describe("slices into a reused buffer: nothing per line")
        .items("fields")
        .cycle(calls, bytes),
        Scenario::new("sum_numbers", || {
            let lines = lines();
            let mut i = 0;
            move || {
                i = (i + 1) % lines.len();
                sum_numbers(lines[i])
            }
        })
        .describe("parses the numeric fields in place")
        .cycle(calls, bytes),
    ]
}

fn main() -> std::process::ExitCode {
    Lab::new(scenarios())
        .compare("fields_owned", "fields_into")
        .main()
}
