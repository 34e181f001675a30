//! Scenarios: what the harness runs. A name, a setup, one call, and the bytes
//! one call covers.
//!
//! The setup runs once in each pass's child process, before any measurement
//! (building an automaton, loading data); it returns the *call*, a closure
//! that does one unit of work (Go's "op") each time it is invoked. Calls form
//! a *cycle*: a variant's calls walk the haystack chunk by chunk and start
//! over, so a cycle is one pass over the haystack, and every pass measures
//! whole cycles, which makes counts exact and repeatable.

use std::fmt;
use std::sync::Arc;

use acmatch::{chunks, Automaton, Cursor, Matcher, Variant};
use serde::{Deserialize, Serialize};
use workload::Workload;

/// What a scenario shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// One matcher variant on a workload.
    Variant,
    /// One form of one of the article's escape cases.
    Case,
    /// A scenario defined by a user of the library.
    Custom,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Variant => "variant",
            Kind::Case => "case",
            Kind::Custom => "custom",
        })
    }
}

/// Why one call failed; the harness reports it as
/// `"<message> at call <n>: <detail>"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallError {
    /// What happened, e.g. `buffer full (capacity 4096)`.
    pub message: String,
    /// More about it, or empty.
    pub detail: String,
}

impl CallError {
    /// A call error with a message and no detail.
    ///
    /// # Allocation
    ///
    /// The message `String`.
    pub fn new(message: impl Into<String>) -> CallError {
        CallError {
            message: message.into(),
            detail: String::new(),
        }
    }
}

impl From<acmatch::MatchError> for CallError {
    fn from(e: acmatch::MatchError) -> CallError {
        match e {
            acmatch::MatchError::BufferFull { buffer, capacity } => CallError {
                message: format!("buffer full (capacity {capacity})"),
                detail: format!(
                    "the {buffer} buffer cannot hold one chunk's {buffer}; use a smaller --chunk"
                ),
            },
            other => CallError::new(other.to_string()),
        }
    }
}

/// One call: does one unit of work and returns how many items it produced
/// (matches, for a variant).
pub type Call = Box<dyn FnMut() -> Result<u64, CallError>>;

type Setup = Box<dyn Fn() -> Result<Call, String> + Send + Sync>;

/// Something the harness can run through every pass.
///
/// # Allocation
///
/// The name and description strings and the boxed setup; what the setup and
/// its call allocate is the scenario's own, and is what the passes measure
/// (the call's allocations only: the setup runs before measuring starts).
pub struct Scenario {
    name: String,
    kind: Kind,
    workload: String,
    description: String,
    calls_per_cycle: u64,
    bytes_per_cycle: u64,
    setup: Setup,
}

impl fmt::Debug for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scenario")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("workload", &self.workload)
            .field("calls_per_cycle", &self.calls_per_cycle)
            .field("bytes_per_cycle", &self.bytes_per_cycle)
            .finish_non_exhaustive()
    }
}

impl Scenario {
    /// A custom scenario called `name` whose `setup` returns its call. It
    /// defaults to one call per cycle covering 0 bytes; set both with
    /// [`Scenario::cycle`] when calls cover input.
    ///
    /// `name` is also a directory name in a run: use letters, digits, `-`,
    /// `_` and `.` only.
    ///
    /// # Allocation
    ///
    /// The name and the boxed setup.
    pub fn new<S, C>(name: impl Into<String>, setup: S) -> Scenario
    where
        S: Fn() -> Result<C, String> + Send + Sync + 'static,
        C: FnMut() -> Result<u64, CallError> + 'static,
    {
        Scenario {
            name: name.into(),
            kind: Kind::Custom,
            workload: String::new(),
            description: String::new(),
            calls_per_cycle: 1,
            bytes_per_cycle: 0,
            setup: Box::new(move || setup().map(|c| Box::new(c) as Call)),
        }
    }

