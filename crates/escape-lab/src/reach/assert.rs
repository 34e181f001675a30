//! `assert_never_allocates!`: the static analysis as a unit-test assertion.

use super::{analyse, text, Verdict};

/// Asserts that a function has no way to the allocator outside panic
/// handling, by the static analysis of the running test binary (see
/// [`crate::reach`]): passes on `none` and `panic-only`, fails on
/// `allocates` (naming each line and its way) and on `indirect` (naming the
/// calls it could not follow, which could allocate). Nothing is run.
///
/// The function must be one the compiler kept (a function whose address is
/// taken is kept: the macro takes it); a generic one needs its types,
/// `my_fn::<u8>`.
///
/// ```no_run
/// fn sum(xs: &[u64]) -> u64 {
///     xs.iter().sum()
/// }
/// escape_lab::assert_never_allocates!(sum);
/// ```
///
/// # Panics
///
/// When the function can allocate, when its way depends on calls the
/// analysis cannot follow, or when the analysis cannot run here (another
/// target than x86-64 Linux, a stripped binary): the message says which.
#[macro_export]
macro_rules! assert_never_allocates {
    ($f:expr $(,)?) => {
        $crate::reach::assert_never_allocates($f as usize, stringify!($f))
    };
}

/// What [`assert_never_allocates!`](crate::assert_never_allocates) expands
/// to: `address` is the function's in this process, `what` its name as
/// written.
///
/// # Panics
///
/// See the macro.
///
/// # Allocation
///
/// What [`analyse`] allocates.
#[track_caller]
pub fn assert_never_allocates(address: usize, what: &str) {
    let r = match analyse(address, what) {
        Ok(r) => r,
        Err(e) => panic!("assert_never_allocates!({what}): {e}"),
    };
    match r.verdict {
        Verdict::None | Verdict::PanicOnly => {}
        Verdict::Indirect => panic!(
            "assert_never_allocates!({what}): cannot prove it: calls the analysis cannot follow\n{}",
            text(what, &r, false)
        ),
        Verdict::Allocates => panic!(
            "assert_never_allocates!({what}): it can allocate\n{}",
            text(what, &r, false)
        ),
    }
}
