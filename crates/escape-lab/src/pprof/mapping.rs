//! The executable mappings of this process, for the protobuf's Mapping
//! table: which file each address range comes from, at which file offset,
//! with the file's GNU build id.
//!
//! `go tool pprof` treats the first Mapping as the main binary: without one
//! it prints "Main binary filename not available." and `-disasm` cannot find
//! the code. [`current_process`] therefore puts the main binary first. Read
//! on Linux from `/proc/self/maps` and `/proc/self/exe`; elsewhere it finds
//! nothing.

use std::path::Path;

use object::{Object as _, ObjectSegment as _, ReadCache};

use super::Error;

/// One executable mapping: `[start, limit)` in memory holds the file's bytes
/// from `offset` on.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mapping {
    /// First address of the mapping.
    pub start: u64,
    /// One past its last address.
    pub limit: u64,
    /// Offset in the file of the byte mapped at `start`.
    pub offset: u64,
    /// The file, as the kernel names it (absolute).
    pub path: String,
    /// The GNU build id (`NT_GNU_BUILD_ID` note) in lowercase hex, when the
    /// file has one and could be read.
    pub build_id: Option<String>,
    /// The link-time (ELF `p_vaddr`) address of the byte at `start`, when
    /// known: `start - vaddr` is where the file was loaded (0 for a
    /// non-PIE executable).
    pub vaddr: Option<u64>,
}

impl Mapping {
    /// Whether `address` falls in this mapping. Never allocates.
    #[must_use]
    pub fn contains(&self, address: u64) -> bool {
        self.start <= address && address < self.limit
    }

    /// How far the file was moved when loaded (`start - vaddr`): subtract it
    /// from a runtime address to get the address `nm` and `objdump` show.
    /// `None` when the link-time address is unknown. Never allocates.
    #[must_use]
    pub fn load_bias(&self) -> Option<u64> {
        self.vaddr.map(|v| self.start.wrapping_sub(v))
    }
}

/// The executable, file-backed mappings of this process, the main binary's
/// first, then the others by address, each with its file's build id.
///
/// Each starts where its executable ELF segment starts, not at the page
/// boundary the kernel lists: `start` is the address of the segment's first
/// byte and `offset` its `p_offset`. `go tool pprof` (Go 1.19's `cmd/pprof`)
/// takes `start - p_vaddr` as the load address when it disassembles; with
/// the page-aligned start of a position-independent executable whose text
/// does not begin on a page, `-disasm` finds no symbol. google/pprof
/// computes the load address from start and offset and is right either way.
///
/// # Allocation
///
/// The text of `/proc/self/maps`, the mappings (their paths and build ids),
/// and, per distinct file, the few pages of it read to find the build id
/// note (through a read cache, not the whole file).
///
/// # Errors
///
/// [`Error::Read`] when `/proc/self/maps` cannot be read (no procfs, not
/// Linux).
pub fn current_process() -> Result<Vec<Mapping>, Error> {
    let maps_path = Path::new("/proc/self/maps");
    let maps = std::fs::read_to_string(maps_path).map_err(|source| Error::Read {
        path: maps_path.to_owned(),
        source,
    })?;
    let exe = std::fs::read_link("/proc/self/exe")
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut mappings = parse_proc_maps(&maps, &exe);
    let mut files: Vec<(String, ElfInfo)> = Vec::new();
    for m in &mut mappings {
        let info = match files.iter().find(|(p, _)| *p == m.path) {
            Some((_, info)) => info,
            None => {
                let info = read_elf_info(Path::new(&m.path)).unwrap_or_default();
                files.push((m.path.clone(), info));
                match files.last() {
                    Some((_, info)) => info,
                    None => continue,
                }
            }
        };
        m.build_id.clone_from(&info.build_id);
        exact_segment_start(m, &info.exec_segments);
    }
    Ok(mappings)
}

