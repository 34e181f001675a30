//! Temporary working folders (`.escape-lab-run-XXXXXX` beside a run,
//! `check-XXXXXX` under the target folder) that say whose they are, so the
//! ones a killed run left behind are removed by the next run.
//!
//! A signal that can be caught removes the folder already; SIGKILL (or a
//! power cut) cannot be caught. Each folder holds an [`OWNER`] file with
//! the process id and its start time (from `/proc`, so a reused pid is not
//! taken for the owner); a later run removes every folder of the same
//! prefix whose owner file names a process that is gone. A folder without
//! an owner file is never touched: a check's folder kept for its failures
//! has its owner file removed, and folders of other tools or of older
//! versions have none.

use std::io;
use std::path::Path;

/// The file in a working folder that names its process.
pub(crate) const OWNER: &str = ".escape-lab-owner";

/// Creates a fresh folder `PREFIX<random>` in `parent` that names this
/// process as its owner, after removing the folders of that prefix whose
/// owners are dead.
///
/// # Errors
///
/// The I/O error of creating the folder or its owner file.
///
/// # Allocation
///
/// The folder's path, and the names read while sweeping.
pub(crate) fn create(parent: &Path, prefix: &str) -> io::Result<tempfile::TempDir> {
    sweep(parent, prefix);
    let dir = tempfile::Builder::new().prefix(prefix).tempdir_in(parent)?;
    if let Some(me) = process_id(std::process::id()) {
        std::fs::write(dir.path().join(OWNER), me)?;
    }
    Ok(dir)
}

/// Makes `dir` an ordinary folder: no later run removes it.
pub(crate) fn disown(dir: &Path) {
    let _ = std::fs::remove_file(dir.join(OWNER));
}

/// Removes the folders `PREFIX*` in `parent` whose owner is gone. Best
/// effort: what cannot be read or removed is left as it is.
fn sweep(parent: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let ours = name.to_str().is_some_and(|n| n.starts_with(prefix));
        if !ours || !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let Ok(owner) = std::fs::read_to_string(entry.path().join(OWNER)) else {
            continue;
        };
        if is_dead(owner.trim()) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// `"<pid> <start time>"` of process `pid`, or `None` where `/proc` cannot
/// tell (then no owner is written, and nothing is swept for it).
fn process_id(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces;
    // the start time is field 22, the 20th after the closing parenthesis.
    let rest = &stat[stat.rfind(')')? + 1..];
    let start = rest.split_whitespace().nth(19)?;
    Some(format!("{pid} {start}"))
}

/// Whether the owner `"<pid> <start time>"` is gone: no such process, or a
/// process of that pid started at another time. An owner line that does
/// not parse is not judged (false).
fn is_dead(owner: &str) -> bool {
    let Some(pid) = owner
        .split_once(' ')
        .and_then(|(p, _)| p.parse::<u32>().ok())
    else {
        return false;
    };
    process_id(std::process::id()).is_some() && process_id(pid).as_deref() != Some(owner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_of_dead_owners_go_and_the_others_stay() {
        let parent = tempfile::tempdir().unwrap();
        let mine = create(parent.path(), "w-").unwrap();
        // A dead owner: a child that has exited.
        let child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        let owner = process_id(pid).unwrap();
        let mut child = child;
        child.wait().unwrap();
        let dead = parent.path().join("w-dead");
        std::fs::create_dir(&dead).unwrap();
        std::fs::write(dead.join(OWNER), &owner).unwrap();
        let unowned = parent.path().join("w-kept");
        std::fs::create_dir(&unowned).unwrap();
        let other = parent.path().join("other");
        std::fs::create_dir(&other).unwrap();
        std::fs::write(other.join(OWNER), &owner).unwrap();

        let second = create(parent.path(), "w-").unwrap();
        assert!(!dead.exists(), "the dead run's folder is removed");
        assert!(mine.path().exists(), "a live owner's folder stays");
        assert!(unowned.exists() && other.exists());
        disown(second.path());
        assert!(!second.path().join(OWNER).exists());
    }

    #[test]
    fn unparsable_owners_are_not_judged() {
        assert!(!is_dead("banana"));
        assert!(!is_dead(&process_id(std::process::id()).unwrap()));
        assert!(is_dead(&format!("{} 1", std::process::id())));
    }
}
