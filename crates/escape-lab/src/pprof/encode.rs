//! Building `profile.proto` messages (pprof-rs's prost types) the way Go's
//! runtime writes them, the CPU producer, and gzip in and out.
//!
//! What a profile built here carries, and why:
//!
//! - **One Location per distinct address**, with the address itself and its
//!   inlined frames as Lines, innermost first (Go's order). Addresses are
//!   lookup addresses ([`super::symbolize::lookup_address`]): the executing
//!   instruction for a CPU sample's leaf, the call instruction (return
//!   address − 1) for callers, as Go writes call PCs. So `-addresses` and
//!   `-disasm` point at the instruction whose line is shown.
//! - **Functions** with the demangled name (no hash), the symbol as in the
//!   object file (`system_name`), and the file name.
//! - **Mappings** of the process, the main binary first, with the build id
//!   and `has_functions`/`has_filenames`/`has_line_numbers`/
//!   `has_inline_frames` set when the locations in it were symbolized: then
//!   `go tool pprof` neither re-symbolizes (and overwrites good lines) nor
//!   prints "Main binary filename not available".
//! - **Link-time addresses for the main binary** ([`Addresses::MainBinaryLinkTime`],
//!   the default of both producers): its Locations and its Mapping are moved
//!   by the load bias, so they carry the addresses `nm` and `objdump` show,
//!   as a non-PIE binary's would. `go tool pprof` (Go's `cmd/pprof`, unlike
//!   google/pprof) never translates addresses to the file's, so `-disasm` of
//!   a position-independent Rust binary finds nothing otherwise; the
//!   addresses are also the same from run to run (no ASLR), and
//!   google/pprof reads them correctly. Libraries keep their runtime
//!   addresses (far above, so no range overlaps).
//! - The protobuf's Line has no column in this version of `profile.proto`;
//!   columns stay in [`Frame`] for folding and listings.
//!
//! Output is deterministic for a given input: strings, functions and
//! locations are numbered in order of first use, samples keep the order
//! given, and [`to_gzip`] writes no time stamp (only `time_nanos`, when the
//! caller sets it, varies from run to run).

use std::collections::HashMap;
use std::io::Write as _;
use std::time::{Duration, SystemTime};

use ::pprof::protos::{self, Message as _};

use super::cpu::CpuSamples;
use super::mapping::Mapping;
use super::symbolize::{Frame, Symbolizer};
use super::Error;

pub use ::pprof::protos::Profile;

/// Which addresses Locations and Mappings carry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Addresses {
    /// As in the process: the addresses sampled.
    Runtime,
    /// The main binary's (`mappings[0]`) moved to its link-time addresses
    /// when its load bias is known (see the module docs); the others as in
    /// the process.
    #[default]
    MainBinaryLinkTime,
}

/// Builds a [`Profile`] location by location and sample by sample, interning
/// strings, functions and locations.
#[derive(Debug)]
pub struct ProfileBuilder {
    profile: Profile,
    strings: HashMap<String, i64>,
    functions: HashMap<(i64, i64, i64), u64>,
    locations: HashMap<(u64, Vec<(u64, i64)>), u64>,
    samples: HashMap<Vec<u64>, usize>,
    mappings: Vec<Mapping>,
    /// Subtracted from the addresses of the main binary's locations.
    main_bias: u64,
    /// Smallest line seen per function id, for `start_line`.
    first_lines: HashMap<u64, i64>,
}

