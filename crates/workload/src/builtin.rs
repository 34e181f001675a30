//! The built-in workloads by name.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use crate::{article, synthetic, Workload, WorkloadError};

/// A workload that needs no file from the user.
///
/// The synthetic ones are generated and the same byte for byte on every
/// machine; the article ones read the original Go benchmark's data (see
/// [`article_dir`](crate::article_dir)). Names are stable: the CLI, reports,
/// the baseline and the benchmarks use them as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Builtin {
    /// `synthetic-en`: generated English-like text and dictionary, the
    /// project's default workload.
    SyntheticEn,
    /// `synthetic-zh`: generated Chinese (CJK UTF-8) text and dictionary.
    SyntheticZh,
    /// `article-en`: the original benchmark's English dictionary and text.
    ArticleEn,
    /// `article-zh`: the original benchmark's Chinese dictionary and text
    /// (folder `cn/`).
    ArticleZh,
}

impl Builtin {
    /// Every built-in workload, in the order `escape-lab list` shows them.
    pub const ALL: [Builtin; 4] = [
        Builtin::SyntheticEn,
        Builtin::SyntheticZh,
        Builtin::ArticleEn,
        Builtin::ArticleZh,
    ];

    /// The workload used when none is asked for.
    pub const DEFAULT: Builtin = Builtin::SyntheticEn;

    /// The stable name, such as `"synthetic-en"`.
    ///
    /// # Allocation
    ///
    /// Never.
    pub fn name(self) -> &'static str {
        match self {
            Builtin::SyntheticEn => "synthetic-en",
            Builtin::SyntheticZh => "synthetic-zh",
            Builtin::ArticleEn => "article-en",
            Builtin::ArticleZh => "article-zh",
        }
    }

    /// One line for `escape-lab list`.
    ///
    /// # Allocation
    ///
    /// Never.
    pub fn description(self) -> &'static str {
        match self {
            Builtin::SyntheticEn => {
                "generated English-like text, 1 MiB, ~40k patterns, ~0.65 matches per byte (the default)"
            }
            Builtin::SyntheticZh => {
                "generated Chinese text, 1 MiB, ~40k patterns, ~0.4 matches per byte"
            }
            Builtin::ArticleEn => {
                "the original benchmark's English data: 127,142 patterns, 3.4 MB of text (needs its data folder)"
            }
            Builtin::ArticleZh => {
                "the original benchmark's Chinese data: 153,151 patterns, 2.5 MB of text (needs its data folder)"
            }
        }
    }

    /// The built-in workload called `name`, or `None`. Names are matched
    /// exactly (lowercase, with hyphens).
    ///
    /// # Allocation
    ///
    /// Never.
    pub fn from_name(name: &str) -> Option<Builtin> {
        Builtin::ALL.into_iter().find(|b| b.name() == name)
    }

    /// Whether the workload reads files that are not in the repository (the
    /// article data), so that it can fail with
    /// [`WorkloadError::ArticleDataMissing`].
    ///
    /// # Allocation
    ///
    /// Never.
    pub fn needs_data(self) -> bool {
        matches!(self, Builtin::ArticleEn | Builtin::ArticleZh)
    }

    // "synthetic-en, synthetic-zh, article-en, article-zh", for messages.
    pub(crate) fn names_joined() -> String {
        Builtin::ALL.map(Builtin::name).join(", ")
    }
}

impl fmt::Display for Builtin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Builtin {
    type Err = WorkloadError;

    /// Parses a name as [`Builtin::from_name`] does.
    ///
    /// # Errors
    ///
    /// [`WorkloadError::UnknownWorkload`], whose message lists the valid
    /// names.
    ///
    /// # Allocation
    ///
    /// Only on error: the error's copy of `name`.
    fn from_str(name: &str) -> Result<Builtin, WorkloadError> {
        Builtin::from_name(name).ok_or_else(|| WorkloadError::UnknownWorkload {
            name: name.to_owned(),
        })
    }
}

/// Loads or generates a built-in workload.
///
/// `data_dir` is only used by the `article-*` workloads; it is the folder
/// that holds `en/` and `cn/`, and when it is `None` the folder is looked up
/// as [`article_dir`](crate::article_dir) does. The synthetic workloads ignore
/// it.
///
/// # Allocation
///
/// The returned [`Workload`]: one `Vec<u8>` per pattern, the haystack and the
/// two strings. The synthetic generators also allocate their vocabulary and
/// frequency tables (a few MiB at most) and free them before returning; the
/// article loader reads each file whole into memory first.
///
/// # Errors
///
/// For the `article-*` workloads: [`WorkloadError::ArticleDataMissing`] when
/// the files are not found, and the errors of
/// [`from_files`](crate::from_files) when they cannot be read or parsed. The
/// synthetic workloads never fail.
pub fn load_builtin(which: Builtin, data_dir: Option<&Path>) -> Result<Workload, WorkloadError> {
    match which {
        Builtin::SyntheticEn => Ok(synthetic::english()),
        Builtin::SyntheticZh => Ok(synthetic::chinese()),
        Builtin::ArticleEn => article::load(article::Lang::En, data_dir),
        Builtin::ArticleZh => article::load(article::Lang::Zh, data_dir),
    }
}
