//! The streaming symbolizer against `backtrace::resolve` on this test
//! binary's own code: every function of the symbol table at its start and
//! at two interior points (inlined code lands there), frame for frame.

use super::symbolize::{resolve_with_backtrace, Symbolizer};
use object::{Object, ObjectSymbol};
use std::os::unix::ffi::OsStrExt;

fn addresses() -> Vec<u64> {
    let data = std::fs::read("/proc/self/exe").expect("own executable");
    let file = object::File::parse(&*data).expect("ELF");
    // The load bias: a function's address against its symbol.
    let here = addresses as fn() -> Vec<u64> as usize as u64;
    let sym = file
        .symbols()
        .find(|s| s.name().is_ok_and(|n| n.contains("dwarf_tests9addresses")))
        .expect("this function's symbol");
    let bias = here.wrapping_sub(sym.address());
    let mut out = Vec::new();
    for s in file.symbols() {
        if s.kind() != object::SymbolKind::Text || s.size() == 0 {
            continue;
        }
        let a = s.address().wrapping_add(bias);
        out.extend([a, a + s.size() / 3, a + s.size() / 2, a + s.size() - 1]);
    }
    out.sort_unstable();
    out.dedup();
    out
}

#[test]
fn streaming_frames_equal_backtrace_frames() {
    let addresses = addresses();
    assert!(addresses.len() > 2000, "{}", addresses.len());
    let mut s = Symbolizer::new();
    s.resolve_many(addresses.iter().copied());
    let mut differ = Vec::new();
    let mut inlined = 0;
    for &a in &addresses {
        let new = s.resolve(a);
        let old = resolve_with_backtrace(a);
        inlined += usize::from(old.len() > 1);
        if *new != *old {
            differ.push((a, old, new));
        }
    }
    for (a, old, new) in differ.iter().take(5) {
        eprintln!("{a:#x}\n backtrace {old:#?}\n streaming {new:#?}");
    }
    eprintln!(
        "{} addresses, {inlined} with inlined frames, {} differ",
        addresses.len(),
        differ.len()
    );
    assert!(inlined > 100, "{inlined}");
    assert!(
        differ.is_empty(),
        "{} of {} differ",
        differ.len(),
        addresses.len()
    );
}

#[test]
fn odd_addresses_answer_as_backtrace_does() {
    // Zero, tiny, the top of the address space, data (a static), the
    // stack, and a function's address with its neighbours: no panic, and
    // the same frames as the `backtrace` path.
    static DATA: [u8; 4] = [1, 2, 3, 4];
    let local = 0u8;
    let f = addresses as fn() -> Vec<u64> as usize as u64;
    let odd = [
        0,
        1,
        8,
        u64::MAX,
        u64::MAX - 1,
        std::ptr::addr_of!(DATA) as u64,
        std::ptr::addr_of!(local) as u64,
        f - 1,
        f,
        f + 1,
    ];
    let mut s = Symbolizer::new();
    s.resolve_many(odd);
    for a in odd {
        assert_eq!(*s.resolve(a), *resolve_with_backtrace(a), "{a:#x}");
    }
    // Nothing asked: nothing looked up.
    let mut empty = Symbolizer::new();
    empty.resolve_many([]);
    assert_eq!(empty.lookups(), 0);
}

#[test]
fn a_shared_library_is_answered_from_its_symbol_table() {
    // An exported libc function: named from the library's own symbols
    // (its `.dynsym` at least), not left to `backtrace`.
    let getpid = libc::getpid as *const () as usize as u64;
    let answers = super::dwarf::resolve_loaded(&[getpid]);
    let frames = answers
        .iter()
        .find(|(a, _)| *a == getpid)
        .map(|(_, f)| f)
        .expect("libc's getpid answered");
    assert!(
        frames
            .first()
            .is_some_and(|f| f.function.contains("getpid")),
        "{frames:#?}"
    );
    // Control: an address in no object is not answered.
    assert!(super::dwarf::resolve_loaded(&[8]).is_empty());
}

#[test]
fn a_thread_s_libc_frames_are_named_as_a_reader_expects() {
    // With libc's debug file installed (its full `.symtab`), a thread's
    // outermost frames are `start_thread` and a clone, each the readable
    // one of its aliases (no `__GI___clone3`, no `@GLIBC_2.2.5`).
    let libc = super::objects::loaded()
        .into_iter()
        .find(|o| {
            o.path
                .as_deref()
                .is_some_and(|p| p.ends_with(b"/libc.so.6"))
        })
        .expect("libc loaded");
    let map = super::objects::Mapped::open(libc.path.as_deref().unwrap()).expect("libc mapped");
    let debug = super::objects::Elf::parse(map.bytes())
        .and_then(|e| e.debug_file_path())
        .filter(|p| std::path::Path::new(std::ffi::OsStr::from_bytes(p)).exists());
    if debug.is_none() {
        eprintln!("skipped: libc's debug file is not installed (libc6-dbg)");
        return;
    }
    let ips = std::thread::spawn(|| {
        let mut ips = Vec::new();
        backtrace::trace(|f| {
            ips.push((f.ip() as usize as u64).saturating_sub(1));
            true
        });
        ips
    })
    .join()
    .unwrap();
    let names: Vec<String> = super::dwarf::resolve_loaded(&ips)
        .into_iter()
        .filter(|(a, _)| libc.svma(*a).is_some())
        .flat_map(|(_, f)| f.into_iter().map(|f| f.function))
        .collect();
    assert!(names.iter().any(|n| n == "start_thread"), "{names:?}");
    assert!(
        names
            .iter()
            .any(|n| n == "clone3" || n == "clone" || n == "__clone"),
        "{names:?}"
    );
    assert!(
        names
            .iter()
            .all(|n| !n.contains('@') && !n.starts_with("__GI_")),
        "{names:?}"
    );
}
