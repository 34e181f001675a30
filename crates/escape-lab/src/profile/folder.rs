//! The run folder (`--out`): when one may be replaced, and replacing it.
//!
//! A run folder holds a [`MARKER`] file listing every path escape-lab
//! wrote in it. A folder that exists is replaced only when it is empty, or
//! when it has the marker and nothing that the marker does not list: a
//! `summary.json` alone proves nothing (anyone can have one), and a note a
//! user added to an old run is theirs. Anything else is refused before a
//! pass runs, naming what escape-lab did not write.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::{atomic, workdir, Error};

/// The file that makes a folder an escape-lab run, and lists its paths.
pub(crate) const MARKER: &str = ".escape-lab-run";

const MARKER_HEADER: &str = "escape-lab run folder. The paths below were written by escape-lab; \
     anything else in this folder is someone else's, and stops escape-lab from replacing it.";

/// Refuses an `--out` escape-lab may not replace (see the module docs).
pub(super) fn check_out(out: &Path) -> Result<(), Error> {
    let refuse = |problem: String| Error::Usage {
        option: "--out".into(),
        problem: format!("{} {problem}", out.display()),
    };
    if out.file_name().is_none() || holds_current_dir(out) {
        return Err(refuse(
            "is the current folder or one above it: give a folder of its own, such as profiles/run-1"
                .into(),
        ));
    }
    let Ok(meta) = std::fs::symlink_metadata(out) else {
        return Ok(());
    };
    if !meta.is_dir() {
        return Err(refuse("exists and is not a folder".into()));
    }
    let found = tree(out);
    if found.is_empty() {
        return Ok(());
    }
    let Some(written) = read_marker(out) else {
        return Err(refuse(format!(
            "is a folder with other things in it ({}) and no {MARKER}: not an escape-lab run; choose another --out or empty it",
            some(&found)
        )));
    };
    let foreign: Vec<String> = found
        .into_iter()
        .filter(|p| p != MARKER && !written.contains(p))
        .collect();
    if foreign.is_empty() {
        Ok(())
    } else {
        Err(refuse(format!(
            "is an escape-lab run holding files escape-lab did not write ({}): move them out or choose another --out",
            some(&foreign)
        )))
    }
}

/// Whether `out` is the current folder or one of its ancestors (renaming
/// it fails only after every pass has run).
fn holds_current_dir(out: &Path) -> bool {
    let (Ok(out), Ok(cwd)) = (std::fs::canonicalize(out), std::env::current_dir()) else {
        return false;
    };
    cwd.starts_with(out)
}

/// Up to five of `paths`, and how many more.
fn some(paths: &[String]) -> String {
    let mut s = paths
        .iter()
        .take(5)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if paths.len() > 5 {
        s += &format!(" and {} more", paths.len() - 5);
    }
    s
}

/// Every path under `dir`, relative, `/`-separated, sorted; a name that is
/// not UTF-8 appears lossily (it is never one escape-lab wrote).
fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(dir.join(&rel)) else {
            continue;
        };
        for e in entries.flatten() {
            let path = rel.join(e.file_name());
            let name = path.to_string_lossy().replace('\\', "/");
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(path);
            }
            out.push(name);
        }
    }
    out.sort();
    out
}

/// The paths the marker of `dir` lists, or `None` without a marker.
fn read_marker(dir: &Path) -> Option<BTreeSet<String>> {
    let bytes = crate::strict::read_bounded(&dir.join(MARKER), 16 << 20).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let mut lines = text.lines();
    (lines.next() == Some(MARKER_HEADER)).then(|| lines.map(str::to_owned).collect())
}

/// Writes the marker of the finished run in `work`: every path in it.
fn write_marker(work: &Path) -> Result<(), Error> {
    let mut text = String::from(MARKER_HEADER);
    for p in tree(work) {
        text.push('\n');
        text.push_str(&p);
    }
    text.push('\n');
    atomic::write(&work.join(MARKER), text.as_bytes())
}

/// Moves the finished run from its temporary folder to `out`, replacing a
/// previous run there whole.
pub(super) fn publish(work: tempfile::TempDir, out: &Path) -> Result<(), Error> {
    workdir::disown(work.path());
    write_marker(work.path())?;
    let old = out.with_file_name(format!(
        ".escape-lab-old-{}",
        out.file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into_owned())
    ));
    let _ = std::fs::remove_dir_all(&old);
    if out.exists() {
        // Checked again: the folder may have changed while the passes ran.
        check_out(out)?;
        std::fs::rename(out, &old).map_err(|e| Error::write(out, e))?;
    }
    let work = work.keep();
    if let Err(e) = std::fs::rename(&work, out) {
        let _ = std::fs::remove_dir_all(&work);
        let _ = std::fs::rename(&old, out);
        return Err(Error::write(out, e));
    }
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(out: &Path) -> String {
        check_out(out).unwrap_err().to_string()
    }

    #[test]
    fn only_empty_folders_and_our_own_runs_are_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("run");
        check_out(&out).unwrap();
        std::fs::create_dir(&out).unwrap();
        check_out(&out).unwrap();
        // A summary.json alone does not make a run.
        std::fs::write(out.join("summary.json"), "{}").unwrap();
        std::fs::write(out.join("notes.txt"), "hi").unwrap();
        let e = refused(&out);
        assert!(
            e.contains("notes.txt, summary.json") && e.contains("no .escape-lab-run"),
            "{e}"
        );
        // A run we wrote (marker listing every path) is replaceable.
        std::fs::remove_file(out.join("notes.txt")).unwrap();
        std::fs::create_dir(out.join("fixed")).unwrap();
        std::fs::write(out.join("fixed/sites.txt"), "x").unwrap();
        write_marker(&out).unwrap();
        check_out(&out).unwrap();
        // ... until a user adds something to it.
        std::fs::write(out.join("fixed/mine.md"), "keep").unwrap();
        let e = refused(&out);
        assert!(e.contains("did not write (fixed/mine.md)"), "{e}");
    }

    #[test]
    fn the_current_folder_is_refused_before_anything_runs() {
        let e = refused(Path::new("."));
        assert!(e.contains("is the current folder"), "{e}");
        let cwd = std::env::current_dir().unwrap();
        let e = refused(cwd.parent().unwrap());
        assert!(e.contains("is the current folder"), "{e}");
    }
}
