//! The dense table, built directly: breadth first over ranges of the
//! sorted patterns, with no double array on the way.

use std::collections::VecDeque;

use super::alphabet::Alphabet;
use super::literal::Literal;
use super::plan::Plan;
use super::prefilter::Prefilter;
use super::{Automaton, Dense, Output};
use crate::error::BuildError;

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
pub(super) fn build_dense(
    pats: &[&[u8]],
    order: &[u32],
    plan: Plan,
) -> Result<Automaton, BuildError> {
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
