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
//! The plan (`Plan::choose`) needs the trie's size before any of it exists:
//! the number of byte-trie states is the sum, over the sorted patterns, of
//! the bytes each does not share with the one before it.
//!
//! Double-array children are placed first-fit over a bitmap of free slots,
//! 64 candidate bases at a time: a node with one child (most nodes of a
//! large trie) anywhere in the array, filling holes; a node with several
//! children within the last stretch of the array (a window of at least
//! `OPEN_BLOCKS` blocks of `BLOCK` slots, or `WINDOW_ALPHABETS` alphabets'
//! width), which bounds the search for a base and keeps building linear in
//! practice: a million patterns build in seconds.

use std::collections::VecDeque;

use super::alphabet::Alphabet;
use super::literal::{Literal, Want};
use super::prefilter::Prefilter;
use super::{Automaton, Dense, Layout, Output, State, INVALID, ROOT};
use crate::error::BuildError;

/// Slots are added in blocks of this size.
const BLOCK: usize = 256;
/// A node with several children searches for a base in the last this many
/// blocks of the array at least, which bounds the search.
const OPEN_BLOCKS: usize = 16;
/// Or in the last this many alphabets' width, if more: with a large
/// alphabet, children spread over many codes, and a narrow window would
/// send each such node to the end of the array, leaving most of it empty
/// (measured on the Chinese dictionary: 4 alphabets filled 43% of the
/// slots, 64 filled 70%, as many as searching the whole array).
const WINDOW_ALPHABETS: usize = 64;

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

/// `Layout::Auto` builds a dense table when it has at most this many `u32`
/// entries (12 MiB), unless the double array would be over characters; see
/// `Plan::choose`. Three streams over the table measured faster up to a
/// 32 MB table on whole texts (the root's DECISIONS-scaling.md, "Layout
/// crossover": English 30,000 words 1.16x daachorse against the byte double
/// array's 0.97x), but the article's workload, `synthetic-en` (40,567
/// patterns, 148,311 states, a 15 MB table) in 2,048-byte calls ran 1.7x
/// slower on that table than on its 2 MB double array (`escape-lab profile
/// --no-instr --variants fixed,callback`, three interleaved runs: 48-53
/// against 84-87 MB/s for `fixed`). 12 MiB keeps English 10,000 words
/// (48,814 states, 2.21x daachorse charwise) on the table and `synthetic-en` on the double array.
const DENSE_MAX_ENTRIES: usize = 3 << 20;
/// As `DENSE_MAX_ENTRIES` when the double array would be over characters
/// (most pattern bytes in multi-byte characters), which takes a third of
/// the table's steps over CJK text, so the table loses sooner (12 MiB).
/// Measured: Chinese 8,000 words, 11.8 MB, 1.17x daachorse against the
/// charwise double array's 1.04x; 10,000 words, 14.5 MB, 0.97x against
/// 1.00x.
const DENSE_MAX_ENTRIES_CHARWISE: usize = 3 << 20;
/// `Layout::Dense` builds one up to this many entries (1 GiB), else falls
/// back to the double array.
const DENSE_HARD_MAX_ENTRIES: usize = 1 << 28;

/// What to build, decided from the patterns before anything is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Plan {
    /// A dense table over byte classes (the trie is then built over bytes).
    dense: bool,
    /// States of the trie over bytes.
    byte_states: usize,
    /// The trie's symbols are UTF-8 characters.
    charwise: bool,
    /// Build the root-state prefilter when the patterns make it pay.
    prefilter: bool,
    /// Whether to build the literal engine (dense tables only); when it
    /// is built, the prefilter is not.
    literal: Want,
}

