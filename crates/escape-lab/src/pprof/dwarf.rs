//! Bounded-memory symbolization of the addresses of every loaded object:
//! its file is mapped (file-backed pages, not anonymous memory), the units
//! that hold the queried addresses are found through `.debug_aranges`, and
//! each is streamed once ([`super::dwarf_unit`]). No parsed unit is kept,
//! so the peak does not grow with the size of the debug info; `backtrace`'s
//! cache (which keeps every touched unit's lines and functions) is not
//! used.
//!
//! A shared library's DWARF is read from the library or from its separate
//! debug file when it lies there uncompressed; otherwise (a distribution's
//! compressed debug files, or none) its addresses get the symbol table's
//! names alone, from the debug file's full `.symtab` when there is one:
//! inflating a library's debug info into memory to give line numbers in
//! libc (what `backtrace` does) tripled a `/heap` answer's anonymous peak
//! on a machine with libc's debug symbols installed.

use super::dwarf_unit::{self, RawFrame, R};
use super::objects::{self, Elf, Loaded, Mapped, NoDwarf, Symtab};
use super::symbolize::Frame;
use std::collections::BTreeMap;

/// What the loader added to the main program's addresses (0 when it is not
/// position-independent), from the first object `dl_iterate_phdr` lists.
#[cfg(feature = "lab")]
pub(crate) fn main_program_bias() -> Option<u64> {
    objects::loaded().first().map(|l| l.bias)
}

/// Resolves the addresses (of this process) that lie in a loaded object:
/// those of the main executable from its DWARF, those of shared libraries
/// from theirs or, when it cannot be read in place, by their symbol
/// table's names. Left out of the answer, for the caller to resolve
/// another way: addresses in no object's file, and main-executable
/// addresses whose DWARF could not be read (compressed debug sections, no
/// `.debug_info`, a unit that fails to parse).
///
/// # Allocation
///
/// The answers (frames with their names and file names), a few words per
/// address, each touched object's symbol table entries (24 bytes each) and
/// one unit's header and abbreviations at a time; the files are mapped.
pub(crate) fn resolve_loaded(addresses: &[u64]) -> Vec<(u64, Vec<Frame>)> {
    let mut out = Vec::new();
    for (k, object) in objects::loaded().iter().enumerate() {
        let mut queries: Vec<(u64, u64)> = addresses
            .iter()
            .filter_map(|&a| Some((object.svma(a)?, a)))
            .collect();
        if queries.is_empty() {
            continue;
        }
        queries.sort_unstable();
        queries.dedup();
        let answers = if k == 0 {
            resolve_main(object, &queries)
        } else {
            resolve_library(object, &queries)
        };
        out.extend(answers.unwrap_or_default());
    }
    out
}

/// The main executable's addresses, from its own DWARF; `None` when that
/// cannot be read in place.
fn resolve_main(object: &Loaded, queries: &[(u64, u64)]) -> Option<Vec<(u64, Vec<Frame>)>> {
    let map = Mapped::open(object.path.as_deref()?)?;
    let elf = Elf::parse(map.bytes())?;
    let symtab = elf.symtab(false)?;
    let dwarf = elf.dwarf().ok()?;
    let answers = resolve_dwarf(&dwarf, &svmas(queries))?;
    // What the DWARF failed on is left to the caller's fallback.
    Some(frames_of(queries, answers, &symtab, |raw| raw.ok()))
}

