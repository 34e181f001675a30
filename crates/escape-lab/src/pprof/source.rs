//! Finding the source file a frame names: the workspace's own files, std's
//! (from a `rust-src` copy), and the shortened paths dhat writes.
//!
//! Debug info names the workspace's files by absolute path and std's as
//! `/rustc/<commit>/library/<crate>/src/...`, a folder that exists on no
//! machine; `rustup component add rust-src` installs the same files under
//! `<sysroot>/lib/rustlib/src/rust/library/`. dhat shortens every path to
//! its last three components (`src/variant/boxed.rs`), which a
//! [`SourceIndex`] matches as a suffix of the files it knows, using the
//! function's crate to choose among several (`src/lib.rs`).

use std::path::{Path, PathBuf};

/// The Rust source files under a root folder (and optionally std's, from a
/// `rust-src` copy), for resolving the paths profiles record.
#[derive(Clone, Debug, Default)]
pub struct SourceIndex {
    root: PathBuf,
    /// `(path relative to root, with '/' separators)`, sorted.
    files: Vec<String>,
    /// `<sysroot>/lib/rustlib/src/rust/library`, when known.
    rust_src: Option<PathBuf>,
    /// `(path relative to rust_src)`, sorted.
    std_files: Vec<String>,
}

impl SourceIndex {
    /// Indexes the `.rs` files under `root`, skipping `target` and hidden
    /// folders. A root that cannot be read gives an empty index (paths then
    /// resolve only when they exist as recorded).
    ///
    /// # Allocation
    ///
    /// One string per file found, and the walk's folder stack.
    #[must_use]
    pub fn new(root: &Path) -> SourceIndex {
        SourceIndex {
            root: root.to_owned(),
            files: rs_files(root),
            rust_src: None,
            std_files: Vec::new(),
        }
    }

    /// Adds std's sources from a `rust-src` copy: `library` is the folder
    /// holding `core/`, `alloc/`, `std/` (see [`find_rust_src`]). `None`
    /// leaves std unresolved.
    ///
    /// # Allocation
    ///
    /// One string per `.rs` file of the library (about 2,000).
    #[must_use]
    pub fn with_rust_src(mut self, library: Option<PathBuf>) -> SourceIndex {
        self.std_files = library.as_deref().map(rs_files).unwrap_or_default();
        self.rust_src = library;
        self
    }

    /// The root folder. Never allocates.
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file on this machine that `recorded` (a path as a profile has it)
    /// names, if one is found:
    ///
    /// - `/rustc/<commit>/library/...` → the `rust-src` copy, when given and
    ///   the file is in it;
    /// - an absolute path that exists → itself;
    /// - otherwise the path is taken as a suffix (dhat's three components,
    ///   or an absolute path from another machine) and matched against the
    ///   indexed files, preferring the one under a folder named after
    ///   `function`'s crate when several match.
    ///
    /// # Allocation
    ///
    /// The returned path, and a few small strings while matching.
    #[must_use]
    pub fn resolve(&self, recorded: &str, function: &str) -> Option<PathBuf> {
        if recorded.is_empty() {
            return None;
        }
        if let Some(rel) = std_relative(recorded) {
            let lib = self.rust_src.as_ref()?;
            let p = lib.join(rel);
            return p.is_file().then_some(p);
        }
        let path = Path::new(recorded);
        if path.is_absolute() && path.is_file() {
            return Some(path.to_owned());
        }
        // The longest suffix of the recorded path that names an indexed
        // file, down to two components (`src/lib.rs`) or the whole path
        // when it has fewer.
        let crate_name = crate_of(function);
        // std's functions are never looked for in the workspace (a
        // workspace's `src/boxed.rs` is not `alloc/src/boxed.rs`).
        let is_std = crate_name.is_some_and(|c| STD_CRATES.contains(&c));
        let components: Vec<&str> = recorded.split('/').filter(|c| !c.is_empty()).collect();
        let shortest = components.len().min(2);
        for skip in 0..=components.len() - shortest {
            let suffix = components[skip..].join("/");
            if !is_std {
                if let Some(rel) = best_suffix_match(&self.files, &suffix, crate_name) {
                    return Some(self.root.join(rel));
                }
            }
            if let Some(lib) = &self.rust_src {
                if let Some(rel) = best_suffix_match(&self.std_files, &suffix, crate_name) {
                    return Some(lib.join(rel));
                }
            }
        }
        None
    }