impl Plan {
    /// The layout for `pats` (sorted by `order`): see [`Layout`].
    fn choose(pats: &[&[u8]], order: &[u32], layout: Layout) -> Plan {
        let byte_states = byte_trie_states(pats, order);
        let mut live = [false; 256];
        for p in pats {
            for &b in *p {
                live[b as usize] = true;
            }
        }
        let classes = (live.iter().filter(|&&l| l).count() + 1).min(256);
        let dense_entries = byte_states.saturating_mul(classes + 1);
        let dense = |prefilter: bool, literal: Want| Plan {
            dense: true,
            byte_states,
            charwise: false,
            prefilter,
            literal,
        };
        let double_array = |charwise: bool, prefilter: bool| Plan {
            dense: false,
            byte_states,
            charwise: charwise && Alphabet::can_be_charwise(pats),
            prefilter,
            literal: Want::No,
        };
        match layout {
            Layout::Auto => {
                let charwise = charwise_pays(pats);
                let cap = if charwise {
                    DENSE_MAX_ENTRIES_CHARWISE
                } else {
                    DENSE_MAX_ENTRIES
                };
                if dense_entries <= cap {
                    dense(true, Want::ByCost)
                } else {
                    double_array(charwise, true)
                }
            }
            Layout::Dense { prefilter } if dense_entries <= DENSE_HARD_MAX_ENTRIES => {
                dense(prefilter, Want::No)
            }
            Layout::Literal { simd } if dense_entries <= DENSE_HARD_MAX_ENTRIES => {
                dense(false, Want::Forced { simd })
            }
            Layout::Literal { .. } => double_array(charwise_pays(pats), false),
            Layout::Dense { prefilter } => double_array(charwise_pays(pats), prefilter),
            Layout::DoubleArray {
                charwise,
                prefilter,
            } => double_array(charwise, prefilter),
        }
    }
}

/// Whether a double array over characters beats one over bytes for these
/// patterns: when most of their bytes belong to multi-byte characters (CJK
/// dictionaries), a character is one transition instead of two to four
/// and the trie has a fraction of the states.
fn charwise_pays(pats: &[&[u8]]) -> bool {
    let (mut multi, mut all) = (0usize, 0usize);
    for p in pats {
        all += p.len();
        multi += p.iter().filter(|&&b| b >= 0x80).count();
    }
    multi * 2 > all && Alphabet::can_be_charwise(pats)
}

/// States of the trie over bytes (distinct non-empty prefixes, plus the
/// root): each pattern in sorted order adds the bytes it does not share
/// with the one before it.
fn byte_trie_states(pats: &[&[u8]], order: &[u32]) -> usize {
    let mut states = 1;
    let mut prev: &[u8] = &[];
    for &k in order {
        let p = pats[k as usize];
        let common = prev.iter().zip(p).take_while(|(a, b)| a == b).count();
        states += p.len() - common;
        prev = p;
    }
    states
}

