//! Case 3, `method`: calling a method through an interface makes the
//! receiver escape.
//!
//! **Go.** With `type I interface{ M() }`, `func f1(s I) { s.M() }` and
//! `func f2(s *S) { s.M() }`, a call `f1(s)` converts `s` to an interface,
//! and the compiler cannot tell which `M` will run, so it must assume the
//! receiver escapes: `s` goes to the heap. `f2(&s)` calls a known method, and
//! `s` stays on the stack.
//!
//! **Rust.** A trait object reference `&mut dyn Shape` is a pair of pointers
//! (the data, wherever it lives, and a vtable); the borrow checker, not an
//! escape analysis, guarantees the callee cannot keep it. So dynamic dispatch
//! through `&mut dyn Trait` allocates nothing, exactly like the generic
//! (static dispatch) call: both forms below measure zero. A heap allocation
//! appears only when the trait object must *own* its value, `Box<dyn Shape>`,
//! and then it is in the source. What does differ between `dyn` and generic is
//! time (an indirect call that inlining cannot see through): that is measured
//! by the dispatch benchmark, `benches/dispatch.rs`
//! (`cargo bench --bench dispatch`), not here.
//!
//! | form | what a call does |
//! |---|---|
//! | `dyn_ref` | builds a `Rect` on the stack, calls two methods through `&mut dyn Shape`: nothing |
//! | `generic` | the same through a generic `&mut S`: nothing |
//! | `box_dyn` | the same value boxed as `Box<dyn Shape>` first: one 16-byte `Box` |
//!
//! # Allocation
//!
//! [`via_dyn`] and [`via_generic`] never allocate; [`boxed`] allocates one
//! `Box` of the value's size.

use std::hint::black_box;

use crate::{call, Case, Form};

/// The interface `I` of the article's example.
///
/// # Allocation
///
/// [`Rect`]'s methods never allocate.
pub trait Shape {
    /// Multiplies both sides by `k`.
    fn scale(&mut self, k: u64);
    /// The area.
    fn area(&self) -> u64;
}

/// The concrete type `S`: a rectangle, 16 bytes.
///
/// # Allocation
///
/// A plain `Copy` value: never allocates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rect {
    /// Width.
    pub w: u64,
    /// Height.
    pub h: u64,
}

impl Shape for Rect {
    fn scale(&mut self, k: u64) {
        self.w = self.w.wrapping_mul(k);
        self.h = self.h.wrapping_mul(k);
    }

    fn area(&self) -> u64 {
        self.w.wrapping_mul(self.h)
    }
}

/// The article's `f1(s I)`: scales and measures through a trait object.
///
/// # Allocation
///
/// Never allocates.
pub fn via_dyn(s: &mut dyn Shape) -> u64 {
    s.scale(2);
    s.area()
}

/// The article's `f2(s *S)`, generic: scales and measures with static
/// dispatch.
///
/// # Allocation
///
/// Never allocates.
pub fn via_generic<S: Shape>(s: &mut S) -> u64 {
    s.scale(2);
    s.area()
}

/// Boxes `s` as an owned trait object.
///
/// # Allocation
///
/// One `Box` of `size_of::<S>()` bytes (16 for [`Rect`]).
pub fn boxed<S: Shape + 'static>(s: S) -> Box<dyn Shape> {
    Box::new(s)
}

fn rect() -> Rect {
    Rect {
        w: black_box(3),
        h: black_box(4),
    }
}

fn dyn_ref() -> Box<dyn FnMut() -> u64> {
    call(|| {
        let mut r = rect();
        // black_box hides the concrete type, so the call stays dynamic.
        via_dyn(black_box(&mut r as &mut dyn Shape))
    })
}

fn generic() -> Box<dyn FnMut() -> u64> {
    call(|| {
        let mut r = rect();
        via_generic(black_box(&mut r))
    })
}

fn box_dyn() -> Box<dyn FnMut() -> u64> {
    call(|| {
        // black_box keeps the optimiser from removing the allocation.
        let mut b = black_box(boxed(rect()));
        via_dyn(&mut *b)
    })
}

/// The `method` case.
pub const CASE: Case = Case {
    name: "method",
    title: "calling a method through an interface",
    go: "calling a method through an interface (`f1(s I)`, not `f2(s *S)`) makes the receiver escape to the heap",
    rust: "`&mut dyn Trait` and a generic `&mut S` both allocate nothing; only an owning `Box<dyn Trait>` does (time: `cargo bench --bench dispatch`)",
    forms: &[
        Form {
            name: "dyn_ref",
            description: "calls two methods on a stack Rect through &mut dyn Shape: no allocation",
            setup: dyn_ref,
        },
        Form {
            name: "generic",
            description: "calls two methods on a stack Rect through a generic &mut S: no allocation",
            setup: generic,
        },
        Form {
            name: "box_dyn",
            description: "boxes the Rect as Box<dyn Shape>, then calls the methods: one 16-byte Box",
            setup: box_dyn,
        },
    ],
};
