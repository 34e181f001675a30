//! Leaving a thread out of sampling: the profiler's own work.

use std::cell::Cell;

use super::UNSAMPLED;

/// While alive, this thread's allocations are never sampled: the profiler's
/// own work (answering a request, symbolizing, encoding, collecting CPU
/// samples) stays out of the profiles it serves. Every thread of
/// [`crate::live::Server`] holds one for its whole life. Frees are still
/// seen, so a block the program allocated and this thread frees leaves
/// *in use* as it should. Guards nest.
///
/// # Allocation
///
/// Never allocates.
#[derive(Debug)]
#[must_use = "sampling resumes when the guard is dropped"]
pub struct Unsampled {
    was: bool,
}

impl Unsampled {
    /// Stops sampling this thread's allocations until the guard drops.
    ///
    /// Never allocates.
    pub fn new() -> Unsampled {
        Unsampled {
            was: UNSAMPLED.try_with(|u| u.replace(true)).unwrap_or(false),
        }
    }
}

impl Default for Unsampled {
    fn default() -> Self {
        Unsampled::new()
    }
}

impl Drop for Unsampled {
    fn drop(&mut self) {
        let _ = UNSAMPLED.try_with(|u| u.set(self.was));
    }
}

/// Whether this thread's allocations are left out ([`Unsampled`]).
pub(in crate::live) fn unsampled() -> bool {
    UNSAMPLED.try_with(Cell::get).unwrap_or(false)
}