    /// How listings show a file: relative to the root when under it,
    /// `library/...` for std (as recorded or in the `rust-src` copy),
    /// otherwise as given.
    ///
    /// # Allocation
    ///
    /// The returned string.
    #[must_use]
    pub fn display(&self, path: &str) -> String {
        if let Some(rel) = std_relative(path) {
            return format!("library/{rel}");
        }
        let p = Path::new(path);
        if let Ok(rel) = p.strip_prefix(&self.root) {
            return slash_path(rel);
        }
        if let Some(lib) = &self.rust_src {
            if let Ok(rel) = p.strip_prefix(lib) {
                return format!("library/{}", slash_path(rel));
            }
        }
        path.to_owned()
    }

    /// Whether `path` (as recorded, or resolved) is one of the root's files.
    ///
    /// # Allocation
    ///
    /// None for an absolute path; for a relative one, a small `Vec` of the
    /// root's files that end with it.
    #[must_use]
    pub fn is_own(&self, path: &str) -> bool {
        let p = Path::new(path);
        if p.is_absolute() {
            return p.starts_with(&self.root) && !self.root.as_os_str().is_empty();
        }
        best_suffix_match(&self.files, path, None).is_some()
    }
}

/// The `library` folder of the `rust-src` component of the toolchain that
/// `rustc` on the `PATH` (or `$RUSTC`) belongs to, if it is installed.
///
/// # Allocation
///
/// Runs `rustc --print sysroot` (a child process) and allocates its output
/// and the path.
#[must_use]
pub fn find_rust_src() -> Option<PathBuf> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = std::process::Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let sysroot = String::from_utf8(out.stdout).ok()?;
    let lib = Path::new(sysroot.trim()).join("lib/rustlib/src/rust/library");
    lib.join("core/src/lib.rs").is_file().then_some(lib)
}

/// The crates of Rust's `library/` folder, whose functions are looked up in
/// `rust-src` only.
const STD_CRATES: &[&str] = &[
    "core",
    "alloc",
    "std",
    "proc_macro",
    "test",
    "panic_unwind",
    "panic_abort",
    "compiler_builtins",
];

// `/rustc/<commit>/library/core/src/x.rs` → `core/src/x.rs`.
fn std_relative(recorded: &str) -> Option<&str> {
    let rest = recorded.strip_prefix("/rustc/")?;
    let (_commit, rest) = rest.split_once('/')?;
    rest.strip_prefix("library/")
}

// The crate a demangled function name belongs to: the first path segment,
// after a leading `<` (`<alloc::vec::Vec<T> as Drop>::drop` → `alloc`).
fn crate_of(function: &str) -> Option<&str> {
    let f = function.trim_start_matches('<').trim_start_matches('&');
    let f = f.strip_prefix("mut ").unwrap_or(f);
    let end = f.find("::")?;
    let name = &f[..end];
    (!name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        .then_some(name)
}

// Among `files` (relative, `/`-separated), those equal to `suffix` or ending
// in `/suffix`; with several, the one with a folder named after the crate
// (`-` and `_` alike), else the shortest, else the first in order.
fn best_suffix_match<'a>(
    files: &'a [String],
    suffix: &str,
    crate_name: Option<&str>,
) -> Option<&'a str> {
    if suffix.is_empty() {
        return None;
    }
    let matches: Vec<&String> = files
        .iter()
        .filter(|f| {
            f.as_str() == suffix
                || (f.ends_with(suffix) && f.as_bytes()[f.len() - suffix.len() - 1] == b'/')
        })
        .collect();
    if matches.len() > 1 {
        if let Some(c) = crate_name {
            let c = c.replace('-', "_");
            if let Some(f) = matches
                .iter()
                .find(|f| f.split('/').any(|dir| dir.replace('-', "_") == c))
            {
                return Some(f.as_str());
            }
        }
    }
    matches.iter().min_by_key(|f| f.len()).map(|f| f.as_str())
}

