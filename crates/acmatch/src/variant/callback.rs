//! `callback`: push matches into a generic sink, no buffer at all.
//!
//! The other variants *pull*: they collect matches into a buffer that the
//! caller reads after the call. Here the matcher *pushes* each match into a
//! caller-supplied `FnMut(Match)` the moment it is found, the way
//! `grep-searcher` pushes lines into a `Sink`. The closure's type is a generic
//! parameter, so the call is monomorphised and inlined into the scan loop
//! (static dispatch, no `dyn`), and there is nowhere to store a match, so
//! nothing can allocate. Each hit is expanded into its tokens immediately:
//! the two phases of the original run back to back.
//!
//! Pick it when the caller can act on each match as it comes (count, look up,
//! write out); pick `reuse` when it needs them all at once.

use std::convert::Infallible;

use crate::{Automaton, Cursor, Match, MatchError, Matcher};

/// Matches one chunk, calling `sink` for every match in report order, and
/// returns the number of matches.
///
/// # Allocation
///
/// Never allocates (what `sink` does is the caller's).
#[inline]
pub fn find<F: FnMut(Match)>(
    ac: &Automaton,
    cursor: &mut Cursor,
    chunk: &[u8],
    mut sink: F,
) -> usize {
    let mut n = 0;
    let Ok(()) = ac.scan::<Infallible>(cursor, chunk, |hit| {
        ac.expand(hit, |m| {
            n += 1;
            sink(m);
            Ok(())
        })
    });
    n
}

/// The `callback` variant as a [`Matcher`]: stateless.
///
/// # Allocation
///
/// Never allocates.
#[derive(Clone, Copy, Debug, Default)]
pub struct Callback;

impl Matcher for Callback {
    #[inline]
    fn find_chunk<F: FnMut(Match)>(
        &mut self,
        ac: &Automaton,
        cursor: &mut Cursor,
        chunk: &[u8],
        visit: F,
    ) -> Result<usize, MatchError> {
        Ok(find(ac, cursor, chunk, visit))
    }
}
