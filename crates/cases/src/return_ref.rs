//! Case 8, `return_ref`: returning a pointer to a local moves the local to
//! the heap.
//!
//! **Go.** `func newS() *S { var s S; return &s }` is legal and common: the
//! pointer outlives the frame, so escape analysis moves `s` to the heap
//! (`moved to heap: s`), one allocation per call, invisible in the source.
//!
//! **Rust.** A reference cannot outlive what it points to, so returning a
//! reference to a local does not compile (E0515):
//!
//! ```compile_fail,E0515
//! struct Record {
//!     id: u64,
//! }
//!
//! fn new_record<'a>() -> &'a Record {
//!     let r = Record { id: 7 };
//!     &r // error[E0515]: cannot return reference to local variable `r`
//! }
//!
//! assert_eq!(new_record().id, 7);
//! ```
//!
//! What compiles says where the value goes. Returning the value itself moves
//! it to the caller (the compiler writes it straight into the caller's slot;
//! nothing is allocated), and so does filling a caller-provided `&mut`. A
//! heap value is asked for by name, `Box<Record>`: that is the Go program's
//! allocation, written out.
//!
//! ```
//! struct Record {
//!     id: u64,
//! }
//!
//! fn by_value() -> Record {
//!     Record { id: 7 }
//! }
//!
//! fn boxed() -> Box<Record> {
//!     Box::new(Record { id: 7 })
//! }
//!
//! assert_eq!(by_value().id + boxed().id, 14);
//! ```
//!
//! | form | what a call does |
//! |---|---|
//! | `box_return` | returns a 32-byte [`Record`] as `Box<Record>`: one 32-byte allocation |
//! | `by_value` | returns the `Record` by value: nothing |
//! | `out_param` | fills a caller's `&mut Record`: nothing |
//!
//! # Allocation
//!
//! [`new_boxed`]: one allocation of 32 bytes. [`new_by_value`] and
//! [`fill`]: never.

use std::hint::black_box;

use crate::{call, Case, Form};

/// The value returned: 32 bytes.
///
/// # Allocation
///
/// A plain `Copy` value: never allocates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Record {
    /// Its id.
    pub id: u64,
    /// Some payload.
    pub values: [u64; 3],
}

impl Record {
    fn new(id: u64) -> Record {
        Record {
            id,
            values: [id, id + 1, id + 2],
        }
    }
}

/// Go's `return &s`, written out: the record on the heap.
///
/// # Allocation
///
/// One allocation of `size_of::<Record>()` = 32 bytes.
#[must_use]
pub fn new_boxed(id: u64) -> Box<Record> {
    Box::new(Record::new(id))
}

/// The record by value, moved to the caller.
///
/// # Allocation
///
/// Never allocates.
#[must_use]
pub fn new_by_value(id: u64) -> Record {
    Record::new(id)
}

/// Fills a record the caller owns.
///
/// # Allocation
///
/// Never allocates.
pub fn fill(r: &mut Record, id: u64) {
    *r = Record::new(id);
}

fn box_return() -> Box<dyn FnMut() -> u64> {
    call(|| {
        let r = new_boxed(black_box(7));
        // A reference to the box escapes, so the allocation must be real.
        black_box(&r).values.iter().sum()
    })
}

fn by_value() -> Box<dyn FnMut() -> u64> {
    call(|| {
        let r = new_by_value(black_box(7));
        black_box(&r).values.iter().sum()
    })
}

fn out_param() -> Box<dyn FnMut() -> u64> {
    let mut r = Record::default();
    call(move || {
        fill(&mut r, black_box(7));
        black_box(&r).values.iter().sum()
    })
}

/// The `return_ref` case.
pub const CASE: Case = Case {
    name: "return_ref",
    title: "returning a pointer to a local",
    go: "`return &s` is legal and moves the local `s` to the heap",
    rust: "returning `&local` does not compile (E0515); return the value (moved, no allocation) or a `Box<T>` (one allocation, explicit)",
    forms: &[
        Form {
            name: "box_return",
            description: "returns a 32-byte Record as Box<Record>: one 32-byte allocation",
            setup: box_return,
        },
        Form {
            name: "by_value",
            description: "returns the Record by value: no allocation",
            setup: by_value,
        },
        Form {
            name: "out_param",
            description: "fills a caller-owned &mut Record: no allocation",
            setup: out_param,
        },
    ],
};
