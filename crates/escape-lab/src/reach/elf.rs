//! The running program's own ELF file, read once: its function symbols, the
//! bytes of its sections, and what each GOT slot or constant pointer holds
//! once the dynamic loader has relocated it.
//!
//! Everything is in the file's own addresses (`vaddr`); [`Binary::bias`] is
//! what the loader added to them in this process.

use std::collections::HashMap;
use std::path::PathBuf;

use object::{Object, ObjectSection, ObjectSymbol, ObjectSymbolTable, RelocationTarget};

use super::ReachError;

use object::elf::{R_X86_64_64, R_X86_64_GLOB_DAT, R_X86_64_JUMP_SLOT, R_X86_64_RELATIVE};

/// What a pointer-sized slot holds at run time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Slot {
    /// An address in this file.
    Addr(u64),
    /// A symbol of another object (`malloc` from libc), by name.
    Import(String),
}

/// One function of the symbol table: its range and its names (several
/// when symbols alias the same code), demangled without hash.
#[derive(Clone, Debug)]
pub(crate) struct Function {
    pub start: u64,
    pub end: u64,
    pub names: Vec<String>,
}

impl Function {
    /// The name reports show.
    pub fn name(&self) -> &str {
        self.names.first().map_or("?", String::as_str)
    }
}

struct Section {
    addr: u64,
    offset: usize,
    size: usize,
    code: bool,
}

/// The program's file, parsed.
pub(crate) struct Binary {
    pub path: PathBuf,
    data: Vec<u8>,
    sections: Vec<Section>,
    /// Sorted by start, no two with the same start.
    pub functions: Vec<Function>,
    slots: HashMap<u64, Slot>,
    /// What the loader added to every address of the file in this process.
    pub bias: u64,
}

impl Binary {
    /// Reads and parses the running program's file.
    pub fn of_this_process() -> Result<Binary, ReachError> {
        if !cfg!(all(target_arch = "x86_64", target_os = "linux")) {
            return Err(ReachError::Unsupported(format!(
                "{} on {}: the analysis reads x86-64 Linux ELF only",
                std::env::consts::ARCH,
                std::env::consts::OS
            )));
        }
        let path = std::env::current_exe().map_err(|e| ReachError::Read {
            path: PathBuf::from("/proc/self/exe"),
            source: e,
        })?;
        let data = std::fs::read(&path).map_err(|e| ReachError::Read {
            path: path.clone(),
            source: e,
        })?;
        let bias = main_program_bias()
            .ok_or_else(|| ReachError::Unsupported("no load address for the program".into()))?;
        Binary::parse(path, data, bias)
    }

    fn parse(path: PathBuf, data: Vec<u8>, bias: u64) -> Result<Binary, ReachError> {
        let bad = |problem: String| ReachError::Binary {
            path: path.clone(),
            problem,
        };
        let file = object::File::parse(&*data).map_err(|e| bad(e.to_string()))?;
        if file.architecture() != object::Architecture::X86_64 {
            return Err(ReachError::Unsupported(format!(
                "{}: {:?} machine code (the analysis reads x86-64 only)",
                path.display(),
                file.architecture()
            )));
        }
        let mut sections = Vec::new();
        for s in file.sections() {
            let Some((offset, size)) = s.file_range() else {
                continue;
            };
            sections.push(Section {
                addr: s.address(),
                offset: offset as usize,
                size: size as usize,
                code: s.kind() == object::SectionKind::Text,
            });
        }
        let functions = functions(&file);
        if functions.is_empty() {
            return Err(bad(
                "no function symbols (a stripped binary: keep `strip = false`, the default)".into(),
            ));
        }
        let slots = slots(&file);
        drop(file);
        Ok(Binary {
            path,
            data,
            sections,
            functions,
            slots,
            bias,
        })
    }

    /// The bytes of the file at `addr` up to the end of its section.
    pub fn bytes_at(&self, addr: u64) -> Option<&[u8]> {
        let s = self
            .sections
            .iter()
            .find(|s| addr >= s.addr && addr < s.addr + s.size as u64)?;
        let from = s.offset + (addr - s.addr) as usize;
        self.data.get(from..s.offset + s.size)
    }

