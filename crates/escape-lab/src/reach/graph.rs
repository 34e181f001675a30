//! The call graph from a root, built as it is walked: which functions the
//! root can reach outside panic handling, which of them can reach the
//! allocator, and, from the panic functions met on the way, whether panic
//! handling can.

use std::collections::{HashMap, VecDeque};

use super::disasm::{self, Edge, To};
use super::elf::Binary;

/// What a node is to the analysis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// An allocator entry point: reaching it is an allocation.
    Alloc,
    /// A deallocation entry point: not an allocation, not followed.
    Dealloc,
    /// Panic, abort or allocation-error handling.
    Panic,
    /// Anything else: followed.
    Plain,
}

/// A node: a function of the file, or an import of another object.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub name: String,
    /// File address of the function's start (0 for an import).
    pub start: u64,
    pub role: Role,
}

/// One call, resolved to a node (or not).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Call {
    pub site: u64,
    /// `None`: unresolved indirect call.
    pub to: Option<usize>,
}

/// Nodes and their calls, filled lazily; shared by every root of a process.
#[derive(Default)]
pub(crate) struct Graph {
    pub nodes: Vec<Node>,
    calls: Vec<Option<Vec<Call>>>,
    by_function: HashMap<usize, usize>,
    by_import: HashMap<String, usize>,
}

impl Graph {
    /// The node of the function holding file address `addr` (through a PLT
    /// stub when it is one), if any.
    pub fn node_at(&mut self, bin: &Binary, addr: u64) -> Option<usize> {
        if let Some(f) = bin.function_at(addr) {
            if let Some(&n) = self.by_function.get(&f) {
                return Some(n);
            }
            let func = &bin.functions[f];
            // Aliases of one code: the first role in declaration order wins
            // (an alias that is an allocator entry makes the code one).
            let role = func
                .names
                .iter()
                .map(|n| role_of(n))
                .min_by_key(|r| *r as u8);
            let n = self.push(Node {
                name: func.name().to_string(),
                start: func.start,
                role: role.unwrap_or(Role::Plain),
            });
            self.by_function.insert(f, n);
            return Some(n);
        }
        if !bin.is_code(addr) {
            return None;
        }
        match disasm::plt_target(bin, addr)? {
            To::Addr(a) if a != addr => self.node_at(bin, a),
            To::Import(name) => Some(self.import(&name)),
            _ => None,
        }
    }

    fn import(&mut self, name: &str) -> usize {
        if let Some(&n) = self.by_import.get(name) {
            return n;
        }
        let n = self.push(Node {
            name: name.to_string(),
            start: 0,
            role: role_of(name),
        });
        self.by_import.insert(name.to_string(), n);
        n
    }

    fn push(&mut self, node: Node) -> usize {
        self.nodes.push(node);
        self.calls.push(None);
        self.nodes.len() - 1
    }

    /// The calls of node `n`, decoding its function the first time.
    pub fn calls(&mut self, bin: &Binary, n: usize) -> Vec<Call> {
        if let Some(c) = &self.calls[n] {
            return c.clone();
        }
        let node = &self.nodes[n];
        let edges: Vec<Edge> = match (node.start, bin.function_at(node.start)) {
            (0, _) | (_, None) => Vec::new(),
            (_, Some(f)) => disasm::calls(bin, bin.functions[f].start, bin.functions[f].end),
        };
        let calls: Vec<Call> = edges
            .into_iter()
            .filter_map(|e| {
                let to = match e.to {
                    To::Addr(a) => Some(self.node_at(bin, a)?),
                    To::Import(name) => Some(self.import(&name)),
                    To::Indirect => None,
                };
                Some(Call { site: e.site, to })
            })
            .collect();
        self.calls[n] = Some(calls.clone());
        calls
    }
}

