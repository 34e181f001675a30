//! Our variants and the peers behind one interface, and the check that they
//! all find the same matches before anything is timed.
//!
//! # What one operation is
//!
//! One *op* (criterion iteration) finds every overlapping match in the whole
//! haystack and hands each to `black_box`:
//!
//! - our variants make one call per [`acmatch::DEFAULT_CHUNK`]-byte chunk,
//!   carrying the [`Cursor`] from one call to the next, as the original Go
//!   benchmark and escape-lab's own passes do;
//! - the peers have no chunked interface (neither crate can resume a search
//!   from a saved state), so they make one overlapping find-all over the
//!   whole haystack.
//!
//! Both cover the same bytes and report the same matches (checked), so bytes
//! per second compare like for like; ours pays a call per chunk and the
//! peers do not, which favours the peers slightly. Timing one chunk call
//! instead would not be fair to them, because they could only restart from
//! the root state at each chunk and would miss matches that cross chunk
//! boundaries (and do less work).

use std::hint::black_box;
use std::time::{Duration, Instant};

use acmatch::{chunks, Automaton, Cursor, Match, Matcher, Variant};
use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use daachorse::{CharwiseDoubleArrayAhoCorasick, DoubleArrayAhoCorasick};

/// The peers' benchmark ids, in table order.
pub const PEER_IDS: [&str; 4] = [AC_DFA, AC_NFA, DAACHORSE_BYTEWISE, DAACHORSE_CHARWISE];

/// `aho-corasick`'s DFA.
pub const AC_DFA: &str = "aho-corasick-dfa";
/// `aho-corasick`'s contiguous NFA.
pub const AC_NFA: &str = "aho-corasick-nfa";
/// `daachorse`'s `DoubleArrayAhoCorasick`.
pub const DAACHORSE_BYTEWISE: &str = "daachorse-bytewise";
/// `daachorse`'s `CharwiseDoubleArrayAhoCorasick`.
pub const DAACHORSE_CHARWISE: &str = "daachorse-charwise";
/// Hyperscan, with `--features hyperscan` (see `common::hyperscan`): the
/// frontier beyond the Rust crates, never counted as the fastest peer.
pub const HYPERSCAN: &str = "hyperscan";

/// Whether this build has Hyperscan (`--features hyperscan`).
pub const HAS_HYPERSCAN: bool = cfg!(feature = "hyperscan");

/// In an unoptimised build ([`super::UNOPTIMISED`], `cargo test --benches`)
/// the aho-corasick DFA is not benchmarked over more than this many
/// patterns: over the article dictionaries building it takes 2 to 9 s there.
pub const UNOPTIMISED_DFA_MAX_PATTERNS: usize = 10_000;

/// Whether the peer `id` is benchmarked over `patterns` patterns in this
/// build (see [`UNOPTIMISED_DFA_MAX_PATTERNS`]).
pub fn peer_fits_build(id: &str, patterns: usize) -> bool {
    !(super::UNOPTIMISED && id == AC_DFA && patterns > UNOPTIMISED_DFA_MAX_PATTERNS)
}

/// Bytes compared match by match between every engine and the reference.
pub const SAMPLE_BYTES: usize = 64 * 1024;

/// A haystack, with its text when it is valid UTF-8 (which charwise
/// daachorse needs).
#[derive(Clone, Copy, Debug)]
pub struct Haystack<'h> {
    /// The bytes.
    pub bytes: &'h [u8],
    /// The same bytes as text, when they are UTF-8.
    pub text: Option<&'h str>,
}

impl<'h> Haystack<'h> {
    /// Wraps `bytes`, checking once whether they are UTF-8.
    pub fn new(bytes: &'h [u8]) -> Haystack<'h> {
        Haystack {
            bytes,
            text: std::str::from_utf8(bytes).ok(),
        }
    }

    /// The first `max` bytes at most, cut back to a character boundary when
    /// the haystack is text so that the prefix stays text.
    pub fn prefix(&self, max: usize) -> Haystack<'h> {
        let mut end = max.min(self.bytes.len());
        if let Some(text) = self.text {
            while !text.is_char_boundary(end) {
                end -= 1;
            }
        }
        Haystack::new(&self.bytes[..end])
    }

