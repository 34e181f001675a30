//! One chunk through the literal engine: the head by the automaton, the
//! rest by the finder and verification, then the automaton's state rebuilt
//! for the cursor (see the module documentation of `literal`).
//!
//! The finder loop is generic over the [`Finder`]; the SIMD ones are
//! compiled inside a `#[target_feature]` function each, with everything
//! below them (`find_with`, the block, verification and the variant's
//! `on_hit`) inlined into it, so the intrinsics are compiled for the
//! instruction set they need and called only when `Isa::detect` found it.

use super::finder::{Finder, Scalar};
use super::masks::K;
use super::SHORT;
use super::{Isa, Literal};
use crate::automaton::scan::Walk;
use crate::automaton::Automaton;
use crate::Hit;

impl Automaton {
    /// Walks `chunk` (at least `lit.min_chunk()` bytes, at absolute
    /// `offset`) from `st` with the literal engine, calling `on_hit` at
    /// every end where some pattern ends, in order; `st` becomes the state
    /// after the chunk.
    ///
    /// Never allocates.
    #[inline(always)]
    pub(in crate::automaton) fn drive_literal<W: Walk, E>(
        &self,
        lit: &Literal,
        walk: &W,
        st: &mut W::State,
        chunk: &[u8],
        offset: usize,
        on_hit: &mut impl FnMut(Hit) -> Result<(), E>,
    ) -> Result<(), E> {
        debug_assert!(chunk.len() >= lit.min_chunk());
        #[cfg(test)]
        crate::automaton::scan::trace::add(&crate::automaton::scan::trace::LITERAL, 1);
        // Ends `1..=head`: matches that may have begun before the chunk.
        let mut i = 0;
        self.walk_plain(walk, st, chunk, &mut i, lit.head, offset, on_hit)?;
        // Ends after `i`: every byte of their matches is in the chunk.
        lit.find(self, chunk, i, offset, on_hit)?;
        // The state after the chunk, from its last `max_len` bytes.
        let mut s = walk.root();
        let mut j = chunk.len() - lit.max_len;
        while j < chunk.len() {
            walk.step(&mut s, chunk, &mut j);
        }
        *st = s;
        Ok(())
    }
}

impl Literal {
    /// Reports the hits whose last byte is at `from..` of `chunk`
    /// (`from >= K - 1`, at least one block before the end), with the
    /// finder of `self.isa`.
    #[inline(always)]
    fn find<E>(
        &self,
        ac: &Automaton,
        chunk: &[u8],
        from: usize,
        offset: usize,
        on_hit: &mut impl FnMut(Hit) -> Result<(), E>,
    ) -> Result<(), E> {
        assert!(from >= K - 1 && chunk.len() >= from + 64);
        let short = self.n == SHORT;
        match self.isa {
            // SAFETY: `Isa::Avx512`, `Isa::Avx2` and `Isa::Ssse3` are only
            // ever set by `Isa::detect`, after the CPU said it has them; the
            // bounds `find_with` needs are asserted above. With `SHORT`
            // bytes the masks admit everything from `SHORT` on (`new`).
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 if short => unsafe {
                find_avx512::<SHORT, E>(self, ac, chunk, from, offset, on_hit)
            },
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => unsafe { find_avx512::<K, E>(self, ac, chunk, from, offset, on_hit) },
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 if short => unsafe {
                find_avx2::<SHORT, E>(self, ac, chunk, from, offset, on_hit)
            },
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => unsafe { find_avx2::<K, E>(self, ac, chunk, from, offset, on_hit) },
            #[cfg(target_arch = "x86_64")]
            Isa::Ssse3 if short => unsafe {
                find_ssse3::<SHORT, E>(self, ac, chunk, from, offset, on_hit)
            },
            #[cfg(target_arch = "x86_64")]
            Isa::Ssse3 => unsafe { find_ssse3::<K, E>(self, ac, chunk, from, offset, on_hit) },
            // SAFETY: the scalar finder needs no instruction set; bounds
            // as above.
            _ => unsafe { find_with::<Scalar, K, E>(self, ac, chunk, from, offset, on_hit) },
        }
    }

    /// Verifies the candidates `bits` (bit `k`: last byte at `p + k`) and
    /// reports the hits, in order.
    #[inline(always)]
    fn verify<E>(
        &self,
        ac: &Automaton,
        chunk: &[u8],
        p: usize,
        mut bits: u64,
        offset: usize,
        on_hit: &mut impl FnMut(Hit) -> Result<(), E>,
    ) -> Result<(), E> {
        while bits != 0 {
            let end = p + bits.trailing_zeros() as usize + 1;
            bits &= bits - 1;
            if !self.confirm.admits(chunk, end) {
                continue;
            }
            let out = self.reverse.longest(chunk, end);
            if out != 0 {
                on_hit(ac.hit(offset + end, out))?;
            }
        }
        Ok(())
    }

    /// The positions `from..` of `chunk` whose byte may end a pattern, by
    /// the finder `isa`, as a list: for tests comparing the finders.
    #[cfg(test)]
    pub(crate) fn candidates(&self, chunk: &[u8], from: usize, isa: Isa) -> Vec<usize> {
        let run = |p: usize| -> u64 {
            // SAFETY: the test only asks for finders the CPU has (it checks
            // `Isa::detect`), and `p` is in bounds below.
            unsafe {
                let at = chunk.as_ptr().add(p);
                match isa {
                    #[cfg(target_arch = "x86_64")]
                    Isa::Avx512 => block_avx512(self, at),
                    #[cfg(target_arch = "x86_64")]
                    Isa::Avx2 => block_avx2(self, at),
                    #[cfg(target_arch = "x86_64")]
                    Isa::Ssse3 => block_ssse3(self, at),
                    _ => Scalar::block::<K>(&self.masks, &(), at),
                }
            }
        };
        let width = match isa {
            Isa::Avx512 => 64,
            Isa::Avx2 => 32,
            _ => 16,
        };
        let mut out = Vec::new();
        let mut p = from;
        while p + width <= chunk.len() {
            let bits = run(p);
            out.extend((0..width).filter(|k| bits >> k & 1 == 1).map(|k| p + k));
            p += width;
        }
        let exact = isa.exact();
        out.extend((p..chunk.len()).filter(|&q| self.masks.candidate(chunk, q, exact)));
        out
    }
}

