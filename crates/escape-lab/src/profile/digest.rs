//! A scenario's pass results turned into its summary entry and its files,
//! in memory; and the differential graphs drawn from its folded stacks.

use std::path::Path;

use crate::child::PassFailure;
use crate::index::Pictures;
use crate::model::{
    Artifact, Comparison, Pass, PassResult, PerCall, ScenarioSummary, Status, Summary,
};
use crate::scenario::Scenario;
use crate::{atomic, flame, fmt, pass, Error};

/// One scenario, digested: its summary entry, its files (in memory, not yet
/// written), and its folded allocation stacks for differential graphs.
pub(super) struct Digested {
    pub summary: ScenarioSummary,
    pub files: Vec<(Artifact, Vec<u8>)>,
    pub folded_count: String,
    pub folded_bytes: String,
}

/// Turns a scenario's pass results into its summary entry and its rendered
/// files. The first failure, of a pass or of rendering, is its status.
pub(super) fn digest(
    s: &Scenario,
    dir: &Path,
    results: Vec<(Pass, Result<PassResult, PassFailure>)>,
    source_root: &Path,
) -> Digested {
    let name = s.name();
    let mut d = Digested {
        summary: ScenarioSummary {
            name: name.to_string(),
            kind: s.kind_of().to_string(),
            workload: s.workload_name().to_string(),
            description: s.description().to_string(),
            status: Status::Ok,
            items_unit: s.items_unit().map(str::to_string),
            bytes_per_call: s.bytes_per_call(),
            per_call: PerCall::default(),
            count: None,
            heap: None,
            cpu: None,
            instr: None,
            notes: Vec::new(),
            sites: Vec::new(),
            reach: None,
            artifacts: Default::default(),
        },
        files: Vec::new(),
        folded_count: String::new(),
        folded_bytes: String::new(),
    };
    let mut listings = Vec::new();
    let mut status = Status::Ok;
    for (p, r) in results {
        let failure = match r {
            Err(e) => Some(e.0),
            Ok(r) => d.take(r, dir, source_root, &mut listings).err(),
        };
        if let (Some(error), true) = (failure, status.is_ok()) {
            status = Status::Failed { pass: p, error };
        }
    }
    match s.reach_from(source_root) {
        Ok(r) => {
            d.files.push((
                Artifact::ReachTxt,
                crate::reach::text(name, &r, true).into_bytes(),
            ));
            d.summary.reach = Some(r);
        }
        Err(e) => d.summary.notes.push(format!("reach: {e}")),
    }
    if !listings.is_empty() {
        d.files
            .push((Artifact::ListingTxt, listings.join("\n").into_bytes()));
    }
    for (artifact, _) in &d.files {
        d.summary.artifacts.insert(*artifact, rel(name, *artifact));
    }
    d.summary.status = status;
    d.summary.derive_per_call();
    d
}

impl Digested {
    /// Takes one pass's result in: its figures, its rendered files, its
    /// listing; the error of rendering it, if any.
    fn take(
        &mut self,
        r: PassResult,
        dir: &Path,
        source_root: &Path,
        listings: &mut Vec<String>,
    ) -> Result<(), String> {
        let name = self.summary.name.clone();
        let sum = &mut self.summary;
        match r {
            PassResult::Count(c) => sum.count = Some(c),
            PassResult::Heap { result, listing } => {
                let r = pass::heap::render(&name, dir, &result, source_root)
                    .map_err(|e| fmt::error_chain(&e))?;
                sum.heap = Some(result);
                sum.sites = r.sites;
                for a in [Artifact::HeapJson, Artifact::HeapPbGz] {
                    sum.artifacts.insert(a, rel(&name, a));
                }
                self.files.extend(r.files);
                self.folded_count = r.folded_count;
                self.folded_bytes = r.folded_bytes;
                listings.push(listing);
            }
            PassResult::Cpu {
                result,
                folded,
                listing,
            } => {
                let svg = pass::cpu::render(&name, &folded).map_err(|e| fmt::error_chain(&e))?;
                sum.cpu = Some(result);
                sum.artifacts
                    .insert(Artifact::CpuPbGz, rel(&name, Artifact::CpuPbGz));
                self.files.push((Artifact::CpuSvg, svg));
                listings.push(listing);
            }
            PassResult::Instr(r) => {
                sum.instr = Some(pass::instr::render(dir, r)?);
                let a = Artifact::CallgrindOut;
                sum.artifacts.insert(a, rel(&name, a));
            }
            PassResult::Skipped { skipped, reason } => {
                sum.notes.push(format!("{skipped} pass skipped: {reason}"));
            }
        }
        Ok(())
    }
}

fn rel(scenario: &str, artifact: Artifact) -> String {
    format!("{scenario}/{}", artifact.file_name())
}

/// Draws and writes the differential allocation flamegraphs of `before`
/// against `after` (by allocations and by bytes), when both succeeded.
pub(super) fn compare(
    out: &Path,
    summary: &mut Summary,
    pictures: &mut Pictures,
    folded: &[(String, String, String)],
    before: &str,
    after: &str,
) -> Result<(), Error> {
    let ok = |n: &str| summary.scenarios.iter().any(|s| s.name == n && s.ok());
    let find = |n: &str| folded.iter().find(|(name, ..)| name == n);
    let (Some(b), Some(a)) = (find(before), find(after)) else {
        return Ok(());
    };
    if !(ok(before) && ok(after)) {
        return Ok(());
    }
    let stem = format!("diff-{before}-vs-{after}");
    let count = flame::diff_svg(
        &b.1,
        &a.1,
        &format!("allocations: {before} → {after} (blue: gone in {after})"),
        "allocations",
    )?;
    let bytes = flame::diff_svg(
        &b.2,
        &a.2,
        &format!("bytes allocated: {before} → {after} (blue: gone in {after})"),
        "bytes",
    )?;
    let comparison = Comparison {
        before: before.to_string(),
        after: after.to_string(),
        count_svg: format!("{stem}.svg"),
        bytes_svg: format!("{stem}-bytes.svg"),
    };
    atomic::write(&out.join(&comparison.count_svg), count.as_bytes())?;
    atomic::write(&out.join(&comparison.bytes_svg), bytes.as_bytes())?;
    pictures.add_comparison(&comparison, count.into_bytes(), bytes.into_bytes());
    summary.comparisons.push(comparison);
    Ok(())
}
