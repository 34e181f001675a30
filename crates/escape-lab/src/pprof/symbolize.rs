//! Addresses of this process → source frames, with inlined functions
//! expanded, through the `backtrace` crate (gimli and addr2line underneath),
//! cached per address.
//!
//! One address gives one or more [`Frame`]s, **innermost first**: when the
//! compiler inlined `helper` into `run`, an address inside the inlined code
//! resolves to `[helper (its line), run (the line of the call)]`, which is
//! how `profile.proto` Lines and Go's profiles order them.
//!
//! # Return addresses
//!
//! In a sampled stack only the leaf is an instruction that was executing;
//! every other frame holds a *return address*, the instruction after a
//! call, which can belong to the next line or even, after a call that never
//! returns, to the next function. [`lookup_address`] turns it into an
//! address inside the call instruction (`ip - 1`), as pprof-rs, gdb and Go's
//! runtime do; [`Symbolizer::resolve_stack`] applies it to every frame but
//! the leaf. The adjusted addresses are also what the protobuf's Locations
//! carry (Go writes call PCs the same way), so an address in a profile
//! always names the instruction whose line it shows.
//!
//! Symbolization is in-process only: the addresses must come from this
//! process (its loaded objects and their debug info).

use std::collections::HashMap;
use std::os::raw::c_void;
use std::sync::Arc;

/// One source frame of an address: a function, and where in its source the
/// address is.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Frame {
    /// Demangled name without the trailing hash
    /// (`acmatch::Automaton::scan::{{closure}}`), or `""` when unknown.
    pub function: String,
    /// The symbol as the object file has it (mangled for Rust, the plain
    /// name for C), or `""` when unknown.
    pub system_name: String,
    /// The source file as debug info names it (absolute for the
    /// workspace's code, `/rustc/<commit>/library/...` for std), if known.
    pub file: Option<String>,
    /// 1-based line, if known.
    pub line: Option<u32>,
    /// 1-based column, if known.
    pub column: Option<u32>,
}

/// The frames of one address, innermost first. Empty when nothing is known
/// about the address (no symbol, no debug info).
pub type Frames = Arc<[Frame]>;

/// An address of a stack, adjusted for lookup (see [`lookup_address`]),
/// with its frames.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedLocation {
    /// The address looked up: the sampled instruction for the leaf, the
    /// return address minus one for the others.
    pub address: u64,
    /// Its frames, innermost first.
    pub frames: Frames,
}

/// The address to look up for a frame of a stack: `ip` itself for the leaf
/// (an instruction that was executing when the stack was taken), `ip - 1`
/// for every other frame (a return address; minus one lands inside the call
/// instruction, so the call's line is found, not the next one's). Never
/// allocates.
#[must_use]
pub fn lookup_address(ip: u64, is_leaf: bool) -> u64 {
    if is_leaf {
        ip
    } else {
        ip.saturating_sub(1)
    }
}

/// Resolves addresses of this process to frames, keeping every answer.
///
/// The cache is never trimmed: one entry per distinct address, typically a
/// few hundred to a few thousand per profile.
#[derive(Debug, Default)]
pub struct Symbolizer {
    cache: HashMap<u64, Frames>,
    lookups: u64,
}

impl Symbolizer {
    /// An empty symbolizer.
    ///
    /// # Allocation
    ///
    /// None until the first lookup.
    #[must_use]
    pub fn new() -> Symbolizer {
        Symbolizer::default()
    }

    /// The frames of `address` (already adjusted, see [`lookup_address`]),
    /// innermost first; empty when nothing is known about it.
    ///
    /// # Allocation
    ///
    /// On the first lookup of an address: the frames (their names and file
    /// names) and a cache entry; the `backtrace` crate also parses and keeps
    /// the debug info of the object the address is in the first time it
    /// meets it (its own global cache). Later lookups of the same address
    /// only clone an `Arc`. To symbolize many addresses without that cache,
    /// call [`resolve_many`](Symbolizer::resolve_many) (or
    /// [`prefetch_stacks`](Symbolizer::prefetch_stacks)) first.
    pub fn resolve(&mut self, address: u64) -> Frames {
        if let Some(frames) = self.cache.get(&address) {
            return Arc::clone(frames);
        }
        self.lookups += 1;
        let frames: Frames = resolve_with_backtrace(address).into();
        self.cache.insert(address, Arc::clone(&frames));
        frames
    }

