//! Tests of the model: JSON shapes and the schema-1 reader.
use super::*;

#[test]
fn status_flattens_into_the_scenario() {
    let failed = Status::Failed {
        pass: Pass::Cpu,
        error: "crashed".into(),
    };
    let json = serde_json::to_value(&failed).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"status": "failed", "pass": "cpu", "error": "crashed"})
    );
    assert_eq!(failed.error().unwrap(), "cpu pass: crashed");
    assert_eq!(
        serde_json::to_value(Status::Ok).unwrap(),
        serde_json::json!({"status": "ok"})
    );
}

#[test]
fn pass_results_are_tagged_by_pass() {
    let r = PassResult::Count(CountResult {
        calls: 2,
        items: 3,
        allocs: 4,
        bytes: 5,
    });
    let json = serde_json::to_string(&r).unwrap();
    assert_eq!(
        json,
        r#"{"pass":"count","calls":2,"items":3,"allocs":4,"bytes":5}"#
    );
    assert_eq!(serde_json::from_str::<PassResult>(&json).unwrap(), r);
    assert_eq!(r.pass(), Pass::Count);
}

#[test]
fn schema_1_summaries_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("summary.json");
    std::fs::write(&p, V1).unwrap();
    let s = read_summary(&p).unwrap();
    assert_eq!(s.schema_version, SCHEMA_VERSION);
    assert_eq!(s.workload.facts["patterns"], 300);
    let owned = &s.scenarios[0];
    assert_eq!(owned.count.unwrap().allocs, 1024);
    assert_eq!(owned.per_call.allocs, 2.0);
    assert_eq!(owned.per_call.items, 1.5);
    assert!(owned.ok());
    let borrowed = &s.scenarios[1];
    assert_eq!(
        borrowed.status,
        Status::Failed {
            pass: Pass::Cpu,
            error: "crashed".into()
        }
    );
    assert_eq!(
        borrowed.artifacts[&Artifact::SitesTxt],
        "borrowed/sites.txt"
    );
}

#[test]
fn unknown_schemas_are_refused_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("summary.json");
    for (text, want) in [
        (
            r#"{"schema_version": "2"}"#,
            "schema_version \"2\" is not supported",
        ),
        (
            r#"{"schema_version": 9}"#,
            "schema_version 9 is not supported",
        ),
        (r#"{"scenarios": []}"#, "no schema_version field"),
        ("{", "not valid JSON"),
    ] {
        std::fs::write(&p, text).unwrap();
        let e = read_summary(&p).unwrap_err().to_string();
        assert!(e.contains(want) && e.contains("summary.json"), "{e}");
    }
}

const V1: &str = r#"{
  "schema_version": 1,
  "workload": {"name": "files", "patterns": 300, "haystack_bytes": 24576, "chunk": 2048},
  "quick": true,
  "scenarios": [
    {"name": "owned", "kind": "custom", "workload": "files", "description": "d",
     "status": "ok", "error": null, "calls": 512, "bytes_per_call": 2048.0,
     "matches_per_call": 1.5, "allocs_total": 1024, "bytes_allocated_total": 4096,
     "allocs_per_call": 2.0, "bytes_allocated_per_call": 8.0, "heap_calls": 64,
     "heap_allocs": 128, "peak_live_bytes": 10,
     "ns_per_call": {"median": 100.0, "min": 90.0, "max": 110.0, "batches": 5},
     "mb_per_s": 20.48, "cpu_samples": 75,
     "sites": [{"location": "src/a.rs:1:1", "function": "a", "allocs": 128,
                "bytes": 512, "allocs_per_call": 2.0, "bytes_per_call": 8.0}],
     "artifacts": {"cpu_svg": "owned/cpu.svg"}},
    {"name": "borrowed", "kind": "custom", "workload": "files", "description": "d",
     "status": "failed", "error": "cpu pass: crashed", "calls": 512,
     "bytes_per_call": 2048.0, "matches_per_call": 1.5, "allocs_total": 0,
     "bytes_allocated_total": 0, "allocs_per_call": 0.0,
     "bytes_allocated_per_call": 0.0, "heap_calls": 64, "heap_allocs": 0,
     "peak_live_bytes": 0, "ns_per_call": null, "mb_per_s": null, "cpu_samples": 0,
     "sites": [], "artifacts": {"sites_txt": "borrowed/sites.txt"}}
  ]
}"#;
