//! A hot function with two inlined loops on different lines: a CPU profile
//! that keeps each sample's own instruction puts samples on both loops'
//! lines; one that keys samples by function start puts them all on one.

use std::hint::black_box;

const ROUNDS: u32 = 20_000;

// ALPHA BEGIN
#[inline(always)]
fn helper_alpha(mut x: u64) -> u64 {
    let mut i = 0;
    while i < ROUNDS {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        i += 1;
    }
    x
}
// ALPHA END

// BETA BEGIN
#[inline(always)]
fn helper_beta(mut x: u64) -> u64 {
    let mut i = 0;
    while i < ROUNDS {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        i += 1;
    }
    x
}
// BETA END

/// One call: both loops, once each.
#[inline(never)]
pub fn two_loops(seed: u64) -> u64 {
    let a = black_box(helper_alpha(seed));
    let b = black_box(helper_beta(seed ^ 0x9e37_79b9));
    a ^ b
}
