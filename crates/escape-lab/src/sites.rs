//! Allocation sites from a dhat profile: the Rust counterpart of Go's
//! `-gcflags -m`.
//!
//! Go's compiler says which expression escapes to the heap. Rust has no
//! escape analysis, since every heap allocation is explicit, so the useful
//! question becomes *which line of my code allocated, how often per call,
//! how many bytes*. dhat records a backtrace for every allocation; this
//! module reads its JSON (`heap.json`), finds in each backtrace the first
//! frame of the workspace's own code (skipping std, alloc, core, the
//! allocators and dependencies), and sums per `file:line:col`.
//!
//! It also turns the backtraces into folded stacks for the allocation
//! flamegraphs.

use std::collections::BTreeMap;
use std::path::Path;

use crate::model::Site;
use crate::pprof::heap::{parse_ftbl, DhatFile};
use crate::pprof::source::SourceIndex;
use crate::Error;

/// What a dhat profile says, digested.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HeapProfile {
    /// Sites, most allocations first (then most bytes, then by location).
    pub sites: Vec<Site>,
    /// Folded stacks weighted by bytes allocated.
    pub folded_bytes: String,
    /// Folded stacks weighted by allocations.
    pub folded_count: String,
}

/// One frame of dhat's frame table, as the sites need it.
#[derive(Clone, Debug, PartialEq)]
struct Frame {
    function: String,
    file: String,
    line: String,
}

/// Parses a dhat frame string, `"0x55d0…: name (file:line:col)"`, through
/// the heap profile's parser; `[root]` keeps its name.
fn parse_frame(s: &str) -> Frame {
    match parse_ftbl(s).frame {
        None => Frame {
            function: "[root]".into(),
            file: String::new(),
            line: String::new(),
        },
        Some(f) => Frame {
            function: f.function,
            line: match (f.line, f.column) {
                (Some(l), Some(c)) => format!("{l}:{c}"),
                (Some(l), None) => l.to_string(),
                _ => String::new(),
            },
            file: f.file.unwrap_or_default(),
        },
    }
}

/// Whether a frame is the allocator or library code rather than code that
/// decided to allocate (the one classification: [`crate::frames`]).
fn is_machinery(f: &Frame) -> bool {
    let file = (!f.file.is_empty()).then_some(f.file.as_str());
    !crate::frames::is_own(&f.function, file)
}

/// The frame's file relative to the source root, when it is one of the
/// root's files: an absolute path under the root, or dhat's shortened path
/// (its last three components) matched as a suffix by the index.
fn own_file(index: &SourceIndex, f: &Frame, root: &str) -> Option<String> {
    if let Some(rel) = f.file.strip_prefix(root) {
        return Some(rel.to_string());
    }
    let path = index.resolve(&f.file, &f.function)?;
    path.starts_with(index.root())
        .then(|| index.display(&path.to_string_lossy()))
}

/// The site of one allocation stack (innermost first): the first frame
/// that is not machinery, preferring one in the source root's files, as
/// `(path:line:col, function)`.
fn site_of(fs: &[&Frame], index: &SourceIndex, root: &str) -> (String, String) {
    let own = fs
        .iter()
        .find(|f| !is_machinery(f) && own_file(index, f, root).is_some())
        .or_else(|| fs.iter().find(|f| !is_machinery(f)));
    match own {
        Some(f) => {
            let file = own_file(index, f, root).unwrap_or_else(|| f.file.clone());
            (format!("{file}:{}", f.line), f.function.clone())
        }
        None => (
            "(unknown)".to_string(),
            "(no frame outside std)".to_string(),
        ),
    }
}

/// The folded stack of one allocation stack (innermost first): outermost
/// first, starting after the measured-call frame (at `main` when there is
/// none), so that the graph starts at the scenario's call.
fn stack_of(fs: &[&Frame]) -> String {
    let names: Vec<&str> = fs
        .iter()
        .rev()
        .filter(|f| f.function != "[root]")
        .map(|f| f.function.as_str())
        .collect();
    let start = match names
        .iter()
        .rposition(|n| n.ends_with(crate::frames::SCENARIO_CALL))
        .or_else(|| {
            names
                .iter()
                .position(|n| n.ends_with(crate::frames::MEASURED_CALL))
        }) {
        Some(i) => i + 1,
        None => names
            .iter()
            .rposition(|n| *n == "main" || n.ends_with("::main"))
            .unwrap_or(0),
    };
    names[start..]
        .iter()
        .map(|n| n.replace(';', ":"))
        .collect::<Vec<_>>()
        .join(";")
}