fn slash_path(p: &Path) -> String {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

// The `.rs` files under `root`, relative and `/`-separated, sorted; skips
// `target` and hidden folders; unreadable folders are skipped silently.
fn rs_files(root: &Path) -> Vec<String> {
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name();
            let name = name.to_string_lossy();
            let Ok(kind) = e.file_type() else { continue };
            let path = e.path();
            if kind.is_dir() {
                if !name.starts_with('.') && name != "target" {
                    stack.push(path);
                }
            } else if name.ends_with(".rs") {
                if let Ok(rel) = path.strip_prefix(root) {
                    files.push(slash_path(rel));
                }
            }
        }
    }
    files.sort();
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for f in files {
            let p = dir.path().join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, format!("// {f}\n")).unwrap();
        }
        dir
    }

    #[test]
    fn resolves_dhat_suffixes_with_the_crate_as_tie_break() {
        let ws = tree(&[
            "crates/acmatch/src/lib.rs",
            "crates/acmatch/src/variant/boxed.rs",
            "crates/work-load/src/lib.rs",
            "src/main.rs",
            "target/debug/build/x/out/gen.rs",
            ".git/hooks/a.rs",
        ]);
        let ix = SourceIndex::new(ws.path());
        let root = ws.path();
        assert_eq!(
            ix.resolve("src/variant/boxed.rs", "acmatch::variant::boxed::find"),
            Some(root.join("crates/acmatch/src/variant/boxed.rs"))
        );
        assert_eq!(
            ix.resolve("src/lib.rs", "work_load::Builtin::load"),
            Some(root.join("crates/work-load/src/lib.rs"))
        );
        assert_eq!(
            ix.resolve(
                "acmatch/src/lib.rs",
                "<acmatch::A as core::fmt::Debug>::fmt"
            ),
            Some(root.join("crates/acmatch/src/lib.rs"))
        );
        assert_eq!(ix.resolve("out/gen.rs", "x"), None, "target is skipped");
        assert_eq!(ix.resolve("hooks/a.rs", "x"), None, "hidden is skipped");
        assert_eq!(ix.resolve("", "x"), None);
        assert_eq!(ix.resolve("oxed.rs", "x"), None, "whole components only");
        // An absolute path from another machine matches by suffix.
        assert_eq!(
            ix.resolve("/elsewhere/ws/crates/acmatch/src/variant/boxed.rs", "f"),
            Some(root.join("crates/acmatch/src/variant/boxed.rs"))
        );
        let abs = root.join("src/main.rs");
        assert_eq!(ix.resolve(abs.to_str().unwrap(), "main"), Some(abs.clone()));
        assert!(ix.is_own(abs.to_str().unwrap()));
        assert!(ix.is_own("src/variant/boxed.rs"));
        assert!(!ix.is_own("/rustc/abc/library/core/src/hint.rs"));
        assert_eq!(ix.display(abs.to_str().unwrap()), "src/main.rs");
    }

    #[test]
    fn std_paths_need_rust_src() {
        let lib = tree(&[
            "core/src/hint.rs",
            "alloc/src/boxed.rs",
            "core/src/ptr/mod.rs",
        ]);
        let ws = tree(&["src/lib.rs"]);
        let recorded = "/rustc/59807616e1fa2540724bfbac14d7976d7e4a3860/library/core/src/hint.rs";
        let without = SourceIndex::new(ws.path());
        assert_eq!(without.resolve(recorded, "core::hint::black_box"), None);
        assert_eq!(without.display(recorded), "library/core/src/hint.rs");
        let with = SourceIndex::new(ws.path()).with_rust_src(Some(lib.path().to_owned()));
        let ws2 = tree(&["src/boxed.rs"]);
        assert_eq!(
            SourceIndex::new(ws2.path()).resolve("alloc/src/boxed.rs", "alloc::boxed::Box<T>::new"),
            None,
            "std's files are not looked for in the workspace"
        );
        assert_eq!(
            with.resolve(recorded, "core::hint::black_box"),
            Some(lib.path().join("core/src/hint.rs"))
        );
        // dhat's shortened std path.
        assert_eq!(
            with.resolve("src/ptr/mod.rs", "core::ptr::drop_in_place"),
            Some(lib.path().join("core/src/ptr/mod.rs"))
        );
        assert_eq!(
            with.display(lib.path().join("alloc/src/boxed.rs").to_str().unwrap()),
            "library/alloc/src/boxed.rs"
        );
    }

    #[test]
    fn crate_names() {
        assert_eq!(crate_of("acmatch::x::y"), Some("acmatch"));
        assert_eq!(
            crate_of("<alloc::vec::Vec<T> as core::ops::Drop>::drop"),
            Some("alloc")
        );
        assert_eq!(crate_of("<&mut W as core::fmt::Write>::write_str"), None);
        assert_eq!(crate_of("main"), None);
        assert_eq!(crate_of("::x"), None);
    }
}
