//! The original Go benchmark's data: `article-en` and `article-zh`.
//!
//! The data is not in the repository (it is the original benchmark's, not
//! ours to commit); the folder that holds `en/` and `cn/` is found by [`article_dir`].

use std::env;
use std::path::{Path, PathBuf};

use crate::{file, Builtin, Workload, WorkloadError, DATA_ENV};

/// Finds the folder holding the article data (`en/` and `cn/`).
///
/// In order: `explicit` when given (whether or not it exists, so that an
/// error can name it); else the environment variable [`DATA_ENV`]
/// (`ESCAPE_LAB_DATA`) when it is set and not empty; else the developers'
/// layout, `shared/data/article` beside the repository (found from this
/// crate's source folder at compile time), when it exists; else `None`.
///
/// # Allocation
///
/// The returned path, and the environment variable's value while it is read.
pub fn article_dir(explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(dir) = explicit {
        return Some(dir.to_owned());
    }
    if let Some(dir) = env::var_os(DATA_ENV).filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    // <repo>/crates/workload -> <repo>/../shared/data/article, where the
    // developers' machines and CI keep the data beside the checkout. `ancestors`
    // rather than `..` keeps the path readable in messages.
    let dev = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(3)?
        .join("shared/data/article");
    dev.is_dir().then_some(dev)
}

/// Which half of the article data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lang {
    /// `en/`.
    En,
    /// `cn/`.
    Zh,
}

impl Lang {
    fn folder(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "cn",
        }
    }
}

/// Loads `<dir>/<en|cn>/dictionary.txt` and `text.txt` with the pattern-file
/// rules of [`parse_patterns`](crate::parse_patterns).
pub(crate) fn load(lang: Lang, data_dir: Option<&Path>) -> Result<Workload, WorkloadError> {
    let folder = lang.folder();
    let relative = [
        Path::new(folder).join("dictionary.txt"),
        Path::new(folder).join("text.txt"),
    ];
    let Some(dir) = article_dir(data_dir) else {
        return Err(WorkloadError::ArticleDataMissing {
            dir: None,
            missing: relative.to_vec(),
        });
    };
    let [dictionary, text] = relative.map(|r| dir.join(r));
    let missing: Vec<PathBuf> = [&dictionary, &text]
        .into_iter()
        .filter(|p| !p.exists())
        .cloned()
        .collect();
    if !missing.is_empty() {
        return Err(WorkloadError::ArticleDataMissing {
            dir: Some(dir),
            missing,
        });
    }
    let mut workload = file::from_files(&dictionary, &text)?;
    let builtin = match lang {
        Lang::En => Builtin::ArticleEn,
        Lang::Zh => Builtin::ArticleZh,
    };
    workload.name = builtin.name().to_owned();
    workload.description = format!(
        "the original benchmark's {} data from {}: {} patterns, {} bytes of text",
        match lang {
            Lang::En => "English",
            Lang::Zh => "Chinese",
        },
        dir.join(folder).display(),
        workload.patterns.len(),
        workload.haystack.len()
    );
    Ok(workload)
}
