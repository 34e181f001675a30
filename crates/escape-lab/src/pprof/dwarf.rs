//! Bounded-memory symbolization of the main executable's addresses: the
//! file is mapped (file-backed pages, not anonymous memory), the units that
//! hold the queried addresses are found through `.debug_aranges`, and each
//! is streamed once ([`super::dwarf_unit`]). No parsed unit is kept, so the
//! peak does not grow with the size of the debug info; `backtrace`'s cache
//! (which keeps every touched unit's lines and functions) is not used.

use super::dwarf_unit::{self, RawFrame, R};
use super::symbolize::Frame;
use gimli::{EndianSlice, RunTimeEndian, Section};
use object::elf;
use object::read::elf::{FileHeader, SectionHeader, Sym};
use std::collections::BTreeMap;

/// A read-only private mapping of a whole file, unmapped on drop.
struct Mapped {
    ptr: *mut libc::c_void,
    len: usize,
}

impl Mapped {
    fn open(path: &str) -> Option<Mapped> {
        use std::os::fd::AsRawFd;
        let file = std::fs::File::open(path).ok()?;
        let len = usize::try_from(file.metadata().ok()?.len()).ok()?;
        if len == 0 {
            return None;
        }
        // SAFETY: a fresh read-only private mapping of an open file; the
        // fd may be closed after mmap returns.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                file.as_raw_fd(),
                0,
            )
        };
        (ptr != libc::MAP_FAILED).then_some(Mapped { ptr, len })
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: the mapping is `len` readable bytes while `self` lives.
        unsafe { std::slice::from_raw_parts(self.ptr.cast::<u8>(), self.len) }
    }
}

impl Drop for Mapped {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly what `open` mapped.
        unsafe { libc::munmap(self.ptr, self.len) };
    }
}

/// The main program as loaded: its bias and `PT_LOAD` ranges (file
/// addresses), from `dl_iterate_phdr`'s first entry, as `backtrace` finds it.
struct Loaded {
    bias: u64,
    segments: Vec<(u64, u64)>,
}

/// What the loader added to the main program's addresses (0 when it is not
/// position-independent), from the first object `dl_iterate_phdr` lists.
#[cfg(feature = "lab")]
pub(crate) fn main_program_bias() -> Option<u64> {
    main_program().map(|l| l.bias)
}

fn main_program() -> Option<Loaded> {
    unsafe extern "C" fn first(
        info: *mut libc::dl_phdr_info,
        _: libc::size_t,
        data: *mut libc::c_void,
    ) -> libc::c_int {
        // SAFETY: `data` is the `Option<Loaded>` below; `info` and its
        // program headers are valid during the callback.
        let (out, info) = unsafe { (&mut *data.cast::<Option<Loaded>>(), &*info) };
        let mut segments = Vec::new();
        if info.dlpi_phdr.is_null() {
            return 1;
        }
        for i in 0..usize::from(info.dlpi_phnum) {
            // SAFETY: `dlpi_phnum` headers follow `dlpi_phdr`.
            let ph = unsafe { &*info.dlpi_phdr.add(i) };
            if ph.p_type == libc::PT_LOAD {
                segments.push((ph.p_vaddr, ph.p_vaddr.saturating_add(ph.p_memsz)));
            }
        }
        *out = Some(Loaded {
            bias: info.dlpi_addr,
            segments,
        });
        1
    }
    let mut out: Option<Loaded> = None;
    // SAFETY: the callback only writes `out`, which outlives the call.
    unsafe { libc::dl_iterate_phdr(Some(first), (&raw mut out).cast()) };
    out
}

/// A symbol of the ELF table as `backtrace` keeps it (functions and
/// objects, defined ones), for names DWARF does not give.
struct Symtab<'a> {
    syms: Vec<(u64, u64, u32)>,
    strings: object::read::StringTable<'a>,
}

