//! The candidate finders: one block of text positions at a time, a bit per
//! position where some pattern may end. Three implementations with the
//! same results bit for bit: AVX2 (32 positions a block), SSSE3 (16), and
//! a scalar fallback (16) that reads the byte tables.
//!
//! For a block whose first position is `p` (a position is the index of a
//! pattern's *last* byte), the vector finders load the text at `p`,
//! `p - 1`, ..., `p - (K - 1)`: lane `i` of the load at `p - j` is the byte
//! `j` places before position `p + i`. Each load is split into its two
//! 4-bit keys, each key looked up in its 16-entry mask with one `pshufb`,
//! the two lookups ANDed, and the `K` results ANDed: a lane left non-zero
//! names buckets that may end there. That is done for each half of the
//! buckets (eight per byte lane) and the halves ORed. Overlapping
//! unaligned loads replace Teddy's carried registers and byte shifts
//! across blocks, so blocks are independent of each other.

use super::masks::{Buckets, Masks, K};

/// One way of finding candidates; see the module documentation.
pub(crate) trait Finder {
    /// Positions per block.
    const WIDTH: usize;
    /// The masks as this finder wants them in registers.
    type Prepared: Copy;

    /// The masks, prepared once per scan.
    ///
    /// # Safety
    ///
    /// The CPU has the finder's instruction set (see [`super::Isa`]).
    unsafe fn prepare(masks: &Masks) -> Self::Prepared;

    /// Bit `i` set when a pattern may end with the byte at `p + i`,
    /// looking at the last `N <= K` bytes only (the vector finders; the
    /// scalar one looks at all `K`): the masks' positions from `N` on must
    /// admit every byte (`Masks::new` with `n <= N`).
    ///
    /// # Safety
    ///
    /// As `prepare`, and `p - (K - 1) .. p + WIDTH` is readable.
    unsafe fn block<const N: usize>(masks: &Masks, prepared: &Self::Prepared, p: *const u8) -> u64;
}

/// The fallback: the byte tables, one position at a time.
pub(crate) struct Scalar;

impl Finder for Scalar {
    const WIDTH: usize = 16;
    type Prepared = ();

    #[inline(always)]
    unsafe fn prepare(_: &Masks) {}

    #[inline(always)]
    unsafe fn block<const N: usize>(masks: &Masks, (): &(), p: *const u8) -> u64 {
        let mut bits = 0;
        for i in 0..Self::WIDTH {
            let mut acc = Buckets::MAX;
            for j in 0..K {
                // SAFETY: `p + i - j` is in the readable range the caller
                // vouches for (`i < WIDTH`, `j < K`).
                let x = unsafe { *p.add(i).sub(j) };
                acc &= masks.byte[j][usize::from(x)];
            }
            bits |= u64::from(acc != 0) << i;
        }
        bits
    }
}

