//! Whose frame is it: the one classification of stack frames that every
//! reader of stacks uses (the allocation sites read from dhat, the
//! allocation assertion's failure message, the heap profiles of the `heap`
//! pass and of the live sampler, the static reachability paths), and the
//! names of the frames the harness puts around a scenario's calls.
//!
//! A frame is one of three kinds, by its function name (demangled, without
//! hash) and, where known, its source file:
//!
//! - **allocator**: the allocation machinery itself: `alloc::alloc::*`, the
//!   `__rust_alloc`/`__rg_*`/`__rdl_*` shims (with or without rustc's
//!   `__rustc::` namespace), every `GlobalAlloc` method, dhat, countalloc,
//!   escape-lab's own allocator and sampler, and the unwinders that record
//!   stacks inside an allocation. Profiles drop these from the leaf end of a
//!   stack, as Go's heap profiles start at the code that allocated.
//! - **library**: the standard library (by name: `std::`, `core::`,
//!   `alloc::`, a std trait on a std type; by file: `/rustc/…`,
//!   `…/library/{std,core,alloc}/…`) and dependencies from a registry or
//!   git checkout (`…/registry/src/…`, `…/.cargo/git/…`).
//! - **own**: everything else: the code that decided to allocate. An
//!   allocation's *site* is its innermost own frame.
//!
//! Never allocates (everything here borrows its input).

/// The never-inlined frame every measured call of a scenario runs through:
/// flamegraphs and allocation stacks start after it.
pub const MEASURED_CALL: &str = "escape_lab_measured_call";

/// The never-inlined function inside it that runs the scenario's own
/// closure (`escape_lab::scenario::escape_lab_scenario_call`), where the
/// static analysis starts; flamegraphs start after it when a stack has it.
pub const SCENARIO_CALL: &str = "escape_lab_scenario_call";

/// The unmangled function around the measured calls of the `instr` pass;
/// callgrind counts only inside it (`--toggle-collect`).
pub const INSTR_MEASURED_CALLS: &str = "escape_lab_instr_measured_calls";

/// Function-name prefixes of the allocation machinery (see the module
/// docs); every `GlobalAlloc` method is machinery too.
pub const ALLOCATOR_PREFIXES: &[&str] = &[
    // `alloc::alloc::{alloc, realloc, exchange_malloc}`, `Global::alloc_impl`
    "alloc::alloc::",
    "<alloc::alloc::",
    // `Box::new`'s allocating helper in recent std (what `exchange_malloc` was)
    "alloc::boxed::box_new_uninit",
    // the allocator shims, with and without rustc's `__rustc::` namespace
    "__rustc::__rust_",
    "__rustc::__rg_",
    "__rustc::__rdl_",
    "__rust_alloc",
    "__rust_realloc",
    "__rust_dealloc",
    "__rust_alloc_zeroed",
    "__rg_",
    "__rdl_",
    // the allocators this crate switches between, and its sampler
    "dhat::",
    "<dhat::",
    "countalloc::",
    "<countalloc::",
    "escape_lab::alloc::",
    "<escape_lab::alloc::",
    "escape_lab::live::sampler::",
    "<escape_lab::live::sampler::",
    // the unwinders that record a stack inside an allocation
    "backtrace::",
    "<backtrace::",
    "_Unwind_Backtrace",
    "std::backtrace::",
    "<std::backtrace::",
    "std::backtrace_rs::",
];

/// The part of a `GlobalAlloc` method's name that marks it as allocator
/// machinery (`<MyAlloc as core::alloc::global::GlobalAlloc>::alloc`).
pub(crate) const GLOBAL_ALLOC_IMPL: &str = " as core::alloc::global::GlobalAlloc>::";

/// Name prefixes of the standard library's crates.
const STD_CRATES: [&str; 3] = ["core::", "alloc::", "std::"];

/// Whether a function is part of the allocation machinery. Never allocates.
#[must_use]
pub fn is_allocator(function: &str) -> bool {
    ALLOCATOR_PREFIXES.iter().any(|p| function.starts_with(p))
        || function.contains(GLOBAL_ALLOC_IMPL)
}