impl Symtab<'_> {
    fn name(&self, addr: u64) -> Option<&[u8]> {
        let i = match self.syms.binary_search_by_key(&addr, |s| s.0) {
            Ok(i) => i,
            Err(i) => i.checked_sub(1)?,
        };
        let &(a, size, name) = self.syms.get(i)?;
        (a <= addr && addr <= a.saturating_add(size))
            .then(|| self.strings.get(name).ok())
            .flatten()
    }
}

/// Resolves the addresses (of this process) that lie in the main
/// executable; the others, and those whose DWARF could not be read, are
/// left out of the answer, for the caller to resolve another way. `None`
/// when the executable cannot be read this way (no mapping, not ELF64,
/// compressed debug sections, no `.debug_info`): resolve everything
/// another way then.
///
/// # Allocation
///
/// The answers (frames with their names and file names), a few words per
/// address, the symbol table's function entries (24 bytes each), and one
/// unit's header and abbreviations at a time; the file itself is mapped.
pub(crate) fn resolve_main(addresses: &[u64]) -> Option<Vec<(u64, Vec<Frame>)>> {
    let loaded = main_program()?;
    let map = Mapped::open("/proc/self/exe")?;
    let data = map.bytes();
    let header = elf::FileHeader64::<object::Endianness>::parse(data).ok()?;
    let endian = header.endian().ok()?;
    let sections = header.sections(endian, data).ok()?;
    let mut syms = sections.symbols(endian, data, elf::SHT_SYMTAB).ok()?;
    if syms.is_empty() {
        syms = sections.symbols(endian, data, elf::SHT_DYNSYM).ok()?;
    }
    let mut table: Vec<(u64, u64, u32)> = syms
        .iter()
        .filter(|s| matches!(s.st_type(), elf::STT_FUNC | elf::STT_OBJECT))
        .filter(|s| s.st_shndx(endian) != elf::SHN_UNDEF)
        .map(|s| (s.st_value(endian), s.st_size(endian), s.st_name(endian)))
        .collect();
    table.sort_unstable_by_key(|s| s.0);
    let symtab = Symtab {
        syms: table,
        strings: syms.strings(),
    };
    let big = matches!(endian, object::Endianness::Big);
    let run_endian = if big {
        RunTimeEndian::Big
    } else {
        RunTimeEndian::Little
    };
    let mut compressed = false;
    let dwarf = gimli::Dwarf::load(|id| -> Result<R<'_>, ()> {
        let bytes = match sections.section_by_name(endian, id.name().as_bytes()) {
            Some((_, s)) => {
                compressed |= s.sh_flags(endian).0 & elf::SHF_COMPRESSED.0 != 0;
                s.data(endian, data).unwrap_or(&[])
            }
            None => &[],
        };
        Ok(EndianSlice::new(bytes, run_endian))
    })
    .ok()?;
    // Compressed sections would have to be inflated into memory, and an
    // executable without `.debug_info` may have it in a separate file
    // (`.gnu_debuglink`) or none: `backtrace` handles those.
    if compressed || dwarf.debug_info.reader().is_empty() {
        return None;
    }
    let in_main = |a: u64| {
        let svma = a.wrapping_sub(loaded.bias);
        loaded
            .segments
            .iter()
            .any(|&(b, e)| b <= svma && svma < e)
            .then_some(svma)
    };
    let mut queries: Vec<(u64, u64)> = addresses
        .iter()
        .filter_map(|&a| Some((in_main(a)?, a)))
        .collect();
    queries.sort_unstable();
    queries.dedup();
    let svmas: Vec<u64> = queries.iter().map(|q| q.0).collect();
    let answers = resolve_dwarf(&dwarf, &svmas)?;
    let out = queries
        .iter()
        .zip(answers)
        .filter_map(|(&(svma, avma), raw)| Some((avma, to_frames(raw.ok()?, svma, &symtab))))
        .collect();
    Some(out)
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
