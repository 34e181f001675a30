//! Scenarios: what the library runs. A name, a setup, one call, and the
//! bytes one call covers.
//!
//! The setup runs once in each pass's child process, before any measurement
//! (building a parser, loading data); it returns the *call*, a closure that
//! does one unit of work (Go's "op") each time it is invoked. Calls form a
//! *cycle*: calls that walk an input chunk by chunk and start over make a
//! cycle of one pass over the input, and every pass measures whole cycles,
//! which makes counts exact and repeatable.

use std::fmt;

pub use crate::call::{CallError, CallOutput};

/// One call, boxed: does one unit of work and returns how many items it
/// produced.
pub type Call = Box<dyn FnMut() -> Result<u64, CallError>>;

/// Why a setup failed.
pub type SetupError = Box<dyn std::error::Error + Send + Sync>;

type Setup = Box<dyn Fn() -> Result<Call, SetupError> + Send + Sync>;

/// Something the library can run through every pass.
///
/// # Example
///
/// ```
/// use escape_lab::Scenario;
///
/// let s = Scenario::new("sum_words", || {
///     let text = "one two three ".repeat(100);
///     move || text.split(' ').filter(|w| !w.is_empty()).count()
/// })
/// .describe("counts words without allocating")
/// .items("words")
/// .cycle(1, 1400);
/// assert_eq!(s.name(), "sum_words");
/// ```
///
/// # Allocation
///
/// The name and description strings and the boxed setup; what the setup and
/// its call allocate is the scenario's own, and is what the passes measure
/// (the call's allocations only: the setup runs before measuring starts).
pub struct Scenario {
    name: String,
    kind: String,
    workload: String,
    description: String,
    items: Option<String>,
    calls_per_cycle: u64,
    bytes_per_cycle: u64,
    setup: Setup,
    root: crate::reach::Root,
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
    /// A scenario called `name` whose `setup` returns its call. The call
    /// returns `()`, a count of items, or a `Result` of either (see
    /// [`CallOutput`]). It defaults to one call per cycle covering 0 bytes
    /// (set both with [`Scenario::cycle`] when calls cover input), and to the
    /// kind `custom`. [`Scenario::try_new`] takes a setup that can fail.
    ///
    /// `name` is also a folder name in a run: use letters, digits, `-`, `_`
    /// and `.` only (a run checks).
    ///
    /// # Allocation
    ///
    /// The name and the boxed setup.
    pub fn new<S, C, R>(name: impl Into<String>, setup: S) -> Scenario
    where
        S: Fn() -> C + Send + Sync + 'static,
        C: FnMut() -> R + 'static,
        R: CallOutput,
    {
        Scenario::try_new(name, move || Ok(setup()))
    }

    /// Like [`Scenario::new`], with a setup that can fail: any error
    /// converts with `?`, and the scenario is then reported as failed with
    /// its message.
    ///
    /// # Allocation
    ///
    /// The name and the boxed setup.
    pub fn try_new<S, C, R>(name: impl Into<String>, setup: S) -> Scenario
    where
        S: Fn() -> Result<C, SetupError> + Send + Sync + 'static,
        C: FnMut() -> R + 'static,
        R: CallOutput,
    {
        Scenario {
            name: name.into(),
            kind: "custom".to_string(),
            workload: String::new(),
            description: String::new(),
            items: None,
            calls_per_cycle: 1,
            bytes_per_cycle: 0,
            setup: Box::new(move || {
                let mut call = setup()?;
                Ok(Box::new(move || escape_lab_scenario_call(&mut call).into_items()) as Call)
            }),
            root: crate::reach::Root::Function(
                escape_lab_scenario_call::<C, R> as fn(&mut C) -> R as usize,
            ),
        }
    }

    /// For a call that is a boxed closure (`Box<dyn FnMut>`) built by
    /// `constructor`: the static reachability analysis (`reach`) starts at
    /// the closure the constructor boxes instead of at the `dyn` call, which
    /// it cannot follow. Use it when the setup returns
    /// `constructor()` (or calls it and wraps the result).
    ///
    /// Never allocates.
    #[must_use]
    pub fn reach_boxed_by<R>(mut self, constructor: fn() -> Box<dyn FnMut() -> R>) -> Scenario {
        self.root = crate::reach::Root::BoxedBy(constructor as usize);
        self
    }

