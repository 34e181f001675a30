//! The harness's error type and the exit-code policy it implies.

use std::path::{Path, PathBuf};

/// What can go wrong in the harness outside a scenario (a failing scenario is
/// not an error: it is recorded in the run's summary).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HarnessError {
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
    /// A file or folder could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Output {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A file could not be read or parsed (a baseline, a summary).
    #[error("{0}")]
    Input(String),
    /// Matching failed (a fixed-capacity buffer ran full).
    #[error("{0}")]
    Match(String),
}

impl HarnessError {
    pub(crate) fn output(
        path: &Path,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> HarnessError {
        HarnessError::Output {
            path: path.to_path_buf(),
            source: source.into(),
        }
    }

    /// The process exit code for this error: 1 when matching itself failed,
    /// 2 for bad usage, bad input or an unwritable output.
    ///
    /// Never allocates.
    #[must_use]
    pub fn exit_code(&self) -> i32 {
        match self {
            HarnessError::Match(_) => 1,
            _ => 2,
        }
    }
}
