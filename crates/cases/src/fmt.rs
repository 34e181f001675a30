//! Case 2, `fmt`: `fmt.Println(x)` moves `x` to the heap.
//!
//! **Go.** `fmt.Println(a ...any)` takes its arguments as `interface{}`
//! values, and fmt inspects them by reflection, which escape analysis cannot
//! follow: `go build -gcflags -m` reports `x escapes to heap` for a plain
//! integer passed to `fmt.Println`, so printing a local allocates.
//!
//! **Rust.** Formatting never moves its arguments anywhere: `format_args!`
//! (behind `println!`, `write!` and `format!`) builds a `fmt::Arguments` on
//! the stack that *borrows* `x`, and dispatches to `Display::fmt` through a
//! function pointer. What can allocate is the output: `format!` and
//! `to_string` return a new `String` every call (and `format!` may grow it
//! once more when its capacity estimate is short). `write!` into a `String`
//! or `Vec<u8>` that lives across calls allocates only while that buffer is
//! still growing, that is on the first call. (`println!` itself writes into
//! stdout's line buffer, allocated once per process.)
//!
//! | form | what a call does |
//! |---|---|
//! | `format_macro` | `format!("x = {x}")`: a new `String` (and a regrowth: the estimate is 8 bytes, the text 14) |
//! | `to_string` | `x.to_string()`: a new `String` of exactly the 10 digits |
//! | `write_reused_string` | `write!(buf, "x = {x}")` into a cleared, reused `String`: nothing after the first call |
//!
//! # Allocation
//!
//! [`format_per_call`] and [`to_string_per_call`] allocate a new `String`
//! per call; [`write_reused`] allocates only when `buf` must grow.

use std::fmt::Write as _;
use std::hint::black_box;

use crate::{call, Case, Form};

/// The value every form formats: ten digits.
pub const X: u64 = 1_234_567_890;

/// `format!("x = {x}")`; returns the text's length.
///
/// # Allocation
///
/// A new `String` per call. `format!` sizes it from the literal pieces (twice
/// their length when the text starts with a literal: 8 bytes here) and grows
/// it when the formatted text is longer, so this call allocates twice.
pub fn format_per_call(x: u64) -> usize {
    let s = format!("x = {x}");
    black_box(&s);
    s.len()
}

/// `x.to_string()`; returns the text's length.
///
/// # Allocation
///
/// A new `String` per call, as long as the digits (10 bytes for [`X`]).
pub fn to_string_per_call(x: u64) -> usize {
    let s = x.to_string();
    black_box(&s);
    s.len()
}

/// Clears `buf` and writes `x = {x}` into it; returns the text's length.
///
/// # Allocation
///
/// None once `buf` has held the text; until then, what growing `buf` takes.
pub fn write_reused(buf: &mut String, x: u64) -> usize {
    buf.clear();
    write!(buf, "x = {x}").expect("writing to a String cannot fail");
    black_box(&*buf);
    buf.len()
}

fn format_macro() -> Box<dyn FnMut() -> u64> {
    call(|| format_per_call(black_box(X)) as u64)
}

fn to_string() -> Box<dyn FnMut() -> u64> {
    call(|| to_string_per_call(black_box(X)) as u64)
}

fn write_reused_string() -> Box<dyn FnMut() -> u64> {
    let mut buf = String::new();
    call(move || write_reused(&mut buf, black_box(X)) as u64)
}

/// The `fmt` case.
pub const CASE: Case = Case {
    name: "fmt",
    title: "formatting a value",
    go: "`fmt.Println(x)` passes `x` as an `interface{}` that fmt reflects on: `x` escapes to the heap",
    rust: "formatting borrows `x` (no copy, no box); only an output `String` allocates, and `write!` into a reused buffer does not",
    forms: &[
        Form {
            name: "format_macro",
            description: "format!(\"x = {x}\") per call: a new String, grown once past format!'s estimate",
            setup: format_macro,
        },
        Form {
            name: "to_string",
            description: "x.to_string() per call: a new String as long as the digits",
            setup: to_string,
        },
        Form {
            name: "write_reused_string",
            description: "write!(buf, \"x = {x}\") into a cleared String reused across calls: no allocation after the first call",
            setup: write_reused_string,
        },
    ],
};
