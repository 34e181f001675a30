//! Inputs read once: a run's parent reads each input (a file, a pipe,
//! `/dev/stdin`, a FIFO) exactly once, and every child gets the very same
//! bytes from a private copy in the run's folder, checked against the
//! parent's size and checksum.
//!
//! Without this, each child re-reading a path would find a pipe already
//! consumed and measure an empty input, silently. With it, a scenario set
//! built from [`stage`]d inputs is the same in every process:
//!
//! ```no_run
//! # fn parse(_: &[u8]) {}
//! let text = escape_lab::__private::input::stage("haystack", || {
//!     escape_lab::__private::input::read_limited(std::path::Path::new("/dev/stdin"), 1 << 30)
//! })?;
//! parse(&text);
//! # Ok::<(), escape_lab::__private::input::InputError>(())
//! ```
//!
//! In the parent, [`stage`] runs the loader and keeps the bytes for the run
//! (`profile` and `check` write them to `<run>/inputs/<name>` and record
//! their size and checksum in `summary.json`); in a child it reads that copy
//! instead and refuses one whose size or checksum differs.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

/// Environment variable: the folder holding the staged inputs (children).
pub const ENV_INPUTS: &str = "ESCAPE_LAB_CHILD_INPUTS";
/// Environment variable: the staged inputs' sizes and checksums as JSON.
pub const ENV_INPUT_SUMS: &str = "ESCAPE_LAB_CHILD_INPUT_SUMS";

/// What can go wrong with an input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// The input could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The input is longer than the limit (an endless file such as
    /// `/dev/zero`, or simply too big).
    #[error("{} is larger than the input limit of {limit} bytes (raise it with --max-input-bytes)", path.display())]
    TooLarge {
        /// The path.
        path: PathBuf,
        /// The limit in bytes.
        limit: u64,
    },
    /// The input is a folder.
    #[error("{} is a folder, not a file", path.display())]
    Folder {
        /// The path.
        path: PathBuf,
    },
    /// A child's copy is not what the parent read.
    #[error(
        "input {name}: the staged copy ({found}) differs from what the parent read ({expected})"
    )]
    Mismatch {
        /// The input's name.
        name: String,
        /// Size and checksum the parent recorded.
        expected: String,
        /// Size and checksum of the copy.
        found: String,
    },
    /// The loader's own error.
    #[error("input {name}")]
    Load {
        /// The input's name.
        name: String,
        /// Why.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Size and checksum of one input, as `summary.json` records them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputInfo {
    /// The input's name.
    pub name: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// FNV-1a 64 of its bytes, 16 hex digits.
    pub fnv1a64: String,
}

impl InputInfo {
    fn of(name: &str, bytes: &[u8]) -> InputInfo {
        InputInfo {
            name: name.to_string(),
            bytes: bytes.len() as u64,
            fnv1a64: format!("{:016x}", fnv1a64(bytes)),
        }
    }

    fn describe(&self) -> String {
        format!("{} bytes, fnv1a64 {}", self.bytes, self.fnv1a64)
    }
}

/// FNV-1a, 64 bits: a small, stable checksum (not a cryptographic one).
///
/// Never allocates.
#[must_use]
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

static STAGED: Mutex<Vec<(InputInfo, Arc<[u8]>)>> = Mutex::new(Vec::new());

/// The input called `name`: in the parent, `load`'s bytes, kept for the
/// run's children; in a child, the parent's bytes from the staged copy.
/// Staging the same name twice in one process returns the first bytes.
///
/// # Errors
///
/// [`InputError::Load`] with the loader's error; in a child,
/// [`InputError::Read`] for a missing copy and [`InputError::Mismatch`] for
/// a copy that differs.
///
/// # Allocation
///
/// The bytes (once), and the registry entry.
pub fn stage<E>(
    name: &str,
    load: impl FnOnce() -> Result<Vec<u8>, E>,
) -> Result<Arc<[u8]>, InputError>
where
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let lock = || {
        STAGED
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    };
    if let Some((_, bytes)) = lock().iter().find(|(i, _)| i.name == name) {
        return Ok(Arc::clone(bytes));
    }
    // The lock is not held while loading: a loader may stage other inputs.
    let bytes: Arc<[u8]> = match std::env::var_os(ENV_INPUTS) {
        Some(dir) => from_parent(name, Path::new(&dir))?.into(),
        None => load()
            .map_err(|e| InputError::Load {
                name: name.to_string(),
                source: e.into(),
            })?
            .into(),
    };
    let mut staged = lock();
    if let Some((_, first)) = staged.iter().find(|(i, _)| i.name == name) {
        return Ok(Arc::clone(first));
    }
    staged.push((InputInfo::of(name, &bytes), Arc::clone(&bytes)));
    Ok(bytes)
}

