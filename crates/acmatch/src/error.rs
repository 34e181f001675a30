//! Errors: building an automaton, and a fixed-capacity buffer running full.

use std::fmt;

/// Why an automaton could not be built.
///
/// # Allocation
///
/// Never allocates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildError {
    kind: BuildErrorKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum BuildErrorKind {
    NoPatterns,
    EmptyPattern { index: usize },
    TooManyPatterns { count: usize },
    TooLarge,
}

impl BuildError {
    pub(crate) fn no_patterns() -> BuildError {
        BuildError {
            kind: BuildErrorKind::NoPatterns,
        }
    }

    pub(crate) fn empty_pattern(index: usize) -> BuildError {
        BuildError {
            kind: BuildErrorKind::EmptyPattern { index },
        }
    }

    pub(crate) fn too_many_patterns(count: usize) -> BuildError {
        BuildError {
            kind: BuildErrorKind::TooManyPatterns { count },
        }
    }

    pub(crate) fn too_large() -> BuildError {
        BuildError {
            kind: BuildErrorKind::TooLarge,
        }
    }

    /// The index (id) of the empty pattern, when that is the error.
    ///
    /// Never allocates.
    #[must_use]
    pub fn empty_pattern_index(&self) -> Option<usize> {
        match self.kind {
            BuildErrorKind::EmptyPattern { index } => Some(index),
            _ => None,
        }
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            BuildErrorKind::NoPatterns => write!(f, "no patterns: an automaton needs at least one"),
            BuildErrorKind::EmptyPattern { index } => write!(
                f,
                "pattern {index} is empty (an empty pattern would match at every position)"
            ),
            BuildErrorKind::TooManyPatterns { count } => {
                write!(
                    f,
                    "{count} patterns is more than 32-bit pattern ids can number"
                )
            }
            BuildErrorKind::TooLarge => {
                write!(
                    f,
                    "the patterns need more states than 32-bit state ids can address"
                )
            }
        }
    }
}

impl std::error::Error for BuildError {}

/// A match call that could not complete. Matches are never dropped silently:
/// the call that fails leaves its [`crate::Cursor`] where it was, so the same
/// chunk can be matched again (in smaller pieces, or with larger buffers).
///
/// # Allocation
///
/// Never allocates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MatchError {
    /// A fixed-capacity buffer (`fixed`, `dyn_buffer`) was full.
    BufferFull {
        /// Which buffer: `"hits"` or `"tokens"`.
        buffer: &'static str,
        /// Its capacity in entries.
        capacity: usize,
    },
}

impl fmt::Display for MatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            MatchError::BufferFull { buffer, capacity } => write!(
                f,
                "buffer full (capacity {capacity}): the {buffer} buffer cannot hold this chunk's \
                 {buffer}; use smaller chunks or a larger capacity"
            ),
        }
    }
}

impl std::error::Error for MatchError {}
