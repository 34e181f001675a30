//! The objects this process has loaded (the main program and its shared
//! libraries, as `dl_iterate_phdr` lists them), their files mapped, and
//! what the symbolizer reads from them: the ELF symbol table, the DWARF
//! sections when they can be read in place, and a shared library's
//! separate debug file (`/usr/lib/debug/.build-id/xx/rest.debug`, as
//! distributions install them).

use super::dwarf_unit::R;
use gimli::{EndianSlice, RunTimeEndian};
use object::elf;
use object::read::elf::{FileHeader, SectionHeader, SectionTable, Sym};
use std::ffi::CStr;

/// A read-only private mapping of a whole file, unmapped on drop.
pub(super) struct Mapped {
    ptr: *mut libc::c_void,
    len: usize,
}

impl Mapped {
    pub(super) fn open(path: &[u8]) -> Option<Mapped> {
        use std::os::fd::AsRawFd;
        use std::os::unix::ffi::OsStrExt;
        let file = std::fs::File::open(std::ffi::OsStr::from_bytes(path)).ok()?;
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

    pub(super) fn bytes(&self) -> &[u8] {
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

/// One loaded object: its file (`/proc/self/exe` for the main program,
/// `None` for one without a file, such as the vDSO), its bias and its
/// `PT_LOAD` ranges (file addresses).
pub(super) struct Loaded {
    pub(super) path: Option<Vec<u8>>,
    pub(super) bias: u64,
    pub(super) segments: Vec<(u64, u64)>,
}

impl Loaded {
    /// The file address of `avma` when this object holds it.
    pub(super) fn svma(&self, avma: u64) -> Option<u64> {
        let svma = avma.wrapping_sub(self.bias);
        self.segments
            .iter()
            .any(|&(b, e)| b <= svma && svma < e)
            .then_some(svma)
    }
}

/// Every loaded object, the main program first (as `dl_iterate_phdr`
/// lists them, and as `backtrace` finds them).
pub(super) fn loaded() -> Vec<Loaded> {
    unsafe extern "C" fn each(
        info: *mut libc::dl_phdr_info,
        _: libc::size_t,
        data: *mut libc::c_void,
    ) -> libc::c_int {
        // SAFETY: `data` is the `Vec<Loaded>` below; `info`, its name and
        // its program headers are valid during the callback.
        let (out, info) = unsafe { (&mut *data.cast::<Vec<Loaded>>(), &*info) };
        // Every entry is pushed, so that the first is the main program
        // even when an entry has no program headers (then no segments).
        let mut segments = Vec::new();
        let phnum = if info.dlpi_phdr.is_null() {
            0
        } else {
            usize::from(info.dlpi_phnum)
        };
        for i in 0..phnum {
            // SAFETY: `dlpi_phnum` headers follow `dlpi_phdr`.
            let ph = unsafe { &*info.dlpi_phdr.add(i) };
            if ph.p_type == libc::PT_LOAD {
                segments.push((ph.p_vaddr, ph.p_vaddr.saturating_add(ph.p_memsz)));
            }
        }
        let path = if out.is_empty() {
            Some(b"/proc/self/exe".to_vec())
        } else if info.dlpi_name.is_null() {
            None
        } else {
            // SAFETY: a NUL-terminated string the loader owns.
            let name = unsafe { CStr::from_ptr(info.dlpi_name) }.to_bytes();
            // The vDSO has a name but no file; only absolute paths are files.
            name.starts_with(b"/").then(|| name.to_vec())
        };
        out.push(Loaded {
            path,
            bias: info.dlpi_addr,
            segments,
        });
        0
    }
    let mut out: Vec<Loaded> = Vec::new();
    // SAFETY: the callback only pushes to `out`, which outlives the call.
    unsafe { libc::dl_iterate_phdr(Some(each), (&raw mut out).cast()) };
    out
}

/// An ELF64 file's sections, parsed over its mapped bytes.
pub(super) struct Elf<'a> {
    data: &'a [u8],
    endian: object::Endianness,
    sections: SectionTable<'a, elf::FileHeader64<object::Endianness>>,
}

/// Why a file's DWARF cannot be read in place.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum NoDwarf {
    /// No `.debug_info` (stripped, or in a separate file).
    Absent,
    /// Compressed sections: reading them means inflating them into memory.
    Compressed,
}

impl<'a> Elf<'a> {
    pub(super) fn parse(data: &'a [u8]) -> Option<Elf<'a>> {
        let header = elf::FileHeader64::<object::Endianness>::parse(data).ok()?;
        let endian = header.endian().ok()?;
        let sections = header.sections(endian, data).ok()?;
        Some(Elf {
            data,
            endian,
            sections,
        })
    }

    /// The function and object symbols the file defines, from `.symtab`,
    /// else `.dynsym` (a stripped library keeps only its exports). Where
    /// several share an address, `readable` picks the name a reader
    /// expects (glibc gives `clone3` three names, `__libc_start_main`
    /// five): a sized symbol, unversioned (no `@GLIBC_2.2.5`), exported,
    /// the shortest. Without it the choice is `backtrace`'s (the first
    /// that a binary search of the address-sorted table meets), which the
    /// main executable keeps so that its frames stay those `backtrace`
    /// gives (Rust's merged functions share addresses there).
    pub(super) fn symtab(&self, readable: bool) -> Option<Symtab<'a>> {
        let (endian, data) = (self.endian, self.data);
        let mut syms = self.sections.symbols(endian, data, elf::SHT_SYMTAB).ok()?;
        if syms.is_empty() {
            syms = self.sections.symbols(endian, data, elf::SHT_DYNSYM).ok()?;
        }
        let strings = syms.strings();
        // `None` for all without `readable`: sorting by the address alone.
        let rank = |s: &elf::Sym64<object::Endianness>| {
            readable.then(|| {
                let name = strings.get(s.st_name(endian)).unwrap_or_default();
                let binding = match s.st_bind() {
                    elf::STB_GLOBAL => 0u8,
                    elf::STB_WEAK => 1,
                    _ => 2,
                };
                let sized = s.st_size(endian) != 0;
                (!sized, name.contains(&b'@'), binding, name.len())
            })
        };
        let mut table: Vec<_> = syms
            .iter()
            .filter(|s| matches!(s.st_type(), elf::STT_FUNC | elf::STT_OBJECT))
            .filter(|s| s.st_shndx(endian) != elf::SHN_UNDEF)
            .map(|s| {
                (
                    s.st_value(endian),
                    rank(s),
                    s.st_size(endian),
                    s.st_name(endian),
                )
            })
            .collect();
        table.sort_unstable_by_key(|s| (s.0, s.1));
        if readable {
            table.dedup_by_key(|s| s.0);
        }
        Some(Symtab {
            syms: table
                .into_iter()
                .map(|(a, _, size, name)| (a, size, name))
                .collect(),
            strings,
        })
    }

