//! Atomic file writes: a temporary file in the target's folder, then a
//! rename, so an interrupted run never leaves a truncated JSON or SVG.

use std::io::Write;
use std::path::Path;

use crate::Error;

/// Writes `bytes` to `path` atomically: into a temporary file in the same
/// folder, flushed and synced, then renamed over `path`. Readers see the old
/// file or the new one, never a partial one.
///
/// # Errors
///
/// [`Error::Write`] naming `path`, with the I/O error of creating, writing
/// or renaming as its source.
///
/// # Allocation
///
/// The temporary file's name, and the error's path if there is one.
pub fn write(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let with_path = |e| Error::write(path, e);
    let mut builder = tempfile::Builder::new();
    builder.prefix(".tmp-");
    // Readable like any file the user creates, not 0600 as temporary files
    // are by default.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let mut tmp = builder.tempfile_in(dir).map_err(with_path)?;
    tmp.write_all(bytes).map_err(with_path)?;
    tmp.as_file().sync_all().map_err(with_path)?;
    tmp.persist(path).map_err(|e| with_path(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn writes_and_replaces_without_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json");
        super::write(&p, b"one").unwrap();
        super::write(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file left behind");
    }

    #[test]
    fn unwritable_folder_names_the_path() {
        let err = super::write(std::path::Path::new("/nonexistent-dir/x.json"), b"x").unwrap_err();
        assert_eq!(err.to_string(), "cannot write /nonexistent-dir/x.json");
        let source = std::error::Error::source(&err).unwrap().to_string();
        assert!(
            !source.contains("x.json"),
            "the path is said once: {source}"
        );
    }
}
