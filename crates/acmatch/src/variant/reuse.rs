//! `reuse`: what a Rust programmer would write, two `Vec`s cleared per call.
//!
//! The buffers belong to the caller and survive between calls; `clear` keeps
//! their capacity, so after the first few calls (the warm-up) they are big
//! enough and a call allocates nothing. Unlike `fixed` it cannot fail: a
//! chunk with more matches than ever before grows the buffers once. Pick it
//! when you want the matches as a slice and any input must work.

use std::convert::Infallible;

use crate::{Automaton, Cursor, Hit, Match, MatchError, Matcher};

/// The `reuse` variant's two growable buffers.
///
/// # Allocation
///
/// Nothing at construction. A call allocates only when its chunk has more
/// hits or tokens than any earlier call (each buffer doubles as a `Vec`
/// does); zero once warmed up.
#[derive(Clone, Debug, Default)]
pub struct Reuse {
    hits: Vec<Hit>,
    tokens: Vec<Match>,
}

impl Reuse {
    /// Empty buffers.
    ///
    /// # Allocation
    ///
    /// Never allocates.
    #[must_use]
    pub fn new() -> Reuse {
        Reuse::default()
    }

    /// Matches one chunk and returns its matches in report order.
    ///
    /// # Allocation
    ///
    /// Only to grow a buffer beyond its largest size so far; see the type.
    pub fn find(&mut self, ac: &Automaton, cursor: &mut Cursor, chunk: &[u8]) -> &[Match] {
        self.hits.clear();
        self.tokens.clear();
        let hits = &mut self.hits;
        let Ok(()) = ac.scan::<Infallible>(cursor, chunk, |hit| {
            hits.push(hit);
            Ok(())
        });
        let tokens = &mut self.tokens;
        for &hit in &self.hits {
            let Ok(()) = ac.expand::<Infallible>(hit, |m| {
                tokens.push(m);
                Ok(())
            });
        }
        &self.tokens
    }
}

impl Matcher for Reuse {
    fn find_chunk<F: FnMut(Match)>(
        &mut self,
        ac: &Automaton,
        cursor: &mut Cursor,
        chunk: &[u8],
        visit: F,
    ) -> Result<usize, MatchError> {
        let tokens = self.find(ac, cursor, chunk);
        tokens.iter().copied().for_each(visit);
        Ok(tokens.len())
    }
}
