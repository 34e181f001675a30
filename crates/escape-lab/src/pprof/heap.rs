//! dhat's `heap.json` → a pprof heap profile with Go's sample types, so
//! `go tool pprof -sample_index=alloc_objects -top`, `-list`, `-base` and
//! `-http` work on it as on a Go heap profile.
//!
//! # What dhat writes (file version 2, mode `rust-heap`)
//!
//! - `ftbl`: frame strings, `"0x55d0a1b2c3d4: name (file:line:col)"`, the
//!   name demangled without hash and the path shortened by dhat to its last
//!   three components; entry 0 is `"[root]"`. One backtrace frame whose
//!   address holds inlined code gives several entries with the same address,
//!   innermost first. Addresses are return addresses.
//! - `pps`: one entry per distinct allocation stack: `tb`/`tbk` (bytes and
//!   blocks allocated over the whole run), `eb`/`ebk` (bytes and blocks
//!   still live at the end), `fs` (indices into `ftbl`, innermost first),
//!   and lifetime figures not used here. A `realloc` counts as an
//!   allocation.
//!
//! # What the profile holds
//!
//! Sample types in Go's order: `alloc_objects/count` (`tbk`),
//! `alloc_space/bytes` (`tb`), `inuse_objects/count` (`ebk`),
//! `inuse_space/bytes` (`eb`). Values are **totals over the measured calls**;
//! the comments say over how many (`-divide_by=N` gives per-call figures).
//! The default sample type is `alloc_space`, not Go's `inuse_space`:
//! "still live at the end" is zero for most scenarios, and what they show is
//! what they allocate.
//!
//! Each group of consecutive frames with one address becomes one Location,
//! its entries the inlined Lines. Its address is the return address minus
//! one, as Go writes call PCs. The allocator's own frames at the top of a
//! stack (`alloc::alloc::*`, `__rust_alloc`, `__rg_alloc`, `dhat::`...) are
//! left out, as Go's heap profiles start at the code that allocated, so the
//! leaf is `Box::new` or `RawVec::grow_one`, called from your function.

use std::path::Path;

use serde::Deserialize;

use super::encode::{Addresses, Profile, ProfileBuilder};
use super::mapping::Mapping;
use super::source::SourceIndex;
use super::symbolize::{trim_allocator_frames, Frame, Symbolizer};
use super::Error;

/// How to turn a dhat profile into a pprof one.
#[derive(Clone, Copy, Debug, Default)]
pub struct HeapOptions<'a> {
    /// Over how many measured calls the profile was taken (0 when
    /// unknown): written in the comments, with the `-divide_by` that gives
    /// per-call figures.
    pub calls: u64,
    /// The executable mappings of the process that wrote the file (see
    /// [`mapping::current_process`](super::mapping::current_process)), main
    /// binary first; empty when unknown.
    pub mappings: &'a [Mapping],
    /// Which addresses to write (see [`Addresses`]).
    pub addresses: Addresses,
    /// Restores dhat's shortened paths to files on this machine (so
    /// `go tool pprof -list` finds them); `None` keeps them as dhat wrote
    /// them.
    pub sources: Option<&'a SourceIndex>,
    /// More function-name prefixes to remove from the top of stacks, on top
    /// of the allocation machinery (`frames::is_allocator`).
    pub extra_allocator_frames: &'a [&'a str],
    /// Keep the allocator's frames instead (the stacks as dhat wrote them).
    pub keep_allocator_frames: bool,
    /// More comments, after the generated ones.
    pub comments: &'a [&'a str],
}

/// Reads a dhat file and converts it with [`heap_profile`]; errors name the
/// file.
///
/// # Allocation
///
/// The file's text, its parsed form, and the profile.
///
/// # Errors
///
/// [`Error::Read`] when the file cannot be read, and those of
/// [`heap_profile`].
pub fn heap_profile_from_file(
    path: &Path,
    options: &HeapOptions<'_>,
    symbolizer: Option<&mut Symbolizer>,
) -> Result<Profile, Error> {
    let read = |source| Error::Read {
        path: path.to_owned(),
        source,
    };
    // Bounded: a path such as /dev/zero stops at the limit.
    let mut json = String::new();
    std::io::Read::read_to_string(
        &mut std::io::Read::take(std::fs::File::open(path).map_err(read)?, PROFILE_LIMIT + 1),
        &mut json,
    )
    .map_err(read)?;
    if json.len() as u64 > PROFILE_LIMIT {
        return Err(read(std::io::Error::other(format!(
            "larger than {} MiB: not a dhat profile",
            PROFILE_LIMIT >> 20
        ))));
    }
    heap_profile(&json, &path.display().to_string(), options, symbolizer)
}