/// Reads `heap.json` and digests it; `workspace` is the source root that
/// locations are made relative to.
///
/// # Errors
///
/// [`Error::Read`] when the file cannot be read, [`Error::Malformed`] when it
/// is not a dhat version-2 profile; both name the file.
///
/// # Allocation
///
/// The file's contents, the parsed profile and the results.
pub fn read(path: &Path, workspace: &Path) -> Result<HeapProfile, Error> {
    let text = crate::strict::read_bounded(path, crate::strict::PROFILE_LIMIT)?;
    digest(path, &text, workspace)
}

/// [`read`] on the bytes of a `heap.json` already in memory; `path` names it
/// in errors.
///
/// # Errors
///
/// [`Error::Malformed`] when it is not a dhat version-2 profile.
///
/// # Allocation
///
/// The parsed profile and the results.
pub fn digest(path: &Path, text: &[u8], workspace: &Path) -> Result<HeapProfile, Error> {
    let file: DhatFile = serde_json::from_slice(text)
        .map_err(|e| Error::malformed(path, format!("not a dhat profile: {e}")))?;
    if file.version != 2 {
        return Err(Error::malformed(
            path,
            format!("dhatFileVersion {} (expected 2)", file.version),
        ));
    }
    let frames: Vec<Frame> = file.ftbl.iter().map(|s| parse_frame(s)).collect();
    let root = workspace
        .to_string_lossy()
        .trim_end_matches('/')
        .to_string()
        + "/";

    let index = SourceIndex::new(workspace);
    let mut sites: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
    let mut bytes_stacks: BTreeMap<String, u64> = BTreeMap::new();
    let mut count_stacks: BTreeMap<String, u64> = BTreeMap::new();
    for pp in &file.pps {
        let fs: Vec<&Frame> = pp.fs.iter().filter_map(|&i| frames.get(i)).collect();
        let e = sites.entry(site_of(&fs, &index, &root)).or_default();
        e.0 += pp.tbk;
        e.1 += pp.tb;
        let stack = stack_of(&fs);
        if pp.tb > 0 {
            *bytes_stacks.entry(stack.clone()).or_default() += pp.tb;
        }
        if pp.tbk > 0 {
            *count_stacks.entry(stack).or_default() += pp.tbk;
        }
    }

    let mut sites: Vec<Site> = sites
        .into_iter()
        .filter(|(_, (allocs, _))| *allocs > 0)
        .map(|((location, function), (allocs, bytes))| Site {
            location,
            function,
            allocs,
            bytes,
        })
        .collect();
    sites.sort_by(|a, b| {
        b.allocs
            .cmp(&a.allocs)
            .then(b.bytes.cmp(&a.bytes))
            .then(a.location.cmp(&b.location))
    });
    let fold = |m: BTreeMap<String, u64>| {
        m.into_iter()
            .map(|(s, n)| format!("{s} {n}\n"))
            .collect::<String>()
    };
    Ok(HeapProfile {
        sites,
        folded_bytes: fold(bytes_stacks),
        folded_count: fold(count_stacks),
    })
}

