//! Which calls can reach the allocator: a static reachability analysis of
//! the binary that is running, Rust's answer to Go's `go build -gcflags -m`.
//!
//! From a root (a scenario's call, or any function), the analysis reads the
//! program's own ELF file (no rebuild, no nightly, no compiler plugin),
//! decodes the machine code of every function it reaches and follows
//! direct calls and tail jumps, calls through the GOT and PLT (resolved by
//! the dynamic relocations) and calls through a register or slot whose
//! constant value the straight-line code makes known (a constant vtable).
//! It stops at the allocator's entry points (`__rust_alloc`,
//! `__rust_alloc_zeroed`, `__rust_realloc`, the `__rdl_*`/`__rg_*` shims,
//! every `GlobalAlloc::alloc`/`alloc_zeroed`/`realloc`, and C's `malloc`,
//! `calloc`, `realloc`, `posix_memalign`, `aligned_alloc`, `memalign`,
//! `valloc`), at deallocation, and, on the first walk, at panic handling.
//!
//! The [`Verdict`], best first: `none` (no way to the allocator), `panic-only`
//! (every way passes through panic, abort or allocation-error handling),
//! `indirect` (no way outside those, but calls the analysis could not
//! resolve, listed with their lines), `allocates` (a way outside panic
//! handling). Each way is located as Go locates an escape: at the innermost
//! frame of the user's code on it (file:line:column, through the inlined
//! frames of the debug info), followed by the chain to the allocator.
//!
//! # Limits
//!
//! - x86-64 Linux ELF only; anything else is [`ReachError::Unsupported`].
//! - A call through a function pointer or a `dyn` whose value comes from
//!   memory (a trait object built elsewhere) is not followed: it is listed
//!   as an unresolved indirect call, and the verdict is at best `indirect`.
//! - Inline assembly and code of other objects: a call into a shared
//!   library other than C's allocator functions is taken as not allocating.
//! - The graph is of functions, not of paths: a way is a sequence of calls
//!   each of which the code contains, whether or not the conditions under
//!   which they run can hold together. It over-approximates (that is the
//!   point: it also sees the branch the workload never takes).
//! - It needs the symbol table (not `strip`ped) and, for lines, debug info
//!   (`debug = true` or `"line-tables-only"` in the profile).

mod assert;
mod disasm;
mod elf;
mod explain;
mod graph;
mod render;
mod values;

use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use serde::{Deserialize, Serialize};

use elf::Binary;
use graph::{Graph, Role};

pub use assert::assert_never_allocates;
pub use render::{short_chain, text};

/// `file:line` of a `file:line:col` location (a measured site's, a way's):
/// what ways are deduplicated by and what the gate compares. Allocates the
/// string.
#[must_use]
pub fn line_of(location: &str) -> String {
    explain::line_key(location)
}

/// What the analysis says of a root, best first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// No way to the allocator.
    None,
    /// Every way to the allocator passes through panic, abort or
    /// allocation-error handling.
    PanicOnly,
    /// No way outside panic handling, but indirect calls the analysis could
    /// not resolve.
    Indirect,
    /// A way to the allocator outside panic handling.
    Allocates,
}

impl Verdict {
    /// The word reports use: `none`, `panic-only`, `indirect`, `allocates`.
    /// Never allocates.
    #[must_use]
    pub fn word(self) -> &'static str {
        match self {
            Verdict::None => "none",
            Verdict::PanicOnly => "panic-only",
            Verdict::Indirect => "indirect",
            Verdict::Allocates => "allocates",
        }
    }

    /// The verdict a word names. Never allocates.
    #[must_use]
    pub fn from_word(word: &str) -> Option<Verdict> {
        [
            Verdict::None,
            Verdict::PanicOnly,
            Verdict::Indirect,
            Verdict::Allocates,
        ]
        .into_iter()
        .find(|v| v.word() == word)
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.word())
    }
}

/// One way to the allocator, located at the user's line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReachPath {
    /// `file:line:col` of the innermost frame of the user's code on the way
    /// (the file relative to the source root when it is under it).
    pub location: String,
    /// That frame's function.
    pub function: String,
    /// The functions from there to the allocator entry, outermost first:
    /// inlined frames at the call, then each function called.
    pub chain: Vec<String>,
}

impl ReachPath {
    /// `file:line` of [`ReachPath::location`]: what ways are deduplicated by
    /// and what the gate compares.
    ///
    /// Allocates the string.
    #[must_use]
    pub fn line(&self) -> String {
        explain::line_key(&self.location)
    }
}

