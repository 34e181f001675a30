//! `fixed`: two typed buffers of fixed capacity, the Go fix (`mbuf`).
//!
//! The original's cure was a concrete buffer: `mbuf { token []MatchToken;
//! at []matchAt }`, two typed slices of 4,096 entries allocated once and
//! reset on every call, so a match call allocated nothing. This is that
//! buffer in Rust: a `Vec<Hit>` and a `Vec<Match>` allocated once with a fixed
//! capacity and never grown.
//!
//! Fixed capacity is a contract with the caller: with the article's 2,048-byte
//! chunks a chunk has at most 2,048 hits, but a dense dictionary can give more
//! than 4,096 tokens. When either buffer is full the call returns
//! [`MatchError::BufferFull`] naming the buffer and its capacity, and leaves
//! the cursor where it was: it never panics and never drops a match. Pick it
//! when a hard bound on memory matters more than handling any input.

use crate::{Automaton, Cursor, Hit, Match, MatchError, Matcher};

/// The `fixed` variant's two buffers, with their fill counts: Go's
/// `mbuf { token []MatchToken; at []matchAt; ti, ai int }`.
///
/// # Allocation
///
/// Two buffers at construction (`capacity` × 24 bytes of hits, `capacity` ×
/// 24 bytes of tokens); never while matching.
#[derive(Clone, Debug)]
pub struct Fixed {
    hits: Box<[Hit]>,
    tokens: Box<[Match]>,
}

impl Fixed {
    /// Buffers of `capacity` entries each ([`crate::DEFAULT_CAPACITY`] in the
    /// original).
    ///
    /// # Allocation
    ///
    /// The two buffers, once.
    #[must_use]
    pub fn new(capacity: usize) -> Fixed {
        let hit = Hit {
            end: 0,
            pattern: 0,
            len: 0,
            next: 0,
        };
        let token = Match {
            pattern: 0,
            start: 0,
            end: 0,
        };
        Fixed {
            hits: vec![hit; capacity].into_boxed_slice(),
            tokens: vec![token; capacity].into_boxed_slice(),
        }
    }

    /// Entries each buffer holds.
    ///
    /// Never allocates.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.hits.len()
    }

    /// Matches one chunk and returns its matches in report order.
    ///
    /// # Errors
    ///
    /// [`MatchError::BufferFull`] when the chunk has more hits or tokens than
    /// `capacity`; the cursor is then unchanged and no match is lost: match
    /// the chunk again in smaller pieces or with a larger buffer.
    ///
    /// # Allocation
    ///
    /// Never allocates.
    pub fn find(
        &mut self,
        ac: &Automaton,
        cursor: &mut Cursor,
        chunk: &[u8],
    ) -> Result<&[Match], MatchError> {
        let mut local = *cursor;
        // Fill counts live in locals, not behind `&mut self`, so the scan
        // loop keeps them in registers.
        let hits = &mut *self.hits;
        let mut n_hits = 0;
        ac.scan(&mut local, chunk, |hit| {
            let Some(slot) = hits.get_mut(n_hits) else {
                return Err(MatchError::BufferFull {
                    buffer: "hits",
                    capacity: hits.len(),
                });
            };
            *slot = hit;
            n_hits += 1;
            Ok(())
        })?;
        let tokens = &mut *self.tokens;
        let mut n_tokens = 0;
        for &hit in &self.hits[..n_hits] {
            ac.expand(hit, |m| {
                let Some(slot) = tokens.get_mut(n_tokens) else {
                    return Err(MatchError::BufferFull {
                        buffer: "tokens",
                        capacity: tokens.len(),
                    });
                };
                *slot = m;
                n_tokens += 1;
                Ok(())
            })?;
        }
        *cursor = local;
        Ok(&self.tokens[..n_tokens])
    }
}

impl Matcher for Fixed {
    fn find_chunk<F: FnMut(Match)>(
        &mut self,
        ac: &Automaton,
        cursor: &mut Cursor,
        chunk: &[u8],
        visit: F,
    ) -> Result<usize, MatchError> {
        let tokens = self.find(ac, cursor, chunk)?;
        tokens.iter().copied().for_each(visit);
        Ok(tokens.len())
    }
}
