//! Case 4, `slices`: a slice of pointers moves every element to the heap.
//!
//! **Go.** Storing `&s` in a `[]*string` (or any slice of pointers) hides
//! from escape analysis where the pointer goes next, so every pointed-to
//! value escapes: filling a `[]*string` with the addresses of locals moves
//! each string to the heap, one object per element, on top of the slice.
//!
//! **Rust.** The closest type, `Vec<Box<String>>`, costs two allocations per
//! word: the `Box` (24 bytes, the `String`'s pointer, capacity and length) and
//! the `String`'s own bytes. `Vec<String>` drops the `Box`: one allocation
//! per word. `Vec<&str>` borrows the words where they already are and
//! allocates nothing per word; the borrow checker proves the words outlive
//! the vector, which is the proof Go's escape analysis could not make. In all
//! three forms the `Vec` itself is reused across calls, so only the elements
//! count.
//!
//! | form | what a call does |
//! |---|---|
//! | `vec_box_string` | fills a reused `Vec<Box<String>>` with the 16 [`WORDS`]: two allocations per word |
//! | `vec_string` | fills a reused `Vec<String>`: one allocation per word |
//! | `vec_str` | fills a reused `Vec<&str>`: nothing |
//!
//! # Allocation
//!
//! [`fill_boxed`]: per word, a 24-byte `Box` and the word's length in bytes.
//! [`fill_owned`]: per word, the word's length in bytes. [`fill_borrowed`]:
//! nothing once the `Vec` has held the words.

use std::hint::black_box;

use crate::{call, Case, Form};

/// The words every form stores: 16 words, 69 bytes.
pub const WORDS: [&str; 16] = [
    "she", "sells", "sea", "shells", "by", "the", "seashore", "and", "he", "hears", "her", "hiss",
    "while", "ushers", "hush", "hershey",
];

/// Clears `v` and fills it with a boxed owned copy of every word; returns the
/// number of words.
///
/// # Allocation
///
/// Two per word: the `Box` (24 bytes) and the `String`'s bytes.
pub fn fill_boxed(v: &mut Vec<Box<String>>, words: &[&str]) -> usize {
    v.clear();
    for &w in words {
        v.push(Box::new(String::from(black_box(w))));
    }
    black_box(&*v);
    v.len()
}

/// Clears `v` and fills it with an owned copy of every word; returns the
/// number of words.
///
/// # Allocation
///
/// One per word: the `String`'s bytes.
pub fn fill_owned(v: &mut Vec<String>, words: &[&str]) -> usize {
    v.clear();
    for &w in words {
        v.push(String::from(black_box(w)));
    }
    black_box(&*v);
    v.len()
}

/// Clears `v` and fills it with borrows of the words; returns the number of
/// words.
///
/// # Allocation
///
/// None once `v` has held `words.len()` words.
pub fn fill_borrowed<'w>(v: &mut Vec<&'w str>, words: &[&'w str]) -> usize {
    v.clear();
    for &w in words {
        v.push(black_box(w));
    }
    black_box(&*v);
    v.len()
}

fn vec_box_string() -> Box<dyn FnMut() -> u64> {
    let mut v = Vec::new();
    call(move || fill_boxed(&mut v, &WORDS) as u64)
}

fn vec_string() -> Box<dyn FnMut() -> u64> {
    let mut v = Vec::new();
    call(move || fill_owned(&mut v, &WORDS) as u64)
}

fn vec_str() -> Box<dyn FnMut() -> u64> {
    let mut v = Vec::new();
    call(move || fill_borrowed(&mut v, &WORDS) as u64)
}

/// The `slices` case.
pub const CASE: Case = Case {
    name: "slices",
    title: "a slice of pointers",
    go: "a slice of pointers (`[]*string`) moves every pointed-to element to the heap",
    rust: "`Vec<Box<String>>` is two allocations per word, `Vec<String>` one, `Vec<&str>` none (the borrow checker proves the words outlive it)",
    forms: &[
        Form {
            name: "vec_box_string",
            description: "fills a reused Vec<Box<String>> with 16 words: a 24-byte Box and the word's bytes per word",
            setup: vec_box_string,
        },
        Form {
            name: "vec_string",
            description: "fills a reused Vec<String> with 16 words: the word's bytes per word",
            setup: vec_string,
        },
        Form {
            name: "vec_str",
            description: "fills a reused Vec<&str> with 16 borrowed words: no allocation",
            setup: vec_str,
        },
    ],
};
