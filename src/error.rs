//! The article layer's error type and its exit codes.

/// What can go wrong in the article's commands.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArticleError {
    /// Bad command-line usage.
    #[error("{0}")]
    Usage(String),
    /// A workload could not be loaded.
    #[error(transparent)]
    Workload(#[from] workload::WorkloadError),
    /// The patterns do not make an automaton.
    #[error("{context}: {source}")]
    Build {
        /// Where the patterns came from.
        context: String,
        /// Why.
        source: acmatch::BuildError,
    },
    /// Matching failed (a fixed-capacity buffer ran full). The matches of
    /// the calls before it were printed; none of this call's.
    #[error("{variant} variant, call {call}: {}", match_hint(error, *chunk))]
    Match {
        /// The variant.
        variant: acmatch::Variant,
        /// The call, from 1.
        call: usize,
        /// Bytes per call.
        chunk: usize,
        /// Why (said by the message with the option that helps, so not a
        /// `source` whose own advice would be printed too).
        error: acmatch::MatchError,
    },
    /// Output could not be written.
    #[error("cannot write the output")]
    Output(#[source] std::io::Error),
    /// The library's error.
    #[error(transparent)]
    Lab(#[from] escape_lab::Error),
}

/// What a full buffer means for `match`, with the option that helps.
fn match_hint(e: &acmatch::MatchError, chunk: usize) -> String {
    match e {
        acmatch::MatchError::BufferFull { buffer, capacity } => format!(
            "buffer full: the {buffer} buffer (capacity {capacity}) cannot hold one call's {buffer}; \
             use a smaller --chunk (now {chunk}; 0 means the whole haystack)"
        ),
        other => other.to_string(),
    }
}

impl ArticleError {
    /// The process exit code: 1 when matching itself failed, 2 for bad
    /// usage, bad input or an unwritable output.
    ///
    /// Never allocates.
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        match self {
            ArticleError::Match { .. } => 1,
            ArticleError::Lab(e) => e.exit_code(),
            _ => 2,
        }
    }
}
