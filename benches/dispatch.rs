//! The article's dispatch benchmark: a method call through an interface
//! against a call on the concrete type, with inlining forbidden and allowed.
//!
//! The Go figures it mirrors (DESIGN.md's machine kind): interface 4.50 ns
//! against concrete 3.80 ns with inlining off (`-gcflags -l`), 3.45 against
//! 0.29 ns with it on. Here the interface is a `&dyn Step` whose object is
//! picked at run time from two types (through `black_box`, so the compiler
//! cannot know which and devirtualise), and the concrete call is a generic
//! function monomorphised for one type (static dispatch). "Inlining off" is
//! `#[inline(never)]` on the method; "on" is `#[inline]`, which a `dyn` call
//! cannot use but a static one can. Input and output go through `black_box`
//! so that nothing is folded away.
//!
//! Ids: `dispatch/dyn/inline-never`, `dispatch/static/inline-never`,
//! `dispatch/dyn/inline`, `dispatch/static/inline`. Each allocates nothing;
//! the table after the group counts it, as for every bench.
//!
//! ```text
//! cargo bench --bench dispatch
//! ```

mod common;

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use common::report::{self, Row};
use common::RunArgs;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use harness::countalloc;

#[global_allocator]
static ALLOC: countalloc::CountingAlloc = countalloc::CountingAlloc;

const GROUP: &str = "dispatch";

/// Ops counted for the allocation table (each is a few nanoseconds).
const OPS: u64 = 100_000;

/// One small operation behind an interface.
trait Step {
    /// Combines `x` with the receiver's constant.
    fn step(&self, x: u64) -> u64;
}

struct AddNever(u64);
struct XorNever(u64);
struct AddInline(u64);
struct XorInline(u64);

impl Step for AddNever {
    #[inline(never)]
    fn step(&self, x: u64) -> u64 {
        x.wrapping_add(self.0)
    }
}

impl Step for XorNever {
    #[inline(never)]
    fn step(&self, x: u64) -> u64 {
        x ^ self.0
    }
}

impl Step for AddInline {
    #[inline]
    fn step(&self, x: u64) -> u64 {
        x.wrapping_add(self.0)
    }
}

impl Step for XorInline {
    #[inline]
    fn step(&self, x: u64) -> u64 {
        x ^ self.0
    }
}

/// The static call: monomorphised per type, so the call is direct and, when
/// the method allows it, inlined.
fn call_static<S: Step>(s: &S, x: u64) -> u64 {
    s.step(x)
}

/// The dynamic call: through the vtable of whatever `s` is.
fn call_dyn(s: &dyn Step, x: u64) -> u64 {
    s.step(x)
}

// Counts the allocations of `ops` calls of `f` (monomorphised, so the loop
// calls exactly what criterion times).
fn counted(id: &str, ops: u64, f: impl Fn(u64) -> u64) -> Row {
    let mut x = 1u64;
    Row::measure(id, "call", 0, 1, ops, || {
        x = black_box(f(black_box(x)));
        Ok(0)
    })
}

fn dispatch(c: &mut Criterion) {
    common::assert_counting();
    let args = RunArgs::from_env();

    // The objects the dyn calls go to, chosen at run time: `black_box(0)`
    // is opaque to the optimiser, so either type could be called.
    let never: [&dyn Step; 2] = [&AddNever(7), &XorNever(7)];
    let inline: [&dyn Step; 2] = [&AddInline(7), &XorInline(7)];
    let pick = black_box(0usize);
    let dyn_never = never[pick];
    let dyn_inline = inline[pick];
    let add_never = AddNever(7);
    let add_inline = AddInline(7);

    // Allocations per call, counted outside criterion.
    let ops = if args.testing() { 100 } else { OPS };
    let mut rows = Vec::new();
    if !args.listing() {
        let want = |id: &str| args.wants(&format!("{GROUP}/{id}"));
        if want("dyn/inline-never") {
            rows.push(counted("dyn/inline-never", ops, |x| call_dyn(dyn_never, x)));
        }
        if want("static/inline-never") {
            rows.push(counted("static/inline-never", ops, |x| {
                call_static(&add_never, x)
            }));
        }
        if want("dyn/inline") {
            rows.push(counted("dyn/inline", ops, |x| call_dyn(dyn_inline, x)));
        }
        if want("static/inline") {
            rows.push(counted("static/inline", ops, |x| {
                call_static(&add_inline, x)
            }));
        }
    }

    let started = SystemTime::now();
    let mut group = c.benchmark_group(GROUP);
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(100);
    group.bench_function(BenchmarkId::new("dyn", "inline-never"), |b| {
        b.iter(|| call_dyn(dyn_never, black_box(1)))
    });
    group.bench_function(BenchmarkId::new("static", "inline-never"), |b| {
        b.iter(|| call_static(&add_never, black_box(1)))
    });
    group.bench_function(BenchmarkId::new("dyn", "inline"), |b| {
        b.iter(|| call_dyn(dyn_inline, black_box(1)))
    });
    group.bench_function(BenchmarkId::new("static", "inline"), |b| {
        b.iter(|| call_static(&add_inline, black_box(1)))
    });
    group.finish();
    if args.listing() {
        return;
    }

    let group_dir = common::criterion_home().join(GROUP);
    for row in &mut rows {
        row.read_criterion(&group_dir, started);
    }
    report::print_table(
        "dispatch: per op = one method call (Go: interface 4.50 / concrete 3.80 ns inlining off, 3.45 / 0.29 ns on)",
        &rows,
    );
    report::save_allocations(
        &args,
        GROUP,
        "one method call, argument and result through black_box",
        None::<()>,
        &rows,
    );
}

criterion_group! {
    name = benches;
    config = common::criterion_config();
    targets = dispatch
}
criterion_main!(benches);
