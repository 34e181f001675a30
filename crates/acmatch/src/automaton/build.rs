//! Construction: sorted patterns, a breadth-first walk over ranges of them,
//! darts-clone placement, failure links and output chains in the same pass.
//!
//! Patterns are sorted once (stable, so duplicates keep id order); since
//! UTF-8 preserves code point order, sorting bytes also groups patterns by
//! their leading characters. The trie is then walked breadth first over
//! ranges of the sorted order, so no pointer trie is ever built. A node's
//! failure link and output chain are computed when it is created: both depend
//! only on shallower nodes, which breadth-first order has already finished.
//!
//! Children are placed with the darts-clone strategy: a free list over the
//! last `OPEN_BLOCKS` blocks of `BLOCK` slots, the oldest block closed when
//! the array grows. That bounds the search for a base and keeps building
//! linear in practice: a million patterns build in seconds.

use std::collections::VecDeque;

use super::alphabet::Alphabet;
use super::prefilter::Prefilter;
use super::{Automaton, Layout, Output, State, INVALID, ROOT};
use crate::error::BuildError;

/// Slots are added in blocks of this size.
const BLOCK: usize = 256;
/// Blocks at the end of the array in which free slots are still searched,
/// at least; large alphabets get a window of a few alphabets' width, or
/// nodes whose children spread over many codes would each open a fresh
/// region and leave most of the array empty.
const OPEN_BLOCKS: usize = 16;
/// The open window spans at least this many alphabets.
const WINDOW_ALPHABETS: usize = 4;
/// Marks the end of the free list.
const NIL: u32 = u32::MAX;

const FREE: State = State {
    base: 0,
    fail: ROOT,
    out: 0,
    check: INVALID,
};

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

    let alphabet = Alphabet::new(pats);
    // Leaves have base 0, so their lookups land on slots `0..alphabet.len`:
    // those must never hold a child.
    let reserved = alphabet.len.max(BLOCK);

    let mut order: Vec<u32> = (0..pats.len() as u32).collect();
    order.sort_by(|&a, &b| pats[a as usize].cmp(pats[b as usize]));
    let pat = |k: u32| pats[order[k as usize] as usize];

    let mut da = DoubleArray::new(reserved, alphabet.len);
    let mut outputs = vec![Output {
        pattern: 0,
        len: 0,
        next: 0,
    }];
    let mut trie_states = 1usize;
    // Slots in breadth-first order (the order nodes are created): the order
    // in which a dense table can be filled, each state's failure row first.
    let mut bfs: Vec<u32> = vec![ROOT];

    /// A trie node: a range of `order` sharing a prefix of `depth` bytes.
    struct Node {
        slot: u32,
        depth: u32,
        lo: u32,
        hi: u32,
    }
    let mut queue = VecDeque::new();
    queue.push_back(Node {
        slot: ROOT,
        depth: 0,
        lo: 0,
        hi: pats.len() as u32,
    });
    // (code, symbol byte length, lo, hi) of each child.
    let mut children: Vec<(u32, u32, u32, u32)> = Vec::new();
    let mut codes: Vec<u32> = Vec::new();

    while let Some(node) = queue.pop_front() {
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
        if children.is_empty() {
            continue; // a leaf keeps base 0
        }
        children.sort_unstable_by_key(|c| c.0);
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

    let dense = match layout {
        Layout::Auto => dense_table(&da.states, &bfs, &alphabet, DENSE_MAX_ENTRIES),
        Layout::DoubleArray { .. } => None,
    };
    // A dense automaton scans with its table alone: drop the double array.
    // A dense table reads a byte about as fast as the filter does, so only
    // the double array gets one.
    let prefilter = match layout {
        Layout::Auto if dense.is_none() => Prefilter::new(pats),
        Layout::DoubleArray { prefilter: true } => Prefilter::new(pats),
        _ => None,
    };
    let states = if dense.is_some() {
        Box::default()
    } else {
        da.states.into_boxed_slice()
    };

    Ok(Automaton {
        alphabet,
        states,
        root_next,
        dense,
        prefilter,
        outputs: outputs.into_boxed_slice(),
        pattern_count: pats.len(),
        trie_states,
    })
}

/// A dense table holds this many `u32` entries at most (4 MiB): beyond that
/// its rows stop fitting the caches and the double array, a quarter or less
/// of the size, is as fast.
const DENSE_MAX_ENTRIES: usize = 1 << 20;

