//! Profile your own code with escape-lab: two scenarios of our own, through
//! the same pipeline as the matcher's variants (count, heap and cpu passes in
//! child processes, flamegraphs, allocation sites, summary.json, index.html).
//!
//! ```text
//! cargo run --release -p escape-lab --example custom_scenarios -- [OUT_DIR] [--quick]
//! ```
//!
//! The recipe:
//!
//! 1. install escape-lab's allocator as the global allocator;
//! 2. build the same scenario list in every process (the library re-runs
//!    this binary with the same arguments for each pass);
//! 3. call `escape_lab::__private::profile::run`.

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::PathBuf;
use std::process::ExitCode;

use escape_lab::__private::profile::{self, ProfileOptions};
use escape_lab::Scenario;
use escape_lab::WorkloadInfo;

#[global_allocator]
static ALLOC: escape_lab::Alloc = escape_lab::Alloc;

/// Renders 64 numbers as text per call: once with `format!` (a new `String`
/// for every number), once into one reused `String`.
fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario::new("format_each", || {
            || {
                let mut len = 0;
                for i in 0..64u64 {
                    let s = format!("{}", black_box(i) * 1_000_003);
                    len += black_box(s).len() as u64;
                }
                len
            }
        })
        .describe("format!() per number: one String allocated for each")
        .items("bytes of text"),
        Scenario::new("write_reused", || {
            let mut buf = String::with_capacity(64);
            move || {
                let mut len = 0;
                for i in 0..64u64 {
                    buf.clear();
                    let _ = write!(buf, "{}", black_box(i) * 1_000_003);
                    len += black_box(&buf).len() as u64;
                }
                len
            }
        })
        .describe("write!() into one reused String: no allocation after the first call")
        .items("bytes of text"),
    ]
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let out = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map_or_else(|| PathBuf::from("profiles/custom"), PathBuf::from);
    let mut opts = ProfileOptions {
        out,
        ..ProfileOptions::default()
    };
    opts.settings.quick = quick;
    match profile::run(&scenarios(), WorkloadInfo::default(), &opts) {
        Ok(outcome) => {
            print!("{}", profile::table(&outcome.summary));
            println!("\nreport: {}", outcome.index.display());
            if outcome.failed() > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!(
                "custom_scenarios: {}",
                escape_lab::__private::fmt::error_chain(&e)
            );
            ExitCode::from(2)
        }
    }
}