fn from_parent(name: &str, dir: &Path) -> Result<Vec<u8>, InputError> {
    let path = dir.join(name);
    let bytes = std::fs::read(&path).map_err(|source| InputError::Read { path, source })?;
    let sums: BTreeMap<String, InputInfo> = std::env::var(ENV_INPUT_SUMS)
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default();
    let found = InputInfo::of(name, &bytes);
    match sums.get(name) {
        Some(expected) if *expected == found => Ok(bytes),
        expected => Err(InputError::Mismatch {
            name: name.to_string(),
            expected: expected.map_or("nothing recorded".to_string(), InputInfo::describe),
            found: found.describe(),
        }),
    }
}

/// The inputs staged in this process so far.
///
/// Allocates the list.
#[must_use]
pub fn staged() -> Vec<InputInfo> {
    let staged = STAGED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    staged.iter().map(|(i, _)| i.clone()).collect()
}

/// Writes the staged inputs into `dir` (created) and returns the
/// environment a child needs to read them: `(ENV_INPUTS, dir)` and
/// `(ENV_INPUT_SUMS, json)`; nothing when no input was staged.
///
/// # Errors
///
/// [`crate::Error::Write`] when a copy cannot be written.
///
/// # Allocation
///
/// The JSON and the pairs.
pub(crate) fn write_for_children(
    dir: &Path,
) -> Result<Vec<(String, std::ffi::OsString)>, crate::Error> {
    let staged = STAGED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if staged.is_empty() {
        return Ok(Vec::new());
    }
    std::fs::create_dir_all(dir).map_err(|e| crate::Error::write(dir, e))?;
    let mut sums = BTreeMap::new();
    for (info, bytes) in staged.iter() {
        crate::atomic::write(&dir.join(&info.name), bytes)?;
        sums.insert(info.name.clone(), info.clone());
    }
    Ok(vec![
        // The folder as its bytes: a parent that is not UTF-8 reaches the
        // child unchanged.
        (ENV_INPUTS.to_string(), dir.as_os_str().to_owned()),
        (
            ENV_INPUT_SUMS.to_string(),
            serde_json::to_string(&sums).unwrap_or_default().into(),
        ),
    ])
}

/// Reads `path` whole, whatever it is (a file, a pipe, `/dev/stdin`, a
/// FIFO), refusing more than `limit` bytes: an endless file stops with an
/// error instead of filling memory.
///
/// # Errors
///
/// [`InputError::Folder`], [`InputError::Read`], [`InputError::TooLarge`].
///
/// # Allocation
///
/// The bytes read.
pub fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, InputError> {
    if path.is_dir() {
        return Err(InputError::Folder {
            path: path.to_path_buf(),
        });
    }
    let read_err = |source| InputError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(read_err)?;
    if bytes.len() as u64 > limit {
        return Err(InputError::TooLarge {
            path: path.to_path_buf(),
            limit,
        });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_are_fnv1a64() {
        // Published FNV-1a 64 test vectors.
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn reading_is_limited_and_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x");
        std::fs::write(&p, b"12345").unwrap();
        assert_eq!(read_limited(&p, 5).unwrap(), b"12345");
        let e = read_limited(&p, 4).unwrap_err().to_string();
        assert!(
            e.contains("larger than the input limit of 4 bytes") && e.contains("x"),
            "{e}"
        );
        let e = read_limited(dir.path(), 4).unwrap_err().to_string();
        assert!(e.contains("is a folder"), "{e}");
        let e = read_limited(Path::new("/dev/zero"), 1000)
            .unwrap_err()
            .to_string();
        assert!(e.contains("/dev/zero"), "{e}");
    }

    #[test]
    fn a_childs_copy_is_checked_against_the_parents_sums() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("h"), b"abc").unwrap();
        // No recorded sums: refused.
        let e = from_parent("h", dir.path()).unwrap_err().to_string();
        assert!(e.contains("nothing recorded"), "{e}");
    }
}