/// The largest dhat profile read: 1 GiB.
const PROFILE_LIMIT: u64 = 1 << 30;

/// Converts the text of a dhat heap profile (`what` names it in errors) to
/// a pprof heap profile (see the module docs).
///
/// When `symbolizer` is given **and** the file was written by this very
/// process (its `pid`), every address is symbolized afresh instead of
/// parsing `ftbl`'s strings: full paths, the same names and lines as the
/// CPU profile. Otherwise (or for addresses it cannot resolve) `ftbl` is
/// used.
///
/// # Allocation
///
/// The parsed JSON, the frames of each distinct address, and the profile.
///
/// # Errors
///
/// [`Error::DhatJson`] when the text is not JSON of dhat's shape,
/// [`Error::DhatFormat`] for another file version or mode, or a frame index
/// out of range (naming `pps[i].fs[j]`).
pub fn heap_profile(
    json: &str,
    what: &str,
    options: &HeapOptions<'_>,
    mut symbolizer: Option<&mut Symbolizer>,
) -> Result<Profile, Error> {
    let file: DhatFile = serde_json::from_str(json).map_err(|source| Error::DhatJson {
        what: what.to_owned(),
        source,
    })?;
    let format_err = |problem: String| Error::DhatFormat {
        what: what.to_owned(),
        problem,
    };
    if file.version != 2 {
        return Err(format_err(format!(
            "dhatFileVersion is {}, only 2 is known",
            file.version
        )));
    }
    if let Some(mode) = &file.mode {
        if mode != "rust-heap" {
            return Err(format_err(format!(
                "mode is {mode:?}: an ad hoc profile has no heap data, only \"rust-heap\" has"
            )));
        }
    }
    let same_process = file.pid == Some(std::process::id());
    if !same_process {
        symbolizer = None;
    }
    let ftbl: Vec<FtblEntry> = file.ftbl.iter().map(|s| parse_ftbl(s)).collect();

    let mut b = ProfileBuilder::new(
        &[
            ("alloc_objects", "count"),
            ("alloc_space", "bytes"),
            ("inuse_objects", "count"),
            ("inuse_space", "bytes"),
        ],
        ("space", "bytes"),
        1,
    );
    b.set_mappings(options.mappings, options.addresses);
    b.default_sample_type("alloc_space");
    b.comment("heap profile from dhat: every allocation recorded (not sampled); a realloc counts as an allocation");
    if options.calls > 0 {
        b.comment(&format!(
            "values are totals over {calls} measured calls: for per-call figures use go tool pprof -divide_by={calls}",
            calls = options.calls
        ));
    } else {
        b.comment("values are totals over the whole run");
    }
    b.comment("inuse_objects and inuse_space: still live when the profile was written (after the last measured call)");
    if let Some(cmd) = &file.cmd {
        b.comment(&format!("command: {cmd}"));
    }
    for c in options.comments {
        b.comment(c);
    }

    // Every frame's address symbolized in one pass (see
    // `Symbolizer::resolve_many`), the loop below then only hits the cache:
    // the lookup addresses it uses, of every entry that has a frame.
    if let Some(s) = symbolizer.as_deref_mut() {
        s.resolve_many(
            ftbl.iter()
                .filter(|e| e.frame.is_some() && e.address != 0)
                .map(|e| e.address.saturating_sub(1)),
        );
    }
    for (i, pp) in file.pps.iter().enumerate() {
        // Check every index first, so an error names the entry.
        for (j, &f) in pp.fs.iter().enumerate() {
            if f >= ftbl.len() {
                return Err(format_err(format!(
                    "pps[{i}].fs[{j}] is {f}, but ftbl has {} entries",
                    ftbl.len()
                )));
            }
        }
        let mut stack: Vec<(u64, Vec<Frame>)> = Vec::new();
        for group in group_frames(&pp.fs, &ftbl) {
            let Some(first) = group.first() else { continue };
            let ip = ftbl[*first].address;
            let address = ip.saturating_sub(1);
            let fresh = match symbolizer.as_deref_mut() {
                Some(s) if ip != 0 => {
                    let frames = s.resolve(address);
                    (!frames.is_empty()).then(|| frames.to_vec())
                }
                _ => None,
            };
            let mut frames = fresh.unwrap_or_else(|| {
                group
                    .iter()
                    .filter_map(|&k| ftbl[k].frame.clone())
                    .collect()
            });
            if let Some(sources) = options.sources {
                for f in &mut frames {
                    if let Some(file) = &f.file {
                        if let Some(p) = sources.resolve(file, &f.function) {
                            f.file = Some(p.to_string_lossy().into_owned());
                        }
                    }
                }
            }
            stack.push((address, frames));
        }
        if !options.keep_allocator_frames {
            trim_allocator_frames(&mut stack, options.extra_allocator_frames);
        }
        if stack.is_empty() {
            continue;
        }
        let ids = stack
            .iter()
            .map(|(address, frames)| b.location(*address, frames))
            .collect();
        let clamp = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        b.sample(
            ids,
            &[
                clamp(pp.tbk),
                clamp(pp.tb),
                clamp(pp.ebk.unwrap_or(0)),
                clamp(pp.eb.unwrap_or(0)),
            ],
        );
    }
    Ok(b.build())
}