/// The full transition table of a small byte-alphabet automaton, or `None`
/// when the automaton is charwise or the table would be too large.
///
/// Row `i` (for the `i`-th state in breadth-first order) starts at
/// `i * stride`, `stride` being the alphabet size plus one: entry `code` is
/// the next state's row start (transitions through failure links already
/// followed), and the last entry is the state's output-chain head. State ids
/// in a dense automaton are these row starts.
fn dense_table(
    states: &[State],
    bfs: &[u32],
    alphabet: &Alphabet,
    max_entries: usize,
) -> Option<Box<[u32]>> {
    let stride = alphabet.len + 1;
    let entries = bfs.len().checked_mul(stride)?;
    if alphabet.utf8 || entries > max_entries {
        return None;
    }
    let mut row_of = vec![0u32; states.len()];
    for (i, &slot) in bfs.iter().enumerate() {
        row_of[slot as usize] = (i * stride) as u32;
    }
    let mut table = vec![0u32; entries];
    for (i, &slot) in bfs.iter().enumerate() {
        let st = states[slot as usize];
        let row = i * stride;
        for code in 0..alphabet.len {
            let child = st.base as usize + code;
            table[row + code] = if st.base != 0 && states[child].check == code as u32 {
                row_of[child]
            } else if slot == ROOT {
                0
            } else {
                // The failure state is shallower, so its row is complete.
                table[row_of[st.fail as usize] as usize + code]
            };
        }
        table[row + alphabet.len] = st.out;
    }
    Some(table.into_boxed_slice())
}

/// The double array under construction, with its free list.
struct DoubleArray {
    states: Vec<State>,
    reserved: usize,
    /// Bases already taken by some state (a base must be unique).
    base_used: Vec<bool>,
    /// Doubly linked list of free slots in the open blocks, by position.
    next_free: Vec<u32>,
    prev_free: Vec<u32>,
    in_list: Vec<bool>,
    head: u32,
    tail: u32,
    /// First slot of the oldest open block.
    open_from: usize,
    /// Number of open blocks.
    open_blocks: usize,
}

impl DoubleArray {
    fn new(reserved: usize, alphabet_len: usize) -> DoubleArray {
        let mut base_used = vec![false; reserved];
        base_used[0] = true; // base 0 marks leaves
        DoubleArray {
            states: vec![FREE; reserved],
            reserved,
            base_used,
            next_free: vec![NIL; reserved],
            prev_free: vec![NIL; reserved],
            in_list: vec![false; reserved],
            head: NIL,
            tail: NIL,
            open_from: reserved,
            open_blocks: OPEN_BLOCKS.max(WINDOW_ALPHABETS * alphabet_len / BLOCK),
        }
    }

    /// Adds one block of free slots, closing the oldest open block when there
    /// are more than `OPEN_BLOCKS`.
    fn grow(&mut self) -> Result<(), BuildError> {
        let old = self.states.len();
        let new = old + BLOCK;
        if new >= (u32::MAX as usize) / 2 {
            return Err(BuildError::too_large());
        }
        self.states.resize(new, FREE);
        self.base_used.resize(new, false);
        self.next_free.resize(new, NIL);
        self.prev_free.resize(new, NIL);
        self.in_list.resize(new, true);
        for p in old..new {
            self.prev_free[p] = self.tail;
            if self.tail == NIL {
                self.head = p as u32;
            } else {
                self.next_free[self.tail as usize] = p as u32;
            }
            self.tail = p as u32;
        }
        if (new - self.open_from) / BLOCK > self.open_blocks {
            let close = self.open_from;
            self.open_from += BLOCK;
            for p in close..close + BLOCK {
                if self.in_list[p] {
                    self.unlink(p as u32);
                }
            }
        }
        Ok(())
    }

    fn unlink(&mut self, p: u32) {
        let (prev, next) = (self.prev_free[p as usize], self.next_free[p as usize]);
        if prev == NIL {
            self.head = next;
        } else {
            self.next_free[prev as usize] = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.prev_free[next as usize] = prev;
        }
        self.in_list[p as usize] = false;
    }

    /// Whether slot `p` can take a child (slots past the end will be added).
    fn is_free(&self, p: usize) -> bool {
        p >= self.states.len() || (p >= self.reserved && self.states[p].check == INVALID)
    }

    /// Finds a base for a node whose children have the (sorted, distinct)
    /// `codes`, claims the child slots and returns the base.
    fn place(&mut self, parent: u32, codes: &[u32]) -> Result<u32, BuildError> {
        let first = codes[0] as usize;
        let last = codes[codes.len() - 1] as usize;
        let mut p = self.head;
        let base = loop {
            if p == NIL {
                let old = self.states.len();
                self.grow()?;
                p = old as u32;
                continue;
            }
            let pu = p as usize;
            if pu >= first {
                let base = pu - first;
                if !self.base_used.get(base).copied().unwrap_or(false)
                    && codes.iter().all(|&c| self.is_free(base + c as usize))
                {
                    break base;
                }
            }
            p = self.next_free[pu];
        };
        while self.states.len() <= base + last {
            self.grow()?;
        }
        self.base_used[base] = true;
        self.states[parent as usize].base = base as u32;
        for &c in codes {
            let t = base + c as usize;
            self.states[t].check = c;
            if self.in_list[t] {
                self.unlink(t as u32);
            }
        }
        Ok(base as u32)
    }

    /// `goto(f, code)`, following failure links from `f` until a state has a
    /// child on `code`; the root when none has.
    fn goto_through_fail(&self, mut f: u32, code: u32) -> u32 {
        loop {
            let st = self.states[f as usize];
            let t = st.base as usize + code as usize;
            if st.base != 0 && t < self.states.len() && self.states[t].check == code {
                return t as u32;
            }
            if f == ROOT {
                return ROOT;
            }
            f = st.fail;
        }
    }
}
