//! Hyperscan (Intel's SIMD multi-pattern matcher, C), the optional peer of
//! the `scaling` bench: built only with `--features hyperscan`, which links
//! the system library `libhs` (Debian: `apt-get install libhyperscan-dev`).
//! The default build and CI need none of it.
//!
//! The few functions used are declared here rather than through a binding
//! crate: no bindgen, no libclang, nothing to build but the link line.
//!
//! Every pattern is a literal (`hs_compile_lit_multi`, block mode, no
//! flags), its id is its index, and every match is reported: Hyperscan calls
//! back once per pattern and end offset, which is exactly the overlapping
//! find-all of the other engines. Without `HS_FLAG_SOM_LEFTMOST` the start
//! is not reported; for a literal it is the end minus the pattern's length.
//!
//! Hyperscan's database, scratch and other long-lived memory go through
//! [`hs_set_allocator`] to Rust's global allocator, so the bench's counting
//! allocator sees them and allocations per op are exact here too. (Its
//! compiler's temporary objects use C++'s own allocator and are not counted,
//! but they are made while building, never during an op.)

use std::alloc::{alloc, dealloc, Layout};
use std::ffi::{c_char, c_int, c_uint, c_ulonglong, c_void, CStr};
use std::ptr;

use acmatch::Match;

#[repr(C)]
struct HsDatabase {
    _private: [u8; 0],
}

#[repr(C)]
struct HsScratch {
    _private: [u8; 0],
}

#[repr(C)]
struct HsCompileError {
    message: *const c_char,
    expression: c_int,
}

type MatchHandler = unsafe extern "C" fn(
    id: c_uint,
    from: c_ulonglong,
    to: c_ulonglong,
    flags: c_uint,
    context: *mut c_void,
) -> c_int;

const HS_SUCCESS: c_int = 0;
const HS_MODE_BLOCK: c_uint = 1;

#[link(name = "hs")]
extern "C" {
    #[allow(clippy::too_many_arguments)]
    fn hs_compile_lit_multi(
        expressions: *const *const c_char,
        flags: *const c_uint,
        ids: *const c_uint,
        lens: *const usize,
        elements: c_uint,
        mode: c_uint,
        platform: *const c_void,
        db: *mut *mut HsDatabase,
        error: *mut *mut HsCompileError,
    ) -> c_int;
    fn hs_free_compile_error(error: *mut HsCompileError) -> c_int;
    fn hs_free_database(db: *mut HsDatabase) -> c_int;
    fn hs_database_size(db: *const HsDatabase, size: *mut usize) -> c_int;
    fn hs_alloc_scratch(db: *const HsDatabase, scratch: *mut *mut HsScratch) -> c_int;
    fn hs_free_scratch(scratch: *mut HsScratch) -> c_int;
    fn hs_scratch_size(scratch: *const HsScratch, size: *mut usize) -> c_int;
    fn hs_scan(
        db: *const HsDatabase,
        data: *const c_char,
        length: c_uint,
        flags: c_uint,
        scratch: *mut HsScratch,
        on_event: Option<MatchHandler>,
        context: *mut c_void,
    ) -> c_int;
    fn hs_set_allocator(
        alloc: Option<unsafe extern "C" fn(usize) -> *mut c_void>,
        free: Option<unsafe extern "C" fn(*mut c_void)>,
    ) -> c_int;
}

/// Hyperscan wants memory "aligned for the largest representable data
/// type"; the block's size is kept in a header of this many bytes.
const HEADER: usize = 16;

unsafe extern "C" fn rust_alloc(size: usize) -> *mut c_void {
    let Ok(layout) = Layout::from_size_align(size + HEADER, HEADER) else {
        return ptr::null_mut();
    };
    // SAFETY: the layout's size is at least HEADER, never zero.
    let p = unsafe { alloc(layout) };
    if p.is_null() {
        return ptr::null_mut();
    }
    // SAFETY: the block is HEADER-aligned and at least HEADER bytes long.
    unsafe {
        p.cast::<usize>().write(size);
        p.add(HEADER).cast()
    }
}

unsafe extern "C" fn rust_free(p: *mut c_void) {
    if p.is_null() {
        return;
    }
    // SAFETY: `p` came from `rust_alloc`, HEADER bytes into a block whose
    // first word is its size.
    unsafe {
        let base = p.cast::<u8>().sub(HEADER);
        let size = base.cast::<usize>().read();
        dealloc(
            base,
            Layout::from_size_align_unchecked(size + HEADER, HEADER),
        );
    }
}

/// A compiled literal database and its scratch space.
pub struct Hyperscan {
    db: *mut HsDatabase,
    scratch: *mut HsScratch,
    /// Each pattern's length, by id, to report the start.
    lens: Vec<usize>,
}