/// A shared library's addresses: from the DWARF of the library or of its
/// debug file where it lies uncompressed, else (and for what that DWARF
/// cannot answer) the symbol table's name alone; `None` when the library's
/// file cannot be read.
fn resolve_library(object: &Loaded, queries: &[(u64, u64)]) -> Option<Vec<(u64, Vec<Frame>)>> {
    let map = Mapped::open(object.path.as_deref()?)?;
    let elf = Elf::parse(map.bytes())?;
    let debug_map = elf.debug_file_path().and_then(|p| Mapped::open(&p));
    let debug = debug_map.as_ref().and_then(|m| Elf::parse(m.bytes()));
    // The debug file's `.symtab` is the full one; the library's may be
    // only its exports.
    let symtab = debug
        .as_ref()
        .and_then(|d| d.symtab(true))
        .or_else(|| elf.symtab(true))?;
    let dwarf = match elf.dwarf() {
        Err(NoDwarf::Absent) => debug.as_ref().and_then(|d| d.dwarf().ok()),
        found => found.ok(),
    };
    let answers = dwarf
        .and_then(|d| resolve_dwarf(&d, &svmas(queries)))
        .unwrap_or_else(|| queries.iter().map(|_| Ok(None)).collect());
    // What the DWARF failed on gets the symbol table's name.
    Some(frames_of(queries, answers, &symtab, |raw| {
        Some(raw.unwrap_or(None))
    }))
}

/// The file addresses of `(svma, avma)` queries.
fn svmas(queries: &[(u64, u64)]) -> Vec<u64> {
    queries.iter().map(|q| q.0).collect()
}

/// Each query's frames, by its process address, from the DWARF's answer
/// as `keep` takes it (`None`: left out of the result).
fn frames_of<'a>(
    queries: &[(u64, u64)],
    answers: Vec<Answer<'a>>,
    symtab: &Symtab<'_>,
    keep: impl Fn(Answer<'a>) -> Option<Option<Vec<RawFrame<'a>>>>,
) -> Vec<(u64, Vec<Frame>)> {
    queries
        .iter()
        .zip(answers)
        .filter_map(|(&(svma, avma), raw)| Some((avma, to_frames(keep(raw)?, svma, symtab))))
        .collect()
}

/// What the DWARF says of one address: `Ok(Some(frames))`, `Ok(None)` when
/// no unit knows it (the symbol table's name is then all `backtrace` gives
/// too), `Err(())` when a unit that may hold it could not be read (malformed
/// DWARF, a split unit whose `.dwo` lives elsewhere): the caller resolves it
/// another way then.
type Answer<'a> = Result<Option<Vec<RawFrame<'a>>>, ()>;

/// How much a unit is preferred for an address, lowest first: addr2line
/// tries the units whose range holds the address by the range's end, then
/// by the unit's place in `.debug_info`.
type Rank = (u64, usize);

// The units that may hold each sorted, distinct file address: a unit's
// ranges are its `.debug_aranges` entries, else (no entry) its root's
// `DW_AT_ranges` or `DW_AT_low_pc`/`DW_AT_high_pc`. (addr2line prefers
// `DW_AT_ranges` to `.debug_aranges`; reading it would parse every unit's
// abbreviations on every call; the differential test, on this project's
// own binary, finds no address where it matters.) `None` when the unit
// list cannot be read.
fn candidate_units(
    dwarf: &gimli::Dwarf<R<'_>>,
    svmas: &[u64],
) -> Option<BTreeMap<gimli::DebugInfoOffset, Vec<(usize, Rank)>>> {
    // unit offset -> its `.debug_aranges` sets
    let mut aranges: BTreeMap<gimli::DebugInfoOffset, Vec<gimli::DebugArangesOffset>> =
        BTreeMap::new();
    let mut headers = dwarf.debug_aranges.headers();
    while let Some(header) = headers.next().ok()? {
        aranges
            .entry(header.debug_info_offset())
            .or_default()
            .push(header.offset());
    }
    let mut by_unit: BTreeMap<gimli::DebugInfoOffset, Vec<(usize, Rank)>> = BTreeMap::new();
    let mut unit_id = 0usize;
    let mut add = |offset: gimli::DebugInfoOffset, unit_id: usize, begin: u64, end: u64| {
        for i in dwarf_unit::span(svmas, begin, end) {
            by_unit.entry(offset).or_default().push((i, (end, unit_id)));
        }
    };
    let mut units = dwarf.units();
    while let Some(header) = units.next().ok()? {
        let Some(offset) = header.debug_info_offset() else {
            continue;
        };
        if matches!(
            header.type_(),
            gimli::UnitType::Type { .. }
                | gimli::UnitType::SplitType { .. }
                | gimli::UnitType::Partial
        ) {
            continue;
        }
        unit_id += 1;
        let mut add = |b, e| add(offset, unit_id, b, e);
        if let Some(sets) = aranges.get(&offset) {
            for &set in sets {
                let Ok(set) = dwarf.debug_aranges.header(set) else {
                    continue;
                };
                let mut entries = set.entries();
                // An entry that overflows is skipped (as addr2line does); a
                // parse error ends the set.
                while let Some(entry) = entries.next().transpose() {
                    if let Ok(entry) = entry {
                        let r = entry.range();
                        add(r.begin, r.end);
                    }
                }
            }
        } else {
            // Not in `.debug_aranges` (clang leaves it out by default): the
            // unit's own ranges, its header and abbreviations parsed for
            // the time of it.
            let Ok(unit) = dwarf.unit(header) else {
                continue;
            };
            let unit = unit.unit_ref(dwarf);
            if let Ok(ranges) = dwarf_unit::unit_ranges(unit) {
                let _ = ranges.each(unit, add);
            }
        }
    }
    Some(by_unit)
}