/// The executable, file-backed mappings listed in `maps` (the text of a
/// `/proc/<pid>/maps`), those of `main_binary` first, then the others by
/// start address, as the kernel lists them (page-aligned; see
/// [`current_process`] for the exact segment start). A ` (deleted)` suffix is
/// removed from paths (a binary rebuilt while it runs). Lines that do not
/// parse are skipped; build ids are left empty.
///
/// # Allocation
///
/// The returned mappings and their paths.
#[must_use]
pub fn parse_proc_maps(maps: &str, main_binary: &str) -> Vec<Mapping> {
    let main_binary = main_binary
        .strip_suffix(" (deleted)")
        .unwrap_or(main_binary);
    let mut out: Vec<Mapping> = maps
        .lines()
        .filter_map(parse_maps_line)
        .filter(|(_, exec)| *exec)
        .map(|(m, _)| m)
        .collect();
    out.sort_by(|a, b| {
        let a_main = a.path == main_binary;
        let b_main = b.path == main_binary;
        b_main.cmp(&a_main).then(a.start.cmp(&b.start))
    });
    out
}

// `start-limit perms offset dev inode   path`: a mapping of a file (path
// starting with `/`), and whether it is executable.
fn parse_maps_line(line: &str) -> Option<(Mapping, bool)> {
    let mut rest = line.trim_start();
    let mut field = || {
        let s = rest.trim_start();
        let end = s.find(char::is_whitespace).unwrap_or(s.len());
        let (f, r) = s.split_at(end);
        rest = r;
        f
    };
    let range = field();
    let perms = field();
    let offset = field();
    let _dev = field();
    let _inode = field();
    let path = rest.trim();
    if !path.starts_with('/') {
        return None;
    }
    let (start, limit) = range.split_once('-')?;
    let start = u64::from_str_radix(start, 16).ok()?;
    let limit = u64::from_str_radix(limit, 16).ok()?;
    let offset = u64::from_str_radix(offset, 16).ok()?;
    if limit <= start {
        return None;
    }
    let path = path.strip_suffix(" (deleted)").unwrap_or(path);
    Some((
        Mapping {
            start,
            limit,
            offset,
            path: path.to_owned(),
            build_id: None,
            vaddr: None,
        },
        perms.contains('x'),
    ))
}

/// What [`current_process`] reads from an object file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct ElfInfo {
    build_id: Option<String>,
    /// `(p_offset, p_vaddr)` of each executable `PT_LOAD` segment.
    exec_segments: Vec<(u64, u64)>,
}

// Moves a page-aligned mapping to the first byte of the executable segment
// inside it, if one starts there, and records that byte's link-time address.
fn exact_segment_start(m: &mut Mapping, exec_segments: &[(u64, u64)]) {
    let len = m.limit - m.start;
    if let Some(&(p_offset, p_vaddr)) = exec_segments
        .iter()
        .find(|&&(o, _)| o >= m.offset && o - m.offset < len)
    {
        m.start += p_offset - m.offset;
        m.offset = p_offset;
        m.vaddr = Some(p_vaddr);
    }
}

/// The GNU build id of an object file, in lowercase hex: `Ok(None)` when the
/// file has none or is not an object file this reader knows (ELF).
///
/// # Allocation
///
/// The hex string, and the pages of the file the ELF reader touches (its
/// headers and notes; not the whole file).
///
/// # Errors
///
/// [`Error::Read`] when the file cannot be opened.
pub fn read_build_id(path: &Path) -> Result<Option<String>, Error> {
    read_elf_info(path).map(|info| info.build_id)
}

