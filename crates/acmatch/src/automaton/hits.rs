//! The automaton's steps outside the block loops, and hits: from a state
//! to the next (`step`, `output_of`), a cursor's state checked
//! (`start_state`), and a hit's matches read off its output chain (`hit`,
//! `expand`).

use super::scan::prefetch;
use super::walks::DaCore;
use super::{Automaton, ROOT};
use crate::{Cursor, Hit, Match};

impl Automaton {
    /// A state index that is safe to start from.
    #[inline(always)]
    pub(super) fn start_state(&self, cursor: &Cursor) -> u32 {
        if (cursor.state as usize) < self.states.len() {
            cursor.state
        } else {
            // A cursor from a larger automaton: restart rather than read out
            // of bounds. Documented on `Cursor`.
            ROOT
        }
    }

    /// The head of state `s`'s output chain: 0 when no pattern ends there.
    /// Requires `s < states.len()`.
    #[inline(always)]
    pub(super) fn output_of(&self, s: u32) -> u32 {
        DaCore::of(self).output_of(s)
    }

    /// The transition from `s` on `code`, following failure links; the dead
    /// code goes straight to the root.
    ///
    /// Requires `s < states.len()` and `code < alphabet.len`; returns a slot
    /// with the same property.
    #[inline(always)]
    pub(super) fn step(&self, s: u32, code: u32) -> u32 {
        DaCore::of(self).step(s, code)
    }

    /// A hit at `end` for the output chain starting at entry `out` (non-zero),
    /// carrying that first entry, which the block loops prefetched when
    /// they found the hit; the buffered variants' second phase then starts
    /// from data it already holds, and the next entry is on its way.
    #[inline(always)]
    pub(in crate::automaton) fn hit(&self, end: usize, out: u32) -> Hit {
        let first = self.outputs[out as usize];
        // The rest of the chain is read when the hit is expanded: now for
        // `callback`, in the second phase for the buffered variants, by
        // which time this load has arrived.
        prefetch(&self.outputs, first.next);
        Hit {
            end,
            pattern: first.pattern,
            len: first.len,
            next: first.next,
        }
    }

    /// Expands a hit into its tokens, longest pattern first, by following the
    /// output chain it recorded; stops at the first error. Reads only the
    /// outputs array, not the state: by the second phase of a buffered
    /// variant, the state's record may have left the cache.
    #[inline(always)]
    pub(crate) fn expand<E>(
        &self,
        hit: Hit,
        mut on_match: impl FnMut(Match) -> Result<(), E>,
    ) -> Result<(), E> {
        on_match(Match {
            pattern: hit.pattern,
            start: hit.end - hit.len as usize,
            end: hit.end,
        })?;
        let mut o = hit.next;
        while o != 0 {
            let entry = self.outputs[o as usize];
            on_match(Match {
                pattern: entry.pattern,
                start: hit.end - entry.len as usize,
                end: hit.end,
            })?;
            o = entry.next;
        }
        Ok(())
    }

    /// Number of tokens a hit expands into.
    #[cfg(test)]
    pub(crate) fn outputs_at(&self, hit: Hit) -> usize {
        let mut n = 0;
        let _ = self.expand::<()>(hit, |_| {
            n += 1;
            Ok(())
        });
        n
    }
}
