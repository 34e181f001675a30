//! `dyn_buffer`: the Go `interface{}` buffer, in Rust.
//!
//! The original matcher kept its hits and tokens in a generic, reusable
//! `FixedBuffer` of `interface{}` values behind an `iBufferOP` interface.
//! Storing a pointer in an `interface{}` made it escape to the heap, so every
//! push allocated. The Rust counterpart of "any value behind an interface" is
//! `Box<dyn Any>`, and of the interface-typed buffer `Box<dyn BufferOp>`:
//! every push is one `Box`, and every read is a dynamic downcast.
//!
//! The buffer storage itself is allocated once and reused, like the
//! original's; only the boxed values cost. Like `fixed` it holds a fixed
//! number of entries and the call fails rather than grow or drop matches.
//!
//! Pick it never; it is here to show the cost of type erasure in a hot path.

use std::any::Any;

use crate::{Automaton, Cursor, Hit, Match, MatchError, Matcher};

/// A type-erased buffer: the `iBufferOP` interface of the original.
pub trait BufferOp: std::fmt::Debug {
    /// Appends a value.
    ///
    /// # Errors
    ///
    /// `Err(capacity)` when the buffer is full; the value is dropped.
    ///
    /// # Allocation
    ///
    /// Never allocates (the value arrives boxed).
    fn push(&mut self, value: Box<dyn Any>) -> Result<(), usize>;
    /// The value at `index`, if any. Never allocates.
    fn get(&self, index: usize) -> Option<&dyn Any>;
    /// Number of values held. Never allocates.
    fn len(&self) -> usize;
    /// Whether the buffer holds no value. Never allocates.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Drops every value (freeing their boxes) and keeps the storage.
    fn reset(&mut self);
}

/// A [`BufferOp`] of fixed capacity: the original's `FixedBuffer`.
///
/// # Allocation
///
/// Its storage (one pointer pair per entry) once, in [`FixedBuffer::new`].
#[derive(Debug)]
pub struct FixedBuffer {
    items: Vec<Box<dyn Any>>,
    capacity: usize,
}

impl FixedBuffer {
    /// A buffer of `capacity` entries.
    ///
    /// # Allocation
    ///
    /// One allocation of `capacity` fat pointers (16 bytes each).
    #[must_use]
    pub fn new(capacity: usize) -> FixedBuffer {
        FixedBuffer {
            items: Vec::with_capacity(capacity),
            capacity,
        }
    }
}

impl BufferOp for FixedBuffer {
    fn push(&mut self, value: Box<dyn Any>) -> Result<(), usize> {
        if self.items.len() == self.capacity {
            return Err(self.capacity);
        }
        self.items.push(value);
        Ok(())
    }

    fn get(&self, index: usize) -> Option<&dyn Any> {
        self.items.get(index).map(|b| &**b)
    }

    fn len(&self) -> usize {
        self.items.len()
    }

    fn reset(&mut self) {
        self.items.clear();
    }
}

/// The `dyn_buffer` variant: hits and tokens in two `Box<dyn BufferOp>`.
///
/// # Allocation
///
/// At construction, the two buffers' storage. Per call, one `Box<dyn Any>`
/// per hit (24 bytes) and one per token (24 bytes); each call first frees the
/// previous call's boxes.
#[derive(Debug)]
pub struct DynBuffer {
    hits: Box<dyn BufferOp>,
    tokens: Box<dyn BufferOp>,
}

impl DynBuffer {
    /// A matcher whose two buffers hold `capacity` entries each.
    ///
    /// # Allocation
    ///
    /// Two `Box`es and two buffers of `capacity` fat pointers.
    #[must_use]
    pub fn new(capacity: usize) -> DynBuffer {
        DynBuffer {
            hits: Box::new(FixedBuffer::new(capacity)),
            tokens: Box::new(FixedBuffer::new(capacity)),
        }
    }

    /// Matches one chunk into the buffers and returns the number of matches;
    /// read them with [`DynBuffer::tokens`].
    ///
    /// # Errors
    ///
    /// [`MatchError::BufferFull`] naming the buffer when the chunk has more
    /// hits or tokens than it holds; the cursor is then left unchanged.
    ///
    /// # Allocation
    ///
    /// One `Box` per hit and per token; see the type.
    pub fn find(
        &mut self,
        ac: &Automaton,
        cursor: &mut Cursor,
        chunk: &[u8],
    ) -> Result<usize, MatchError> {
        self.hits.reset();
        self.tokens.reset();
        let mut local = *cursor;
        let hits = &mut self.hits;
        ac.scan(&mut local, chunk, |hit| {
            hits.push(Box::new(hit))
                .map_err(|capacity| MatchError::BufferFull {
                    buffer: "hits",
                    capacity,
                })
        })?;
        for i in 0..self.hits.len() {
            let Some(&hit) = self.hits.get(i).and_then(|v| v.downcast_ref::<Hit>()) else {
                continue; // only `Hit`s are ever pushed here
            };
            let tokens = &mut self.tokens;
            ac.expand(hit, |m| {
                tokens
                    .push(Box::new(m))
                    .map_err(|capacity| MatchError::BufferFull {
                        buffer: "tokens",
                        capacity,
                    })
            })?;
        }
        *cursor = local;
        Ok(self.tokens.len())
    }

    /// The last call's matches in report order, downcast one by one.
    ///
    /// # Allocation
    ///
    /// Never allocates.
    pub fn tokens(&self) -> impl Iterator<Item = Match> + '_ {
        (0..self.tokens.len())
            .filter_map(|i| self.tokens.get(i).and_then(|v| v.downcast_ref::<Match>()))
            .copied()
    }
}

impl Matcher for DynBuffer {
    fn find_chunk<F: FnMut(Match)>(
        &mut self,
        ac: &Automaton,
        cursor: &mut Cursor,
        chunk: &[u8],
        visit: F,
    ) -> Result<usize, MatchError> {
        let n = self.find(ac, cursor, chunk)?;
        self.tokens().for_each(visit);
        Ok(n)
    }
}
