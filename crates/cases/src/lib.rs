//! The Go article's escape cases, answered in Rust by measurement.
//!
//! The Go article behind escape-lab walks through the situations in which Go's
//! escape analysis moves a value to the heap. Rust has no escape analysis:
//! a value lives where the source puts it, and every heap allocation is
//! spelled out (`Box`, `Vec`, `String`, `format!`, `Box<dyn Trait>`). So each
//! of the article's situations has one of three answers in Rust:
//!
//! - **a counterpart that allocates**, written out in the source, next to a
//!   form that does not (`interface`, `fmt`, `slices`, `make`, `append`);
//! - **nothing to allocate**: the Go trigger does not exist in Rust, and the
//!   heap is used only if you ask for it (`method`, `return_ref`);
//! - **rejected at compile time**: the Go program is not a Rust program at all
//!   (`alias`, and the reference half of `return_ref`), shown as
//!   `compile_fail` doctests next to the legal forms.
//!
//! Each case is one module. Its doc comment states what Go does (as the
//! article showed it) and the Rust counterpart; its [`Case`] lists two to five
//! [`Form`]s, each a scenario the harness runs as `<case>.<form>`, e.g.
//! `interface.box_dyn_any`. The exact allocations and bytes of one call of
//! every form are asserted in `tests/counts.rs`, and the crate's README
//! carries the table those tests measure.
//!
//! | case | Go (article) | Rust |
//! |---|---|---|
//! | [`interface`] | a value stored in an `interface{}` escapes | `Box<dyn Any>` is one allocation per value; a typed or generic container stores values inline |
//! | [`fmt`] | `fmt.Println(x)` moves `x` to the heap | formatting borrows `x`; only the output `String` allocates, and a reused buffer avoids it |
//! | [`method`] | a method call through an interface makes the receiver escape | `&mut dyn Trait` allocates nothing; only `Box<dyn Trait>` does |
//! | [`slices`] | `[]*string` moves every element to the heap | `Vec<Box<String>>` is two allocations per word, `Vec<String>` one, `Vec<&str>` none |
//! | [`make`] | a run-time-sized `make`, and anything over 64 KB, goes to the heap | `Vec::with_capacity(n)` allocates; arrays never do, but use the fixed-size stack |
//! | [`append`] | `append` beyond capacity reallocates | `push` beyond capacity reallocates (doubling, minimum 4); `with_capacity` avoids it |
//! | [`alias`] | two `append`s to one slice share its backing array | does not compile (E0499); the legal forms own or split the buffer |
//! | [`return_ref`] | returning `&local` moves the local to the heap | does not compile (E0515); return by value, or a `Box` explicitly |
//!
//! # Example
//!
//! ```
//! let (case, form) = cases::find("interface.box_dyn_any").expect("a known scenario");
//! assert_eq!(case.name, "interface");
//! let mut call = (form.setup)();
//! assert_eq!(call(), 16); // one call pushes 16 tokens
//! ```
//!
//! # Allocation
//!
//! [`all`] and [`find`] never allocate. What each form's call allocates is
//! the subject of the crate: see each module's `# Allocation` section.
#![deny(missing_docs)]

pub mod alias;
pub mod append;
pub mod fmt;
pub mod interface;
pub mod make;
pub mod method;
pub mod return_ref;
pub mod slices;

/// One form of a case: a scenario the harness runs as `<case>.<form>`.
///
/// # Allocation
///
/// `setup` may allocate freely (inputs, buffers that the call reuses); only
/// what the call allocates is the form's figure. Every call after the first
/// allocates exactly the same as the one before.
#[derive(Clone, Copy, Debug)]
pub struct Form {
    /// snake_case, unique within its case, e.g. `box_dyn_any`.
    pub name: &'static str,
    /// One line: what a call does and what it allocates.
    pub description: &'static str,
    /// Builds the call. The call does one unit of work and returns an item
    /// count (cheap, and it keeps the work observable).
    pub setup: fn() -> Box<dyn FnMut() -> u64>,
}

/// One of the article's escape cases: the Go behaviour, the Rust
/// counterpart, and the forms that measure it.
///
/// # Allocation
///
/// A `Case` is a constant; using it allocates nothing.
#[derive(Clone, Copy, Debug)]
pub struct Case {
    /// The module name, e.g. `interface`; scenarios are `<case>.<form>`.
    pub name: &'static str,
    /// A short title.
    pub title: &'static str,
    /// One line: the Go behaviour the article showed.
    pub go: &'static str,
    /// One line: the Rust counterpart.
    pub rust: &'static str,
    /// The forms, in the order the README lists them.
    pub forms: &'static [Form],
}

static ALL: [Case; 8] = [
    interface::CASE,
    fmt::CASE,
    method::CASE,
    slices::CASE,
    make::CASE,
    append::CASE,
    alias::CASE,
    return_ref::CASE,
];

/// Every case, in the article's order: `interface`, `fmt`, `method`,
/// `slices`, `make`, `append`, `alias`, `return_ref`.
///
/// # Allocation
///
/// Never allocates.
#[must_use]
pub fn all() -> &'static [Case] {
    &ALL
}

/// The case and form of a scenario name `<case>.<form>`, e.g.
/// `append.push_1000`; `None` for any other string.
///
/// # Allocation
///
/// Never allocates.
#[must_use]
pub fn find(scenario: &str) -> Option<(&'static Case, &'static Form)> {
    let (case, form) = scenario.split_once('.')?;
    let case = ALL.iter().find(|c| c.name == case)?;
    let form = case.forms.iter().find(|f| f.name == form)?;
    Some((case, form))
}

/// Boxes a call. Keeps the forms' `setup` functions to one line of plumbing.
fn call(f: impl FnMut() -> u64 + 'static) -> Box<dyn FnMut() -> u64> {
    Box::new(f)
}

// The README's Rust examples are doctests too.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
