//! `summary.json` as schema 1 wrote it (escape-lab 0.1 before the library
//! split), for [`super::read_summary`].

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Deserialize)]
pub struct Summary {
    workload: Workload,
    quick: bool,
    scenarios: Vec<Scenario>,
}

#[derive(Deserialize)]
struct Workload {
    name: String,
    patterns: u64,
    haystack_bytes: u64,
    chunk: u64,
}

#[derive(Deserialize)]
struct Scenario {
    name: String,
    kind: String,
    workload: String,
    description: String,
    error: Option<String>,
    calls: u64,
    bytes_per_call: f64,
    matches_per_call: f64,
    allocs_total: u64,
    bytes_allocated_total: u64,
    heap_calls: u64,
    heap_allocs: u64,
    peak_live_bytes: u64,
    ns_per_call: Option<super::Timing>,
    cpu_samples: u64,
    sites: Vec<Site>,
    artifacts: BTreeMap<super::Artifact, String>,
}

#[derive(Deserialize)]
struct Site {
    location: String,
    function: String,
    allocs: u64,
    bytes: u64,
}

impl From<Summary> for super::Summary {
    fn from(old: Summary) -> super::Summary {
        let facts = [
            ("patterns", old.workload.patterns),
            ("haystack_bytes", old.workload.haystack_bytes),
            ("chunk", old.workload.chunk),
        ];
        super::Summary {
            schema_version: super::SCHEMA_VERSION,
            workload: super::WorkloadInfo {
                name: old.workload.name,
                description: String::new(),
                facts: facts.iter().map(|(k, v)| ((*k).to_string(), *v)).collect(),
            },
            quick: old.quick,
            scenarios: old.scenarios.into_iter().map(Into::into).collect(),
            comparisons: Vec::new(),
            inputs: Vec::new(),
        }
    }
}

impl From<Scenario> for super::ScenarioSummary {
    fn from(s: Scenario) -> super::ScenarioSummary {
        let status = match s.error {
            None => super::Status::Ok,
            Some(e) => {
                let (pass, error) = e
                    .split_once(" pass: ")
                    .and_then(|(p, rest)| Some((super::Pass::from_name(p)?, rest)))
                    .map_or((super::Pass::Count, e.as_str()), |(p, r)| (p, r));
                super::Status::Failed {
                    pass,
                    error: error.to_string(),
                }
            }
        };
        let items = (s.matches_per_call * s.calls as f64).round() as u64;
        let mut new = super::ScenarioSummary {
            reach: None,
            name: s.name,
            items_unit: (s.matches_per_call > 0.0).then(|| "items".to_string()),
            kind: s.kind,
            workload: s.workload,
            description: s.description,
            status,
            bytes_per_call: s.bytes_per_call,
            per_call: super::PerCall::default(),
            count: (s.calls > 0).then_some(super::CountResult {
                calls: s.calls,
                items,
                allocs: s.allocs_total,
                bytes: s.bytes_allocated_total,
            }),
            heap: (s.heap_calls > 0).then_some(super::HeapResult {
                calls: s.heap_calls,
                blocks: s.heap_allocs,
                bytes: 0,
                peak_live_bytes: s.peak_live_bytes,
            }),
            cpu: s.ns_per_call.map(|timing| super::CpuResult {
                calls: 0,
                samples: s.cpu_samples,
                timing,
            }),
            instr: None,
            notes: Vec::new(),
            sites: s
                .sites
                .into_iter()
                .map(|x| super::Site {
                    location: x.location,
                    function: x.function,
                    allocs: x.allocs,
                    bytes: x.bytes,
                })
                .collect(),
            artifacts: s.artifacts,
        };
        new.derive_per_call();
        new
    }
}