    /// The length in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }
}

/// Whether an engine is one of our variants, a peer, or the frontier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// An `acmatch` variant.
    Variant,
    /// Another Rust crate: the fastest of them is what ours is measured
    /// against.
    Peer,
    /// Hyperscan: shown with its own ratio, never the fastest peer.
    Frontier,
}

impl Kind {
    /// `"variant"`, `"peer"` or `"frontier"`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Variant => "variant",
            Kind::Peer => "peer",
            Kind::Frontier => "frontier",
        }
    }
}

/// One thing that finds matches: a variant over a shared automaton, or a
/// peer's automaton.
pub enum Engine<'a> {
    /// An `acmatch` variant, called once per chunk.
    Ours {
        /// The shared automaton.
        ac: &'a Automaton,
        /// The variant's matcher (its buffers live across ops, as a caller's
        /// would).
        matcher: acmatch::AnyMatcher,
        /// Bytes per call.
        chunk: usize,
    },
    /// `aho-corasick`, DFA or contiguous NFA.
    AhoCorasick {
        /// [`AC_DFA`] or [`AC_NFA`].
        id: &'static str,
        /// The automaton.
        ac: AhoCorasick,
    },
    /// `daachorse`, one byte at a time.
    DaachorseBytewise(DoubleArrayAhoCorasick<u32>),
    /// `daachorse`, one character at a time.
    DaachorseCharwise(CharwiseDoubleArrayAhoCorasick<u32>),
    /// Hyperscan, literals, block mode.
    #[cfg(feature = "hyperscan")]
    Hyperscan(super::hyperscan::Hyperscan),
}

impl<'a> Engine<'a> {
    /// The variant's matcher over `ac`, `chunk` bytes per call.
    pub fn ours(variant: Variant, ac: &'a Automaton, chunk: usize) -> Engine<'a> {
        Engine::Ours {
            ac,
            matcher: variant.matcher(),
            chunk,
        }
    }

    /// The benchmark id: the variant's name or one of [`PEER_IDS`].
    pub fn id(&self) -> &'static str {
        match self {
            Engine::Ours { matcher, .. } => matcher.variant().name(),
            Engine::AhoCorasick { id, .. } => id,
            Engine::DaachorseBytewise(_) => DAACHORSE_BYTEWISE,
            Engine::DaachorseCharwise(_) => DAACHORSE_CHARWISE,
            #[cfg(feature = "hyperscan")]
            Engine::Hyperscan(_) => HYPERSCAN,
        }
    }

    /// Variant, peer or frontier.
    pub fn kind(&self) -> Kind {
        match self {
            Engine::Ours { .. } => Kind::Variant,
            #[cfg(feature = "hyperscan")]
            Engine::Hyperscan(_) => Kind::Frontier,
            _ => Kind::Peer,
        }
    }

    /// Match calls one op makes on `h`.
    pub fn calls_per_op(&self, h: &Haystack<'_>) -> u64 {
        match self {
            Engine::Ours { chunk, .. } => chunks(h.bytes, *chunk).count() as u64,
            _ => 1,
        }
    }

    /// The automaton's heap memory in bytes, as each crate reports it
    /// (Hyperscan: its database, without its scratch space).
    pub fn heap_bytes(&self) -> usize {
        match self {
            Engine::Ours { ac, .. } => ac.heap_bytes(),
            Engine::AhoCorasick { ac, .. } => ac.memory_usage(),
            Engine::DaachorseBytewise(d) => d.heap_bytes(),
            Engine::DaachorseCharwise(d) => d.heap_bytes(),
            #[cfg(feature = "hyperscan")]
            Engine::Hyperscan(hs) => hs.heap_bytes(),
        }
    }