    /// Resolves every address not cached yet in one pass, so that later
    /// [`resolve`](Symbolizer::resolve) calls for them are cache hits.
    ///
    /// Every loaded object's addresses are read from its DWARF streaming
    /// (the file mapped, each unit that holds one of the addresses read
    /// once, nothing of it kept), so the memory does not grow with the
    /// size of the debug info. A shared library whose DWARF is not in
    /// place (stripped, or in a compressed debug file as distributions
    /// ship them) gets its symbol table's names alone, from its debug
    /// file's `.symtab` when there is one. The `backtrace` crate, which
    /// parses and keeps an object's whole debug info, is left for
    /// main-executable addresses whose DWARF cannot be read this way (no
    /// `.debug_info` in the file, compressed sections, split units,
    /// malformed DWARF) and for addresses in no object's file.
    ///
    /// # Allocation
    ///
    /// The frames and a cache entry per new address; while it runs, a few
    /// words per address, each touched object's symbol table entries (24
    /// bytes per function or object symbol) and one unit's header and
    /// abbreviations at a time.
    pub fn resolve_many(&mut self, addresses: impl IntoIterator<Item = u64>) {
        let mut new: Vec<u64> = addresses
            .into_iter()
            .filter(|a| !self.cache.contains_key(a))
            .collect();
        if new.is_empty() {
            return;
        }
        new.sort_unstable();
        new.dedup();
        self.lookups += new.len() as u64;
        let nonzero: Vec<u64> = new.iter().copied().filter(|&a| a != 0).collect();
        for (address, frames) in super::dwarf::resolve_loaded(&nonzero) {
            self.cache.insert(address, frames.into());
        }
        for address in new {
            self.cache
                .entry(address)
                .or_insert_with(|| resolve_with_backtrace(address).into());
        }
    }

    /// [`resolve_many`](Symbolizer::resolve_many) for the lookup addresses
    /// of stacks given leaf first as sampled ([`lookup_address`] applied as
    /// [`resolve_stack`](Symbolizer::resolve_stack) does), so that resolving
    /// them afterwards only hits the cache.
    ///
    /// # Allocation
    ///
    /// What `resolve_many` allocates, and the list of addresses.
    pub fn prefetch_stacks<'s>(&mut self, stacks: impl IntoIterator<Item = &'s [u64]>) {
        let addresses: Vec<u64> = stacks
            .into_iter()
            .flat_map(|ips| {
                ips.iter()
                    .enumerate()
                    .map(|(i, &ip)| lookup_address(ip, i == 0))
            })
            .collect();
        self.resolve_many(addresses);
    }

    /// Resolves a stack given leaf first as sampled (the leaf an executing
    /// instruction, the others return addresses), applying
    /// [`lookup_address`] to each.
    ///
    /// # Allocation
    ///
    /// The returned vector, and what [`resolve`](Symbolizer::resolve)
    /// allocates for addresses not seen before.
    pub fn resolve_stack(&mut self, ips: &[u64]) -> Vec<ResolvedLocation> {
        ips.iter()
            .enumerate()
            .map(|(i, &ip)| {
                let address = lookup_address(ip, i == 0);
                ResolvedLocation {
                    address,
                    frames: self.resolve(address),
                }
            })
            .collect()
    }

    /// How many distinct addresses were looked up (cache misses). Never
    /// allocates.
    #[must_use]
    pub fn lookups(&self) -> u64 {
        self.lookups
    }

    /// How many addresses the cache holds. Never allocates.
    #[must_use]
    pub fn cached(&self) -> usize {
        self.cache.len()
    }
}

pub use crate::frames::strip_hash;

/// Removes, from the leaf side, the allocation machinery's frames
/// ([`crate::frames::is_allocator`], and functions starting with one of
/// `extra`): within the leaf location innermost first, then whole locations
/// that become empty.
pub(crate) fn trim_allocator_frames(stack: &mut Vec<(u64, Vec<Frame>)>, extra: &[&str]) {
    let is_alloc = |f: &Frame| {
        let name = if f.function.is_empty() {
            &f.system_name
        } else {
            &f.function
        };
        crate::frames::is_allocator(name) || extra.iter().any(|p| name.starts_with(p))
    };
    let mut drop_locations = 0;
    for (_, frames) in stack.iter_mut() {
        let n = frames.iter().take_while(|f| is_alloc(f)).count();
        frames.drain(..n);
        if frames.is_empty() {
            drop_locations += 1;
        } else {
            break;
        }
    }
    // Never remove everything: a stack made only of allocator frames is kept.
    if drop_locations < stack.len() {
        stack.drain(..drop_locations);
    }
}