/// What a walk from a root found.
#[derive(Debug, Default)]
pub(crate) struct Walk {
    /// Nodes reached outside panic handling, the root first, each with the
    /// call that first reached it.
    pub reached: Vec<(usize, Option<(usize, u64)>)>,
    /// For each node that can reach an allocator entry without panic
    /// handling: the next call on a shortest way there (`None` for the
    /// entry itself).
    pub to_alloc: HashMap<usize, Option<usize>>,
    /// Panic nodes met (not followed in `reached`).
    pub panics: Vec<usize>,
    /// Panic nodes from which an allocator entry is reachable, with the
    /// next call on a way there (through anything but deallocation).
    pub panic_to_alloc: HashMap<usize, Option<usize>>,
}

/// Walks from `root`: first outside panic handling, then from each panic
/// node met.
pub(crate) fn walk(graph: &mut Graph, bin: &Binary, root: usize) -> Walk {
    let mut w = Walk::default();
    let (reached, edges) = forward(graph, bin, &[root], |r| r == Role::Plain);
    w.panics = reached
        .iter()
        .map(|(n, _)| *n)
        .filter(|&n| graph.nodes[n].role == Role::Panic)
        .collect();
    w.to_alloc = backward(graph, &edges);
    w.reached = reached
        .into_iter()
        .filter(|(n, _)| graph.nodes[*n].role != Role::Panic)
        .collect();
    if !w.panics.is_empty() {
        let (_, edges) = forward(graph, bin, &w.panics, |r| {
            matches!(r, Role::Plain | Role::Panic)
        });
        w.panic_to_alloc = backward(graph, &edges);
    }
    w
}

type Edges = Vec<(usize, usize)>;

/// Breadth-first from `roots`, following the nodes `follow` accepts; the
/// nodes reached (with the call that first reached each) and every
/// resolved edge out of a followed node.
#[allow(clippy::type_complexity)]
fn forward(
    graph: &mut Graph,
    bin: &Binary,
    roots: &[usize],
    follow: impl Fn(Role) -> bool,
) -> (Vec<(usize, Option<(usize, u64)>)>, Edges) {
    let mut seen: HashMap<usize, ()> = HashMap::new();
    let mut order = Vec::new();
    let mut queue = VecDeque::new();
    for &r in roots {
        if seen.insert(r, ()).is_none() {
            order.push((r, None));
            queue.push_back(r);
        }
    }
    let mut edges = Vec::new();
    while let Some(n) = queue.pop_front() {
        if !follow(graph.nodes[n].role) && !roots.contains(&n) {
            continue;
        }
        for c in graph.calls(bin, n) {
            let Some(to) = c.to else { continue };
            edges.push((n, to));
            if seen.insert(to, ()).is_none() {
                order.push((to, Some((n, c.site))));
                queue.push_back(to);
            }
        }
    }
    (order, edges)
}

/// For every node with a way to an allocator entry over `edges`: the next
/// node on a shortest such way.
fn backward(graph: &Graph, edges: &Edges) -> HashMap<usize, Option<usize>> {
    let mut callers: HashMap<usize, Vec<usize>> = HashMap::new();
    for &(from, to) in edges {
        callers.entry(to).or_default().push(from);
    }
    let mut next: HashMap<usize, Option<usize>> = HashMap::new();
    let mut queue = VecDeque::new();
    for &(_, to) in edges {
        if graph.nodes[to].role == Role::Alloc && !next.contains_key(&to) {
            next.insert(to, None);
            queue.push_back(to);
        }
    }
    while let Some(n) = queue.pop_front() {
        for &c in callers.get(&n).into_iter().flatten() {
            if !next.contains_key(&c) && graph.nodes[c].role != Role::Dealloc {
                next.insert(c, Some(n));
                queue.push_back(c);
            }
        }
    }
    next
}

