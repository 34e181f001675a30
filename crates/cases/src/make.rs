//! Case 5, `make`: a size known only at run time goes to the heap, and so
//! does anything large.
//!
//! **Go.** `make([]T, n)` with `n` known only at run time goes to the heap:
//! a stack frame has a size fixed at compile time. `make([]T, 256)` with a
//! small constant size can stay on the stack. And Go moves implicitly
//! allocated slices over 64 KB (`make`, `new`, `&T{}`) to the heap even when
//! the size is constant: goroutine stacks start small and grow by copying, so
//! large objects are kept off them.
//!
//! **Rust.** The same split, made by the programmer instead of the compiler:
//! `Vec::with_capacity(n)` is a heap allocation whatever `n` is, and an array
//! `[T; N]` (`N` a constant) is a value that lives in the stack frame, whatever
//! `N` is. Rust never moves a large array to the heap for you: a 64 KiB array
//! is 64 KiB of stack, zero allocations. That is fine on the main thread
//! (8 MiB of stack by default on Linux, `ulimit -s`), but threads spawned by
//! `std::thread` get 2 MiB unless `Builder::stack_size` or `RUST_MIN_STACK`
//! says otherwise (the test harness's threads too), and debug builds can hold
//! several copies of an array that is moved around. Overflowing the stack is
//! not undefined behaviour: the guard page stops it and the process aborts
//! with `thread '…' has overflowed its stack`. For large or run-time-sized
//! buffers, `vec![0; n]` (one zeroed allocation) or `Box<[T]>` (the same
//! allocation without spare capacity, a two-word handle) put the bytes on the
//! heap explicitly. Beware `Box::new([0u8; N])`: it builds the array on the
//! stack first and copies it, at least in debug builds, so it has the stack
//! risk *and* the allocation; build a boxed slice from a `Vec` instead.
//!
//! | form | what a call does |
//! |---|---|
//! | `with_capacity_runtime_n` | `Vec::<u64>::with_capacity(n)` with `n = 256` from `black_box`, filled: one 2 KiB allocation |
//! | `array_const_n` | a `[u64; 256]` on the stack, filled: nothing |
//! | `array_64k` | a `[u8; 65536]` on the stack: nothing, and 64 KiB of stack |
//! | `vec_64k` | `vec![0u8; n]`, `n = 65536`: one zeroed 64 KiB allocation |
//! | `boxed_slice_64k` | the same as a `Box<[u8]>`: one 64 KiB allocation |
//!
//! # Allocation
//!
//! [`fill_vec`]: one allocation of `8 * n` bytes. [`fill_array`]: none.
//! [`zeroed_vec`] and [`zeroed_boxed_slice`]: one allocation of `n` bytes.
//! Every form's stack use stays at or below 64 KiB.

use std::hint::black_box;

use crate::{call, Case, Form};

/// The small size: 256 `u64`s, 2 KiB.
pub const SMALL: usize = 256;

/// The large size, Go's threshold: 65,536 bytes.
pub const LARGE: usize = 64 * 1024;

/// A `Vec` of `n` `u64`s, filled with `0..n`; returns their sum.
///
/// # Allocation
///
/// One allocation of `8 * n` bytes, freed before returning.
pub fn fill_vec(n: usize) -> u64 {
    let mut v: Vec<u64> = Vec::with_capacity(n);
    v.extend(0..n as u64);
    black_box(&v).iter().sum()
}

/// An array of `N` `u64`s on the stack, filled with `0..N`; returns their
/// sum.
///
/// # Allocation
///
/// Never allocates; uses `8 * N` bytes of stack.
pub fn fill_array<const N: usize>() -> u64 {
    let mut a = [0u64; N];
    for (i, x) in a.iter_mut().enumerate() {
        *x = black_box(i as u64);
    }
    black_box(&a).iter().sum()
}

/// A zeroed `Vec<u8>` of `n` bytes with one byte set; returns its length.
///
/// # Allocation
///
/// One zeroed allocation of `n` bytes, freed before returning.
pub fn zeroed_vec(n: usize) -> usize {
    let mut v = vec![0u8; n];
    v[n / 2] = 1;
    black_box(&v).len()
}

/// A zeroed `Box<[u8]>` of `n` bytes with one byte set; returns its length.
///
/// # Allocation
///
/// One zeroed allocation of `n` bytes (the `Vec` it is built from has no
/// spare capacity, so nothing is reallocated), freed before returning.
pub fn zeroed_boxed_slice(n: usize) -> usize {
    let mut b: Box<[u8]> = vec![0u8; n].into_boxed_slice();
    b[n / 2] = 1;
    black_box(&b).len()
}

fn with_capacity_runtime_n() -> Box<dyn FnMut() -> u64> {
    call(|| fill_vec(black_box(SMALL)))
}

fn array_const_n() -> Box<dyn FnMut() -> u64> {
    call(fill_array::<SMALL>)
}

fn array_64k() -> Box<dyn FnMut() -> u64> {
    call(|| {
        let mut a = [0u8; LARGE];
        a[black_box(LARGE / 2)] = 1;
        black_box(&a).len() as u64
    })
}

fn vec_64k() -> Box<dyn FnMut() -> u64> {
    call(|| zeroed_vec(black_box(LARGE)) as u64)
}

fn boxed_slice_64k() -> Box<dyn FnMut() -> u64> {
    call(|| zeroed_boxed_slice(black_box(LARGE)) as u64)
}

/// The `make` case.
pub const CASE: Case = Case {
    name: "make",
    title: "run-time sizes and large buffers",
    go: "`make([]T, n)` with `n` known only at run time goes to the heap, a small constant one stays on the stack, and over 64 KB goes to the heap",
    rust: "`Vec::with_capacity(n)` is always one allocation, an array `[T; N]` never is, at any size: 64 KiB of stack is fine on an 8 MiB main thread, risky on a 2 MiB spawned one",
    forms: &[
        Form {
            name: "with_capacity_runtime_n",
            description: "Vec::<u64>::with_capacity(n), n = 256 known at run time, filled: one 2 KiB allocation",
            setup: with_capacity_runtime_n,
        },
        Form {
            name: "array_const_n",
            description: "a [u64; 256] on the stack, filled: no allocation",
            setup: array_const_n,
        },
        Form {
            name: "array_64k",
            description: "a [u8; 65536] on the stack: no allocation, 64 KiB of stack",
            setup: array_64k,
        },
        Form {
            name: "vec_64k",
            description: "vec![0u8; n], n = 65536: one zeroed 64 KiB allocation",
            setup: vec_64k,
        },
        Form {
            name: "boxed_slice_64k",
            description: "vec![0u8; n].into_boxed_slice(), n = 65536: one zeroed 64 KiB allocation",
            setup: boxed_slice_64k,
        },
    ],
};
