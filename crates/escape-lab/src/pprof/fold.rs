//! Folded stacks for flamegraphs (inferno, `flamegraph.pl`), from a profile
//! built by [`super::encode`] or [`super::heap`].
//!
//! One line per distinct stack, `root;...;leaf count`, sorted bytewise, equal
//! stacks merged, each line ending in `\n`. Inlined functions are frames of
//! their own, in call order (a Location's Lines are innermost first, so they
//! are reversed). A `;` inside a name (`[u8; 4]`) becomes `:` so it cannot
//! split a frame; line breaks become spaces. A location nothing is known
//! about is named after its mapping's file (`[libc.so.6]`), or
//! `[unknown]`.
//!
//! # Trimming at a marker
//!
//! With [`FoldOptions::start_after`], every stack that passes through the
//! marker function (say the harness's `#[inline(never)] fn
//! escape_lab_measured_call`) starts at the frame *after* it: the scenario's
//! call, without the ~30 frames of runtime and harness below it. The marker
//! must stay a frame of its own: `#[inline(never)]`, and not ending in a
//! tail call (`f()` as its last expression compiles to a jump in release
//! builds and its frame vanishes; `std::hint::black_box(f())` keeps it). A
//! sample
//! inside the marker itself keeps the marker as its only frame. Stacks that
//! never pass through the marker (set-up, the harness's own work, other
//! threads) are kept whole under the root frame
//! [`OUTSIDE_MARKER`] by default, so the graph's total stays the profile's
//! total and time outside the measured calls stays visible; with
//! [`Outside::Drop`] they are left out. The protobuf keeps the full stacks
//! either way.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::encode::{Profile, ProfileIndex};
use super::Error;

/// The root frame of stacks that do not pass through the marker (with
/// [`Outside::Keep`]).
pub const OUTSIDE_MARKER: &str = "[outside measured calls]";

/// What to do with stacks that do not pass through the marker.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Outside {
    /// Keep them whole under the root frame [`OUTSIDE_MARKER`].
    #[default]
    Keep,
    /// Leave them out.
    Drop,
}

/// How to fold.
#[derive(Clone, Copy, Debug, Default)]
pub struct FoldOptions<'a> {
    /// Start every stack at the frame after this function: a name matches
    /// when it equals it or ends in `::` followed by it
    /// (`escape_lab_measured_call` matches
    /// `escape_lab::pass::escape_lab_measured_call`). The outermost
    /// occurrence counts.
    pub start_after: Option<&'a str>,
    /// Then, when the rest of a stack holds this function, start after it
    /// instead (the harness's innermost frame; see
    /// [`crate::frames::SCENARIO_CALL`]).
    pub then_after: Option<&'a str>,
    /// What happens to stacks without the marker.
    pub outside: Outside,
}

/// Folds `profile`'s samples, counting value `sample_index` (0 for CPU
/// sample counts, `alloc_space`'s index for allocated bytes, see
/// [`ProfileIndex::sample_index`]). Samples whose value is zero or negative
/// are left out; an empty profile gives `""`.
///
/// # Allocation
///
/// The returned string, one string per distinct stack, and a map of them.
///
/// # Errors
///
/// [`Error::NoSampleType`] when `sample_index` is out of range.
pub fn fold(
    profile: &Profile,
    sample_index: usize,
    options: &FoldOptions<'_>,
) -> Result<String, Error> {
    let ix = ProfileIndex::new(profile);
    if sample_index >= profile.sample_type.len() {
        return Err(ix
            .sample_index(&sample_index.to_string())
            .err()
            .unwrap_or_else(|| Error::NoSampleType {
                wanted: sample_index.to_string(),
                available: String::new(),
            }));
    }
    let mut stacks: BTreeMap<String, i64> = BTreeMap::new();
    let mut names: Vec<String> = Vec::new();
    let mut line = String::new();
    for sample in &profile.sample {
        let value = sample.value.get(sample_index).copied().unwrap_or(0);
        if value <= 0 {
            continue;
        }
        names.clear();
        // Root first: locations are leaf first, lines innermost first.
        for &id in sample.location_id.iter().rev() {
            let Some(loc) = ix.location(id) else { continue };
            if loc.line.is_empty() {
                names.push(unknown_name(&ix, loc.mapping_id));
                continue;
            }
            for l in loc.line.iter().rev() {
                let name = ix.function(l.function_id).map_or("", |f| ix.str(f.name));
                names.push(if name.is_empty() {
                    "[unknown]".to_owned()
                } else {
                    name.to_owned()
                });
            }
        }
        if names.is_empty() {
            continue;
        }
        let frames: &[String] = match options.start_after {
            None => &names,
            Some(marker) => match names.iter().position(|n| is_marker(n, marker)) {
                Some(i) if i + 1 < names.len() => &names[i + 1..],
                Some(i) => &names[i..],
                None if options.outside == Outside::Drop => continue,
                None => {
                    names.insert(0, OUTSIDE_MARKER.to_owned());
                    &names
                }
            },
        };
        let frames = match options
            .then_after
            .and_then(|inner| frames.iter().position(|n| is_marker(n, inner)))
        {
            Some(i) if i + 1 < frames.len() => &frames[i + 1..],
            _ => frames,
        };
        line.clear();
        for (i, name) in frames.iter().enumerate() {
            if i > 0 {
                line.push(';');
            }
            line.extend(name.chars().map(|c| match c {
                ';' => ':',
                '\n' | '\r' => ' ',
                c => c,
            }));
        }
        let n = stacks.entry(line.clone()).or_insert(0);
        *n = n.saturating_add(value);
    }
    let mut out = String::new();
    for (stack, count) in &stacks {
        let _ = writeln!(out, "{stack} {count}");
    }
    Ok(out)
}