impl ProfileBuilder {
    /// A profile whose samples have one value per `sample_types` entry
    /// (`(type, unit)`, e.g. `("samples", "count")`), and whose sampling
    /// period is `period` in `period_type` units.
    ///
    /// # Allocation
    ///
    /// The string table's first entries and the (empty) tables.
    #[must_use]
    pub fn new(sample_types: &[(&str, &str)], period_type: (&str, &str), period: i64) -> Self {
        let mut b = ProfileBuilder {
            profile: Profile::default(),
            strings: HashMap::new(),
            functions: HashMap::new(),
            locations: HashMap::new(),
            samples: HashMap::new(),
            mappings: Vec::new(),
            main_bias: 0,
            first_lines: HashMap::new(),
        };
        b.string(""); // index 0 is always the empty string
        for &(ty, unit) in sample_types {
            let vt = protos::ValueType {
                ty: b.string(ty),
                unit: b.string(unit),
            };
            b.profile.sample_type.push(vt);
        }
        b.profile.period_type = Some(protos::ValueType {
            ty: b.string(period_type.0),
            unit: b.string(period_type.1),
        });
        b.profile.period = period;
        b
    }

    /// Sets the Mapping table, with runtime addresses as given. Call it
    /// before adding locations: each location is attributed to the first
    /// mapping containing its (runtime) address. `mappings[0]` should be the
    /// main binary (see
    /// [`mapping::current_process`](super::mapping::current_process)).
    /// With [`Addresses::MainBinaryLinkTime`], the main binary's mapping and
    /// locations are written at link-time addresses.
    ///
    /// # Allocation
    ///
    /// One protobuf Mapping per entry and their strings.
    pub fn set_mappings(&mut self, mappings: &[Mapping], addresses: Addresses) {
        self.profile.mapping.clear();
        self.mappings = mappings.to_vec();
        self.main_bias = match (addresses, mappings.first()) {
            (Addresses::MainBinaryLinkTime, Some(m)) => m.load_bias().unwrap_or(0),
            _ => 0,
        };
        for (i, m) in mappings.iter().enumerate() {
            let filename = self.string(&m.path);
            let build_id = self.string(m.build_id.as_deref().unwrap_or(""));
            let bias = if i == 0 { self.main_bias } else { 0 };
            self.profile.mapping.push(protos::Mapping {
                id: i as u64 + 1,
                memory_start: m.start.wrapping_sub(bias),
                memory_limit: m.limit.wrapping_sub(bias),
                file_offset: m.offset,
                filename,
                build_id,
                ..protos::Mapping::default()
            });
        }
    }

    /// Adds a comment (shown by `go tool pprof -comments` and in `-top`'s
    /// header with `-nodecount`).
    ///
    /// # Allocation
    ///
    /// The comment in the string table.
    pub fn comment(&mut self, text: &str) {
        let i = self.string(text);
        self.profile.comment.push(i);
    }

    /// Makes `sample_type` (one of the types given to [`new`](Self::new))
    /// the one `go tool pprof` shows without `-sample_index`.
    ///
    /// # Allocation
    ///
    /// The name in the string table if it is new.
    pub fn default_sample_type(&mut self, sample_type: &str) {
        self.profile.default_sample_type = self.string(sample_type);
    }

    /// Sets when profiling started and how long it ran. Never allocates.
    pub fn set_time(&mut self, start: SystemTime, duration: Duration) {
        self.profile.time_nanos = start
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
        self.profile.duration_nanos = i64::try_from(duration.as_nanos()).unwrap_or(i64::MAX);
    }

