//! CPU sampling through pprof-rs, handing back *unresolved* samples: the
//! instruction addresses of each sampled stack, leaf first, and how often it
//! was seen.
//!
//! pprof-rs is the sampler (`setitimer(ITIMER_PROF)` and a `SIGPROF` handler
//! that unwinds with the `backtrace` crate); everything after the samples is
//! ours: [`super::symbolize`] turns addresses into frames and lines,
//! [`super::encode`] writes the protobuf, [`super::fold`] the flamegraph
//! input.
//!
//! Three things this module relies on or decides:
//!
//! - **Samples keyed by instruction.** pprof-rs 0.15 merges samples whose
//!   frames share a *function start address*; this crate depends on its
//!   fork `escape-lab-pprof` (the workspace's `crates/pprof`, packaged with
//!   escape-lab; see its `FORK.md`), which keys them by each frame's
//!   instruction pointer. With upstream every sample inside one compiled
//!   function carries the first sample's addresses, and lines and inlined
//!   frames are wrong; `tests/pprof_cpu_lines.rs` fails then.
//! - **At most 250 Hz**: the kernel ticks at 250 Hz here, and a higher rate
//!   would deliver fewer samples than the written period claims, so
//!   `go tool pprof` would under-report CPU time. [`CpuProfiler::start`]
//!   clamps.
//! - **No blocklist**: samples inside `malloc` and `free` (libc) are kept;
//!   they are the cost this project shows.
//!
//! The signal handler's own frames (the unwinder, pprof-rs's
//! `perf_signal_handler` and the kernel's signal trampoline) are removed, so
//! `addresses[0]` is the interrupted instruction.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use super::symbolize::Symbolizer;
use super::Error;

/// The highest sampling frequency [`CpuProfiler::start`] uses: the kernel's
/// tick rate on the machines this project runs on.
pub const MAX_FREQUENCY_HZ: i32 = 250;

/// The name of pprof-rs's signal handler (`#[no_mangle]`), below which a
/// sampled stack begins.
const SIGNAL_HANDLER: &str = "perf_signal_handler";

/// A running CPU profiler: pprof-rs's sampler for the whole process.
///
/// Dropping it without [`stop`](CpuProfiler::stop) stops sampling and
/// discards the samples.
pub struct CpuProfiler {
    guard: ::pprof::ProfilerGuard<'static>,
    frequency_hz: i32,
}

impl std::fmt::Debug for CpuProfiler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CpuProfiler")
            .field("frequency_hz", &self.frequency_hz)
            .finish_non_exhaustive()
    }
}

impl CpuProfiler {
    /// Starts sampling every thread of this process at `frequency_hz`,
    /// clamped to `1..=`[`MAX_FREQUENCY_HZ`], with no library blocklisted.
    ///
    /// pprof-rs allows one profiler per process: a second start while one
    /// runs fails.
    ///
    /// # Allocation
    ///
    /// pprof-rs's sample table (a few hundred KiB, on the first start of the
    /// process) and one backtrace it takes to load symbol tables early. The
    /// signal handler itself does not allocate.
    ///
    /// # Errors
    ///
    /// [`Error::StartProfiler`] when pprof-rs cannot start.
    pub fn start(frequency_hz: i32) -> Result<CpuProfiler, Error> {
        let frequency_hz = frequency_hz.clamp(1, MAX_FREQUENCY_HZ);
        let guard = ::pprof::ProfilerGuardBuilder::default()
            .frequency(frequency_hz)
            .build()
            .map_err(|source| Error::StartProfiler {
                frequency_hz,
                source,
            })?;
        Ok(CpuProfiler {
            guard,
            frequency_hz,
        })
    }

    /// The sampling frequency in use, after clamping. Never allocates.
    #[must_use]
    pub fn frequency_hz(&self) -> i32 {
        self.frequency_hz
    }

    /// Stops sampling and returns the samples, unresolved.
    ///
    /// Stacks are merged when their addresses are equal (threads are not
    /// told apart) and sorted by address, so the result does not depend on
    /// pprof-rs's hash order.
    ///
    /// # Allocation
    ///
    /// pprof-rs's unresolved report (a map of its stacks), one `Vec<u64>`
    /// per distinct stack, and the frames of the distinct functions among
    /// the first frames of each stack, symbolized in one
    /// [`Symbolizer::resolve_many`] pass to find the signal handler's
    /// frames (dropped before returning).
    ///
    /// # Errors
    ///
    /// [`Error::Report`] when pprof-rs cannot hand over its samples (its
    /// overflow file could not be read).
    pub fn stop(self) -> Result<CpuSamples, Error> {
        let report = self
            .guard
            .report()
            .build_unresolved()
            .map_err(|source| Error::Report { source })?;
        drop(self.guard);

        let stacks: Vec<(Vec<(u64, usize)>, u64)> = report
            .data
            .iter()
            .filter_map(|(frames, &count)| {
                let count = u64::try_from(count).ok().filter(|&c| c > 0)?;
                let ips = frames
                    .frames
                    .iter()
                    .map(|f| (f.ip() as usize as u64, f.symbol_address() as usize))
                    .collect();
                Some((ips, count))
            })
            .collect();
        let key = |function_start: usize, ip: u64| {
            if function_start == 0 {
                ip as usize
            } else {
                function_start
            }
        };
        // The functions that may be the handler, symbolized in one pass
        // (see `Symbolizer::resolve_many`) rather than one `backtrace`
        // lookup each, which would parse and keep the debug info.
        let mut names = Symbolizer::new();
        names.resolve_many(stacks.iter().flat_map(|(ips, _)| {
            ips.iter()
                .take(HANDLER_SEARCH_DEPTH)
                .map(|&(ip, start)| key(start, ip) as u64)
        }));
        let mut merged: BTreeMap<Vec<u64>, u64> = BTreeMap::new();
        for (ips, count) in &stacks {
            let addresses = strip_handler_frames(ips, |function_start, ip| {
                names
                    .resolve(key(function_start, ip) as u64)
                    .iter()
                    .any(|f| f.system_name == SIGNAL_HANDLER)
            });
            if addresses.is_empty() {
                continue;
            }
            *merged.entry(addresses).or_insert(0) += count;
        }
        let samples = merged
            .into_iter()
            .map(|(addresses, count)| CpuSample { addresses, count })
            .collect();
        let timing = &report.timing;
        Ok(CpuSamples {
            samples,
            frequency_hz: timing.frequency,
            start_time: timing.start_time,
            duration: timing.duration,
        })
    }
}