/// A frame as the `backtrace` crate's symbol gives it: `name` the raw
/// linkage name, demangled without hash for `function`; a 0 line or column
/// is none.
pub(crate) fn frame(
    name: Option<&[u8]>,
    file: Option<String>,
    line: Option<u32>,
    column: Option<u32>,
) -> Frame {
    let (function, system_name) = match name.map(backtrace::SymbolName::new) {
        Some(name) => {
            // `{:#}` is the demangled name without the hash.
            let function = format!("{name:#}");
            let function = strip_hash(&function).to_owned();
            let system_name = String::from_utf8_lossy(name.as_bytes()).into_owned();
            (function, system_name)
        }
        None => (String::new(), String::new()),
    };
    Frame {
        function,
        system_name,
        file,
        line: line.filter(|&l| l > 0),
        column: column.filter(|&c| c > 0),
    }
}

/// One lookup through the `backtrace` crate (which parses and keeps the
/// whole debug info of the object): the way before the streaming
/// symbolizer, kept as its fallback (see
/// [`resolve_many`](Symbolizer::resolve_many)), for addresses resolved
/// without a batch, and for the differential test.
/// Its callback gives the frames of an address innermost first (gimli's
/// `find_frames` order), or, when there is no debug info, the symbol
/// table's name alone.
#[doc(hidden)]
pub fn resolve_with_backtrace(address: u64) -> Vec<Frame> {
    let mut frames = Vec::new();
    if address == 0 {
        return frames;
    }
    // `backtrace::resolve` subtracts one from every address it is given
    // (it assumes return addresses, even for `resolve(addr)`), so ask for
    // the next byte to look up exactly `address`.
    let Some(probe) = usize::try_from(address).ok().and_then(|a| a.checked_add(1)) else {
        return frames;
    };
    backtrace::resolve(probe as *mut c_void, |symbol| {
        frames.push(frame(
            symbol.name().as_ref().map(backtrace::SymbolName::as_bytes),
            symbol.filename().map(|p| p.to_string_lossy().into_owned()),
            symbol.lineno(),
            symbol.colno(),
        ));
    });
    frames
}

#[cfg(test)]
mod tests {
    use super::*;

    #[inline(never)]
    fn symbolize_test_marker() -> u64 {
        // An address inside this function: the return address of a call
        // made from it, as a stack would hold it.
        let mut ip = 0u64;
        backtrace::trace(|frame| {
            ip = frame.ip() as usize as u64;
            false
        });
        std::hint::black_box(ip)
    }

    #[test]
    fn lookup_address_adjusts_all_but_the_leaf() {
        assert_eq!(lookup_address(0x1000, true), 0x1000);
        assert_eq!(lookup_address(0x1000, false), 0xfff);
        assert_eq!(lookup_address(0, false), 0);
    }

    #[test]
    fn resolves_a_real_address_once() {
        // The first frame `backtrace::trace` reports is inside the `trace`
        // machinery itself or the marker; resolve the marker's own address.
        let mut s = Symbolizer::new();
        let here = symbolize_test_marker as *const () as usize as u64;
        let frames = s.resolve(here);
        assert!(
            frames
                .iter()
                .any(|f| f.function.ends_with("symbolize_test_marker")),
            "{frames:?}"
        );
        let f = frames.last().expect("one frame");
        assert!(
            f.file
                .as_deref()
                .is_some_and(|p| p.ends_with("symbolize.rs")),
            "{f:?}"
        );
        assert!(f.line.is_some(), "{f:?}");
        assert!(!f.system_name.is_empty());
        assert!(!f.function.contains("::h"), "hash left in {}", f.function);
        let again = s.resolve(here);
        assert!(Arc::ptr_eq(&frames, &again));
        assert_eq!(s.lookups(), 1);
        assert_eq!(s.cached(), 1);
    }

    #[test]
    fn unknown_addresses_give_no_frames() {
        let mut s = Symbolizer::new();
        assert!(s.resolve(0).is_empty());
        assert!(s.resolve(8).is_empty());
    }

    #[test]
    fn return_addresses_resolve_to_the_calling_line() {
        // `symbolize_test_marker` returns an address in the `trace`
        // machinery; a stack from inside it has the test's call as a
        // return address. Check that a stack's caller frame names this
        // test's function after adjustment.
        let mut ips = Vec::new();
        let call_line = line!() + 1;
        backtrace::trace(|frame| {
            ips.push(frame.ip() as usize as u64);
            ips.len() < 8
        });
        let mut s = Symbolizer::new();
        let stack = s.resolve_stack(&ips);
        assert_eq!(stack.len(), ips.len());
        assert_eq!(stack[0].address, ips[0]);
        assert_eq!(stack[1].address, ips[1] - 1);
        let caller = stack
            .iter()
            .flat_map(|l| l.frames.iter())
            .find(|f| {
                f.function
                    .ends_with("return_addresses_resolve_to_the_calling_line")
            })
            .unwrap_or_else(|| panic!("no frame of this test in {stack:#?}"));
        assert_eq!(caller.line, Some(call_line), "{caller:?}");
    }
}
