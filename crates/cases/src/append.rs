//! Case 6, `append`: appending beyond capacity reallocates.
//!
//! **Go.** `append` writes into the slice's backing array while there is
//! room; beyond its capacity it allocates a larger array and copies. The
//! article gives the growth rule as "double the capacity below 1,024
//! elements, then grow by 1.25×", which is `runtime.growslice` up to Go 1.17:
//!
//! ```text
//! newcap = old.cap; doublecap = 2 * old.cap
//! if needed > doublecap        { newcap = needed }
//! else if old.cap < 1024       { newcap = doublecap }
//! else { for newcap < needed   { newcap += newcap / 4 } }
//! ```
//!
//! That is the rule modelled in [`go_article_growth`] and the "Go, article
//! rule" columns below. Two things make a real Go runtime differ, and both are
//! left out: since Go 1.18 the threshold is 256 and the step is
//! `newcap += (newcap + 3*256) / 4`, a smooth change from 2× to 1.25×
//! (modelled in [`go_1_18_growth`], the "Go ≥ 1.18" columns); and every new
//! capacity is rounded up to a malloc size class. For 8-byte elements the
//! rounding changes nothing while capacities are powers of two up to 1,024
//! (8 KiB), so the 10 and 1,000 rows of the article rule are what Go ≤ 1.17
//! allocates; beyond that the Go columns are the rule's arithmetic, not a
//! runtime's measurement. All Go figures are **computed**, for `[]int64`
//! appended one element at a time to a nil slice.
//!
//! **Rust.** `Vec::push` beyond capacity reallocates too. std's rule
//! (`RawVec::grow_amortized`): the new capacity is the larger of twice the old
//! one and the required length, and at least a minimum that depends on the
//! element size: 8 for 1-byte elements, 4 for elements up to 1 KiB (so 4 for
//! the `u64` used here), 1 above that. It doubles forever; there is no 1.25×
//! phase. [`rust_vec_growth`] models it, and the Rust columns are measured
//! with the counting allocator (each `realloc` counts as one allocation of
//! its new size, just as each new array counts in Go's `allocs/op` and
//! `B/op`).
//! `Vec::with_capacity(n)` allocates once and never grows, which is the
//! Rust spelling of `make([]T, 0, n)`.
//!
//! Pushing N `u64`s one at a time into an empty `Vec` (Rust, measured by
//! `tests/counts.rs`), against appending N `int64`s to a nil slice (Go,
//! computed):
//!
//! | N | Rust, measured: allocs | bytes | Go, article rule, computed: allocs | bytes | Go ≥ 1.18 rule, computed: allocs | bytes |
//! |---:|---:|---:|---:|---:|---:|---:|
//! | 10 | 3 | 224 | 5 | 248 | 5 | 248 |
//! | 1,000 | 9 | 16,352 | 11 | 16,376 | 12 | 24,696 |
//! | 1,000,000 | 19 | 16,777,184 | 42 | 41,312,880 | 40 | 41,110,128 |
//!
//! The forms keep each call well under a millisecond, so they push 1,000
//! elements; the table's other rows are measured by the tests only.
//!
//! | form | what a call does |
//! |---|---|
//! | `push_1000` | pushes 1,000 `u64`s into a new `Vec`: 9 allocations (capacity 4, 8, …, 1,024) |
//! | `with_capacity_1000` | the same into `Vec::with_capacity(1000)`: one allocation |
//! | `reused_1000` | the same into a cleared `Vec` reused across calls: nothing after the first call |
//!
//! # Allocation
//!
//! [`push_n`]: the growth steps of [`rust_vec_growth`]. [`push_n_presized`]:
//! one allocation of `8 * n` bytes. [`push_n_reused`]: none once the `Vec`
//! has held `n` elements.

use std::hint::black_box;

use crate::{call, Case, Form};

/// Allocations and bytes of growing a buffer one element at a time.
///
/// # Allocation
///
/// A plain `Copy` value: never allocates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Growth {
    /// Allocations (each reallocation counts as one).
    pub allocs: u64,
    /// Bytes of all those allocations (each one's new size).
    pub bytes: u64,
}

/// One row of the growth table.
///
/// # Allocation
///
/// A plain `Copy` value: never allocates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GrowthRow {
    /// Elements pushed.
    pub n: u64,
    /// Rust, measured: `Vec<u64>` from empty.
    pub rust: Growth,
    /// Go, computed with the article's rule ([`go_article_growth`]).
    pub go_article: Growth,
    /// Go, computed with the Go ≥ 1.18 rule ([`go_1_18_growth`]).
    pub go_1_18: Growth,
}

/// The growth table of the module docs and the README, for 8-byte elements.
/// `tests/counts.rs` checks the Rust figures against the counting allocator
/// and the Go figures against the models.
pub const GROWTH: [GrowthRow; 3] = [
    GrowthRow {
        n: 10,
        rust: Growth {
            allocs: 3,
            bytes: 224,
        },
        go_article: Growth {
            allocs: 5,
            bytes: 248,
        },
        go_1_18: Growth {
            allocs: 5,
            bytes: 248,
        },
    },
    GrowthRow {
        n: 1_000,
        rust: Growth {
            allocs: 9,
            bytes: 16_352,
        },
        go_article: Growth {
            allocs: 11,
            bytes: 16_376,
        },
        go_1_18: Growth {
            allocs: 12,
            bytes: 24_696,
        },
    },
    GrowthRow {
        n: 1_000_000,
        rust: Growth {
            allocs: 19,
            bytes: 16_777_184,
        },
        go_article: Growth {
            allocs: 42,
            bytes: 41_312_880,
        },
        go_1_18: Growth {
            allocs: 40,
            bytes: 41_110_128,
        },
    },
];

