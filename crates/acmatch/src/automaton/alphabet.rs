//! The alphabet: how haystack bytes become the symbols the trie is built on.
//!
//! Two kinds; which one an automaton gets is a matter of cost, decided in
//! `plan::Plan`:
//!
//! - **bytes**: every byte is a symbol. Bytes that occur in some pattern get
//!   codes by descending frequency (so the busiest transitions pack densely
//!   near the root); all other bytes share one *dead* code on which no state
//!   has a child, and which sends the automaton straight back to the root.
//!   These are the byte classes of the dense table, and the symbols of the
//!   double array over bytes.
//! - **UTF-8**: when every pattern is valid UTF-8, every *character* can be
//!   a symbol, as in daachorse's charwise automaton. A three-byte CJK
//!   character then costs one transition instead of three, and the trie has
//!   a third of the states. The haystack stays `&[u8]`: it is decoded on the
//!   fly, and any byte that does not begin a well-formed character (a stray
//!   continuation byte, a truncated or overlong sequence, a surrogate) is a
//!   dead symbol. A valid-UTF-8 pattern can only occur at character
//!   boundaries of well-formed characters, and the decoder never swallows a
//!   lead byte into a malformed sequence, so no occurrence is missed. A
//!   character split across two calls is carried in the cursor.

/// Result of decoding at one position of a chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decoded {
    /// A well-formed character of `len` bytes, with its code point.
    Char { cp: u32, len: usize },
    /// The byte at the position begins no well-formed character.
    Invalid,
    /// The bytes up to the end of the chunk are a well-formed but unfinished
    /// character.
    Incomplete,
}

/// For each lead byte: sequence length and the allowed range of the first
/// continuation byte (Unicode Table 3-7). Length 0 marks bytes that cannot
/// begin a multi-byte sequence.
const fn lead_table() -> [(u8, u8, u8); 256] {
    let mut t = [(0u8, 0u8, 0u8); 256];
    let mut b = 0xC2;
    while b <= 0xDF {
        t[b] = (2, 0x80, 0xBF);
        b += 1;
    }
    t[0xE0] = (3, 0xA0, 0xBF);
    let mut b = 0xE1;
    while b <= 0xEF {
        t[b] = (3, 0x80, 0xBF);
        b += 1;
    }
    t[0xED] = (3, 0x80, 0x9F);
    t[0xF0] = (4, 0x90, 0xBF);
    t[0xF1] = (4, 0x80, 0xBF);
    t[0xF2] = (4, 0x80, 0xBF);
    t[0xF3] = (4, 0x80, 0xBF);
    t[0xF4] = (4, 0x80, 0x8F);
    t
}

static LEAD: [(u8, u8, u8); 256] = lead_table();

/// Decodes the multi-byte sequence starting at `bytes[0]` (which must be
/// `>= 0x80`), validating as `std::str::from_utf8` does.
#[inline(always)]
pub(crate) fn decode_multi(bytes: &[u8]) -> Decoded {
    let b0 = bytes[0];
    let (len, lo, hi) = LEAD[b0 as usize];
    if len == 0 {
        return Decoded::Invalid;
    }
    let len = len as usize;
    let Some(&b1) = bytes.get(1) else {
        return Decoded::Incomplete;
    };
    if b1 < lo || b1 > hi {
        return Decoded::Invalid;
    }
    let mut cp = (u32::from(b0) & (0x7F >> len)) << 6 | (u32::from(b1) & 0x3F);
    let mut k = 2;
    while k < len {
        let Some(&b) = bytes.get(k) else {
            return Decoded::Incomplete;
        };
        if b & 0xC0 != 0x80 {
            return Decoded::Invalid;
        }
        cp = cp << 6 | (u32::from(b) & 0x3F);
        k += 1;
    }
    Decoded::Char { cp, len }
}

/// Symbol codes of one automaton.
#[derive(Clone, Debug)]
pub(crate) struct Alphabet {
    /// Bytes kind: the code of every byte. UTF-8 kind: the code of each ASCII
    /// byte (entries 0x80 and up are unused).
    pub(crate) byte_codes: [u32; 256],
    /// UTF-8 kind: the code of each code point up to the largest one in the
    /// patterns; empty for the bytes kind.
    pub(crate) cp_codes: Box<[u32]>,
    /// Whether symbols are characters.
    pub(crate) utf8: bool,
    /// The code of every byte or character that occurs in no pattern.
    pub(crate) dead: u32,
    /// Number of codes, the dead one included when it can occur.
    pub(crate) len: usize,
}

impl Alphabet {
    /// Whether these patterns can have a charwise alphabet: all are valid
    /// UTF-8.
    pub(crate) fn can_be_charwise(pats: &[&[u8]]) -> bool {
        pats.iter().all(|p| std::str::from_utf8(p).is_ok())
    }

    /// The bytes alphabet: every byte a symbol, the bytes of no pattern
    /// sharing the dead code.
    pub(crate) fn bytes(pats: &[&[u8]]) -> Alphabet {
        let mut freq = vec![0u64; 256];
        for p in pats {
            for &b in *p {
                freq[b as usize] += 1;
            }
        }
        let codes = codes_by_frequency(&freq);
        let live = codes.iter().filter(|&&c| c != u32::MAX).count() as u32;
        let dead = live;
        let mut byte_codes = [dead; 256];
        for (b, &c) in codes.iter().enumerate() {
            if c != u32::MAX {
                byte_codes[b] = c;
            }
        }
        Alphabet {
            byte_codes,
            cp_codes: Box::new([]),
            utf8: false,
            dead,
            len: if live == 256 { 256 } else { live as usize + 1 },
        }
    }