/// The text of `sites.txt`: one line per site,
/// `path:line:col: N allocs/call, M B/call in function`, or a line saying
/// there are none.
///
/// Allocates the returned `String`.
#[must_use]
pub fn sites_txt(scenario: &str, sites: &[Site], calls: u64) -> String {
    let mut out = format!(
        "# allocation sites of scenario {scenario}, per call over {calls} calls, most allocations first\n"
    );
    if sites.is_empty() {
        out.push_str("# no allocation sites: this scenario allocates nothing per call\n");
    }
    for s in sites {
        out.push_str(&s.line(calls));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_parse() {
        let f = parse_frame(
            "0x55d0a1b2c3d4: demo::parse::find::{{closure}}::h0123456789abcdef (/w/crates/demo/src/parse.rs:33:20)",
        );
        assert_eq!(f.function, "demo::parse::find::{{closure}}");
        assert_eq!(f.file, "/w/crates/demo/src/parse.rs");
        assert_eq!(f.line, "33:20");
        let root = parse_frame("[root]");
        assert_eq!(root.function, "[root]");
    }

    #[test]
    fn sites_and_stacks_from_a_small_profile() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("heap.json");
        let json = r#"{"dhatFileVersion":2,"mode":"rust-heap","pps":[
            {"tb":48,"tbk":2,"fs":[1,2,3,4]},
            {"tb":10,"tbk":1,"fs":[1,5,4]}],
          "ftbl":["[root]",
            "0x1: alloc::alloc::exchange_malloc (/rustc/abc/library/alloc/src/alloc.rs:237:11)",
            "0x2: demo::parse::find::{{closure}} (/w/crates/demo/src/parse.rs:33:20)",
            "0x3: demo::parse::find (/w/crates/demo/src/parse.rs:30:5)",
            "0x4: main (/w/src/main.rs:1:1)",
            "0x5: other::thing (/w/src/x.rs:9:9)"]}"#;
        std::fs::write(&p, json).unwrap();
        let h = read(&p, Path::new("/w")).unwrap();
        assert_eq!(h.sites.len(), 2);
        assert_eq!(h.sites[0].location, "crates/demo/src/parse.rs:33:20");
        assert_eq!((h.sites[0].allocs, h.sites[0].bytes), (2, 48));
        assert!(h.folded_count.contains(
            "main;demo::parse::find;demo::parse::find::{{closure}};alloc::alloc::exchange_malloc 2"
        ));
        let txt = sites_txt("owned", &h.sites, 2);
        assert!(txt.contains("crates/demo/src/parse.rs:33:20: 1 allocs/call, 24 B/call in demo::parse::find::{{closure}}"), "{txt}");
        assert!(sites_txt("borrowed", &[], 2).contains("allocates nothing"));
    }

    #[test]
    fn std_frames_are_machinery_and_user_frames_are_not() {
        let f = |function: &str, file: &str| Frame {
            function: function.into(),
            file: file.into(),
            line: String::new(),
        };
        for (function, file) in [
            ("<u64 as core::fmt::Display>::fmt", "src/fmt/num.rs"),
            (
                "<&mut alloc::string::String as core::fmt::Write>::write_str",
                "src/fmt/mod.rs",
            ),
            ("alloc::fmt::format::format_inner", "alloc/src/fmt.rs"),
            (
                "<alloc::alloc::Global as core::alloc::Allocator>::allocate",
                "alloc/src/alloc.rs",
            ),
            (
                "<escape_lab::alloc::SwitchAlloc as core::alloc::global::GlobalAlloc>::alloc",
                "src/alloc.rs",
            ),
        ] {
            assert!(is_machinery(&f(function, file)), "{function}");
        }
        for (function, file) in [
            (
                "custom_scenarios::scenarios::{{closure}}",
                "examples/custom_scenarios.rs",
            ),
            ("<demo::Parser as core::iter::Iterator>::next", "src/lib.rs"),
            ("<demo::Parser>::push", "src/lib.rs"),
        ] {
            assert!(!is_machinery(&f(function, file)), "{function}");
        }
    }

    #[test]
    fn shortened_paths_resolve_to_workspace_files() {
        let ws = tempfile::tempdir().unwrap();
        let root = ws.path().join("main");
        for f in [
            "crates/demo/src/lib.rs",
            "crates/escape-lab/src/lib.rs",
            "crates/escape-lab/src/pass.rs",
            "examples/custom.rs",
        ] {
            let p = root.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "").unwrap();
        }
        let index = SourceIndex::new(&root);
        let r = |file: &str, function: &str| {
            own_file(
                &index,
                &Frame {
                    function: function.into(),
                    file: file.into(),
                    line: String::new(),
                },
                "/elsewhere/",
            )
        };
        assert_eq!(
            r("escape-lab/src/pass.rs", "escape_lab::pass::run").as_deref(),
            Some("crates/escape-lab/src/pass.rs")
        );
        assert_eq!(
            r("src/lib.rs", "demo::x").as_deref(),
            Some("crates/demo/src/lib.rs")
        );
        assert_eq!(
            r("src/lib.rs", "<escape_lab::y as z>::w").as_deref(),
            Some("crates/escape-lab/src/lib.rs")
        );
        assert_eq!(
            r("main/examples/custom.rs", "custom::f").as_deref(),
            Some("examples/custom.rs")
        );
        assert_eq!(
            r("src/fmt/num.rs", "<u64 as core::fmt::Display>::fmt"),
            None
        );
    }

    #[test]
    fn a_wrong_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("heap.json");
        std::fs::write(&p, "{}").unwrap();
        let e = read(&p, dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("heap.json") && e.contains("not a dhat profile"),
            "{e}"
        );
    }
}
