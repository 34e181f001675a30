//! The `count` pass: exact allocations and bytes per call with the counting
//! allocator, over whole cycles after the warm-up cycle. Its figures are
//! what the gate compares; there is nothing to render.

use crate::alloc::{self, Mode};
use crate::model::{CountResult, PassResult};
use crate::pass::{measured_calls, Calls};
use crate::scenario::Scenario;

/// The child half: switches this process to the counting allocator, makes
/// the measured calls, and returns the exact totals.
pub(crate) fn child(s: &Scenario, calls: &mut Calls) -> Result<PassResult, String> {
    alloc::set_mode(Mode::Count);
    if !countalloc::is_active() {
        return Err("the counting allocator is not installed: the binary needs \
                    `#[global_allocator] static ALLOC: escape_lab::Alloc = escape_lab::Alloc;`"
            .into());
    }
    let n = measured_calls(s);
    let before = countalloc::snapshot();
    let items = calls.run(n);
    let counts = countalloc::snapshot().since(before);
    alloc::set_mode(Mode::System);
    Ok(PassResult::Count(CountResult {
        calls: n,
        items: items?,
        allocs: counts.allocs,
        bytes: counts.bytes,
    }))
}
