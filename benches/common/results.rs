//! The JSON files the benches write: one per group, merged with the
//! entries of the benchmarks a filtered run skipped, written atomically.

use std::collections::BTreeMap;
use std::path::PathBuf;

use escape_lab::__private::fmt::ratio;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::record::Row;

/// One benchmark's entry in `allocations.json`.
#[derive(Serialize)]
struct AllocationEntry {
    kind: &'static str,
    /// `"ok"` or `"error: ..."`.
    status: String,
    counted_ops: u64,
    calls_per_op: u64,
    matches_per_op: Option<u64>,
    allocs_total: u64,
    alloc_bytes_total: u64,
    allocs_per_op: f64,
    alloc_bytes_per_op: f64,
    allocs_per_call: f64,
    alloc_bytes_per_call: f64,
}

/// The `allocations.json` entries of the rows criterion ran, by id; rows
/// measured under the profiler are left out (they would replace the figures
/// of a plain run).
pub fn allocation_entries(rows: &[Row]) -> BTreeMap<String, Value> {
    rows.iter()
        .filter(|r| r.ran() && !r.profiled)
        .map(|r| {
            let calls = r.ops * r.calls_per_op;
            let entry = AllocationEntry {
                kind: r.kind,
                status: r
                    .error
                    .as_ref()
                    .map_or("ok".to_owned(), |e| format!("error: {e}")),
                counted_ops: r.ops,
                calls_per_op: r.calls_per_op,
                matches_per_op: r.matches_per_op,
                allocs_total: r.counts.allocs,
                alloc_bytes_total: r.counts.bytes,
                allocs_per_op: ratio(r.counts.allocs, r.ops),
                alloc_bytes_per_op: ratio(r.counts.bytes, r.ops),
                allocs_per_call: ratio(r.counts.allocs, calls),
                alloc_bytes_per_call: ratio(r.counts.bytes, calls),
            };
            (r.id.clone(), to_value(&entry))
        })
        .collect()
}

/// Serialises plain data.
pub fn to_value(v: &impl Serialize) -> Value {
    serde_json::to_value(v).expect("plain data serialises")
}

/// The version of the files [`save`] writes.
pub const SCHEMA_VERSION: u32 = 2;

/// What every file [`save`] writes holds: the group, what one op is, the
/// input, and one entry per benchmark, keyed by its id.
#[derive(Serialize, Deserialize)]
struct GroupFile {
    schema_version: u32,
    group: String,
    op: String,
    input: Value,
    benchmarks: BTreeMap<String, Value>,
}

/// Where the benches write: `<package root>/target/escape-lab/bench/` for
/// optimised builds (`cargo bench`), `.../bench-unoptimised/` for
/// unoptimised ones (`cargo test --benches`), so that a smoke test on small
/// inputs never replaces real figures. The package root is this bench's
/// `CARGO_MANIFEST_DIR`; criterion's folder is not involved.
pub fn results_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("escape-lab")
        .join(if super::UNOPTIMISED {
            "bench-unoptimised"
        } else {
            "bench"
        })
}

/// Merges `fresh` (entries by benchmark id) into
/// `<results dir>/<group>/<file>` and writes it atomically, keys sorted.
///
/// The entries already there for other ids are kept, so a filtered run does
/// not destroy the figures of the benchmarks it skipped, unless the file
/// describes another `op` or `input` (another workload, other sizes, an
/// older schema): then it is replaced, and a line says so. Writes nothing
/// when `fresh` is empty.
///
/// # Panics
///
/// When the file cannot be written: a bench that silently lost its results
/// would be worse.
pub fn save(group: &str, file: &str, op: &str, input: Value, fresh: BTreeMap<String, Value>) {
    if fresh.is_empty() {
        return;
    }
    let dir = results_dir().join(group);
    let path = dir.join(file);
    let mut benchmarks = BTreeMap::new();
    if let Ok(bytes) = std::fs::read(&path) {
        match serde_json::from_slice::<GroupFile>(&bytes) {
            Ok(old)
                if old.schema_version == SCHEMA_VERSION
                    && old.group == group
                    && old.op == op
                    && old.input == input =>
            {
                benchmarks = old.benchmarks;
            }
            _ => println!(
                "{file}: replacing {}: it describes another input or format",
                path.display()
            ),
        }
    }
    let ran = fresh.len();
    benchmarks.extend(fresh);
    let kept = benchmarks.len() - ran;
    let json = GroupFile {
        schema_version: SCHEMA_VERSION,
        group: group.to_owned(),
        op: op.to_owned(),
        input,
        benchmarks,
    };
    // Through `Value`, whose objects are sorted maps: every key in the file
    // is in a fixed order, whichever run wrote the entry.
    let mut bytes = serde_json::to_vec_pretty(&to_value(&json)).expect("plain data serialises");
    bytes.push(b'\n');
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    escape_lab::__private::atomic::write(&path, &bytes)
        .unwrap_or_else(|e| panic!("{}", escape_lab::__private::fmt::error_chain(&e)));
    println!(
        "{file}: {} ({ran} from this run, {kept} kept from earlier runs)",
        path.display()
    );
}
