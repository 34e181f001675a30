//! Construction: sorted patterns, a plan chosen from them by cost, then
//! either the dense table or the double array, each built breadth first
//! over ranges of the sorted patterns, failure links and output chains in
//! the same pass.
//!
//! Patterns are sorted once (stable, so duplicates keep id order); since
//! UTF-8 preserves code point order, sorting bytes also groups patterns by
//! their leading characters. The trie is then walked breadth first over
//! ranges of the sorted order, so no pointer trie is ever built. A node's
//! failure link and output chain are computed when it is created: both depend
//! only on shallower nodes, which breadth-first order has already finished.
//! The plan is `plan.rs`, the dense table's builder `build_dense.rs`, the
//! double array's slots and free-slot bitmap `darray.rs`; this file builds
//! the double array's trie, links and outputs.

use std::collections::VecDeque;

use super::alphabet::Alphabet;
use super::build_dense::build_dense;
use super::darray::{DoubleArray, BLOCK};
use super::plan::Plan;
use super::prefilter::Prefilter;
use super::{Automaton, Layout, Output, ROOT};
use crate::error::BuildError;

/// Builds the automaton; see the module documentation.
pub(super) fn build(pats: &[&[u8]], layout: Layout) -> Result<Automaton, BuildError> {
    if pats.is_empty() {
        return Err(BuildError::no_patterns());
    }
    if pats.len() >= u32::MAX as usize {
        return Err(BuildError::too_many_patterns(pats.len()));
    }
    for (i, p) in pats.iter().enumerate() {
        if p.is_empty() {
            return Err(BuildError::empty_pattern(i));
        }
        if p.len() >= u32::MAX as usize {
            return Err(BuildError::too_large());
        }
    }

    let mut order: Vec<u32> = (0..pats.len() as u32).collect();
    order.sort_by(|&a, &b| pats[a as usize].cmp(pats[b as usize]));
    let pat = |k: u32| pats[order[k as usize] as usize];

    let plan = Plan::choose(pats, &order, layout);
    if plan.dense {
        return build_dense(pats, &order, plan);
    }
    let alphabet = if plan.charwise {
        Alphabet::chars(pats)
    } else {
        Alphabet::bytes(pats)
    };
    // Leaves have base 0, so their lookups land on slots `0..alphabet.len`:
    // those must never hold a child.
    let reserved = alphabet.len.max(BLOCK);

    let mut da = DoubleArray::new(reserved, alphabet.len);
    let mut outputs = vec![Output {
        pattern: 0,
        len: 0,
        next: 0,
    }];
    let mut trie_states = 1usize;
    // Slots in breadth-first order (the order nodes are created), for
    // shortening failure links below: each state's failure state comes
    // before it.
    let mut bfs: Vec<u32> = vec![ROOT];

    /// A trie node: a range of `order` sharing a prefix of `depth` bytes.
    struct Node {
        slot: u32,
        depth: u32,
        lo: u32,
        hi: u32,
    }
    // (code, symbol byte length, lo, hi) of each child of `node`, by code.
    let group = |node: &Node, children: &mut Vec<(u32, u32, u32, u32)>| {
        let depth = node.depth as usize;
        // Patterns ending exactly here come first; they became outputs when
        // this node was created.
        let mut k = node.lo;
        while k < node.hi && pat(k).len() == depth {
            k += 1;
        }
        // Group the rest by their next symbol.
        children.clear();
        while k < node.hi {
            let (code, len) = alphabet.symbol_at(pat(k), depth);
            let start = k;
            while k < node.hi && alphabet.symbol_at(pat(k), depth).0 == code {
                k += 1;
            }
            children.push((code, len as u32, start, k));
        }
        children.sort_unstable_by_key(|c| c.0);
    };
    let mut children: Vec<(u32, u32, u32, u32)> = Vec::new();
    let mut codes: Vec<u32> = Vec::new();
    let mut queue = VecDeque::new();
    queue.push_back(Node {
        slot: ROOT,
        depth: 0,
        lo: 0,
        hi: pats.len() as u32,
    });
    // Breadth first: a node's failure link and output chain depend only on
    // shallower states, which are finished by the time it is created; and
    // the hot shallow states are placed first, together.
    while let Some(node) = queue.pop_front() {
        group(&node, &mut children);
        if children.is_empty() {
            continue; // a leaf keeps base 0
        }
        codes.clear();
        codes.extend(children.iter().map(|c| c.0));
        let base = da.place(node.slot, &codes)?;
        for &(code, len, lo, hi) in &children {
            let t = base + code;
            let fail = if node.slot == ROOT {
                ROOT
            } else {
                da.goto_through_fail(da.states[node.slot as usize].fail, code)
            };
            let child_depth = node.depth + len;
            // Outputs of the child: patterns ending here (id order), then
            // the chain of its failure state.
            let mut next = da.states[fail as usize].out;
            let mut end = lo;
            while end < hi && pat(end).len() == child_depth as usize {
                end += 1;
            }
            for j in (lo..end).rev() {
                outputs.push(Output {
                    pattern: order[j as usize],
                    len: child_depth,
                    next,
                });
                next = u32::try_from(outputs.len() - 1).map_err(|_| BuildError::too_large())?;
            }
            let st = &mut da.states[t as usize];
            st.fail = fail;
            st.out = next;
            trie_states += 1;
            bfs.push(t);
            queue.push_back(Node {
                slot: t,
                depth: child_depth,
                lo,
                hi,
            });
        }
    }

    // Padding: `base + code` must be in bounds for every slot and code.
    let max_base = da.states.iter().map(|s| s.base as usize).max().unwrap_or(0);
    while da.states.len() < max_base + alphabet.len {
        da.grow()?;
    }
    let root_next: Box<[u32]> = (0..alphabet.len as u32)
        .map(|code| da.goto_through_fail(ROOT, code))
        .collect();

    // Failure links skip leaves: a state without children has no
    // transition of its own, so trying it on the way down a failure chain
    // only costs a load. Its output chain was already taken into account
    // (outputs are linked separately), and breadth-first order means each
    // failure state's own link is final before it is read.
    for &slot in &bfs[1..] {
        let fail = da.states[slot as usize].fail;
        if fail != ROOT && da.states[fail as usize].base == 0 {
            da.states[slot as usize].fail = da.states[fail as usize].fail;
        }
    }

    let prefilter = plan.prefilter.then(|| Prefilter::new(pats)).flatten();
    Ok(Automaton {
        alphabet,
        states: da.states.into_boxed_slice(),
        root_next,
        dense: None,
        prefilter,
        literal: None,
        outputs: outputs.into_boxed_slice(),
        pattern_count: pats.len(),
        max_len: pats.iter().map(|p| p.len()).max().unwrap_or(0),
        trie_states,
    })
}