    /// Sets the kind.
    ///
    /// Never allocates.
    #[must_use]
    pub fn kind(mut self, kind: Kind) -> Scenario {
        self.kind = kind;
        self
    }

    /// Sets the one-line description shown in reports.
    ///
    /// Converting the description into a `String` allocates unless it is one.
    #[must_use]
    pub fn describe(mut self, description: impl Into<String>) -> Scenario {
        self.description = description.into();
        self
    }

    /// Sets the workload name shown in reports.
    ///
    /// Converting the name into a `String` allocates unless it is one.
    #[must_use]
    pub fn workload(mut self, workload: impl Into<String>) -> Scenario {
        self.workload = workload.into();
        self
    }

    /// Sets the cycle: `calls` calls (at least 1) that together cover
    /// `bytes` bytes of input before the sequence repeats.
    ///
    /// Never allocates.
    #[must_use]
    pub fn cycle(mut self, calls: u64, bytes: u64) -> Scenario {
        self.calls_per_cycle = calls.max(1);
        self.bytes_per_cycle = bytes;
        self
    }

    /// The scenario's name.
    ///
    /// Never allocates.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its kind.
    ///
    /// Never allocates.
    #[must_use]
    pub fn kind_of(&self) -> Kind {
        self.kind
    }

    /// Its workload name (empty when none).
    ///
    /// Never allocates.
    #[must_use]
    pub fn workload_name(&self) -> &str {
        &self.workload
    }

    /// Its description.
    ///
    /// Never allocates.
    #[must_use]
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Calls in one cycle.
    ///
    /// Never allocates.
    #[must_use]
    pub fn calls_per_cycle(&self) -> u64 {
        self.calls_per_cycle
    }

    /// Bytes of input one cycle covers.
    ///
    /// Never allocates.
    #[must_use]
    pub fn bytes_per_cycle(&self) -> u64 {
        self.bytes_per_cycle
    }

    /// Runs the setup and returns the call.
    ///
    /// # Errors
    ///
    /// The setup's error message.
    ///
    /// Whatever the scenario's setup allocates.
    pub fn setup(&self) -> Result<Call, String> {
        (self.setup)()
    }
}

/// One scenario per variant on a workload, matched in `chunk`-byte calls
/// (0: the whole haystack per call). Names are the variants' names.
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
            let w2 = Arc::clone(w);
            Scenario::new(variant.name(), move || variant_call(&w2, chunk, variant))
                .kind(Kind::Variant)
                .workload(w.name.clone())
                .describe(variant.description())
                .cycle(pieces, w.haystack.len() as u64)
        })
        .collect()
}

fn variant_call(
    w: &Arc<Workload>,
    chunk: usize,
    variant: Variant,
) -> Result<impl FnMut() -> Result<u64, CallError>, String> {
    let ac = Automaton::new(&w.patterns).map_err(|e| format!("building the automaton: {e}"))?;
    let mut bounds = Vec::new();
    let mut start = 0;
    for piece in chunks(&w.haystack, chunk) {
        bounds.push((start, start + piece.len()));
        start += piece.len();
    }
    let w = Arc::clone(w);
    let mut matcher = variant.matcher();
    let mut cursor = Cursor::new();
    let mut next = 0;
    Ok(move || {
        let (s, e) = bounds[next];
        let n = matcher.find_chunk(&ac, &mut cursor, &w.haystack[s..e], |m| {
            std::hint::black_box(m);
        })?;
        next += 1;
        if next == bounds.len() {
            next = 0;
            cursor = Cursor::new();
        }
        Ok(n as u64)
    })
}

/// One scenario per form of every case study of [`cases`], named
/// `<case>.<form>`: one call per cycle, no input bytes.
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
                    Ok(move || Ok(call()))
                })
                .kind(Kind::Case)
                .describe(format!("{}: {}", case.title, form.description))
                .cycle(1, 0)
            })
        })
        .collect()
}