/// Builds a dense automaton directly, breadth first over ranges of the
/// sorted patterns, with no double array on the way.
///
/// Rows are `stride` (alphabet size plus one) entries long: entry `code` is
/// the next state's row start (transitions through failure links already
/// followed), and the last entry is the state's output-chain head. The root
/// is row 0; states without output take rows from the front and states
/// with output from the back, so that "some pattern ends here" is one
/// comparison of the row start. A state's row starts as a copy of its
/// failure state's row, which breadth-first order has finished, with its
/// own children written over it.
fn build_dense(pats: &[&[u8]], order: &[u32], plan: Plan) -> Result<Automaton, BuildError> {
    let alphabet = Alphabet::bytes(pats);
    let pat = |k: u32| pats[order[k as usize] as usize];
    let states = plan.byte_states;
    let stride = alphabet.len + 1;
    let entries = states
        .checked_mul(stride)
        .filter(|&e| e <= u32::MAX as usize)
        .ok_or_else(BuildError::too_large)?;
    let mut table = vec![0u32; entries];
    let mut outputs = vec![Output {
        pattern: 0,
        len: 0,
        next: 0,
    }];
    // Row numbers: plain states from the front, states with output from
    // the back.
    let (mut front, mut back) = (1usize, states);

    /// A trie node: a range of `order` sharing a prefix of `depth` bytes.
    struct Node {
        row: usize,
        fail: usize,
        depth: u32,
        lo: u32,
        hi: u32,
    }
    let mut queue = VecDeque::new();
    queue.push_back(Node {
        row: 0,
        fail: 0,
        depth: 0,
        lo: 0,
        hi: pats.len() as u32,
    });
    while let Some(node) = queue.pop_front() {
        let depth = node.depth as usize;
        if node.row != 0 {
            table.copy_within(node.fail..node.fail + alphabet.len, node.row);
        }
        let mut k = node.lo;
        while k < node.hi && pat(k).len() == depth {
            k += 1;
        }
        while k < node.hi {
            let byte = pat(k)[depth];
            let (lo, mut end) = (k, k);
            while k < node.hi && pat(k)[depth] == byte {
                k += 1;
            }
            let code = alphabet.byte_codes[byte as usize] as usize;
            let fail = if node.row == 0 {
                0
            } else {
                table[node.fail + code] as usize
            };
            // Patterns ending at the child (id order), then the chain of
            // its failure state.
            let mut next = table[fail + alphabet.len];
            while end < k && pat(end).len() == depth + 1 {
                end += 1;
            }
            for j in (lo..end).rev() {
                outputs.push(Output {
                    pattern: order[j as usize],
                    len: node.depth + 1,
                    next,
                });
                next = u32::try_from(outputs.len() - 1).map_err(|_| BuildError::too_large())?;
            }
            let row = if next == 0 {
                front += 1;
                (front - 1) * stride
            } else {
                back -= 1;
                back * stride
            };
            table[row + alphabet.len] = next;
            table[node.row + code] = row as u32;
            queue.push_back(Node {
                row,
                fail,
                depth: node.depth + 1,
                lo,
                hi: k,
            });
        }
    }
    debug_assert_eq!(front, back, "every row taken once");
    let dense = Dense {
        table: table.into_boxed_slice(),
        stride,
        match_from: (front * stride) as u32,
    };
    let literal = Literal::new(pats, &alphabet, &dense, plan.literal);
    let prefilter = (plan.prefilter && literal.is_none())
        .then(|| Prefilter::new(pats))
        .flatten();
    Ok(Automaton {
        alphabet,
        states: Box::default(),
        root_next: Box::default(),
        dense: Some(dense),
        prefilter,
        literal,
        outputs: outputs.into_boxed_slice(),
        pattern_count: pats.len(),
        max_len: pats.iter().map(|p| p.len()).max().unwrap_or(0),
        trie_states: states,
    })
}

/// The double array under construction, with its free slots.
struct DoubleArray {
    states: Vec<State>,
    reserved: usize,
    /// The free slots at `reserved` and beyond.
    free: FreeSlots,
    /// A node with several children searches for a base only among the
    /// last `window` slots (and beyond the end): that bounds the search.
    window: usize,
}

impl DoubleArray {
    fn new(reserved: usize, alphabet_len: usize) -> DoubleArray {
        DoubleArray {
            states: vec![FREE; reserved],
            reserved,
            free: FreeSlots::default(),
            window: (OPEN_BLOCKS * BLOCK).max(WINDOW_ALPHABETS * alphabet_len),
        }
    }

    /// Adds one block of free slots.
    fn grow(&mut self) -> Result<(), BuildError> {
        let old = self.states.len();
        let new = old + BLOCK;
        if new >= (u32::MAX as usize) / 2 {
            return Err(BuildError::too_large());
        }
        self.states.resize(new, FREE);
        self.free.add(old..new);
        Ok(())
    }