// The DWARF answer for each sorted, distinct file address: the first unit
// that knows the address wins; `None` when the units cannot be listed.
fn resolve_dwarf<'a>(dwarf: &gimli::Dwarf<R<'a>>, svmas: &[u64]) -> Option<Vec<Answer<'a>>> {
    let by_unit = candidate_units(dwarf, svmas)?;
    let mut answers: Vec<Option<(Rank, Vec<RawFrame<'a>>)>> = svmas.iter().map(|_| None).collect();
    let mut failed = vec![false; svmas.len()];
    for (offset, mut wanted) in by_unit {
        wanted.sort_unstable();
        wanted.dedup_by_key(|w| w.0);
        let unit = dwarf
            .debug_info
            .header_from_offset(offset)
            .and_then(|header| dwarf.unit(header));
        // A skeleton unit's functions and lines are in a `.dwo` file that
        // only `backtrace` goes looking for.
        let unit = match unit {
            Ok(unit) if unit.dwo_id.is_none() => unit,
            _ => {
                wanted.iter().for_each(|w| failed[w.0] = true);
                continue;
            }
        };
        let idx: Vec<usize> = wanted.iter().map(|w| w.0).collect();
        let qs: Vec<u64> = idx.iter().map(|&i| svmas[i]).collect();
        let got = dwarf_unit::resolve(unit.unit_ref(dwarf), &qs);
        for ((&i, frames), &(_, rank)) in idx.iter().zip(got).zip(&wanted) {
            match frames {
                None => failed[i] = true,
                Some(frames) if frames.is_empty() => {}
                Some(frames) => {
                    if answers[i].as_ref().is_none_or(|(r, _)| rank < *r) {
                        answers[i] = Some((rank, frames));
                    }
                }
            }
        }
    }
    Some(
        answers
            .into_iter()
            .zip(failed)
            .map(|(a, failed)| match a {
                Some((_, frames)) => Ok(Some(frames)),
                None if failed => Err(()),
                None => Ok(None),
            })
            .collect(),
    )
}

// Frames as `backtrace` gives them: a missing DWARF name is the symbol
// table's; no DWARF frame at all is the symbol table's name alone.
fn to_frames(raw: Option<Vec<RawFrame<'_>>>, svma: u64, symtab: &Symtab<'_>) -> Vec<Frame> {
    match raw {
        Some(frames) if !frames.is_empty() => frames
            .into_iter()
            .map(|f| {
                let name = f.name.or_else(|| symtab.name(svma));
                let loc = f.loc.unwrap_or_default();
                super::symbolize::frame(name, loc.file, loc.line, loc.column)
            })
            .collect(),
        _ => symtab
            .name(svma)
            .map(|n| vec![super::symbolize::frame(Some(n), None, None, None)])
            .unwrap_or_default(),
    }
}
