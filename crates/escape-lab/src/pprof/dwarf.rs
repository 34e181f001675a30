//! Bounded-memory symbolization of the main executable's addresses: the
//! file is mapped (file-backed pages, not anonymous memory), the units that
//! hold the queried addresses are found through `.debug_aranges`, and each
//! is streamed once ([`super::dwarf_unit`]). No parsed unit is kept, so the
//! peak does not grow with the size of the debug info; `backtrace`'s cache
//! (which keeps every touched unit's lines and functions) is not used.

use super::dwarf_unit::{self, RawFrame, R};
use super::symbolize::Frame;
use gimli::{EndianSlice, RunTimeEndian};
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

fn main_program() -> Option<Loaded> {
    unsafe extern "C" fn first(info: *mut libc::dl_phdr_info, _: libc::size_t, data: *mut libc::c_void) -> libc::c_int {
        // SAFETY: `data` is the `Option<Loaded>` below; `info` and its
        // program headers are valid during the callback.
        let (out, info) = unsafe { (&mut *data.cast::<Option<Loaded>>(), &*info) };
        let mut segments = Vec::new();
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
/// executable; the others are left out of the answer, for the caller to
/// resolve another way. `None` when the executable cannot be read this way
/// (no mapping, not ELF64, compressed debug sections): resolve everything
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
    let run_endian = if big { RunTimeEndian::Big } else { RunTimeEndian::Little };
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
    if compressed {
        return None;
    }
    let in_main = |a: u64| {
        let svma = a.wrapping_sub(loaded.bias);
        loaded.segments.iter().any(|&(b, e)| b <= svma && svma < e).then_some(svma)
    };
    let mut queries: Vec<(u64, u64)> = addresses.iter().filter_map(|&a| Some((in_main(a)?, a))).collect();
    queries.sort_unstable();
    queries.dedup();
    let svmas: Vec<u64> = queries.iter().map(|q| q.0).collect();
    let answers = resolve_dwarf(&dwarf, &svmas);
    let out = queries
        .iter()
        .zip(answers)
        .map(|(&(svma, avma), raw)| (avma, to_frames(raw, svma, &symtab)))
        .collect();
    Some(out)
}

// The DWARF frames of each sorted, distinct file address: the first unit
// (in .debug_aranges' order) that knows the address wins.
fn resolve_dwarf<'a>(dwarf: &gimli::Dwarf<R<'a>>, svmas: &[u64]) -> Vec<Option<Vec<RawFrame<'a>>>> {
    let mut answers: Vec<Option<(usize, Vec<RawFrame<'a>>)>> = svmas.iter().map(|_| None).collect();
    // unit offset -> (query index, candidate rank)
    let mut by_unit: BTreeMap<gimli::DebugInfoOffset, Vec<(usize, usize)>> = BTreeMap::new();
    let mut rank = 0usize;
    let mut headers = dwarf.debug_aranges.headers();
    while let Ok(Some(header)) = headers.next() {
        let mut entries = header.entries();
        while let Ok(Some(entry)) = entries.next() {
            let r = entry.range();
            let a = svmas.partition_point(|&q| q < r.begin);
            let b = svmas.partition_point(|&q| q < r.end);
            for i in a..b.max(a) {
                by_unit.entry(header.debug_info_offset()).or_default().push((i, rank));
                rank += 1;
            }
        }
    }
    for (offset, mut wanted) in by_unit {
        wanted.sort_unstable();
        wanted.dedup_by_key(|w| w.0);
        let Ok(header) = dwarf.debug_info.header_from_offset(offset) else {
            continue;
        };
        let Ok(unit) = dwarf.unit(header) else {
            continue;
        };
        let idx: Vec<usize> = wanted.iter().map(|w| w.0).collect();
        let qs: Vec<u64> = idx.iter().map(|&i| svmas[i]).collect();
        let got = dwarf_unit::resolve(unit.unit_ref(dwarf), &qs);
        for ((&i, frames), &(_, rank)) in idx.iter().zip(got).zip(&wanted) {
            let Some(frames) = frames else { continue };
            if answers[i].as_ref().is_none_or(|(r, _)| rank < *r) {
                answers[i] = Some((rank, frames));
            }
        }
    }
    answers.into_iter().map(|a| a.map(|(_, f)| f)).collect()
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