    /// One op: every overlapping match in `h`, each passed to `visit`;
    /// returns how many there were.
    ///
    /// # Errors
    ///
    /// The message of [`acmatch::MatchError::BufferFull`] from the
    /// fixed-capacity variants when a chunk has more hits or tokens than they
    /// hold; and, for charwise daachorse, a haystack that is not UTF-8.
    #[inline]
    pub fn run<F: FnMut(Match)>(&mut self, h: &Haystack<'_>, mut visit: F) -> Result<u64, String> {
        let mut n = 0u64;
        match self {
            Engine::Ours { ac, matcher, chunk } => {
                let mut cursor = Cursor::new();
                for c in chunks(h.bytes, *chunk) {
                    let found = matcher
                        .find_chunk(ac, &mut cursor, c, &mut visit)
                        .map_err(|e| format!("at byte {}: {e}", cursor.offset()))?;
                    n += found as u64;
                }
            }
            Engine::AhoCorasick { ac, .. } => {
                for m in ac.find_overlapping_iter(h.bytes) {
                    visit(Match {
                        pattern: m.pattern().as_u32(),
                        start: m.start(),
                        end: m.end(),
                    });
                    n += 1;
                }
            }
            Engine::DaachorseBytewise(d) => {
                for m in d.find_overlapping_iter(h.bytes) {
                    visit(Match {
                        pattern: m.value(),
                        start: m.start(),
                        end: m.end(),
                    });
                    n += 1;
                }
            }
            Engine::DaachorseCharwise(d) => {
                let text = h.text.ok_or("the haystack is not UTF-8")?;
                for m in d.find_overlapping_iter(text) {
                    visit(Match {
                        pattern: m.value(),
                        start: m.start(),
                        end: m.end(),
                    });
                    n += 1;
                }
            }
            #[cfg(feature = "hyperscan")]
            Engine::Hyperscan(hs) => n = hs.find_all(h.bytes, visit)?,
        }
        Ok(n)
    }

    /// The op that is timed and counted: [`Engine::run`] with every match
    /// passed through `black_box`, so that none can be optimised away.
    #[inline]
    pub fn op(&mut self, h: &Haystack<'_>) -> Result<u64, String> {
        self.run(h, |m| {
            black_box(m);
        })
    }
}

/// Builds our automaton, timing it.
///
/// # Panics
///
/// If the patterns cannot be built (the workload crate never yields such).
pub fn build_ours(patterns: &[Vec<u8>]) -> (Automaton, Duration) {
    let t = Instant::now();
    let ac = Automaton::new(patterns).unwrap_or_else(|e| panic!("acmatch cannot build: {e}"));
    (ac, t.elapsed())
}

/// Builds the peer `id` over `patterns`, timing it; `Err` says why it could
/// not be built (daachorse refuses duplicate patterns, charwise daachorse
/// needs UTF-8, a DFA can exceed its size limit, Hyperscan is not in this
/// build).
pub fn build_peer(id: &str, patterns: &[Vec<u8>]) -> Result<(Engine<'static>, Duration), String> {
    let t = Instant::now();
    let engine = match id {
        AC_DFA | AC_NFA => {
            let (kind, id) = if id == AC_DFA {
                (AhoCorasickKind::DFA, AC_DFA)
            } else {
                (AhoCorasickKind::ContiguousNFA, AC_NFA)
            };
            let ac = AhoCorasick::builder()
                .kind(Some(kind))
                .match_kind(MatchKind::Standard)
                .build(patterns)
                .map_err(|e| e.to_string())?;
            Engine::AhoCorasick { id, ac }
        }
        DAACHORSE_BYTEWISE => Engine::DaachorseBytewise(
            DoubleArrayAhoCorasick::new(patterns).map_err(|e| e.to_string())?,
        ),
        DAACHORSE_CHARWISE => {
            let texts = patterns
                .iter()
                .map(|p| std::str::from_utf8(p))
                .collect::<Result<Vec<&str>, _>>()
                .map_err(|_| "the patterns are not all UTF-8".to_owned())?;
            Engine::DaachorseCharwise(
                CharwiseDoubleArrayAhoCorasick::new(texts).map_err(|e| e.to_string())?,
            )
        }
        #[cfg(feature = "hyperscan")]
        HYPERSCAN => Engine::Hyperscan(super::hyperscan::Hyperscan::new(patterns)?),
        #[cfg(not(feature = "hyperscan"))]
        HYPERSCAN => return Err("built without --features hyperscan".to_owned()),
        other => panic!("unknown peer {other}"),
    };
    Ok((engine, t.elapsed()))
}

