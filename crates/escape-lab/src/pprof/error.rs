//! The one error type of the `pprof` modules.

use std::io;
use std::path::PathBuf;

/// What can go wrong while sampling, reading inputs or encoding profiles.
///
/// Messages are lowercase, have no trailing period, and name the file or the
/// entry involved; the underlying error, if any, is the
/// [`source`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// pprof-rs refused to start, most often because another profiler is
    /// already running in this process (pprof-rs allows one at a time).
    #[error("cannot start the cpu profiler at {frequency_hz} Hz (only one can run per process)")]
    StartProfiler {
        /// The frequency asked for, after clamping.
        frequency_hz: i32,
        /// What pprof-rs said.
        source: ::pprof::Error,
    },

    /// pprof-rs could not hand over its samples.
    #[error("cannot read the cpu profiler's samples")]
    Report {
        /// What pprof-rs said.
        source: ::pprof::Error,
    },

    /// A file could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },

    /// A dhat profile is not valid JSON of the expected shape.
    #[cfg(feature = "lab")]
    #[error("{what} is not a dhat heap profile")]
    DhatJson {
        /// The file name, or `"input"` when the JSON came from memory.
        what: String,
        /// What serde_json said (with line and column).
        source: serde_json::Error,
    },

    /// A dhat profile has another file version than 2, or another mode.
    #[error("{what}: {problem}")]
    DhatFormat {
        /// The file name, or `"input"`.
        what: String,
        /// What is wrong, naming the entry (`pps[3].fs[2]: …`).
        problem: String,
    },

    /// Compressing or decompressing a profile failed.
    #[error("cannot {action} the profile")]
    Gzip {
        /// `"compress"` or `"decompress"`.
        action: &'static str,
        /// The I/O error.
        source: io::Error,
    },

    /// Bytes are not a `profile.proto` message.
    #[error("not a pprof profile")]
    Decode {
        /// What prost said.
        source: prost::DecodeError,
    },

    /// A sample index or value type asked for is not in the profile.
    #[error("the profile has no sample type {wanted} (it has {available})")]
    NoSampleType {
        /// The index or name asked for.
        wanted: String,
        /// The profile's sample types, `type/unit`, comma separated.
        available: String,
    },
}