fn is_marker(name: &str, marker: &str) -> bool {
    name == marker
        || name
            .strip_suffix(marker)
            .is_some_and(|head| head.ends_with("::"))
}

fn unknown_name(ix: &ProfileIndex<'_>, mapping_id: u64) -> String {
    let file = (mapping_id as usize)
        .checked_sub(1)
        .and_then(|i| ix.profile().mapping.get(i))
        .map_or("", |m| ix.str(m.filename));
    match file.rsplit('/').next() {
        Some(base) if !base.is_empty() => format!("[{base}]"),
        _ => "[unknown]".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::encode::{Addresses, ProfileBuilder};
    use super::super::mapping::Mapping;
    use super::super::symbolize::Frame;
    use super::*;

    fn f(name: &str) -> Frame {
        Frame {
            function: name.to_owned(),
            system_name: String::new(),
            file: None,
            line: None,
            column: None,
        }
    }

    // Stacks given root first, each location a list of names outermost
    // first (as a reader thinks of them).
    fn profile(stacks: &[(&[&[&str]], i64)]) -> Profile {
        let mut b = ProfileBuilder::new(&[("samples", "count")], ("cpu", "nanoseconds"), 1);
        b.set_mappings(
            &[Mapping {
                start: 0x7000,
                limit: 0x8000,
                offset: 0,
                path: "/usr/lib/libc.so.6".into(),
                build_id: None,
                vaddr: None,
            }],
            Addresses::Runtime,
        );
        for (k, &(stack, value)) in stacks.iter().enumerate() {
            let mut ids = Vec::new();
            for (i, loc) in stack.iter().enumerate().rev() {
                let frames: Vec<Frame> = loc.iter().rev().map(|n| f(n)).collect();
                let address = if frames.is_empty() {
                    0x7100
                } else {
                    (k * 100 + i) as u64
                };
                ids.push(b.location(address, &frames));
            }
            b.sample(ids, &[value]);
        }
        b.build()
    }

    #[test]
    fn folds_root_first_with_inlined_frames_sorted_and_merged() {
        let p = profile(&[
            (&[&["main"], &["run", "helper"]], 2),
            (&[&["main"], &["run", "helper"]], 3),
            (&[&["main"], &["[u8; 4]::fmt"]], 1),
            (&[&["main"], &[]], 4),
            (&[&["main"], &["idle"]], 0),
        ]);
        assert_eq!(
            fold(&p, 0, &FoldOptions::default()).unwrap(),
            "main;[libc.so.6] 4\nmain;[u8: 4]::fmt 1\nmain;run;helper 5\n"
        );
        assert!(matches!(
            fold(&p, 3, &FoldOptions::default()),
            Err(Error::NoSampleType { .. })
        ));
        assert_eq!(fold(&profile(&[]), 0, &FoldOptions::default()).unwrap(), "");
    }

    #[test]
    fn trims_after_the_outermost_marker() {
        let p = profile(&[
            (
                &[
                    &["_start"],
                    &["harness::run", "lab::escape_lab_measured_call"],
                    &["scan"],
                ],
                7,
            ),
            (&[&["_start"], &["lab::escape_lab_measured_call"]], 1),
            (&[&["_start"], &["setup"]], 2),
            (
                &[
                    &["lab::escape_lab_measured_call"],
                    &["a"],
                    &["lab::escape_lab_measured_call"],
                    &["b"],
                ],
                1,
            ),
            (&[&["_start"], &["not_escape_lab_measured_call"]], 1),
        ]);
        let keep = FoldOptions {
            start_after: Some("escape_lab_measured_call"),
            outside: Outside::Keep,
            then_after: None,
        };
        assert_eq!(
            fold(&p, 0, &keep).unwrap(),
            "[outside measured calls];_start;not_escape_lab_measured_call 1\n\
             [outside measured calls];_start;setup 2\n\
             a;lab::escape_lab_measured_call;b 1\n\
             lab::escape_lab_measured_call 1\n\
             scan 7\n"
        );
        let drop = FoldOptions {
            outside: Outside::Drop,
            ..keep
        };
        assert_eq!(
            fold(&p, 0, &drop).unwrap(),
            "a;lab::escape_lab_measured_call;b 1\nlab::escape_lab_measured_call 1\nscan 7\n"
        );
    }
}