    /// The DWARF sections, borrowed from the mapping.
    pub(super) fn dwarf(&self) -> Result<gimli::Dwarf<R<'a>>, NoDwarf> {
        let (endian, data) = (self.endian, self.data);
        let run_endian = match endian {
            object::Endianness::Big => RunTimeEndian::Big,
            object::Endianness::Little => RunTimeEndian::Little,
        };
        let mut compressed = false;
        let dwarf = gimli::Dwarf::load(|id| -> Result<R<'a>, ()> {
            let bytes = match self.sections.section_by_name(endian, id.name().as_bytes()) {
                Some((_, s)) => {
                    compressed |= s.sh_flags(endian).0 & elf::SHF_COMPRESSED.0 != 0;
                    s.data(endian, data).unwrap_or(&[])
                }
                None => &[],
            };
            Ok(EndianSlice::new(bytes, run_endian))
        })
        .map_err(|()| NoDwarf::Absent)?;
        if compressed {
            Err(NoDwarf::Compressed)
        } else if gimli::Section::reader(&dwarf.debug_info).is_empty() {
            Err(NoDwarf::Absent)
        } else {
            Ok(dwarf)
        }
    }

    /// Where distributions install this file's separate debug file: its
    /// GNU build ID as `/usr/lib/debug/.build-id/xx/rest.debug`.
    pub(super) fn debug_file_path(&self) -> Option<Vec<u8>> {
        let (endian, data) = (self.endian, self.data);
        let id = self.sections.iter().find_map(|s| {
            let mut notes = s.notes(endian, data).ok()??;
            while let Ok(Some(note)) = notes.next() {
                if note.name() == b"GNU" && note.n_type(endian) == elf::NT_GNU_BUILD_ID {
                    return Some(note.desc());
                }
            }
            None
        })?;
        let (first, rest) = id.split_first()?;
        let mut path = format!("/usr/lib/debug/.build-id/{first:02x}/").into_bytes();
        for b in rest {
            path.extend(format!("{b:02x}").bytes());
        }
        path.extend(b".debug");
        Some(path)
    }
}

/// A symbol of the ELF table as `backtrace` keeps it (functions and
/// objects, defined ones), for names DWARF does not give.
pub(super) struct Symtab<'a> {
    syms: Vec<(u64, u64, u32)>,
    strings: object::read::StringTable<'a>,
}

impl Symtab<'_> {
    /// The name of the symbol whose range holds the file address `addr`.
    pub(super) fn name(&self, addr: u64) -> Option<&[u8]> {
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
