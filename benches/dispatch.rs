//! The article's dispatch benchmark: a method call through an interface
//! against a call on the concrete type, with inlining forbidden and allowed.
//!
//! The Go figures it mirrors (the article's, on a machine of this kind): interface 4.50 ns
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
//! the table after the group counts it, as for every bench: the loop that
//! times the calls (`common::record`) is the loop that counts them.
//!
//! ```text
//! cargo bench --bench dispatch
//! ```

mod common;

use std::hint::black_box;
use std::time::Duration;

use common::record::{Row, Slot};
use common::{results, table};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

#[global_allocator]
static ALLOC: countalloc::CountingAlloc = countalloc::CountingAlloc;

const GROUP: &str = "dispatch";

/// What one op is, as `allocations.json` says it.
const OP: &str = "one method call, argument and result through black_box";

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

// Benchmarks `call` as `function/parameter` of the group, recording its
// allocations (it has no state to set up).
fn bench(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    rows: &mut Vec<Row>,
    function: &str,
    parameter: &str,
    call: impl Fn(u64) -> u64,
) {
    let id = BenchmarkId::new(function, parameter);
    let mut slot = Slot::new(
        GROUP,
        Row::new(format!("{function}/{parameter}"), "call", 0, 1),
    );
    group.bench_function(id, |b| slot.run(b, || Ok(()), |_| Ok(call(black_box(1)))));
    rows.push(slot.row);
}

fn dispatch(c: &mut Criterion) {
    common::assert_counting();

    // The objects the dyn calls go to, chosen at run time: `black_box(0)`
    // is opaque to the optimiser, so either type could be called.
    let never: [&dyn Step; 2] = [&AddNever(7), &XorNever(7)];
    let inline: [&dyn Step; 2] = [&AddInline(7), &XorInline(7)];
    let pick = black_box(0usize);
    let dyn_never = never[pick];
    let dyn_inline = inline[pick];
    let add_never = AddNever(7);
    let add_inline = AddInline(7);

    let mut group = c.benchmark_group(GROUP);
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(100);
    let mut rows = Vec::new();
    bench(&mut group, &mut rows, "dyn", "inline-never", |x| {
        call_dyn(dyn_never, x)
    });
    bench(&mut group, &mut rows, "static", "inline-never", |x| {
        call_static(&add_never, x)
    });
    bench(&mut group, &mut rows, "dyn", "inline", |x| {
        call_dyn(dyn_inline, x)
    });
    bench(&mut group, &mut rows, "static", "inline", |x| {
        call_static(&add_inline, x)
    });
    group.finish();

    table::print_table(
        "dispatch: one op = one method call (Go, same machine kind: interface 4.50 / concrete 3.80 ns with inlining off, 3.45 / 0.29 ns on)",
        &rows,
    );
    results::save(
        GROUP,
        "allocations.json",
        OP,
        serde_json::Value::Null,
        results::allocation_entries(&rows),
    );
}

criterion_group! {
    name = benches;
    config = common::criterion_config();
    targets = dispatch
}
criterion_main!(benches);