fn read_elf_info(path: &Path) -> Result<ElfInfo, Error> {
    let file = std::fs::File::open(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })?;
    let cache = ReadCache::new(file);
    let Ok(object) = object::File::parse(&cache) else {
        return Ok(ElfInfo::default());
    };
    let build_id = match object.build_id() {
        Ok(Some(id)) => {
            let mut hex = String::with_capacity(id.len() * 2);
            for b in id {
                use std::fmt::Write as _;
                let _ = write!(hex, "{b:02x}");
            }
            Some(hex)
        }
        _ => None,
    };
    let exec_segments = object
        .segments()
        .filter(|seg| match seg.flags() {
            object::SegmentFlags::Elf { p_flags, .. } => p_flags.0 & object::elf::PF_X.0 != 0,
            _ => false,
        })
        .map(|seg| (seg.file_range().0, seg.address()))
        .collect();
    Ok(ElfInfo {
        build_id,
        exec_segments,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAPS: &str = "\
55d0a1000000-55d0a1045000 r--p 00000000 08:01 1234   /work/target/release/escape-lab
55d0a1045000-55d0a1200000 r-xp 00045000 08:01 1234   /work/target/release/escape-lab
55d0a1200000-55d0a1250000 r--p 00200000 08:01 1234   /work/target/release/escape-lab
55d0a1250000-55d0a1260000 rw-p 00250000 08:01 1234   /work/target/release/escape-lab
7f0000000000-7f0000028000 r--p 00000000 08:01 99     /usr/lib/x86_64-linux-gnu/libc.so.6
7f0000028000-7f0000200000 r-xp 00028000 08:01 99     /usr/lib/x86_64-linux-gnu/libc.so.6
7f0000300000-7f0000400000 r--p 00000000 08:01 98     /usr/lib/locale/locale-archive
7e0000000000-7e0000001000 r-xp 00000000 08:01 77     /tmp/with space/lib.so (deleted)
7fff00000000-7fff00002000 r-xp 00000000 00:00 0      [vdso]
ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0  [vsyscall]
garbage line
7fff1-7fff0 r-xp 0 0 0 /reversed
";

    #[test]
    fn parses_executable_file_mappings_main_first() {
        let m = parse_proc_maps(MAPS, "/work/target/release/escape-lab (deleted)");
        let got: Vec<(u64, u64, u64, &str)> = m
            .iter()
            .map(|m| (m.start, m.limit, m.offset, m.path.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    0x55d0a1045000,
                    0x55d0a1200000,
                    0x45000,
                    "/work/target/release/escape-lab"
                ),
                (0x7e0000000000, 0x7e0000001000, 0, "/tmp/with space/lib.so"),
                (
                    0x7f0000028000,
                    0x7f0000200000,
                    0x28000,
                    "/usr/lib/x86_64-linux-gnu/libc.so.6"
                ),
            ]
        );
        assert!(m[0].contains(0x55d0a1045000));
        assert!(!m[0].contains(0x55d0a1200000));
        assert!(parse_proc_maps("", "x").is_empty());
    }

    #[test]
    fn mappings_move_to_the_exact_segment_start() {
        let mut m = Mapping {
            start: 0x55d0a1045000,
            limit: 0x55d0a1200000,
            offset: 0x45000,
            path: "x".into(),
            build_id: None,
            vaddr: None,
        };
        assert_eq!(m.load_bias(), None);
        // The text segment starts 0x7a0 into the mapped page.
        exact_segment_start(&mut m, &[(0x10, 0x10), (0x457a0, 0x467a0)]);
        assert_eq!((m.start, m.offset), (0x55d0a10457a0, 0x457a0));
        assert_eq!(m.vaddr, Some(0x467a0));
        assert_eq!(m.load_bias(), Some(0x55d0a1045000 - 0x46000));
        // No executable segment in range: unchanged.
        let before = m.clone();
        exact_segment_start(&mut m, &[(0x1_0000_0000, 0)]);
        assert_eq!(m, before);
    }

    #[test]
    fn this_process_has_its_binary_first() {
        let m = current_process().expect("procfs");
        let exe = std::env::current_exe().unwrap();
        assert_eq!(Path::new(&m[0].path), exe.as_path(), "{m:#?}");
        let here = this_process_has_its_binary_first as *const () as usize as u64;
        assert!(
            m.iter()
                .any(|m| m.contains(here) && Path::new(&m.path) == exe),
            "{m:#?}"
        );
        // Start and offset moved together: still congruent modulo a page.
        assert_eq!((m[0].start - m[0].offset) % 4096, 0, "{m:#?}");
        let info = read_elf_info(&exe).unwrap();
        assert!(
            info.exec_segments.iter().any(|&(o, _)| o == m[0].offset),
            "{m:#?} {info:?}"
        );
        // The function's link-time address is what `nm` would show.
        let bias = m[0].load_bias().expect("vaddr known");
        assert!(here - bias < here, "{m:#?}");
    }

    #[test]
    fn build_id_of_this_binary_matches_readelf_shape() {
        let exe = std::env::current_exe().unwrap();
        // rustc links through cc, which passes --build-id on most
        // distributions; when it did, the id is 20 bytes of SHA-1.
        if let Some(id) = read_build_id(&exe).unwrap() {
            assert!(id.len() >= 16 && id.len() % 2 == 0, "{id}");
            assert!(id
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        }
        // Not an object file: no id, no error.
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk");
        std::fs::write(&junk, b"not an elf file at all").unwrap();
        assert_eq!(read_build_id(&junk).unwrap(), None);
        assert!(matches!(
            read_build_id(&dir.path().join("missing")),
            Err(Error::Read { .. })
        ));
    }
}