    /// Whether `addr` is in a section of code.
    pub fn is_code(&self, addr: u64) -> bool {
        self.sections
            .iter()
            .any(|s| s.code && addr >= s.addr && addr < s.addr + s.size as u64)
    }

    /// What the pointer-sized slot at `addr` holds at run time: its
    /// relocation, else the file's bytes.
    pub fn slot(&self, addr: u64) -> Option<Slot> {
        if let Some(s) = self.slots.get(&addr) {
            return Some(s.clone());
        }
        let b = self.bytes_at(addr)?.get(..8)?;
        let v = u64::from_le_bytes(b.try_into().ok()?);
        (v != 0).then_some(Slot::Addr(v))
    }

    /// The index of the function whose range holds `addr`.
    pub fn function_at(&self, addr: u64) -> Option<usize> {
        let i = self.functions.partition_point(|f| f.start <= addr);
        let f = self.functions.get(i.checked_sub(1)?)?;
        (addr < f.end).then_some(i - 1)
    }
}

/// Function symbols of `.symtab` (`.dynsym` when there is none), merged by
/// start address; a symbol without size ends where the next one starts.
fn functions(file: &object::File<'_>) -> Vec<Function> {
    let mut raw: Vec<(u64, u64, String)> = file
        .symbols()
        .chain(file.dynamic_symbols())
        .filter(|s| s.kind() == object::SymbolKind::Text && s.is_definition() && s.address() != 0)
        .filter_map(|s| {
            let name = s.name().ok()?;
            Some((s.address(), s.size(), demangle(name)))
        })
        .collect();
    raw.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    let mut out: Vec<Function> = Vec::with_capacity(raw.len());
    for (start, size, name) in raw {
        match out.last_mut() {
            Some(f) if f.start == start => {
                if !f.names.contains(&name) {
                    f.names.push(name);
                }
                f.end = f.end.max(start + size);
            }
            _ => out.push(Function {
                start,
                end: start + size,
                names: vec![name],
            }),
        }
    }
    let starts: Vec<u64> = out.iter().map(|f| f.start).skip(1).collect();
    for (f, next) in out.iter_mut().zip(starts.iter().copied().chain([u64::MAX])) {
        if f.end <= f.start {
            f.end = next.min(f.start + (1 << 16));
        }
        f.end = f.end.min(next);
    }
    out
}

/// A symbol's name demangled, without the hash; C names unchanged.
pub(crate) fn demangle(name: &str) -> String {
    format!("{:#}", rustc_demangle::demangle(name))
}

/// The slots the dynamic loader fills, from the dynamic relocations.
fn slots(file: &object::File<'_>) -> HashMap<u64, Slot> {
    let mut out = HashMap::new();
    let Some(relocations) = file.dynamic_relocations() else {
        return out;
    };
    let dynsym = file.dynamic_symbol_table();
    for (addr, r) in relocations {
        let object::RelocationFlags::Elf { r_type } = r.flags() else {
            continue;
        };
        let slot = match (r_type, r.target()) {
            (R_X86_64_RELATIVE, _) => Slot::Addr(r.addend() as u64),
            (R_X86_64_64 | R_X86_64_GLOB_DAT | R_X86_64_JUMP_SLOT, RelocationTarget::Symbol(i)) => {
                let Some(sym) = dynsym.as_ref().and_then(|t| t.symbol_by_index(i).ok()) else {
                    continue;
                };
                if sym.is_definition() && sym.address() != 0 {
                    Slot::Addr(sym.address().wrapping_add(r.addend() as u64))
                } else {
                    match sym.name() {
                        Ok(n) => Slot::Import(n.to_string()),
                        Err(_) => continue,
                    }
                }
            }
            _ => continue,
        };
        out.insert(addr, slot);
    }
    out
}

/// What the loader added to the main program's addresses (0 when it is not
/// position-independent): the symbolizer's own reading of it.
#[cfg(target_os = "linux")]
fn main_program_bias() -> Option<u64> {
    crate::pprof::dwarf::main_program_bias()
}

/// Elsewhere the analysis stops before it needs one (not supported).
#[cfg(not(target_os = "linux"))]
fn main_program_bias() -> Option<u64> {
    None
}
