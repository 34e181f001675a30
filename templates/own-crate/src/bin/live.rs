//! The template's hot path as a program that runs, with Go's
//! `/debug/pprof/` endpoints on: what a service leaves on in production.
//!
//! ```sh
//! cargo run --release --features live --bin live            # 127.0.0.1:6060, until Ctrl-C
//! go tool pprof -top http://127.0.0.1:6060/debug/pprof/allocs
//! go tool pprof -list 'own_crate::fields_owned' http://127.0.0.1:6060/debug/pprof/profile?seconds=10
//! ```
//!
//! Arguments: the address (default `127.0.0.1:6060`) and, optionally, for
//! how many seconds to run.

use std::time::{Duration, Instant};

// The sampling heap profiler (Go's MemProfileRate scheme) over the system
// allocator: what /heap and /allocs report.
#[global_allocator]
static ALLOC: escape_lab::live::SamplingAlloc = escape_lab::live::SamplingAlloc::system();

fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:6060".to_owned());
    let seconds = match args.next().map(|s| s.parse::<u64>()) {
        None => None,
        Some(Ok(s)) => Some(s),
        Some(Err(e)) => {
            eprintln!("live: the second argument is a number of seconds: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let handle = match escape_lab::live::serve(&addr) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("live: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    println!("profiles at {}", handle.url());
    let deadline = seconds.and_then(|s| Instant::now().checked_add(Duration::from_secs(s)));
    let line = "12, apples, 7, pears, 30, plums";
    let mut kept: Vec<Vec<String>> = Vec::new();
    let mut buf: Vec<&str> = Vec::new();
    while deadline.is_none_or(|d| Instant::now() < d) {
        for _ in 0..1_000 {
            std::hint::black_box(own_crate::fields_owned(line));
            buf.clear();
            std::hint::black_box(own_crate::fields_into(line, &mut buf));
        }
        // Some of it stays in use, for the heap profile's in-use view.
        kept.push(own_crate::fields_owned(line));
        if kept.len() == 10_000 {
            kept.clear();
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    std::process::ExitCode::SUCCESS
}