#[cfg(target_arch = "x86_64")]
pub(crate) use x86::{Avx2, Avx512, Ssse3};

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::{
        __m128i, __m256i, _mm256_and_si256, _mm256_broadcastsi128_si256, _mm256_cmpeq_epi8,
        _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_or_si256, _mm256_set1_epi8,
        _mm256_setzero_si256, _mm256_shuffle_epi8, _mm256_srli_epi16, _mm_and_si128,
        _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
        _mm_setzero_si128, _mm_shuffle_epi8, _mm_srli_epi16,
    };

    use std::arch::x86_64::{
        __m512i, _mm512_and_si512, _mm512_loadu_si512, _mm512_or_si512, _mm512_permutex2var_epi8,
        _mm512_set1_epi8, _mm512_setzero_si512, _mm512_test_epi8_mask,
    };

    use super::{Finder, Masks, K};

    /// 16 positions a block with SSSE3's `pshufb`.
    pub(crate) struct Ssse3;

    impl Finder for Ssse3 {
        const WIDTH: usize = 16;
        type Prepared = [[[__m128i; 2]; K]; 2];

        #[inline(always)]
        unsafe fn prepare(masks: &Masks) -> Self::Prepared {
            // SAFETY: unaligned loads of 16-byte arrays; SSE2 is baseline.
            std::array::from_fn(|h| {
                std::array::from_fn(|j| unsafe {
                    [
                        _mm_loadu_si128(masks.lo[h][j].as_ptr().cast()),
                        _mm_loadu_si128(masks.mid[h][j].as_ptr().cast()),
                    ]
                })
            })
        }

        #[inline(always)]
        unsafe fn block<const N: usize>(_: &Masks, m: &Self::Prepared, p: *const u8) -> u64 {
            // SAFETY: the caller vouches for SSSE3 and for the bytes
            // `p - (K - 1) .. p + 16`, which is what the loads read.
            unsafe {
                let four = _mm_set1_epi8(0x0F);
                let mut keys = [[_mm_setzero_si128(); 2]; N];
                for (j, k) in keys.iter_mut().enumerate() {
                    let v = _mm_loadu_si128(p.sub(j).cast());
                    *k = [
                        _mm_and_si128(v, four),
                        _mm_and_si128(_mm_srli_epi16::<3>(v), four),
                    ];
                }
                let mut any = _mm_setzero_si128();
                for half in m {
                    let mut acc = _mm_set1_epi8(-1);
                    for ([lo, mid], [l, n]) in half.iter().zip(&keys) {
                        let r =
                            _mm_and_si128(_mm_shuffle_epi8(*lo, *l), _mm_shuffle_epi8(*mid, *n));
                        acc = _mm_and_si128(acc, r);
                    }
                    any = _mm_or_si128(any, acc);
                }
                let empty = _mm_movemask_epi8(_mm_cmpeq_epi8(any, _mm_setzero_si128()));
                u64::from(!(empty as u32) & 0xFFFF)
            }
        }
    }

    /// 32 positions a block with AVX2's `vpshufb` (the 16-entry masks in
    /// both 128-bit lanes).
    pub(crate) struct Avx2;

    impl Finder for Avx2 {
        const WIDTH: usize = 32;
        type Prepared = [[[__m256i; 2]; K]; 2];

        #[inline(always)]
        unsafe fn prepare(masks: &Masks) -> Self::Prepared {
            // SAFETY: unaligned loads of 16-byte arrays; the caller
            // vouches for AVX2.
            let wide = |a: &[u8; 16]| unsafe {
                _mm256_broadcastsi128_si256(_mm_loadu_si128(a.as_ptr().cast()))
            };
            std::array::from_fn(|h| {
                std::array::from_fn(|j| [wide(&masks.lo[h][j]), wide(&masks.mid[h][j])])
            })
        }

        #[inline(always)]
        unsafe fn block<const N: usize>(_: &Masks, m: &Self::Prepared, p: *const u8) -> u64 {
            // SAFETY: the caller vouches for AVX2 and for the bytes
            // `p - (K - 1) .. p + 32`, which is what the loads read.
            unsafe {
                let four = _mm256_set1_epi8(0x0F);
                let mut keys = [[_mm256_setzero_si256(); 2]; N];
                for (j, k) in keys.iter_mut().enumerate() {
                    let v = _mm256_loadu_si256(p.sub(j).cast());
                    *k = [
                        _mm256_and_si256(v, four),
                        _mm256_and_si256(_mm256_srli_epi16::<3>(v), four),
                    ];
                }
                let mut any = _mm256_setzero_si256();
                for half in m {
                    let mut acc = _mm256_set1_epi8(-1);
                    for ([lo, mid], [l, n]) in half.iter().zip(&keys) {
                        let r = _mm256_and_si256(
                            _mm256_shuffle_epi8(*lo, *l),
                            _mm256_shuffle_epi8(*mid, *n),
                        );
                        acc = _mm256_and_si256(acc, r);
                    }
                    any = _mm256_or_si256(any, acc);
                }
                let empty = _mm256_movemask_epi8(_mm256_cmpeq_epi8(any, _mm256_setzero_si256()));
                u64::from(!(empty as u32))
            }
        }
    }

    /// 64 positions a block with AVX-512 VBMI's `vpermi2b`: one lookup in
    /// a 128-entry table (two registers) per position and half, exact on
    /// the low seven bits of the byte (`Masks::exact`), where the nibble
    /// finders combine two 16-entry lookups.
    pub(crate) struct Avx512;

    impl Finder for Avx512 {
        const WIDTH: usize = 64;
        type Prepared = [[[__m512i; 2]; K]; 2];

        #[inline(always)]
        unsafe fn prepare(masks: &Masks) -> Self::Prepared {
            // SAFETY: unaligned loads of 64 bytes from 128-byte arrays; the
            // caller vouches for AVX-512.
            let load =
                |t: &[u8; 128], at: usize| unsafe { _mm512_loadu_si512(t.as_ptr().add(at).cast()) };
            std::array::from_fn(|h| {
                std::array::from_fn(|j| {
                    let t = &masks.exact[h][j];
                    [load(t, 0), load(t, 64)]
                })
            })
        }

        #[inline(always)]
        unsafe fn block<const N: usize>(_: &Masks, m: &Self::Prepared, p: *const u8) -> u64 {
            // SAFETY: the caller vouches for AVX-512 F, BW and VBMI and for
            // the bytes `p - (K - 1) .. p + 64`, which is what the loads
            // read.
            unsafe {
                let mut bytes = [_mm512_setzero_si512(); N];
                for (j, v) in bytes.iter_mut().enumerate() {
                    *v = _mm512_loadu_si512(p.sub(j).cast());
                }
                let mut any = _mm512_setzero_si512();
                for half in m {
                    let mut acc = _mm512_set1_epi8(-1);
                    for ([low, high], v) in half.iter().zip(&bytes) {
                        // Index bits 0..=5 pick the byte, bit 6 the
                        // register; bit 7 is ignored.
                        let r = _mm512_permutex2var_epi8(*low, *v, *high);
                        acc = _mm512_and_si512(acc, r);
                    }
                    any = _mm512_or_si512(any, acc);
                }
                _mm512_test_epi8_mask(any, any)
            }
        }
    }
}