/// The samples of one profiling session, unresolved.
#[derive(Clone, Debug, PartialEq)]
pub struct CpuSamples {
    /// Distinct stacks with their counts, sorted by addresses.
    pub samples: Vec<CpuSample>,
    /// The sampling frequency (samples per second of CPU time).
    pub frequency_hz: i32,
    /// When sampling started.
    pub start_time: SystemTime,
    /// How long sampling ran (wall clock).
    pub duration: Duration,
}

impl CpuSamples {
    /// The sampling period: nanoseconds of CPU time one sample stands for
    /// (`1e9 / frequency_hz`; 4,000,000 at 250 Hz). Never allocates.
    #[must_use]
    pub fn period_ns(&self) -> i64 {
        1_000_000_000 / i64::from(self.frequency_hz.max(1))
    }

    /// The number of samples taken, all stacks together. Never allocates.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.samples
            .iter()
            .fold(0u64, |n, s| n.saturating_add(s.count))
    }
}

/// One distinct sampled stack.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CpuSample {
    /// Instruction addresses, leaf first. `addresses[0]` is the instruction
    /// the signal interrupted; every other one is a *return address* (the
    /// instruction after a call), which
    /// [`symbolize::lookup_address`](super::symbolize::lookup_address)
    /// turns into an address inside the call.
    pub addresses: Vec<u64>,
    /// How many times this stack was sampled.
    pub count: u64,
}

// The handler is among the first few frames; searching them all would
// cost one (cached) lookup per distinct function, which is cheap too,
// but the bound keeps a stack without the handler from paying it.
const HANDLER_SEARCH_DEPTH: usize = 16;

/// Drops the frames of the sampler itself from one stack, given leaf first
/// as `(ip, function start)`: everything up to and including the signal
/// handler, and the signal trampoline after it (as pprof-rs's own
/// resolution does). A stack without the handler is kept whole. Zero
/// addresses (the unwinder's end marker) are dropped.
fn strip_handler_frames(
    frames: &[(u64, usize)],
    mut is_handler: impl FnMut(usize, u64) -> bool,
) -> Vec<u64> {
    let start = frames
        .iter()
        .take(HANDLER_SEARCH_DEPTH)
        .position(|&(ip, function_start)| is_handler(function_start, ip))
        .map_or(0, |i| i + 2);
    frames
        .iter()
        .skip(start)
        .map(|&(ip, _)| ip)
        .filter(|&ip| ip != 0)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handler_frames_and_trampoline_are_dropped() {
        // unwinder, pprof trace, handler, trampoline, leaf, caller, end marker
        let frames = [
            (0x10, 0x10),
            (0x20, 0x20),
            (0x30, 0x2f),
            (0x40, 0x3f),
            (0x50, 0x48),
            (0x60, 0x58),
            (0, 0),
        ];
        let out = strip_handler_frames(&frames, |start, _| start == 0x2f);
        assert_eq!(out, vec![0x50, 0x60]);
    }

    #[test]
    fn a_stack_without_the_handler_is_kept_whole() {
        let frames = [(0x50, 0x48), (0x60, 0x58), (0, 0)];
        let out = strip_handler_frames(&frames, |_, _| false);
        assert_eq!(out, vec![0x50, 0x60]);
        // A handler as the last frames leaves nothing.
        let out = strip_handler_frames(&[(0x30, 0x2f), (0x40, 0x3f)], |s, _| s == 0x2f);
        assert!(out.is_empty());
    }

    #[test]
    fn period_follows_frequency() {
        let s = CpuSamples {
            samples: vec![
                CpuSample {
                    addresses: vec![1],
                    count: 3,
                },
                CpuSample {
                    addresses: vec![2],
                    count: 4,
                },
            ],
            frequency_hz: 250,
            start_time: SystemTime::UNIX_EPOCH,
            duration: Duration::ZERO,
        };
        assert_eq!(s.period_ns(), 4_000_000);
        assert_eq!(s.total(), 7);
        let zero = CpuSamples {
            frequency_hz: 0,
            ..s
        };
        assert_eq!(zero.period_ns(), 1_000_000_000);
    }

    // Sampling itself is tested in tests/cpu_lines.rs, alone in its test
    // binary: pprof-rs allows one profiler per process and samples every
    // thread, so it cannot share a binary with other tests that profile.
}