    /// Finds a base for a node whose children have the (sorted, distinct)
    /// `codes`, claims the child slots and returns the base.
    ///
    /// First fit over the free-slot bitmap: the first free slot at or
    /// after the first child's code anywhere in the array (or, for a node
    /// with several children, in the last `window` slots), for 64
    /// candidate bases at a time, ANDing the free bits under every child.
    /// Bases need not be unique, since `check` holds the parent; so most
    /// nodes of a large trie, which have one child, fill the holes that
    /// nodes with several children leave.
    fn place(&mut self, parent: u32, codes: &[u32]) -> Result<u32, BuildError> {
        let first = codes[0] as usize;
        let last = codes[codes.len() - 1] as usize;
        let len = self.states.len();
        let from = if codes.len() == 1 {
            first
        } else {
            first.max(len.saturating_sub(self.window))
        };
        let mut p = from.max(self.reserved);
        let base = loop {
            // Skip to the first child's next free slot.
            let Some(q) = self.free.first_from(p) else {
                // None left: past the end, where every slot is free.
                break len.max(p) - first;
            };
            let b = q - first;
            let mut fits = self.free.run(q, len);
            for &c in &codes[1..] {
                if fits == 0 {
                    break;
                }
                fits &= self.free.run(b + c as usize, len);
            }
            if fits != 0 {
                break b + fits.trailing_zeros() as usize;
            }
            p = q + 64;
        };
        while self.states.len() <= base + last {
            self.grow()?;
        }
        self.states[parent as usize].base = base as u32;
        for &c in codes {
            let t = base + c as usize;
            self.states[t].check = parent;
            self.free.take(t);
        }
        Ok(base as u32)
    }

    /// `goto(f, code)`, following failure links from `f` until a state has a
    /// child on `code`; the root when none has.
    fn goto_through_fail(&self, mut f: u32, code: u32) -> u32 {
        loop {
            let st = self.states[f as usize];
            let t = st.base as usize + code as usize;
            if st.base != 0 && t < self.states.len() && self.states[t].check == f {
                return t as u32;
            }
            if f == ROOT {
                return ROOT;
            }
            f = st.fail;
        }
    }
}

/// A set of free slots: one bit per slot, and one bit per 64 slots saying
/// whether any of them is free, so that the first free slot from any
/// position is found in a few word operations even in a full array.
#[derive(Default)]
struct FreeSlots {
    /// Bit `p % 64` of word `p / 64`: slot `p` is free.
    bits: Vec<u64>,
    /// Bit `w % 64` of word `w / 64`: word `w` of `bits` is not zero.
    any: Vec<u64>,
}

impl FreeSlots {
    /// Marks `range` (past every slot so far) free.
    fn add(&mut self, range: std::ops::Range<usize>) {
        let words = range.end.div_ceil(64);
        self.bits.resize(words, 0);
        self.any.resize(words.div_ceil(64), 0);
        for p in range {
            self.bits[p / 64] |= 1 << (p % 64);
            self.any[p / 4096] |= 1 << (p / 64 % 64);
        }
    }

    /// Marks slot `p` taken.
    fn take(&mut self, p: usize) {
        let w = p / 64;
        if let Some(word) = self.bits.get_mut(w) {
            *word &= !(1 << (p % 64));
            if *word == 0 {
                self.any[w / 64] &= !(1 << (w % 64));
            }
        }
    }

    /// Bit `k`: slot `p + k` is free, for the 64 slots from `p`; slots at
    /// `len` and beyond count as free.
    fn run(&self, p: usize, len: usize) -> u64 {
        let word = |w: usize| self.bits.get(w).copied().unwrap_or(0);
        let (w, shift) = (p / 64, p % 64);
        let mut run = word(w) >> shift;
        if shift != 0 {
            run |= word(w + 1) << (64 - shift);
        }
        if p + 64 > len {
            run |= u64::MAX
                .checked_shl(len.saturating_sub(p) as u32)
                .unwrap_or(0);
        }
        run
    }

    /// The first free slot at or after `p`.
    fn first_from(&self, p: usize) -> Option<usize> {
        let w = p / 64;
        let word = *self.bits.get(w)? & (u64::MAX << (p % 64));
        if word != 0 {
            return Some(w * 64 + word.trailing_zeros() as usize);
        }
        // The next word with a free slot, through the summary.
        let next = w + 1;
        let mut a = next / 64;
        let mut summary = *self.any.get(a)? & (u64::MAX << (next % 64));
        while summary == 0 {
            a += 1;
            summary = *self.any.get(a)?;
        }
        let w = a * 64 + summary.trailing_zeros() as usize;
        Some(w * 64 + self.bits[w].trailing_zeros() as usize)
    }
}