/// What every engine must find: the count and an order-independent
/// fingerprint of all matches in the haystack, and every match in its first
/// [`SAMPLE_BYTES`] bytes, from our `callback` variant.
pub struct Reference {
    count: u64,
    fingerprint: (u64, u64),
    sample: Vec<Match>,
    sample_len: usize,
}

impl Reference {
    /// Finds the reference matches of `ac` in `h`.
    pub fn new(ac: &Automaton, h: &Haystack<'_>) -> Reference {
        let mut engine = Engine::ours(Variant::Callback, ac, acmatch::DEFAULT_CHUNK);
        let (count, fingerprint) = fingerprint(&mut engine, h).expect("callback never fails");
        let prefix = h.prefix(SAMPLE_BYTES);
        Reference {
            count,
            fingerprint,
            sample: sorted_matches(&mut engine, &prefix).expect("callback never fails"),
            sample_len: prefix.len(),
        }
    }

    /// Matches per op over the whole haystack.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Checks that `engine` finds the same matches in `h`: the same number,
    /// the same set (by fingerprint), and match for match in the sample.
    ///
    /// # Errors
    ///
    /// The engine's own error (a full buffer, a haystack that is not UTF-8),
    /// when it cannot run.
    ///
    /// # Panics
    ///
    /// When the engine runs but disagrees, with a message naming the engine,
    /// the workload and the first difference: every figure of the bench
    /// rests on the engines finding the same matches.
    pub fn check(
        &self,
        engine: &mut Engine<'_>,
        h: &Haystack<'_>,
        workload: &str,
    ) -> Result<(), String> {
        let id = engine.id();
        let prefix = h.prefix(self.sample_len);
        let sample = sorted_matches(engine, &prefix)?;
        if sample != self.sample {
            let first = self
                .sample
                .iter()
                .zip(&sample)
                .position(|(a, b)| a != b)
                .unwrap_or(self.sample.len().min(sample.len()));
            panic!(
                "{id} disagrees with acmatch on {workload}: in the first {} bytes it finds {} matches, acmatch {}; first difference at sorted index {first}: {id} {:?}, acmatch {:?}",
                self.sample_len,
                sample.len(),
                self.sample.len(),
                sample.get(first),
                self.sample.get(first),
            );
        }
        let (count, fp) = fingerprint(engine, h)?;
        assert!(
            count == self.count && fp == self.fingerprint,
            "{id} disagrees with acmatch on {workload}: {count} matches against acmatch's {} (same in the first {} bytes){}",
            self.count,
            self.sample_len,
            if count == self.count {
                "; the counts agree but the sets differ"
            } else {
                ""
            }
        );
        Ok(())
    }
}

fn sorted_matches(engine: &mut Engine<'_>, h: &Haystack<'_>) -> Result<Vec<Match>, String> {
    let mut all = Vec::new();
    engine.run(h, |m| all.push(m))?;
    all.sort_unstable();
    Ok(all)
}

// The count, and the wrapping sum and the xor of a 64-bit mix of every
// match: equal for equal sets in any order, and unequal for different sets
// but with a negligible chance.
fn fingerprint(engine: &mut Engine<'_>, h: &Haystack<'_>) -> Result<(u64, (u64, u64)), String> {
    let (mut sum, mut xor) = (0u64, 0u64);
    let n = engine.run(h, |m| {
        let x = mix(mix(mix(u64::from(m.pattern)) ^ m.start as u64) ^ m.end as u64);
        sum = sum.wrapping_add(x);
        xor ^= x.rotate_left(17);
    })?;
    Ok((n, (sum, xor)))
}

// SplitMix64's finaliser.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
