//! The command line a child gets: the parent's own arguments, so that it
//! builds the same scenarios, with every argument that is not UTF-8 made
//! UTF-8 without changing what it names.
//!
//! A child must re-parse the parent's arguments, and they travel as bytes.
//! But dhat (the `heap` pass) reads `std::env::args()` when it writes its
//! profile, which panics on an argument that is not UTF-8: a pattern file
//! called `\xff.txt` would crash every heap pass. Such an argument (or the
//! value of a `--name=value` argument) is handed to children as a symbolic
//! link with a UTF-8 name in a private temporary folder, pointing at the
//! same path: a program that opens it reads the same file. (A non-UTF-8
//! argument that is not a path would reach the child as the link's name;
//! escape-lab's own commands take none.)

use std::ffi::{OsStr, OsString};
use std::path::Path;

use crate::Error;

/// The arguments for children, and the folder holding their links.
#[derive(Debug)]
pub(crate) struct ChildArgs {
    /// Every argument after the program's name.
    pub args: Vec<OsString>,
    /// Where the links live; removed with this value.
    _links: Option<tempfile::TempDir>,
}

impl ChildArgs {
    /// This process's arguments, prepared for its children.
    ///
    /// # Errors
    ///
    /// [`Error::Write`] when a link cannot be made.
    ///
    /// # Allocation
    ///
    /// The arguments, and a folder and a link per non-UTF-8 argument.
    pub(crate) fn of_this_process() -> Result<ChildArgs, Error> {
        prepare(std::env::args_os().skip(1).collect())
    }
}

fn prepare(args: Vec<OsString>) -> Result<ChildArgs, Error> {
    if args.iter().all(|a| a.to_str().is_some()) {
        return Ok(ChildArgs { args, _links: None });
    }
    let links = tempfile::Builder::new()
        .prefix("escape-lab-args-")
        .tempdir()
        .map_err(|e| Error::write(std::env::temp_dir(), e))?;
    let cwd = std::env::current_dir().map_err(|e| Error::read(".", e))?;
    let mut out = Vec::with_capacity(args.len());
    for (i, arg) in args.into_iter().enumerate() {
        if arg.to_str().is_some() {
            out.push(arg);
            continue;
        }
        let (option, value) = split_option(&arg);
        let link = links.path().join(format!("arg-{i}"));
        link_to(&cwd.join(value), &link).map_err(|e| Error::write(&link, e))?;
        let mut made = OsString::from(option);
        made.push(link.as_os_str());
        if made.to_str().is_none() {
            // The temporary folder's own path is not UTF-8: nothing to gain.
            made = arg;
        }
        out.push(made);
    }
    Ok(ChildArgs {
        args: out,
        _links: Some(links),
    })
}

/// `--name=value` as (`--name=`, `value`) when the option's name is UTF-8;
/// anything else as ("", the whole argument).
fn split_option(arg: &OsStr) -> (String, &OsStr) {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let bytes = arg.as_bytes();
        if bytes.starts_with(b"--") {
            if let Some(eq) = bytes.iter().position(|&b| b == b'=') {
                if let Ok(name) = std::str::from_utf8(&bytes[..=eq]) {
                    return (name.to_owned(), OsStr::from_bytes(&bytes[eq + 1..]));
                }
            }
        }
    }
    (String::new(), arg)
}

#[cfg(unix)]
fn link_to(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn link_to(_target: &Path, _link: &Path) -> std::io::Result<()> {
    Err(std::io::Error::other(
        "arguments that are not UTF-8 are supported on Unix only",
    ))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStrExt;

    #[test]
    fn non_utf8_arguments_become_links_to_the_same_file() {
        let dir = tempfile::tempdir().unwrap();
        let odd = dir.path().join(OsStr::from_bytes(b"\xff.txt"));
        std::fs::write(&odd, "he\n").unwrap();
        let mut eq = OsString::from("--patterns=");
        eq.push(&odd);
        let made = prepare(vec!["fixed".into(), odd.clone().into(), eq]).unwrap();
        assert_eq!(made.args[0], "fixed", "UTF-8 arguments are unchanged");
        let link = made.args[1].to_str().expect("UTF-8 now");
        assert_eq!(std::fs::read_to_string(link).unwrap(), "he\n");
        let value = made.args[2].to_str().unwrap();
        let path = value.strip_prefix("--patterns=").unwrap();
        assert_eq!(std::fs::read_to_string(path).unwrap(), "he\n");
        // Positive control: without links there is nothing to make.
        assert!(prepare(vec!["a".into()]).unwrap()._links.is_none());
    }
}
