//! A walk → the user's lines: each call that leaves the user's code towards
//! the allocator, located by its innermost frame of the user's code (file,
//! line, column, through the symbolizer's inlined frames), with the chain
//! from there to the allocator entry.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use super::elf::Binary;
use super::graph::{Graph, Role, Walk};
use super::{IndirectCall, ReachPath};
use crate::pprof::symbolize::{Frame, Symbolizer};

/// Symbolizes file addresses of the binary in this process.
pub(crate) struct Lines<'a> {
    pub bin: &'a Binary,
    pub symbols: Symbolizer,
    pub root_dir: String,
    own_node: HashMap<usize, bool>,
}

impl<'a> Lines<'a> {
    pub fn new(bin: &'a Binary, root: &Path) -> Lines<'a> {
        let mut root_dir = root.to_string_lossy().into_owned();
        if !root_dir.ends_with('/') {
            root_dir.push('/');
        }
        Lines {
            bin,
            symbols: Symbolizer::new(),
            root_dir,
            own_node: HashMap::new(),
        }
    }

    /// The frames at a file address, innermost first.
    fn frames(&mut self, addr: u64) -> Vec<Frame> {
        self.symbols
            .resolve(addr.wrapping_add(self.bin.bias))
            .to_vec()
    }

    fn is_own(f: &Frame) -> bool {
        crate::frames::is_own(&f.function, f.file.as_deref())
    }

    /// The innermost frame of the user's code, preferring one in the source
    /// root's files (as the measured sites do), and its index.
    fn own_frame(&self, frames: &[Frame]) -> Option<usize> {
        let in_root = |f: &Frame| {
            f.file
                .as_deref()
                .is_some_and(|p| p.starts_with(&self.root_dir) || !p.starts_with('/'))
        };
        frames
            .iter()
            .position(|f| Self::is_own(f) && in_root(f))
            .or_else(|| frames.iter().position(Self::is_own))
    }

    /// `file:line:col`, the file relative to the source root.
    pub fn location(&self, f: &Frame) -> String {
        let file = f.file.as_deref().unwrap_or("?");
        let file = file.strip_prefix(&self.root_dir).unwrap_or(file);
        match (f.line, f.column) {
            (Some(l), Some(c)) => format!("{file}:{l}:{c}"),
            (Some(l), None) => format!("{file}:{l}"),
            _ => file.to_string(),
        }
    }

    /// Whether a node's function is the user's code (its outermost frame at
    /// its start).
    fn node_is_own(&mut self, graph: &Graph, n: usize) -> bool {
        if let Some(&own) = self.own_node.get(&n) {
            return own;
        }
        let node = &graph.nodes[n];
        let own = node.role == Role::Plain
            && node.start != 0
            && match self.frames(node.start).last() {
                Some(f) => Self::is_own(f),
                None => crate::frames::is_own(&node.name, None),
            };
        self.own_node.insert(n, own);
        own
    }
}

/// The paths of `walk` whose calls go to a node `next` knows (a way to the
/// allocator), deduplicated by the user's line.
pub(crate) fn paths(
    graph: &mut Graph,
    lines: &mut Lines<'_>,
    walk: &Walk,
    next: &HashMap<usize, Option<usize>>,
    only: impl Fn(Role) -> bool,
) -> Vec<ReachPath> {
    let mut by_line: BTreeMap<String, ReachPath> = BTreeMap::new();
    let mut fallback = None;
    for &(n, _) in &walk.reached {
        for call in graph.calls(lines.bin, n) {
            let Some(to) = call.to else { continue };
            if !next.contains_key(&to) || !only(graph.nodes[to].role) {
                continue;
            }
            if lines.node_is_own(graph, to) {
                continue;
            }
            let frames = lines.frames(call.site);
            let mut tail = vec![graph.nodes[to].name.clone()];
            let mut at = to;
            while let Some(Some(n)) = next.get(&at) {
                tail.push(graph.nodes[*n].name.clone());
                at = *n;
            }
            let Some(own) = lines.own_frame(&frames) else {
                fallback.get_or_insert((frames, tail));
                continue;
            };
            let mut chain: Vec<String> = frames[..own]
                .iter()
                .rev()
                .map(|f| f.function.clone())
                .collect();
            chain.extend(tail);
            let location = lines.location(&frames[own]);
            let key = line_key(&location);
            by_line.entry(key).or_insert(ReachPath {
                location,
                function: frames[own].function.clone(),
                chain,
            });
        }
    }
    if by_line.is_empty() {
        if let Some((frames, tail)) = fallback {
            let (location, function) = frames
                .last()
                .map(|f| (lines.location(f), f.function.clone()))
                .unwrap_or_default();
            let mut chain: Vec<String> = frames.iter().rev().map(|f| f.function.clone()).collect();
            chain.extend(tail);
            by_line.insert(
                line_key(&location),
                ReachPath {
                    location,
                    function,
                    chain,
                },
            );
        }
    }
    by_line.into_values().collect()
}

/// The unresolved indirect calls of the nodes reached, one per line.
pub(crate) fn indirect(graph: &mut Graph, lines: &mut Lines<'_>, walk: &Walk) -> Vec<IndirectCall> {
    let mut by_line: BTreeMap<String, IndirectCall> = BTreeMap::new();
    for &(n, _) in &walk.reached {
        if graph.nodes[n].role != Role::Plain {
            continue;
        }
        for call in graph.calls(lines.bin, n) {
            if call.to.is_some() {
                continue;
            }
            let frames = lines.frames(call.site);
            let at = lines.own_frame(&frames).unwrap_or(0);
            let (location, function) = match frames.get(at) {
                Some(f) => (lines.location(f), f.function.clone()),
                None => (format!("{:#x}", call.site), graph.nodes[n].name.clone()),
            };
            by_line
                .entry(line_key(&location))
                .or_insert(IndirectCall { location, function });
        }
    }
    by_line.into_values().collect()
}

/// `file:line` of a `file:line:col` location: what paths are deduplicated
/// by and what the gate compares.
pub(crate) fn line_key(location: &str) -> String {
    let mut parts = location.rsplitn(3, ':');
    let last = parts.next().unwrap_or("");
    match (parts.next(), parts.next()) {
        (Some(line), Some(file))
            if last.bytes().all(|b| b.is_ascii_digit())
                && line.bytes().all(|b| b.is_ascii_digit()) =>
        {
            format!("{file}:{line}")
        }
        _ => location.to_string(),
    }
}
