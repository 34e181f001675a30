//! Per-line costs read out of a profile: what [`super::listing`] prints.
//! See the listing module's docs for flat and cum.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::encode::{Profile, ProfileIndex};
use super::source::SourceIndex;
use super::Error;

/// The cost of one source line of one function.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LineCost {
    /// The function (demangled, no hash).
    pub function: String,
    /// The file as the profile records it (`""` when unknown).
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// The cost charged to this line, one entry per value.
    pub flat: Vec<i64>,
    /// The cost of the samples passing through it, one entry per value.
    pub cum: Vec<i64>,
}

/// Where a sample's flat cost goes.
#[derive(Clone, Copy, Debug)]
pub enum FlatAt<'a> {
    /// The innermost frame of the sample (pprof's flat).
    Leaf,
    /// The first frame from the leaf whose file is one of the index's own
    /// files; the innermost frame when there is none.
    FirstOwn(&'a SourceIndex),
}

/// Per-line costs of `profile` for the values `sample_indexes` (e.g. the
/// indices of `alloc_objects` and `alloc_space`), sorted by file, line and
/// function. Lines without a line number are left out.
///
/// # Allocation
///
/// The returned costs (a name, a file and two small vectors each) and two
/// maps while summing.
///
/// # Errors
///
/// [`Error::NoSampleType`] when an index is out of range.
pub fn line_costs(
    profile: &Profile,
    sample_indexes: &[usize],
    flat_at: FlatAt<'_>,
) -> Result<Vec<LineCost>, Error> {
    let ix = ProfileIndex::new(profile);
    for &i in sample_indexes {
        if i >= profile.sample_type.len() {
            return Err(ix.sample_index(&i.to_string()).err().unwrap_or_else(|| {
                Error::NoSampleType {
                    wanted: i.to_string(),
                    available: String::new(),
                }
            }));
        }
    }
    let n = sample_indexes.len();
    // (name, file, line) → (flat, cum)
    let mut sums: BTreeMap<LineKey<'_>, (Vec<i64>, Vec<i64>)> = BTreeMap::new();
    let mut own_cache: HashMap<&str, bool> = HashMap::new();
    let mut seen: BTreeSet<LineKey<'_>> = BTreeSet::new();
    for sample in &profile.sample {
        let values: Vec<i64> = sample_indexes
            .iter()
            .map(|&i| sample.value.get(i).copied().unwrap_or(0))
            .collect();
        if values.iter().all(|&v| v == 0) {
            continue;
        }
        // Leaf first, innermost first.
        let lines: Vec<(&str, &str, i64)> = ix.lines(sample).collect();
        let flat = match flat_at {
            FlatAt::Leaf => lines.first(),
            FlatAt::FirstOwn(sources) => lines
                .iter()
                .find(|(_, file, _)| {
                    *own_cache
                        .entry(file)
                        .or_insert_with(|| !file.is_empty() && sources.is_own(file))
                })
                .or(lines.first()),
        };
        if let Some(&(name, file, line)) = flat {
            if let Ok(line) = u32::try_from(line) {
                if line > 0 {
                    let e = sums
                        .entry((name, file, line))
                        .or_insert_with(|| (vec![0; n], vec![0; n]));
                    add(&mut e.0, &values);
                }
            }
        }
        seen.clear();
        for &(name, file, line) in &lines {
            let Ok(line) = u32::try_from(line) else {
                continue;
            };
            if line == 0 || !seen.insert((name, file, line)) {
                continue;
            }
            let e = sums
                .entry((name, file, line))
                .or_insert_with(|| (vec![0; n], vec![0; n]));
            add(&mut e.1, &values);
        }
    }
    let mut out: Vec<LineCost> = sums
        .into_iter()
        .map(|((function, file, line), (flat, cum))| LineCost {
            function: function.to_owned(),
            file: file.to_owned(),
            line,
            flat,
            cum,
        })
        .collect();
    out.sort_by(|a, b| (&a.file, a.line, &a.function).cmp(&(&b.file, b.line, &b.function)));
    Ok(out)
}

/// `(function, file, line)` of a profile's line, borrowed from its string
/// table.
type LineKey<'a> = (&'a str, &'a str, u32);

fn add(acc: &mut [i64], values: &[i64]) {
    for (a, v) in acc.iter_mut().zip(values) {
        *a = a.saturating_add(*v);
    }
}
