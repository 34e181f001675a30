//! The article's scenario sets: one scenario per matcher variant on a
//! workload, and one per form of every case study.

use std::sync::Arc;

use acmatch::variant::{
    boxed::Boxed, callback::Callback, dyn_buffer::DynBuffer, fixed::Fixed, reuse::Reuse,
};
use acmatch::{chunks, Automaton, Cursor, MatchError, Matcher, Variant};
use escape_lab::WorkloadInfo;
use escape_lab::{CallError, Scenario};
use workload::Workload;

/// The pair drawn as "what the fix removed": the article's "before" as a
/// Rust beginner writes it, and its fix.
pub const FIX: (&str, &str) = ("boxed", "fixed");

/// One scenario per variant on a workload, matched in `chunk`-byte calls
/// (0: the whole haystack per call). Names are the variants' names; the
/// kind is `variant`, the items are matches.
///
/// Each setup builds the automaton; each call matches the next chunk with
/// the cursor carried over, and the cycle restarts at the first chunk with a
/// fresh cursor.
///
/// # Allocation
///
/// The scenarios; the workload is shared, not copied.
#[must_use]
pub fn variant_scenarios(w: &Arc<Workload>, chunk: usize, variants: &[Variant]) -> Vec<Scenario> {
    let pieces = chunks(&w.haystack, chunk).count() as u64;
    variants
        .iter()
        .map(|&variant| {
            // One closure type per variant, so that the static analysis of
            // a scenario (`reach`) sees only its variant's code, not the
            // five behind `AnyMatcher`'s match.
            let s = match variant {
                Variant::Boxed => variant_scenario(w, chunk, variant, || Boxed),
                Variant::DynBuffer => variant_scenario(w, chunk, variant, || {
                    DynBuffer::new(acmatch::DEFAULT_CAPACITY)
                }),
                Variant::Fixed => {
                    variant_scenario(w, chunk, variant, || Fixed::new(acmatch::DEFAULT_CAPACITY))
                }
                Variant::Reuse => variant_scenario(w, chunk, variant, Reuse::new),
                Variant::Callback => variant_scenario(w, chunk, variant, || Callback),
            };
            s.kind("variant")
                .items("matches")
                .workload(w.name.clone())
                .describe(variant.description())
                .cycle(pieces, w.haystack.len() as u64)
        })
        .collect()
}

fn variant_scenario<M: Matcher + 'static>(
    w: &Arc<Workload>,
    chunk: usize,
    variant: Variant,
    make: fn() -> M,
) -> Scenario {
    let w = Arc::clone(w);
    Scenario::try_new(variant.name(), move || Ok(variant_call(&w, chunk, make())?))
}

fn variant_call<M: Matcher>(
    w: &Arc<Workload>,
    chunk: usize,
    mut matcher: M,
) -> Result<impl FnMut() -> Result<u64, ChunkFull>, acmatch::BuildError> {
    let ac = Automaton::new(&w.patterns)?;
    let mut bounds = Vec::new();
    let mut start = 0;
    for piece in chunks(&w.haystack, chunk) {
        bounds.push((start, start + piece.len()));
        start += piece.len();
    }
    let w = Arc::clone(w);
    let mut cursor = Cursor::new();
    let mut next = 0;
    Ok(move || {
        let (s, e) = bounds[next];
        let n = matcher
            .find_chunk(&ac, &mut cursor, &w.haystack[s..e], |m| {
                std::hint::black_box(m);
            })
            .map_err(ChunkFull)?;
        next += 1;
        if next == bounds.len() {
            next = 0;
            cursor = Cursor::new();
        }
        Ok(n as u64)
    })
}

/// A call's error before it becomes a [`CallError`]: the conversion, which
/// allocates the message, happens outside the call, so the call's own code
/// has no way to the allocator on its error path.
struct ChunkFull(MatchError);

impl From<ChunkFull> for CallError {
    fn from(ChunkFull(e): ChunkFull) -> CallError {
        match e {
            MatchError::BufferFull { buffer, capacity } => {
                CallError::new(format!("buffer full (capacity {capacity})")).with_detail(format!(
                    "the {buffer} buffer cannot hold one chunk's {buffer}; use a smaller --chunk"
                ))
            }
            other => CallError::from(other),
        }
    }
}

/// One scenario per form of every case study of [`cases`], named
/// `<case>.<form>`, kind `case`: one call per cycle, no input bytes.
///
/// # Allocation
///
/// The scenarios.
#[must_use]
pub fn case_scenarios() -> Vec<Scenario> {
    cases::all()
        .iter()
        .flat_map(|case| {
            case.forms.iter().map(move |form| {
                let setup = form.setup;
                Scenario::new(format!("{}.{}", case.name, form.name), move || {
                    let mut call = setup();
                    move || call()
                })
                .reach_boxed_by(form.setup)
                .kind("case")
                .describe(format!("{}: {}", case.title, form.description))
                .cycle(1, 0)
            })
        })
        .collect()
}

/// What `summary.json` and the baseline say about a workload matched in
/// `chunk`-byte calls.
///
/// # Allocation
///
/// The description and the facts.
#[must_use]
pub fn workload_info(w: &Workload, chunk: usize) -> WorkloadInfo {
    let per_call = if chunk == 0 {
        "the whole haystack per call".to_string()
    } else {
        format!(
            "{} bytes per call",
            escape_lab::__private::fmt::group(chunk as u64)
        )
    };
    WorkloadInfo {
        name: w.name.clone(),
        description: format!(
            "{} patterns, {} bytes of haystack, {per_call}",
            escape_lab::__private::fmt::group(w.patterns.len() as u64),
            escape_lab::__private::fmt::group(w.haystack.len() as u64)
        ),
        facts: [
            ("patterns", w.patterns.len() as u64),
            ("haystack_bytes", w.haystack.len() as u64),
            ("chunk", chunk as u64),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect(),
    }
}
