//! The library's error type and the exit-code policy it implies.
//!
//! A failing *scenario* is not an error: it is recorded in the run's summary
//! with its [`Status`](crate::model::Status), and the other scenarios go on.
//! These are the errors of the run itself: bad options, files that cannot
//! be read or written.

use std::io;
use std::path::PathBuf;

/// What can go wrong outside a scenario.
///
/// Messages are lowercase, have no trailing period, and name the file
/// involved; the underlying error is the [`source`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An option has a value that cannot work.
    #[error("{option}: {problem}")]
    Usage {
        /// The option, as the command line spells it (`--cpu-seconds`).
        option: String,
        /// What is wrong with its value.
        problem: String,
    },
    /// A file or folder could not be written.
    #[error("cannot write {}", path.display())]
    Write {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A file could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A JSON file (a baseline, a summary, a result) is not what it should be.
    #[error("{}: {problem}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong with it, naming the field when one is at fault.
        problem: String,
    },
    /// A flamegraph could not be drawn.
    #[error(transparent)]
    Flame(#[from] crate::flame::FlameError),
    /// A signal (SIGINT, SIGTERM, SIGHUP) stopped the run; its children were
    /// killed and its temporary files removed.
    #[error("stopped by a signal; nothing was written")]
    Cancelled,
    /// An input could not be read or staged.
    #[error(transparent)]
    Input(#[from] crate::input::InputError),
    /// The report could not be written to standard output (a full disk, a
    /// closed pipe): the exit code is 2, not the verdict's.
    #[error("cannot write to standard output")]
    Stdout(#[source] io::Error),
    /// A profile could not be taken, read or encoded.
    #[error(transparent)]
    Profile(#[from] crate::pprof::Error),
    /// The static reachability analysis could not read the program.
    #[error(transparent)]
    Reach(#[from] crate::reach::ReachError),
    /// The live endpoints could not start (feature `live`).
    #[cfg(feature = "live")]
    #[error(transparent)]
    Live(#[from] crate::live::LiveError),
}

impl Error {
    /// The process exit code for this error: 130 when a signal stopped the
    /// run (as shells report SIGINT), otherwise 2 (bad usage, bad input or
    /// an output that cannot be written). Regressions and failed scenarios
    /// are not errors and exit 1 through their outcomes.
    ///
    /// Never allocates.
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Cancelled => 130,
            _ => 2,
        }
    }

    pub(crate) fn write(path: impl Into<PathBuf>, source: io::Error) -> Error {
        Error::Write {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn read(path: impl Into<PathBuf>, source: io::Error) -> Error {
        Error::Read {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn malformed(path: impl Into<PathBuf>, problem: impl Into<String>) -> Error {
        Error::Malformed {
            path: path.into(),
            problem: problem.into(),
        }
    }
}