/// Elements the forms push per call.
pub const N: usize = 1_000;

/// Growth of a buffer of `elem_size`-byte elements appended one at a time
/// from empty, `n` times, with `next(old_cap, needed)` giving each new
/// capacity.
fn grow(n: u64, elem_size: u64, next: impl Fn(u64, u64) -> u64) -> Growth {
    let (mut cap, mut g) = (0, Growth::default());
    for len in 0..n {
        if len == cap {
            cap = next(cap, len + 1);
            g.allocs += 1;
            g.bytes += cap * elem_size;
        }
    }
    g
}

/// std's `Vec` growth, modelled: `max(2 * cap, needed)`, at least 8 for
/// 1-byte elements, 4 up to 1 KiB, 1 above.
///
/// # Allocation
///
/// Never allocates.
#[must_use]
pub fn rust_vec_growth(n: u64, elem_size: u64) -> Growth {
    let min = match elem_size {
        1 => 8,
        2..=1024 => 4,
        _ => 1,
    };
    grow(n, elem_size, |cap, needed| (2 * cap).max(needed).max(min))
}

/// Go's slice growth by the article's rule (Go ≤ 1.17 `growslice`, without
/// size-class rounding): double below a capacity of 1,024, then 1.25×.
///
/// # Allocation
///
/// Never allocates.
#[must_use]
pub fn go_article_growth(n: u64, elem_size: u64) -> Growth {
    grow(n, elem_size, |cap, needed| {
        if needed > 2 * cap {
            needed
        } else if cap < 1024 {
            2 * cap
        } else {
            let mut c = cap;
            while c < needed {
                c += c / 4;
            }
            c
        }
    })
}

/// Go's slice growth since Go 1.18 (`nextslicecap`, without size-class
/// rounding): double below a capacity of 256, then add
/// `(newcap + 3*256) / 4` until it fits.
///
/// # Allocation
///
/// Never allocates.
#[must_use]
pub fn go_1_18_growth(n: u64, elem_size: u64) -> Growth {
    const THRESHOLD: u64 = 256;
    grow(n, elem_size, |cap, needed| {
        if needed > 2 * cap {
            needed
        } else if cap < THRESHOLD {
            2 * cap
        } else {
            let mut c = cap;
            while c < needed {
                c += (c + 3 * THRESHOLD) / 4;
            }
            c
        }
    })
}

/// Pushes `0..n` into a new `Vec` one at a time; returns it.
///
/// # Allocation
///
/// [`rust_vec_growth`]`(n, 8)`: capacity 4, then doubling.
#[must_use]
pub fn push_n(n: usize) -> Vec<u64> {
    let mut v = Vec::new();
    for i in 0..n as u64 {
        v.push(black_box(i));
    }
    black_box(v)
}

/// Pushes `0..n` into `Vec::with_capacity(n)`; returns it.
///
/// # Allocation
///
/// One allocation of `8 * n` bytes.
#[must_use]
pub fn push_n_presized(n: usize) -> Vec<u64> {
    let mut v = Vec::with_capacity(n);
    for i in 0..n as u64 {
        v.push(black_box(i));
    }
    black_box(v)
}

/// Clears `v` and pushes `0..n` into it; returns the new length.
///
/// # Allocation
///
/// None once `v` has held `n` elements.
pub fn push_n_reused(v: &mut Vec<u64>, n: usize) -> usize {
    v.clear();
    for i in 0..n as u64 {
        v.push(black_box(i));
    }
    black_box(&*v).len()
}

fn push_1000() -> Box<dyn FnMut() -> u64> {
    call(|| push_n(black_box(N)).len() as u64)
}

fn with_capacity_1000() -> Box<dyn FnMut() -> u64> {
    call(|| push_n_presized(black_box(N)).len() as u64)
}

fn reused_1000() -> Box<dyn FnMut() -> u64> {
    let mut v = Vec::new();
    call(move || push_n_reused(&mut v, black_box(N)) as u64)
}

/// The `append` case.
pub const CASE: Case = Case {
    name: "append",
    title: "appending beyond capacity",
    go: "`append` beyond capacity allocates a larger array and copies (article: 2× below 1,024 elements, then 1.25×)",
    rust: "`push` beyond capacity reallocates too (2×, from a minimum of 4 for 8-byte elements); `with_capacity` allocates once, a reused `Vec` never again",
    forms: &[
        Form {
            name: "push_1000",
            description: "pushes 1,000 u64s into a new Vec: a reallocation each time the capacity (4, 8, ..., 1,024) runs out",
            setup: push_1000,
        },
        Form {
            name: "with_capacity_1000",
            description: "pushes 1,000 u64s into Vec::with_capacity(1000): one 8,000-byte allocation",
            setup: with_capacity_1000,
        },
        Form {
            name: "reused_1000",
            description: "pushes 1,000 u64s into a cleared Vec reused across calls: no allocation after the first call",
            setup: reused_1000,
        },
    ],
};