/// A dhat `heap.json` (version 2), the parts escape-lab reads. Also read by
/// [`crate::sites`].
#[derive(Deserialize)]
pub(crate) struct DhatFile {
    #[serde(rename = "dhatFileVersion")]
    pub(crate) version: u32,
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    cmd: Option<String>,
    #[serde(default)]
    pid: Option<u32>,
    pub(crate) pps: Vec<DhatPp>,
    pub(crate) ftbl: Vec<String>,
}

/// One program point: totals of a stack.
#[derive(Deserialize)]
pub(crate) struct DhatPp {
    /// Total bytes.
    pub(crate) tb: u64,
    /// Total blocks.
    pub(crate) tbk: u64,
    #[serde(default)]
    eb: Option<u64>,
    #[serde(default)]
    ebk: Option<u64>,
    /// Frame indices into `ftbl`, innermost first.
    pub(crate) fs: Vec<usize>,
}

/// One parsed `ftbl` entry: its address (0 when absent) and its frame
/// (`None` for `[root]`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct FtblEntry {
    pub(crate) address: u64,
    pub(crate) frame: Option<Frame>,
}

/// Parses `"0x55d0…: name (file:line:col)"`. Unknown parts (`???`, `0`)
/// become `None`; anything unparsable keeps the whole text as the name.
pub(crate) fn parse_ftbl(s: &str) -> FtblEntry {
    if s == "[root]" {
        return FtblEntry {
            address: 0,
            frame: None,
        };
    }
    let (address, rest) = match s.split_once(": ") {
        Some((a, rest)) if a.starts_with("0x") => {
            (u64::from_str_radix(&a[2..], 16).unwrap_or(0), rest)
        }
        _ => (0, s),
    };
    let (name, location) = match rest.rfind(" (") {
        Some(i) if rest.ends_with(')') => (&rest[..i], &rest[i + 2..rest.len() - 1]),
        _ => (rest, ""),
    };
    // `file:line:col`; the file itself may contain colons.
    let mut parts = location.rsplitn(3, ':');
    let col = parts.next().and_then(|c| c.parse::<u32>().ok());
    let line = parts.next().and_then(|l| l.parse::<u32>().ok());
    let file = parts.next();
    let (file, line, col) = match (file, line, col) {
        (Some(f), Some(l), Some(c)) => (Some(f), Some(l), Some(c)),
        _ if location.is_empty() => (None, None, None),
        _ => (Some(location), None, None),
    };
    let known = |s: &str| !s.is_empty() && s != "???";
    let name = crate::frames::strip_hash(name);
    FtblEntry {
        address,
        frame: Some(Frame {
            function: if known(name) {
                name.to_owned()
            } else {
                String::new()
            },
            system_name: String::new(),
            file: file.filter(|f| known(f)).map(str::to_owned),
            line: line.filter(|&l| l > 0),
            column: col.filter(|&c| c > 0),
        }),
    }
}

/// Splits a stack's frame indices into backtrace frames: consecutive
/// entries with one address are one frame (inlined code), unless an entry
/// repeats inside the group (a recursive call from the same site: a new
/// frame with the same return address). `[root]` entries are skipped.
fn group_frames<'a>(fs: &'a [usize], ftbl: &'a [FtblEntry]) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for &k in fs {
        let Some(entry) = ftbl.get(k) else { continue };
        if entry.frame.is_none() {
            continue;
        }
        match groups.last_mut() {
            Some(g)
                if g.first().and_then(|&f| ftbl.get(f)).map(|e| e.address)
                    == Some(entry.address)
                    && entry.address != 0
                    && !g.contains(&k) =>
            {
                g.push(k);
            }
            _ => groups.push(vec![k]),
        }
    }
    groups
}

#[cfg(test)]
#[path = "heap_tests.rs"]
mod tests;
