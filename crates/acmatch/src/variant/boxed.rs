//! `boxed`: the "before" code as a Rust beginner writes it.
//!
//! Every call collects its hits into a fresh `Vec<Box<Hit>>`, then expands
//! them into a fresh `Vec<Box<Match>>` that it returns. Each `Box` is a heap
//! allocation, and each `Vec` reallocates as it grows: the allocation count
//! grows with the number of matches, as the Go matcher's did when every
//! `&MatchToken{}` escaped to the heap. Nothing about it is wrong, only
//! wasteful; the allocation-site report (`sites.txt`) points at the two
//! `Box::new` lines below.
//!
//! Pick it never, except to see what the others save.

use std::convert::Infallible;

use crate::{Automaton, Cursor, Hit, Match, MatchError, Matcher};

/// Matches one chunk and returns its matches, each in its own `Box`, in
/// report order.
///
/// # Allocation
///
/// Per call: one `Box<Hit>` (24 bytes) per hit and one `Box<Match>`
/// (24 bytes) per token, plus the growth of two `Vec`s of pointers that start
/// empty (capacity 4, then doubling). The returned `Vec` is the caller's to
/// drop.
#[must_use]
pub fn find(ac: &Automaton, cursor: &mut Cursor, chunk: &[u8]) -> Vec<Box<Match>> {
    let mut hits: Vec<Box<Hit>> = Vec::new();
    let Ok(()) = ac.scan::<Infallible>(cursor, chunk, |hit| {
        hits.push(Box::new(hit));
        Ok(())
    });
    let mut tokens: Vec<Box<Match>> = Vec::new();
    for hit in &hits {
        let Ok(()) = ac.expand::<Infallible>(**hit, |m| {
            tokens.push(Box::new(m));
            Ok(())
        });
    }
    tokens
}

/// The `boxed` variant as a [`Matcher`]: stateless.
///
/// # Allocation
///
/// `find_chunk` allocates what [`find`] does and frees it before returning.
#[derive(Clone, Copy, Debug, Default)]
pub struct Boxed;

impl Matcher for Boxed {
    fn find_chunk<F: FnMut(Match)>(
        &mut self,
        ac: &Automaton,
        cursor: &mut Cursor,
        chunk: &[u8],
        mut visit: F,
    ) -> Result<usize, MatchError> {
        let tokens = find(ac, cursor, chunk);
        for m in &tokens {
            visit(**m);
        }
        Ok(tokens.len())
    }
}