/// One block of the AVX-512 finder, for `Literal::candidates`.
///
/// # Safety
///
/// As [`Finder::block`].
#[cfg(all(test, target_arch = "x86_64"))]
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
unsafe fn block_avx512(lit: &Literal, p: *const u8) -> u64 {
    use super::finder::Avx512;
    // SAFETY: forwarded from the caller.
    unsafe { Avx512::block::<K>(&lit.masks, &Avx512::prepare(&lit.masks), p) }
}

/// One block of the AVX2 finder, for `Literal::candidates`.
///
/// # Safety
///
/// As [`Finder::block`].
#[cfg(all(test, target_arch = "x86_64"))]
#[target_feature(enable = "avx2")]
unsafe fn block_avx2(lit: &Literal, p: *const u8) -> u64 {
    use super::finder::Avx2;
    // SAFETY: forwarded from the caller.
    unsafe { Avx2::block::<K>(&lit.masks, &Avx2::prepare(&lit.masks), p) }
}

/// One block of the SSSE3 finder, for `Literal::candidates`.
///
/// # Safety
///
/// As [`Finder::block`].
#[cfg(all(test, target_arch = "x86_64"))]
#[target_feature(enable = "ssse3")]
unsafe fn block_ssse3(lit: &Literal, p: *const u8) -> u64 {
    use super::finder::Ssse3;
    // SAFETY: forwarded from the caller.
    unsafe { Ssse3::block::<K>(&lit.masks, &Ssse3::prepare(&lit.masks), p) }
}

/// `find_with` compiled for AVX-512 F, BW and VBMI.
///
/// # Safety
///
/// The CPU has them; bounds as `find_with`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
unsafe fn find_avx512<const N: usize, E>(
    lit: &Literal,
    ac: &Automaton,
    chunk: &[u8],
    from: usize,
    offset: usize,
    on_hit: &mut impl FnMut(Hit) -> Result<(), E>,
) -> Result<(), E> {
    use super::finder::Avx512;
    // SAFETY: forwarded from the caller.
    unsafe { find_with::<Avx512, N, E>(lit, ac, chunk, from, offset, on_hit) }
}

/// `find_with` compiled for AVX2.
///
/// # Safety
///
/// The CPU has AVX2; bounds as `find_with`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn find_avx2<const N: usize, E>(
    lit: &Literal,
    ac: &Automaton,
    chunk: &[u8],
    from: usize,
    offset: usize,
    on_hit: &mut impl FnMut(Hit) -> Result<(), E>,
) -> Result<(), E> {
    use super::finder::Avx2;
    // SAFETY: forwarded from the caller.
    unsafe { find_with::<Avx2, N, E>(lit, ac, chunk, from, offset, on_hit) }
}

/// `find_with` compiled for SSSE3.
///
/// # Safety
///
/// The CPU has SSSE3; bounds as `find_with`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "ssse3")]
unsafe fn find_ssse3<const N: usize, E>(
    lit: &Literal,
    ac: &Automaton,
    chunk: &[u8],
    from: usize,
    offset: usize,
    on_hit: &mut impl FnMut(Hit) -> Result<(), E>,
) -> Result<(), E> {
    use super::finder::Ssse3;
    // SAFETY: forwarded from the caller.
    unsafe { find_with::<Ssse3, N, E>(lit, ac, chunk, from, offset, on_hit) }
}

/// The finder loop: blocks of `F::WIDTH` positions from `from`, then one
/// last block that overlaps the one before it, its already-seen positions
/// masked off.
///
/// # Safety
///
/// The CPU has `F`'s instruction set; `from >= K - 1` and
/// `chunk.len() >= from + F::WIDTH`.
#[inline(always)]
unsafe fn find_with<F: Finder, const N: usize, E>(
    lit: &Literal,
    ac: &Automaton,
    chunk: &[u8],
    from: usize,
    offset: usize,
    on_hit: &mut impl FnMut(Hit) -> Result<(), E>,
) -> Result<(), E> {
    let len = chunk.len();
    let base = chunk.as_ptr();
    // SAFETY: the caller vouches for the instruction set.
    let prepared = unsafe { F::prepare(&lit.masks) };
    let mut p = from;
    while p + F::WIDTH <= len {
        // SAFETY: `p - (K - 1) >= 0` as `p >= from >= K - 1`, and
        // `p + WIDTH <= len`.
        let bits = unsafe { F::block::<N>(&lit.masks, &prepared, base.add(p)) };
        if bits != 0 {
            lit.verify(ac, chunk, p, bits, offset, on_hit)?;
        }
        p += F::WIDTH;
    }
    if p < len {
        let q = len - F::WIDTH;
        // SAFETY: `q >= from` since `len >= from + WIDTH`, and
        // `q + WIDTH == len`.
        let bits = unsafe { F::block::<N>(&lit.masks, &prepared, base.add(q)) };
        let bits = bits & (u64::MAX << (p - q));
        if bits != 0 {
            lit.verify(ac, chunk, q, bits, offset, on_hit)?;
        }
    }
    Ok(())
}
