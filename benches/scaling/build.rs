//! The scaling bench's engines at one size: our automaton (and the one
//! with the literal engine forced) built once per size and shared by our
//! variants, the peers built per benchmark, each build timed (median of
//! [`BUILDS`]) and checked against the size's reference matches.

use std::cell::OnceCell;
use std::time::{Duration, Instant};

use acmatch::{Automaton, Layout, Variant, DEFAULT_CHUNK};

use crate::common;
use crate::common::engines::{self, Engine, Haystack, Kind, Reference, HYPERSCAN, PEER_IDS};

/// Sizes up to this one also get rows for the literal engine forced
/// (`Layout::Literal`), whatever `Layout::Auto` chose.
const LITERAL_MAX: usize = 1_000;
/// The variants the literal rows run, with their ids.
const LITERAL_ROWS: [(Variant, &str); 2] = [
    (Variant::Callback, "callback-literal"),
    (Variant::Fixed, "fixed-literal"),
];
/// Builds timed per engine and size in optimised builds; the median is
/// reported. Unoptimised builds build once.
pub(crate) const BUILDS: usize = 3;
/// One size of one group: its patterns, and (built when its first
/// benchmark runs) our automaton, its median build time, and the matches
/// every engine must find.
pub(crate) struct Size {
    /// `100`, ..., `all`.
    pub(crate) label: String,
    pub(crate) patterns: Vec<Vec<u8>>,
    pub(crate) shared: OnceCell<Shared>,
    /// The automaton with the literal engine forced, and its median build
    /// time, built when the first literal row runs.
    pub(crate) literal: OnceCell<(Automaton, Duration)>,
}

pub(crate) struct Shared {
    pub(crate) ac: Automaton,
    pub(crate) build: Duration,
    pub(crate) reference: Reference,
}

impl Size {
    pub(crate) fn new(label: String, patterns: Vec<Vec<u8>>) -> Size {
        Size {
            label,
            patterns,
            shared: OnceCell::new(),
            literal: OnceCell::new(),
        }
    }

    pub(crate) fn literal(&self) -> &(Automaton, Duration) {
        self.literal.get_or_init(|| {
            let layout = Layout::Literal { simd: true };
            let mut ac = None;
            let build = median_build(|| {
                let started = Instant::now();
                ac = Some(
                    Automaton::with_layout(&self.patterns, layout).map_err(|e| e.to_string())?,
                );
                Ok(started.elapsed())
            })
            .expect("acmatch builds every word list");
            (ac.expect("built at least once"), build)
        })
    }

    pub(crate) fn shared(&self, h: &Haystack<'_>) -> &Shared {
        self.shared.get_or_init(|| {
            let mut ac = None;
            let build = median_build(|| {
                let (built, took) = engines::build_ours(&self.patterns);
                ac = Some(built);
                Ok(took)
            })
            .expect("acmatch builds every word list");
            let ac = ac.expect("built at least once");
            let reference = Reference::new(&ac, h);
            Shared {
                ac,
                build,
                reference,
            }
        })
    }
}

/// A benchmark's state: the engine and its median build time.
pub(crate) struct Built<'a> {
    pub(crate) engine: Engine<'a>,
    pub(crate) build: Duration,
}

/// Builds engine `spec` over `size`'s patterns and checks it against the
/// reference; our variants share the size's automaton (the literal rows
/// their own).
pub(crate) fn build<'a>(
    spec: &EngineSpec,
    size: &'a Size,
    h: &Haystack<'_>,
    group: &str,
) -> Result<Built<'a>, String> {
    let (id, variant) = (spec.id, spec.variant);
    let shared = size.shared(h);
    let (mut engine, build) = match variant {
        Some(v) if spec.literal => {
            let (ac, build) = size.literal();
            (Engine::ours(v, ac, DEFAULT_CHUNK), *build)
        }
        Some(v) => (Engine::ours(v, &shared.ac, DEFAULT_CHUNK), shared.build),
        None => {
            let mut engine = None;
            let build = median_build(|| {
                let (built, took) = engines::build_peer(id, &size.patterns)
                    .map_err(|e| format!("cannot build: {e}"))?;
                engine = Some(built);
                Ok(took)
            })?;
            (engine.expect("built at least once"), build)
        }
    };
    let what = format!("{group}, {} words", size.patterns.len());
    shared.reference.check(&mut engine, h, &what)?;
    Ok(Built { engine, build })
}

/// The median of [`BUILDS`] timed builds (one in an unoptimised build).
fn median_build(mut build: impl FnMut() -> Result<Duration, String>) -> Result<Duration, String> {
    let mut times = (0..builds())
        .map(|_| build())
        .collect::<Result<Vec<_>, _>>()?;
    times.sort();
    Ok(times[times.len() / 2])
}

pub(crate) fn builds() -> usize {
    if common::UNOPTIMISED {
        1
    } else {
        BUILDS
    }
}

/// One engine of the table: its id, kind and our variant, if it is one,
/// and whether it runs the automaton with the literal engine forced.
pub(crate) struct EngineSpec {
    pub(crate) id: &'static str,
    pub(crate) kind: Kind,
    pub(crate) variant: Option<Variant>,
    pub(crate) literal: bool,
}

/// Every variant, then (up to [`LITERAL_MAX`] words) `callback` and
/// `fixed` with the literal engine forced, then the peers (charwise
/// daachorse only when the words and the text are UTF-8), then Hyperscan
/// when it is built in.
pub(crate) fn engine_specs(utf8: bool, words: usize) -> Vec<EngineSpec> {
    let mut specs: Vec<EngineSpec> = Variant::ALL
        .iter()
        .map(|&v| EngineSpec {
            id: v.name(),
            kind: Kind::Variant,
            variant: Some(v),
            literal: false,
        })
        .collect();
    if words <= LITERAL_MAX {
        specs.extend(LITERAL_ROWS.iter().map(|&(v, id)| EngineSpec {
            id,
            kind: Kind::Variant,
            variant: Some(v),
            literal: true,
        }));
    }
    for id in PEER_IDS {
        if id == engines::DAACHORSE_CHARWISE && !utf8 {
            continue;
        }
        specs.push(EngineSpec {
            id,
            kind: Kind::Peer,
            variant: None,
            literal: false,
        });
    }
    if engines::HAS_HYPERSCAN {
        specs.push(EngineSpec {
            id: HYPERSCAN,
            kind: Kind::Frontier,
            variant: None,
            literal: false,
        });
    }
    specs
}
