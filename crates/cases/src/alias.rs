//! Case 7, `alias`: two `append`s to one slice share its backing array.
//!
//! **Go.** The article's puzzle:
//!
//! ```go
//! s := []byte("")
//! a := append(s, 'a')
//! b := append(s, 'b')
//! fmt.Println(string(a), string(b)) // "b b", not "a b"
//! ```
//!
//! `s` has length 0 but spare capacity (a non-escaping `[]byte("")` gets a
//! 32-byte stack buffer), so both `append`s write index 0 of the *same*
//! array, and `a[0]` becomes `'b'`. Whether that happens depends on whether
//! `s` escaped (an escaping `s` has capacity 0, and each `append` allocates
//! its own array): escape analysis changes the program's output.
//!
//! **Rust.** The counterpart does not compile. A slice that can be appended
//! to in place is a mutable borrow of the backing array, and two live
//! mutable borrows of one array are exactly what the borrow checker rejects.
//! Here is Go's slice header as a Rust type and the article's program, which
//! fails with E0499 (and only that: the doctest names the error code):
//!
//! ```compile_fail,E0499
//! /// Go's slice: a view of `len` elements of a backing array with room for more.
//! struct GoSlice<'a> {
//!     array: &'a mut [u8],
//!     len: usize,
//! }
//!
//! impl GoSlice<'_> {
//!     /// Go's `append(s, x)` with spare capacity: writes `array[len]` and
//!     /// returns a view of one more element, sharing the array.
//!     fn append(&mut self, x: u8) -> &mut [u8] {
//!         self.array[self.len] = x;
//!         &mut self.array[..self.len + 1]
//!     }
//! }
//!
//! let mut backing = [0u8; 32]; // what Go gives a non-escaping []byte("")
//! let mut s = GoSlice { array: &mut backing, len: 0 };
//! let a = s.append(b'a');
//! let b = s.append(b'b'); // error[E0499]: cannot borrow `s` as mutable more than once
//! assert_eq!((a[0], b[0]), (b'b', b'b')); // ...because `a` is still used here
//! ```
//!
//! The same code with `a`'s last use moved before the second `append`
//! compiles, which shows the aliasing is the only error above:
//!
//! ```
//! # struct GoSlice<'a> {
//! #     array: &'a mut [u8],
//! #     len: usize,
//! # }
//! # impl GoSlice<'_> {
//! #     fn append(&mut self, x: u8) -> &mut [u8] {
//! #         self.array[self.len] = x;
//! #         &mut self.array[..self.len + 1]
//! #     }
//! # }
//! let mut backing = [0u8; 32];
//! let mut s = GoSlice { array: &mut backing, len: 0 };
//! let a = s.append(b'a');
//! assert_eq!(a[0], b'a'); // the last use of `a`: its borrow ends here
//! let b = s.append(b'b'); // overwrites backing[0], and nobody can see `a` change
//! assert_eq!(b[0], b'b');
//! ```
//!
//! The legal forms say what the Go programmer meant. Two independent
//! results: each gets its own buffer, by cloning `s` (an empty `Vec` clones
//! without allocating, and does not keep its capacity, so each `push`
//! allocates the minimum 8 bytes) or by building each from scratch. One
//! shared buffer: `split_at_mut` hands out two mutable views that provably do
//! not overlap, and allocates nothing.
//!
//! | form | what a call does |
//! |---|---|
//! | `clone_then_push` | `a = s.clone(); a.push(b'a')`, the same for `b`: two 8-byte allocations |
//! | `from_scratch` | `a = vec![b'a']`, `b = vec![b'b']`: two 1-byte allocations |
//! | `split_at_mut` | one reused buffer split into two disjoint halves: nothing |
//!
//! # Allocation
//!
//! [`clone_then_push`]: one allocation per pushed-to clone (8 bytes, `Vec<u8>`'s
//! minimum capacity) when `s` is empty. [`from_scratch`]: two allocations of
//! one byte. [`split_backing`]: never.

use std::hint::black_box;

use crate::{call, Case, Form};

/// Copies `s` twice (`to_vec`, which is what `Vec::clone` does) and pushes
/// `b'a'` to one copy and `b'b'` to the other: the two results Go's code
/// meant, each owning its array.
///
/// # Allocation
///
/// Two copies of `s`, exactly `s.len()` bytes each (none when `s` is empty:
/// a clone does not keep the capacity), and whatever each `push` needs to
/// grow (8 bytes each from empty, `Vec<u8>`'s minimum capacity).
#[must_use]
pub fn clone_then_push(s: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut a = s.to_vec();
    a.push(black_box(b'a'));
    let mut b = s.to_vec();
    b.push(black_box(b'b'));
    (black_box(a), black_box(b))
}

/// Builds the two results from scratch, each exactly one byte long.
///
/// # Allocation
///
/// Two allocations of 1 byte.
#[must_use]
pub fn from_scratch() -> (Vec<u8>, Vec<u8>) {
    let a = vec![black_box(b'a')];
    let b = vec![black_box(b'b')];
    (black_box(a), black_box(b))
}

/// Writes `b'a'` and `b'b'` into two disjoint halves of one buffer, the legal
/// way to share an array: returns the two first bytes.
///
/// # Allocation
///
/// Never allocates.
///
/// # Panics
///
/// If `backing` has fewer than 2 bytes.
pub fn split_backing(backing: &mut [u8]) -> (u8, u8) {
    let mid = backing.len() / 2;
    let (a, b) = backing.split_at_mut(mid);
    a[0] = black_box(b'a');
    b[0] = black_box(b'b');
    black_box((a[0], b[0]))
}

fn clone_then_push_form() -> Box<dyn FnMut() -> u64> {
    let s: Vec<u8> = Vec::with_capacity(32); // Go's []byte(""): empty, with room
    call(move || {
        let (a, b) = clone_then_push(&s);
        (a.len() + b.len()) as u64
    })
}

fn from_scratch_form() -> Box<dyn FnMut() -> u64> {
    call(|| {
        let (a, b) = from_scratch();
        (a.len() + b.len()) as u64
    })
}

fn split_at_mut_form() -> Box<dyn FnMut() -> u64> {
    let mut backing = vec![0u8; 32];
    call(move || {
        let (a, b) = split_backing(&mut backing);
        u64::from(a) + u64::from(b)
    })
}

/// The `alias` case.
pub const CASE: Case = Case {
    name: "alias",
    title: "two appends sharing one backing array",
    go: "`a := append(s, 'a'); b := append(s, 'b')` on an empty `s` with spare capacity share one array: `a[0]` becomes `'b'`",
    rust: "does not compile (E0499, two mutable borrows); clone or build each result, or `split_at_mut` one buffer into disjoint halves",
    forms: &[
        Form {
            name: "clone_then_push",
            description: "clones an empty Vec twice and pushes one byte into each: two 8-byte allocations (Vec<u8>'s minimum capacity)",
            setup: clone_then_push_form,
        },
        Form {
            name: "from_scratch",
            description: "vec![b'a'] and vec![b'b']: two 1-byte allocations",
            setup: from_scratch_form,
        },
        Form {
            name: "split_at_mut",
            description: "writes into two disjoint halves of one reused buffer: no allocation",
            setup: split_at_mut_form,
        },
    ],
};