    /// The id of the Location for `address` with `frames` (innermost first),
    /// adding it on first use. Two calls with the same address and the same
    /// frames give the same id. Frames without a function name are left
    /// out of the Lines.
    ///
    /// # Allocation
    ///
    /// On first use of a location: its Lines, new Functions and their
    /// strings, and the interning keys.
    pub fn location(&mut self, address: u64, frames: &[Frame]) -> u64 {
        let mut lines = Vec::with_capacity(frames.len());
        for f in frames {
            let name = if f.function.is_empty() {
                f.system_name.as_str()
            } else {
                f.function.as_str()
            };
            if name.is_empty() {
                continue;
            }
            let function_id = self.function(name, &f.system_name, f.file.as_deref());
            let line = f.line.map_or(0, i64::from);
            if line > 0 {
                let first = self.first_lines.entry(function_id).or_insert(line);
                *first = (*first).min(line);
            }
            lines.push((function_id, line));
        }
        let key = (address, lines);
        if let Some(&id) = self.locations.get(&key) {
            return id;
        }
        let id = self.profile.location.len() as u64 + 1;
        let mapping = self.mappings.iter().position(|m| m.contains(address));
        let mapping_id = mapping.map_or(0, |i| i as u64 + 1);
        let written = if mapping == Some(0) {
            address.wrapping_sub(self.main_bias)
        } else {
            address
        };
        self.profile.location.push(protos::Location {
            id,
            mapping_id,
            address: written,
            line: key
                .1
                .iter()
                .map(|&(function_id, line)| protos::Line { function_id, line })
                .collect(),
            is_folded: false,
        });
        self.locations.insert(key, id);
        id
    }

    /// Adds a sample: its stack as location ids, leaf first, and one value
    /// per sample type. A sample with the same stack as an earlier one is
    /// merged into it (values added). Values beyond the sample types are
    /// ignored, missing ones are zero.
    ///
    /// # Allocation
    ///
    /// On a new stack: the sample and its key.
    pub fn sample(&mut self, location_ids: Vec<u64>, values: &[i64]) {
        let n = self.profile.sample_type.len();
        if let Some(&i) = self.samples.get(&location_ids) {
            let sample = &mut self.profile.sample[i];
            for (v, add) in sample.value.iter_mut().zip(values) {
                *v = v.saturating_add(*add);
            }
            return;
        }
        let mut value = values.iter().copied().take(n).collect::<Vec<_>>();
        value.resize(n, 0);
        self.samples
            .insert(location_ids.clone(), self.profile.sample.len());
        self.profile.sample.push(protos::Sample {
            location_id: location_ids,
            value,
            label: Vec::new(),
        });
    }

    /// The finished profile, with each mapping's `has_*` flags set from the
    /// locations in it (all set for a mapping without locations), and each function's `start_line` set to the first
    /// line seen in it (debug info as read here has no declaration line;
    /// `go tool pprof -list` starts there instead of at the file's top when
    /// a Line of the function has no line number).
    ///
    /// # Allocation
    ///
    /// None beyond what the builder holds (moved out).
    #[must_use]
    pub fn build(mut self) -> Profile {
        let n = self.profile.mapping.len();
        // Per mapping: (locations, with a function, with a file, with a line).
        let mut seen = vec![(0usize, false, false, false); n];
        for loc in &self.profile.location {
            let Some(i) = (loc.mapping_id as usize).checked_sub(1) else {
                continue;
            };
            let Some(flag) = seen.get_mut(i) else {
                continue;
            };
            flag.0 += 1;
            for line in &loc.line {
                flag.1 = true;
                let has_file = (line.function_id as usize)
                    .checked_sub(1)
                    .and_then(|i| self.profile.function.get(i))
                    .is_some_and(|f| f.filename != 0);
                flag.2 |= has_file;
                flag.3 |= line.line > 0;
            }
        }
        for f in &mut self.profile.function {
            if let Some(&line) = self.first_lines.get(&f.id) {
                f.start_line = line;
            }
        }
        for (m, (locations, functions, filenames, lines)) in
            self.profile.mapping.iter_mut().zip(seen)
        {
            // A mapping without locations counts as symbolized: pprof keeps
            // the first profile's flags when it merges (`-base`), and would
            // otherwise re-symbolize the other profile's locations with its
            // own tools, which know less (no inlined frames, no Rust names).
            let empty = locations == 0;
            m.has_functions = empty || functions;
            m.has_filenames = empty || filenames;
            m.has_line_numbers = empty || lines;
            m.has_inline_frames = empty || functions;
        }
        self.profile
    }