    /// The UTF-8 alphabet: every character a symbol. Requires
    /// [`Alphabet::can_be_charwise`].
    pub(crate) fn chars(pats: &[&[u8]]) -> Alphabet {
        let max_cp = pats
            .iter()
            .flat_map(|p| std::str::from_utf8(p).unwrap_or_default().chars())
            .map(u32::from)
            .max()
            .unwrap_or(0);
        let mut freq = vec![0u64; max_cp as usize + 1];
        for p in pats {
            for c in std::str::from_utf8(p).unwrap_or_default().chars() {
                freq[c as usize] += 1;
            }
        }
        let codes = codes_by_frequency(&freq);
        let live = codes.iter().filter(|&&c| c != u32::MAX).count() as u32;
        let dead = live;
        let cp_codes: Box<[u32]> = codes
            .iter()
            .map(|&c| if c == u32::MAX { dead } else { c })
            .collect();
        let mut byte_codes = [dead; 256];
        for (b, code) in byte_codes.iter_mut().enumerate().take(128) {
            if let Some(&c) = cp_codes.get(b) {
                *code = c;
            }
        }
        Alphabet {
            byte_codes,
            cp_codes,
            utf8: true,
            dead,
            len: live as usize + 1,
        }
    }

    /// The code and byte length of the symbol at `p[at..]` of a pattern.
    pub(crate) fn symbol_at(&self, p: &[u8], at: usize) -> (u32, usize) {
        let b = p[at];
        if !self.utf8 || b < 0x80 {
            return (self.byte_codes[b as usize], 1);
        }
        match decode_multi(&p[at..]) {
            Decoded::Char { cp, len } => (self.cp_code(cp), len),
            // Patterns of the UTF-8 kind are validated at build time.
            Decoded::Invalid | Decoded::Incomplete => (self.dead, 1),
        }
    }

    /// The code of a code point (dead when no pattern has it).
    #[inline(always)]
    pub(crate) fn cp_code(&self, cp: u32) -> u32 {
        cp_code(&self.cp_codes, cp, self.dead)
    }

    /// Heap bytes owned.
    pub(crate) fn heap_bytes(&self) -> usize {
        std::mem::size_of_val(&*self.cp_codes)
    }
}

/// The code of a code point in `cp_codes` (an [`Alphabet`]'s), `dead` when
/// no pattern has it.
#[inline(always)]
pub(crate) fn cp_code(cp_codes: &[u32], cp: u32, dead: u32) -> u32 {
    cp_codes.get(cp as usize).copied().unwrap_or(dead)
}

/// Codes `0..` for the symbols with non-zero frequency, most frequent first
/// (ties by symbol); `u32::MAX` for the others.
fn codes_by_frequency(freq: &[u64]) -> Vec<u32> {
    let mut live: Vec<u32> = (0..freq.len() as u32)
        .filter(|&s| freq[s as usize] > 0)
        .collect();
    live.sort_by(|&a, &b| freq[b as usize].cmp(&freq[a as usize]).then(a.cmp(&b)));
    let mut codes = vec![u32::MAX; freq.len()];
    for (code, &s) in live.iter().enumerate() {
        codes[s as usize] = code as u32;
    }
    codes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoder_agrees_with_std_on_every_short_sequence() {
        // Every 1..=3-byte sequence over interesting bytes, and a sample of
        // 4-byte ones, against std's validator.
        let interesting: Vec<u8> = (0x00..=0xFFu8)
            .filter(|b| {
                matches!(
                    b,
                    0x00 | 0x41
                        | 0x7F
                        | 0x80
                        | 0x8F
                        | 0x90
                        | 0x9F
                        | 0xA0
                        | 0xBF
                        | 0xC0
                        | 0xC1
                        | 0xC2
                        | 0xDF
                        | 0xE0
                        | 0xE1
                        | 0xEC
                        | 0xED
                        | 0xEE
                        | 0xEF
                        | 0xF0
                        | 0xF1
                        | 0xF3
                        | 0xF4
                        | 0xF5
                        | 0xFF
                )
            })
            .collect();
        let mut seqs: Vec<Vec<u8>> = Vec::new();
        for &a in &interesting {
            seqs.push(vec![a]);
            for &b in &interesting {
                seqs.push(vec![a, b]);
                for &c in &interesting {
                    seqs.push(vec![a, b, c]);
                    seqs.push(vec![a, b, c, 0x80]);
                    seqs.push(vec![a, b, c, 0xBF]);
                }
            }
        }
        for s in seqs {
            if s[0] < 0x80 {
                continue;
            }
            let got = decode_multi(&s);
            match std::str::from_utf8(&s) {
                Ok(text) => {
                    let c = text.chars().next().unwrap();
                    if c.len_utf8() == s.len() {
                        assert_eq!(
                            got,
                            Decoded::Char {
                                cp: c as u32,
                                len: s.len()
                            },
                            "{s:x?}"
                        );
                    }
                }
                Err(e) => {
                    if e.valid_up_to() == 0 {
                        match e.error_len() {
                            // Malformed at the start: a dead byte.
                            Some(_) => assert_eq!(got, Decoded::Invalid, "{s:x?}"),
                            // Unfinished but well-formed so far.
                            None => assert_eq!(got, Decoded::Incomplete, "{s:x?}"),
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn charwise_needs_valid_utf8() {
        assert!(Alphabet::can_be_charwise(&[b"abc", b"ab"]));
        assert!(Alphabet::can_be_charwise(&["中文".as_bytes(), b"ab"]));
        assert!(
            !Alphabet::can_be_charwise(&["中文".as_bytes(), b"\xFF"]),
            "invalid UTF-8 forces bytes"
        );
        let a = Alphabet::chars(&["中文".as_bytes(), b"ab"]);
        assert!(a.utf8);
        // 中, 文, a, b and the dead code.
        assert_eq!(a.len, 5);
    }
}
