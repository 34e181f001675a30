//! Verification: a trie of the reversed patterns, walked backwards from a
//! candidate end, that finds the longest pattern ending there.
//!
//! Teddy implementations verify a candidate by comparing it with every
//! pattern of its bucket; with hundreds of patterns per bucket that is the
//! cost that caps them near 64 patterns. Here a candidate costs one
//! dependent load per byte of the longest pattern *suffix* that the text
//! ends with, which is a handful of bytes for a false positive whatever
//! the number of patterns, and no bucket is looked at.
//!
//! The trie is a dense table over the automaton's byte classes, `stride`
//! entries a row: the child's row start per class (0: no child, as no
//! walk comes back to the root), then the *output head* of the state where
//! the reversed path is a whole pattern: the head of the forward
//! automaton's output chain for that pattern's node, whose chain lists the
//! pattern, its duplicates, then every pattern that is a suffix of it. The
//! longest pattern ending at a position therefore names every pattern
//! ending there, in the automaton's order, and a hit built from its head
//! is the hit the automaton's scan would have recorded.

/// The reversed-pattern trie; see the module documentation.
#[derive(Clone, Debug)]
pub(crate) struct Reverse {
    table: Box<[u32]>,
    stride: usize,
    /// Byte classes, each below `stride - 1`.
    codes: Box<[u32; 256]>,
}

impl Reverse {
    /// The trie of `pats`, reversed; `codes` maps bytes to classes
    /// (`< classes`), `head(p)` is the forward output head of pattern `p`.
    /// `None` when the table would pass `max_entries`, or a code is not
    /// below `classes`.
    ///
    /// Allocates the table, growing it a row at a time.
    pub(crate) fn new(
        pats: &[&[u8]],
        codes: &[u32; 256],
        classes: usize,
        max_entries: usize,
        mut head: impl FnMut(&[u8]) -> u32,
    ) -> Option<Reverse> {
        if codes.iter().any(|&c| c as usize >= classes) {
            return None;
        }
        let stride = classes + 1;
        let mut table = vec![0u32; stride];
        for p in pats {
            let mut row = 0usize;
            for &b in p.iter().rev() {
                let slot = row + codes[usize::from(b)] as usize;
                if table[slot] == 0 {
                    if table.len() + stride > max_entries {
                        return None;
                    }
                    table[slot] = u32::try_from(table.len()).ok()?;
                    table.resize(table.len() + stride, 0);
                }
                row = table[slot] as usize;
            }
            table[row + stride - 1] = head(p);
        }
        Some(Reverse {
            table: table.into_boxed_slice(),
            stride,
            codes: Box::new(*codes),
        })
    }

    /// Heap bytes owned.
    pub(crate) fn heap_bytes(&self) -> usize {
        std::mem::size_of_val(&*self.table) + std::mem::size_of_val(&*self.codes)
    }

    /// The output head of the longest pattern that ends at `chunk[..end]`
    /// and lies within it, or 0 when none does.
    ///
    /// Never allocates.
    #[inline(always)]
    pub(crate) fn longest(&self, chunk: &[u8], end: usize) -> u32 {
        let (table, codes) = (&*self.table, &*self.codes);
        let mut row = 0usize;
        let mut best = 0;
        for &b in chunk[..end].iter().rev() {
            let code = codes[usize::from(b)] as usize;
            debug_assert!(code < self.stride - 1 && row + self.stride <= table.len());
            // SAFETY: `row` is a row start (0, or an entry written by
            // `new`, which only writes row starts) and rows are `stride`
            // long; codes are below `classes = stride - 1` (checked by
            // `new`).
            row = unsafe { *table.get_unchecked(row + code) } as usize;
            if row == 0 {
                break;
            }
            // SAFETY: as above; the last entry of a row is its output.
            let out = unsafe { *table.get_unchecked(row + self.stride - 1) };
            if out != 0 {
                best = out;
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_longest_pattern_ending_at_a_position() {
        let pats: [&[u8]; 4] = [b"he", b"she", b"e", b"hers"];
        let mut codes = [0u32; 256];
        for (i, b) in b"hesr".iter().enumerate() {
            codes[usize::from(*b)] = i as u32 + 1;
        }
        // Heads: the pattern's index plus one, so that 0 stays "none".
        let head = |p: &[u8]| pats.iter().position(|q| *q == p).unwrap() as u32 + 1;
        let r = Reverse::new(&pats, &codes, 5, 1 << 20, head).unwrap();
        let text = b"ushers";
        let at = |end| r.longest(text, end);
        assert_eq!(at(4), 2, "she");
        assert_eq!(at(6), 4, "hers");
        assert_eq!(at(5), 0, "nothing ends with r");
        assert_eq!(at(3), 0);
        assert!(Reverse::new(&pats, &codes, 5, 10, head).is_none());
    }
}
