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

/// The `fixed` variant's two buffers.
///
/// # Allocation
///
/// Two buffers at construction (`capacity` × 16 bytes of hits, `capacity` ×
/// 24 bytes of tokens); never while matching.
#[derive(Clone, Debug)]
pub struct Fixed {
    hits: Vec<Hit>,
    tokens: Vec<Match>,
    capacity: usize,
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
        Fixed {
            hits: Vec::with_capacity(capacity),
            tokens: Vec::with_capacity(capacity),
            capacity,
        }
    }

    /// Entries each buffer holds.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.capacity
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
        self.hits.clear();
        self.tokens.clear();
        let capacity = self.capacity;
        let mut local = *cursor;
        let hits = &mut self.hits;
        ac.scan(&mut local, chunk, |hit| {
            if hits.len() == capacity {
                return Err(MatchError::BufferFull {
                    buffer: "hits",
                    capacity,
                });
            }
            hits.push(hit);
            Ok(())
        })?;
        let tokens = &mut self.tokens;
        for &hit in &self.hits {
            ac.expand(hit, |m| {
                if tokens.len() == capacity {
                    return Err(MatchError::BufferFull {
                        buffer: "tokens",
                        capacity,
                    });
                }
                tokens.push(m);
                Ok(())
            })?;
        }
        *cursor = local;
        Ok(&self.tokens)
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