/// An indirect call the analysis could not resolve.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndirectCall {
    /// `file:line:col` of the call (its innermost frame of the user's code
    /// when it has one).
    pub location: String,
    /// The function it is in.
    pub function: String,
}

/// What the analysis found from one root.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reach {
    /// The verdict.
    pub verdict: Verdict,
    /// Ways to the allocator outside panic handling, one per user line.
    pub paths: Vec<ReachPath>,
    /// Ways that pass through panic handling, one per user line where the
    /// panic starts.
    pub panic_paths: Vec<ReachPath>,
    /// Unresolved indirect calls outside panic handling, one per line.
    pub indirect: Vec<IndirectCall>,
    /// Functions reached outside panic handling.
    pub functions: usize,
}

/// Why the analysis could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReachError {
    /// Not an x86-64 Linux ELF program.
    #[error("static reachability is not supported here: {0}")]
    Unsupported(String),
    /// The program's file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The program's file is not what the analysis can read.
    #[error("{}: {problem}", path.display())]
    Binary {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The root is not the start of a function of the program's file.
    #[error("{what}: no function of {} starts at {address:#x} (a function of a shared library, or the file was rebuilt since the program started)", path.display())]
    NotAFunction {
        /// The root as the caller named it.
        what: String,
        /// Its address in this process.
        address: usize,
        /// The program's file.
        path: PathBuf,
    },
}

/// The program's file and the call graph built so far, shared by every
/// analysis of the process.
struct State {
    bin: &'static Binary,
    graph: Graph,
}

/// The state of this process, made on first use; a program file that cannot
/// be analysed gives the same error every time.
fn state() -> Result<&'static Mutex<State>, ReachError> {
    static STATE: OnceLock<Result<Mutex<State>, ReachError>> = OnceLock::new();
    STATE
        .get_or_init(|| {
            Binary::of_this_process().map(|bin| {
                Mutex::new(State {
                    bin: Box::leak(Box::new(bin)),
                    graph: Graph::default(),
                })
            })
        })
        .as_ref()
        .map_err(ReachError::again)
}

impl ReachError {
    /// The same error again (an I/O error is not `Clone`: its kind and
    /// message are kept).
    fn again(&self) -> ReachError {
        match self {
            ReachError::Unsupported(s) => ReachError::Unsupported(s.clone()),
            ReachError::Read { path, source } => ReachError::Read {
                path: path.clone(),
                source: std::io::Error::new(source.kind(), source.to_string()),
            },
            ReachError::Binary { path, problem } => ReachError::Binary {
                path: path.clone(),
                problem: problem.clone(),
            },
            ReachError::NotAFunction {
                what,
                address,
                path,
            } => ReachError::NotAFunction {
                what: what.clone(),
                address: *address,
                path: path.clone(),
            },
        }
    }
}

/// Where a walk starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Root {
    /// A function, by its address in this process.
    Function(usize),
    /// The closure a constructor boxes as `Box<dyn FnMut>`: the
    /// `call_once`/`call_mut` entries of the vtables the constructor loads.
    BoxedBy(usize),
}

/// Analyses the function at `address` (an address of this process, e.g.
/// `my_fn as usize`); `what` names it in errors.
///
/// # Errors
///
/// [`ReachError`]: an unsupported target, an unreadable or stripped
/// program file, an address that is not a function of it.
///
/// # Allocation
///
/// The first analysis of a process reads the program's file (kept for the
/// process's lifetime, as is the call graph decoded so far); each analysis
/// then allocates its walk, the symbolized lines and the result.
pub fn analyse(address: usize, what: &str) -> Result<Reach, ReachError> {
    analyse_root(Root::Function(address), what, &crate::paths::source_root())
}

