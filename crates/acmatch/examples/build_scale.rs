//! How build time and memory grow with the number of patterns, up to a
//! million: random lowercase words (bytewise) and random CJK words
//! (charwise), generated here with a fixed seed.
//!
//! ```text
//! cargo run --release -p acmatch --example build_scale -- [MAX_PATTERNS]
//! ```

use std::time::Instant;

use acmatch::Automaton;

fn main() {
    let max: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        // SplitMix64
        seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    println!(
        "{:<10} {:>10} {:>10} {:>10} {:>10}",
        "kind", "patterns", "states", "build ms", "heap MB"
    );
    for kind in ["latin", "cjk"] {
        let mut n = 1000;
        while n <= max {
            let patterns: Vec<Vec<u8>> = (0..n)
                .map(|_| {
                    let len = 2 + (next() % 10) as usize;
                    let mut p = Vec::new();
                    for _ in 0..len {
                        if kind == "latin" {
                            p.push(b'a' + (next() % 26) as u8);
                        } else {
                            let c = char::from_u32(0x4E00 + (next() % 6000) as u32).unwrap();
                            p.extend_from_slice(c.to_string().as_bytes());
                        }
                    }
                    p
                })
                .collect();
            let t = Instant::now();
            let ac = Automaton::new(&patterns).unwrap();
            println!(
                "{kind:<10} {n:>10} {:>10} {:>10.1} {:>10.2}",
                ac.state_count(),
                t.elapsed().as_secs_f64() * 1e3,
                ac.heap_bytes() as f64 / 1e6
            );
            n *= 10;
        }
    }
}