impl Hyperscan {
    /// Compiles `patterns` as literals, ids by index.
    ///
    /// # Errors
    ///
    /// Hyperscan's compile error (its message and the pattern's index), or
    /// a failed scratch allocation.
    pub fn new(patterns: &[Vec<u8>]) -> Result<Hyperscan, String> {
        // SAFETY: plain function pointers that allocate and free as
        // Hyperscan documents; set before any Hyperscan memory exists, and
        // always to the same pair.
        unsafe { hs_set_allocator(Some(rust_alloc), Some(rust_free)) };
        let elements = c_uint::try_from(patterns.len()).map_err(|_| "too many patterns")?;
        let exprs: Vec<*const c_char> = patterns.iter().map(|p| p.as_ptr().cast()).collect();
        let lens: Vec<usize> = patterns.iter().map(Vec::len).collect();
        let flags = vec![0 as c_uint; patterns.len()];
        let ids: Vec<c_uint> = (0..elements).collect();
        let mut db = ptr::null_mut();
        let mut error = ptr::null_mut();
        // SAFETY: every array has `elements` entries and outlives the call;
        // literals are given by pointer and length, NUL bytes allowed.
        let rc = unsafe {
            hs_compile_lit_multi(
                exprs.as_ptr(),
                flags.as_ptr(),
                ids.as_ptr(),
                lens.as_ptr(),
                elements,
                HS_MODE_BLOCK,
                ptr::null(),
                &mut db,
                &mut error,
            )
        };
        if rc != HS_SUCCESS {
            // SAFETY: on failure Hyperscan hands back an error (or null).
            let message = unsafe {
                match error.as_ref() {
                    Some(e) => {
                        let m = format!(
                            "{} (pattern {})",
                            CStr::from_ptr(e.message).to_string_lossy(),
                            e.expression
                        );
                        hs_free_compile_error(error);
                        m
                    }
                    None => format!("hs_compile_lit_multi returned {rc}"),
                }
            };
            return Err(message);
        }
        let mut scratch = ptr::null_mut();
        // The positive control of the allocator route: the scratch space is
        // allocated through `rust_alloc`, so the counting allocator sees it
        // (else Hyperscan's zero allocations per op would mean nothing).
        let before = countalloc::snapshot();
        // SAFETY: `db` is the database just compiled.
        let rc = unsafe { hs_alloc_scratch(db, &mut scratch) };
        let seen = countalloc::snapshot().since(before);
        assert!(
            rc != HS_SUCCESS || !countalloc::is_active() || seen.allocs > 0,
            "hs_alloc_scratch allocated nothing through Rust's allocator: hs_set_allocator did not take"
        );
        if rc != HS_SUCCESS {
            // SAFETY: `db` is ours, and freed once.
            unsafe { hs_free_database(db) };
            return Err(format!("hs_alloc_scratch returned {rc}"));
        }
        Ok(Hyperscan { db, scratch, lens })
    }

    /// Bytes of the compiled database (`hs_database_size`), scratch apart.
    pub fn heap_bytes(&self) -> usize {
        let mut size = 0;
        // SAFETY: `db` is a live database.
        unsafe { hs_database_size(self.db, &mut size) };
        size
    }

    /// Bytes of the scratch space (`hs_scratch_size`).
    pub fn scratch_bytes(&self) -> usize {
        let mut size = 0;
        // SAFETY: `scratch` is a live scratch region.
        unsafe { hs_scratch_size(self.scratch, &mut size) };
        size
    }

    /// Every match in `haystack`, each passed to `visit`; returns how many.
    ///
    /// # Errors
    ///
    /// A haystack of 4 GiB or more, or a scan error code.
    pub fn find_all<F: FnMut(Match)>(
        &mut self,
        haystack: &[u8],
        mut visit: F,
    ) -> Result<u64, String> {
        struct Context<'a, F> {
            lens: &'a [usize],
            visit: &'a mut F,
            n: u64,
        }
        unsafe extern "C" fn on_match<F: FnMut(Match)>(
            id: c_uint,
            _from: c_ulonglong,
            to: c_ulonglong,
            _flags: c_uint,
            context: *mut c_void,
        ) -> c_int {
            // SAFETY: `context` is the `Context<F>` handed to `hs_scan`
            // below, alive and not otherwise borrowed during the scan.
            let cx = unsafe { &mut *context.cast::<Context<'_, F>>() };
            let end = to as usize;
            (cx.visit)(Match {
                pattern: id,
                start: end - cx.lens[id as usize],
                end,
            });
            cx.n += 1;
            0
        }
        let length = c_uint::try_from(haystack.len()).map_err(|_| "haystack of 4 GiB or more")?;
        let mut cx = Context {
            lens: &self.lens,
            visit: &mut visit,
            n: 0,
        };
        // SAFETY: `db` and `scratch` are live and this scan is their only
        // user (`&mut self`); the handler matches `Context<F>`.
        let rc = unsafe {
            hs_scan(
                self.db,
                haystack.as_ptr().cast(),
                length,
                0,
                self.scratch,
                Some(on_match::<F>),
                (&mut cx as *mut Context<'_, F>).cast(),
            )
        };
        if rc != HS_SUCCESS {
            return Err(format!("hs_scan returned {rc}"));
        }
        Ok(cx.n)
    }
}

impl Drop for Hyperscan {
    fn drop(&mut self) {
        // SAFETY: both are ours, live, and freed once.
        unsafe {
            hs_free_scratch(self.scratch);
            hs_free_database(self.db);
        }
    }
}
