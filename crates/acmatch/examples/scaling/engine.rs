//! The engines the example times: ours in each variant and layout, the
//! peers, and the ceiling loop; and the tally every one of them must agree
//! on.

use std::hint::black_box;
use std::time::Duration;

use acmatch::{chunks, AnyMatcher, Automaton, Cursor, Match, Matcher, Variant, DEFAULT_CHUNK};
use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use daachorse::{CharwiseDoubleArrayAhoCorasick, DoubleArrayAhoCorasick};
use workload::scaling::{SplitMix64, SEED};

use crate::{timed, Args};

/// Our variants in the table.
pub(crate) const OURS: [Variant; 3] = [Variant::Callback, Variant::Fixed, Variant::Reuse];
/// The peers' names, in table order.
pub(crate) const PEERS: [&str; 4] = [
    "aho-corasick-dfa",
    "aho-corasick-nfa",
    "daachorse-bytewise",
    "daachorse-charwise",
];
/// Entries of the ceiling loop's table (32 KiB, within L1).
pub(crate) const CEILING_ENTRIES: usize = 8192;

/// One engine, built.
pub(crate) enum Engine<'a> {
    Ours {
        ac: &'a Automaton,
        matcher: AnyMatcher,
        /// The variant's name, with the layout in `--layouts` mode.
        label: String,
    },
    AhoCorasick(&'static str, AhoCorasick),
    DaachorseBytewise(DoubleArrayAhoCorasick<u32>),
    DaachorseCharwise(CharwiseDoubleArrayAhoCorasick<u32>),
    Ceiling(Box<[u32]>),
}

/// Matches and an order-independent checksum of them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Tally {
    pub(crate) matches: u64,
    pub(crate) sum: u64,
}

impl Tally {
    #[inline(always)]
    fn add(&mut self, pattern: u32, start: usize, end: usize) {
        self.matches += 1;
        self.sum = self.sum.wrapping_add(
            (u64::from(pattern).wrapping_mul(0x9E37_79B9_7F4A_7C15))
                ^ (start as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9)
                ^ (end as u64),
        );
    }
}

impl Engine<'_> {
    pub(crate) fn name(&self) -> &str {
        match self {
            Engine::Ours { label, .. } => label,
            Engine::AhoCorasick(name, _) => name,
            Engine::DaachorseBytewise(_) => PEERS[2],
            Engine::DaachorseCharwise(_) => PEERS[3],
            Engine::Ceiling(_) => "ceiling",
        }
    }

    pub(crate) fn is_peer(&self) -> bool {
        matches!(
            self,
            Engine::AhoCorasick(..) | Engine::DaachorseBytewise(_) | Engine::DaachorseCharwise(_)
        )
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        match self {
            Engine::Ours { ac, .. } => ac.heap_bytes(),
            Engine::AhoCorasick(_, a) => a.memory_usage(),
            Engine::DaachorseBytewise(d) => d.heap_bytes(),
            Engine::DaachorseCharwise(d) => d.heap_bytes(),
            Engine::Ceiling(t) => std::mem::size_of_val(&**t),
        }
    }

    /// Every match in `text`.
    pub(crate) fn run(&mut self, text: &[u8], utf8: &str) -> Tally {
        let mut t = Tally::default();
        match self {
            Engine::Ours { ac, matcher, .. } => {
                let mut cursor = Cursor::new();
                for piece in chunks(text, DEFAULT_CHUNK) {
                    matcher
                        .find_chunk(ac, &mut cursor, piece, |m: Match| {
                            t.add(m.pattern, m.start, m.end);
                        })
                        .expect("no buffer runs full on these texts");
                }
            }
            Engine::AhoCorasick(_, a) => {
                for m in a.find_overlapping_iter(text) {
                    t.add(m.pattern().as_u32(), m.start(), m.end());
                }
            }
            Engine::DaachorseBytewise(d) => {
                for m in d.find_overlapping_iter(text) {
                    t.add(m.value(), m.start(), m.end());
                }
            }
            Engine::DaachorseCharwise(d) => {
                for m in d.find_overlapping_iter(utf8) {
                    t.add(m.value(), m.start(), m.end());
                }
            }
            Engine::Ceiling(table) => {
                let mut s = 0usize;
                for &b in text {
                    s = table[s + usize::from(b)] as usize;
                }
                t.sum = s as u64;
            }
        }
        black_box(t)
    }
}

/// Every engine `args` selects: our variants over each of `ours`, the
/// peers (built here), the ceiling; each with its build time.
pub(crate) fn build_engines<'a>(
    ours: &'a [(String, Automaton, Duration)],
    words: &[Vec<u8>],
    args: &Args,
    builds: usize,
) -> Vec<(Engine<'a>, Duration)> {
    let mut engines: Vec<(Engine<'a>, Duration)> = Vec::new();
    for (name, ac, took) in ours {
        for v in OURS.iter().filter(|v| args.wants(v.name())) {
            let label = if name.is_empty() {
                v.name().to_owned()
            } else {
                format!("{} {name}", v.name())
            };
            engines.push((
                Engine::Ours {
                    ac,
                    matcher: v.matcher(),
                    label,
                },
                *took,
            ));
        }
    }
    for (name, kind) in [
        (PEERS[0], AhoCorasickKind::DFA),
        (PEERS[1], AhoCorasickKind::ContiguousNFA),
    ] {
        if !args.wants(name) {
            continue;
        }
        let (a, took) = timed(builds, || {
            AhoCorasick::builder()
                .kind(Some(kind))
                .match_kind(MatchKind::Standard)
                .build(words)
        });
        match a {
            Ok(a) => engines.push((Engine::AhoCorasick(name, a), took)),
            Err(e) => println!("  {name}: cannot build: {e}"),
        }
    }
    if args.wants(PEERS[2]) {
        let (d, took) = timed(builds, || DoubleArrayAhoCorasick::<u32>::new(words));
        engines.push((
            Engine::DaachorseBytewise(d.expect("daachorse builds")),
            took,
        ));
    }
    if args.wants(PEERS[3]) {
        let strs: Vec<&str> = words
            .iter()
            .map(|w| std::str::from_utf8(w).expect("the word lists are UTF-8"))
            .collect();
        let (d, took) = timed(builds, || CharwiseDoubleArrayAhoCorasick::<u32>::new(&strs));
        engines.push((
            Engine::DaachorseCharwise(d.expect("daachorse builds")),
            took,
        ));
    }
    if args.wants("ceiling") {
        // One dependent load per byte from an L1-sized table: entries stay
        // below its length minus 255, so that `s + byte` is in bounds.
        let mut rng = SplitMix64(SEED);
        let ceiling: Box<[u32]> = (0..CEILING_ENTRIES)
            .map(|_| (rng.next() % (CEILING_ENTRIES - 256) as u64) as u32)
            .collect();
        engines.push((Engine::Ceiling(ceiling), Duration::ZERO));
    }
    engines
}
