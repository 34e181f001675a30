//! A second, cheap test of a candidate before the reversed trie: bit sets
//! over a hash of the eight and of the four bytes that end there (Hyperscan's FDR confirms
//! its candidates with a hash of the bytes before them in the same way).
//!
//! The finder admits a position when each of its last four bytes is some
//! byte of *some* pattern of a bucket at that distance, so the keys of a
//! bucket's patterns combine; here the last eight bytes must be the last
//! eight of one pattern of eight bytes or more, or the last four those of
//! one of four to seven bytes (up to hash collisions, one chance in a few
//! hundred with 100 patterns in 2^16 bits). Patterns of two or three
//! bytes are in a third set, indexed exactly by the last two bytes. A candidate that
//! fails both cannot end a pattern, so the trie walk, a chain of dependent
//! loads and unpredictable branches, runs only for the few that pass.
//! With any one-byte pattern the test admits everything.

/// Bits in each set.
const BITS: usize = 1 << 16;

/// The sets; see the module documentation.
#[derive(Clone, Debug)]
pub(crate) struct Confirm {
    /// Hashes of the last eight bytes of the patterns of eight bytes or
    /// more; `None` when there are none.
    eight: Option<Box<[u64]>>,
    /// Hashes of the last four bytes of the patterns of four to seven
    /// bytes; `None` when there are none.
    four: Option<Box<[u64]>>,
    /// The last two bytes of the patterns of two or three bytes; `None`
    /// when there are none.
    two: Option<Box<[u64]>>,
    /// A one-byte pattern: every candidate passes.
    all: bool,
}

/// Four bytes as a 16-bit hash.
#[inline(always)]
fn hash(x: u32) -> usize {
    (x.wrapping_mul(0x9E37_79B1) >> 16) as usize
}

/// Eight bytes as a 16-bit hash.
#[inline(always)]
fn hash8(x: u64) -> usize {
    (x.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 48) as usize
}

fn empty() -> Box<[u64]> {
    vec![0u64; BITS / 64].into_boxed_slice()
}

#[inline(always)]
fn test(set: &[u64], i: usize) -> bool {
    // `i < BITS` and the set has `BITS / 64` words.
    set[i >> 6] >> (i & 63) & 1 == 1
}

fn set(s: &mut [u64], i: usize) {
    s[i >> 6] |= 1 << (i & 63);
}

impl Confirm {
    /// The sets for `pats`.
    ///
    /// Allocates the sets (8 KiB each).
    pub(crate) fn new(pats: &[&[u8]]) -> Confirm {
        let mut eight: Option<Box<[u64]>> = None;
        let mut four: Option<Box<[u64]>> = None;
        let mut two: Option<Box<[u64]>> = None;
        let mut all = false;
        for p in pats {
            match p.len() {
                0 | 1 => all = true,
                2 | 3 => {
                    let s = two.get_or_insert_with(empty);
                    let n = p.len();
                    set(s, usize::from(u16::from_le_bytes([p[n - 2], p[n - 1]])));
                }
                n @ 4..=7 => {
                    let x = u32::from_le_bytes(p[n - 4..].try_into().expect("four bytes"));
                    set(four.get_or_insert_with(empty), hash(x));
                }
                n => {
                    let x = u64::from_le_bytes(p[n - 8..].try_into().expect("eight bytes"));
                    set(eight.get_or_insert_with(empty), hash8(x));
                }
            }
        }
        Confirm {
            eight,
            four,
            two,
            all,
        }
    }

    /// Heap bytes owned.
    pub(crate) fn heap_bytes(&self) -> usize {
        [&self.eight, &self.four, &self.two]
            .iter()
            .map(|t| t.as_ref().map_or(0, |t| 8 * t.len()))
            .sum()
    }

    /// Whether some pattern may end at `chunk[..end]`; false only when
    /// none does. Requires `end >= 4`, and `end >= 8` when some pattern
    /// has eight bytes or more.
    ///
    /// Never allocates.
    #[inline(always)]
    pub(crate) fn admits(&self, chunk: &[u8], end: usize) -> bool {
        if self.all {
            return true;
        }
        if let Some(t) = &self.eight {
            let w: [u8; 8] = chunk[end - 8..end].try_into().expect("eight bytes");
            if test(t, hash8(u64::from_le_bytes(w))) {
                return true;
            }
        }
        let w: [u8; 4] = chunk[end - 4..end].try_into().expect("four bytes");
        if let Some(t) = &self.four {
            if test(t, hash(u32::from_le_bytes(w))) {
                return true;
            }
        }
        match &self.two {
            Some(t) => test(t, usize::from(u16::from_le_bytes([w[2], w[3]]))),
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_every_pattern_end_and_few_others() {
        let pats: [&[u8]; 4] = [b"needle", b"hay", b"stack", b"haystacks"];
        let c = Confirm::new(&pats);
        for p in pats {
            let text = [b"0123456789".as_slice(), p].concat();
            assert!(c.admits(&text, text.len()), "{p:?}");
        }
        let text = b"the quick brown fox jumps over the lazy dog";
        let passed = (8..=text.len()).filter(|&e| c.admits(text, e)).count();
        assert!(passed <= 2, "{passed}");
        let one: [&[u8]; 2] = [b"q", b"needle"];
        assert!(Confirm::new(&one).admits(text, 10));
    }
}