/// Whether a frame belongs to the standard library or a dependency from a
/// registry, by its function name and, when known, its file. Never
/// allocates.
#[must_use]
pub fn is_library(function: &str, file: Option<&str>) -> bool {
    let name = function.trim_start_matches('<');
    let by_file = file.is_some_and(|f| {
        f.starts_with("/rustc/")
            || f.contains("/registry/src/")
            || f.contains("/.cargo/git/")
            || f.contains("/library/alloc/")
            || f.contains("/library/core/")
            || f.contains("/library/std/")
    });
    by_file
        || STD_CRATES.iter().any(|p| name.starts_with(p))
        || is_std_impl(function)
        || function == "[root]"
        || function.starts_with("__libc_start")
        || function == "_start"
}

/// Whether a frame is the program's own code (neither allocator nor
/// library): where an allocation's site is. Never allocates.
#[must_use]
pub fn is_own(function: &str, file: Option<&str>) -> bool {
    !is_allocator(function) && !is_library(function, file)
}

/// `<u64 as core::fmt::Display>::fmt`, `<[T] as alloc::slice::Concat>::..`:
/// a standard trait implemented for a primitive or standard type.
fn is_std_impl(function: &str) -> bool {
    let Some(rest) = function.strip_prefix('<') else {
        return false;
    };
    let Some((self_ty, tail)) = rest.split_once(" as ") else {
        return false;
    };
    let std_trait = STD_CRATES.iter().any(|p| tail.starts_with(p));
    let self_ty = self_ty
        .trim_start_matches(['&', '*'])
        .trim_start_matches("mut ");
    let std_type = !self_ty.contains("::") || STD_CRATES.iter().any(|p| self_ty.starts_with(p));
    std_trait && std_type
}

/// A symbol name without rustc's legacy hash suffix (`::h` and 16 hex
/// digits). Never allocates.
#[must_use]
pub fn strip_hash(name: &str) -> &str {
    match name.rfind("::h") {
        Some(i) if name.len() - i == 19 && name[i + 3..].bytes().all(|b| b.is_ascii_hexdigit()) => {
            &name[..i]
        }
        _ => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocator_library_and_own_frames() {
        for f in [
            "alloc::alloc::exchange_malloc",
            "__rustc::__rust_alloc",
            "__rg_alloc",
            "<escape_lab::alloc::SwitchAlloc as core::alloc::global::GlobalAlloc>::alloc",
            "<my::Counting as core::alloc::global::GlobalAlloc>::realloc",
            "dhat::Alloc::alloc",
            "escape_lab::live::sampler::after_alloc",
            "std::backtrace::Backtrace::create",
        ] {
            assert!(is_allocator(f), "{f}");
            assert!(!is_own(f, None), "{f}");
        }
        for (f, file) in [
            ("alloc::raw_vec::RawVec<T,A>::grow_one", None),
            ("<u64 as core::fmt::Display>::fmt", None),
            ("<[T] as alloc::slice::Concat<Item>>::concat", None),
            (
                "serde_json::de::from_str",
                Some("/root/.cargo/registry/src/index.crates.io-1/serde_json-1.0/src/de.rs"),
            ),
            (
                "hashbrown::raw::RawTable::reserve",
                Some("/rustc/abc/library/std/src/collections/hash/map.rs"),
            ),
            ("[root]", None),
        ] {
            assert!(is_library(f, file), "{f}");
            assert!(!is_own(f, file), "{f}");
        }
        for (f, file) in [
            (
                "acmatch::variant::boxed::find",
                Some("crates/acmatch/src/variant/boxed.rs"),
            ),
            ("<acmatch::Boxed as acmatch::Matcher>::find", None),
            ("own_crate::fields_into", Some("/home/u/own/src/lib.rs")),
            (
                "escape_lab::pass::inject_fault",
                Some("crates/escape-lab/src/pass/mod.rs"),
            ),
        ] {
            assert!(is_own(f, file), "{f}");
        }
        // A user's type implementing a std trait is the user's code.
        assert!(is_own("<own::Line as core::fmt::Display>::fmt", None));
    }

    #[test]
    fn hashes_are_stripped_only_when_they_are_hashes() {
        assert_eq!(strip_hash("foo::bar::h0123456789abcdef"), "foo::bar");
        assert_eq!(strip_hash("foo::bar::hash"), "foo::bar::hash");
        assert_eq!(
            strip_hash("foo::h0123456789abcdeg"),
            "foo::h0123456789abcdeg"
        );
        assert_eq!(strip_hash(""), "");
    }
}
