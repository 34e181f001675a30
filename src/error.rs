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
    /// Matching failed (a fixed-capacity buffer ran full).
    #[error("{variant} variant, call {call}: {source}")]
    Match {
        /// The variant.
        variant: acmatch::Variant,
        /// The call, from 1.
        call: usize,
        /// Why.
        source: acmatch::MatchError,
    },
    /// Output could not be written.
    #[error("cannot write the output")]
    Output(#[source] std::io::Error),
    /// The library's error.
    #[error(transparent)]
    Lab(#[from] escape_lab::Error),
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
            _ => 2,
        }
    }
}