    fn string(&mut self, s: &str) -> i64 {
        if let Some(&i) = self.strings.get(s) {
            return i;
        }
        let i = self.profile.string_table.len() as i64;
        self.profile.string_table.push(s.to_owned());
        self.strings.insert(s.to_owned(), i);
        i
    }

    fn function(&mut self, name: &str, system_name: &str, file: Option<&str>) -> u64 {
        let name = self.string(name);
        let system_name = if system_name.is_empty() {
            name
        } else {
            self.string(system_name)
        };
        let filename = self.string(file.unwrap_or(""));
        let key = (name, system_name, filename);
        if let Some(&id) = self.functions.get(&key) {
            return id;
        }
        let id = self.profile.function.len() as u64 + 1;
        self.profile.function.push(protos::Function {
            id,
            name,
            system_name,
            filename,
            start_line: 0,
        });
        self.functions.insert(key, id);
        id
    }
}

/// What goes into a CPU profile besides the samples.
#[derive(Clone, Copy, Debug, Default)]
pub struct CpuProfileOptions<'a> {
    /// The executable mappings of this process, main binary first (see
    /// [`mapping::current_process`](super::mapping::current_process)).
    pub mappings: &'a [Mapping],
    /// Which addresses to write (see [`Addresses`]).
    pub addresses: Addresses,
    /// Comments (`go tool pprof -comments`), e.g. the scenario and its call
    /// count.
    pub comments: &'a [&'a str],
}

/// A CPU profile as Go writes one: sample types `samples/count` and
/// `cpu/nanoseconds`, period type `cpu/nanoseconds` with the sampling
/// period, the start time and duration, the Mappings (main binary first),
/// one Location per distinct lookup address with its inlined frames, and
/// the comments.
///
/// # Allocation
///
/// The profile (tables, strings, one sample per distinct stack), and the
/// symbolizer's cache entries for addresses it had not seen.
#[must_use]
pub fn cpu_profile(
    samples: &CpuSamples,
    symbolizer: &mut Symbolizer,
    options: &CpuProfileOptions<'_>,
) -> Profile {
    let period = samples.period_ns();
    let mut b = ProfileBuilder::new(
        &[("samples", "count"), ("cpu", "nanoseconds")],
        ("cpu", "nanoseconds"),
        period,
    );
    b.set_mappings(options.mappings, options.addresses);
    b.set_time(samples.start_time, samples.duration);
    for c in options.comments {
        b.comment(c);
    }
    // Every sample's addresses symbolized in one pass (see
    // `Symbolizer::resolve_many`), the loop below then only hits the cache.
    symbolizer.prefetch_stacks(samples.samples.iter().map(|s| s.addresses.as_slice()));
    for s in &samples.samples {
        let stack = symbolizer.resolve_stack(&s.addresses);
        let ids = stack
            .iter()
            .map(|l| b.location(l.address, &l.frames))
            .collect();
        let count = i64::try_from(s.count).unwrap_or(i64::MAX);
        b.sample(ids, &[count, count.saturating_mul(period)]);
    }
    b.build()
}

/// The profile encoded and gzip-compressed, as `go tool pprof` reads it;
/// the gzip header has no time stamp, so equal profiles give equal bytes.
///
/// # Allocation
///
/// The encoded protobuf and its compressed copy.
///
/// # Errors
///
/// [`Error::Gzip`] if compression fails (it does not on a `Vec`).
pub fn to_gzip(profile: &Profile) -> Result<Vec<u8>, Error> {
    let raw = profile.encode_to_vec();
    let gzip_err = |source| Error::Gzip {
        action: "compress",
        source,
    };
    let mut gz = flate2::GzBuilder::new().mtime(0).write(
        Vec::with_capacity(raw.len() / 4 + 64),
        flate2::Compression::default(),
    );
    gz.write_all(&raw).map_err(gzip_err)?;
    gz.finish().map_err(gzip_err)
}

pub use super::read::{from_bytes, ProfileIndex};

#[cfg(test)]
#[path = "encode_tests.rs"]
mod tests;
