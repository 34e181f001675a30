//! The one error type of this crate.

use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

/// Everything that can go wrong while loading a workload.
///
/// Every message is lowercase, has no trailing period and names the file (and
/// the line, where there is one) that caused it, so a binary can print it as
/// is. [`WorkloadError::Io`] keeps the operating system's error as its
/// [`source`](std::error::Error::source) and does not repeat it in its own
/// message: print the whole chain (anyhow's `{:#}`, or walk `source()`) to see
/// it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkloadError {
    /// A file could not be opened or read (missing, no permission, ...).
    #[error("cannot read {}", path.display())]
    Io {
        /// The file that was being read.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },

    /// A directory was given where a file was expected.
    #[error("{} is a directory, expected a file", path.display())]
    NotAFile {
        /// The directory.
        path: PathBuf,
    },

    /// A pattern line held only white space.
    ///
    /// Such a line is not skipped: it most likely meant a pattern of white
    /// space, which trimming would turn into nothing, and dropping it
    /// silently would lose it.
    #[error(
        "{}:{line}: pattern is only white space; a pattern file trims white space \
         around each line, so white space cannot be a pattern (delete the line \
         if it is not meant to be one)",
        path.display()
    )]
    EmptyPattern {
        /// The pattern file.
        path: PathBuf,
        /// The 1-based line number.
        line: usize,
    },

    /// A pattern file held no pattern at all (it was empty or only had empty
    /// lines).
    #[error("{}: no patterns (the file has no non-empty line)", path.display())]
    NoPatterns {
        /// The pattern file.
        path: PathBuf,
    },

    /// The files of an `article-*` workload were not found.
    #[error("{}", article_missing_message(dir.as_deref(), missing))]
    ArticleDataMissing {
        /// The data directory that was searched (the one holding `en/` and
        /// `cn/`), or `None` when no directory was given and none was found.
        dir: Option<PathBuf>,
        /// The files that are needed but absent: full paths below `dir` when
        /// there is one, otherwise paths relative to the data directory, such
        /// as `en/dictionary.txt`.
        missing: Vec<PathBuf>,
    },

    /// A workload name that is not one of [`Builtin::ALL`](crate::Builtin::ALL).
    #[error(
        "unknown workload `{name}` (valid names: {})",
        crate::Builtin::names_joined()
    )]
    UnknownWorkload {
        /// The name as given.
        name: String,
    },
}

// Writes the message of `ArticleDataMissing`. It is long because it is the
// only help a user gets: which files, where they were looked for, where they
// come from and how to point at them.
fn article_missing_message(dir: Option<&Path>, missing: &[PathBuf]) -> String {
    // The missing files all sit in one language folder; name its pair.
    let lang = missing
        .iter()
        .filter_map(|p| p.parent()?.file_name()?.to_str())
        .next()
        .unwrap_or("en");
    let mut msg = format!(
        "article data not found: the workload needs {lang}/dictionary.txt and {lang}/text.txt"
    );
    match dir {
        Some(dir) => {
            let _ = write!(msg, " in {}; missing: ", dir.display());
            for (i, path) in missing.iter().enumerate() {
                if i > 0 {
                    msg.push_str(", ");
                }
                let _ = write!(msg, "{}", path.display());
            }
        }
        None => msg.push_str(
            "; no data directory was given and none was found (--data-dir and \
             ESCAPE_LAB_DATA are unset)",
        ),
    }
    msg.push_str(
        "; the files come from the benchmark/ folder of the GitHub repository \
         iohub/Ahocorasick; point at the folder that holds en/ and cn/ with \
         --data-dir DIR or ESCAPE_LAB_DATA=DIR",
    );
    msg
}
