//! Case 1, `interface`: a value stored in an `interface{}` escapes.
//!
//! **Go.** An `interface{}` holds a type descriptor and a pointer to the
//! data. When a value is converted to an interface and stored somewhere that
//! outlives the call (a buffer's `push(t interface{})`, behind an interface
//! method the compiler cannot see through), escape analysis gives up and
//! copies the value to the heap: one allocation per value. This is exactly
//! the article's bug: the generic `FixedBuffer` boxed every pushed token.
//!
//! **Rust.** The counterpart of an `interface{}` that owns its value is
//! `Box<dyn Any>`: a value of a type unknown at the use site needs a pointer,
//! and the `Box` *is* the heap allocation, visible in the source. Rust's
//! answer to "a reusable container for any type" is a generic, not a dynamic
//! type: `Vec<Token>` or a generic [`Buffer<T>`] stores the values inline,
//! monomorphised for `Token`, and allocates nothing once its capacity is
//! there.
//!
//! | form | what a call does |
//! |---|---|
//! | `box_dyn_any` | pushes 16 tokens into a reused `Vec<Box<dyn Any>>`: one 24-byte `Box` each |
//! | `typed_vec` | pushes them into a reused `Vec<Token>`: nothing |
//! | `generic_buffer` | pushes them into a reused [`Buffer<Token>`]: nothing |
//!
//! # Allocation
//!
//! [`push_boxed`] allocates one `Box` of `size_of::<T>()` bytes per value
//! (and grows its `Vec` until it has held that many). [`push_typed`] and
//! [`Buffer::push`] never allocate once the container has room.

use std::any::Any;
use std::hint::black_box;

use crate::{call, Case, Form};

/// A match token, the value the article's buffer boxed: 24 bytes.
///
/// # Allocation
///
/// A plain `Copy` value: never allocates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Token {
    /// The pattern's value (its dictionary line).
    pub value: usize,
    /// The pattern's length in bytes.
    pub len: usize,
    /// The match's end offset in the haystack.
    pub end: usize,
}

/// Tokens pushed per call.
pub const TOKENS: usize = 16;

/// Clears `buf` and pushes every item as a `Box<dyn Any>`; returns how many
/// read back as `T` (a type assertion, as the Go code made on every pop).
///
/// # Allocation
///
/// One `Box<T>` of `size_of::<T>()` bytes per item (24 for [`Token`]);
/// dropping the previous call's boxes frees them. `buf` grows only while it has never held this many.
pub fn push_boxed<T: Any + Copy>(buf: &mut Vec<Box<dyn Any>>, items: &[T]) -> usize {
    buf.clear();
    for &item in items {
        buf.push(Box::new(black_box(item)));
    }
    black_box(&*buf);
    buf.iter()
        .filter(|b| b.downcast_ref::<T>().is_some())
        .count()
}

/// Clears `buf` and pushes every item by value; returns the new length.
///
/// # Allocation
///
/// None once `buf` has held `items.len()` items.
pub fn push_typed<T: Copy>(buf: &mut Vec<T>, items: &[T]) -> usize {
    buf.clear();
    for &item in items {
        buf.push(black_box(item));
    }
    black_box(&*buf);
    buf.len()
}

/// A reusable fixed-capacity buffer for any `T`: the article's `FixedBuffer`
/// written with a type parameter instead of `interface{}`.
///
/// # Allocation
///
/// [`Buffer::new`] allocates the storage once; [`Buffer::push`] and
/// [`Buffer::clear`] never allocate.
#[derive(Clone, Debug)]
pub struct Buffer<T> {
    items: Vec<T>,
}

impl<T> Buffer<T> {
    /// An empty buffer that holds up to `capacity` items.
    ///
    /// # Allocation
    ///
    /// One allocation of `capacity * size_of::<T>()` bytes (none if that is
    /// zero).
    #[must_use]
    pub fn new(capacity: usize) -> Buffer<T> {
        Buffer {
            items: Vec::with_capacity(capacity),
        }
    }

    /// Appends `item`, or gives it back as `Err(item)` when the buffer is
    /// full: a full buffer never grows and never drops an item silently.
    ///
    /// # Allocation
    ///
    /// Never allocates.
    pub fn push(&mut self, item: T) -> Result<(), T> {
        if self.items.len() == self.items.capacity() {
            return Err(item);
        }
        self.items.push(item);
        Ok(())
    }

    /// Removes every item, keeping the storage.
    ///
    /// # Allocation
    ///
    /// Never allocates.
    pub fn clear(&mut self) {
        self.items.clear();
    }

    /// The items pushed since the last [`Buffer::clear`].
    ///
    /// # Allocation
    ///
    /// Never allocates.
    #[must_use]
    pub fn as_slice(&self) -> &[T] {
        &self.items
    }
}

/// The tokens every form pushes.
fn tokens() -> Vec<Token> {
    (0..TOKENS)
        .map(|i| Token {
            value: i,
            len: 2 + i % 5,
            end: 10 * i,
        })
        .collect()
}

fn box_dyn_any() -> Box<dyn FnMut() -> u64> {
    let tokens = tokens();
    let mut buf: Vec<Box<dyn Any>> = Vec::new();
    call(move || push_boxed(&mut buf, &tokens) as u64)
}

fn typed_vec() -> Box<dyn FnMut() -> u64> {
    let tokens = tokens();
    let mut buf: Vec<Token> = Vec::new();
    call(move || push_typed(&mut buf, &tokens) as u64)
}

fn generic_buffer() -> Box<dyn FnMut() -> u64> {
    let tokens = tokens();
    let mut buf: Buffer<Token> = Buffer::new(TOKENS);
    call(move || {
        buf.clear();
        for &t in &tokens {
            // Setup sized the buffer for every token: a full buffer here is a
            // bug in this crate, not a property of the form.
            buf.push(black_box(t))
                .expect("the buffer holds TOKENS tokens");
        }
        black_box(buf.as_slice()).len() as u64
    })
}

/// The `interface` case.
pub const CASE: Case = Case {
    name: "interface",
    title: "a value stored in an interface escapes",
    go: "a value stored in an `interface{}` (the article's buffer `push(t interface{})`) escapes: one heap object per value",
    rust: "`Box<dyn Any>` is that allocation, written out; a typed `Vec<T>` or a generic `Buffer<T>` stores values inline and allocates nothing",
    forms: &[
        Form {
            name: "box_dyn_any",
            description: "pushes 16 tokens into a reused Vec<Box<dyn Any>>: one 24-byte Box per token",
            setup: box_dyn_any,
        },
        Form {
            name: "typed_vec",
            description: "pushes 16 tokens into a reused Vec<Token>: no allocation",
            setup: typed_vec,
        },
        Form {
            name: "generic_buffer",
            description: "pushes 16 tokens into a reused generic Buffer<Token>: no allocation",
            setup: generic_buffer,
        },
    ],
};