/// The role of a function by one of its names (demangled, without hash).
pub(crate) fn role_of(name: &str) -> Role {
    let base = name.strip_prefix("__rustc::").unwrap_or(name);
    let base = base.split('@').next().unwrap_or(base);
    const ALLOC: [&str; 18] = [
        "__rust_alloc",
        "__rust_alloc_zeroed",
        "__rust_realloc",
        "__rdl_alloc",
        "__rdl_alloc_zeroed",
        "__rdl_realloc",
        "__rg_alloc",
        "__rg_alloc_zeroed",
        "__rg_realloc",
        "malloc",
        "calloc",
        "realloc",
        "reallocarray",
        "posix_memalign",
        "aligned_alloc",
        "memalign",
        "valloc",
        "pvalloc",
    ];
    const DEALLOC: [&str; 5] = [
        "__rust_dealloc",
        "__rdl_dealloc",
        "__rg_dealloc",
        "free",
        "cfree",
    ];
    if ALLOC.contains(&base) {
        return Role::Alloc;
    }
    if DEALLOC.contains(&base) {
        return Role::Dealloc;
    }
    if let Some((_, method)) = name.rsplit_once(crate::frames::GLOBAL_ALLOC_IMPL) {
        return match method {
            "alloc" | "alloc_zeroed" | "realloc" => Role::Alloc,
            _ => Role::Dealloc,
        };
    }
    if is_panic(base) {
        return Role::Panic;
    }
    Role::Plain
}

/// Panic, abort and allocation-error handling, by name.
fn is_panic(name: &str) -> bool {
    const PREFIXES: [&str; 12] = [
        "core::panicking::",
        "std::panicking::",
        "core::panic::",
        "std::panic::",
        "std::rt::",
        "std::process::abort",
        "std::sys::abort_internal",
        "std::alloc::rust_oom",
        "std::alloc::default_alloc_error_hook",
        "alloc::alloc::handle_alloc_error",
        "alloc::raw_vec::capacity_overflow",
        "alloc::raw_vec::handle_error",
    ];
    const NAMES: [&str; 10] = [
        "__rust_start_panic",
        "rust_panic",
        "rust_begin_unwind",
        "__rust_alloc_error_handler",
        "__rg_oom",
        "__rdl_oom",
        "_Unwind_Resume",
        "abort",
        "__rust_abort",
        "__rust_foreign_exception",
    ];
    if PREFIXES.iter().any(|p| name.starts_with(p)) || NAMES.contains(&name) {
        return true;
    }
    // The last path segment, generics and closures aside:
    // `core::cell::panic_already_borrowed`, `core::slice::index::
    // slice_end_index_len_fail`, `core::result::unwrap_failed`.
    let last = name
        .split("::{{")
        .next()
        .unwrap_or(name)
        .rsplit("::")
        .next()
        .unwrap_or(name);
    last.starts_with("panic")
        || last.ends_with("_fail")
        || last.ends_with("_failed")
        || last == "unreachable_display"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_by_name() {
        for n in [
            "__rustc::__rust_alloc",
            "__rust_realloc",
            "malloc",
            "<escape_lab::alloc::SwitchAlloc as core::alloc::global::GlobalAlloc>::alloc",
        ] {
            assert_eq!(role_of(n), Role::Alloc, "{n}");
        }
        for n in [
            "__rustc::__rust_dealloc",
            "free",
            "<A as core::alloc::global::GlobalAlloc>::dealloc",
        ] {
            assert_eq!(role_of(n), Role::Dealloc, "{n}");
        }
        for n in [
            "core::panicking::panic_bounds_check",
            "core::result::unwrap_failed",
            "core::option::expect_failed",
            "alloc::alloc::handle_alloc_error",
            "core::slice::index::slice_end_index_len_fail",
            "core::cell::panic_already_borrowed",
            "_Unwind_Resume",
        ] {
            assert_eq!(role_of(n), Role::Panic, "{n}");
        }
        for n in [
            "alloc::raw_vec::RawVec<T,A>::grow_one",
            "alloc::alloc::exchange_malloc",
            "acmatch::variant::fixed::Fixed::find",
            "core::fmt::write",
        ] {
            assert_eq!(role_of(n), Role::Plain, "{n}");
        }
    }
}