    /// Sets the kind: a label that groups scenarios in reports (the article
    /// uses one label per kind of thing it profiles). Default: `custom`.
    ///
    /// Converting the label into a `String` allocates unless it is one.
    #[must_use]
    pub fn kind(mut self, kind: impl Into<String>) -> Scenario {
        self.kind = kind.into();
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

    /// Names what the call's returned count counts (`matches`, `tokens`):
    /// reports then show it per call. Default: not shown.
    ///
    /// Converting the name into a `String` allocates unless it is one.
    #[must_use]
    pub fn items(mut self, unit: impl Into<String>) -> Scenario {
        self.items = Some(unit.into());
        self
    }

    /// Sets the cycle: `calls` calls (at least 1) that together cover
    /// `bytes` bytes of input before the sequence repeats. Reports show
    /// MB/s when `bytes` is not 0.
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
    pub fn kind_of(&self) -> &str {
        &self.kind
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

    /// What its items are called, when reports show them.
    ///
    /// Never allocates.
    #[must_use]
    pub fn items_unit(&self) -> Option<&str> {
        self.items.as_deref()
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

    /// Bytes of input one call covers, on average over a cycle.
    ///
    /// Never allocates.
    #[must_use]
    pub fn bytes_per_call(&self) -> f64 {
        self.bytes_per_cycle as f64 / self.calls_per_cycle as f64
    }

    /// Runs the setup and returns the call.
    ///
    /// # Errors
    ///
    /// The setup's error.
    ///
    /// # Allocation
    ///
    /// Whatever the scenario's setup allocates, and the boxed call.
    pub fn setup(&self) -> Result<Call, SetupError> {
        (self.setup)()
    }

    /// The static reachability analysis of its call: which ways its code
    /// has to the allocator (see [`crate::reach`]). Runs nothing of the
    /// scenario.
    ///
    /// # Errors
    ///
    /// [`crate::reach::ReachError`] when the program's file cannot be
    /// analysed.
    ///
    /// # Allocation
    ///
    /// See [`crate::reach::analyse`].
    pub fn reach(&self) -> Result<crate::reach::Reach, crate::reach::ReachError> {
        self.reach_from(&crate::paths::source_root())
    }

    /// [`Scenario::reach`] with locations relative to `source_root`.
    pub(crate) fn reach_from(
        &self,
        source_root: &std::path::Path,
    ) -> Result<crate::reach::Reach, crate::reach::ReachError> {
        crate::reach::analyse_root(self.root, &self.name, source_root)
    }
}

/// The function every call of a scenario runs in
/// ([`crate::frames::SCENARIO_CALL`]): its address is where the static
/// analysis starts (the closure the user wrote, inlined here or called from
/// here, and nothing of the harness around it), and flamegraphs start after
/// it.
#[inline(never)]
fn escape_lab_scenario_call<C: FnMut() -> R, R>(call: &mut C) -> R {
    call()
}

/// Whether `name` is usable as a scenario name: non-empty, letters, digits,
/// `-`, `_` and `.` only, not `.` or `..`.
///
/// Never allocates.
#[must_use]
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Refuses a name filter that selects no scenario (a typo would otherwise
/// check or profile nothing, and pass).
///
/// # Errors
///
/// [`crate::Error::Usage`] naming the first filter that matches no
/// scenario name.
///
/// # Allocation
///
/// Only the error.
pub fn check_filters(scenarios: &[Scenario], filters: &[String]) -> Result<(), crate::Error> {
    match filters
        .iter()
        .find(|f| !scenarios.iter().any(|s| s.name().contains(f.as_str())))
    {
        None => Ok(()),
        Some(f) => Err(crate::Error::Usage {
            option: "filter".into(),
            problem: format!(
                "{f:?} matches no scenario name (`list` prints the {} names)",
                scenarios.len()
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Oops;
    impl fmt::Display for Oops {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("oops")
        }
    }
    impl std::error::Error for Oops {}

    #[test]
    fn calls_return_units_counts_and_results() {
        let unit = Scenario::new("a", || || ());
        assert_eq!((unit.setup().unwrap())(), Ok(0));
        let count = Scenario::new("b", || || 7usize);
        assert_eq!((count.setup().unwrap())(), Ok(7));
        let failing = Scenario::new("c", || || Err::<u64, _>(Oops));
        assert_eq!((failing.setup().unwrap())(), Err(CallError::new("oops")));
        let bad_setup = Scenario::try_new("d", || {
            Err(Oops)?;
            Ok(|| ())
        });
        assert_eq!(bad_setup.setup().err().unwrap().to_string(), "oops");
        let from_io = Scenario::try_new("e", || {
            let text = std::fs::read("/nonexistent/escape-lab/input")?;
            Ok(move || text.len())
        });
        assert!(from_io
            .setup()
            .err()
            .unwrap()
            .to_string()
            .contains("No such file"));
    }

    #[test]
    fn names_are_checked() {
        for good in ["owned", "append.grow", "a-b_c.1"] {
            assert!(valid_name(good), "{good}");
        }
        for bad in ["", ".", "..", "a/b", "a b", "ä"] {
            assert!(!valid_name(bad), "{bad}");
        }
    }
}
