//! The passes and what each reports across the process boundary.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One way of running a scenario, each in its own process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pass {
    /// Exact allocations per call with the counting allocator.
    Count,
    /// dhat heap profile: allocation sites and flamegraphs.
    Heap,
    /// pprof CPU samples and time per call, system allocator.
    Cpu,
    /// Instructions per call, counted under valgrind's callgrind.
    Instr,
}

impl Pass {
    /// Every pass, in the order a run makes them.
    pub const ALL: [Pass; 4] = [Pass::Count, Pass::Heap, Pass::Cpu, Pass::Instr];

    /// The pass's name.
    ///
    /// Never allocates.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Pass::Count => "count",
            Pass::Heap => "heap",
            Pass::Cpu => "cpu",
            Pass::Instr => "instr",
        }
    }

    /// The pass named `s`.
    ///
    /// Never allocates.
    #[must_use]
    pub fn from_name(s: &str) -> Option<Pass> {
        Pass::ALL.into_iter().find(|p| p.name() == s)
    }
}

impl fmt::Display for Pass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the `count` pass measured: exact totals over whole cycles after a
/// warm-up cycle.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountResult {
    /// Calls measured.
    pub calls: u64,
    /// Items those calls returned.
    pub items: u64,
    /// Allocations (reallocations included) in those calls.
    pub allocs: u64,
    /// Bytes allocated in those calls.
    pub bytes: u64,
}

/// What the `heap` pass measured under dhat.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeapResult {
    /// Calls profiled.
    pub calls: u64,
    /// Allocations dhat saw in those calls.
    pub blocks: u64,
    /// Bytes dhat saw allocated in those calls.
    pub bytes: u64,
    /// The most bytes live at once during those calls (the setup's excluded).
    pub peak_live_bytes: u64,
}

/// Time per call over the timed batches of the `cpu` pass, in nanoseconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    /// Median of the batch means.
    pub median: f64,
    /// Fastest batch mean.
    pub min: f64,
    /// Slowest batch mean.
    pub max: f64,
    /// Number of batches.
    pub batches: u64,
}

/// What the `cpu` pass measured.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CpuResult {
    /// Calls timed.
    pub calls: u64,
    /// Samples pprof took.
    pub samples: u64,
    /// Time per call.
    pub timing: Timing,
}

/// One function's instructions in the measured calls (callgrind).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionCost {
    /// The function (demangled, no hash).
    pub name: String,
    /// Instructions in the function itself.
    pub exclusive: u64,
    /// Instructions in it and in what it calls.
    pub inclusive: u64,
}

/// What the `instr` pass counted: exact totals over the measured calls.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstrResult {
    /// Calls measured (whole cycles, as the `count` pass).
    pub calls: u64,
    /// Instructions executed in those calls.
    pub instructions: u64,
    /// Of those, the ones inside the system allocator (malloc, free,
    /// realloc and what they call): they depend on the heap's state, so the
    /// gate compares `instructions - allocator_instructions`.
    #[serde(default)]
    pub allocator_instructions: u64,
    /// The top functions by exclusive count, totals over the calls.
    pub functions: Vec<FunctionCost>,
}

/// What one pass of one scenario reported: one case per pass.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "pass", rename_all = "lowercase")]
pub enum PassResult {
    /// From the `count` pass.
    Count(CountResult),
    /// From the `heap` pass, with its source listing.
    Heap {
        /// The figures.
        #[serde(flatten)]
        result: HeapResult,
        /// The top allocating functions' lines, per call (`listing.txt`).
        listing: String,
    },
    /// From the `cpu` pass, with its folded stacks for the flamegraph and
    /// its source listing.
    Cpu {
        /// The figures.
        #[serde(flatten)]
        result: CpuResult,
        /// Folded stacks (`root;...;leaf count` lines), starting at the
        /// scenario's call.
        folded: String,
        /// The hottest functions' lines with their share of samples.
        listing: String,
    },
    /// From the `instr` pass.
    Instr(InstrResult),
    /// The pass could not run here (valgrind missing): a note, not a
    /// failure.
    Skipped {
        /// Which pass.
        skipped: Pass,
        /// Why.
        reason: String,
    },
}

impl PassResult {
    /// The pass that made it.
    ///
    /// Never allocates.
    #[must_use]
    pub fn pass(&self) -> Pass {
        match self {
            PassResult::Count(_) => Pass::Count,
            PassResult::Heap { .. } => Pass::Heap,
            PassResult::Cpu { .. } => Pass::Cpu,
            PassResult::Instr(_) => Pass::Instr,
            PassResult::Skipped { skipped, .. } => *skipped,
        }
    }
}