pub(crate) fn analyse_root(
    root: Root,
    what: &str,
    source_root: &std::path::Path,
) -> Result<Reach, ReachError> {
    let state = state()?;
    let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
    let bin = st.bin;
    let (Root::Function(address) | Root::BoxedBy(address)) = root;
    let not_a_function = || ReachError::NotAFunction {
        what: what.to_string(),
        address,
        path: bin.path.clone(),
    };
    let file_addr = (address as u64).wrapping_sub(bin.bias);
    let f = bin
        .function_at(file_addr)
        .filter(|&f| bin.functions[f].start == file_addr && same_code(bin, address))
        .ok_or_else(not_a_function)?;
    let graph = &mut st.graph;
    let roots: Vec<usize> = match root {
        Root::Function(_) => graph.node_at(bin, file_addr).into_iter().collect(),
        Root::BoxedBy(_) => boxed_closures(bin, graph, f),
    };
    if roots.is_empty() {
        return Err(not_a_function());
    }
    let mut lines = explain::Lines::new(bin, source_root);
    let mut result: Option<Reach> = None;
    for r in roots {
        let walk = graph::walk(graph, bin, r);
        let paths = explain::paths(graph, &mut lines, &walk, &walk.to_alloc, |r| {
            r != Role::Panic
        });
        let panic_paths = explain::paths(graph, &mut lines, &walk, &walk.panic_to_alloc, |r| {
            r == Role::Panic
        });
        let indirect = explain::indirect(graph, &mut lines, &walk);
        let reach = Reach {
            // The paths explain it; the root's way to the allocator decides.
            verdict: if walk.to_alloc.contains_key(&walk.reached[0].0) {
                Verdict::Allocates
            } else if !indirect.is_empty() {
                Verdict::Indirect
            } else if walk
                .panics
                .iter()
                .any(|p| walk.panic_to_alloc.contains_key(p))
            {
                Verdict::PanicOnly
            } else {
                Verdict::None
            },
            paths,
            panic_paths,
            indirect,
            functions: walk.reached.len(),
        };
        result = Some(match result {
            None => reach,
            Some(r) => merge(r, reach),
        });
    }
    result.ok_or_else(not_a_function)
}

/// Whether the code at `address` in this process is the file's code there
/// (not a file rebuilt since the program started).
fn same_code(bin: &Binary, address: usize) -> bool {
    let file = (address as u64).wrapping_sub(bin.bias);
    let Some(bytes) = bin.bytes_at(file) else {
        return false;
    };
    let n = bytes.len().min(16);
    // SAFETY: `address` starts a function of the running program's file
    // (checked by the caller), so at least the function's first bytes are
    // mapped and readable; `n` does not run past its section.
    let live = unsafe { std::slice::from_raw_parts(address as *const u8, n) };
    live == &bytes[..n]
}

/// The closures a constructor boxes: the `call_once` and `call_mut` entries
/// (the fourth and fifth pointers) of each vtable the constructor, or a
/// function it calls directly, loads with a `lea`.
fn boxed_closures(bin: &Binary, graph: &mut Graph, f: usize) -> Vec<usize> {
    let mut funcs = vec![f];
    let start = &bin.functions[f];
    let node = graph.node_at(bin, start.start);
    for call in node.map(|n| graph.calls(bin, n)).unwrap_or_default() {
        if let Some(to) = call.to.and_then(|n| bin.function_at(graph.nodes[n].start)) {
            funcs.push(to);
        }
    }
    let mut roots = Vec::new();
    for func in funcs {
        let func = &bin.functions[func];
        for v in disasm::loaded_addresses(bin, func.start, func.end) {
            if bin.is_code(v) || !looks_like_vtable(bin, v) {
                continue;
            }
            for entry in [3u64, 4] {
                if let Some(elf::Slot::Addr(a)) = bin.slot(v + 8 * entry) {
                    if let Some(n) = graph.node_at(bin, a) {
                        if !roots.contains(&n) {
                            roots.push(n);
                        }
                    }
                }
            }
        }
    }
    roots
}

/// A vtable: a drop function (or none), a size, a power-of-two alignment,
/// then functions.
fn looks_like_vtable(bin: &Binary, v: u64) -> bool {
    let word = |i: u64| {
        bin.bytes_at(v + 8 * i)
            .and_then(|b| b.get(..8))
            .map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
    };
    let code = |i: u64| matches!(bin.slot(v + 8 * i), Some(elf::Slot::Addr(a)) if bin.is_code(a));
    let drop_ok = code(0) || bin.slot(v).is_none();
    let align = word(2).unwrap_or(0);
    drop_ok
        && word(1).is_some_and(|s| s < 1 << 32)
        && align.is_power_of_two()
        && align <= 4096
        && code(3)
}

fn merge(mut a: Reach, b: Reach) -> Reach {
    a.verdict = a.verdict.max(b.verdict);
    for (into, from) in [(&mut a.paths, b.paths), (&mut a.panic_paths, b.panic_paths)] {
        for p in from {
            if !into.iter().any(|q| q.line() == p.line()) {
                into.push(p);
            }
        }
    }
    for c in b.indirect {
        if !a.indirect.contains(&c) {
            a.indirect.push(c);
        }
    }
    a.functions += b.functions;
    a
}
