//! The five variants: one module each, one trait ([`Matcher`]), one enum
//! ([`Variant`]) that tests, benchmarks and the harness iterate.
//!
//! Adding a variant is one new module here plus one arm in [`Variant`] and
//! [`AnyMatcher`].

use std::fmt;
use std::str::FromStr;

use crate::{Automaton, Cursor, Match, MatchError};

pub mod boxed;
pub mod callback;
pub mod dyn_buffer;
pub mod fixed;
pub mod reuse;

/// One way of getting matches out of the scan loop, behind one signature so
/// that tests, benchmarks and the harness can drive every variant alike.
///
/// `find_chunk` is one *call*: the unit that "allocations per call" counts.
/// It matches `chunk` (the bytes that follow those already seen through
/// `cursor`), passes every match to `visit` in report order, and returns how
/// many there were. Each implementation documents, under `# Allocation`, what
/// one call allocates; `visit` is the caller's and is not counted.
pub trait Matcher {
    /// Matches one chunk; see the trait documentation.
    ///
    /// # Errors
    ///
    /// [`MatchError::BufferFull`] from the fixed-capacity variants, with the
    /// cursor left unchanged; the others never fail.
    fn find_chunk<F: FnMut(Match)>(
        &mut self,
        ac: &Automaton,
        cursor: &mut Cursor,
        chunk: &[u8],
        visit: F,
    ) -> Result<usize, MatchError>;
}

/// The variants by name. Names are stable: the CLI, reports, the baseline and
/// the benchmarks use them as written.
///
/// # Allocation
///
/// A plain `Copy` value; never allocates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Variant {
    /// [`boxed`]: a fresh `Vec` per call, one `Box` per hit and per token.
    Boxed,
    /// [`dyn_buffer`]: `Box<dyn Any>` values through a `Box<dyn BufferOp>`.
    DynBuffer,
    /// [`fixed`]: two typed fixed-capacity buffers, reset per call.
    Fixed,
    /// [`reuse`]: two caller-owned `Vec`s cleared per call.
    Reuse,
    /// [`callback`]: a generic `FnMut(Match)` sink.
    Callback,
}

impl Variant {
    /// Every variant, in the order reports list them.
    pub const ALL: [Variant; 5] = [
        Variant::Boxed,
        Variant::DynBuffer,
        Variant::Fixed,
        Variant::Reuse,
        Variant::Callback,
    ];

    /// The stable name: `boxed`, `dyn_buffer`, `fixed`, `reuse`, `callback`.
    ///
    /// Never allocates.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Variant::Boxed => "boxed",
            Variant::DynBuffer => "dyn_buffer",
            Variant::Fixed => "fixed",
            Variant::Reuse => "reuse",
            Variant::Callback => "callback",
        }
    }

    /// One line for listings: the mechanism and what one call allocates.
    #[must_use]
    pub fn description(self) -> &'static str {
        match self {
            Variant::Boxed => {
                "fresh Vec<Box<_>> of hits and tokens per call: allocates per hit and per token"
            }
            Variant::DynBuffer => {
                "Box<dyn Any> pushed through Box<dyn BufferOp> (Go's interface{} buffer): one allocation per hit and per token"
            }
            Variant::Fixed => {
                "two typed buffers of fixed capacity (Go's mbuf), reset per call: zero allocations; errors when full"
            }
            Variant::Reuse => {
                "two caller-owned Vecs cleared per call: zero allocations after warm-up"
            }
            Variant::Callback => {
                "generic FnMut(Match) sink, static dispatch, no buffer: zero allocations"
            }
        }
    }

    /// The variant called `name`, if any.
    ///
    /// Never allocates.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Variant> {
        Variant::ALL.into_iter().find(|v| v.name() == name)
    }

    /// A matcher of this variant, with default capacities.
    ///
    /// # Allocation
    ///
    /// `fixed` and `dyn_buffer` allocate their two buffers of
    /// [`crate::DEFAULT_CAPACITY`] entries here; the others allocate nothing.
    #[must_use]
    pub fn matcher(self) -> AnyMatcher {
        self.matcher_with_capacity(crate::DEFAULT_CAPACITY)
    }

    /// A matcher of this variant whose fixed-capacity buffers (if it has
    /// any) hold `capacity` entries each.
    ///
    /// # Allocation
    ///
    /// As [`Variant::matcher`], with `capacity` entries per buffer.
    #[must_use]
    pub fn matcher_with_capacity(self, capacity: usize) -> AnyMatcher {
        match self {
            Variant::Boxed => AnyMatcher::Boxed(boxed::Boxed),
            Variant::DynBuffer => AnyMatcher::DynBuffer(dyn_buffer::DynBuffer::new(capacity)),
            Variant::Fixed => AnyMatcher::Fixed(fixed::Fixed::new(capacity)),
            Variant::Reuse => AnyMatcher::Reuse(reuse::Reuse::new()),
            Variant::Callback => AnyMatcher::Callback(callback::Callback),
        }
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of parsing an unknown variant name; its message lists the
/// valid names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownVariant(pub String);

impl fmt::Display for UnknownVariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown variant {:?}; expected one of: ", self.0)?;
        for (i, v) in Variant::ALL.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(v.name())?;
        }
        Ok(())
    }
}

impl std::error::Error for UnknownVariant {}

impl FromStr for Variant {
    type Err = UnknownVariant;

    fn from_str(s: &str) -> Result<Variant, UnknownVariant> {
        Variant::from_name(s).ok_or_else(|| UnknownVariant(s.to_string()))
    }
}

/// A matcher of any variant: what code that picks the variant at run time
/// holds. The `match` on the variant happens once per call, outside the scan
/// loop.
///
/// # Allocation
///
/// Whatever the wrapped variant allocates; the enum adds nothing.
#[derive(Debug)]
pub enum AnyMatcher {
    /// See [`boxed`].
    Boxed(boxed::Boxed),
    /// See [`dyn_buffer`].
    DynBuffer(dyn_buffer::DynBuffer),
    /// See [`fixed`].
    Fixed(fixed::Fixed),
    /// See [`reuse`].
    Reuse(reuse::Reuse),
    /// See [`callback`].
    Callback(callback::Callback),
}

impl AnyMatcher {
    /// Which variant this is.
    ///
    /// Never allocates.
    #[must_use]
    pub fn variant(&self) -> Variant {
        match self {
            AnyMatcher::Boxed(_) => Variant::Boxed,
            AnyMatcher::DynBuffer(_) => Variant::DynBuffer,
            AnyMatcher::Fixed(_) => Variant::Fixed,
            AnyMatcher::Reuse(_) => Variant::Reuse,
            AnyMatcher::Callback(_) => Variant::Callback,
        }
    }
}

impl Matcher for AnyMatcher {
    #[inline]
    fn find_chunk<F: FnMut(Match)>(
        &mut self,
        ac: &Automaton,
        cursor: &mut Cursor,
        chunk: &[u8],
        visit: F,
    ) -> Result<usize, MatchError> {
        match self {
            AnyMatcher::Boxed(m) => m.find_chunk(ac, cursor, chunk, visit),
            AnyMatcher::DynBuffer(m) => m.find_chunk(ac, cursor, chunk, visit),
            AnyMatcher::Fixed(m) => m.find_chunk(ac, cursor, chunk, visit),
            AnyMatcher::Reuse(m) => m.find_chunk(ac, cursor, chunk, visit),
            AnyMatcher::Callback(m) => m.find_chunk(ac, cursor, chunk, visit),
        }
    }
}
