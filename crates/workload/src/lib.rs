//! Workloads for escape-lab: the patterns and the haystack a matcher runs on.
//!
//! A [`Workload`] is a list of patterns (byte strings; a pattern's id is its
//! index), a haystack (bytes) and a name. They come from three places:
//!
//! - **Generated**: [`Builtin::SyntheticEn`] (the default) and
//!   [`Builtin::SyntheticZh`], made by a seeded generator of this crate, so
//!   they are the same byte for byte on every machine and with every version
//!   of every dependency, and need no file. They are tuned to look like the
//!   original benchmark to a matcher: about 0.6 (English) and 0.4 (Chinese)
//!   overlapping matches per byte.
//! - **The original benchmark's data**: [`Builtin::ArticleEn`] and
//!   [`Builtin::ArticleZh`], read from a folder that is not in the repository
//!   (see [`article_dir`]).
//! - **Files**: [`from_files`], with the pattern-file rules of
//!   [`parse_patterns`].
//!
//! [`scaling`] builds the word lists and texts for measuring a matcher at
//! every dictionary size (random samples of a real word list), from the
//! same data folder.
//!
//! This crate knows nothing about matching: it depends on no matcher crate
//! (its tests use `aho-corasick` to measure match density).
//!
//! # Example
//!
//! ```
//! use workload::{load_builtin, Builtin};
//!
//! let w = load_builtin(Builtin::DEFAULT, None)?;
//! assert_eq!(w.name, "synthetic-en");
//! assert!(w.haystack.len() > 1_000_000);
//! # Ok::<(), workload::WorkloadError>(())
//! ```
#![deny(missing_docs)]

mod article;
mod builtin;
mod error;
mod file;
pub mod scaling;
mod synthetic;

use std::fmt;

pub use article::article_dir;
pub use builtin::{load_builtin, Builtin};
pub use error::WorkloadError;
pub use file::{from_bytes, from_files, parse_patterns};

/// The environment variable naming the folder of the article data (the one
/// holding `en/` and `cn/`), used when no folder is given explicitly.
pub const DATA_ENV: &str = "ESCAPE_LAB_DATA";

/// Patterns and a haystack to match them against.
///
/// `Debug` prints the sizes, not the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Workload {
    /// The workload's name: a [`Builtin::name`], or `"files"` for
    /// [`from_files`].
    pub name: String,
    /// The patterns; a pattern's id is its index. Duplicates are allowed and
    /// each has its own id.
    pub patterns: Vec<Vec<u8>>,
    /// The bytes to search; not necessarily UTF-8.
    pub haystack: Vec<u8>,
    /// One line saying where the workload came from, for reports.
    pub description: String,
}

impl Workload {
    /// The sum of the pattern lengths in bytes.
    ///
    /// # Allocation
    ///
    /// Never.
    pub fn pattern_bytes(&self) -> usize {
        self.patterns.iter().map(Vec::len).sum()
    }
}

impl fmt::Debug for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Workload")
            .field("name", &self.name)
            .field("patterns", &self.patterns.len())
            .field("pattern_bytes", &self.pattern_bytes())
            .field("haystack_bytes", &self.haystack.len())
            .field("description", &self.description)
            .finish()
    }
}

// The README's examples run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_sync() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<Workload>();
        assert_send_sync::<WorkloadError>();
        assert_send_sync::<Builtin>();
    }

    #[test]
    fn pattern_bytes_sums_lengths() {
        let w = Workload {
            name: "t".into(),
            patterns: vec![b"ab".to_vec(), b"".to_vec(), "中".as_bytes().to_vec()],
            haystack: vec![],
            description: String::new(),
        };
        assert_eq!(w.pattern_bytes(), 5);
    }

    #[test]
    fn builtin_names_round_trip_and_are_unique() {
        for b in Builtin::ALL {
            assert_eq!(Builtin::from_name(b.name()), Some(b));
            assert_eq!(b.name().parse::<Builtin>().unwrap(), b);
            assert_eq!(b.to_string(), b.name());
            assert!(!b.description().is_empty());
            assert!(!b.description().contains('\n'));
        }
        let mut names = Builtin::ALL.map(Builtin::name).to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Builtin::ALL.len());
        assert_eq!(Builtin::DEFAULT, Builtin::SyntheticEn);
        assert!(Builtin::ALL
            .iter()
            .all(|b| b.needs_data() == b.name().starts_with("article")));
    }

    #[test]
    fn unknown_builtin_lists_valid_names() {
        assert_eq!(Builtin::from_name("Synthetic-EN"), None);
        let err = "nope".parse::<Builtin>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown workload `nope` (valid names: synthetic-en, synthetic-zh, article-en, article-zh)"
        );
    }
}
